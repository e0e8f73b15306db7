"""RoArm-Reach: bring the TCP to a sampled target position. Defined once; both backends build it from here."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from roarm_lab import kinematics
from roarm_lab.tasks import resets
from roarm_lab.tasks.mdp import observations as obs
from roarm_lab.tasks.mdp import rewards as rew
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.spec import ObservationTerm, ResetSample, TaskCfg, TaskSpec, no_terminations

TASK_ID = "RoArm-Reach"
SUCCESS_RADIUS_M = 0.01

#: Policy observation terms, in order. The ONNX package and the real-arm runner rebuild this.
OBSERVATION_TERMS = (
    ObservationTerm("joint_pos_rel", obs.joint_pos_rel, 6, noise=0.005),
    ObservationTerm("joint_vel", obs.joint_vel_scaled, 6, noise=0.01),
    ObservationTerm("tcp_pos", obs.tcp_position, 3),
    ObservationTerm("target_pos", obs.command_position, 3),
    ObservationTerm("target_error", obs.command_error, 3),
    ObservationTerm("last_action", obs.last_action, 6),
)


@dataclass
class ReachCfg(TaskCfg):
    episode_length_s: float = 4.0
    #: joint-space box the targets are drawn from (FK of a sample: every target is reachable by construction)
    target_joint_low: tuple[float, ...] = (-1.2, -0.4, 0.6, -0.6, 0.0)
    target_joint_high: tuple[float, ...] = (1.2, 0.9, 2.4, 1.2, 0.0)
    target_min_height: float = 0.05  # m above the table
    reward_weights: dict[str, float] = field(
        default_factory=lambda: {"tcp_distance": -2.0, "tcp_distance_tanh": 1.0, "tcp_distance_fine": 2.0,
                                 "action_rate": -0.01, "joint_vel": -0.001}
    )
    tanh_std: float = 0.1
    #: the fine term's falloff: it still pays for the last millimetres (1 - tanh(d / 1 cm): 0.90 at 1 mm, 0.66 at
    #: 4 mm), which the 10 cm term and the linear distance barely tell apart
    fine_std: float = 0.01


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


def reset(cfg: ReachCfg, n: int, generator: torch.Generator) -> ResetSample:
    return ResetSample(joint_pos=resets.initial_joint_pos(cfg.init_joint_noise, n, generator),
                       command=sample_targets(cfg, n, generator))


def reward_terms(cfg: ReachCfg, s: ArmState) -> dict[str, torch.Tensor]:
    return {
        "tcp_distance": rew.tcp_distance(s),
        "tcp_distance_tanh": rew.tcp_distance_tanh(s, cfg.tanh_std),
        "tcp_distance_fine": rew.tcp_distance_tanh(s, cfg.fine_std),
        "action_rate": rew.action_rate(s),
        "joint_vel": rew.joint_vel_l2(s),
    }


def success(cfg: ReachCfg, s: ArmState) -> torch.Tensor:
    return rew.tcp_distance(s) <= SUCCESS_RADIUS_M


SPEC = TaskSpec(
    task_id=TASK_ID, make_cfg=ReachCfg, observation_terms=OBSERVATION_TERMS, has_object=False, reset=reset,
    reward_terms=reward_terms, terminations=no_terminations, success_condition=success,
    metrics=(("final_tcp_error_m", rew.tcp_distance),),
)
