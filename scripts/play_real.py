#!/usr/bin/env python3
"""Run an ONNX policy package on the real RoArm-M3 (or the emulator): ``roarm_lab.cli.play_real`` (``--help``)."""

import sys

from roarm_lab.cli.play_real import main

if __name__ == "__main__":
    sys.exit(main())
