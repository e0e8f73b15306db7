"""Where the cube is, each control step, for the object tasks: a fixed ``--object`` position, or a calibrated camera
(``--camera SRC --camera-calib FILE``) that finds the cube's markers in every frame.

A camera estimate older than ``max_age_s`` (the cube hidden, the camera stalled) raises :class:`CubeLostError`
before the step computes anything: the run holds the arm and stops; no motion is ever made on a stale pose.
With ``frames_dir`` every camera frame is kept as ``<frames_dir>/<seq>.jpg`` (written in the camera's thread) and
each step names the frame it used, so ``--record`` can store the images.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from roarm_lab.perception.cube import CubeInHand, estimate_pose, folded_yaw, yaw_quat_wxyz
from roarm_lab.runner.errors import RunnerError
from roarm_lab.spatial import matrix_to_quat_wxyz

DEFAULT_MAX_AGE_S = 0.5
FIRST_SIGHT_TIMEOUT_S = 3.0


class CubeLostError(RunnerError):
    """The camera has not seen the cube for longer than allowed (or stopped giving frames)."""


@dataclass(frozen=True)
class ObjectPose:
    position: np.ndarray  # (3,) m, world
    quat_wxyz: np.ndarray  # (4,)
    yaw: float  # rad, folded into [-pi/4, pi/4) for a camera estimate; 0 for a fixed position
    age_s: float = 0.0  # of the frame it came from
    frame_seq: int | None = None  # the newest camera frame at the step (for recording)
    source: str = "fixed"  # fixed, camera, hand (moving with the jaws that hold it) or released


class FixedObject:
    """``--object X Y Z``: a cube that never moves (turned ``yaw`` rad about z; default 0)."""

    def __init__(self, position, yaw: float = 0.0):
        self.pose_ = ObjectPose(np.asarray(position, dtype=np.float64), yaw_quat_wxyz(yaw), yaw)

    def pose(self, now: float, q=None) -> ObjectPose:
        return self.pose_

    def stats(self) -> dict:
        return {"source": "fixed", "position": self.pose_.position.tolist()}

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class CameraOptions:
    source: str  # device index, video file or URL
    calibration: Path
    max_age_s: float = DEFAULT_MAX_AGE_S
    fps: float | None = None  # pace a video file at this rate (default: the file's)


class CameraObject:
    """The cube from a calibrated camera (:class:`~roarm_lab.perception.source.CubeCamera`)."""

    def __init__(self, options: CameraOptions, frames_dir: Path | None = None,
                 clock: Callable[[], float] = time.monotonic):
        from roarm_lab.perception.calibration import CameraCalibration
        from roarm_lab.perception.source import CubeCamera

        if not options.max_age_s > 0:
            raise ValueError(f"the cube's maximum age must be > 0 s, got {options.max_age_s}")
        self.options, self._clock = options, clock
        self.camera = CubeCamera(options.source, CameraCalibration.load(options.calibration), options.fps)
        self.hand = CubeInHand()
        self.sources: dict[str, int] = {}
        self._frames_dir = frames_dir
        if frames_dir is not None:
            frames_dir.mkdir(parents=True, exist_ok=True)
            self.camera.source.on_frame(self._keep)

    def _keep(self, frame) -> None:
        import cv2

        cv2.imwrite(str(self._frames_dir / f"{frame.seq}.jpg"), frame.image, [cv2.IMWRITE_JPEG_QUALITY, 90])

    def wait_for_cube(self, timeout_s: float = FIRST_SIGHT_TIMEOUT_S) -> ObjectPose:
        """The first sight of the cube; CubeLostError when it does not come within ``timeout_s``."""
        deadline = self._clock() + timeout_s
        while True:
            try:
                return self.pose(self._clock())
            except CubeLostError:
                if self._clock() >= deadline:
                    raise CubeLostError(f"the camera ({self.options.source}) does not see the cube: put it where the "
                                        f"camera sees at least one of its faces' markers (ids 0-5)") from None
                time.sleep(0.05)

    def pose(self, now: float, q=None) -> ObjectPose:
        """The cube now; with the measured joints ``q`` a cube held in the jaws moves with the hand
        (:class:`~roarm_lab.perception.cube.CubeInHand`)."""
        cam = self.camera
        if cam.error is not None:
            raise CubeLostError(f"the camera stopped: {cam.error}")
        est = cam.estimate()
        limit = self.options.max_age_s
        if q is None:
            found = None if est is None or est.age(now) > limit else (estimate_pose(est), est.age(now), "camera")
        else:
            found = self.hand.follow(q, est, now, limit)
        if found is None:
            seen = "never" if est is None else f"{est.age(now):.2f} s ago"
            raise CubeLostError(f"the camera last saw the cube {seen} (limit {limit:g} s"
                                + (", the camera gives no frames" if cam.source.ended else "") + ")")
        pose, age, source = found
        self.sources[source] = self.sources.get(source, 0) + 1
        newest = cam.newest_frame()
        return ObjectPose(pose[:3, 3].copy(), matrix_to_quat_wxyz(pose[:3, :3]), folded_yaw(pose[:3, :3]), age,
                          None if newest is None else newest.seq, source)

    def stats(self) -> dict:
        cam = self.camera
        lat = np.asarray(cam.latencies_s) * 1000
        est = cam.estimate()
        return {"source": str(self.options.source), "frames": cam.frames, "frames_with_cube": cam.detections,
                "detection_ms_p50": float(np.percentile(lat, 50)) if lat.size else None,
                "detection_ms_p99": float(np.percentile(lat, 99)) if lat.size else None,
                "rejected_jumps": cam.tracker.rejected_jumps, "steps_by_source": dict(self.sources),
                "last_cube": None if est is None else {"position": est.position.tolist(),
                                                        "yaw_deg": math.degrees(est.yaw),
                                                        "confidence": est.confidence}}

    def close(self) -> None:
        self.camera.close()
