"""A training run's directory, Isaac Lab's layout: ``<log root>/<task>/<time>/`` (log root ``logs/rsl_rl``) with

* ``params/env.yaml``: the task (what export and play read back), backend, number of environments, commit, the
  task config and ``warm_start`` (``dagger``: the actor began as a clone of the task's expert; ``none``);
* ``params/agent.yaml``: the rsl-rl config;
* rsl-rl's checkpoints ``model_<iteration>.pt`` and tensorboard event files, and ``learning_curves.png``;
* ``robot_profile.yaml``: the robot profile the run simulated (``train.py --robot_profile``), a copy of the file
  given; none when it simulated the nominal description. Play and export use it unless told otherwise
  (:func:`resolve_robot_profile`).

:mod:`roarm_lab.cli.train` writes runs through these functions; :mod:`roarm_lab.deploy.checkpoint` reads them.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import yaml

from roarm_lab.description.robot_profile import (
    RobotProfile,
    RobotProfileError,
    load_profile,
    nominal_profile,
    save_profile,
)

LOG_ROOT = Path("logs/rsl_rl")
TIME_FORMAT = "%Y-%m-%d_%H-%M-%S"
PARAMS_DIR = "params"
ENV_PARAMS = "env.yaml"
AGENT_PARAMS = "agent.yaml"
ROBOT_PROFILE = "robot_profile.yaml"
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


def read_env_params(run: Path) -> dict:
    """``params/env.yaml`` of a run directory; empty without one."""
    path = env_params_path(run)
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def write_agent_params(run: Path, agent: dict) -> Path:
    """``params/agent.yaml``: the rsl-rl config (``to_dict()``)."""
    return _write_yaml(run / PARAMS_DIR / AGENT_PARAMS, agent)


def checkpoint_path(run: Path, iteration: int) -> Path:
    """rsl-rl's name for the checkpoint after ``iteration``."""
    return run / f"model_{iteration}.pt"


def robot_profile_path(run: Path) -> Path:
    return run / ROBOT_PROFILE


def write_robot_profile(run: Path, profile: RobotProfile) -> Path:
    """``robot_profile.yaml``: the profile the run simulates (an existing one is kept: RobotProfileError)."""
    return save_profile(profile, robot_profile_path(run))


def run_robot_profile(run: Path) -> RobotProfile | None:
    """The run's robot profile, None for a run of the nominal description (no ``robot_profile.yaml``)."""
    path = robot_profile_path(run)
    return load_profile(path) if path.is_file() else None


def profile_summary(profile: RobotProfile | None) -> dict | None:
    """What ``params/env.yaml`` records of the profile (the values are in ``robot_profile.yaml``)."""
    return None if profile is None else {"name": profile.name, "hash": profile.hash, "file": ROBOT_PROFILE}


def resolve_robot_profile(given: str | Path | None, run: Path | None) -> RobotProfile | None:
    """The profile to simulate or export a run's checkpoint with: the file ``given`` (``--robot_profile``), else
    the run's own (:func:`run_robot_profile`), else None (the nominal description). A given profile that differs
    from the run's in what the simulation uses (another :attr:`~RobotProfile.physics_hash`) is refused, both hashes
    named: the policy was trained for the run's. One that differs in the encoder offsets alone (a re-calibration)
    is accepted: the runner applies them, the policy does not change."""
    run_profile = run_robot_profile(run) if run is not None else None
    if given is None:
        return run_profile
    profile = load_profile(given)
    if run is not None and run_profile is None and profile.physics_hash != nominal_profile().physics_hash:
        raise RobotProfileError(f"--robot_profile {given} (hash {profile.hash}) simulates another arm than the one "
                                f"the run {run} was trained for, the nominal description (a run trained for a "
                                "profile keeps it as robot_profile.yaml); only its encoder offsets may differ")
    if run_profile is not None and run_profile.physics_hash != profile.physics_hash:
        raise RobotProfileError(f"--robot_profile {given} (hash {profile.hash}) is not the profile the run was "
                                f"trained for, {robot_profile_path(run)} (hash {run_profile.hash})")
    return profile


def _write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
