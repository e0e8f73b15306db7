"""The task's warm start before PPO, if it has one (:data:`roarm_lab.tasks.agents.WARM_STARTS`): shared by
train.py and the benchmarks so both train the same recipe."""

from __future__ import annotations

import time
from collections.abc import Callable

from roarm_lab.training.dagger import DaggerRound, clone_expert, warm_up_critic


def has_warm_start(task: str) -> bool:
    from roarm_lab.tasks.agents import WARM_STARTS

    return task in WARM_STARTS


def ppo_iterations_after_warm_start(task: str, default: int) -> int:
    from roarm_lab.tasks.agents import WARM_STARTS

    iterations = WARM_STARTS[task].ppo_iterations
    return default if iterations is None else iterations


def warm_start(task: str, runner, env, seed: int = 0, log: Callable[[str], None] = print) -> float:
    """Clone the task's expert into ``runner``'s actor and make its first PPO updates critic-only; returns the
    seconds it took."""
    from roarm_lab.tasks.agents import WARM_STARTS

    recipe = WARM_STARTS[task]
    cfg = recipe.dagger
    start = time.perf_counter()

    def report(r: DaggerRound) -> None:
        log(f"[roarm-lab] DAgger round {r.round + 1}/{cfg.rounds}: expert share {r.expert_share:.2f}, "
            f"{r.samples} samples, imitation loss {r.loss:.5f}")

    clone_expert(runner, env, recipe.make_expert(), cfg, seed=seed, log=report)
    warm_up_critic(runner, cfg.critic_warmup_iterations)
    return time.perf_counter() - start
