"""roarm-lab: Waveshare RoArm-M3 Pro from one robot description to a trained policy on the real arm."""

import os

# OpenMP threads (torch's intra-op pool) sleep instead of spinning between parallel regions, so they leave the cores
# to MuJoCo's rollout threads; it must be set before torch starts its pool (roarm_lab.threads). A user's setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
