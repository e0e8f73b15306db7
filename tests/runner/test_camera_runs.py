"""play_real.py with a camera that finds the cube (--camera SRC --camera-calib FILE): the pose each step used comes
from the camera, a cube that is not seen holds the arm and stops the run (no step moves on a stale pose), and bad
camera input is refused before the port is opened. The frames are the twin camera's renders (its truth known here):
a video file of them, or the twin itself serving MJPEG over HTTP."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from camera_frames import CAM, cube_video, truth_calibration
from emulated_arm import summary_of

from roarm_lab.cli.play_real import main as play_real
from roarm_lab.deploy.export import export_policy_package
from roarm_lab.emulator import Emulator, EmulatorConfig
from roarm_lab.emulator.twin.camera import CameraTruth
from roarm_lab.emulator.twin.settings import TwinConfig
from roarm_lab.perception.calibration import CameraCalibration, CameraIntrinsics
from roarm_lab.runner.run_log import read_steps
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.training.policy import runner_cfg

pytestmark = pytest.mark.pty
CUBE = (0.22, 0.04, 0.3)
TARGET = ("--target", "0.22", "0.04", "0.12")


def untrained(task: str, out):
    from rsl_rl.runners import OnPolicyRunner

    torch.manual_seed(0)
    runner = OnPolicyRunner(MujocoTaskEnv(task, 1, nthread=1), runner_cfg(task).to_dict(), log_dir=None)
    return export_policy_package(runner.get_inference_policy("cpu"), task, out)


@pytest.fixture(scope="module")
def lift_package(tmp_path_factory):
    return untrained("RoArm-Lift", tmp_path_factory.mktemp("lift") / "lift.onnx")


@pytest.fixture(scope="module")
def pickplace_package(tmp_path_factory):
    return untrained("RoArm-PickPlace", tmp_path_factory.mktemp("pickplace") / "pickplace.onnx")


@pytest.fixture(scope="module")
def calib(tmp_path_factory):
    return truth_calibration(tmp_path_factory.mktemp("cal") / "camera.json")


def play(emu, package, log, *extra, duration=3.0):
    return play_real(["--policy", str(package), "--port", emu.port, "--log", str(log), "--settle", "0.1",
                      "--boot-timeout", "5", "--start-speed", "4", "--feedback", "request", "--stale-periods", "30",
                      "--no-plot", "--duration", str(duration), *TARGET, *extra])


def test_a_cube_the_camera_stops_seeing_holds_the_arm_and_stops_the_run(lift_package, calib, emu, tmp_path,
                                                                       capsys):
    src = cube_video(tmp_path / "cube.avi", CUBE, seconds=3.0)
    code = play(emu, lift_package, tmp_path / "log", "--camera", str(src), "--camera-calib", str(calib),
                "--cube-max-age", "0.3", duration=30.0)
    assert code == 1
    err = capsys.readouterr().err
    assert "CubeLostError" in err and "last saw the cube" in err
    steps = read_steps(tmp_path / "log")
    assert steps[-1]["status"] == "cube_lost"
    used = [s for s in steps if s["status"] == "commanded"]
    assert used, "the run never stepped with the cube in view"
    for s in used:  # every command was computed on a fresh pose, and the pose is where the twin's camera saw it
        assert s["object_age_ms"] <= 300.0
        assert np.linalg.norm(np.asarray(s["object"][:3]) - [CUBE[0], CUBE[1], 0.015]) < 0.003
        assert abs((s["object"][3] - CUBE[2] + math.pi / 4) % (math.pi / 2) - math.pi / 4) < math.radians(3)
    summary = summary_of(tmp_path / "log")
    assert summary["hold"] != "not needed" and summary["cube"]["frames_with_cube"] > 0


def test_bad_camera_input_is_refused_before_the_port_is_opened(lift_package, calib, emu, tmp_path, capsys):
    assert play(emu, lift_package, tmp_path / "a", "--camera", str(tmp_path / "none.avi"), "--camera-calib",
                str(calib)) == 2
    assert "no such file" in capsys.readouterr().err
    other = CameraCalibration(CameraIntrinsics(1280, 720, CAM.matrix(), np.zeros(5)), CAM.world_from_camera())
    src = cube_video(tmp_path / "cube.avi", CUBE, seconds=1.0)
    assert play(emu, lift_package, tmp_path / "b", "--camera", str(src), "--camera-calib",
                str(other.save(tmp_path / "hd.json"))) == 2
    assert "640x480 frames but the calibration is for 1280x720" in capsys.readouterr().err
    away = cube_video(tmp_path / "away.avi", (-0.3, 0.4, 0.0), seconds=4.0)
    assert play(emu, lift_package, tmp_path / "c", "--camera", str(away), "--camera-calib", str(calib)) == 2
    assert "does not see the cube" in capsys.readouterr().err
    assert play(emu, lift_package, tmp_path / "d", "--camera", str(src), "--object", "0.2", "0", "0.015",
                "--camera-calib", str(calib)) == 2
    assert "either by --camera or by --object" in capsys.readouterr().err
    assert emu.snapshot().wire_stats.get("opens", 0) == 0


def test_a_pickplace_run_on_the_twin_sees_the_cube_through_the_mjpeg_url(pickplace_package, calib, tmp_path):
    """A short PickPlace trial: the twin with its camera served over HTTP, the arm over the serial port; the cube
    each step used is where the twin's physics has it."""
    from roarm_lab.emulator.twin.mjpeg import MjpegServer

    twin = TwinConfig(cube=CUBE, camera=CameraTruth(fps=10.0))
    emu = Emulator(EmulatorConfig(baud=0, boot_duration_s=0.3, twin=twin)).start()
    server = MjpegServer(emu.core.plant.frames).start()
    try:
        code = play_real(["--policy", str(pickplace_package), "--port", emu.port, "--log", str(tmp_path / "log"),
                          "--settle", "0.1", "--boot-timeout", "5", "--stale-periods", "30", "--no-plot",
                          "--duration", "1.5", "--camera", server.url, "--camera-calib", str(calib),
                          "--target", "0.25", "-0.08", "0.015"])
        cube, _ = emu.core.plant.cube_pose()
    finally:
        server.stop()
        emu.stop()
    assert code == 0
    steps = [s for s in read_steps(tmp_path / "log") if s["status"] == "commanded"]
    assert len(steps) > 20
    assert np.linalg.norm(np.asarray(steps[-1]["object"][:3]) - cube) < 0.003
    assert steps[-1]["object_source"] == "camera"


@pytest.mark.slow
def test_record_stores_the_camera_frames_and_the_cube_each_step_used(lift_package, calib, emu, tmp_path):
    from lerobot.datasets import LeRobotDataset

    from roarm_lab.lerobot_io.dataset_features import environment_state_values

    src = cube_video(tmp_path / "cube.avi", CUBE, seconds=4.0)
    root = tmp_path / "dataset"
    assert play(emu, lift_package, tmp_path / "log", "--camera", str(src), "--camera-calib", str(calib),
                "--record", str(root), duration=1.0) == 0
    ds = LeRobotDataset("local/roarm_real", root=root)
    assert ds.features["observation.images.camera"]["shape"] == (480, 640, 3)
    sent = [s for s in read_steps(tmp_path / "log") if s["status"] == "commanded"]
    assert ds.num_frames == len(sent) > 10
    for i in (0, len(sent) - 1):
        cube = sent[i]["object"]
        assert ds[i]["observation.environment_state"].numpy() == pytest.approx(
            environment_state_values(cube[:3], [0.22, 0.04, 0.12], cube[3]), abs=1e-5)
        image = ds[i]["observation.images.camera"]  # (3, H, W) float in [0, 1]
        assert tuple(image.shape) == (3, 480, 640) and float(image.mean()) > 0.1  # a picture, not a black frame
