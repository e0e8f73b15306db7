"""roarm-lab: Waveshare RoArm-M3 Pro from one robot description to a trained policy on the real arm."""

__version__ = "0.1.0"
