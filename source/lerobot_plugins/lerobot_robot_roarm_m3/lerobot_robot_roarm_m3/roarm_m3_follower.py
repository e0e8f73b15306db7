"""The RoArm-M3 Pro as a LeRobot follower robot.

Observations and actions are ``{joint}.pos`` in model radians (:mod:`roarm_lab.lerobot_io.features`), plus one
image per configured camera. :meth:`send_action` writes one `T:102` with all six joints after LeRobot's
``max_relative_target`` cap and the project's safety layer (:class:`SafetyLayer`: joint limits, step and lead
bounds, workspace box, NaN held), and returns what was sent. The link is the driver's
:class:`~roarm_lab.driver.session.ArmSession` (:mod:`roarm_lab.lerobot_io.arm_plugin`, shared with the leader).
"""

from __future__ import annotations

import logging
from functools import cached_property

import numpy as np
from lerobot.cameras import make_cameras_from_configs
from lerobot.robots import Robot
from lerobot.robots.utils import ensure_safe_goal_position
from lerobot.utils.decorators import check_if_already_connected, check_if_not_connected

from roarm_lab.driver.protocol.commands import MoveJoints
from roarm_lab.driver.safety import SafetyConfig, SafetyLayer
from roarm_lab.lerobot_io.arm_plugin import RoArmPluginMixin
from roarm_lab.lerobot_io.features import JOINT_POS_KEYS, features_to_joints, joint_features, joints_to_features

from .config_roarm_m3_follower import RoArmM3FollowerConfig

logger = logging.getLogger(__name__)


class RoArmM3Follower(RoArmPluginMixin, Robot):
    config_class = RoArmM3FollowerConfig
    name = "roarm_m3_follower"

    def __init__(self, config: RoArmM3FollowerConfig):
        super().__init__(config)
        self.config = config
        self._init_arm()
        self.safety = SafetyLayer(SafetyConfig(margin_rad=config.margin_rad, max_step_rad=config.max_step_rad,
                                               max_lead_rad=config.max_lead_rad))
        self.cameras = make_cameras_from_configs(config.cameras)

    @cached_property
    def observation_features(self) -> dict[str, type | tuple]:
        cams = {name: (cfg.height, cfg.width, 3) for name, cfg in self.config.cameras.items()}
        return {**joint_features(), **cams}

    @cached_property
    def action_features(self) -> dict[str, type]:
        return joint_features()

    @property
    def is_connected(self) -> bool:
        return self.arm.is_open and all(cam.is_connected for cam in self.cameras.values())

    @check_if_already_connected
    def connect(self, calibrate: bool = True) -> None:
        self._open_arm(self._configure_and_connect_cameras)
        logger.info("%s connected on %s", self, self.config.where)

    def _configure_and_connect_cameras(self) -> None:
        self.configure()
        for cam in self.cameras.values():
            cam.connect()

    def configure(self) -> None:
        """Torque on, and the safety layer starts from the measured pose (nothing moves)."""
        self.arm.set_torque(True)
        self.safety.reset(self._joints())

    def calibrate(self) -> None:
        """Interactive (``lerobot-calibrate``): torque off, the user holds the arm at the calibration pose, the
        offsets are stored in the calibration file; then torque on where the arm is."""
        self.arm.set_torque(False)
        try:
            self._calibrate_offsets()
        finally:
            self.arm.set_torque(True)
        self.safety.reset(self._joints())
        logger.info("calibration saved to %s", self.calibration_fpath)

    @check_if_not_connected
    def get_observation(self) -> dict:
        obs = joints_to_features(self._joints())
        for name, cam in self.cameras.items():
            obs[name] = cam.read_latest()
        return obs

    @check_if_not_connected
    def send_action(self, action: dict) -> dict:
        """Move to the ``{joint}.pos`` targets (rad); returns the targets actually sent."""
        proposed = features_to_joints(action)
        measured = self._joints()
        if self.config.max_relative_target is not None:
            goal_present = {key: (float(g), float(m)) for key, g, m in zip(JOINT_POS_KEYS, proposed, measured,
                                                                           strict=True)}
            capped = ensure_safe_goal_position(goal_present, self.config.max_relative_target)
            proposed = np.array([capped[key] for key in JOINT_POS_KEYS])
        safe = self.safety.apply(proposed, measured)
        if safe.clamps:
            logger.debug("%s: safety layer changed the action: %s", self, ", ".join(safe.clamps))
        raw = tuple(float(x) for x in np.asarray(safe.target) + self.offsets)
        self.arm.send(MoveJoints(raw, spd=self.config.spd, acc=self.config.acc))
        return joints_to_features(safe.target)

    def disconnect(self) -> None:
        """Close the link. The servos keep holding the last target unless ``disable_torque_on_disconnect``."""
        if not self.arm.is_open:
            return
        try:
            if self.config.disable_torque_on_disconnect:
                logger.warning("%s: torque off on disconnect - the arm falls under gravity", self)
                self.arm.set_torque(False)
        finally:
            self.arm.close()
            for cam in self.cameras.values():
                if cam.is_connected:
                    cam.disconnect()
        logger.info("%s disconnected.", self)
