"""The firmware emulator's core, on a synthetic clock: boot, commands, servo motion, faults, HTTP replies."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from emulated_arm import FAST, arm_at, emulator, wait_until

from roarm_lab.description import HOME_POSE
from roarm_lab.description.firmware_units import RAD_PER_STEP, model_to_firmware_rad
from roarm_lab.driver import Feedback
from roarm_lab.driver.protocol.reader import BootNotice, JsonMessage, MessageReader
from roarm_lab.driver.transports.serial_port import SerialTransport
from roarm_lab.emulator import ArmVariation, EmulatorConfig, Faults, FirmwareCore
from roarm_lab.kinematics import tcp_firmware_mm

pytestmark = pytest.mark.pty

BOOT_S = 1.0


def booted(**config) -> tuple[FirmwareCore, MessageReader]:
    core = FirmwareCore(EmulatorConfig(boot_duration_s=BOOT_S, **config), now=0.0)
    reader = MessageReader()
    core.advance(BOOT_S + 0.01)
    reader.feed(b"".join(core.output))
    core.output.clear()
    assert not core.busy()
    return core, reader


def send(core: FirmwareCore, now: float, **doc) -> list:
    core.advance(now)
    core.receive_line(json.dumps(doc).encode(), now)
    out = MessageReader().feed(b"".join(core.output))
    core.output.clear()
    return out


def read(core: FirmwareCore, now: float) -> Feedback:
    (fb,) = send(core, now, T=105)
    return fb


def test_boot_prints_the_facts_sequence_then_streams():
    core = FirmwareCore(EmulatorConfig(boot_duration_s=BOOT_S), now=0.0)
    reader, messages = MessageReader(), []
    for t in np.arange(0.0, BOOT_S + 0.05, 0.01):
        core.advance(float(t))
        if core.streaming:
            core.print_feedback()
        messages += reader.feed(b"".join(core.output))
        core.output.clear()
    text = list(reader.recent_text)
    # hardware §1.3: ROM banner, servo check, "Server Starts.", MAC, mission dump, then the T:1051 stream
    assert text[0].startswith("ets Jun") and any("POWERON_RESET" in t for t in text)
    order = ["All bus servos status checked.", "Server Starts.", "---=== File Content ===---",
             "^^^ ^^^ ^^^ reading file: boot.mission ends. ^^^ ^^^ ^^^"]
    assert [text.index(s) for s in order] == sorted(text.index(s) for s in order)
    first_feedback = next(i for i, m in enumerate(messages) if isinstance(m, Feedback))
    assert all(not isinstance(m, Feedback) for m in messages[:first_feedback])
    assert isinstance(messages[0], BootNotice) and isinstance(messages[first_feedback - 1], JsonMessage)
    assert core.info_print == 2  # hardware §1.1: InfoPrint = 2 after every reset
    assert messages[-1].q_model == pytest.approx(HOME_POSE, abs=RAD_PER_STEP)


def test_reset_restores_the_stream_and_the_boot_settings():
    core, _ = booted()
    send(core, 2.0, T=605, cmd=0)
    send(core, 2.0, T=107, tor=900)
    assert core.info_print == 0 and core.joint_torque_limits[5] == 900
    out = send(core, 2.1, T=600)  # reboot: the emulator runs it; the host layer refuses it without opt-in
    assert core.booting and core.info_print == 2 and core.joint_torque_limits[5] == 300  # hardware §2.2 T:107
    assert any("SW_CPU_RESET" in m.text for m in out if isinstance(m, BootNotice))


def test_move_takes_the_time_the_servo_speed_and_acceleration_allow():
    core, _ = booted()
    start = read(core, 2.0).steps[0]
    # base +1000 steps at spd 1000 steps/s, acc 0 = no ramp (hardware §2): exactly 1 s
    goal = (start - 1000) * RAD_PER_STEP  # base: rad = pi - steps * 2pi/4096 -> fewer steps = larger angle
    goal_rad = math.pi - goal
    send(core, 2.0, T=101, joint=1, rad=goal_rad, spd=1000, acc=0)
    assert read(core, 2.5).steps[0] == pytest.approx(start - 500, abs=3)
    assert read(core, 2.98).steps[0] > start - 1000
    assert read(core, 3.01).steps[0] == start - 1000
    # acc 10 = 1000 steps/s^2: 1 s ramp up to 1000 steps/s, cruise, 1 s ramp down -> 2000 steps take 3 s
    send(core, 4.0, T=101, joint=1, rad=goal_rad - 2000 * RAD_PER_STEP, spd=1000, acc=10)
    assert read(core, 5.0).steps[0] == pytest.approx(start - 1000 + 500, abs=3)
    assert read(core, 6.9).steps[0] > start + 990
    assert read(core, 7.02).steps[0] == start + 1000


def test_speed_zero_is_the_servo_maximum_and_variation_scales_it():
    for scale in (1.0, 0.5):
        core, _ = booted(variation=ArmVariation(speed_scale=scale))
        send(core, 2.0, T=101, joint=2, rad=1.0, spd=0, acc=0)
        moved = abs(read(core, 2.1).firmware_rad[1])
        # hardware §3.6: no-load 0.222 s / 60 deg = 4.72 rad/s
        assert moved == pytest.approx(0.1 * 4.717 * scale, abs=2 * RAD_PER_STEP)


def test_positions_are_quantized_to_4096_steps_and_clamped_like_the_firmware():
    core, _ = booted()
    send(core, 2.0, T=102, base=0.1234, shoulder=0.5, elbow=3.5, wrist=-0.2, roll=0.3, hand=0.5, spd=0, acc=0)
    fb = read(core, 3.0)
    steps = (np.array(fb.firmware_rad) - np.array([math.pi, -math.pi, -math.pi / 2, -math.pi, math.pi, 0.0]))
    assert np.allclose(steps / RAD_PER_STEP, np.round(steps / RAD_PER_STEP), atol=1e-5)  # whole steps
    assert fb.firmware_rad[0] == pytest.approx(0.1234, abs=RAD_PER_STEP / 2)
    assert fb.firmware_rad[2] == pytest.approx(3.140, abs=RAD_PER_STEP)  # elbow clamp (hardware §3.1)
    assert fb.steps[5] == 700 and fb.firmware_rad[5] == pytest.approx(1.074, abs=1e-3)  # gripper clamp (§2.2)
    send(core, 3.0, T=102, base=0.2)  # missing fields read as 0 (ArduinoJson), as the real firmware does
    assert read(core, 4.0).firmware_rad[1:3] == pytest.approx((0.0, 0.0), abs=RAD_PER_STEP)
    assert core.shared_spd == 0 and core.shared_acc == 0  # T:102 resets the shared arrays (hardware §2.2)


def test_bad_lines_are_dropped_silently_and_infoprint_1_echoes():
    core, _ = booted()
    for line in (b"{not json", b'{"T":102,' + b" " * 300 + b"}", b'{"T":4242}', b"[1,2]", b'{"b":1}', b"\xff\xfe"):
        core.receive_line(line, 2.0)
    assert not core.output and core.stats["dropped"] == 5 and core.stats["ignored"] == 1
    send(core, 2.0, T=605, cmd=1)
    core.receive_line(b'{"T":210,"cmd":1}', 2.0)
    assert b'{"T":210,"cmd":1}\r\n' in core.output  # hardware §1.1: InfoPrint 1 echoes each received line


def test_torque_off_and_emergency_stop():
    core, _ = booted(estop_duration_s=10.0)
    send(core, 2.0, T=210, cmd=0)
    send(core, 2.0, T=101, joint=1, rad=1.0, spd=0, acc=0)
    fb = read(core, 3.0)
    assert fb.q_model[0] == pytest.approx(0.0, abs=RAD_PER_STEP) and fb.loads[2:] == (0.0,) * 4
    send(core, 3.0, T=210, cmd=1)
    assert all(core.plant.torque_on(i) for i in range(6))
    send(core, 4.0, T=0)  # hardware §2.1: torque off for 10 s, blocking, then back on
    assert core.busy() and not any(core.plant.torque_on(i) for i in range(6)) and core.estop_flag
    core.advance(13.9)
    assert core.busy()
    core.advance(14.01)
    assert not core.busy() and all(core.plant.torque_on(i) for i in range(6))


def test_dead_bus_reports_the_signature():
    core, reader = booted(faults=Faults(dead_bus=True))
    assert "Bus servos status check: failed." in reader.recent_text  # hardware §1.3
    fb = read(core, 2.0)
    assert fb.is_dead_bus and fb.loads == (0.0,) * 6
    assert [round(math.degrees(q)) for q in fb.q_model] == [180, -180, -90, -180, 180, 180]  # hardware §2.7
    send(core, 2.0, T=102, base=0.5, shoulder=0, elbow=1.57, wrist=0, roll=0, hand=3.14)
    assert read(core, 3.0).is_dead_bus


def test_stuck_servo_does_not_move_and_pushes():
    core, _ = booted(faults=Faults(stuck_joint="wrist"))
    send(core, 2.0, T=102, base=0.3, shoulder=0, elbow=1.5708, wrist=0.5, roll=0, hand=3.1416, spd=0, acc=0)
    fb = read(core, 3.0)
    assert fb.q_model[0] == pytest.approx(0.3, abs=RAD_PER_STEP)
    assert fb.q_model[3] == pytest.approx(0.0, abs=RAD_PER_STEP) and abs(fb.loads[3]) == 1000


def test_settle_offset_stands_in_for_a_real_arm_error():
    core, _ = booted(variation=ArmVariation(settle_offset_rad=(0.0, 0.0, 0.0, 0.02, 0.0, 0.0)))
    send(core, 2.0, T=101, joint=4, rad=0.3, spd=0, acc=0)
    assert read(core, 3.0).firmware_rad[3] == pytest.approx(0.32, abs=RAD_PER_STEP)


def test_feedback_geometry_and_gravity_loads():
    core, _ = booted()
    fb = read(core, 2.0)
    # hardware §3.3 [CALC]: TCP at (343.7, 0, 343.7) mm in world at home, shoulder axis 122.06 mm up -> z 221.7
    assert fb.tcp_mm == pytest.approx((343.7, 0.0, 221.6), abs=0.2)
    assert fb.tool_pitch == pytest.approx(0.0, abs=2 * RAD_PER_STEP)  # tit = s + e + t - pi/2
    # reaching out horizontally needs more holding torque than hanging the forearm down
    send(core, 2.0, T=101, joint=3, rad=math.pi, spd=0, acc=0)
    assert abs(read(core, 3.0).loads[2]) < abs(fb.loads[2])


def test_the_emulator_does_not_import_torch():
    """It shares the project's kinematics, whose numpy path must not pull in torch (a slow start for a device)."""
    import subprocess
    import sys

    code = ("import sys, roarm_lab.emulator.firmware as f, roarm_lab.emulator.arm_model as m; "
            "f.tcp_firmware_mm([0.1] * 6); m.gravity_torques([0.1] * 6); sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


def test_t1041_reaches_the_pose_it_is_given():
    core, _ = booted()
    q = (0.3, 0.2, 1.2, 0.1, 0.0, 0.0)
    x, y, z = tcp_firmware_mm(q)
    pitch = q[1] + q[2] + q[3] - math.pi / 2
    send(core, 2.0, T=102, base=0, shoulder=0, elbow=1.5708, wrist=0, roll=0, hand=3.1416, spd=0, acc=0)
    send(core, 2.5, T=1041, x=x, y=y, z=z, t=pitch, r=0, g=math.pi)
    fb = read(core, 4.0)
    assert fb.q_model == pytest.approx(q, abs=2 * RAD_PER_STEP)
    assert fb.tcp_mm == pytest.approx((x, y, z), abs=1.0)


def test_http_replies_follow_the_firmware():
    core, _ = booted()
    body = json.loads(core.http_request('{"T":105}', 2.0))
    assert body["T"] == 1051 and list(body)[:5] == ["T", "x", "y", "z", "tit"]
    # hardware §1.4: a motion command leaves the last loop's feedback in jsonInfoHttp with InfoPrint 2, else null
    assert json.loads(core.http_request('{"T":210,"cmd":1}', 2.0))["T"] == 1051
    core.http_request('{"T":605,"cmd":0}', 2.0)
    assert core.http_request('{"T":210,"cmd":1}', 2.0) == "null"
    assert model_to_firmware_rad(HOME_POSE)[5] == pytest.approx(math.pi)


def test_command_line_options_build_the_config():
    from roarm_lab.emulator.__main__ import build_parser, config_from_args

    args = build_parser().parse_args(["--baud", "0", "--boot-s", "0.2", "--torn", "0.1", "--stuck", "wrist",
                                      "--dead-bus", "--speed-scale", "0.8", "--disconnect-after", "5", "--tcp", "0"])
    config = config_from_args(args)
    assert (config.baud, config.boot_duration_s, config.variation.speed_scale) == (0, 0.2, 0.8)
    assert config.faults.torn_frame_prob == 0.1 and config.faults.stuck_joint == "wrist" and config.faults.dead_bus
    assert config.faults.disconnect_after_s == 5 and config.reset_on_open and args.tcp == 0


def test_a_hand_moves_only_joints_whose_torque_is_off():
    from roarm_lab.driver.protocol.commands import SetTorque

    pose = (0.4, 0.3, 1.3, 0.2, 0.1, 0.6)
    with emulator() as emu, SerialTransport(emu.port, **FAST) as arm:
        emu.config.hand_pose = pose
        time.sleep(0.3)
        assert emu.snapshot().q_model == pytest.approx(HOME_POSE, abs=RAD_PER_STEP)  # the servos hold
        t0 = time.monotonic()
        arm.exchange(SetTorque(False))
        time.sleep(0.05)
        moved = np.abs(np.asarray(emu.snapshot().q_model) - HOME_POSE)
        # no faster than the hand's speed (2 rad/s): base needs 0.2 s for 0.4 rad
        assert 0 < moved[0] <= emu.config.hand_speed_rad_s * (time.monotonic() - t0) + RAD_PER_STEP
        assert wait_until(lambda: arm_at(emu, pose, RAD_PER_STEP))
        assert arm.feedback().q_model == pytest.approx(pose, abs=RAD_PER_STEP)  # reported like any motion
        arm.exchange(SetTorque(True))
        emu.config.hand_pose = HOME_POSE
        time.sleep(0.3)
        assert emu.snapshot().q_model == pytest.approx(pose, abs=RAD_PER_STEP)  # held again where it was left

    from roarm_lab.emulator.__main__ import build_parser, config_from_args

    assert config_from_args(build_parser().parse_args(["--hand-pose", *map(str, pose)])).hand_pose == pose
