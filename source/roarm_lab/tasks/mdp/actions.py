"""Action mapping: raw policy output -> joint position targets, the same on the real arm.

target = default_pose + scale * action, clipped to the hardware-safe limits (facts §3.5). The runner on the real
arm applies exactly this, then converts to firmware units.
"""

from __future__ import annotations

import torch

from roarm_lab.description import HARDWARE_SAFE, HOME_POSE

ACTION_SCALE = 0.5  # rad per unit action
DEFAULT_POSE = HOME_POSE


def joint_targets(action: torch.Tensor, scale: float = ACTION_SCALE) -> torch.Tensor:
    default = torch.as_tensor(DEFAULT_POSE, dtype=action.dtype, device=action.device)
    lo = torch.as_tensor(HARDWARE_SAFE.lower, dtype=action.dtype, device=action.device)
    hi = torch.as_tensor(HARDWARE_SAFE.upper, dtype=action.dtype, device=action.device)
    return torch.clamp(default + scale * action, lo, hi)
