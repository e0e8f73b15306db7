"""The twin camera's view as a test camera: a video file of its renders with the cube where the test puts it, and a
calibration file holding the camera's true lens and pose (the runner tests are about the runner, not the
calibration)."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import mujoco
import numpy as np

from roarm_lab.emulator.twin.camera import CameraRenderer, CameraTruth
from roarm_lab.emulator.twin.physics import build_twin_model
from roarm_lab.emulator.twin.truth import nominal_truth
from roarm_lab.perception.calibration import CameraCalibration, CameraIntrinsics
from roarm_lab.sim_mujoco.scene import OBJECT_BODY

CAM = CameraTruth()


def truth_calibration(path: Path, cam: CameraTruth = CAM) -> Path:
    return CameraCalibration(CameraIntrinsics(cam.width, cam.height, cam.matrix(), np.zeros(5)),
                             cam.world_from_camera(), "truth").save(path)


def cube_video(path: Path, cube, seconds: float, fps: float = 15.0) -> Path:
    """A video file of the twin camera's view with the cube at (x, y, yaw) on the table."""
    model = build_twin_model(nominal_truth(), 1000.0, CAM)
    renderer = CameraRenderer(model, CAM)
    q = mujoco.MjData(model).qpos.copy()
    a = model.jnt_qposadr[model.body(OBJECT_BODY).jntadr[0]]
    x, y, yaw = cube
    q[a:a + 7] = [x, y, 0.015, math.cos(yaw / 2), 0, 0, math.sin(yaw / 2)]
    frame = renderer.render(q)
    renderer.close()
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (CAM.width, CAM.height))
    for _ in range(int(seconds * fps)):
        out.write(frame)
    out.release()
    return path
