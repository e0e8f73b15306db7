"""Serial and HTTP transports against the emulator: real pyserial on a real pseudo-terminal / socket / HTTP. Tests
of the protocol run against both emulators (the kinematic servos and the physics twin share the firmware layer);
tests of exact servo motion run against the kinematic one."""

from __future__ import annotations

import math
import time

import pytest
from emulated_arm import EMULATOR_KINDS, FAST, arm_at, emulator, pose_tol, wait_until

from roarm_lab.description import HOME_POSE
from roarm_lab.description.firmware_units import RAD_PER_STEP
from roarm_lab.driver import MoveJoints, SetTorque
from roarm_lab.driver.errors import (
    ArmResetError,
    DangerousCommandError,
    DisconnectedError,
    TransportError,
    TransportTimeoutError,
)
from roarm_lab.driver.protocol.commands import EmergencyStop
from roarm_lab.driver.transports.factory import open_transport
from roarm_lab.driver.transports.http_api import HttpTransport
from roarm_lab.driver.transports.serial_port import SerialTransport
from roarm_lab.emulator import Emulator, EmulatorConfig, EmulatorHttpServer, Faults

pytestmark = pytest.mark.pty


@pytest.fixture(params=EMULATOR_KINDS)
def emu(request):
    e = emulator(request.param)
    yield e
    e.stop()
    assert e.crash is None


@pytest.fixture
def kinematic_emu():
    e = emulator()
    yield e
    e.stop()


def test_open_waits_out_the_boot_and_disables_the_stream(emu):
    with SerialTransport(emu.port, **FAST) as arm:
        snap = emu.snapshot()
        assert arm.resets_seen == 1  # opening the port rebooted the arm (hardware §1.2) and the banner was seen
        assert snap.boot_count == 2 and not snap.booting
        assert snap.info_print == 0 and {"T": 605, "cmd": 0} in snap.executed  # hardware §7 item 1
        assert arm.initial_feedback.q_model == pytest.approx(HOME_POSE, abs=pose_tol(emu))
        for _ in range(5):
            assert arm.feedback().q_model == pytest.approx(HOME_POSE, abs=pose_tol(emu))
        assert arm.reader.stats.feedback >= 6
    assert arm.closed
    with pytest.raises(DisconnectedError, match="closed"):
        arm.feedback()


def test_a_move_takes_as_long_as_the_servo_speed_allows_and_no_less(kinematic_emu):
    emu = kinematic_emu
    spd = 1000  # steps/s (hardware §2): 1.534 rad/s
    speed = spd * RAD_PER_STEP
    goal = (0.6, 0.0, math.pi / 2, 0.0, 0.0, 0.0)
    with SerialTransport(emu.port, **FAST) as arm:
        t_sent = time.monotonic()
        fb = arm.exchange(MoveJoints(goal, spd=spd, acc=0))
        samples = [(time.monotonic(), fb)]
        while samples[-1][1].q_model[0] < goal[0] - RAD_PER_STEP and time.monotonic() - t_sent < 2.0:
            time.sleep(0.03)
            samples.append((time.monotonic(), arm.feedback()))
    t_reached, _ = samples[-1]
    assert samples[-1][1].steps[0] == round((math.pi - 0.6) / RAD_PER_STEP)  # at the target, quantized
    assert t_reached - t_sent <= 0.6 / speed + 0.4  # 0.39 s of motion plus serial round trips
    for t, f in samples:  # never faster than spd: position bounded by speed x time since the command left
        assert f.q_model[0] <= speed * (t - t_sent) + 2 * RAD_PER_STEP
    assert len(samples) >= 4  # it was seen moving, not jumping


def test_quantization_over_the_wire(kinematic_emu):
    emu = kinematic_emu
    with SerialTransport(emu.port, **FAST) as arm:
        arm.send(MoveJoints((0.1234, 0.0, 1.5, -0.2, 0.3, 0.7)))
        time.sleep(0.3)
        fb = arm.feedback()
    assert fb.q_model == pytest.approx((0.1234, 0.0, 1.5, -0.2, 0.3, 0.7), abs=RAD_PER_STEP / 2 + 1e-9)
    steps = [(fw - off) / RAD_PER_STEP for fw, off in zip(fb.firmware_rad, (math.pi, -math.pi, -math.pi / 2,
                                                                               -math.pi, math.pi, 0.0), strict=True)]
    assert steps == pytest.approx([round(s) for s in steps], abs=1e-4)


def test_an_arm_reset_is_detected_and_recovered(emu):
    with SerialTransport(emu.port, **FAST) as arm:
        emu.reset()
        time.sleep(0.05)
        with pytest.raises(ArmResetError, match="rebooted"):
            arm.feedback()
        with pytest.raises(ArmResetError):
            arm.send(SetTorque(True))  # stays refused until reinitialized
        fb = arm.reinitialize()
        assert fb.q_model == pytest.approx(HOME_POSE, abs=pose_tol(emu))
        assert emu.snapshot().info_print == 0 and arm.resets_seen == 2


def test_stream_turned_back_on_is_tolerated_and_quieted(emu):
    with SerialTransport(emu.port, **FAST) as arm:
        emu.http_request('{"T":605,"cmd":2}')  # e.g. someone used the web UI
        time.sleep(0.1)
        assert arm.feedback().q_model == pytest.approx(HOME_POSE, abs=pose_tol(emu))
        time.sleep(0.05)  # while streaming, the firmware reads the T:605 at its next loop iteration (~20 ms)
        assert arm.unsolicited_feedback > 0 and emu.snapshot().info_print == 0


@pytest.mark.parametrize("kind", EMULATOR_KINDS)
def test_disconnect_raises_a_typed_error_quickly(kind):
    e = emulator(kind, faults=Faults(disconnect_after_s=0.6))
    try:
        with SerialTransport(e.port, **FAST) as arm:
            t0 = time.monotonic()
            with pytest.raises(DisconnectedError):
                while time.monotonic() - t0 < 3.0:
                    arm.feedback()
            assert time.monotonic() - t0 < 1.0
    finally:
        e.stop()


@pytest.mark.parametrize("kind", EMULATOR_KINDS)
def test_torn_and_dropped_frames_are_survived(kind):
    e = emulator(kind, faults=Faults(torn_frame_prob=0.3, drop_line_prob=0.1, seed=3))
    try:
        with SerialTransport(e.port, reply_timeout_s=0.15, retries=5, **FAST) as arm:
            for _ in range(10):
                assert arm.feedback().q_model == pytest.approx(HOME_POSE, abs=pose_tol(e))
            assert arm.reader.stats.bad_json > 0
        assert e.snapshot().wire_stats["torn_lines"] > 0
    finally:
        e.stop()


def test_stuck_servo_and_dead_bus_are_visible_in_feedback():
    e = emulator(faults=Faults(stuck_joint="elbow"))
    try:
        with SerialTransport(e.port, **FAST) as arm:
            arm.send(MoveJoints((0.2, 0.0, 1.2, 0.0, 0.0, 0.0)))
            time.sleep(0.3)
            fb = arm.feedback()
            assert fb.q_model[0] == pytest.approx(0.2, abs=RAD_PER_STEP)
            assert fb.q_model[2] == pytest.approx(math.pi / 2, abs=RAD_PER_STEP) and abs(fb.loads[2]) == 1000
        e.config.faults.dead_bus = True  # faults may change while running
        e.reset()
        with SerialTransport(e.port, **FAST) as arm:
            assert arm.feedback().is_dead_bus
            assert "Bus servos status check: failed." in arm.reader.recent_text
    finally:
        e.stop()


@pytest.mark.parametrize("kind", EMULATOR_KINDS)
def test_latency_beyond_the_reply_timeout_is_a_timeout_and_resync_drops_the_late_replies(kind):
    e = emulator(kind)
    try:
        with SerialTransport(e.port, **FAST) as arm:
            e.config.faults.latency_s = 0.3
            assert arm.feedback().q_model == pytest.approx(HOME_POSE, abs=pose_tol(e))  # 0.5 s timeout copes
            arm.reply_timeout_s, arm.retries = 0.1, 1
            t0 = time.monotonic()
            with pytest.raises(TransportTimeoutError, match="2 tries"):
                arm.feedback()
            assert time.monotonic() - t0 < 0.4
            e.config.faults.latency_s = 0.0
            assert arm.resync(quiet_s=0.4) == 2  # the two late replies
            assert arm.feedback().q_model == pytest.approx(HOME_POSE, abs=pose_tol(e))
    finally:
        e.stop()


def test_boot_that_never_ends_times_out():
    e = emulator(boot_duration_s=30.0)
    try:
        t0 = time.monotonic()
        with pytest.raises(TransportTimeoutError, match="no feedback from the arm"):
            SerialTransport(e.port, settle_s=0.1, boot_timeout_s=0.5)
        assert time.monotonic() - t0 < 1.5
    finally:
        e.stop()


def test_socket_url_without_reset_on_open():
    e = Emulator(EmulatorConfig(boot_duration_s=0.1, reset_on_open=False), pty=False, tcp_port=0).start()
    try:
        time.sleep(0.2)
        with open_transport(port=e.url, **FAST) as arm:
            assert arm.resets_seen == 0 and e.snapshot().boot_count == 1
            fb = arm.exchange(MoveJoints((0.0, 0.2, 1.5708, 0.0, 0.0, 0.0)))
            assert fb.q_model[1] >= 0.0
            with pytest.raises(DangerousCommandError):
                arm.send(EmergencyStop())
            assert 0 not in [c["T"] for c in e.snapshot().executed]
    finally:
        e.stop()


def test_unopenable_port_is_a_typed_error():
    with pytest.raises(DisconnectedError, match="cannot open"):
        SerialTransport("/dev/does-not-exist", **FAST)


@pytest.mark.parametrize("kind", EMULATOR_KINDS)
def test_http_transport_against_the_emulated_web_server(kind):
    e = emulator(kind)
    tol = pose_tol(e)
    try:
        with EmulatorHttpServer(e) as server:
            with HttpTransport(server.address, timeout_s=2.0) as arm:
                assert e.snapshot().info_print == 0  # stream off: it slows the web handling (hardware §1.1)
                assert arm.initial_feedback.q_model == pytest.approx(HOME_POSE, abs=tol)
                assert arm.request(SetTorque(True)) is None  # hardware §1.4: null with InfoPrint != 2
                arm.send(MoveJoints((0.3, 0.0, 1.5708, 0.0, 0.0, 0.5), spd=0, acc=0))
                target = (0.3, 0.0, 1.5708, 0.0, 0.0, 0.5)
                assert wait_until(lambda: arm_at(e, target, tol))
                # the twin's gripper may still be closing in on its target when the truth first enters the band:
                # the feedback over HTTP reports the pose it comes to rest at
                assert wait_until(lambda: arm.feedback().q_model == pytest.approx(target, abs=tol))
                with pytest.raises(DangerousCommandError):
                    arm.send(EmergencyStop())
            with pytest.raises(TransportError, match="404"):
                HttpTransport(f"http://{server.address}/nowhere")
        with pytest.raises(DisconnectedError):
            HttpTransport(server.address, timeout_s=0.5)
    finally:
        e.stop()


@pytest.mark.parametrize("kind", EMULATOR_KINDS)
def test_unpaced_emulator_and_disconnect_after_n_lines(kind):
    e = emulator(kind, baud=0, faults=Faults(disconnect_after_lines=120))
    try:
        with SerialTransport(e.port, **FAST) as arm:
            calls = 0
            with pytest.raises(DisconnectedError):
                while calls < 500:
                    arm.feedback()
                    calls += 1
            assert 60 < calls < 120  # the boot text and a few stream lines counted too
    finally:
        e.stop()
    assert e.crash is None
