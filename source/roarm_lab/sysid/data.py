"""Recordings for identification: the LeRobot features ``sysid.py record`` adds, and reading any recording back as
:class:`Episode` arrays, refusing what the fit cannot use.

A ``sysid.py record`` dataset has play_real's features (``observation.state`` = measured joints, ``action`` = the
sent joint target, model rad) plus the timing and servo settings the replay needs:

* ``observation.load`` - the six T:1051 loads (tB..tG, permille, sign = direction), for the record;
* ``observation.time_s`` - when the reading arrived (s since the recording began, monotonic clock);
* ``action.time_s`` - when the T:102 was written;
* ``action.servo_profile`` - its ``spd`` (steps/s) and ``acc`` (x100 steps/s^2), 0 = servo maximum.

A play_real ``--record`` or ``lerobot-record`` dataset lacks the last three: its frames are taken as evenly spaced
at the dataset's fps and its commands as ``spd 0, acc 0`` (what the runner sends). Any source works - the real arm,
the emulator, a physics twin - as long as it writes these features.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.lerobot_io.dataset_features import ACTION, ROBOT_TYPE, STATE, joints_feature
from roarm_lab.sysid.config import DEFAULT_FIT, FitConfig

LOAD = "observation.load"
OBS_TIME = "observation.time_s"
ACTION_TIME = "action.time_s"
SERVO_PROFILE = "action.servo_profile"
#: The LeRobot task prompt of an excitation episode.
EXCITATION_TASK = "system identification excitation"
SYSID_REPO_ID = "local/roarm_sysid"


class RecordingError(ValueError):
    """A recording the fit cannot use; the message says what is missing."""


def sysid_features() -> dict[str, dict]:
    """play_real's joint features plus loads, times and the servo profile."""
    scalar = {"dtype": "float32", "shape": (1,), "names": None}
    return {
        STATE: joints_feature(),
        ACTION: joints_feature(),
        LOAD: {"dtype": "float32", "shape": (len(JOINT_NAMES),), "names": [f"{j}.load" for j in JOINT_NAMES]},
        OBS_TIME: dict(scalar),
        ACTION_TIME: dict(scalar),
        SERVO_PROFILE: {"dtype": "float32", "shape": (2,), "names": ["spd", "acc"]},
    }


@dataclass
class Episode:
    """One episode, arrays by frame: ``q`` measured joints (n, 6) at ``t_obs``; ``target`` sent at ``t_cmd`` with
    ``spd``/``acc``; model rad, s since the episode began."""

    name: str
    t_obs: np.ndarray
    q: np.ndarray
    t_cmd: np.ndarray
    target: np.ndarray
    spd: np.ndarray
    acc: np.ndarray
    loads: np.ndarray | None = None

    @property
    def duration_s(self) -> float:
        return float(self.t_obs[-1] - self.t_obs[0])

    def __len__(self) -> int:
        return len(self.t_obs)


def _column(table, key: str) -> np.ndarray:
    return np.asarray(table[key].to_list(), dtype=np.float64)


def load_dataset(root: str | Path, config: FitConfig = DEFAULT_FIT,
                 skipped: list[tuple[str, str]] | None = None) -> list[Episode]:
    """Every episode of the LeRobot v3 dataset at ``root``, checked (:func:`check_episode`). With ``skipped`` (a
    list), an episode the fit cannot use is left out and appended there as (name, reason) instead of refusing the
    whole dataset (the improvement loop's history: a run cut short by a fault is kept, but not fitted)."""
    import pyarrow.parquet as pq

    root = Path(root)
    info_path = root / "meta" / "info.json"
    if not info_path.is_file():
        raise RecordingError(f"{root}: not a LeRobot dataset (no meta/info.json)")
    info = json.loads(info_path.read_text())
    if info.get("robot_type") != ROBOT_TYPE:
        raise RecordingError(f"{root}: recorded with robot type {info.get('robot_type')!r}, not {ROBOT_TYPE!r} "
                             "(this fit identifies the RoArm-M3 Pro)")
    features = info.get("features", {})
    for key in (STATE, ACTION):
        if key not in features or tuple(features[key].get("shape", ())) != (len(JOINT_NAMES),):
            raise RecordingError(f"{root}: needs the feature {key!r} with the six joints ({', '.join(JOINT_NAMES)})")
    fps = float(info["fps"])
    files = sorted((root / "data").rglob("*.parquet"))
    if not files:
        raise RecordingError(f"{root}: the dataset has no data files")
    table = pq.read_table(files).to_pandas()
    episodes = []
    for index, frames in table.groupby("episode_index", sort=True):
        frames = frames.sort_values("frame_index")
        n = len(frames)
        name = f"{root.name}/episode_{int(index)}"
        frame_index = frames["frame_index"].to_numpy()
        if n and np.any(np.diff(frame_index) != 1):
            missing = int(np.sum(np.diff(frame_index) - 1))
            raise RecordingError(f"{name}: {missing} frame(s) missing (frame_index not contiguous)")
        evenly = frames["timestamp"].to_numpy(dtype=np.float64)
        t_obs = _column(frames, OBS_TIME).reshape(n) if OBS_TIME in frames else evenly
        t_cmd = _column(frames, ACTION_TIME).reshape(n) if ACTION_TIME in frames else evenly
        if SERVO_PROFILE in frames:
            profile = _column(frames, SERVO_PROFILE).reshape(n, 2)
            spd, acc = profile[:, 0], profile[:, 1]
        else:
            spd = acc = np.zeros(n)
        loads = _column(frames, LOAD).reshape(n, 6) if LOAD in frames else None
        episode = Episode(name, t_obs, _column(frames, STATE).reshape(n, 6), t_cmd,
                          _column(frames, ACTION).reshape(n, 6), spd, acc, loads)
        try:
            check_episode(episode, fps, config)
        except RecordingError as e:
            if skipped is None:
                raise
            skipped.append((name, str(e)))
            continue
        episodes.append(episode)
    if not episodes:
        raise RecordingError(f"{root}: the dataset has no episodes" + (" the fit can use: " + "; ".join(
            reason for _, reason in skipped) if skipped else ""))
    return episodes


def check_episode(episode: Episode, fps: float, config: FitConfig = DEFAULT_FIT) -> None:
    """:class:`RecordingError` for NaNs, gaps (a frame more than ``max_gap_periods`` after the previous one, or
    times going back), too short a recording, or too little commanded motion."""
    name = episode.name
    if len(episode) < 3:
        raise RecordingError(f"{name}: only {len(episode)} frames")
    for what, values in (("measured joints (observation.state)", episode.q),
                         ("joint targets (action)", episode.target),
                         ("times", np.column_stack([episode.t_obs, episode.t_cmd])),
                         ("spd/acc", np.column_stack([episode.spd, episode.acc]))):
        bad = ~np.isfinite(values).all(axis=1)
        if bad.any():
            raise RecordingError(f"{name}: non-finite {what} in {int(bad.sum())} frame(s), first at frame "
                                 f"{int(np.argmax(bad))}")
    limit = config.max_gap_periods / fps
    for what, t in (("readings", episode.t_obs), ("commands", episode.t_cmd)):
        dt = np.diff(t)
        if np.any(dt <= 0):
            raise RecordingError(f"{name}: the {what}' times do not increase (frame {int(np.argmax(dt <= 0)) + 1})")
        if np.any(dt > limit):
            k = int(np.argmax(dt > limit))
            raise RecordingError(f"{name}: a gap of {dt[k]:.3f} s in the {what} after frame {k} (at most "
                                 f"{limit:.3f} s = {config.max_gap_periods} periods at {fps:g} fps): the replay "
                                 "needs every command and reading")
    if episode.duration_s < config.min_duration_s:
        raise RecordingError(f"{name}: {episode.duration_s:.2f} s long; the fit needs at least "
                             f"{config.min_duration_s:g} s")
    span = np.ptp(episode.target, axis=0)
    if span.max() < config.min_motion_rad:
        raise RecordingError(f"{name}: too little motion: the commanded joints span at most {span.max():.4f} rad "
                             f"({JOINT_NAMES[int(np.argmax(span))]}); the fit needs at least "
                             f"{config.min_motion_rad} rad of commanded motion (record with sysid.py record)")
