#!/usr/bin/env python3
"""Calibrate the cube camera and print the markers: ``roarm_lab.cli.calibrate_camera`` (``--help``)."""

import sys

from roarm_lab.cli.calibrate_camera import main

if __name__ == "__main__":
    sys.exit(main())
