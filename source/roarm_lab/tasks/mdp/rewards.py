"""Reward terms, each (N,) per control step, unweighted. Task configs pick the terms and their weights."""

from __future__ import annotations

import torch

from roarm_lab.tasks.mdp.state import ArmState


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
