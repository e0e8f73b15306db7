"""ArmSession, the one way the runner, the LeRobot plugins and arm.py talk to an arm, in both feedback modes and over
HTTP, against the in-process firmware emulator on a real pseudo-terminal (and its HTTP server): the kinematic
servos and the physics twin, which share the firmware layer."""

from __future__ import annotations

import numpy as np
import pytest
from emulated_arm import EMULATOR_KINDS, FAST, emulator, pose_tol, wait_until

from roarm_lab.description import HOME_POSE
from roarm_lab.description.firmware_units import RAD_PER_STEP, T102_FIELDS, firmware_to_model_rad
from roarm_lab.driver import REQUEST, STREAM, ArmLinkSettings, ArmSession, MoveJoints
from roarm_lab.driver.errors import DisconnectedError, StaleStreamError
from roarm_lab.driver.session import HOLD_ACC, HOLD_SPD
from roarm_lab.emulator import EmulatorHttpServer

pytestmark = pytest.mark.pty
TARGET = (0.3, 0.2, 1.3, 0.1, -0.2, 0.6)


@pytest.fixture(params=EMULATOR_KINDS)
def emu(request):
    e = emulator(request.param, baud=0, reset_on_open=False)
    yield e
    e.stop()
    assert e.crash is None


def count(emu, code: int) -> int:
    return sum(1 for c in emu.snapshot().executed if c["T"] == code)


@pytest.mark.parametrize("mode", [STREAM, REQUEST])
def test_reads_moves_and_holds_alike_in_both_feedback_modes(emu, mode):
    with ArmSession(ArmLinkSettings(port=emu.port, feedback=mode, **FAST)) as arm:
        assert arm.mode == mode
        first = arm.read()
        tol = pose_tol(emu)
        assert np.allclose(first.feedback.q_model, HOME_POSE, atol=tol)  # the emulated arm boots at home
        later = arm.read_after(first.seq)
        assert later.seq > first.seq and later.arrived >= first.arrived
        arm.send(MoveJoints(TARGET, spd=0, acc=0))
        assert wait_until(lambda: np.allclose(arm.fresh().feedback.q_model, TARGET, atol=max(tol, 3 * RAD_PER_STEP)))
        # at rest the reading is the true pose, quantized (a moving arm is ahead of a reading already on the wire)
        assert wait_until(lambda: np.allclose(arm.fresh().feedback.q_model, emu.snapshot().q_model,
                                              atol=2 * RAD_PER_STEP))
        assert arm.newest is not None and arm.newest.seq >= later.seq
        assert arm.hold(HOME_POSE) == "sent (T:102 to the last measured pose)"  # confirmed by a later reading
        hold = [c for c in emu.snapshot().executed if c["T"] == 102][-1]
        assert (hold["spd"], hold["acc"]) == (HOLD_SPD, HOLD_ACC)
        assert np.allclose(firmware_to_model_rad(np.array([hold[k] for k in T102_FIELDS])), HOME_POSE,
                           atol=max(tol, 1e-3))
    with pytest.raises(DisconnectedError, match="not open"):
        arm.read()


def test_request_mode_reads_the_reply_that_came_with_the_command_without_another_round_trip(emu):
    with ArmSession(ArmLinkSettings(port=emu.port, feedback=REQUEST, **FAST)) as arm:
        before = arm.read()
        arm.send(MoveJoints(TARGET, spd=0, acc=0), with_reading=True)
        assert arm.round_trip_s is not None and arm.round_trip_s > 0
        assert wait_until(lambda: count(emu, 102) == 1)
        requests = count(emu, 105)
        reading = arm.read_after(before.seq)
        assert reading.seq == before.seq + 1 and reading is arm.newest
        assert count(emu, 105) == requests  # answered from the reply already there
        # the reading was taken before the command: the arm was still at home
        assert np.allclose(reading.feedback.q_model, HOME_POSE, atol=pose_tol(emu))
        arm.read_after(reading.seq)  # a new one needs a request
        assert wait_until(lambda: count(emu, 105) == requests + 1)


def test_a_stream_that_stops_is_an_error_never_a_stale_reading(emu):
    with ArmSession(ArmLinkSettings(port=emu.port, feedback=STREAM, max_feedback_age_s=0.1, **FAST)) as arm:
        arm.read()
        emu.config.faults.drop_line_prob = 1.0
        with pytest.raises(StaleStreamError):
            wait_until(lambda: arm.read() is None)  # raises once the newest frame is older than 0.1 s
        with pytest.raises(StaleStreamError):
            arm.read_after(arm.newest.seq, timeout_s=0.2)


def test_http_defaults_to_request_feedback(emu):
    with EmulatorHttpServer(emu) as server, ArmSession(ArmLinkSettings(http=server.address)) as arm:
        assert arm.mode == REQUEST
        a = arm.read()
        b = arm.read()
        assert b.seq == a.seq + 1 and np.allclose(b.feedback.q_model, emu.snapshot().q_model, atol=RAD_PER_STEP)
