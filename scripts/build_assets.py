#!/usr/bin/env python3
"""Generate the RoArm-M3 Pro URDF, MJCF and USD from the robot description.

    python scripts/build_assets.py            # write source/roarm_lab/assets/generated/*, usd/roarm_m3_pro.usda
    python scripts/build_assets.py --check    # exit 1 if a committed file differs from what would be written
"""

import sys

from roarm_lab.assets.build import main

if __name__ == "__main__":
    sys.exit(main())
