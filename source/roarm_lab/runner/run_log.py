"""The run's log directory: ``steps.jsonl`` (one JSON object per control step, flushed as it is written, so a crash
loses at most the step in flight), ``summary.json`` and ``joints.png``."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

STEPS_FILE = "steps.jsonl"
SUMMARY_FILE = "summary.json"
PLOT_FILE = "joints.png"
DEFAULT_ROOT = Path("logs/real")
_DECIMALS = 6


@dataclass
class StepRecord:
    """One control step. Joint values in the model frame (rad, JOINT_NAMES order); non-finite numbers are written
    as null.

    ``status``: ``commanded`` (a T:102 went out), ``dry_run`` (computed, printed, not sent), ``no_feedback``
    (no new reading came in time: the previous reply timed out and this step's read did too, or no new stream frame
    arrived; nothing computed or sent), ``cube_lost`` (the camera's cube estimate was too old: nothing computed or
    sent, the run holds and stops), ``link_failed`` (the link broke while reading, or while sending: then the
    command may or may not have reached the arm) or ``policy_failed`` (one non-finite target too many: nothing
    sent, the run stops).
    """

    step: int
    t: float  # s since the loop started, at the step's start
    status: str
    feedback_age_ms: float  # age of the feedback the observation used (since it arrived), when the step used it
    q: list[float] | None = None  # measured joints the observation used
    joint_vel: list[float] | None = None  # estimated by differencing (rad/s)
    obs: list[float] | None = None
    action: list[float] | None = None  # the raw policy output
    policy_target: list[float] | None = None  # default pose + scale * action, clipped (the simulator's mapping), plus
    #                                            the encoder offsets of the package's robot profile
    command: list[float] | None = None  # the target after the safety layer: what was (or would be) sent
    clamps: list[str] = field(default_factory=list)  # the safety rules that changed it (kind or kind:joint)
    round_trip_ms: float | None = None  # T:102 + T:105 written -> T:1051 read (request mode)
    feedback_seq: int | None = None  # number of the reading used: request = reply count, stream = frame number
    object: list[float] | None = None  # the cube the observation used: x, y, z (m, world), yaw (rad)
    object_age_ms: float | None = None  # age of the camera frame it came from (0 for a fixed --object)
    camera_frame: int | None = None  # the newest camera frame at the step (camera/<n>.jpg when recording)
    object_source: str | None = None  # fixed, camera, hand (held in the jaws, moving with them) or released


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, _DECIMALS) if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def to_json_line(data: dict[str, Any]) -> str:
    return json.dumps(_clean(data), separators=(",", ":"), allow_nan=False)


def default_log_dir(root: Path = DEFAULT_ROOT) -> Path:
    """``root/<local time>``, with a numeric suffix when that exists already."""
    base = Path(root) / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    path, n = base, 1
    while path.exists():
        path, n = base.with_name(f"{base.name}_{n}"), n + 1
    return path


class RunLog:
    """Create ``directory`` and write the step log into it; use as a context manager (closing flushes)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.steps_path = self.directory / STEPS_FILE
        self._steps = self.steps_path.open("w", encoding="utf-8")
        self.steps_written = 0

    def write_step(self, record: StepRecord) -> None:
        self._steps.write(to_json_line(asdict(record)) + "\n")
        self._steps.flush()
        self.steps_written += 1

    def write_summary(self, summary: dict[str, Any]) -> Path:
        path = self.directory / SUMMARY_FILE
        path.write_text(json.dumps(_clean(summary), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        return path

    def close(self) -> None:
        if not self._steps.closed:
            self._steps.close()

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_steps(directory: str | Path) -> list[dict[str, Any]]:
    """The step records of a run directory."""
    with (Path(directory) / STEPS_FILE).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
