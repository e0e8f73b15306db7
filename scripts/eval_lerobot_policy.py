#!/usr/bin/env python3
"""Evaluate a LeRobot policy in closed loop on MuJoCo; see --help (roarm_lab.cli.eval_lerobot_policy)."""

import sys

from roarm_lab.cli.eval_lerobot_policy import main

if __name__ == "__main__":
    sys.exit(main())
