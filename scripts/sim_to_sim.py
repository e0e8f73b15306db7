#!/usr/bin/env python3
"""Compare the MuJoCo backend with Isaac Lab kit-less; see --help (roarm_lab.cli.sim_to_sim)."""

import sys

from roarm_lab.cli.sim_to_sim import main

if __name__ == "__main__":
    sys.exit(main())
