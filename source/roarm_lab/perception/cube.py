"""The cube's pose from a camera frame, and over frames.

:class:`CubeDetector` finds the cube's face markers (:data:`markers.CUBE_FACES`) in one frame and fits the cube's
pose to all their corners at once (two or three faces pin the pose down far better than one), then moves it into the
world frame with the calibration. :class:`CubeTracker` keeps the newest estimate, smoothed over frames: a small
change is blended in (exponential smoothing, :attr:`TrackerConfig.blend`), a jump larger than
:attr:`TrackerConfig.jump_m` is believed only when the next frame confirms it (one bad frame does not move the
cube). An estimate carries the frame's capture time, so its age is known wherever it is used, and a confidence in
[0, 1] from the number of faces seen and the corners' reprojection error.

The tasks encode the cube's yaw modulo 90 degrees (a cube looks the same turned by a quarter turn); the estimate
gives the full rotation (the markers tell the faces apart) and its yaw folded into [-45, 45) degrees.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from roarm_lab.perception import markers
from roarm_lab.perception.calibration import (
    CameraCalibration,
    detect_markers,
    marker_detector,
    solve_pose,
)
from roarm_lab.spatial import matrix_to_quat_wxyz
from roarm_lab.tasks.scene import CUBE_REST_Z

#: a fit whose corners miss by more than this (px, RMS) is not the cube (a marker misread, a partial occlusion)
MAX_REPROJECTION_PX = 2.5
#: A cube whose free fit lies within these of resting upright on the table is refitted resting there (x, y, yaw
#: only): the distance along the view, the free fit's weakest direction, is then fixed by the table.
REST_HEIGHT_TOLERANCE_M = 0.02
REST_TILT_TOLERANCE_DEG = 20.0
RESTING_RMS_SLACK_PX = 0.5  # the resting fit is kept unless it reprojects this much worse than the free one


def folded_yaw(rotation: np.ndarray) -> float:
    """The yaw (rad) of a cube with this world rotation, modulo a quarter turn, in [-pi/4, pi/4): the heading of a
    horizontal edge, whichever face is up."""
    up = int(np.argmax(np.abs(rotation[2, :])))  # the cube axis nearest the world's vertical
    edge = rotation[:, (up + 1) % 3]
    yaw = math.atan2(edge[1], edge[0])
    return (yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4


def yaw_quat_wxyz(yaw: float) -> np.ndarray:
    return np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])


@dataclass(frozen=True)
class CubeObservation:
    """The cube in one frame (world frame)."""

    position: np.ndarray  # (3,) m, the cube's centre
    rotation: np.ndarray  # (3, 3)
    markers: tuple[int, ...]  # the faces seen
    rms_px: float

    @property
    def yaw(self) -> float:
        return folded_yaw(self.rotation)

    @property
    def confidence(self) -> float:
        """1 - 0.5^faces, times a penalty for reprojection error: one face 0.5, two 0.75, three 0.875."""
        return (1.0 - 0.5 ** len(self.markers)) * math.exp(-((self.rms_px / MAX_REPROJECTION_PX) ** 2))


class CubeDetector:
    """Detects the cube in frames of one calibrated camera (the calibration must have its extrinsics)."""

    def __init__(self, calibration: CameraCalibration, resting_prior: bool = True):
        self.calibration = calibration
        self.resting_prior = resting_prior
        self.world_from_camera = calibration.require_extrinsics()
        self._detector = marker_detector()

    def detect(self, frame: np.ndarray) -> CubeObservation | None:
        """The cube in ``frame`` (BGR or grey), or None when no face marker is found or the fit is poor."""
        h, w = frame.shape[:2]
        self.calibration.check_size(w, h)
        found = {i: c for i, c in detect_markers(self._detector, frame).items() if i in markers.CUBE_FACES}
        if not found:
            return None
        ids = tuple(sorted(found))
        obj = np.concatenate([markers.cube_marker_corners(i) for i in ids])
        img = np.concatenate([found[i] for i in ids])
        # one face: of its two mirror-image fits, the one whose face looks at the camera
        prefer = markers.CUBE_FACES[ids[0]][0] if len(ids) == 1 else None
        camera_from_cube, rms = solve_pose(obj, img, self.calibration.intrinsics, prefer_normal=prefer)
        if rms > MAX_REPROJECTION_PX:
            return None
        pose = self.world_from_camera @ camera_from_cube
        if self.resting_prior and _near_rest(pose):
            rested = _fit_resting(pose, obj, img, self.calibration.intrinsics, self.world_from_camera)
            if rested is not None and rested[1] <= rms + RESTING_RMS_SLACK_PX:
                pose, rms = rested
        return CubeObservation(pose[:3, 3].copy(), pose[:3, :3].copy(), ids, rms)


def _near_rest(world_from_cube: np.ndarray) -> bool:
    up = np.max(np.abs(world_from_cube[2, :3]))  # cos of the tilt of the axis nearest the vertical
    return (abs(world_from_cube[2, 3] - CUBE_REST_Z) < REST_HEIGHT_TOLERANCE_M
            and up > math.cos(math.radians(REST_TILT_TOLERANCE_DEG)))


def _fit_resting(world_from_cube, obj, img, intrinsics, world_from_camera):
    """The cube upright at rest height (x, y, yaw free) that best reprojects the corners; (pose, rms) or None."""
    import cv2
    from scipy.optimize import least_squares

    r = world_from_cube[:3, :3]
    up = int(np.argmax(np.abs(r[2, :])))
    v, w = r[:, up], np.array([0.0, 0.0, np.sign(r[2, up])])
    axis = np.cross(v, w)
    angle = math.atan2(np.linalg.norm(axis), float(v @ w))
    # the smallest turn that stands the cube's axis ``up`` vertical; then only the yaw is left to fit
    level = cv2.Rodrigues(axis / (np.linalg.norm(axis) or 1.0) * angle)[0] @ r
    camera_from_world = np.linalg.inv(world_from_camera)
    k, d = intrinsics.matrix, intrinsics.distortion

    def pose(p):
        c, s = math.cos(p[2]), math.sin(p[2])
        m = np.eye(4)
        m[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ level
        m[:3, 3] = p[0], p[1], CUBE_REST_Z
        return m

    def residual(p):
        cam = camera_from_world @ pose(p)
        proj, _ = cv2.projectPoints(obj, cv2.Rodrigues(cam[:3, :3])[0], cam[:3, 3], k, d)
        return (proj.reshape(-1, 2) - img).ravel()

    fit = least_squares(residual, [world_from_cube[0, 3], world_from_cube[1, 3], 0.0], method="lm")
    if not fit.success:
        return None
    rms = float(np.sqrt(np.mean(np.sum(fit.fun.reshape(-1, 2) ** 2, axis=1))))
    return pose(fit.x), rms


@dataclass(frozen=True)
class TrackerConfig:
    blend: float = 0.6  # weight of a new observation that agrees with the estimate
    jump_m: float = 0.03  # a larger move is believed when the next frame confirms it ...
    confirm_m: float = 0.01  # ... within this distance


@dataclass(frozen=True)
class CubeEstimate:
    position: np.ndarray  # (3,) m, world
    quat_wxyz: np.ndarray  # (4,) the full measured rotation
    yaw: float  # rad, folded into [-pi/4, pi/4)
    confidence: float
    frame_time: float  # the capture time of the newest frame that saw the cube (the tracker's clock)
    markers: tuple[int, ...]

    def age(self, now: float) -> float:
        return now - self.frame_time


class CubeTracker:
    """The newest cube estimate over frames; thread-safe (a camera thread updates, the control loop reads)."""

    def __init__(self, config: TrackerConfig = TrackerConfig()):
        self.config = config
        self._lock = threading.Lock()
        self._estimate: CubeEstimate | None = None
        self._pending: CubeObservation | None = None
        self.rejected_jumps = 0

    def update(self, obs: CubeObservation | None, frame_time: float) -> CubeEstimate | None:
        with self._lock:
            if obs is None:
                return self._estimate
            est, cfg = self._estimate, self.config
            if est is not None and np.linalg.norm(obs.position - est.position) > cfg.jump_m:
                pending, self._pending = self._pending, obs
                if pending is None or np.linalg.norm(obs.position - pending.position) > cfg.confirm_m:
                    self.rejected_jumps += 1
                    return est  # wait for the next frame to confirm the jump
                est = None  # confirmed: start again from this observation
            self._pending = None
            if est is None:
                position, rotation = obs.position, obs.rotation
            else:
                position = est.position + cfg.blend * (obs.position - est.position)
                rotation = _blend_rotation(_quat_matrix(est.quat_wxyz), obs.rotation, cfg.blend)
            self._estimate = CubeEstimate(position, matrix_to_quat_wxyz(rotation), folded_yaw(rotation),
                                          obs.confidence, frame_time, obs.markers)
            return self._estimate

    def estimate(self) -> CubeEstimate | None:
        with self._lock:
            return self._estimate

    def reset(self) -> None:
        with self._lock:
            self._estimate, self._pending = None, None


def _quat_matrix(q: np.ndarray) -> np.ndarray:
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def _blend_rotation(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """``a`` moved the fraction ``t`` of the way to ``b`` (about the axis of their relative rotation)."""
    import cv2

    rel = cv2.Rodrigues(a.T @ b)[0].ravel() * t
    return a @ cv2.Rodrigues(rel)[0]
