"""Perception against the twin's hidden truth: frames rendered by MuJoCo with the twin's camera (its pose and lens
known here, not to the code under test), the cube anywhere in the tasks' placement range; calibration from rendered
ChArUco and table-board frames; hand-eye from corners projected through a known camera. The goals in
benchmarks/camera_twin.py are tighter figures; these bounds only catch a broken pipeline."""

from __future__ import annotations

import math

import cv2
import mujoco
import numpy as np
import pytest

from roarm_lab import kinematics
from roarm_lab.emulator.twin.camera import CameraRenderer, CameraTruth, charuco_poses, draw_camera
from roarm_lab.emulator.twin.physics import build_twin_model
from roarm_lab.emulator.twin.truth import nominal_truth
from roarm_lab.perception import markers
from roarm_lab.perception.calibration import (
    CameraCalibration,
    CameraIntrinsics,
    board_extrinsics,
    calibrate_intrinsics,
    gripper_marker_in_link,
    hand_eye_from_corners,
    hand_eye_poses,
    pose_error,
)
from roarm_lab.perception.cube import CubeDetector, CubeObservation, CubeTracker
from roarm_lab.perception.errors import PerceptionError
from roarm_lab.sim_mujoco.scene import OBJECT_BODY
from roarm_lab.tasks import scene as task_scene


def truth_calibration(cam: CameraTruth) -> CameraCalibration:
    return CameraCalibration(CameraIntrinsics(cam.width, cam.height, cam.matrix(), np.zeros(5)),
                             cam.world_from_camera(), "truth")


@pytest.fixture(scope="module", params=[None, 3], ids=["nominal-camera", "camera-seed-3"])
def scene(request):
    cam = CameraTruth() if request.param is None else draw_camera(request.param)
    model = build_twin_model(nominal_truth(), 1000.0, cam, charuco=True, table_board=True)
    renderer = CameraRenderer(model, cam)
    yield cam, model, renderer
    renderer.close()


def cube_qpos(model, x, y, yaw, z=task_scene.CUBE_REST_Z):
    q = mujoco.MjData(model).qpos.copy()
    a = model.jnt_qposadr[model.body(OBJECT_BODY).jntadr[0]]
    q[a:a + 7] = [x, y, z, math.cos(yaw / 2), 0, 0, math.sin(yaw / 2)]
    return q


def jpeg(image):  # frames travel as JPEG, as the twin serves them
    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1], cv2.IMREAD_COLOR)


def test_the_cube_is_found_where_the_twin_put_it(scene):
    cam, model, renderer = scene
    detector = CubeDetector(truth_calibration(cam))
    rng = np.random.default_rng(1)
    pos_err, yaw_err = [], []
    for _ in range(12):
        r, az = rng.uniform(*task_scene.OBJECT_RADIUS_RANGE), rng.uniform(*task_scene.OBJECT_AZIMUTH_RANGE)
        yaw = rng.uniform(-math.pi / 4, math.pi / 4)
        x, y = r * math.cos(az), r * math.sin(az)
        obs = detector.detect(jpeg(renderer.render(cube_qpos(model, x, y, yaw))))
        assert obs is not None, (x, y, yaw)
        pos_err.append(np.linalg.norm(obs.position - [x, y, task_scene.CUBE_REST_Z]))
        yaw_err.append(abs((obs.yaw - yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4))
    assert max(pos_err) < 0.003 and math.degrees(max(yaw_err)) < 3.0, (pos_err, yaw_err)


def test_a_lifted_cube_is_found_off_the_table(scene):
    cam, model, renderer = scene
    detector = CubeDetector(truth_calibration(cam))
    obs = detector.detect(jpeg(renderer.render(cube_qpos(model, 0.22, 0.03, 0.2, z=0.10))))
    assert obs is not None and np.linalg.norm(obs.position - [0.22, 0.03, 0.10]) < 0.015


def test_no_cube_in_view_is_no_detection(scene):
    cam, model, renderer = scene
    detector = CubeDetector(truth_calibration(cam))
    assert detector.detect(renderer.render(cube_qpos(model, -0.3, 0.4, 0.0))) is None  # behind the arm, off view


def test_intrinsics_from_rendered_charuco_frames_match_the_render(scene):
    cam, model, renderer = scene
    q = mujoco.MjData(model).qpos.copy()
    frames = [jpeg(renderer.render(q, pose)) for pose in charuco_poses(cam, seed=0, count=14)]
    result = calibrate_intrinsics(frames)
    k = cam.matrix()
    assert result.matrix[0, 0] == pytest.approx(k[0, 0], rel=0.01)
    assert result.matrix[1, 1] == pytest.approx(k[1, 1], rel=0.01)
    assert abs(result.matrix[0, 2] - k[0, 2]) < 3 and abs(result.matrix[1, 2] - k[1, 2]) < 3
    assert result.rms_px < 0.5


def test_board_extrinsics_match_the_camera_truth(scene):
    cam, model, renderer = scene
    intr = truth_calibration(cam).intrinsics
    frame = jpeg(renderer.render(cube_qpos(model, -0.3, 0.4, 0.0)))  # the cube out of the way
    result = board_extrinsics([frame], intr)
    dt, dr = pose_error(result.world_from_camera, cam.world_from_camera())
    assert dt < 0.003 and dr < 0.5, (dt, dr)


def test_hand_eye_recovers_the_camera_and_the_marker_from_projected_corners():
    """The geometry of hand-eye, independent of rendering: corners of a marker on link5 projected through a known
    camera (with 0.2 px noise) at the joint poses hand_eye_poses gives."""
    cam = draw_camera(5)
    intr = truth_calibration(cam).intrinsics
    camera_from_world = np.linalg.inv(cam.world_from_camera())
    link_from_marker = np.eye(4)
    link_from_marker[:3, :3] = cv2.Rodrigues(np.array([-1.5, 0.2, 0.1]))[0] @ np.diag([1.0, -1.0, -1.0])
    link_from_marker[:3, 3] = (-0.004, 0.028, 0.033)
    rng = np.random.default_rng(0)
    world_from_link, corners = [], []
    for q in hand_eye_poses(16):
        wl = np.asarray(kinematics.link_frames(q)[4])
        camera_from_marker = camera_from_world @ wl @ link_from_marker
        if camera_from_marker[2, 2] > -0.2:
            continue  # the marker faces away: a camera would not see it
        pts = (camera_from_marker @ np.c_[gripper_marker_in_link(), np.ones(4)].T)[:3].T
        proj = cv2.projectPoints(pts, np.zeros(3), np.zeros(3), intr.matrix, None)[0].reshape(4, 2)
        world_from_link.append(wl)
        corners.append(proj + rng.normal(0, 0.2, proj.shape))
    assert len(corners) >= 8
    result = hand_eye_from_corners(world_from_link, corners, intr)
    dt, dr = pose_error(result.world_from_camera, cam.world_from_camera())
    assert dt < 0.003 and dr < 0.5, (dt, dr)
    found = np.asarray(result.details["link_from_marker"])
    assert np.linalg.norm(found[:3, 3] - link_from_marker[:3, 3]) < 0.003


def test_hand_eye_poses_stay_in_the_limits_and_above_the_table():
    from roarm_lab.driver.safety import WorkspaceBox, limit_violations

    poses = hand_eye_poses(16)
    assert len(poses) == 16
    for q in poses:
        assert not limit_violations(q)
        assert WorkspaceBox().contains(kinematics.tcp_position(q))


def test_a_calibration_of_another_size_or_a_broken_file_is_refused(tmp_path):
    cal = truth_calibration(CameraTruth())
    path = cal.save(tmp_path / "cam.json")
    loaded = CameraCalibration.load(path)
    assert np.allclose(loaded.world_from_camera, cal.world_from_camera)
    with pytest.raises(PerceptionError, match="1280x720 frames but the calibration is for 640x480"):
        loaded.check_size(1280, 720)
    with pytest.raises(PerceptionError, match="640x480"):
        CubeDetector(loaded).detect(np.zeros((720, 1280, 3), np.uint8))
    (tmp_path / "bad.json").write_text("{\"schema\": \"something else\"}")
    with pytest.raises(PerceptionError, match="not a camera calibration"):
        CameraCalibration.load(tmp_path / "bad.json")
    no_pose = CameraCalibration(cal.intrinsics).save(tmp_path / "lens.json")
    with pytest.raises(PerceptionError, match="no camera pose"):
        CubeDetector(CameraCalibration.load(no_pose))


def test_the_tracker_ignores_one_bad_frame_and_follows_a_confirmed_move():
    def obs(x):
        return CubeObservation(np.array([x, 0.0, 0.015]), np.eye(3), (0, 1), 0.3)

    t = CubeTracker()
    t.update(obs(0.20), 1.0)
    assert t.update(obs(0.30), 1.1).position[0] == pytest.approx(0.20)  # one frame 10 cm off: not believed
    assert t.update(obs(0.2), 1.2).frame_time == 1.2  # back where it was
    t.update(obs(0.30), 1.3)
    assert t.update(obs(0.301), 1.4).position[0] == pytest.approx(0.301)  # two frames agree: the cube moved
    assert t.estimate().age(2.0) == pytest.approx(0.6)


def test_marker_sheets_print_at_their_size():
    sheets = {s.name: s for s in markers.print_sheets(dpi=300)}
    face = sheets["cube_face_0"]
    assert face.image.shape[0] == round(0.030 / 0.0254 * 300)
    detector = cv2.aruco.ArucoDetector(markers.dictionary())
    padded = cv2.copyMakeBorder(sheets["table_board"].image, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    _, ids, _ = detector.detectMarkers(padded)
    assert sorted(ids.ravel().tolist()) == list(range(markers.TABLE_BOARD_FIRST_ID, markers.TABLE_BOARD_FIRST_ID + 6))


def test_a_cube_closed_in_the_jaws_moves_with_the_hand_until_they_open():
    from roarm_lab.perception.cube import CubeEstimate, CubeInHand
    from roarm_lab.tasks.pick_expert import GRIPPED_RANGE

    closed = float(np.mean(GRIPPED_RANGE))
    q = np.array([0.0, 0.5, 1.9, 0.7, 0.0, closed])
    grasp = np.asarray(kinematics.grasp_position(q))
    seen = CubeEstimate(grasp + [0.003, 0.0, 0.0], np.array([1.0, 0, 0, 0]), 0.0, 0.75, frame_time=1.0, markers=(0,))
    hand = CubeInHand()
    pose, _, source = hand.follow(q, seen, now=1.1, max_age_s=0.5)
    assert source == "camera" and hand.holding
    turned = q.copy()
    turned[0] = 0.4  # the base turns 0.4 rad: a held cube turns with it about the base axis
    pose, age, source = hand.follow(turned, seen, now=3.0, max_age_s=0.5)  # the camera's view is old: no matter
    c, s = math.cos(0.4), math.sin(0.4)
    assert source == "hand" and age == 0.0
    assert pose[:3, 3] == pytest.approx(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ seen.position, abs=1e-9)
    opened = turned.copy()
    opened[5] = GRIPPED_RANGE[1] + 0.3
    left, age, source = hand.follow(opened, seen, now=3.1, max_age_s=0.5)
    assert source == "released" and not hand.holding and left[:3, 3] == pytest.approx(pose[:3, 3])
    assert hand.follow(opened, seen, now=3.7, max_age_s=0.5) is None  # nobody has seen it for too long
    newer = CubeEstimate(np.array([0.3, 0.1, 0.015]), np.array([1.0, 0, 0, 0]), 0.0, 0.75, frame_time=3.65,
                         markers=(0, 1))
    pose, _, source = hand.follow(opened, newer, now=3.7, max_age_s=0.5)
    assert source == "camera" and pose[:3, 3] == pytest.approx(newer.position)
    empty = q.copy()
    empty[5] = GRIPPED_RANGE[0] - 0.15  # jaws shut on nothing: no hold, whatever the camera says
    hand = CubeInHand()
    assert hand.follow(empty, seen, now=1.1, max_age_s=0.5)[2] == "camera" and not hand.holding


def test_a_resting_cube_under_the_hand_stays_where_it_was_seen_for_a_while():
    from roarm_lab.perception.cube import COVERED_LIMIT_S, CubeEstimate, CubeInHand

    ik = kinematics.inverse_kinematics(np.array([0.22, 0.0, 0.02]), pitch=math.pi / 2)  # pointing straight down
    q = np.append(ik.q, 1.0)  # jaws open, the grasp point 1 cm above the centre of a cube under it
    grasp = np.asarray(kinematics.grasp_position(q))
    cube = np.array([grasp[0], grasp[1], task_scene.CUBE_REST_Z])
    assert 0.005 < grasp[2] - task_scene.CUBE_REST_Z < 0.02
    seen = CubeEstimate(cube, np.array([1.0, 0, 0, 0]), 0.0, 0.75, frame_time=0.0, markers=(1,))
    hand = CubeInHand()
    pose, age, source = hand.follow(q, seen, now=COVERED_LIMIT_S - 0.5, max_age_s=0.5)
    assert source == "covered" and pose[:3, 3] == pytest.approx(cube) and age == pytest.approx(COVERED_LIMIT_S - 0.5)
    assert hand.follow(q, seen, now=COVERED_LIMIT_S + 0.1, max_age_s=0.5) is None  # too long unseen
    high = np.append(kinematics.inverse_kinematics(np.array([0.22, 0.0, 0.12]), pitch=math.pi / 2).q, 1.0)
    assert hand.follow(high, seen, now=1.0, max_age_s=0.5)[2] == "covered"  # the hand 10 cm over it still covers it
    away = q.copy()
    away[0] = 0.5  # the hand elsewhere: the cube must be seen
    assert hand.follow(away, seen, now=1.0, max_age_s=0.5) is None
