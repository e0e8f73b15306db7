"""The batched state every MDP term reads."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ArmState:
    """Per-environment state, all tensors with a leading batch dimension N, world frame, SI units.

    joint_pos, joint_vel: (N, 6) model joints (base..gripper); tcp_pos: (N, 3); command: (N, 3) the target
    position of the task (reach target, or place target); action, last_action: (N, 6) raw policy actions of this
    and the previous step. object_pos (N, 3) / object_quat (N, 4, wxyz) are None for tasks without an object.
    """

    joint_pos: torch.Tensor
    joint_vel: torch.Tensor
    tcp_pos: torch.Tensor
    command: torch.Tensor
    action: torch.Tensor
    last_action: torch.Tensor
    object_pos: torch.Tensor | None = None
    object_quat: torch.Tensor | None = None
