"""The RoArm LeRobot plugins in-process against the firmware emulator: discovery by LeRobot's own plugin mechanism,
features, the follower's safety (LeRobot's max_relative_target and the project's safety layer), bad actions,
the leader's torque, calibration, and the link settings' errors. What the arm did is read from the emulator's true
servo state."""

from __future__ import annotations

import builtins
import importlib.metadata
import time

import numpy as np
import pytest
from emulated_arm import emulator, wait_until

lerobot = pytest.importorskip("lerobot")

from lerobot.robots import RobotConfig, make_robot_from_config  # noqa: E402
from lerobot.teleoperators import TeleoperatorConfig, make_teleoperator_from_config  # noqa: E402
from lerobot.utils.import_utils import register_third_party_plugins  # noqa: E402

from roarm_lab.description import HARDWARE_SAFE, HOME_POSE  # noqa: E402
from roarm_lab.description.firmware_units import RAD_PER_STEP  # noqa: E402
from roarm_lab.driver.session import ArmLinkSettings, ArmSession  # noqa: E402
from roarm_lab.lerobot_io.features import JOINT_POS_KEYS, joints_to_features  # noqa: E402

pytestmark = [pytest.mark.pty, pytest.mark.lerobot]

TARGET = (0.3, 0.2, 1.4, 0.1, -0.1, 0.7)


def near(emu, pose, tol: float = 2 * RAD_PER_STEP) -> bool:
    return bool(np.max(np.abs(np.asarray(emu.snapshot().q_model) - pose)) < tol)


def t102_count(emu) -> int:
    return sum(1 for c in emu.snapshot().executed if c.get("T") == 102)


def follower_config(port: str, tmp_path, **kw):
    from lerobot_robot_roarm_m3 import RoArmM3FollowerConfig

    return RoArmM3FollowerConfig(port=port, id="f", calibration_dir=tmp_path / "cal", boot_timeout_s=5.0, **kw)


def leader_config(port: str, tmp_path, **kw):
    from lerobot_teleoperator_roarm_m3 import RoArmM3LeaderConfig

    return RoArmM3LeaderConfig(port=port, id="l", calibration_dir=tmp_path / "cal", boot_timeout_s=5.0, **kw)


def drive(robot, target, steps: int = 40) -> dict:
    """Send ``target`` every 1/30 s (the safety layer moves at most max_step_rad per action)."""
    sent = None
    for _ in range(steps):
        sent = robot.send_action(joints_to_features(target))
        time.sleep(1 / 30)
    return sent


def test_plugins_are_distributions_lerobot_discovers():
    names = {d.metadata["Name"] for d in importlib.metadata.distributions()}
    assert {"lerobot_robot_roarm_m3", "lerobot_teleoperator_roarm_m3"} <= names  # the prefixes, literally
    register_third_party_plugins()
    from lerobot_robot_roarm_m3 import RoArmM3Follower
    from lerobot_teleoperator_roarm_m3 import RoArmM3Leader

    robot_cfg = RobotConfig.get_choice_class("roarm_m3_follower")(port="/dev/null")
    teleop_cfg = TeleoperatorConfig.get_choice_class("roarm_m3_leader")(port="/dev/null")
    assert isinstance(make_robot_from_config(robot_cfg), RoArmM3Follower)  # constructing opens nothing
    assert isinstance(make_teleoperator_from_config(teleop_cfg), RoArmM3Leader)


def test_follower_features_and_cameras(tmp_path):
    from lerobot.cameras.opencv import OpenCVCameraConfig

    robot = make_robot_from_config(follower_config("/dev/null", tmp_path))
    assert robot.cameras == {}
    assert list(robot.observation_features) == list(JOINT_POS_KEYS) == list(robot.action_features)
    assert all(t is float for t in robot.action_features.values())
    cam = OpenCVCameraConfig(index_or_path=0, width=64, height=48, fps=30)
    robot = make_robot_from_config(follower_config("/dev/null", tmp_path, cameras={"front": cam}))
    assert robot.observation_features["front"] == (48, 64, 3) and set(robot.cameras) == {"front"}
    assert not robot.is_connected and robot.is_calibrated


@pytest.mark.parametrize("feedback", ["stream", "request"])
def test_follower_moves_the_arm_and_reports_it(tmp_path, feedback):
    with emulator() as emu:
        robot = make_robot_from_config(follower_config(emu.port, tmp_path, feedback=feedback))
        robot.connect()
        try:
            obs = robot.get_observation()
            assert [obs[k] for k in JOINT_POS_KEYS] == pytest.approx(HOME_POSE, abs=RAD_PER_STEP)  # hardware §3.2
            sent = drive(robot, TARGET)
            assert [sent[k] for k in JOINT_POS_KEYS] == pytest.approx(TARGET)
            assert wait_until(lambda: near(emu, TARGET))
            obs = robot.get_observation()
            assert [obs[k] for k in JOINT_POS_KEYS] == pytest.approx(TARGET, abs=RAD_PER_STEP)
        finally:
            robot.disconnect()
        assert all(emu.snapshot().torque_on), "disconnect leaves the torque on by default (the arm would fall)"
        assert not robot.is_connected


def test_follower_caps_and_clamps_actions(tmp_path):
    with emulator() as emu:
        robot = make_robot_from_config(follower_config(emu.port, tmp_path, max_relative_target=0.05))
        robot.connect()
        try:
            sent = robot.send_action(joints_to_features(TARGET))
            step = np.array([sent[k] for k in JOINT_POS_KEYS]) - np.array(HOME_POSE)
            assert np.max(np.abs(step)) <= 0.05 + 1e-9  # LeRobot's cap, from the present position
            assert np.max(np.abs(step)) > 0.04
        finally:
            robot.disconnect()

        robot = make_robot_from_config(follower_config(emu.port, tmp_path, margin_rad=0.02))
        robot.connect()
        try:
            beyond = np.array(HOME_POSE)
            beyond[0] = HARDWARE_SAFE.upper[0] + 0.5  # base past its hardware-safe limit (hardware §3.5)
            sent = drive(robot, beyond, steps=45)
            assert sent["base.pos"] == pytest.approx(HARDWARE_SAFE.upper[0] - 0.02)
            assert wait_until(lambda: near(emu, [sent[k] for k in JOINT_POS_KEYS], 0.01))
            assert robot.safety.counts["joint_limit"] > 0
        finally:
            robot.disconnect()


def test_follower_refuses_incomplete_actions_and_holds_on_nan(tmp_path):
    with emulator() as emu:
        robot = make_robot_from_config(follower_config(emu.port, tmp_path))
        robot.connect()
        try:
            before = t102_count(emu)
            action = joints_to_features(TARGET)
            del action["wrist.pos"]
            with pytest.raises(KeyError, match="wrist.pos"):
                robot.send_action(action)
            time.sleep(0.1)
            assert t102_count(emu) == before, "nothing may be sent for an incomplete action"

            first = robot.send_action(joints_to_features(TARGET))
            nan = robot.send_action({**joints_to_features(TARGET), "base.pos": float("nan")})
            assert nan == first  # the previous target again: the arm holds
            assert robot.safety.counts["nonfinite_target"] == 1
        finally:
            robot.disconnect()


def test_follower_can_drop_torque_on_disconnect_when_asked(tmp_path):
    with emulator() as emu:
        robot = make_robot_from_config(follower_config(emu.port, tmp_path, disable_torque_on_disconnect=True))
        robot.connect()
        robot.disconnect()
        assert not any(emu.snapshot().torque_on)


def test_leader_is_limp_and_reads_where_the_hand_moves_it(tmp_path):
    with emulator() as emu:
        leader = make_teleoperator_from_config(leader_config(emu.port, tmp_path))
        leader.connect()
        try:
            assert not any(emu.snapshot().torque_on)  # T:210 cmd 0 (hardware §2.2, §5.2)
            emu.config.hand_pose = TARGET
            assert wait_until(lambda: near(emu, TARGET))
            # the newest stream frame shows it a frame or two later
            assert wait_until(lambda: np.allclose(list(leader.get_action().values()), TARGET, atol=RAD_PER_STEP))
            assert list(leader.get_action()) == list(JOINT_POS_KEYS)
        finally:
            leader.disconnect()
        assert all(emu.snapshot().torque_on)
        assert near(emu, TARGET), "torque on where the hand left it: the leader holds, it does not jump"


def test_calibration_stores_offsets_and_applies_them(tmp_path, monkeypatch):
    offsets = np.array([0.05, -0.08, 0.1, 0.0, 0.12, 0.06])
    # The second connection below must find the arm where it was calibrated: opening the port would otherwise
    # reboot it and re-home it (hardware §1.2), or not, depending on whether the pty noticed the reopen in time.
    with emulator(reset_on_open=False) as emu:
        robot = make_robot_from_config(follower_config(emu.port, tmp_path))
        robot.connect()
        try:
            def user_holds_the_arm_at_the_calibration_pose(prompt: str) -> str:
                assert not any(emu.snapshot().torque_on)
                emu.config.hand_pose = tuple(np.array(HOME_POSE) + offsets)  # where "home" is on this arm
                assert wait_until(lambda: near(emu, emu.config.hand_pose))
                time.sleep(0.1)  # held still while pressing Enter
                return ""

            monkeypatch.setattr(builtins, "input", user_holds_the_arm_at_the_calibration_pose)
            robot.calibrate()
        finally:
            robot.disconnect()
        assert robot.calibration_fpath.is_file()
        emu.config.hand_pose = None

        again = make_robot_from_config(follower_config(emu.port, tmp_path))  # loads the file
        assert [again.calibration[n].homing_offset for n in ("base", "roll")] == [
            round(offsets[0] / RAD_PER_STEP), round(offsets[4] / RAD_PER_STEP)]
        again.connect()
        try:
            obs = again.get_observation()
            assert [obs[k] for k in JOINT_POS_KEYS] == pytest.approx(HOME_POSE, abs=2 * RAD_PER_STEP)
            sent = drive(again, TARGET)  # commands in the calibrated frame, the servos go to TARGET + offsets
            assert wait_until(lambda: near(emu, np.array([sent[k] for k in JOINT_POS_KEYS]) + offsets, 0.01))
        finally:
            again.disconnect()


def test_calibration_far_from_the_pose_is_refused_and_saves_nothing(tmp_path, monkeypatch):
    with emulator() as emu:
        robot = make_robot_from_config(follower_config(emu.port, tmp_path))
        robot.connect()
        try:
            def user_forgets_to_move_the_arm(prompt: str) -> str:
                emu.config.hand_pose = TARGET
                assert wait_until(lambda: near(emu, TARGET))
                time.sleep(0.1)
                return ""

            monkeypatch.setattr(builtins, "input", user_forgets_to_move_the_arm)
            with pytest.raises(ValueError, match="far from the calibration pose"):
                robot.calibrate()
            assert all(emu.snapshot().torque_on), "torque back on after a failed calibration"
        finally:
            robot.disconnect()
        assert not robot.calibration_fpath.exists()


@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one of port"),
    ({"port": "/dev/ttyUSB0", "http": "192.168.4.1"}, "exactly one of port"),
    ({"http": "192.168.4.1", "feedback": "stream"}, "HTTP has no feedback stream"),
    ({"port": "/dev/ttyUSB0", "feedback": "push"}, "feedback must be"),
])
def test_link_settings_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ArmSession(ArmLinkSettings(**kwargs))


def test_unreachable_port_fails_to_connect_and_stays_disconnected(tmp_path):
    from roarm_lab.driver.errors import DisconnectedError

    robot = make_robot_from_config(follower_config("/dev/does-not-exist", tmp_path))
    with pytest.raises(DisconnectedError):
        robot.connect()
    assert not robot.is_connected


def test_follower_over_http(tmp_path):
    from roarm_lab.emulator import Emulator, EmulatorConfig, EmulatorHttpServer

    emu = Emulator(EmulatorConfig(boot_duration_s=0.1), pty=False).start()
    try:
        with EmulatorHttpServer(emu) as server:
            from lerobot_robot_roarm_m3 import RoArmM3FollowerConfig

            robot = make_robot_from_config(RoArmM3FollowerConfig(http=server.address, feedback="request", id="h",
                                                                 calibration_dir=tmp_path / "cal"))
            robot.connect()
            try:
                sent = drive(robot, TARGET, steps=15)
                assert wait_until(lambda: near(emu, [sent[k] for k in JOINT_POS_KEYS]))
                obs = robot.get_observation()
                assert [obs[k] for k in JOINT_POS_KEYS] == pytest.approx(list(sent.values()), abs=RAD_PER_STEP)
            finally:
                robot.disconnect()
    finally:
        emu.stop()


def test_leader_calibration_reads_home_where_this_arm_has_it(tmp_path, monkeypatch):
    offsets = np.array([-0.1, 0.05, 0.0, 0.08, 0.0, 0.03])
    with emulator() as emu:
        leader = make_teleoperator_from_config(leader_config(emu.port, tmp_path))
        leader.connect()
        try:
            def user_holds_the_leader_at_the_calibration_pose(prompt: str) -> str:
                emu.config.hand_pose = tuple(np.array(HOME_POSE) + offsets)
                assert wait_until(lambda: near(emu, emu.config.hand_pose))
                time.sleep(0.1)
                return ""

            monkeypatch.setattr(builtins, "input", user_holds_the_leader_at_the_calibration_pose)
            leader.calibrate()
            assert not any(emu.snapshot().torque_on), "a leader stays limp after calibrating"
            action = leader.get_action()
            assert [action[k] for k in JOINT_POS_KEYS] == pytest.approx(HOME_POSE, abs=2 * RAD_PER_STEP)
        finally:
            leader.disconnect()
        assert leader.calibration_fpath.is_file()


def test_a_plugin_config_no_link_can_have_is_refused_when_the_device_is_made(tmp_path):
    from lerobot_robot_roarm_m3 import RoArmM3FollowerConfig

    config = RoArmM3FollowerConfig(http="192.168.4.1", feedback="stream", id="x", calibration_dir=tmp_path / "cal")
    with pytest.raises(ValueError, match="HTTP has no feedback stream"):
        make_robot_from_config(config)
