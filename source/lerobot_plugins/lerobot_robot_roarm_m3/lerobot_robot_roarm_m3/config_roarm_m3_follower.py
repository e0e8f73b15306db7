"""Settings of the RoArm-M3 follower (``--robot.type=roarm_m3_follower``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lerobot.cameras import CameraConfig
from lerobot.robots import RobotConfig

from roarm_lab.driver.session import ArmLinkSettings


@RobotConfig.register_subclass("roarm_m3_follower")
@dataclass(kw_only=True)
class RoArmM3FollowerConfig(RobotConfig, ArmLinkSettings):
    # LeRobot's cap on each target's distance from the present position, rad (one value, or per `{joint}.pos`)
    max_relative_target: float | dict[str, float] | None = None
    # The project's safety layer (roarm_lab.driver.safety) always runs as well: hardware-safe joint
    # limits less `margin_rad`, at most `max_step_rad` per action from the previous target, at most
    # `max_lead_rad` from the measured joint, the TCP above the table, NaN targets held.
    margin_rad: float = 0.02
    max_step_rad: float = 0.1
    max_lead_rad: float = 0.3
    # T:102 servo speed (steps/s) and acceleration (100 steps/s^2); 0 = the servos' maximum
    spd: int = 0
    acc: int = 0
    # Torque off drops the arm under gravity (hardware §2.1): off by default, the servos then hold the last target.
    disable_torque_on_disconnect: bool = False
    cameras: dict[str, CameraConfig] = field(default_factory=dict)
