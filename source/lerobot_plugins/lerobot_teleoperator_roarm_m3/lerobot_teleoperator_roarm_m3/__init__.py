"""LeRobot teleoperator ``roarm_m3_leader``: a second RoArm-M3 Pro with torque off, moved by hand and read over
serial (hardware §5.2: the leader/follower set-up users run over USB)."""

from .config_roarm_m3_leader import RoArmM3LeaderConfig
from .roarm_m3_leader import RoArmM3Leader

__all__ = ["RoArmM3Leader", "RoArmM3LeaderConfig"]
