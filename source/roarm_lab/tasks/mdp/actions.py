"""Action mapping: raw policy output -> joint position targets, the same on the real arm.

target = DEFAULT_POSE + scale * action, clipped to the hardware-safe limits (hardware §3.5). The runner on the real
arm applies exactly this, then converts to firmware units. The default pose is the firmware home pose (hardware
§3.2) with the gripper half open: a zero-mean policy then explores open and closed jaws alike.
"""

from __future__ import annotations

import torch

from roarm_lab.description import HARDWARE_SAFE, HOME_POSE

ACTION_SCALE = 0.5  # rad per unit action
GRIPPER_DEFAULT = 0.5 * (HARDWARE_SAFE.lower[5] + HARDWARE_SAFE.upper[5])
DEFAULT_POSE: tuple[float, ...] = (*HOME_POSE[:5], GRIPPER_DEFAULT)


def joint_targets(action: torch.Tensor, scale: float = ACTION_SCALE) -> torch.Tensor:
    default = torch.as_tensor(DEFAULT_POSE, dtype=action.dtype, device=action.device)
    lo = torch.as_tensor(HARDWARE_SAFE.lower, dtype=action.dtype, device=action.device)
    hi = torch.as_tensor(HARDWARE_SAFE.upper, dtype=action.dtype, device=action.device)
    return torch.clamp(default + scale * action, lo, hi)


def actions_for_targets(joint_pos: torch.Tensor, scale: float = ACTION_SCALE) -> torch.Tensor:
    """Inverse of :func:`joint_targets` inside the limits: the action that commands ``joint_pos``."""
    default = torch.as_tensor(DEFAULT_POSE, dtype=joint_pos.dtype, device=joint_pos.device)
    return (joint_pos - default) / scale
