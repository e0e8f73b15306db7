#!/usr/bin/env python3
"""Run a LeRobot policy checkpoint on the RoArm-M3 (or the emulator) through the runner:
``roarm_lab.cli.run_lerobot_policy`` (``--help``)."""

import sys

from roarm_lab.cli.run_lerobot_policy import main

if __name__ == "__main__":
    sys.exit(main())
