"""The task registry: one :class:`TaskEntry` per task (its TaskSpec, PPO agent, warm start and expert).

Everything here is plain data and torch: this package imports neither Isaac Lab nor :mod:`roarm_lab.training`.
The layers above turn an entry into what they need: :mod:`roarm_lab.training.rsl_rl_cfg` the agent into Isaac
Lab's rsl-rl config classes and :mod:`roarm_lab.training.warm_start` the warm start into a clone and its handover;
:mod:`roarm_lab.isaaclab` registers one gym id (and a ``-Play`` variant) per entry and generates its env config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol

import torch

from roarm_lab.tasks import lift, pick_place, reach
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.pick_expert import ReactivePicker
from roarm_lab.tasks.reach_expert import ReachIKExpert
from roarm_lab.tasks.spec import TaskSpec


class Expert(Protocol):
    """A teacher for imitation: raw policy actions (N, 6) for the batched state; ``reset`` at episode starts."""

    def __call__(self, s: ArmState) -> torch.Tensor: ...

    def reset(self, env_ids: torch.Tensor) -> None: ...


@dataclass(frozen=True)
class PPOAgentCfg:
    """rsl-rl PPO of a task as plain data: an MLP actor (Gaussian actions) and critic on the ``policy`` and
    ``critic`` observation groups, both with observation normalization."""

    max_iterations: int
    hidden_dims: tuple[int, ...]
    init_std: float
    activation: str = "elu"
    num_steps_per_env: int = 24
    save_interval: int = 50
    # PPO
    value_loss_coef: float = 1.0
    use_clipped_value_loss: bool = True
    clip_param: float = 0.2
    entropy_coef: float = 0.005
    num_learning_epochs: int = 5
    num_mini_batches: int = 4
    learning_rate: float = 1.0e-3
    schedule: str = "adaptive"
    gamma: float = 0.98
    lam: float = 0.95
    desired_kl: float = 0.01
    max_grad_norm: float = 1.0


@dataclass(frozen=True)
class DaggerCfg:
    """DAgger of a task's expert into the PPO actor (:func:`roarm_lab.training.dagger.clone_expert`)."""

    rounds: int = 10
    steps_per_round: int = 24
    #: the expert's share of the actions falls linearly from 1 to 0 over this fraction of the rounds
    expert_fraction: float = 0.5
    #: passes over the aggregate after each round
    epochs: int = 5
    #: the aggregate keeps at most this many of the newest samples (long tasks need many rounds)
    max_samples: int = 1_000_000
    minibatch_size: int = 4096
    learning_rate: float = 1e-3
    #: the actor's action std for the PPO that follows (its init_std is meant for learning from scratch)
    exploration_std: float = 0.1
    #: std of the Gaussian noise added to every executed action, expert's or student's (DART): the clone is
    #: labelled on the states that noise leads to and so learns to recover from the noise PPO explores with
    rollout_noise_std: float = 0.0
    #: passes over the final aggregate after the last round, the learning rate annealed from ``learning_rate`` to
    #: 0 (cosine): the clone ends at a settled fit, not wherever the last round's constant-rate steps left it
    final_epochs: int = 0


@dataclass(frozen=True)
class WarmStartCfg:
    """Imitate the task's expert with DAgger (``dagger``) before PPO, hand the clone over to PPO, then run
    ``ppo_iterations`` PPO iterations (None: the agent's ``max_iterations``) unless the user asks for another
    number."""

    dagger: DaggerCfg
    ppo_iterations: int | None = None
    #: PPO iterations after the clone that train only the critic (actor frozen, plain squared value error)
    critic_warmup_iterations: int = 10
    #: the learning rate the actor's first PPO update starts at (the adaptive schedule raises it from there);
    #: None: the agent's
    actor_learning_rate: float | None = None
    #: PPO keeps the action std at or above this (None: no floor)
    min_std: float | None = None


@dataclass(frozen=True)
class TaskEntry:
    spec: TaskSpec
    agent: PPOAgentCfg
    #: None: the task trains from PPO alone
    warm_start: WarmStartCfg | None
    #: a new expert of the task (the warm start's teacher, and the sim demos' driver)
    make_expert: Callable[[], Expert]

    @property
    def task_id(self) -> str:
        return self.spec.task_id


#: Reach's actor is as wide as the object tasks': after the same 150 PPO iterations (256, 128, 64) reaches a median
#: final error of 1.7 mm where (128, 64) stopped at 2.2 mm (1000 held-out targets, docs/results.md)
_REACH_AGENT = PPOAgentCfg(max_iterations=150, hidden_dims=(256, 128, 64), init_std=0.6)
_LIFT_AGENT = replace(_REACH_AGENT, max_iterations=600, init_std=0.5, entropy_coef=0.006)

#: Every task starts by imitating its expert (DAgger, :mod:`roarm_lab.training.dagger`) and improves with PPO
#: (:mod:`roarm_lab.training.finetune` hands the clone over); ``train.py --warm_start none`` trains from PPO alone.
#: DAgger executes its actions with noise of the std PPO then explores with (a clone that never saw it fails under
#: it: Lift 95.7 % -> 4.7 % at std 0.15); the object tasks' episodes of 150 / 240 steps need enough rounds to cover
#: a few of them, the newest 400k samples kept. Evidence and figures: ``benchmarks/ppo_after_clone.py``,
#: docs/training.md.
ENTRIES: dict[str, TaskEntry] = {e.task_id: e for e in (
    TaskEntry(reach.SPEC, _REACH_AGENT,
              WarmStartCfg(DaggerCfg(rounds=20, epochs=10, exploration_std=0.02, rollout_noise_std=0.02),
                           actor_learning_rate=1e-4, min_std=0.02), ReachIKExpert),
    TaskEntry(lift.SPEC, _LIFT_AGENT,
              WarmStartCfg(DaggerCfg(rounds=20, max_samples=400_000, exploration_std=0.05, rollout_noise_std=0.05),
                           ppo_iterations=30, actor_learning_rate=1e-4),
              partial(ReactivePicker, place=False)),
    TaskEntry(pick_place.SPEC, replace(_LIFT_AGENT, max_iterations=1000),
              WarmStartCfg(DaggerCfg(rounds=30, max_samples=400_000, exploration_std=0.05, rollout_noise_std=0.05),
                           ppo_iterations=30, actor_learning_rate=1e-4),
              partial(ReactivePicker, place=True)),
)}

TASK_IDS: tuple[str, ...] = tuple(ENTRIES)
TASKS: dict[str, TaskSpec] = {task_id: e.spec for task_id, e in ENTRIES.items()}


def get_entry(task_id: str) -> TaskEntry:
    try:
        return ENTRIES[task_id]
    except KeyError:
        raise KeyError(f"unknown task {task_id!r}; known: {', '.join(ENTRIES)}") from None


def get_task(task_id: str) -> TaskSpec:
    return get_entry(task_id).spec
