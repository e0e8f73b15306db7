"""The browser viewer (Viser) in a real headless browser (Debian's Chromium, software WebGL): one screenshot per
mode, and in each the arm is drawn where the viewer's camera sees the pose it reports (the joints projected through
the camera's pinhole model: light-grey arm pixels at the upper arm and the forearm, none where the arm is not).
The poses themselves are checked against independent facts: the logged joints (replay), the emulated arm's true
joints (mirror), the joints set by hand (sliders) and the scene's own state (rollout)."""

from __future__ import annotations

import numpy as np
import pytest
from browser import WINDOW, drawn_near, light_grey, project, screenshot
from emulated_arm import FAST, emulator

from roarm_lab import kinematics
from roarm_lab.description.firmware_units import RAD_PER_STEP
from roarm_lab.inspection.replay import Replay
from roarm_lab.inspection.scene import TaskScene
from roarm_lab.inspection.web_viewer import CAMERA_LOOK_AT, CAMERA_POSITION, WebViewer

FOV = np.deg2rad(75.0)  # three.js / Viser's default vertical field of view
NOWHERE = (0.05, 0.45, 0.45)  # in the air beside the table: background in every view

def arm_points(q) -> np.ndarray:
    """Mid upper arm and mid forearm (world), where the arm's light-grey body boxes are."""
    frames = kinematics.link_frames(np.asarray(q, dtype=np.float64))[..., :3, 3]
    return np.stack([(frames[1] + frames[2]) / 2, (frames[2] + frames[3]) / 2])


def assert_arm_drawn(image: np.ndarray, q, absent_q=None) -> None:
    mask = light_grey(image)
    assert image.shape[:2] == (WINDOW[1], WINDOW[0])
    for pixel in project(arm_points(q), CAMERA_POSITION, CAMERA_LOOK_AT, FOV):
        assert drawn_near(mask, pixel), f"no arm at {pixel.round()} for joints {np.round(q, 3)}"
    nowhere = project([NOWHERE], CAMERA_POSITION, CAMERA_LOOK_AT, FOV)[0]
    assert not drawn_near(mask, nowhere, radius=20), "arm-coloured pixels where nothing is"
    if absent_q is not None:
        for pixel in project(arm_points(absent_q), CAMERA_POSITION, CAMERA_LOOK_AT, FOV):
            assert not drawn_near(mask, pixel, radius=3), f"an arm at {pixel.round()}, the other pose's place"


@pytest.fixture
def viewer():
    v = WebViewer(port=0)
    yield v
    v.stop()


@pytest.mark.slow
def test_sliders_mode_draws_the_joints_set_by_hand(viewer, tmp_path):
    scene = TaskScene("RoArm-Lift", seed=0)
    q = (0.6, 0.3, 1.3, 0.4, 0.0, 0.5)
    scene.set_joint_targets(q)
    for _ in range(60):
        scene.step()
    viewer.show_rollout(scene, playing=False)
    shown = viewer.state["joint_pos"]
    assert shown == scene.frame.joint_pos and np.abs(np.subtract(shown, q)).max() < 0.05
    image = screenshot(viewer.url, tmp_path / "sliders.png", tmp_path / "profile")
    assert_arm_drawn(image, shown, absent_q=(-0.6, 0.3, 1.3, 0.4, 0.0, 0.5))


@pytest.mark.slow
def test_rollout_mode_draws_the_policy_driven_scene(viewer, tmp_path):
    from roarm_lab.inspection.scene import LoadedPolicy

    scene = TaskScene("RoArm-Reach", seed=2)
    scene.set_policy(LoadedPolicy("RoArm-Reach", "rsl_rl", tmp_path, lambda obs: obs[:, :6] * 0 + 0.8))
    for _ in range(45):
        scene.step()
    viewer.show_rollout(scene, playing=False)
    assert viewer.state["source"] == "policy" and viewer.state["joint_pos"] == scene.frame.joint_pos
    assert viewer.state["command"] == scene.frame.command  # the Reach target
    image = screenshot(viewer.url, tmp_path / "rollout.png", tmp_path / "profile")
    assert_arm_drawn(image, scene.frame.joint_pos)


@pytest.mark.slow
def test_replay_mode_shows_the_logged_joints_at_the_slider_time(viewer, tmp_path):
    from roarm_lab.runner.run_log import RunLog, StepRecord

    first, second = [0.9, 0.2, 1.4, 0.3, 0.0, 0.4], [-0.9, 0.2, 1.4, 0.3, 0.0, 0.4]
    with RunLog(tmp_path / "run") as log:
        for i in range(60):
            q = first if i < 30 else second
            log.write_step(StepRecord(step=i, t=i / 30, status="commanded", feedback_age_ms=1.0, q=q, command=q))
    replay = Replay.from_run(tmp_path / "run")
    viewer.show_replay(replay, t=1.5)
    assert viewer.state["sample"] == 45 and list(viewer.state["measured"]) == second
    image = screenshot(viewer.url, tmp_path / "replay.png", tmp_path / "profile")
    assert_arm_drawn(image, second, absent_q=first)


@pytest.mark.slow
@pytest.mark.pty
def test_mirror_mode_draws_the_emulated_arm(viewer, tmp_path):
    from roarm_lab.driver.session import ArmLinkSettings
    from roarm_lab.inspection.mirror import LiveMirror

    emu = emulator(baud=0)
    mirror = LiveMirror(ArmLinkSettings(port=emu.port, feedback="stream", **FAST))
    try:
        mirror.start()
        viewer.show_mirror(mirror)
        viewer.start()
        reading = mirror.wait_for(mirror.newest.seq)
        assert viewer.wait_frames(3)
        truth = emu.snapshot().q_model
        assert viewer.state["joint_pos"] == pytest.approx(truth, abs=RAD_PER_STEP)
        assert reading.q == pytest.approx(truth, abs=RAD_PER_STEP)
        image = screenshot(viewer.url, tmp_path / "mirror.png", tmp_path / "profile")
        assert_arm_drawn(image, truth)
    finally:
        mirror.stop()
        emu.stop()
    assert not [c for c in emu.snapshot().executed if c["T"] == 102]  # a read-only mirror sent nothing


@pytest.mark.parametrize("argv, message", [
    (["--replay", "nowhere"], "not a LeRobot dataset"),
    (["--task", "RoArm-Reach", "--policy", "missing.onnx"], "no policy"),
])
def test_view_script_refuses_bad_input_before_serving(argv, message, tmp_path, capsys, monkeypatch):
    from roarm_lab.cli.view import main

    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--port", "0"]) == 2
    assert message in capsys.readouterr().err
