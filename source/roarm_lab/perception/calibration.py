"""Camera calibration: the lens (intrinsics, from a ChArUco board shown in many poses) and the camera's pose in the
arm's world frame (extrinsics), by either of two methods:

* ``board``: the table board (:mod:`.markers`) lies at a known spot on the table; its markers' pose in the camera
  gives the camera's pose in the world. All frames' corners go into one pose fit (the camera and board are still).
* ``hand-eye``: a marker on the gripper is seen in several arm poses; with the gripper's pose from the arm's
  kinematics at the measured joints, the camera's pose in the world and the marker's pose on the gripper are fitted
  together (OpenCV's robot-world/hand-eye solution, then all corners' reprojection error minimized).

A calibration is saved as JSON (:data:`CALIBRATION_SCHEMA`): the image size it belongs to, the camera matrix and
distortion, the world-from-camera pose (OpenCV camera frame: x right, y down, z forward), with the method and its
residuals. Frames of another size are refused (:meth:`CameraCalibration.check_size`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from roarm_lab import kinematics
from roarm_lab.perception import markers
from roarm_lab.perception.errors import PerceptionError
from roarm_lab.spatial import homogeneous

CALIBRATION_SCHEMA = "roarm-lab/camera-calibration/1"
MIN_INTRINSIC_FRAMES = 8
MIN_CHARUCO_CORNERS = 8  # per frame: fewer pins down too little of the lens
MIN_HAND_EYE_POSES = 6
EXTRINSIC_METHODS = ("board", "hand-eye")
#: The link the gripper marker is fixed to (the hand with the fixed jaw) and its index in kinematics.link_frames.
GRIPPER_MARKER_LINK, _LINK5 = "link5", 4


def marker_detector() -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    # two thresholding window sizes (3 and 13 px) instead of OpenCV's three (3, 13, 23): a third less time, and
    # the markers this project looks for are 15-80 px across at 640x480
    params.adaptiveThreshWinSizeMax = 13
    return cv2.aruco.ArucoDetector(markers.dictionary(), params)


def to_gray(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def detect_markers(detector: cv2.aruco.ArucoDetector, frame: np.ndarray) -> dict[int, np.ndarray]:
    """id -> (4, 2) image corners of every marker found (a marker seen twice is ambiguous: left out)."""
    corners, ids, _ = detector.detectMarkers(to_gray(frame))
    if ids is None:
        return {}
    out: dict[int, np.ndarray] = {}
    seen: set[int] = set()
    for c, i in zip(corners, ids.ravel(), strict=True):
        i = int(i)
        if i in seen:
            out.pop(i, None)
        else:
            out[i] = c.reshape(4, 2).astype(np.float64)
        seen.add(i)
    return out


@dataclass(frozen=True)
class CameraIntrinsics:
    width: int
    height: int
    matrix: np.ndarray  # (3, 3)
    distortion: np.ndarray  # (k,) OpenCV's k1 k2 p1 p2 k3 ...
    rms_px: float | None = None  # the calibration's reprojection RMS
    frames: int | None = None

    def check_size(self, width: int, height: int) -> None:
        """PerceptionError unless frames of ``width`` x ``height`` are what these intrinsics were calibrated at."""
        if (width, height) != (self.width, self.height):
            raise PerceptionError(f"the camera gives {width}x{height} frames but the calibration is for "
                                  f"{self.width}x{self.height}: calibrate this camera at this size "
                                  "(calibrate_camera.py intrinsics, then extrinsics)")

    def to_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "matrix": np.asarray(self.matrix).tolist(),
                "distortion": np.asarray(self.distortion).ravel().tolist(), "rms_px": self.rms_px,
                "frames": self.frames}

    @classmethod
    def from_dict(cls, d: dict) -> CameraIntrinsics:
        m = np.asarray(d["matrix"], dtype=np.float64)
        if m.shape != (3, 3):
            raise ValueError(f"camera matrix must be 3x3, got {m.shape}")
        return cls(int(d["width"]), int(d["height"]), m, np.asarray(d["distortion"], dtype=np.float64),
                   d.get("rms_px"), d.get("frames"))


@dataclass(frozen=True)
class CameraCalibration:
    intrinsics: CameraIntrinsics
    world_from_camera: np.ndarray | None = None  # (4, 4); None until the extrinsics are calibrated
    method: str | None = None
    extrinsics_rms_px: float | None = None
    details: dict = field(default_factory=dict)  # what the method found besides (e.g. the gripper marker's pose)

    def check_size(self, width: int, height: int) -> None:
        self.intrinsics.check_size(width, height)

    def require_extrinsics(self) -> np.ndarray:
        if self.world_from_camera is None:
            raise PerceptionError("the calibration has no camera pose yet: run calibrate_camera.py extrinsics")
        return self.world_from_camera

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"schema": CALIBRATION_SCHEMA, "intrinsics": self.intrinsics.to_dict(),
               "world_from_camera": None if self.world_from_camera is None else self.world_from_camera.tolist(),
               "method": self.method, "extrinsics_rms_px": self.extrinsics_rms_px, "details": self.details}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
        tmp.replace(path)  # a failed write never leaves half a calibration
        return path

    @classmethod
    def load(cls, path: str | Path) -> CameraCalibration:
        try:
            doc = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise PerceptionError(f"cannot read the camera calibration {path}: {e}") from None
        if not isinstance(doc, dict) or doc.get("schema") != CALIBRATION_SCHEMA:
            raise PerceptionError(f"{path} is not a camera calibration (expected schema {CALIBRATION_SCHEMA})")
        try:
            pose = doc.get("world_from_camera")
            pose = None if pose is None else np.asarray(pose, dtype=np.float64)
            if pose is not None and pose.shape != (4, 4):
                raise ValueError(f"world_from_camera must be 4x4, got {pose.shape}")
            return cls(CameraIntrinsics.from_dict(doc["intrinsics"]), pose, doc.get("method"),
                       doc.get("extrinsics_rms_px"), doc.get("details") or {})
        except (KeyError, TypeError, ValueError) as e:
            raise PerceptionError(f"{path}: a broken camera calibration: {e}") from None


# ---------------------------------------------------------------------------------------------------------- poses


def pose_matrix(rvec, tvec) -> np.ndarray:
    """4x4 pose of OpenCV's rotation vector and translation."""
    return _rt(cv2.Rodrigues(np.asarray(rvec, dtype=np.float64).reshape(3))[0], tvec)


def invert(pose: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3] = pose[:3, :3].T
    out[:3, 3] = -pose[:3, :3].T @ pose[:3, 3]
    return out


def solve_pose(object_points: np.ndarray, image_points: np.ndarray, intrinsics: CameraIntrinsics,
               prefer_normal: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """The pose (4x4, camera from object) that projects ``object_points`` (N, 3) onto ``image_points`` (N, 2), and
    its reprojection RMS in pixels. A single planar square has two near-equal solutions (the flip ambiguity): with
    ``prefer_normal`` (the object-frame direction that should face the camera most) the one that does is taken."""
    obj = np.ascontiguousarray(object_points, dtype=np.float64).reshape(-1, 3)
    img = np.ascontiguousarray(image_points, dtype=np.float64).reshape(-1, 2)
    k, d = intrinsics.matrix, intrinsics.distortion
    if len(obj) < 4:
        raise PerceptionError(f"a pose needs at least 4 points, got {len(obj)}")
    candidates = []
    if len(obj) == 4:
        n, rvecs, tvecs, _ = cv2.solvePnPGeneric(obj, img, k, d, flags=cv2.SOLVEPNP_IPPE)
        candidates = list(zip(rvecs, tvecs, strict=True))
    else:
        ok, rvec, tvec = cv2.solvePnP(obj, img, k, d, flags=cv2.SOLVEPNP_SQPNP)
        if ok:
            candidates = [(rvec, tvec)]
    best, best_key = None, None
    for rvec, tvec in candidates:
        rvec, tvec = cv2.solvePnPRefineLM(obj, img, k, d, rvec.copy(), tvec.copy())
        proj, _ = cv2.projectPoints(obj, rvec, tvec, k, d)
        rms = float(np.sqrt(np.mean(np.sum((proj.reshape(-1, 2) - img) ** 2, axis=1))))
        pose = pose_matrix(rvec, tvec)
        if pose[2, 3] <= 0:
            continue  # behind the camera
        key = rms
        if prefer_normal is not None:  # facing the camera: the normal's z in the camera frame most negative
            key = float((pose[:3, :3] @ prefer_normal)[2])
        if best_key is None or key < best_key:
            best, best_key = (pose, rms), key
    if best is None:
        raise PerceptionError("no pose fits the markers' corners")
    return best


# ---------------------------------------------------------------------------------------------------------- intrinsics


def calibrate_intrinsics(frames: Iterable[np.ndarray], min_frames: int = MIN_INTRINSIC_FRAMES) -> CameraIntrinsics:
    """Intrinsics from frames of the ChArUco board (:func:`markers.charuco_board`) in varied poses."""
    board = markers.charuco_board()
    detector = cv2.aruco.CharucoDetector(board)
    obj_all, img_all, size, seen = [], [], None, 0
    for frame in frames:
        seen += 1
        h, w = frame.shape[:2]
        if size is not None and size != (w, h):
            raise PerceptionError(f"frames of two sizes: {size[0]}x{size[1]} and {w}x{h}")
        size = (w, h)
        corners, ids, _, _ = detector.detectBoard(to_gray(frame))
        if ids is None or len(ids) < MIN_CHARUCO_CORNERS:
            continue
        obj, img = board.matchImagePoints(corners, ids)
        obj_all.append(obj.astype(np.float32))
        img_all.append(img.astype(np.float32))
    if size is None:
        raise PerceptionError("no frames to calibrate from")
    if len(obj_all) < min_frames:
        raise PerceptionError(f"the ChArUco board ({markers.CHARUCO_SQUARES[0]}x{markers.CHARUCO_SQUARES[1]} "
                              f"squares, markers {markers.CHARUCO_FIRST_ID}+) was found with >= "
                              f"{MIN_CHARUCO_CORNERS} corners in {len(obj_all)} of {seen} frames; {min_frames} are "
                              "needed: show the whole board, at several angles and distances")
    rms, k, d, _, _ = cv2.calibrateCamera(obj_all, img_all, size, None, None)
    return CameraIntrinsics(size[0], size[1], k, d.ravel(), float(rms), len(obj_all))


# ---------------------------------------------------------------------------------------------------------- extrinsics


def board_extrinsics(frames: Sequence[np.ndarray], intrinsics: CameraIntrinsics,
                     board_pose=markers.TABLE_BOARD_POSE) -> CameraCalibration:
    """The camera's pose from the table board lying at ``board_pose`` (x, y, yaw; world frame) in still frames."""
    detector = marker_detector()
    layout = markers.table_board_layout()
    obj, img, used = [], [], 0
    for frame in frames:
        _check_frame(frame, intrinsics)
        found = {i: c for i, c in detect_markers(detector, frame).items() if i in layout}
        if found:
            used += 1
        for i, c in found.items():
            obj.append(markers.table_board_corners(i))
            img.append(c)
    if not obj:
        raise PerceptionError(f"the table board (markers {min(layout)}-{max(layout)}) is not in view in any of "
                              f"{len(frames)} frames: put it on the table where the camera sees all of it")
    n_markers = len(obj) / max(used, 1)
    camera_from_board, rms = solve_pose(np.concatenate(obj), np.concatenate(img), intrinsics,
                                        prefer_normal=np.array([0.0, 0.0, 1.0]))
    world_from_board = markers.planar_pose(*board_pose)
    return CameraCalibration(intrinsics, world_from_board @ invert(camera_from_board), "board", rms,
                             {"frames": used, "markers_per_frame": n_markers, "board_pose": list(board_pose)})


@dataclass(frozen=True)
class HandEyeSample:
    q_model: np.ndarray  # the six measured joints (model rad) the frame was taken at
    frame: np.ndarray


def gripper_marker_in_link() -> np.ndarray:
    """The gripper marker's corners in its own frame (centre at the origin, facing +z): what the camera fits."""
    return markers.square_corners(np.zeros(3), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]),
                                  markers.GRIPPER_MARKER_SIZE)


def hand_eye_extrinsics(samples: Sequence[HandEyeSample], intrinsics: CameraIntrinsics,
                        min_poses: int = MIN_HAND_EYE_POSES) -> CameraCalibration:
    """The camera's pose in the world (and the gripper marker's on the hand) from frames of the gripper marker at
    known joint angles."""
    detector = marker_detector()
    world_from_link, corners = [], []
    for s in samples:
        _check_frame(s.frame, intrinsics)
        c = detect_markers(detector, s.frame).get(markers.GRIPPER_MARKER_ID)
        if c is not None:
            world_from_link.append(np.asarray(kinematics.link_frames(np.asarray(s.q_model))[_LINK5]))
            corners.append(c)
    if len(corners) < min_poses:
        raise PerceptionError(f"the gripper marker (id {markers.GRIPPER_MARKER_ID}) was seen in {len(corners)} of "
                              f"{len(samples)} poses; {min_poses} are needed: check that it is on the hand and the "
                              "camera sees the arm's workspace")
    result = hand_eye_from_corners(world_from_link, corners, intrinsics)
    result.details["poses_tried"] = len(samples)
    return result


def hand_eye_from_corners(world_from_link: Sequence[np.ndarray], corners: Sequence[np.ndarray],
                          intrinsics: CameraIntrinsics) -> CameraCalibration:
    """Hand-eye from the gripper marker's image corners (4, 2) at known link5 poses (4x4, world)."""
    local = gripper_marker_in_link()
    camera_from_marker = [solve_pose(local, c, intrinsics, prefer_normal=np.array([0.0, 0.0, 1.0]))[0]
                          for c in corners]
    r_cm = [p[:3, :3] for p in camera_from_marker]
    t_cm = [p[:3, 3] for p in camera_from_marker]
    r_wl = [np.asarray(p)[:3, :3] for p in world_from_link]
    t_wl = [np.asarray(p)[:3, 3] for p in world_from_link]
    # OpenCV's A X = Z B with A = camera-from-target and B = gripper-from-base, here camera-from-marker and
    # world-from-link: camera_from_marker = camera_from_world @ world_from_link @ link_from_marker, so its "base to
    # world" output is marker_from_link and its "gripper to camera" output camera_from_world.
    r_ml, t_ml, r_cw, t_cw = cv2.calibrateRobotWorldHandEye(r_cm, t_cm, r_wl, t_wl)
    camera_from_world, link_from_marker, rms = _refine_hand_eye(
        _rt(r_cw, t_cw), invert(_rt(r_ml, t_ml)), list(world_from_link), list(corners), local, intrinsics)
    return CameraCalibration(intrinsics, invert(camera_from_world), "hand-eye", rms,
                             {"poses": len(corners), "link_from_marker": link_from_marker.tolist(),
                              "link": GRIPPER_MARKER_LINK})


def _rt(r, t) -> np.ndarray:
    """:func:`spatial.homogeneous` of OpenCV's (3, 1) translations too."""
    return homogeneous(np.asarray(r, dtype=np.float64), np.asarray(t, dtype=np.float64).reshape(3))


def _refine_hand_eye(camera_from_world, link_from_marker, world_from_link, image, local, intrinsics):
    """Both unknown poses fitted to every corner's reprojection (Levenberg-Marquardt over 12 parameters)."""
    from scipy.optimize import least_squares

    k, d = intrinsics.matrix, intrinsics.distortion
    pts = np.concatenate([local, np.ones((4, 1))], axis=1).T  # (4, 4) homogeneous marker corners
    obs = np.concatenate(image)

    def unpack(x):
        return _rt(cv2.Rodrigues(x[:3])[0], x[3:6]), _rt(cv2.Rodrigues(x[6:9])[0], x[9:12])

    def residual(x):
        cw, lm = unpack(x)
        out = []
        for wl in world_from_link:
            p = (cw @ wl @ lm @ pts)[:3].T
            proj, _ = cv2.projectPoints(p, np.zeros(3), np.zeros(3), k, d)
            out.append(proj.reshape(-1, 2))
        return (np.concatenate(out) - obs).ravel()

    x0 = np.concatenate([cv2.Rodrigues(camera_from_world[:3, :3])[0].ravel(), camera_from_world[:3, 3],
                         cv2.Rodrigues(link_from_marker[:3, :3])[0].ravel(), link_from_marker[:3, 3]])
    fit = least_squares(residual, x0, method="lm")
    cw, lm = unpack(fit.x)
    rms = float(np.sqrt(np.mean(fit.fun.reshape(-1, 2) ** 2 * 2)))
    return cw, lm, rms


def _check_frame(frame: np.ndarray, intrinsics: CameraIntrinsics) -> None:
    h, w = frame.shape[:2]
    intrinsics.check_size(w, h)


def pose_error(estimated: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(translation error m, rotation error deg) between two 4x4 poses."""
    dt = float(np.linalg.norm(estimated[:3, 3] - truth[:3, 3]))
    r = estimated[:3, :3].T @ truth[:3, :3]
    ang = math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(r) - 1) / 2))))
    return dt, ang


def hand_eye_poses(count: int = 16, gripper: float = 0.0, workspace=None) -> list[np.ndarray]:
    """Arm poses (six model joints) for hand-eye: the TCP 10-20 cm above the table over the cubes' area, the tool
    pitched 0.4-1.1 rad down and rolled either way, so the marker on the side of the hand faces a camera beside the
    table in many of them, from varied directions. Each pose and the joint-space path to it from the one before
    keeps the TCP in ``workspace`` (the runner's box by default) and the joints in the hardware-safe limits."""
    from roarm_lab.description.limits import HARDWARE_SAFE
    from roarm_lab.driver.safety import WorkspaceBox, limit_violations

    box = workspace or WorkspaceBox()
    rng = np.random.default_rng(7)
    out: list[np.ndarray] = []
    tries = 0
    while len(out) < count and tries < 50 * count:
        tries += 1
        r, az, z = rng.uniform(0.17, 0.27), rng.uniform(-0.5, 0.5), rng.uniform(0.10, 0.20)
        pitch, roll = rng.uniform(0.4, 1.1), rng.uniform(-1.2, 1.2)
        target = np.array([r * math.cos(az), r * math.sin(az), z])
        ik = kinematics.inverse_kinematics(target, pitch=pitch, roll=roll)
        if not ik.converged:
            continue
        q = np.append(np.asarray(ik.q, dtype=np.float64), gripper)
        if limit_violations(q, HARDWARE_SAFE):
            continue
        if out:
            path = out[-1] + np.linspace(0, 1, 21)[:, None] * (q - out[-1])
            if not np.all(box.contains(kinematics.tcp_position(path))):
                continue
        out.append(q)
    return out
