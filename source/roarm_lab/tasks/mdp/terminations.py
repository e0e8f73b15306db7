"""Termination terms: (N,) bool."""

from __future__ import annotations

import torch

from roarm_lab.tasks.mdp.state import ArmState


def time_out(episode_length: torch.Tensor, max_episode_length: int) -> torch.Tensor:
    return episode_length >= max_episode_length


def object_dropped(s: ArmState, min_height: float) -> torch.Tensor:
    """The object fell off the table (its centre below ``min_height``, world z)."""
    return s.object_pos[:, 2] < min_height
