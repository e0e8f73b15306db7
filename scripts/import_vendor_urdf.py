#!/usr/bin/env python3
"""Write a vendor-look USD from your own Waveshare roarm_ws URDF; see --help (roarm_lab.cli.import_vendor_urdf)."""

import sys

from roarm_lab.cli.import_vendor_urdf import main

if __name__ == "__main__":
    sys.exit(main())
