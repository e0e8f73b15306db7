"""Issue 17's perception figures on rendered twin frames with known truth (640x480, JPEG as the twin serves them):
cube position and yaw error over the tasks' placement range, calibration errors against the camera's truth, and
the detection time per frame on one core.

    MUJOCO_GL=egl python benchmarks/camera_twin.py [--frames 200] [--camera-seeds 0 1 2]

Goals: position p95 <= 5 mm, yaw p95 <= 3 deg, extrinsics <= 3 mm and <= 0.5 deg, detection p99 <= 15 ms.
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import cv2  # noqa: E402
import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from roarm_lab.emulator.twin.camera import CameraRenderer, CameraTruth, charuco_poses, draw_camera  # noqa: E402
from roarm_lab.emulator.twin.physics import build_twin_model  # noqa: E402
from roarm_lab.emulator.twin.truth import nominal_truth  # noqa: E402
from roarm_lab.perception.calibration import (  # noqa: E402
    CameraCalibration,
    HandEyeSample,
    board_extrinsics,
    calibrate_intrinsics,
    hand_eye_extrinsics,
    hand_eye_poses,
    pose_error,
)
from roarm_lab.perception.cube import CubeDetector  # noqa: E402
from roarm_lab.perception.errors import PerceptionError  # noqa: E402
from roarm_lab.sim_mujoco.scene import OBJECT_BODY  # noqa: E402
from roarm_lab.tasks import scene as task_scene  # noqa: E402


def jpeg(image):
    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1], cv2.IMREAD_COLOR)


def one_camera(cam: CameraTruth, frames: int, seed: int) -> None:
    model = build_twin_model(nominal_truth(), 1000.0, cam, charuco=True, table_board=True)
    renderer = CameraRenderer(model, cam)
    q0 = mujoco.MjData(model).qpos.copy()
    adr = model.jnt_qposadr[model.body(OBJECT_BODY).jntadr[0]]
    away = q0.copy()
    away[adr:adr + 3] = (-0.3, 0.4, 0.015)
    # calibration first, as a user would: the lens from the ChArUco board, then the pose from the table board
    intr = calibrate_intrinsics([jpeg(renderer.render(away, p)) for p in charuco_poses(cam, seed, 20)])
    k = cam.matrix()
    board = board_extrinsics([jpeg(renderer.render(away))], intr)
    bt, br = pose_error(board.world_from_camera, cam.world_from_camera())
    samples = []
    for q in hand_eye_poses(24):
        s = away.copy()
        s[:6] = q
        samples.append(HandEyeSample(q, jpeg(renderer.render(s))))
    try:
        he = hand_eye_extrinsics(samples, intr)
        ht, hr = pose_error(he.world_from_camera, cam.world_from_camera())
        hand_eye = f"{ht * 1000:.2f} mm, {hr:.3f} deg ({he.details['poses']} of 24 poses saw the marker)"
    except PerceptionError as e:
        hand_eye = f"failed: {e}"
    detector = CubeDetector(CameraCalibration(intr, board.world_from_camera, "board"))
    rng = np.random.default_rng(seed)
    shots = []  # rendered first: the software renderer's threads must not share the core with the detection
    for _ in range(frames):
        r, az = rng.uniform(*task_scene.OBJECT_RADIUS_RANGE), rng.uniform(*task_scene.OBJECT_AZIMUTH_RANGE)
        yaw = rng.uniform(-math.pi / 4, math.pi / 4)
        x, y = r * math.cos(az), r * math.sin(az)
        q = q0.copy()
        q[adr:adr + 7] = [x, y, task_scene.CUBE_REST_Z, math.cos(yaw / 2), 0, 0, math.sin(yaw / 2)]
        shots.append((x, y, yaw, jpeg(renderer.render(q))))
    renderer.close()
    time.sleep(0.5)
    pos, yaw_err, lat, missed = [], [], [], 0
    for x, y, yaw, frame in shots:
        t = time.perf_counter()
        obs = detector.detect(frame)
        lat.append(time.perf_counter() - t)
        if obs is None:
            missed += 1
            continue
        pos.append(np.linalg.norm(obs.position - [x, y, task_scene.CUBE_REST_Z]))
        yaw_err.append(abs(math.degrees((obs.yaw - yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4)))
    p50, p95 = np.percentile(pos, [50, 95]) * 1000
    print(f"camera {cam.position} fovy {cam.fovy_deg:.1f}:")
    print(f"  intrinsics: fx {intr.matrix[0, 0]:.1f} (truth {k[0, 0]:.1f}), cx {intr.matrix[0, 2]:.1f} "
          f"({k[0, 2]:.1f}), cy {intr.matrix[1, 2]:.1f} ({k[1, 2]:.1f}), RMS {intr.rms_px:.3f} px")
    print(f"  extrinsics: board {bt * 1000:.2f} mm, {br:.3f} deg; hand-eye {hand_eye}")
    print(f"  cube over {frames} frames (calibrated camera, not the truth): missed {missed}, position p50 {p50:.2f} "
          f"mm, p95 {p95:.2f} mm, yaw p95 {np.percentile(yaw_err, 95):.2f} deg; detection p50 "
          f"{np.percentile(lat, 50) * 1000:.1f} ms, p99 {np.percentile(lat, 99) * 1000:.1f} ms (one core)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=200)
    p.add_argument("--camera-seeds", type=int, nargs="*", default=[], help="drawn cameras besides the nominal one")
    a = p.parse_args()
    cv2.setNumThreads(1)
    one_camera(CameraTruth(), a.frames, 0)
    for s in a.camera_seeds:
        one_camera(draw_camera(s), a.frames, s)


if __name__ == "__main__":
    main()
