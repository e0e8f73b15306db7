"""Reward terms, each (N,) per control step, unweighted. Task configs pick the terms and their weights."""

from __future__ import annotations

import torch

from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.scene import CUBE_REST_Z


def tcp_distance(s: ArmState) -> torch.Tensor:
    """Euclidean TCP-to-target distance, m (use with a negative weight)."""
    return torch.linalg.norm(s.command - s.tcp_pos, dim=-1)


def tcp_distance_tanh(s: ArmState, std: float) -> torch.Tensor:
    """1 at the target, falling off over ~std metres: a dense bonus that sharpens the final approach."""
    return 1.0 - torch.tanh(tcp_distance(s) / std)


def action_rate(s: ArmState) -> torch.Tensor:
    """Squared change of the action since the last step (use with a negative weight)."""
    return torch.sum((s.action - s.last_action) ** 2, dim=-1)


def joint_vel_l2(s: ArmState) -> torch.Tensor:
    """Squared joint speeds of the five arm joints (use with a negative weight)."""
    return torch.sum(s.joint_vel[:, :5] ** 2, dim=-1)


def object_grasp_distance(s: ArmState) -> torch.Tensor:
    """Distance from the grasp point between the jaws to the object centre, m."""
    return torch.linalg.norm(s.object_pos - s.grasp_pos, dim=-1)


def object_in_jaws(s: ArmState, radius: float) -> torch.Tensor:
    """(N,) bool: the object centre is within ``radius`` of the grasp point between the jaws."""
    return object_grasp_distance(s) <= radius


def reaching_object(s: ArmState, std: float) -> torch.Tensor:
    """1 with the object centred between the jaws, falling off over ~std metres."""
    return 1.0 - torch.tanh(object_grasp_distance(s) / std)


def object_height(s: ArmState) -> torch.Tensor:
    """Object centre above its resting height on the table, m."""
    return s.object_pos[:, 2] - CUBE_REST_Z


def object_lifted(s: ArmState, height: float) -> torch.Tensor:
    """Lift progress: 0 on the table, rising linearly to 1 at ``height`` metres up."""
    return torch.clamp(object_height(s) / height, 0.0, 1.0)


def object_lifted_in_jaws(s: ArmState, height: float, radius: float) -> torch.Tensor:
    """Lift progress counted only with the object centre within ``radius`` of the grasp point: a cube knocked
    into the air earns nothing."""
    return object_lifted(s, height) * object_in_jaws(s, radius).float()


def object_goal_distance(s: ArmState) -> torch.Tensor:
    return torch.linalg.norm(s.command - s.object_pos, dim=-1)


def object_goal_tracking(s: ArmState, std: float, min_height: float = 0.0) -> torch.Tensor:
    """1 - tanh(|goal - object| / std), counted only while the object is above ``min_height``."""
    gate = (object_height(s) > min_height).float() if min_height > 0 else 1.0
    return gate * (1.0 - torch.tanh(object_goal_distance(s) / std))


def gripper_opening(s: ArmState, full_open: float) -> torch.Tensor:
    """Gripper opening as a fraction of ``full_open`` rad, clipped to [0, 1]."""
    return torch.clamp(s.joint_pos[:, 5] / full_open, 0.0, 1.0)


def object_goal_xy_distance(s: ArmState) -> torch.Tensor:
    return torch.linalg.norm(s.command[:, :2] - s.object_pos[:, :2], dim=-1)


def object_resting_at_goal(s: ArmState, radius: float, max_height: float = 0.005,
                           max_speed: float = 0.05) -> torch.Tensor:
    """(N,) bool: the object is on the table (centre <= max_height above rest), slower than ``max_speed`` m/s,
    with its centre within ``radius`` of the goal in the table plane."""
    resting = (object_height(s) <= max_height) & (torch.linalg.norm(s.object_lin_vel, dim=-1) <= max_speed)
    return resting & (object_goal_xy_distance(s) <= radius)
