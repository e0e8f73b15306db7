#!/usr/bin/env python3
"""Generate (or --check) the RoArm-M3 Pro URDF, MJCF and USD; see --help (roarm_lab.cli.build_assets)."""

import sys

from roarm_lab.cli.build_assets import main

if __name__ == "__main__":
    sys.exit(main())
