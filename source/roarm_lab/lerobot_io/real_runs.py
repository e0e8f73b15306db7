"""`play_real.py --record DIR`: each run on the arm becomes one episode of a LeRobot v3 dataset.

The frames are the run's logged control steps that used a reading and computed a command (``commanded``, or
``dry_run``, which a dry run prints instead of sending): ``observation.state`` the measured joints the policy saw,
``action`` the joint target after the safety layer (what was sent), both model rad under the follower plugin's
names (:mod:`.features`), at the policy's control rate. Object tasks add ``observation.environment_state``: the
fixed ``--object`` position (yaw 0) and the ``--target`` command, as sim demos record the cube and the target, so
sim and real episodes of a task share their features. The episode is written after the loop from the run's log (no
dataset I/O inside the control loop); :class:`~.episode_writer.EpisodeWriter` makes the write all-or-nothing, and
the root is checked before the arm is touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .dataset_features import (
    ACTION,
    ENVIRONMENT_STATE,
    REAL_RUN_REPO_ID,
    STATE,
    TASK_PROMPTS,
    environment_state_values,
    recording_features,
)
from .episode_writer import EpisodeWriter

#: The step statuses whose measured joints and command make a frame.
RECORDED_STATUSES = ("commanded", "dry_run")


def task_prompt(task: str) -> str:
    return TASK_PROMPTS.get(task, task)


def run_writer(root: str | Path, fps: float, has_object: bool, repo_id: str = REAL_RUN_REPO_ID) -> EpisodeWriter:
    """The writer for a run's episode; raises (DatasetRootError, FeatureMismatchError, ValueError) when the root
    cannot take it, before anything is written."""
    if fps != int(fps):
        raise ValueError(f"LeRobot datasets need a whole fps; the policy runs at {fps:g} Hz")
    return EpisodeWriter(root, repo_id, int(fps), recording_features(environment_state=has_object))


def record_run(writer: EpisodeWriter, steps: Sequence[Mapping], task: str, command: Sequence[float],
               object_pos: Sequence[float] | None) -> int | None:
    """Write the run's steps as one episode; returns its index, or None when no step made a frame."""
    # play_real.py's fixed cube has yaw 0 (control_loop.FIXED_OBJECT_QUAT)
    environment = None if object_pos is None else environment_state_values(object_pos, command, cube_yaw=0.0)
    frames = 0
    for step in steps:
        if step.get("status") not in RECORDED_STATUSES or step.get("q") is None or step.get("command") is None:
            continue
        frame = {STATE: np.asarray(step["q"], dtype=np.float32), ACTION: np.asarray(step["command"], np.float32)}
        if ENVIRONMENT_STATE in writer.features:
            frame[ENVIRONMENT_STATE] = environment
        writer.add_frame(frame)
        frames += 1
    if frames == 0:
        return None
    return writer.save_episode(task_prompt(task))
