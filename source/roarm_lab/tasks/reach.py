"""RoArm-Reach: bring the TCP to a sampled target position. Defined once; both backends build it from here."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from roarm_lab import kinematics
from roarm_lab.description import HOME_POSE
from roarm_lab.tasks.mdp import observations as obs
from roarm_lab.tasks.mdp import rewards as rew
from roarm_lab.tasks.mdp.state import ArmState

TASK_ID = "RoArm-Reach"
SUCCESS_RADIUS_M = 0.01

#: Policy observation terms, in order, with their sizes. The ONNX package and the real-arm runner rebuild this.
OBSERVATION_TERMS: tuple[tuple[str, object, int], ...] = (
    ("joint_pos_rel", obs.joint_pos_rel, 6),
    ("joint_vel", obs.joint_vel_scaled, 6),
    ("tcp_pos", obs.tcp_position, 3),
    ("target_pos", obs.command_position, 3),
    ("target_error", obs.command_error, 3),
    ("last_action", obs.last_action, 6),
)


@dataclass
class ReachCfg:
    episode_length_s: float = 4.0
    #: joint-space box the targets are drawn from (FK of a sample: every target is reachable by construction)
    target_joint_low: tuple[float, ...] = (-1.2, -0.4, 0.6, -0.6, 0.0)
    target_joint_high: tuple[float, ...] = (1.2, 0.9, 2.4, 1.2, 0.0)
    target_min_height: float = 0.05  # m above the table
    init_joint_noise: float = 0.1  # rad, uniform, around home
    reward_weights: dict[str, float] = field(
        default_factory=lambda: {"tcp_distance": -2.0, "tcp_distance_tanh": 1.0, "action_rate": -0.01,
                                 "joint_vel": -0.001}
    )
    tanh_std: float = 0.1


def sample_targets(cfg: ReachCfg, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 3) reachable targets: FK of joint samples in the target box, re-drawn while below the min height."""
    lo = torch.tensor(cfg.target_joint_low, dtype=torch.float64)
    hi = torch.tensor(cfg.target_joint_high, dtype=torch.float64)
    out = torch.empty(n, 3, dtype=torch.float64)
    todo = torch.arange(n)
    while len(todo):
        q = lo + (hi - lo) * torch.rand(len(todo), 5, generator=generator, dtype=torch.float64)
        p = kinematics.tcp_position(q)
        ok = p[:, 2] >= cfg.target_min_height
        out[todo[ok]] = p[ok]
        todo = todo[~ok]
    return out.float()


def initial_joint_pos(cfg: ReachCfg, n: int, generator: torch.Generator) -> torch.Tensor:
    noise = (torch.rand(n, 6, generator=generator) * 2 - 1) * cfg.init_joint_noise
    noise[:, 5] = noise[:, 5].abs()  # the gripper rests at its closed limit
    return torch.tensor(HOME_POSE, dtype=torch.float32) + noise


def reward_terms(cfg: ReachCfg, s: ArmState) -> dict[str, torch.Tensor]:
    return {
        "tcp_distance": rew.tcp_distance(s),
        "tcp_distance_tanh": rew.tcp_distance_tanh(s, cfg.tanh_std),
        "action_rate": rew.action_rate(s),
        "joint_vel": rew.joint_vel_l2(s),
    }


def success(s: ArmState) -> torch.Tensor:
    return rew.tcp_distance(s) <= SUCCESS_RADIUS_M
