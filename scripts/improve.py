#!/usr/bin/env python3
"""The self-improvement loop on one arm: ``roarm_lab.cli.improve`` (``--help``)."""

import sys

from roarm_lab.cli.improve import main

if __name__ == "__main__":
    sys.exit(main())
