"""scripts/arm.py (roarm_lab.cli.arm) against the emulator on a pseudo-terminal."""

from __future__ import annotations

import math

import pytest

from roarm_lab.cli import arm as arm_cli
from roarm_lab.description.firmware_units import RAD_PER_STEP
from roarm_lab.driver.motion import DEFAULT_TOLERANCE_RAD
from roarm_lab.emulator import Emulator, EmulatorConfig, EmulatorHttpServer

pytestmark = pytest.mark.pty

FAST_MOVE = ("--speed", "3", "--accel", "30")



@pytest.fixture(scope="module")
def emu():
    e = Emulator(EmulatorConfig(boot_duration_s=0.1, reset_on_open=False)).start()
    yield e
    e.stop()


def run(emu, capsys, *args) -> tuple[int, str, str]:
    code = arm_cli.main(["--port", emu.port, "--settle", "0.1", "--boot-timeout", "5", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_status_prints_model_and_firmware_units(emu, capsys):
    code, out, _ = run(emu, capsys, "status")
    assert code == 0
    elbow = next(line for line in out.splitlines() if line.startswith("elbow"))
    assert elbow.split()[1:5] == ["+1.5708", "+90.0", "+1.5708", "2048"]
    gripper = next(line for line in out.splitlines() if line.startswith("gripper"))
    assert gripper.split()[1:4] == ["+0.0000", "+0.0", "+3.1416"]  # model closed = firmware pi (hardware §2.8)
    assert "TCP (firmware frame)" in out


def test_move_in_degrees_waits_for_the_target(emu, capsys):
    code, out, _ = run(emu, capsys, "move", "--deg", *FAST_MOVE, "--joints", "20", "0", "90", "0", "0")
    assert code == 0 and "base" in out
    snap = emu.snapshot()  # the command returns once every joint is within motion.DEFAULT_TOLERANCE_RAD
    assert snap.target_model[0] == pytest.approx(math.radians(20), abs=RAD_PER_STEP)
    assert snap.q_model[0] == pytest.approx(math.radians(20), abs=DEFAULT_TOLERANCE_RAD)
    code, out, _ = run(emu, capsys, "gripper", "1.2", *FAST_MOVE)
    assert code == 0 and emu.snapshot().target_model[5] == pytest.approx(1.2, abs=RAD_PER_STEP)
    assert emu.snapshot().target_model[0] == pytest.approx(math.radians(20), abs=RAD_PER_STEP)  # T:106 only
    code, out, _ = run(emu, capsys, "home", *FAST_MOVE)
    assert code == 0
    assert emu.snapshot().target_model == pytest.approx((0, 0, math.pi / 2, 0, 0, 0), abs=RAD_PER_STEP)


def test_targets_outside_hardware_safe_are_refused_or_clamped(emu, capsys):
    code, _, err = run(emu, capsys, "move", "--joints", "0", "1.5", "1.5", "0", "0")
    assert code == 1 and "shoulder +1.5000 rad" in err and "hardware_safe" in err
    assert emu.snapshot().target_model[1] == pytest.approx(0.0, abs=RAD_PER_STEP)  # nothing was sent
    code, _, err = run(emu, capsys, "move", "--clamp", *FAST_MOVE, "--joints", "0", "1.5", "1.5", "0", "0")
    assert code == 0 and "clamped to HARDWARE_SAFE: shoulder" in err
    assert emu.snapshot().target_model[1] == pytest.approx(1.1, abs=RAD_PER_STEP)
    code, _, err = run(emu, capsys, "gripper", "2.0")
    assert code == 1 and "gripper" in err
    run(emu, capsys, "home", *FAST_MOVE)


def test_torque_off_and_on(emu, capsys):
    code, _, err = run(emu, capsys, "torque", "off")
    assert code == 0 and "falls" in err and not any(emu.snapshot().torque_on)
    code, _, _ = run(emu, capsys, "torque", "on")
    assert code == 0 and all(emu.snapshot().torque_on)


def test_http_and_link_errors(emu, capsys):
    with EmulatorHttpServer(emu) as server:
        code = arm_cli.main(["--http", server.address, "status"])
        assert code == 0 and "elbow" in capsys.readouterr().out
    code, _, err = run(emu, capsys, "--port", "/dev/does-not-exist", "status")
    assert code == 1 and "cannot open serial port" in err
