"""Observation terms. Each returns (N, k); a task's policy observation is their concatenation in a fixed order."""

from __future__ import annotations

import torch

from roarm_lab.description import HOME_POSE
from roarm_lab.tasks.mdp.state import ArmState

JOINT_VEL_SCALE = 0.1


def joint_pos_rel(s: ArmState) -> torch.Tensor:
    """Joint positions relative to the default (home) pose, rad."""
    return s.joint_pos - torch.as_tensor(HOME_POSE, dtype=s.joint_pos.dtype, device=s.joint_pos.device)


def joint_vel_scaled(s: ArmState) -> torch.Tensor:
    return s.joint_vel * JOINT_VEL_SCALE


def tcp_position(s: ArmState) -> torch.Tensor:
    return s.tcp_pos


def grasp_position(s: ArmState) -> torch.Tensor:
    return s.grasp_pos


def command_position(s: ArmState) -> torch.Tensor:
    return s.command


def command_error(s: ArmState) -> torch.Tensor:
    """Target minus TCP, m."""
    return s.command - s.tcp_pos


def last_action(s: ArmState) -> torch.Tensor:
    """The raw action of the most recent policy call (the one that produced this state); zero at reset."""
    return s.action


def object_position(s: ArmState) -> torch.Tensor:
    return s.object_pos


def object_to_grasp(s: ArmState) -> torch.Tensor:
    """Object minus grasp point, m."""
    return s.object_pos - s.grasp_pos


def object_to_command(s: ArmState) -> torch.Tensor:
    """Command (goal) minus object, m."""
    return s.command - s.object_pos


def object_yaw(s: ArmState) -> torch.Tensor:
    """Yaw of a wxyz quaternion about world z, rad."""
    w, x, y, z = s.object_quat.unbind(-1)
    return torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def object_yaw_cube_symmetric(s: ArmState) -> torch.Tensor:
    """(sin 4 yaw, cos 4 yaw): a cube looks the same every quarter turn, so this is all a grasp needs."""
    yaw4 = 4 * object_yaw(s)
    return torch.stack([torch.sin(yaw4), torch.cos(yaw4)], dim=-1)
