"""rsl-rl run directories (:mod:`roarm_lab.training.run`) and checkpoints: which model file to export, its task, and
where it came from."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from roarm_lab.training.run import CHECKPOINT_FILE, read_env_params


def _iteration(path: Path) -> int | None:
    match = CHECKPOINT_FILE.fullmatch(path.name)
    return int(match.group(1)) if match else None


def resolve_checkpoint(path: str | Path) -> Path:
    """A ``model_*.pt`` file as given, or the latest (highest iteration) one of a run directory."""
    path = Path(path)
    if path.is_dir():
        models = [p for p in path.glob("model_*.pt") if _iteration(p) is not None]
        if not models:
            raise FileNotFoundError(f"run directory {path} has no model_*.pt checkpoint")
        return max(models, key=_iteration)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return path


def _run_params(checkpoint: Path) -> dict:
    return read_env_params(checkpoint.parent)


def task_of_run(checkpoint: Path) -> str | None:
    """The task in the run's ``params/env.yaml`` (train.py writes it), None without one."""
    return _run_params(checkpoint).get("task")


def git_head() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def training_info(checkpoint: Path) -> dict:
    """The ``training`` section of the package metadata.

    The commit is the run's own when ``params/env.yaml`` records one (``commit:``); otherwise the checkout's HEAD
    at export time, and ``commit_source`` says which.
    """
    params = _run_params(checkpoint)
    if params.get("commit"):
        commit, source = str(params["commit"]), "params/env.yaml"
    else:
        head = git_head()
        commit, source = (head, "HEAD at export") if head else ("unknown", "unknown")
    mtime = datetime.fromtimestamp(checkpoint.stat().st_mtime, UTC)
    return {"checkpoint": checkpoint.name, "run": checkpoint.parent.name, "iteration": _iteration(checkpoint),
            "checkpoint_time": mtime.isoformat(timespec="seconds"), "commit": commit, "commit_source": source}
