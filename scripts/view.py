#!/usr/bin/env python3
"""A browser viewer of the arm, a policy or a run (no GPU); see --help (roarm_lab.cli.view)."""

import sys

from roarm_lab.cli.view import main

if __name__ == "__main__":
    sys.exit(main())
