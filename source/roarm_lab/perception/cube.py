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
from roarm_lab.spatial import homogeneous, matrix_to_quat_wxyz, quat_wxyz_to_matrix
from roarm_lab.tasks.scene import CUBE_REST_Z

#: a fit whose corners miss by more than this (px, RMS) is not the cube (a marker misread, a partial occlusion)
MAX_REPROJECTION_PX = 2.5
#: Every detection is also fitted as a cube resting upright on the table (x, y, yaw only): the table then fixes the
#: distance along the view, a single view's weakest direction. The resting fit is taken when it reprojects within
#: RESTING_RMS_PX, or no more than RESTING_RMS_SLACK_PX worse than the free fit: a cube in the air does not fit it.
RESTING_RMS_PX = 1.0
RESTING_RMS_SLACK_PX = 0.5
BELOW_TABLE_M = 0.01  # a fit that puts the cube's centre this far below its rest height is not believed
#: A resting cube under the hand is kept where it was last seen for at most this long without a sight of it
COVERED_LIMIT_S = 3.0
COVERED_REST_TOLERANCE_M = 0.01  # "resting": its centre within this of the rest height
COVERED_HEIGHT_M = 0.15  # "under the hand": the grasp point above it (within HELD_RADIUS across) up to this high


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
        limit = max(RESTING_RMS_PX, rms + RESTING_RMS_SLACK_PX)
        if pose[2, 3] < CUBE_REST_Z - BELOW_TABLE_M:
            pose, limit = None, RESTING_RMS_PX  # through the table: a misread, unless the resting fit explains it
        if self.resting_prior:
            rested = _fit_resting(obj, img, self.calibration.intrinsics, self.world_from_camera, pose)
            if rested is not None and rested[1] <= limit:
                pose, rms = rested
        if pose is None:
            return None
        return CubeObservation(pose[:3, 3].copy(), pose[:3, :3].copy(), ids, rms)


def _fit_resting(obj, img, intrinsics, world_from_camera, guess: np.ndarray | None = None):
    """The cube standing upright at rest height (x, y, yaw free) that best reprojects the corners: Gauss-Newton on
    the undistorted corners, started from the free fit ``guess`` when it stands upright near the table, else from
    four yaws at once with the position where the corners' ray meets the table; (pose, rms in px) or None."""
    import cv2

    k = intrinsics.matrix
    seen = cv2.undistortPoints(img.reshape(-1, 1, 2), k, intrinsics.distortion).reshape(-1, 2)  # normalized
    camera_from_world = np.linalg.inv(world_from_camera)
    centre = seen.mean(axis=0)
    ray = world_from_camera[:3, :3] @ np.array([centre[0], centre[1], 1.0])
    origin = world_from_camera[:3, 3]
    if abs(ray[2]) < 1e-9 or (CUBE_REST_Z - origin[2]) / ray[2] <= 0:
        return None
    start = origin + ray * (CUBE_REST_Z - origin[2]) / ray[2]
    rot, trans = camera_from_world[:3, :3], camera_from_world[:3, 3]
    scale = float(np.sqrt(k[0, 0] * k[1, 1]))  # normalized units -> pixels

    def residual(p):  # p (B, 3) -> (B, 2N) in normalized image units
        c, s = np.cos(p[:, 2]), np.sin(p[:, 2])
        wx = c[:, None] * obj[None, :, 0] - s[:, None] * obj[None, :, 1] + p[:, :1]
        wy = s[:, None] * obj[None, :, 0] + c[:, None] * obj[None, :, 1] + p[:, 1:2]
        wz = np.broadcast_to(obj[None, :, 2] + CUBE_REST_Z, wx.shape)
        world = np.stack([wx, wy, wz], axis=-1)  # (B, N, 3)
        cam = world @ rot.T + trans
        z = np.maximum(cam[..., 2], 1e-6)
        return np.concatenate([cam[..., 0] / z - seen[None, :, 0], cam[..., 1] / z - seen[None, :, 1]], axis=1)

    if guess is not None and guess[2, 2] > math.cos(math.radians(20)) and abs(guess[2, 3] - CUBE_REST_Z) < 0.02:
        p = np.array([[guess[0, 3], guess[1, 3], math.atan2(guess[1, 0], guess[0, 0])]])  # upright: its own yaw
    else:
        p = np.array([[start[0], start[1], yaw] for yaw in (0.0, math.pi / 2, math.pi, -math.pi / 2)])
    h = 1e-6
    for it in range(12):
        r = residual(p)
        if it == 3 and len(p) > 1:  # the starting yaws have found their basins: go on from the best one only
            keep = int(np.argmin(np.sum(r * r, axis=1)))
            p, r = p[keep:keep + 1], r[keep:keep + 1]
        jac = np.stack([(residual(p + h * np.eye(3)[a]) - r) / h for a in range(3)], axis=-1)  # (B, 2N, 3)
        jt = np.swapaxes(jac, 1, 2)
        step = -np.linalg.solve(jt @ jac + 1e-12 * np.eye(3), (jt @ r[..., None]))[..., 0]
        p = p + step
        if np.max(np.abs(step)) < 1e-7:
            break
    r = residual(p)
    best = int(np.argmin(np.sum(r * r, axis=1)))
    n = len(obj)
    rms = float(np.sqrt(np.mean(r[best, :n] ** 2 + r[best, n:] ** 2))) * scale
    x, y, yaw = p[best]
    c, s = math.cos(yaw), math.sin(yaw)
    pose = np.eye(4)
    pose[:2, :2] = [[c, -s], [s, c]]
    pose[:3, 3] = x, y, CUBE_REST_Z
    return pose, rms


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
                rotation = _blend_rotation(quat_wxyz_to_matrix(est.quat_wxyz), obs.rotation, cfg.blend)
            self._estimate = CubeEstimate(position, matrix_to_quat_wxyz(rotation), folded_yaw(rotation),
                                          obs.confidence, frame_time, obs.markers)
            return self._estimate

    def estimate(self) -> CubeEstimate | None:
        with self._lock:
            return self._estimate


def _blend_rotation(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """``a`` moved the fraction ``t`` of the way to ``b`` (about the axis of their relative rotation)."""
    import cv2

    rel = cv2.Rodrigues(a.T @ b)[0].ravel() * t
    return a @ cv2.Rodrigues(rel)[0]


class CubeInHand:
    """The cube while the hand covers it, when the camera can no longer see it (the hand comes down over it):

    * **covered**: a cube last seen resting on the table stays where it was seen while the hand is over it (the
      grasp point within ``HELD_RADIUS`` of it across, up to :data:`COVERED_HEIGHT_M` above it: a resting cube does
      not move by itself), for at most :data:`COVERED_LIMIT_S` without a sight of it;
    * **held**: from the moment the gripper closes on it (gripper joint in the tasks' ``GRIPPED_RANGE``, the cube
      between the jaws), the cube moves with the hand, at the pose relative to link5 it had then. Opening the jaws
      (or closing them on nothing) ends the hold; the cube then stays where the hand left it until the camera sees
      it in a newer frame, for at most the caller's maximum age, or while it is covered (put down on the table,
      the hand over it).

    :meth:`follow` gives ``(world_from_cube 4x4, age_s, source)`` with source ``camera``, ``covered``, ``hand`` or
    ``released``, or None when nothing knows where the cube is now.
    """

    def __init__(self) -> None:
        self._link_from_cube: np.ndarray | None = None
        self._released: tuple[np.ndarray, float] | None = None

    @property
    def holding(self) -> bool:
        return self._link_from_cube is not None

    def follow(self, q, estimate: CubeEstimate | None, now: float, max_age_s: float):
        from roarm_lab import kinematics
        from roarm_lab.tasks.pick_expert import GRIPPED_RANGE, HELD_RADIUS

        q = np.asarray(q, dtype=np.float64)
        frames = kinematics.link_frames(q)
        link = np.asarray(frames[4])
        grasp = np.asarray(kinematics.grasp_position_from_frames(frames))
        gripped = GRIPPED_RANGE[0] <= q[5] <= GRIPPED_RANGE[1]
        fresh = estimate is not None and estimate.age(now) <= max_age_s
        def under_hand(position: np.ndarray, age: float) -> bool:
            above = grasp - position
            return (age <= max(max_age_s, COVERED_LIMIT_S) and np.linalg.norm(above[:2]) <= HELD_RADIUS
                    and -HELD_RADIUS <= above[2] <= COVERED_HEIGHT_M
                    and abs(position[2] - CUBE_REST_Z) <= COVERED_REST_TOLERANCE_M)

        covered = estimate is not None and under_hand(estimate.position, estimate.age(now))
        if self._link_from_cube is not None:
            if gripped:
                return link @ self._link_from_cube, 0.0, "hand"
            self._released = (link @ self._link_from_cube, now)
            self._link_from_cube = None
        if gripped and (fresh or covered) and np.linalg.norm(estimate.position - grasp) <= HELD_RADIUS:
            world_from_cube = estimate_pose(estimate)
            self._link_from_cube = np.linalg.inv(link) @ world_from_cube
            self._released = None
            return world_from_cube, estimate.age(now), "camera" if fresh else "covered"
        if self._released is not None:
            pose, t = self._released
            if estimate is None or estimate.frame_time < t:
                if now - t <= max_age_s:
                    return pose, now - t, "released"
                # put down on the table with the hand still over it: covered, as a cube seen resting there
                return (pose, now - t, "covered") if under_hand(pose[:3, 3], now - t) else None
            self._released = None
        if fresh:
            return estimate_pose(estimate), estimate.age(now), "camera"
        if covered:
            return estimate_pose(estimate), estimate.age(now), "covered"
        return None


def estimate_pose(estimate: CubeEstimate) -> np.ndarray:
    return homogeneous(quat_wxyz_to_matrix(estimate.quat_wxyz), estimate.position)
