"""The task's warm start before PPO, if it has one (its registry entry's ``warm_start``,
:mod:`roarm_lab.tasks.registry`): shared by train.py and the benchmarks so both train the same recipe."""

from __future__ import annotations

import time
from collections.abc import Callable

from roarm_lab.tasks.registry import get_entry
from roarm_lab.training import finetune
from roarm_lab.training.dagger import DaggerRound, clone_expert


def has_warm_start(task: str) -> bool:
    return get_entry(task).warm_start is not None


def ppo_iterations_after_warm_start(task: str, default: int) -> int:
    iterations = get_entry(task).warm_start.ppo_iterations
    return default if iterations is None else iterations


def warm_start(task: str, runner, env, seed: int = 0, log: Callable[[str], None] = print,
               recipe: str = "default") -> float:
    """Clone the task's expert into ``runner``'s actor and prepare PPO's handover (:mod:`~roarm_lab.training.finetune`;
    ``recipe="legacy"``: the handover before issue 20, for comparisons); returns the seconds it took."""
    entry = get_entry(task)
    warm = entry.warm_start if recipe == "default" else finetune.legacy_warm_start(entry.warm_start)
    cfg = warm.dagger
    start = time.perf_counter()

    def report(r: DaggerRound) -> None:
        if r.final:
            log(f"[roarm-lab] DAgger final fit: {cfg.final_epochs} epochs on {r.samples} samples, the learning rate "
                f"annealed to 0, imitation loss {r.loss:.5f}")
            return
        log(f"[roarm-lab] DAgger round {r.round + 1}/{cfg.rounds}: expert share {r.expert_share:.2f}, "
            f"{r.samples} samples, imitation loss {r.loss:.5f}")

    clone_expert(runner, env, entry.make_expert(), cfg, seed=seed, log=report)
    (finetune.prepare if recipe == "default" else finetune.legacy_handover)(runner, warm)
    return time.perf_counter() - start
