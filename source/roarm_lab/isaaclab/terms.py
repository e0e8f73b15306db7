"""Observation, reward and termination term functions: each looks one TaskSpec term up by name on the step's
shared state (:class:`~roarm_lab.isaaclab.task_state.TaskStateTerm`), so the MDP math exists once, in
:mod:`roarm_lab.tasks`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from roarm_lab.isaaclab.task_state import task_state

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv


def spec_observation(env: ManagerBasedRLEnv, name: str) -> torch.Tensor:
    return task_state(env).observation(name)


def spec_reward(env: ManagerBasedRLEnv, name: str) -> torch.Tensor:
    """The unweighted term; the reward manager multiplies by the TaskSpec weight and the control dt, as the MuJoCo
    env does."""
    return task_state(env).reward_terms()[name]


def spec_failure(env: ManagerBasedRLEnv, name: str) -> torch.Tensor:
    return task_state(env).failures()[name]
