"""Per-environment episode bookkeeping both backends share: the action-latency buffer and the success-hold counter.

Torch on any device; the MuJoCo env (:mod:`roarm_lab.sim_mujoco.env`) and the Isaac Lab action and task-state
terms (:mod:`roarm_lab.isaaclab.actions`, :mod:`roarm_lab.isaaclab.task_state`) hold one of each.
"""

from __future__ import annotations

import torch

#: the largest action latency, in control steps, the buffer holds
MAX_LATENCY = 2


def check_latency(max_steps: int) -> None:
    if max_steps > MAX_LATENCY:
        raise ValueError(f"action latency above {MAX_LATENCY} control steps is not supported")


class ActionLatencyBuffer:
    """Joint targets reach the servos ``latency`` control steps late (per environment); until the first delayed
    target of an episode arrives, the servos hold its reset pose."""

    def __init__(self, num_envs: int, num_joints: int, device: torch.device | str | None = None):
        self.latency = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.history = torch.zeros(num_envs, MAX_LATENCY + 1, num_joints, device=device)  # [0] = newest
        self._rows = torch.arange(num_envs, device=device)

    def push(self, targets: torch.Tensor) -> torch.Tensor:
        """Add this step's targets (N, joints); returns the targets the servos get this step."""
        self.history = torch.roll(self.history, 1, dims=1)
        self.history[:, 0] = targets
        return self.history[self._rows, self.latency]

    def hold(self, env_ids: torch.Tensor, joint_pos: torch.Tensor, latency: torch.Tensor) -> None:
        """New episodes: hold ``joint_pos`` (n, joints) until their first target arrives ``latency`` steps late."""
        if len(latency):
            check_latency(int(latency.max()))
        self.latency[env_ids] = latency.to(self.latency.device)
        self.history[env_ids] = joint_pos.to(self.history.device)[:, None, :]


class SuccessHold:
    """Success = the task's success condition held for ``hold_steps`` consecutive control steps at some point of
    the episode."""

    def __init__(self, num_envs: int, hold_steps: int, device: torch.device | str | None = None):
        self.hold_steps = hold_steps
        self.steps = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.succeeded = torch.zeros(num_envs, dtype=torch.bool, device=device)

    def update(self, ok: torch.Tensor) -> None:
        """One control step's success condition (N,) bool."""
        self.steps = torch.where(ok, self.steps + 1, torch.zeros_like(self.steps))
        self.succeeded |= self.steps >= self.hold_steps

    def restart(self, env_ids: torch.Tensor) -> None:
        """New episodes count from zero."""
        self.steps[env_ids] = 0

    def clear(self, env_ids: torch.Tensor) -> None:
        """Forget the ended episodes' success."""
        self.succeeded[env_ids] = False

    def reset(self, env_ids: torch.Tensor) -> None:
        self.restart(env_ids)
        self.clear(env_ids)
