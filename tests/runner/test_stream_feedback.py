"""The InfoPrint=2 stream as the state source: the emulator's stream pacing, StreamingSerialTransport, and
scripts/play_real.py --feedback stream end to end. Real pyserial on a real pseudo-terminal, the in-process
emulator, no mocks."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from emulated_arm import FAST, arm_at, emulator, summary_of, wait_until, when_steps_logged

from roarm_lab.cli.play_real import main as play_real_main
from roarm_lab.deploy.metadata import INPUT_NAME, OUTPUT_NAME, build_metadata, write_metadata
from roarm_lab.description import HOME_POSE
from roarm_lab.description.firmware_units import RAD_PER_STEP, T102_FIELDS, model_to_firmware_rad
from roarm_lab.driver import MoveJoints, SetTorque
from roarm_lab.driver.errors import ArmResetError, DisconnectedError, StaleStreamError
from roarm_lab.driver.protocol.commands import InfoPrint, RequestFeedback, SetInfoPrint
from roarm_lab.driver.session import HOLD_SPD
from roarm_lab.driver.transports.factory import open_transport
from roarm_lab.driver.transports.serial_stream import StreamingSerialTransport
from roarm_lab.emulator import Emulator, EmulatorConfig, Faults
from roarm_lab.runner.run_log import read_steps

pytestmark = pytest.mark.pty

TASK = "RoArm-Reach"
PERIOD_S = 1 / 30
POSE = (0.3, 0.2, 1.2, 0.3, 0.1, 0.5)  # away from zero: T:1051 lines of ~225 bytes, as in a run
PLAY_REAL = play_real_main


@pytest.fixture
def emu():
    e = emulator()
    yield e
    e.stop()
    assert e.crash is None


def oscillator_package(path: Path) -> Path:
    """A tiny hand-made Reach policy package: each action turns the previous one (``last_action``, the last six
    observations) about a fixed point ``p`` in the (base, shoulder) plane, ``a' = R a + (I - R) p``. From
    ``a = 0`` the actions circle through 0 and 2p, so the joint targets circle too: base 0..0.3 rad,
    shoulder -0.15..0.15 rad, once every 45 steps (1.5 s at 30 Hz), ~0.02 rad per step."""
    meta = build_metadata(TASK)
    n_obs, turn = meta["observation"]["size"], 2 * np.pi / 45
    rotation = np.eye(6)
    rotation[:2, :2] = [[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]
    p = np.array([0.3, 0, 0, 0, 0, 0])
    consts = [onnx.numpy_helper.from_array(np.asarray(v, dtype=dtype), name) for name, v, dtype in (
        ("starts", [n_obs - 6], np.int64), ("ends", [n_obs], np.int64), ("axes", [1], np.int64),
        ("rotation_t", rotation.T, np.float32), ("bias", (np.eye(6) - rotation) @ p, np.float32))]
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Slice", [INPUT_NAME, "starts", "ends", "axes"], ["last_action"]),
         onnx.helper.make_node("Gemm", ["last_action", "rotation_t", "bias"], [OUTPUT_NAME])],
        "oscillator",
        [onnx.helper.make_tensor_value_info(INPUT_NAME, onnx.TensorProto.FLOAT, ["batch", n_obs])],
        [onnx.helper.make_tensor_value_info(OUTPUT_NAME, onnx.TensorProto.FLOAT, ["batch", 6])], consts)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    write_metadata(model, meta)
    path.write_bytes(model.SerializeToString())
    return path


@pytest.fixture(scope="module")
def tiny_policy(tmp_path_factory) -> Path:
    return oscillator_package(tmp_path_factory.mktemp("policy") / "oscillator.onnx")


def frames_for(arm: StreamingSerialTransport, seconds: float) -> list:
    frames, seq, end = [], 0, time.monotonic() + seconds
    while time.monotonic() < end:
        frame = arm.next_feedback(seq, 0.5)
        frames.append(frame)
        seq = frame.seq
    return frames


# ---------------------------------------------------------------------------------------------------- emulator
def test_the_stream_fills_the_wire_and_no_more_and_replies_go_between_its_lines(emu):
    with StreamingSerialTransport(emu.port, **FAST) as arm:
        # the stream is on at boot already, so the transport may be up before the firmware has read its T:605
        assert wait_until(lambda: {"T": 605, "cmd": 2} in emu.snapshot().executed)
        assert emu.snapshot().info_print == InfoPrint.STREAM
        arm.send(MoveJoints(POSE))
        time.sleep(0.3)
        stats = arm.reader.stats
        t0, bytes0, frames0 = time.monotonic(), stats.bytes, stats.feedback
        time.sleep(1.0)
        elapsed, n_bytes, frames = time.monotonic() - t0, stats.bytes - bytes0, stats.feedback - frames0
        # hardware §1.1: the firmware loops at ~100 Hz (stream_hz) but println waits for the 115200-baud wire
        assert 215 <= n_bytes / frames <= 240
        assert 0.9 * 11520 <= n_bytes / elapsed <= 1.02 * 11520
        assert 45 <= frames / elapsed <= 54
        # a T:105 reply is one more whole line between two stream lines; nothing is torn
        arm.send(RequestFeedback())
        time.sleep(0.2)
        assert stats.bad_json == 0 and emu.snapshot().executed[-1] == {"T": 105}
        assert arm.latest_feedback(0.05).feedback.q_model == pytest.approx(POSE, abs=RAD_PER_STEP)


# ---------------------------------------------------------------------------------------------------- transport
def test_latest_frame_keeps_up_with_an_idle_host_and_a_stopped_stream_is_a_typed_stale_error(emu):
    with StreamingSerialTransport(emu.port, **FAST) as arm:
        time.sleep(1.0)  # nobody asks: the reader thread still drains the port (hardware §1.1: stale FIFO data)
        frame = arm.latest_feedback(0.06)
        assert arm._ser.in_waiting < 250 and frame.seq >= 45
        assert arm.next_feedback(frame.seq, 0.1).seq > frame.seq
        arm.send(SetInfoPrint(InfoPrint.QUIET))  # someone turns the stream off
        time.sleep(0.2)
        with pytest.raises(StaleStreamError, match="ms old"):
            arm.latest_feedback(0.1)
        arm.reply_timeout_s, arm.retries = 0.05, 1
        t0 = time.monotonic()
        with pytest.raises(StaleStreamError, match="no new feedback frame within 100 ms"):
            arm.feedback()
        assert time.monotonic() - t0 < 0.3
        with pytest.raises(StaleStreamError):
            arm.exchange(SetTorque(True))


def test_a_reset_is_detected_and_reinitialize_restarts_the_stream(emu):
    with open_transport(port=emu.port, stream=True, **FAST) as arm:
        seq = arm.latest_feedback(0.1).seq
        emu.reset()
        with pytest.raises(ArmResetError, match="rebooted"):
            while True:
                seq = arm.next_feedback(seq, 0.5).seq
        with pytest.raises(ArmResetError):
            arm.send(MoveJoints(POSE))  # refused until re-initialized
        assert arm.reinitialize().q_model == pytest.approx(HOME_POSE, abs=RAD_PER_STEP)
        assert arm.resets_seen == 2 and emu.snapshot().info_print == InfoPrint.STREAM
        assert len(frames_for(arm, 0.2)) >= 5


def test_a_disconnect_is_a_typed_error_at_once():
    e = emulator(baud=0, faults=Faults(disconnect_after_s=0.6))
    try:
        t_open = time.monotonic()
        with StreamingSerialTransport(e.port, **FAST) as arm:
            seq = 0
            with pytest.raises(DisconnectedError, match="disconnected"):
                while True:
                    seq = arm.next_feedback(seq, 1.0).seq
            assert 0.55 < time.monotonic() - t_open < 0.75
            with pytest.raises(DisconnectedError):
                arm.send(MoveJoints(POSE))
    finally:
        e.stop()


def test_torn_and_dropped_frames_are_skipped():
    e = emulator(faults=Faults(torn_frame_prob=0.3, drop_line_prob=0.1, seed=3))
    try:
        with StreamingSerialTransport(e.port, **FAST) as arm:
            frames = frames_for(arm, 0.5)
            assert len(frames) >= 10
            assert all(f.feedback.q_model == pytest.approx(HOME_POSE, abs=RAD_PER_STEP) for f in frames)
            assert arm.reader.stats.bad_json > 0
        assert e.snapshot().wire_stats["torn_lines"] > 0
    finally:
        e.stop()


# ---------------------------------------------------------------------------------------------------- play_real
def play(emu: Emulator, policy: Path, log: Path, *extra: str, duration: float = 1.5, stale_periods: int = 30) -> int:
    """``stale_periods``: 1 s by default, so a loaded machine starving the loop does not trip the watchdog in
    runs whose subject it is not; the watchdog tests give the default 5."""
    return PLAY_REAL(["--policy", str(policy), "--port", emu.port, "--log", str(log), "--settle", "0.1",
                      "--boot-timeout", "5", "--start-speed", "4", "--no-plot", "--duration", str(duration),
                      "--stale-periods", str(stale_periods), *extra])


def test_play_real_on_the_stream_tracks_the_commands(tiny_policy, emu, tmp_path, capsys):
    log = tmp_path / "log"
    assert play(emu, tiny_policy, log, "--feedback", "stream") == 0
    out = capsys.readouterr().out
    summary, steps = summary_of(log), read_steps(log)
    timing = summary["timing"]
    assert "feedback from the T:1051 stream" in out and "feedback stream: age" in out
    assert summary["feedback_mode"] == "stream" and summary["feedback_timeouts"] == 0
    assert 28 <= timing["rate_hz"] <= 31 and timing["fresh_steps"] == timing["steps"] >= 40
    assert all(s["status"] == "commanded" for s in steps)
    seqs = [s["feedback_seq"] for s in steps]
    assert all(b > a for a, b in zip(seqs, seqs[1:], strict=False))  # a new frame every step
    assert timing["feedback_age_ms"]["p50"] < 15 and timing["feedback_age_ms"]["p99"] < 40  # a frame per ~20 ms
    snap = emu.snapshot()
    assert snap.info_print == InfoPrint.STREAM
    assert all(c["T"] == 102 for c in list(snap.executed)[-40:])  # the loop sends no T:105: the stream feeds it
    q = np.array([s["q"] for s in steps])
    command = np.array([s["command"] for s in steps])
    assert np.ptp(command[:, 0]) >= 0.2 and np.ptp(command[:, 1]) >= 0.2  # the policy circles
    # the arm tracks the commands with a small delay: the firmware runs a T:102 at its next loop iteration, and a
    # frame is printed before it travels a line time (~20 ms) on the wire
    errors = [np.median(np.abs(q[lag:] - command[:len(command) - lag]).max(axis=1)) for lag in range(6)]
    best = int(np.argmin(errors))
    assert 1 <= best <= 4 and errors[best] <= 4 * RAD_PER_STEP and errors[0] >= 2 * errors[best]
    assert wait_until(lambda: arm_at(emu, command[-1], 3 * RAD_PER_STEP))
    last = [c for c in emu.snapshot().executed if c["T"] == 102][-1]
    assert [last[f] for f in T102_FIELDS] == pytest.approx(model_to_firmware_rad(command[-1]), abs=1e-5)


def test_ctrl_c_holds_the_pose_and_a_dry_run_sends_no_motion(tiny_policy, emu, tmp_path, capsys):
    log = tmp_path / "log"
    trigger = when_steps_logged(log, 5, lambda: signal.pthread_kill(threading.main_thread().ident, signal.SIGINT))
    assert play(emu, tiny_policy, log, duration=10.0) == 0
    trigger.join()
    summary = summary_of(log)
    assert summary["outcome"] == "stopped by the user (stop requested (SIGINT))"
    assert summary["hold"] == "sent (T:102 to the last measured pose)"
    sent = [c for c in emu.snapshot().executed if c["T"] == 102]
    assert sent[-1]["spd"] == HOLD_SPD
    assert play(emu, tiny_policy, tmp_path / "dry", "--dry-run", duration=0.5) == 0
    assert '[dry-run] would send {"T":102,"base":' in capsys.readouterr().out
    assert [c for c in emu.snapshot().executed if c["T"] == 102] == sent  # no motion command since the hold
    assert all(s["status"] == "dry_run" for s in read_steps(tmp_path / "dry"))


def test_stream_is_the_default_over_serial_and_torn_frames_are_survived(tiny_policy, tmp_path):
    with Emulator(EmulatorConfig(boot_duration_s=0.1, faults=Faults(torn_frame_prob=0.1, seed=2))) as e:
        assert play(e, tiny_policy, tmp_path / "log", duration=1.0) == 0
        torn = e.snapshot().wire_stats["torn_lines"]
    summary = summary_of(tmp_path / "log")
    assert summary["feedback_mode"] == "stream" and torn >= 3 and summary["timing"]["steps"] >= 28


def test_http_has_no_stream(tiny_policy, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        PLAY_REAL(["--policy", str(tiny_policy), "--http", "127.0.0.1:1", "--feedback", "stream"])
    assert exc.value.code == 2 and "HTTP has no feedback stream" in capsys.readouterr().err


@pytest.mark.parametrize("fault", ["output latency", "dropped lines", "stream stopped"])
def test_a_stale_stream_trips_the_watchdog(tiny_policy, emu, tmp_path, capsys, fault):
    log = tmp_path / "log"

    def inject():
        if fault == "output latency":
            emu.config.faults.output_latency_s = 0.5
        elif fault == "dropped lines":
            emu.config.faults.drop_line_prob = 1.0
        else:
            emu.http_request('{"T":605,"cmd":0}')  # e.g. the web UI turned it off

    trigger = when_steps_logged(log, 10, inject)
    t0 = time.monotonic()
    assert play(emu, tiny_policy, log, duration=5.0, stale_periods=5) == 1
    trigger.join()
    summary, steps = summary_of(log), read_steps(log)
    assert "StaleFeedbackError" in summary["outcome"] and "no fresh feedback" in capsys.readouterr().err
    assert summary["feedback_timeouts"] >= 1 and summary["hold"].startswith("sent")
    assert len(steps) == summary["timing"]["steps"] >= 10  # the log is flushed up to the stop
    assert time.monotonic() - t0 < 4.0  # stopped long before --duration


@pytest.mark.parametrize("feedback", ["stream", "request"])
def test_link_lost_mid_run_stops_within_three_periods(tiny_policy, emu, tmp_path, capsys, feedback):
    log = tmp_path / "log"

    def unplug():
        emu.config.faults.disconnect_after_lines = 0

    trigger = when_steps_logged(log, 10, unplug)
    assert play(emu, tiny_policy, log, "--feedback", feedback, duration=5.0) == 1
    trigger.join()
    summary, steps = summary_of(log), read_steps(log)
    assert "DisconnectedError" in summary["outcome"] and "DisconnectedError" in capsys.readouterr().err
    assert summary["stopped_after_last_feedback_ms"] <= 3 * PERIOD_S * 1000
    assert len(steps) == summary["timing"]["steps"] >= 10 and steps[-1]["status"] == "link_failed"
    assert summary["hold"].startswith("failed (DisconnectedError")


def test_an_arm_reset_mid_run_stops_the_run(tiny_policy, emu, tmp_path, capsys):
    log = tmp_path / "log"
    trigger = when_steps_logged(log, 10, emu.reset)
    assert play(emu, tiny_policy, log, duration=5.0) == 1
    trigger.join()
    summary, steps = summary_of(log), read_steps(log)
    assert "ArmResetError" in summary["outcome"] and "rebooted" in capsys.readouterr().err
    assert summary["hold"].startswith("failed (ArmResetError")  # the arm re-homes; no command may follow
    assert len(steps) == summary["timing"]["steps"] >= 10 and steps[-1]["status"] == "link_failed"
