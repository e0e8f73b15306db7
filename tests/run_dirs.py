"""A training run directory laid out as train.py writes one (:mod:`roarm_lab.training.run`), for the tests of the
tools that read it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import torch

from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.training import run as runs
from roarm_lab.training.policy import runner_cfg


def new_run(base: Path, task: str, num_envs: int):
    """``base/<task>/<time>/`` with ``params/env.yaml`` naming the task, and a fresh rsl-rl runner (seed 0) on the
    MuJoCo backend; returns (run directory, runner)."""
    from rsl_rl.runners import OnPolicyRunner

    torch.manual_seed(0)
    run = runs.new_run_dir(base, task, started=datetime(2026, 1, 1))
    runs.write_env_params(run, {"task": task})
    return run, OnPolicyRunner(MujocoTaskEnv(task, num_envs, nthread=1), runner_cfg(task).to_dict(), log_dir=None)
