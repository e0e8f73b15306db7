"""Termination terms: (N,) bool."""

from __future__ import annotations

import torch


def time_out(episode_length: torch.Tensor, max_episode_length: int) -> torch.Tensor:
    return episode_length >= max_episode_length
