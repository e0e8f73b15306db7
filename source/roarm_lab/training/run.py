"""A training run's directory, Isaac Lab's layout: ``<log root>/<task>/<time>/`` (log root ``logs/rsl_rl``) with

* ``params/env.yaml``: the task (what export and play read back), backend, number of environments, commit and the
  task config;
* ``params/agent.yaml``: the rsl-rl config;
* rsl-rl's checkpoints ``model_<iteration>.pt`` and tensorboard event files, and ``learning_curves.png``.

:mod:`roarm_lab.cli.train` writes runs through these functions; :mod:`roarm_lab.deploy.checkpoint` reads them.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import yaml

LOG_ROOT = Path("logs/rsl_rl")
TIME_FORMAT = "%Y-%m-%d_%H-%M-%S"
PARAMS_DIR = "params"
ENV_PARAMS = "env.yaml"
AGENT_PARAMS = "agent.yaml"
#: rsl-rl's checkpoint file names; group 1: the iteration
CHECKPOINT_FILE = re.compile(r"model_(\d+)\.pt")


def new_run_dir(log_root: str | Path, task: str, started: datetime | None = None) -> Path:
    """Create ``log_root/task/<started, default now>/params/``; returns the run directory."""
    run = Path(log_root) / task / (started or datetime.now()).strftime(TIME_FORMAT)
    (run / PARAMS_DIR).mkdir(parents=True, exist_ok=True)
    return run


def env_params_path(run: Path) -> Path:
    return run / PARAMS_DIR / ENV_PARAMS


def write_env_params(run: Path, params: dict) -> Path:
    """``params/env.yaml``: at least ``task``."""
    return _write_yaml(env_params_path(run), params)


def write_agent_params(run: Path, agent: dict) -> Path:
    """``params/agent.yaml``: the rsl-rl config (``to_dict()``)."""
    return _write_yaml(run / PARAMS_DIR / AGENT_PARAMS, agent)


def checkpoint_path(run: Path, iteration: int) -> Path:
    """rsl-rl's name for the checkpoint after ``iteration``."""
    return run / f"model_{iteration}.pt"


def _write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
