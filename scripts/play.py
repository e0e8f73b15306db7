#!/usr/bin/env python3
"""Evaluate a trained RoArm policy on held-out episodes; see --help (roarm_lab.cli.play)."""

import sys

from roarm_lab.cli.play import main

if __name__ == "__main__":
    sys.exit(main())
