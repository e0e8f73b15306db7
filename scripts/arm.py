#!/usr/bin/env python3
"""Everyday commands for the real RoArm-M3 (or the emulator): ``roarm_lab.cli.arm`` (``--help``)."""

import sys

from roarm_lab.cli.arm import main

if __name__ == "__main__":
    sys.exit(main())
