"""The batched state every MDP term reads."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ArmState:
    """Per-environment state, all tensors with a leading batch dimension N, world frame, SI units.

    joint_pos, joint_vel: (N, 6) model joints (base..gripper); tcp_pos, grasp_pos: (N, 3) the TCP and the grasp
    point between the jaws (both from FK of joint_pos, so every backend agrees); command: (N, 3) the task's target
    position (reach target, lift goal or place target); action, last_action: (N, 6) raw policy actions of this
    and the previous step. object_pos (N, 3), object_quat (N, 4, wxyz) and object_lin_vel (N, 3) are None for
    tasks without an object.
    """

    joint_pos: torch.Tensor
    joint_vel: torch.Tensor
    tcp_pos: torch.Tensor
    command: torch.Tensor
    action: torch.Tensor
    last_action: torch.Tensor
    grasp_pos: torch.Tensor | None = None
    object_pos: torch.Tensor | None = None
    object_quat: torch.Tensor | None = None
    object_lin_vel: torch.Tensor | None = None

    @classmethod
    def from_joints(cls, joint_pos: torch.Tensor, joint_vel: torch.Tensor, command: torch.Tensor,
                    action: torch.Tensor, last_action: torch.Tensor, **objects) -> ArmState:
        """Fill the TCP and grasp point from FK (the arm base is fixed at the world origin in every scene)."""
        from roarm_lab import kinematics

        frames = kinematics.link_frames(joint_pos)
        return cls(joint_pos=joint_pos, joint_vel=joint_vel, tcp_pos=frames[..., -1, :3, 3], command=command,
                   action=action, last_action=last_action, grasp_pos=kinematics.grasp_position_from_frames(frames),
                   **objects)
