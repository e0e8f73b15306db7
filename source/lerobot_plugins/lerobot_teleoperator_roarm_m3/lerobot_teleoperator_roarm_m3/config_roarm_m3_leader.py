"""Settings of the RoArm-M3 leader (``--teleop.type=roarm_m3_leader``)."""

from __future__ import annotations

from dataclasses import dataclass

from lerobot.teleoperators import TeleoperatorConfig

from roarm_lab.driver.session import ArmLinkSettings


@TeleoperatorConfig.register_subclass("roarm_m3_leader")
@dataclass(kw_only=True)
class RoArmM3LeaderConfig(TeleoperatorConfig, ArmLinkSettings):
    # Torque back on when the session ends, so the leader holds its pose instead of staying limp.
    torque_on_disconnect: bool = True
