"""Hand a cloned actor to PPO so that PPO improves it (issue 20; the evidence: ``benchmarks/ppo_after_clone.py``).

A clone is fitted to the expert's mean action on the states it visits; PPO then learns from *stochastic* rollouts
with a critic that has never seen the task. Measured on Lift (the clone: 95.7 % held-out success), three things
made PPO take it apart (95.7 % -> 47 % within 5 actor updates):

* **Exploration noise the clone never saw.** With the actions sampled at std 0.15 the clone succeeds in 4.7 % of
  episodes (the arm's noise alone: 3 %; the gripper's alone: 96.7 %): PPO's rollouts are then the episodes of a
  policy that fails, and what it learns from them is not what the deterministic policy does. The fix is on both
  sides: DAgger's student rollouts carry exploration noise (``DaggerCfg.rollout_noise_std``, DART: Laskey et
  al., 2017), so the clone learns to recover from it (the ``last_action`` it observes is then noisy too), and PPO
  explores at a std the clone survives (``DaggerCfg.exploration_std``).
* **The first actor step.** The actor's Adam moments are empty when its updates start, so the first step moves
  every weight by the full learning rate in the sign of its gradient; at 1e-3 that alone is a KL spike the
  adaptive schedule answers only afterwards (it fell to 1e-5 within the first iteration). The actor's updates
  start at ``WarmStartCfg.actor_learning_rate`` and the adaptive schedule raises it from there as the KL allows.
* **The critic.** PPO's clipped value loss moves each value by at most ``clip_param`` per iteration, so the critic
  warm-up (actor frozen) trains with the plain squared error (explained variance of the returns after the warm-up:
  see the benchmark), and as many iterations as ``WarmStartCfg.critic_warmup_iterations``.

And one that stalls PPO later: it shrinks a precise task's std toward 0 (Reach: ~0.005), where any change of the
mean is a large KL and the adaptive rate sits at its floor; ``WarmStartCfg.min_std`` keeps the std above a floor.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

import torch

from roarm_lab.training.dagger import floor_action_std, freeze_obs_normalizer


def handover(runner, critic_iterations: int, actor_learning_rate: float | None = None,
             unclipped_warmup: bool = True, min_std: float | None = None) -> None:
    """Make the next ``critic_iterations`` PPO updates of ``runner`` train only the critic (fixed learning rate;
    unclipped value loss if ``unclipped_warmup``); the first actor update then starts at ``actor_learning_rate``
    (None: the configured one), the adaptive schedule in charge from there. ``min_std``: after every update the
    action std is kept at or above it (PPO shrinking it toward 0 freezes the KL-adaptive rate near its floor)."""
    alg = runner.alg
    update = alg.update
    remaining = [critic_iterations]
    started = [False]

    def update_critic_first() -> dict[str, float]:
        if remaining[0] > 0:
            remaining[0] -= 1
            with _frozen(alg.actor), _fixed_schedule(alg), _value_clipping(alg, not unclipped_warmup):
                return update()
        if not started[0]:
            started[0] = True
            if actor_learning_rate is not None:
                alg.learning_rate = actor_learning_rate
                for group in alg.optimizer.param_groups:
                    group["lr"] = actor_learning_rate
        out = update()
        if min_std is not None:
            floor_action_std(alg.actor, min_std)
        return out

    alg.update = update_critic_first


def prepare(runner, warm) -> None:
    """The handover of :class:`~roarm_lab.tasks.registry.WarmStartCfg` ``warm`` (train.py's)."""
    handover(runner, warm.critic_warmup_iterations, warm.actor_learning_rate, unclipped_warmup=True,
             min_std=warm.min_std)


def resume(runner, warm, iteration: int) -> None:
    """Go on with a warm-started run from its checkpoint at PPO ``iteration`` (the optimizer and its learning rate
    loaded with it): the actor's observation normalizer frozen again (``until`` is not saved in checkpoints, and an
    unfrozen one rescales every input at once), the critic's warm-up finished where the checkpoint came before its
    end (a clone saved without PPO, ``model_0.pt``, gets all of it and the actor's first learning rate), and the
    std floor kept."""
    freeze_obs_normalizer(runner.alg.actor)
    left = max(0, warm.critic_warmup_iterations - iteration)
    handover(runner, left, warm.actor_learning_rate if left else None, unclipped_warmup=True, min_std=warm.min_std)


def legacy_handover(runner, warm) -> None:
    """The handover before issue 20 (for the benchmark's comparison, with :func:`legacy_warm_start`'s ``warm``):
    its critic-only iterations with the clipped value loss, then the actor at the configured learning rate with
    fresh Adam moments."""
    handover(runner, warm.critic_warmup_iterations, None, unclipped_warmup=False)


def legacy_warm_start(warm):
    """The warm start before issue 20 (with :func:`legacy_handover`): clean DAgger rollouts, PPO at std 0.15."""
    return replace(warm, dagger=replace(warm.dagger, exploration_std=0.15, rollout_noise_std=0.0),
                   critic_warmup_iterations=10, actor_learning_rate=None, min_std=None)


@contextlib.contextmanager
def _frozen(module: torch.nn.Module):
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)


@contextlib.contextmanager
def _fixed_schedule(alg):
    schedule = alg.schedule
    alg.schedule = "fixed"
    try:
        yield
    finally:
        alg.schedule = schedule


@contextlib.contextmanager
def _value_clipping(alg, clipped: bool):
    before = alg.use_clipped_value_loss
    alg.use_clipped_value_loss = clipped
    try:
        yield
    finally:
        alg.use_clipped_value_loss = before
