"""The twin's camera: a pinhole camera on a stand beside the table, rendered with MuJoCo offscreen, looking at the
arm, the cube (an ArUco marker on each face) and the table board; frames served as MJPEG over HTTP
(:mod:`.mjpeg`). Its pose and field of view are part of the hidden truth: the host calibrates them like a user.

For the intrinsics calibration the twin can also show a ChArUco board "held up" in front of the camera, a new pose
every :attr:`CameraTruth.charuco_hold_s` (a mocap body; it touches nothing).

Rendering uses ``MUJOCO_GL`` (``egl``: a GPU or Mesa's software EGL). The renderer lives in the thread that draws.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import mujoco
import numpy as np

from roarm_lab.emulator.errors import EmulatorError
from roarm_lab.perception import markers
from roarm_lab.spatial import homogeneous, matrix_to_quat_wxyz, rpy_matrix
from roarm_lab.tasks import scene as task_scene

CAMERA_NAME = "twin_camera"
CHARUCO_BODY = "charuco_board"
PLATE_HALF_THICKNESS = 0.0001  # m: printed paper
PLATE_LIFT = 0.0002  # m off the surface it is stuck on
#: the gripper marker's plate on link5: on the -y side of the hand's body (link5_gripper_body, centre
#: (-0.004, 0.004, 0.033), half-size (0.02, 0.023, 0.019)), the side a camera in front of the arm sees when the tool
#: points forward and down; right along +x, up along +z, facing -y
GRIPPER_PLATE = ((-0.004, -0.019 - PLATE_LIFT, 0.033), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
GRIPPER_PLATE_SIZE = markers.GRIPPER_MARKER_SIZE + 0.008
CUBE_TEXTURE_PX_PER_M = 8000  # 8 px per mm: sharper than the camera ever sees it


@dataclass(frozen=True)
class CameraTruth:
    """Where the twin's camera is and what it sees (world frame, m and degrees)."""

    position: tuple[float, float, float] = (0.482, 0.122, 0.385)  # 45 cm from lookat, 25 deg round, 50 deg up
    lookat: tuple[float, float, float] = (0.22, 0.0, 0.04)
    roll_deg: float = 0.0
    fovy_deg: float = 48.0
    width: int = 640
    height: int = 480
    fps: float = 15.0
    charuco_hold_s: float = 1.0

    def __post_init__(self) -> None:
        if not (10 <= self.fovy_deg <= 120 and self.width >= 64 and self.height >= 64 and self.fps > 0):
            raise EmulatorError(f"a camera needs fovy in 10..120 deg, at least 64x64 pixels and fps > 0: {self}")

    def world_from_camera(self) -> np.ndarray:
        """4x4 pose of the OpenCV camera frame (x right, y down, z along the view) in the world."""
        p, t = np.asarray(self.position, float), np.asarray(self.lookat, float)
        z = t - p
        z /= np.linalg.norm(z)
        x = np.cross(z, [0.0, 0.0, 1.0])
        if np.linalg.norm(x) < 1e-6:
            raise EmulatorError("the camera looks straight up or down: give a lookat off its vertical")
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        r = np.stack([x, y, z], axis=1) @ rpy_matrix((0.0, 0.0, math.radians(self.roll_deg)))
        return homogeneous(r, p)

    def matrix(self) -> np.ndarray:
        """The pinhole camera matrix of the render (square pixels, principal point at the image centre)."""
        f = (self.height / 2) / math.tan(math.radians(self.fovy_deg) / 2)
        return np.array([[f, 0, (self.width - 1) / 2], [0, f, (self.height - 1) / 2], [0, 0, 1.0]])

    def to_dict(self) -> dict:
        return {"position": list(self.position), "lookat": list(self.lookat), "roll_deg": self.roll_deg,
                "fovy_deg": self.fovy_deg, "width": self.width, "height": self.height, "fps": self.fps,
                "world_from_camera": self.world_from_camera().tolist(), "matrix": self.matrix().tolist()}


def draw_camera(seed: int, width: int = 640, height: int = 480, fps: float = 15.0) -> CameraTruth:
    """A camera placed as a user would, differently per seed: beyond the table's far end, 40-50 cm from the cubes'
    area, 40-60 degrees above it, a 44-54 degree lens, slightly rolled."""
    rng = random.Random(10_000 + seed)
    lookat = (0.22 + rng.uniform(-0.02, 0.02), rng.uniform(-0.02, 0.02), 0.04)
    az, el, dist = math.radians(rng.uniform(10, 40)), math.radians(rng.uniform(40, 60)), rng.uniform(0.4, 0.5)
    pos = (lookat[0] + dist * math.cos(el) * math.cos(az), lookat[1] + dist * math.cos(el) * math.sin(az),
           lookat[2] + dist * math.sin(el))
    return CameraTruth(pos, lookat, rng.uniform(-3, 3), rng.uniform(44, 54), width, height, fps)


def _add_plate(spec: mujoco.MjSpec, body: mujoco.MjsBody, name: str, image: np.ndarray, size: tuple[float, float],
               center, right, up) -> None:
    """A printed sheet: a thin box showing ``image`` (grey or RGB) on its +z side, ``right``/``up`` = the image's
    right and top. Massless and touching nothing."""
    rgb = np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image, np.uint8)
    tex = spec.add_texture(name=name, type=mujoco.mjtTexture.mjTEXTURE_2D, width=rgb.shape[1],
                           height=rgb.shape[0], nchannel=3)
    tex.data = rgb.tobytes()
    mat = spec.add_material(name=name)
    mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = name
    u, v = np.asarray(right, float), np.asarray(up, float)
    n = np.cross(u, v)
    quat = matrix_to_quat_wxyz(np.stack([u, v, n], axis=1))
    body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, size=[size[0] / 2, size[1] / 2, PLATE_HALF_THICKNESS],
                  pos=list(np.asarray(center, float)), quat=list(quat), material=name, contype=0, conaffinity=0,
                  mass=0.0, group=1)


def add_camera_scene(spec: mujoco.MjSpec, camera: CameraTruth, cube_body: str | None, charuco: bool = False,
                     table_board: bool = False, link: str = "link5") -> None:
    """Markers on the cube's faces, the gripper marker and the camera into the twin's scene; for a calibration
    session also the board a user holds up for the intrinsics (``charuco``) or the table board lying at its spot
    (``table_board``)."""
    if cube_body is not None:
        body = spec.body(cube_body)
        body.geoms[0].rgba = [0.95, 0.95, 0.95, 1.0]  # white cube, black markers
        face = round(markers.CUBE_MARKER_SIZE * CUBE_TEXTURE_PX_PER_M)
        margin = round((task_scene.CUBE_SIZE - markers.CUBE_MARKER_SIZE) / 2 * CUBE_TEXTURE_PX_PER_M)
        for marker_id, (n, u, v) in markers.CUBE_FACES.items():
            _add_plate(spec, body, f"cube_marker_{marker_id}", markers.marker_image(marker_id, face, margin),
                       (task_scene.CUBE_SIZE, task_scene.CUBE_SIZE), n * (task_scene.CUBE_SIZE / 2 + PLATE_LIFT), u, v)
    sheet = {s.name: s for s in markers.print_sheets(dpi=200)}
    if table_board:
        board = sheet["table_board"]
        pose = markers.planar_pose(*markers.TABLE_BOARD_POSE, z=PLATE_LIFT)
        _add_plate(spec, spec.worldbody, "table_board", board.image, (board.width_m, board.height_m), pose[:3, 3],
                   pose[:3, 0], pose[:3, 1])
    grip = sheet["gripper_marker"]
    center, right, up = GRIPPER_PLATE
    _add_plate(spec, spec.body(link), "gripper_marker", grip.image, (GRIPPER_PLATE_SIZE, GRIPPER_PLATE_SIZE), center,
               right, up)
    wfc = camera.world_from_camera()
    quat = matrix_to_quat_wxyz(wfc[:3, :3] @ np.diag([1.0, -1.0, -1.0]))  # MuJoCo cameras look along -z
    spec.worldbody.add_camera(name=CAMERA_NAME, pos=list(wfc[:3, 3]), quat=list(quat), fovy=camera.fovy_deg)
    if charuco:
        cols, rows = markers.CHARUCO_SQUARES
        body = spec.worldbody.add_body(name=CHARUCO_BODY, mocap=True, pos=[0.0, 0.0, -1.0])
        _add_plate(spec, body, "charuco", markers.charuco_image(80),
                   (cols * markers.CHARUCO_SQUARE_SIZE, rows * markers.CHARUCO_SQUARE_SIZE), (0, 0, 0), (1, 0, 0),
                   (0, 1, 0))
    vis = spec.visual
    vis.global_.offwidth, vis.global_.offheight = max(camera.width, 640), max(camera.height, 480)
    vis.headlight.ambient = [0.45, 0.45, 0.45]
    vis.headlight.diffuse = [0.55, 0.55, 0.55]
    vis.headlight.specular = [0.05, 0.05, 0.05]


def charuco_poses(camera: CameraTruth, seed: int, count: int = 64) -> list[np.ndarray]:
    """Board poses (4x4, world) a user might hold the ChArUco board in: 22-40 cm in front of the camera, anywhere in
    its view, tilted up to ~40 degrees, turned about its normal."""
    rng = random.Random(20_000 + seed)
    wfc = camera.world_from_camera()
    out = []
    tan_y = math.tan(math.radians(camera.fovy_deg) / 2)
    tan_x = tan_y * camera.width / camera.height
    for _ in range(count):
        d = rng.uniform(0.22, 0.4)
        cx, cy = rng.uniform(-0.35, 0.35) * tan_x * d, rng.uniform(-0.35, 0.35) * tan_y * d
        # the board faces the camera (its +z towards the camera: along the camera's -z), then tilts
        tilt_a, tilt_b, spin = (math.radians(rng.uniform(-40, 40)), math.radians(rng.uniform(-40, 40)),
                                math.radians(rng.uniform(-20, 20)))
        r = rpy_matrix((math.pi + tilt_a, 0.0, 0.0)) @ rpy_matrix((0.0, tilt_b, 0.0)) @ rpy_matrix((0.0, 0.0, spin))
        out.append(wfc @ homogeneous(r, (cx, cy, d)))
    return out


class CameraRenderer:
    """Renders the twin camera's view of a model state (BGR uint8). Make and use it in one thread."""

    def __init__(self, model: mujoco.MjModel, camera: CameraTruth):
        self.model, self.camera = model, camera
        self.data = mujoco.MjData(model)
        self._renderer = mujoco.Renderer(model, camera.height, camera.width)
        cid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, CHARUCO_BODY)
        self._mocap = int(model.body_mocapid[cid]) if cid >= 0 else None

    def render(self, qpos: np.ndarray, board_pose: np.ndarray | None = None) -> np.ndarray:
        self.data.qpos[:] = qpos
        if self._mocap is not None:
            if board_pose is None:
                self.data.mocap_pos[self._mocap] = (0.0, 0.0, -1.0)  # under the table
            else:
                self.data.mocap_pos[self._mocap] = board_pose[:3, 3]
                self.data.mocap_quat[self._mocap] = matrix_to_quat_wxyz(board_pose[:3, :3])
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_camlight(self.model, self.data)
        self._renderer.update_scene(self.data, CAMERA_NAME)
        return cv2.cvtColor(self._renderer.render(), cv2.COLOR_RGB2BGR)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


class TwinCamera:
    """Draws the twin's camera at its frame rate in a thread from snapshots of the physics (``snapshot()`` returns
    qpos) and hands each JPEG to ``publish(jpeg_bytes, capture_time)``."""

    def __init__(self, model: mujoco.MjModel, camera: CameraTruth, snapshot: Callable[[], np.ndarray],
                 publish: Callable[[bytes, float], None], charuco: bool = False, seed: int = 0,
                 jpeg_quality: int = 90, clock: Callable[[], float] = time.monotonic):
        self.model, self.camera = model, camera
        self._snapshot, self._publish, self._clock = snapshot, publish, clock
        self._board = charuco_poses(camera, seed) if charuco else None
        self._quality = jpeg_quality
        self._stop = threading.Event()
        self._ready = threading.Event()
        self.error: Exception | None = None
        self.frames = 0
        self.render_s = 0.0
        self._thread = threading.Thread(target=self._run, name="roarm-twin-camera", daemon=True)

    def start(self, timeout_s: float = 30.0) -> TwinCamera:
        self._thread.start()
        self._ready.wait(timeout_s)
        if self.error is not None:
            raise EmulatorError(f"the twin's camera cannot render (MUJOCO_GL=egl needs EGL, e.g. Mesa's): "
                                f"{self.error}") from self.error
        return self

    def board_pose(self, t: float) -> np.ndarray | None:
        if self._board is None:
            return None
        return self._board[int(t / self.camera.charuco_hold_s) % len(self._board)]

    def _run(self) -> None:
        try:
            renderer = CameraRenderer(self.model, self.camera)
        except Exception as e:  # noqa: BLE001 - reported by start()
            self.error = e
            self._ready.set()
            return
        self._ready.set()
        period, t0 = 1.0 / self.camera.fps, self._clock()
        next_t = t0
        try:
            while not self._stop.is_set():
                now = self._clock()
                if now < next_t:
                    self._stop.wait(next_t - now)
                    continue
                next_t = max(next_t + period, now)  # a slow frame delays the next, no catching up
                start = time.perf_counter()
                image = renderer.render(self._snapshot(), self.board_pose(now - t0))
                capture = self._clock()
                ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self._quality])
                self.render_s += time.perf_counter() - start
                if ok:
                    self.frames += 1
                    self._publish(jpeg.tobytes(), capture)
        finally:
            renderer.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
