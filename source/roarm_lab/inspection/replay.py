"""Replay of a recorded run: measured and commanded joints over time, from a runner log or a LeRobot episode.

Sources: a ``play_real.py`` / ``run_lerobot_policy.py`` run directory (``steps.jsonl``: ``t``, ``q`` measured,
``command`` sent), or one episode of a LeRobot dataset (``observation.state`` and ``action``, both the arm's joints
in model rad: real runs, teleoperation or sim demos). :meth:`Replay.at` gives the sample in force at a time (the
last one at or before it), exactly as logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from roarm_lab.description import JOINT_NAMES
from roarm_lab.inspection.errors import InspectionError

N = len(JOINT_NAMES)


@dataclass(frozen=True)
class ReplaySample:
    index: int
    t: float  # s since the recording started
    measured: np.ndarray  # (6,) rad; NaN where the step had no reading
    commanded: np.ndarray  # (6,) rad; NaN where nothing was sent


@dataclass
class Replay:
    source: str
    t: np.ndarray  # (T,) s, non-decreasing
    measured: np.ndarray  # (T, 6)
    commanded: np.ndarray  # (T, 6)

    def __post_init__(self) -> None:
        if len(self.t) == 0:
            raise InspectionError(f"{self.source} has no samples")
        if np.any(np.diff(self.t) < 0):
            raise InspectionError(f"{self.source}: times go backwards")

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0])

    def __len__(self) -> int:
        return len(self.t)

    def at(self, t: float) -> ReplaySample:
        """The sample in force at ``t`` (s from the start of the recording): the last one at or before it (the
        first before the recording starts)."""
        i = max(int(np.searchsorted(self.t, self.t[0] + t, side="right")) - 1, 0)
        return ReplaySample(i, float(self.t[i] - self.t[0]), self.measured[i], self.commanded[i])

    @classmethod
    def from_run(cls, directory: str | Path) -> Replay:
        """A runner log directory (``steps.jsonl``)."""
        from roarm_lab.runner.run_log import read_steps

        directory = Path(directory)
        if not (directory / "steps.jsonl").is_file():
            raise InspectionError(f"{directory} has no steps.jsonl (a play_real.py / run_lerobot_policy.py log)")
        steps = read_steps(directory)

        def joints(value) -> list[float]:
            if value is None:
                return [np.nan] * N
            return [np.nan if v is None else float(v) for v in value]

        return cls(source=str(directory / "steps.jsonl"), t=np.array([float(s["t"]) for s in steps]),
                   measured=np.array([joints(s.get("q")) for s in steps]).reshape(-1, N),
                   commanded=np.array([joints(s.get("command")) for s in steps]).reshape(-1, N))

    @classmethod
    def from_lerobot(cls, root: str | Path, episode: int = 0, repo_id: str | None = None) -> Replay:
        """One episode of a LeRobot v3 dataset at ``root`` whose state and action are the arm's joints."""
        from lerobot.datasets import LeRobotDataset

        from roarm_lab.lerobot_io.features import JOINT_POS_KEYS

        root = Path(root)
        if not (root / "meta" / "info.json").is_file():
            raise InspectionError(f"{root} is not a LeRobot dataset (no meta/info.json)")
        ds = LeRobotDataset(repo_id or f"local/{root.name}", root=root)
        for key in ("observation.state", "action"):
            if ds.features.get(key, {}).get("names") != list(JOINT_POS_KEYS):
                raise InspectionError(f"{root}: {key} is not the arm's joints ({', '.join(JOINT_POS_KEYS)})")
        if not 0 <= episode < ds.num_episodes:
            raise InspectionError(f"{root} has episodes 0..{ds.num_episodes - 1}, not {episode}")
        meta = ds.meta.episodes[episode]
        rows = ds.hf_dataset.select(range(meta["dataset_from_index"], meta["dataset_to_index"]))
        rows = rows.with_format("numpy", columns=["timestamp", "observation.state", "action"])
        return cls(source=f"{root} episode {episode}", t=np.asarray(rows["timestamp"], dtype=np.float64),
                   measured=np.asarray(rows["observation.state"], dtype=np.float64).reshape(-1, N),
                   commanded=np.asarray(rows["action"], dtype=np.float64).reshape(-1, N))
