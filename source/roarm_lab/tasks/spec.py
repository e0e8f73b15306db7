"""What a task is, for both backends: its config base, observation terms, reset sample and the task spec.

A task module (reach, lift, pick_place) builds one :class:`TaskSpec` from pure torch functions over
:class:`~roarm_lab.tasks.mdp.state.ArmState`. The MuJoCo env and the Isaac Lab configs both run a TaskSpec, so
there is one copy of the MDP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch

from roarm_lab.description.robot_profile import RobotProfile
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.randomization import RandomizationCfg, centred_on_profile
from roarm_lab.tasks.timing import CONTROL_DT


@dataclass(frozen=True)
class ObservationTerm:
    name: str
    fn: Callable[[ArmState], torch.Tensor]
    size: int
    noise: float = 0.0  # uniform half-range added to the policy's copy (the critic sees it clean)


@dataclass
class TaskCfg:
    episode_length_s: float = 4.0
    init_joint_noise: float = 0.1  # rad, uniform around home
    reward_weights: dict[str, float] = field(default_factory=dict)
    randomization: RandomizationCfg = field(default_factory=RandomizationCfg)
    #: the arm simulated: a robot profile's drive values, or the description's nominal ones (None)
    robot_profile: RobotProfile | None = None

    @property
    def max_episode_length(self) -> int:
        return int(round(self.episode_length_s / CONTROL_DT))

    def with_robot_profile(self, profile: RobotProfile | None) -> TaskCfg:
        """A copy that simulates ``profile``'s arm, its domain randomization centred on the profile
        (:func:`~roarm_lab.tasks.randomization.centred_on_profile`); ``None``: this config unchanged (a copy)."""
        if profile is None:
            return replace(self)
        return replace(self, robot_profile=profile,
                       randomization=centred_on_profile(self.randomization, profile))


@dataclass
class ResetSample:
    """Initial state of n environments. object_quat is wxyz."""

    joint_pos: torch.Tensor  # (n, 6)
    command: torch.Tensor  # (n, 3)
    object_pos: torch.Tensor | None = None  # (n, 3)
    object_quat: torch.Tensor | None = None  # (n, 4)


@dataclass(frozen=True)
class TaskSpec:
    task_id: str
    make_cfg: Callable[[], TaskCfg]
    observation_terms: tuple[ObservationTerm, ...]
    has_object: bool
    reset: Callable[[TaskCfg, int, torch.Generator], ResetSample]
    reward_terms: Callable[[TaskCfg, ArmState], dict[str, torch.Tensor]]
    #: failure terminations (time-outs are separate): name -> (N,) bool
    terminations: Callable[[TaskCfg, ArmState], dict[str, torch.Tensor]]
    #: per-step success condition; success = it held for ``success_hold_steps`` consecutive control steps
    success_condition: Callable[[TaskCfg, ArmState], torch.Tensor]
    success_hold_steps: int = 1
    #: metric logged at episode end (name, fn)
    metrics: tuple[tuple[str, Callable[[ArmState], torch.Tensor]], ...] = ()

    @property
    def observation_size(self) -> int:
        return sum(t.size for t in self.observation_terms)

    def observation_noise_scales(self) -> torch.Tensor:
        return torch.cat([torch.full((t.size,), t.noise) for t in self.observation_terms])

    def observations(self, s: ArmState) -> torch.Tensor:
        return torch.cat([t.fn(s) for t in self.observation_terms], dim=-1)


def no_terminations(cfg: TaskCfg, s: ArmState) -> dict[str, torch.Tensor]:
    return {}
