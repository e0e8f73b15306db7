#!/usr/bin/env python3
"""Record expert demonstrations in MuJoCo as a LeRobot dataset; see --help (roarm_lab.cli.record_sim_demos)."""

import sys

from roarm_lab.cli.record_sim_demos import main

if __name__ == "__main__":
    sys.exit(main())
