"""`play_real.py --record DIR`: each run on the arm becomes one episode of a LeRobot v3 dataset.

The frames are the run's logged control steps that used a reading and computed a command (``commanded``, or
``dry_run``, which a dry run prints instead of sending): ``observation.state`` the measured joints the policy saw,
``action`` the joint target after the safety layer (what was sent), both model rad under the follower plugin's
names (:mod:`.features`), at the policy's control rate. Object tasks add ``observation.environment_state``: the
cube the step used (the camera's estimate, or the fixed ``--object`` position at yaw 0) and the ``--target``
command, as sim demos record the cube and the target, so sim and real episodes of a task share their features.
With a camera the frame each step saw is stored too (``observation.images.camera``, a video). The episode is
written after the loop from the run's log (no dataset I/O inside the control loop);
:class:`~.episode_writer.EpisodeWriter` makes the write all-or-nothing, and the root is checked before the arm is
touched.
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
    camera_key,
    environment_state_values,
    recording_features,
)
from .episode_writer import EpisodeWriter

RUN_CAMERA = "camera"  # the camera's name in a real run's dataset (observation.images.camera)
#: The step statuses whose measured joints and command make a frame.
RECORDED_STATUSES = ("commanded", "dry_run")


def task_prompt(task: str) -> str:
    return TASK_PROMPTS.get(task, task)


def run_writer(root: str | Path, fps: float, has_object: bool, repo_id: str = REAL_RUN_REPO_ID,
               camera: tuple[int, int] | None = None) -> EpisodeWriter:
    """The writer for a run's episode (``camera``: its frames' (height, width)); raises (DatasetRootError,
    FeatureMismatchError, ValueError) when the root cannot take it, before anything is written."""
    if fps != int(fps):
        raise ValueError(f"LeRobot datasets need a whole fps; the policy runs at {fps:g} Hz")
    cameras = None if camera is None else {RUN_CAMERA: camera}
    return EpisodeWriter(root, repo_id, int(fps), recording_features(environment_state=has_object, cameras=cameras))


def record_run(writer: EpisodeWriter, steps: Sequence[Mapping], task: str, command: Sequence[float],
               frames_dir: Path | None = None) -> int | None:
    """Write the run's steps as one episode; returns its index, or None when no step made a frame. The cube is the
    one each step used (``object``: x, y, z, yaw); camera frames are read from ``frames_dir/<camera_frame>.jpg``."""
    image_key = camera_key(RUN_CAMERA)
    frames = 0
    for step in steps:
        if step.get("status") not in RECORDED_STATUSES or step.get("q") is None or step.get("command") is None:
            continue
        frame = {STATE: np.asarray(step["q"], dtype=np.float32), ACTION: np.asarray(step["command"], np.float32)}
        if ENVIRONMENT_STATE in writer.features:
            cube = step.get("object")
            if cube is None:
                raise ValueError(f"step {step.get('step')} has no cube pose for observation.environment_state")
            frame[ENVIRONMENT_STATE] = environment_state_values(cube[:3], command, cube_yaw=cube[3])
        if image_key in writer.features:
            frame[image_key] = _camera_frame(frames_dir, step.get("camera_frame"))
        writer.add_frame(frame)
        frames += 1
    if frames == 0:
        return None
    return writer.save_episode(task_prompt(task))


def _camera_frame(frames_dir: Path | None, seq: int | None) -> np.ndarray:
    import cv2

    path = None if frames_dir is None or seq is None else Path(frames_dir) / f"{seq}.jpg"
    image = None if path is None else cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"the camera frame of a step is missing ({path})")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
