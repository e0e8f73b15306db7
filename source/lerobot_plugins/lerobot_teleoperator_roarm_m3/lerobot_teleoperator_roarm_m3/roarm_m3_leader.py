"""A RoArm-M3 Pro as a LeRobot leader: torque off on connect (`T:210 cmd 0`) so a hand moves it, and each action is
its measured joints as ``{joint}.pos`` in model radians (:mod:`roarm_lab.lerobot_io.features`), the follower's
action features. The link and the calibration are the follower's (:mod:`roarm_lab.lerobot_io.arm_plugin`)."""

from __future__ import annotations

import logging
from functools import cached_property

from lerobot.teleoperators import Teleoperator
from lerobot.utils.decorators import check_if_already_connected, check_if_not_connected

from roarm_lab.lerobot_io.arm_plugin import RoArmPluginMixin
from roarm_lab.lerobot_io.features import joint_features, joints_to_features

from .config_roarm_m3_leader import RoArmM3LeaderConfig

logger = logging.getLogger(__name__)


class RoArmM3Leader(RoArmPluginMixin, Teleoperator):
    config_class = RoArmM3LeaderConfig
    name = "roarm_m3_leader"

    def __init__(self, config: RoArmM3LeaderConfig):
        super().__init__(config)
        self.config = config
        self._init_arm()

    @cached_property
    def action_features(self) -> dict[str, type]:
        return joint_features()

    @cached_property
    def feedback_features(self) -> dict[str, type]:
        return {}

    @property
    def is_connected(self) -> bool:
        return self.arm.is_open

    @check_if_already_connected
    def connect(self, calibrate: bool = True) -> None:
        self._open_arm(self.configure)
        logger.info("%s connected on %s, torque off: move it by hand", self, self.config.where)

    def configure(self) -> None:
        self.arm.set_torque(False)

    def calibrate(self) -> None:
        """Interactive (``lerobot-calibrate``): hold the leader at the calibration pose and press Enter."""
        self.arm.set_torque(False)
        self._calibrate_offsets()
        logger.info("calibration saved to %s", self.calibration_fpath)

    @check_if_not_connected
    def get_action(self) -> dict[str, float]:
        return joints_to_features(self._joints())

    def send_feedback(self, feedback: dict) -> None:
        """Nothing to show: the leader has no force feedback (its servos are limp)."""

    @check_if_not_connected
    def disconnect(self) -> None:
        try:
            if self.config.torque_on_disconnect:
                self.arm.set_torque(True)  # the servos hold where the hand left them
        finally:
            self.arm.close()
        logger.info("%s disconnected.", self)
