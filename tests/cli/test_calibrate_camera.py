"""scripts/calibrate_camera.py on video files of the twin camera's renders (its truth known here): the lens from
ChArUco frames, the pose from the table board, and the refusals that write nothing."""

from __future__ import annotations

import json

import cv2
import mujoco
import numpy as np
import pytest

from roarm_lab.cli.calibrate_camera import main as calibrate
from roarm_lab.emulator.twin.camera import CameraRenderer, CameraTruth, charuco_poses
from roarm_lab.emulator.twin.physics import build_twin_model
from roarm_lab.emulator.twin.truth import nominal_truth
from roarm_lab.perception import markers
from roarm_lab.perception.calibration import CameraCalibration, CameraIntrinsics, pose_error

CAM = CameraTruth()


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """charuco.avi (the board held up in 14 poses), board.avi (the table board), empty.avi (neither)."""
    d = tmp_path_factory.mktemp("videos")
    model = build_twin_model(nominal_truth(), 1000.0, CAM, charuco=True, table_board=True)
    plain = build_twin_model(nominal_truth(), 1000.0, CAM)
    out = {}
    for name, m, poses in (("charuco", model, charuco_poses(CAM, 1, 14)), ("board", model, [None] * 6),
                           ("empty", plain, [None] * 6)):
        r = CameraRenderer(m, CAM)
        q = mujoco.MjData(m).qpos.copy()
        writer = cv2.VideoWriter(str(d / f"{name}.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (CAM.width,
                                                                                                  CAM.height))
        for pose in poses:
            frame = r.render(q, pose)
            for _ in range(3):
                writer.write(frame)
        writer.release()
        r.close()
        out[name] = d / f"{name}.avi"
    return out


def test_intrinsics_then_board_extrinsics_from_video(videos, tmp_path, capsys):
    cal = tmp_path / "camera.json"
    assert calibrate(["intrinsics", "--camera", str(videos["charuco"]), "--out", str(cal), "--frames", "10",
                      "--interval", "0.05"]) == 0
    lens = CameraCalibration.load(cal)
    assert lens.world_from_camera is None
    assert lens.intrinsics.matrix[0, 0] == pytest.approx(CAM.matrix()[0, 0], rel=0.01)
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(CAM.to_dict()))
    assert calibrate(["extrinsics", "--camera", str(videos["board"]), "--calib", str(cal), "--frames", "4"]) == 0
    dt, dr = pose_error(CameraCalibration.load(cal).world_from_camera, CAM.world_from_camera())
    assert dt < 0.003 and dr < 0.5
    assert "camera pose by board" in capsys.readouterr().out


def test_no_board_in_view_is_a_clear_error_and_writes_nothing(videos, tmp_path, capsys):
    cal = tmp_path / "camera.json"
    assert calibrate(["intrinsics", "--camera", str(videos["empty"]), "--out", str(cal), "--frames", "4",
                      "--interval", "0.05", "--timeout", "5"]) == 2
    assert "ChArUco board" in capsys.readouterr().err and not cal.exists()
    CameraCalibration(CameraIntrinsics(CAM.width, CAM.height, CAM.matrix(), np.zeros(5))).save(cal)  # lens only
    before = cal.read_text()
    assert calibrate(["extrinsics", "--camera", str(videos["empty"]), "--calib", str(cal), "--frames", "4"]) == 2
    assert "table board (markers 6-11) is not in view" in capsys.readouterr().err
    assert cal.read_text() == before


def test_printed_sheets_carry_the_markers(tmp_path):
    assert calibrate(["print", "--out", str(tmp_path), "--dpi", "200"]) == 0
    detector = cv2.aruco.ArucoDetector(markers.dictionary())
    for i in markers.CUBE_FACES:
        (path,) = tmp_path.glob(f"cube_face_{i}_30x30mm_*.png")
        image = cv2.copyMakeBorder(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), 20, 20, 20, 20,
                                   cv2.BORDER_CONSTANT, value=255)
        _, ids, _ = detector.detectMarkers(image)
        assert ids is not None and ids.ravel().tolist() == [i]
