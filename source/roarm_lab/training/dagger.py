"""Warm start a PPO actor by imitating an expert with DAgger, then hand it to PPO without losing it.

DAgger (Ross et al., 2011): roll out a mix of expert and student (the expert's share falls from 1 to 0), label
every visited observation with the expert's action, and regress the actor's mean onto the aggregated labels. The
student thus learns the expert's answer on the states it reaches itself, not only on the expert's.

The clone is handed to PPO with its exploration std set (:attr:`DaggerCfg.exploration_std`) and its observation
normalizer frozen (:func:`freeze_obs_normalizer`), since PPO's noisier rollouts would rescale its inputs; the rest
of the handover (critic warm-up, the actor's first learning rate) is :mod:`roarm_lab.training.finetune`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from roarm_lab.tasks.registry import DaggerCfg, Expert

__all__ = ["DaggerCfg", "DaggerRound", "clone_expert", "expert_share"]


@dataclass
class DaggerRound:
    round: int
    expert_share: float
    samples: int
    loss: float
    #: the fit over the final aggregate after the last round (``DaggerCfg.final_epochs``), no rollouts
    final: bool = False


def expert_share(cfg: DaggerCfg, round_index: int) -> float:
    horizon = max(1, math.ceil(cfg.rounds * cfg.expert_fraction))
    return max(0.0, 1.0 - round_index / horizon)


def clone_expert(runner, env, expert: Expert, cfg: DaggerCfg, seed: int = 0,
                 log: Callable[[DaggerRound], None] | None = None) -> list[DaggerRound]:
    """DAgger into ``runner.alg.actor`` on ``env`` (an rsl-rl VecEnv with an ``arm_state`` property); sets the
    actor's std to ``cfg.exploration_std`` at the end. Returns one record per round (and one for the final fit)."""
    actor = runner.alg.actor
    actor.train()
    device = runner.device
    generator = torch.Generator(device="cpu").manual_seed(seed)
    optimizer = torch.optim.Adam(actor.parameters(), lr=cfg.learning_rate)
    observations, labels, report = [], [], []

    def record(r: DaggerRound) -> None:
        report.append(r)
        if log is not None:
            log(r)

    obs = env.get_observations().to(device)
    for round_index in range(cfg.rounds):
        share = expert_share(cfg, round_index)
        with torch.no_grad():
            for _ in range(cfg.steps_per_round):
                expert_action = expert(env.arm_state).to(device)
                observations.append(obs.select(*actor.obs_groups).clone())
                labels.append(expert_action)
                actor.update_normalization(obs)
                use_expert = (torch.rand(env.num_envs, 1, generator=generator) < share).to(device)
                action = torch.where(use_expert, expert_action, actor(obs))
                if cfg.rollout_noise_std > 0.0:
                    noise = torch.randn(action.shape, generator=generator).to(device)
                    action = action + cfg.rollout_noise_std * noise
                obs, _, dones, _ = env.step(action)
                obs = obs.to(device)
                done_ids = dones.nonzero(as_tuple=False).flatten()
                if len(done_ids):
                    expert.reset(done_ids.cpu())
        while len(labels) > 1 and sum(len(x) for x in labels) > cfg.max_samples:
            observations.pop(0)
            labels.pop(0)
        data, target = torch.cat(observations), torch.cat(labels)
        loss = _fit(actor, optimizer, data, target, cfg.epochs, cfg.minibatch_size, generator, device)
        record(DaggerRound(round_index, share, len(target), loss))
    if cfg.final_epochs > 0:
        steps = cfg.final_epochs * math.ceil(len(target) / cfg.minibatch_size)
        annealing = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        loss = _fit(actor, optimizer, data, target, cfg.final_epochs, cfg.minibatch_size, generator, device,
                    annealing)
        record(DaggerRound(cfg.rounds, 0.0, len(target), loss, final=True))
    set_action_std(actor, cfg.exploration_std)
    freeze_obs_normalizer(actor)
    return report


def _fit(actor, optimizer, data, target, epochs: int, minibatch_size: int, generator, device,
         scheduler=None) -> float:
    """Regress the actor's mean onto ``target`` for ``epochs`` shuffled passes; returns the last minibatch's loss."""
    loss = torch.zeros(())
    for _ in range(epochs):
        order = torch.randperm(len(target), generator=generator).to(device)
        for start in range(0, len(target), minibatch_size):
            batch = order[start:start + minibatch_size]
            loss = torch.mean((actor(data[batch]) - target[batch]) ** 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
    return loss.item()


def freeze_obs_normalizer(actor) -> None:
    """Stop the actor's observation normalizer from learning: the clone was fitted to its current scaling, and
    PPO's noisier rollouts (``last_action`` above all) would shift it, and with it every action, at once. It stays
    frozen for this process (``until`` is not saved in checkpoints)."""
    normalizer = actor.obs_normalizer
    if hasattr(normalizer, "until"):
        normalizer.until = int(normalizer.count)


def _std_parameter(actor) -> tuple[torch.nn.Parameter, bool]:
    """A Gaussian actor's (state-independent) std parameter and whether it holds log(std), in either of rsl-rl's
    parameterizations."""
    distribution = actor.distribution
    if hasattr(distribution, "std_param"):
        return distribution.std_param, False
    if hasattr(distribution, "log_std_param"):
        return distribution.log_std_param, True
    raise TypeError(f"cannot set the std of a {type(distribution).__name__} actor")


def action_std(actor) -> torch.Tensor:
    """The actor's action std per joint (a detached copy)."""
    param, is_log = _std_parameter(actor)
    return (param.exp() if is_log else param).detach().clone()


def set_action_std(actor, std: float) -> None:
    """Set a Gaussian actor's action std (every joint)."""
    param, is_log = _std_parameter(actor)
    with torch.no_grad():
        param.fill_(math.log(std) if is_log else std)


def floor_action_std(actor, min_std: float) -> None:
    """Raise every joint's action std that is below ``min_std`` to it."""
    param, is_log = _std_parameter(actor)
    with torch.no_grad():
        param.clamp_(min=math.log(min_std) if is_log else min_std)
