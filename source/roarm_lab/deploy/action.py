"""Policy actions -> joint targets (model rad) -> T:102 firmware radians, with the constants of a package."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from roarm_lab.deploy.errors import PolicyPackageError
from roarm_lab.description.firmware_units import model_to_firmware_rad


@dataclass(frozen=True)
class ActionMapping:
    """``joint_target = clip(default_pose + scale * action, lower, upper)``, as the simulator applies it."""

    scale: float
    default_pose: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def from_metadata(cls, action: dict) -> ActionMapping:
        """From the metadata's ``action`` section."""
        arrays = {}
        for key in ("default_pose", "clip_lower", "clip_upper"):
            arrays[key] = np.asarray(action[key], dtype=np.float64)
            if arrays[key].shape != (action["size"],):
                raise PolicyPackageError(f"action.{key} has {arrays[key].size} entries, action.size is "
                                         f"{action['size']}")
        return cls(float(action["scale"]), arrays["default_pose"], arrays["clip_lower"], arrays["clip_upper"])

    def joint_targets(self, actions) -> np.ndarray:
        """Raw actions (6,) or (N, 6) -> joint position targets, model frame, rad."""
        a = np.asarray(actions, dtype=np.float64)
        if a.ndim not in (1, 2) or a.shape[-1] != self.default_pose.size:
            raise ValueError(f"actions must have shape ({self.default_pose.size},) or (N, {self.default_pose.size}), "
                             f"got {a.shape}")
        return np.clip(self.default_pose + self.scale * a, self.lower, self.upper)

    def firmware_targets(self, actions) -> np.ndarray:
        """Raw actions -> T:102 joint values (firmware rad, the fields in metadata ``firmware.command.fields``)."""
        return model_to_firmware_rad(self.joint_targets(actions))
