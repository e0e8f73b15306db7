"""LeRobot follower robot ``roarm_m3_follower``: a Waveshare RoArm-M3 Pro driven by joint targets.

    lerobot-teleoperate --robot.type=roarm_m3_follower --robot.port=/dev/ttyUSB0 \\
        --teleop.type=roarm_m3_leader --teleop.port=/dev/ttyUSB1
"""

from .config_roarm_m3_follower import RoArmM3FollowerConfig
from .roarm_m3_follower import RoArmM3Follower

__all__ = ["RoArmM3Follower", "RoArmM3FollowerConfig"]
