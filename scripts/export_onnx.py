#!/usr/bin/env python3
"""Export a trained RoArm policy as an ONNX policy package; see --help (roarm_lab.cli.export_onnx)."""

import sys

from roarm_lab.cli.export_onnx import main

if __name__ == "__main__":
    sys.exit(main())
