"""What the RoArm follower and leader plugins share: the driver's :class:`ArmSession` on the plugin's config (which
is an :class:`ArmLinkSettings`), the calibration offsets (:mod:`.calibration`) removed from readings, and the
connect / calibrate plumbing. Mixed into LeRobot's ``Robot`` and ``Teleoperator`` classes, which provide
``self.config``, ``self.calibration`` and ``_save_calibration``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from roarm_lab.driver.session import ArmSession
from roarm_lab.lerobot_io import calibration


class RoArmPluginMixin:
    def _init_arm(self) -> None:
        self.arm = ArmSession(self.config)  # checks the link settings: a config no link can have is refused here
        self.offsets = calibration.from_lerobot(self.calibration)

    @property
    def is_calibrated(self) -> bool:
        return True  # absolute encoders (see roarm_lab.lerobot_io.calibration)

    def _open_arm(self, configure: Callable[[], None]) -> None:
        """Open the session and run ``configure``; the session is closed again if that fails."""
        self.arm.open()
        try:
            configure()
        except BaseException:
            self.arm.close()
            raise

    def _joints(self) -> np.ndarray:
        """Measured joints, model rad, calibration offsets removed."""
        return calibration.calibrated_joints(self.arm, self.offsets)

    def _calibrate_offsets(self) -> None:
        """Ask the user to hold the (limp) arm at the calibration pose; store and apply the offsets measured."""
        self.calibration = calibration.to_lerobot(calibration.measure_offsets(self.arm, str(self)))
        self._save_calibration()
        self.offsets = calibration.from_lerobot(self.calibration)
