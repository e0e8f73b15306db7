#!/usr/bin/env python3
"""Train a RoArm task with rsl-rl PPO (MuJoCo or Isaac Lab); see --help (roarm_lab.cli.train)."""

import sys

from roarm_lab.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
