#!/usr/bin/env python3
"""System identification of the real arm: ``roarm_lab.cli.sysid`` (``record`` / ``fit``, ``--help``)."""

import sys

from roarm_lab.cli.sysid import main

if __name__ == "__main__":
    sys.exit(main())
