"""A crash-safe LeRobot v3 dataset writer: one whole episode at a time, so a crash loses only the episode in hand.

LeRobot 0.6's writer keeps a parquet file open across episodes and buffers episode metadata until ``finalize()``;
a process that dies before it leaves a dataset that cannot be loaded. :class:`EpisodeWriter` keeps the frames of the
current episode in memory and, at :meth:`EpisodeWriter.save_episode`, writes them as one complete LeRobot session:
``create`` (the first episode, built in a sibling folder and renamed into place) or ``resume`` (later episodes,
under an :class:`~.append_journal.AppendJournal`), ``add_frame`` per frame, ``save_episode``, ``finalize``. Every
resume starts new parquet (and video) files, so each episode has its own files.

Nothing here uses the Hugging Face Hub: the root is checked before LeRobot sees it (LeRobot would try to download
metadata it cannot find locally). One writer per root at a time: nothing locks it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot.utils.constants import DEFAULT_FEATURES
from lerobot.utils.utils import SuppressProgressBars

from . import append_journal
from .dataset_features import ROBOT_TYPE

#: LeRobot dataset format this writer produces and appends to.
CODEBASE_VERSION = "v3.0"
_INFO = Path("meta") / "info.json"
# The writer never decodes video; naming a backend keeps LeRobot from probing torchcodec (a warning per episode).
_VIDEO_BACKEND = "pyav"


class DatasetRootError(ValueError):
    """The root is not a place this writer may create or append to (nothing was written)."""


class FeatureMismatchError(ValueError):
    """The existing dataset was recorded with other features or another fps (nothing was written)."""


def read_info(root: str | Path) -> dict | None:
    """``meta/info.json`` of a LeRobot dataset root, or None if there is none."""
    path = Path(root) / _INFO
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DatasetRootError(f"{path} is not a LeRobot info file: {error}") from error


def _comparable(feature: Mapping) -> tuple:
    names = feature.get("names")
    return feature["dtype"], tuple(feature["shape"]), tuple(names) if isinstance(names, list | tuple) else names


def _staging_dir(root: Path) -> Path:
    """Where a new dataset's first episode is written before it is renamed to ``root``."""
    return root.with_name(f".{root.name}.first-episode")


class EpisodeWriter:
    """Append whole episodes to the LeRobot dataset at ``root`` (created at the first :meth:`save_episode`).

    ``features``: LeRobot feature specs (``{"dtype", "shape", "names"}``) without LeRobot's defaults (timestamp,
    index, ...). An existing dataset must have exactly these features and this ``fps``. ``root`` must not exist, be
    an empty folder or hold a LeRobot v3 dataset; anything else is refused before anything is written.
    """

    def __init__(self, root: str | Path, repo_id: str, fps: int, features: Mapping[str, Mapping],
                 robot_type: str = ROBOT_TYPE):
        if int(fps) != fps or fps <= 0:
            raise ValueError(f"fps must be a positive integer, got {fps}")
        self.root = Path(root).absolute()
        self.repo_id = repo_id
        self.fps = int(fps)
        self.features = {key: dict(ft) for key, ft in features.items()}
        self.robot_type = robot_type
        self._frames: list[dict] = []
        self.recovered_append = False
        self._check_root()

    # ------------------------------------------------------------------ the root
    def _check_root(self) -> None:
        root = self.root
        if root.exists() and not root.is_dir():
            raise DatasetRootError(f"{root} is a file, not a dataset folder")
        info = read_info(root) if root.is_dir() else None
        if info is None:
            if root.is_dir() and any(root.iterdir()):
                raise DatasetRootError(f"{root} holds files but no LeRobot dataset (no {_INFO}); give an empty or "
                                       "new folder, or an existing dataset to append to")
            shutil.rmtree(_staging_dir(root), ignore_errors=True)  # a first episode that did not finish
            return
        version = info.get("codebase_version")
        if version != CODEBASE_VERSION:
            raise DatasetRootError(f"{root} is a LeRobot dataset of version {version}; this writer appends to "
                                   f"{CODEBASE_VERSION} only")
        self._check_matches(info)
        self.recovered_append = append_journal.recover(root)

    def _check_matches(self, info: dict) -> None:
        problems = []
        if info.get("fps") != self.fps:
            problems.append(f"fps {info.get('fps')} (recording at {self.fps})")
        theirs = {k: v for k, v in info.get("features", {}).items() if k not in DEFAULT_FEATURES}
        for key in sorted(set(theirs) | set(self.features)):
            if key not in self.features:
                problems.append(f"feature {key!r} that this recording lacks")
            elif key not in theirs:
                problems.append(f"no feature {key!r}")
            elif _comparable(theirs[key]) != _comparable(self.features[key]):
                problems.append(f"{key!r} = {_comparable(theirs[key])} where this recording has "
                                f"{_comparable(self.features[key])} (dtype, shape, names)")
        if problems:
            raise FeatureMismatchError(f"cannot append to the dataset at {self.root}: it has " + "; ".join(problems))

    # ------------------------------------------------------------------ frames
    @property
    def episodes_on_disk(self) -> int:
        info = read_info(self.root)
        return 0 if info is None else int(info["total_episodes"])

    @property
    def pending_frames(self) -> int:
        return len(self._frames)

    def add_frame(self, frame: Mapping[str, object]) -> None:
        """Buffer one frame: every feature, numbers as arrays of the feature's shape (cast to its dtype), camera
        frames as ``uint8`` arrays ``(height, width, 3)``."""
        missing = sorted(set(self.features) - set(frame))
        extra = sorted(set(frame) - set(self.features))
        if missing or extra:
            raise ValueError(f"frame {len(self._frames)} of the episode: missing {missing}, unexpected {extra}")
        checked = {}
        for key, ft in self.features.items():
            is_image = ft["dtype"] in ("video", "image")
            value = np.asarray(frame[key], dtype=np.uint8 if is_image else ft["dtype"])
            if value.shape != tuple(ft["shape"]):
                raise ValueError(f"frame {len(self._frames)} of the episode: {key!r} has shape {value.shape}, the "
                                 f"dataset's is {tuple(ft['shape'])}")
            checked[key] = value
        self._frames.append(checked)

    def discard_episode(self) -> None:
        self._frames = []

    # ------------------------------------------------------------------ writing
    def save_episode(self, task: str) -> int:
        """Write the buffered frames as one episode with the task prompt ``task``; returns its episode index. On
        any error the dataset is left as it was and the frames are dropped."""
        if not self._frames:
            raise ValueError("no frames to save: add_frame() first")
        if not task:
            raise ValueError("an episode needs a task description")
        frames, self._frames = self._frames, []
        if read_info(self.root) is None:
            return self._create_with(frames, task)
        return self._append(frames, task)

    def _write(self, dataset, frames: list[dict], task: str) -> int:
        index = dataset.meta.total_episodes
        with SuppressProgressBars():
            for frame in frames:
                dataset.add_frame({**frame, "task": task})
            dataset.save_episode()
            dataset.finalize()
        return index

    def _create_with(self, frames: list[dict], task: str) -> int:
        staging = _staging_dir(self.root)
        shutil.rmtree(staging, ignore_errors=True)
        self.root.parent.mkdir(parents=True, exist_ok=True)
        dataset = None
        try:
            dataset = LeRobotDataset.create(self.repo_id, self.fps, self.features, root=staging,
                                            robot_type=self.robot_type, use_videos=self._has_video(),
                                            video_backend=_VIDEO_BACKEND)
            index = self._write(dataset, frames, task)
            os.replace(staging, self.root)  # atomic; replaces an empty folder too
        except BaseException:
            _close_quietly(dataset)
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return index

    def _append(self, frames: list[dict], task: str) -> int:
        journal = append_journal.AppendJournal.begin(self.root)
        dataset = None
        try:
            with _scratch_datasets_cache():
                dataset = LeRobotDataset.resume(self.repo_id, root=self.root, video_backend=_VIDEO_BACKEND)
                index = self._write(dataset, frames, task)
        except BaseException:
            _close_quietly(dataset)
            journal.rollback()
            raise
        journal.commit()
        return index

    def _has_video(self) -> bool:
        return any(ft["dtype"] == "video" for ft in self.features.values())


def _close_quietly(dataset) -> None:
    """After a failed write: close LeRobot's open files before their paths are deleted (else its finalizer may
    recreate them later). Errors here are dropped: the original one is what the caller sees."""
    if dataset is not None:
        with contextlib.suppress(Exception):
            dataset.finalize()


@contextlib.contextmanager
def _scratch_datasets_cache():
    """``resume()`` loads the episode index with ``datasets``, which keeps an Arrow copy per distinct file list in
    its cache: one resume per episode would leave one copy per episode (O(episodes^2) bytes) in the user's cache.
    Point ``datasets`` at a throwaway cache for the write instead."""
    import datasets.config

    saved = datasets.config.HF_DATASETS_CACHE
    with tempfile.TemporaryDirectory(prefix="roarm-lab-datasets-") as scratch:
        datasets.config.HF_DATASETS_CACHE = Path(scratch)
        try:
            yield
        finally:
            datasets.config.HF_DATASETS_CACHE = saved
