"""scripts/play_real.py end to end: a tiny trained Reach policy, exported, run through real pyserial on a real
pseudo-terminal against the firmware emulator; and the faults it must survive or stop on safely. Serial runs here
use ``--feedback request`` (a T:105 per step); the stream-fed default is tested in test_stream_feedback.py."""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from emulated_arm import arm_at, emulator, summary_of, wait_until, when_steps_logged
from onnx import numpy_helper
from run_dirs import new_run

from roarm_lab import kinematics
from roarm_lab.cli.export_onnx import main as export_onnx_main
from roarm_lab.cli.play_real import main as play_real_main
from roarm_lab.deploy import PolicyPackage
from roarm_lab.deploy.export import export_policy_package
from roarm_lab.deploy.metadata import METADATA_KEY, write_metadata
from roarm_lab.description import HARDWARE_SAFE
from roarm_lab.description.firmware_units import RAD_PER_STEP, T102_FIELDS, model_to_firmware_rad
from roarm_lab.driver.errors import CommandTooLongError, DangerousCommandError
from roarm_lab.driver.protocol.commands import EmergencyStop, RawCommand
from roarm_lab.driver.session import HOLD_SPD, ArmLinkSettings, ArmSession
from roarm_lab.emulator import Emulator, EmulatorConfig, EmulatorHttpServer, Faults
from roarm_lab.runner.run_log import read_steps
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks.mdp.actions import DEFAULT_POSE
from roarm_lab.training.policy import runner_cfg

TASK = "RoArm-Reach"
PERIOD_S = 1 / 30
pytestmark = pytest.mark.pty
MARGIN, MAX_STEP, MAX_LEAD, Z_MIN = 0.02, 0.1, 0.3, 0.03  # the safety defaults


PLAY_REAL = play_real_main


@pytest.fixture(scope="module")
def reach_package(tmp_path_factory) -> Path:
    """Two PPO iterations of Reach on the MuJoCo backend, exported with scripts/export_onnx.py."""
    run, runner = new_run(tmp_path_factory.mktemp("logs"), TASK, 16)
    runner.learn(num_learning_iterations=2)
    runner.save(str(run / "model_1.pt"))
    out = run.parent / "reach.onnx"
    assert export_onnx_main(["--checkpoint", str(run), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def nan_package(reach_package, tmp_path_factory) -> Path:
    """The Reach package with every weight NaN: a valid package whose actions are NaN."""
    model = onnx.load(reach_package)
    for tensor in model.graph.initializer:
        array = numpy_helper.to_array(tensor)
        if array.dtype == np.float32:
            tensor.CopyFrom(numpy_helper.from_array(np.full_like(array, np.nan), tensor.name))
    out = tmp_path_factory.mktemp("nan") / "nan.onnx"
    out.write_bytes(model.SerializeToString())
    policy = PolicyPackage.load(out)
    assert np.isnan(policy.act(np.zeros(policy.observation_size))).all()
    return out


#: Runs whose subject is not the watchdog let it wait 1 s (30 periods): a loaded machine may starve the loop or the
#: in-process emulator for longer than the default 5 periods (167 ms), and the watchdog would rightly stop the run.
LENIENT_WATCHDOG = 30


def play(emu: Emulator, policy: Path, log: Path, *extra: str, duration: float | None = 2.0, plot=False,
         stale_periods: int | None = LENIENT_WATCHDOG) -> int:
    argv = ["--policy", str(policy), "--port", emu.port, "--log", str(log), "--settle", "0.1", "--boot-timeout",
            "5", "--start-speed", "4", "--feedback", "request", *extra]
    argv += [] if stale_periods is None else ["--stale-periods", str(stale_periods)]
    argv += [] if duration is None else ["--duration", str(duration)]
    argv += [] if plot else ["--no-plot"]
    return PLAY_REAL(argv)


def t102s(emu: Emulator) -> list[dict]:
    return [c for c in emu.snapshot().executed if c["T"] == 102]


# ---------------------------------------------------------------------------------------------------- end to end
@pytest.mark.slow
def test_trained_reach_policy_runs_on_the_emulated_arm(reach_package, emu, tmp_path, capsys):
    log = tmp_path / "log"
    assert play(emu, reach_package, log, plot=True) == 0
    out = capsys.readouterr().out
    summary = summary_of(log)
    steps = read_steps(log)
    assert "run: completed" in out and "final TCP error" in out and "jitter p50" in out
    assert summary["exit_code"] == 0 and summary["hold"] == "not needed"
    timing = summary["timing"]
    assert len(steps) == timing["steps"] and timing["steps"] + timing["skipped_ticks"] in (60, 61)
    assert 25 <= timing["rate_hz"] <= 31 and timing["round_trip_ms"]["p50"] < 20
    assert all(s["status"] == "commanded" for s in steps) and summary["feedback_timeouts"] == 0
    assert (log / "joints.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    q = np.array([s["q"] for s in steps])
    command = np.array([s["command"] for s in steps])
    actions = np.array([s["action"] for s in steps])
    # the arm went to the package's start pose first
    assert q[0] == pytest.approx(DEFAULT_POSE, abs=0.03)
    # every command obeys the safety layer: limits less the margin, one step from the previous command, near the
    # measured joints, TCP above the table
    assert np.all(command >= np.array(HARDWARE_SAFE.lower) + MARGIN - 1e-6)
    assert np.all(command <= np.array(HARDWARE_SAFE.upper) - MARGIN + 1e-6)
    assert np.abs(np.diff(np.vstack([q[0], command]), axis=0)).max() <= MAX_STEP + 1e-6
    assert np.abs(command - q).max() <= MAX_LEAD + 1e-6
    assert kinematics.tcp_position(command)[:, 2].min() >= Z_MIN
    # observations are the simulator's, from what was measured; last_action is the previous raw action
    policy = PolicyPackage.load(reach_package)
    for k in (1, len(steps) // 2, len(steps) - 1):
        s = steps[k]
        rebuilt = policy.observation_from_state(s["q"], s["joint_vel"], summary["command"], actions[k - 1])
        assert np.allclose(rebuilt, s["obs"], atol=1e-4)
    assert np.allclose(np.array([s["obs"][-6:] for s in steps[1:]]), actions[:-1], atol=1e-5)
    assert np.array(steps[0]["obs"][-6:]) == pytest.approx(np.zeros(6))
    # the arm tracks the commands: the reading sent with command k is taken before the servos respond to it, so
    # reading k + 2 is the first to show command k, one control period later
    tracking = np.abs(q[2:] - command[:-2]).max(axis=1)
    assert np.median(tracking) <= 3 * RAD_PER_STEP and np.mean(tracking <= 0.01) >= 0.9
    # ... and the emulated arm ends at the last command, which is the last T:102 the firmware ran
    assert wait_until(lambda: arm_at(emu, command[-1], 3 * RAD_PER_STEP))
    last = t102s(emu)[-1]
    fw = model_to_firmware_rad(command[-1])
    assert [last[f] for f in T102_FIELDS] == pytest.approx(fw, abs=1e-5)
    final_tcp = kinematics.tcp_position(np.array(summary["final_measured_q"]))
    assert summary["final_tcp_error_m"] == pytest.approx(np.linalg.norm(final_tcp - summary["command"]), abs=1e-6)


def test_dry_run_reads_and_prints_but_sends_no_motion(reach_package, emu, tmp_path, capsys):
    log = tmp_path / "log"
    assert play(emu, reach_package, log, "--dry-run", duration=0.5) == 0
    out = capsys.readouterr().out
    assert "skipped (dry run)" in out and '[dry-run] would send {"T":102,"base":' in out
    assert t102s(emu) == [] and summary_of(log)["hold"] == "not needed"
    assert all(s["status"] == "dry_run" for s in read_steps(log)) and len(read_steps(log)) >= 10


def test_http_link_runs_the_same_loop(reach_package, tmp_path):
    with Emulator(EmulatorConfig(boot_duration_s=0.1, baud=0), pty=False) as e, EmulatorHttpServer(e) as server:
        time.sleep(0.2)  # booted
        argv = ["--policy", str(reach_package), "--http", server.address, "--log", str(tmp_path / "log"),
                "--duration", "0.5", "--start-speed", "4", "--no-plot", "--stale-periods", str(LENIENT_WATCHDOG)]
        assert PLAY_REAL(argv) == 0
        assert wait_until(lambda: arm_at(e, summary_of(tmp_path / "log")["last_command"], 3 * RAD_PER_STEP))


# ---------------------------------------------------------------------------------------------------- refusals
def _other_robot(package: Path, out: Path) -> Path:
    model = onnx.load(package)
    meta = json.loads({p.key: p.value for p in model.metadata_props}[METADATA_KEY])
    write_metadata(model, {**meta, "robot_id": "so100_arm"})
    out.write_bytes(model.SerializeToString())
    return out


@pytest.mark.parametrize("kind", ["other robot", "garbage"])
def test_a_wrong_policy_file_is_refused_before_the_port_is_opened(reach_package, emu, tmp_path, capsys, kind):
    if kind == "garbage":
        policy = tmp_path / "garbage.onnx"
        policy.write_bytes(np.random.default_rng(0).bytes(2048))
    else:
        policy = _other_robot(reach_package, tmp_path / "so100.onnx")
    assert play(emu, policy, tmp_path / "log") == 2
    err = capsys.readouterr().err
    assert "refusing the policy package" in err
    assert ("robot 'so100_arm'" in err) if kind == "other robot" else ("ONNX model" in err)
    snap = emu.snapshot()
    assert snap.wire_stats.get("opens", 0) == 0 and t102s(emu) == []
    assert not (tmp_path / "log").exists()


def test_no_arm_on_the_port_is_refused(reach_package, tmp_path, capsys):
    argv = ["--policy", str(reach_package), "--port", str(tmp_path / "no-such-port"), "--log", str(tmp_path / "log")]
    assert PLAY_REAL(argv) == 3
    assert "cannot connect to the arm" in capsys.readouterr().err
    assert summary_of(tmp_path / "log")["exit_code"] == 3


def test_a_dead_servo_bus_is_refused_before_moving(reach_package, tmp_path, capsys):
    with Emulator(EmulatorConfig(boot_duration_s=0.1, baud=0, faults=Faults(dead_bus=True))) as dead:
        assert play(dead, reach_package, tmp_path / "log") == 3
        assert t102s(dead) == []
    assert "servo bus is not answering" in capsys.readouterr().err
    assert summary_of(tmp_path / "log")["exit_code"] == 3


def test_joints_far_outside_the_limits_are_refused_before_moving(reach_package, tmp_path, capsys):
    config = EmulatorConfig(boot_duration_s=0.1, baud=0, reset_on_open=False)
    with Emulator(config) as e:
        time.sleep(0.2)  # booted
        e.http_request('{"T":102,"base":0,"shoulder":1.45,"elbow":1.5708,"wrist":0,"roll":0,"hand":3.14,'
                       '"spd":0,"acc":0}')  # past the shoulder's hardware-safe 1.1, inside the firmware's pi/2
        time.sleep(0.3)
        assert play(e, reach_package, tmp_path / "log") == 3
        assert len(t102s(e)) == 1  # only the one above
    assert "far outside hardware_safe: shoulder +1.450" in capsys.readouterr().err


def test_dangerous_and_over_long_commands_are_refused_on_the_runners_link(emu):
    with ArmSession(ArmLinkSettings(port=emu.port, settle_s=0.1, boot_timeout_s=5.0)) as arm:
        with pytest.raises(DangerousCommandError, match="T:0 refused"):
            arm.send(EmergencyStop())
        with pytest.raises(CommandTooLongError):
            arm.send(RawCommand({"T": 104, "note": "x" * 300}))
        arm.fresh()
    assert all(c["T"] not in (0, 104) for c in emu.snapshot().executed)


# ---------------------------------------------------------------------------------------------------- faults
def test_torn_frames_are_survived(reach_package, tmp_path):
    faults = Faults(torn_frame_prob=0.1, seed=2)
    with Emulator(EmulatorConfig(boot_duration_s=0.1, baud=0, faults=faults)) as e:
        assert play(e, reach_package, tmp_path / "log", duration=1.5) == 0
        torn = e.snapshot().wire_stats["torn_lines"]
    summary = summary_of(tmp_path / "log")
    assert torn >= 3 and summary["timing"]["steps"] >= 30


@pytest.mark.parametrize("fault", ["latency", "dropped lines"])
def test_stale_feedback_trips_the_watchdog(reach_package, emu, tmp_path, capsys, fault):
    log = tmp_path / "log"

    def inject():
        if fault == "latency":
            emu.config.faults.latency_s = 0.5
        else:
            emu.config.faults.drop_line_prob = 1.0

    trigger = when_steps_logged(log, 10, inject)
    t0 = time.monotonic()
    assert play(emu, reach_package, log, duration=5.0, stale_periods=None) == 1
    trigger.join()
    summary = summary_of(log)
    assert "StaleFeedbackError" in summary["outcome"] and "no fresh feedback" in capsys.readouterr().err
    assert summary["feedback_timeouts"] >= 1 and summary["hold"].startswith("sent")
    assert time.monotonic() - t0 < 4.0  # stopped long before --duration


def test_nan_policy_output_is_held_never_sent_and_stops_the_run(nan_package, emu, tmp_path, capsys):
    log = tmp_path / "log"
    assert play(emu, nan_package, log) == 1
    summary = summary_of(log)
    steps = read_steps(log)
    assert "PolicyOutputError" in summary["outcome"] and "non-finite" in capsys.readouterr().err
    assert [s["status"] for s in steps] == ["commanded"] * 4 + ["policy_failed"]
    assert all(s["clamps"] == ["nonfinite_target"] and s["action"] == [None] * 6 for s in steps)
    assert summary["clamps"]["nonfinite_target"] == 5
    sent = t102s(emu)
    assert all(all(math.isfinite(c[f]) for f in T102_FIELDS) for c in sent)
    assert emu.snapshot().q_model == pytest.approx(DEFAULT_POSE, abs=0.03)  # held at the start pose


def test_ctrl_c_holds_the_pose_and_exits_0(reach_package, emu, tmp_path, capsys):
    log = tmp_path / "log"
    before = signal.getsignal(signal.SIGINT)
    trigger = when_steps_logged(log, 5, lambda: signal.pthread_kill(threading.main_thread().ident, signal.SIGINT))
    assert play(emu, reach_package, log, duration=10.0) == 0
    trigger.join()
    summary = summary_of(log)
    assert summary["outcome"] == "stopped by the user (stop requested (SIGINT))"
    assert summary["hold"] == "sent (T:102 to the last measured pose)" and summary["timing"]["steps"] >= 5
    assert t102s(emu)[-1]["spd"] == HOLD_SPD
    assert signal.getsignal(signal.SIGINT) is before
    assert "run: stopped by the user" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------- object tasks
@pytest.fixture(scope="module")
def lift_package(tmp_path_factory) -> Path:
    from rsl_rl.runners import OnPolicyRunner

    torch.manual_seed(0)
    runner = OnPolicyRunner(MujocoTaskEnv("RoArm-Lift", 1, nthread=1), runner_cfg("RoArm-Lift").to_dict(),
                            log_dir=None)
    return export_policy_package(runner.get_inference_policy("cpu"), "RoArm-Lift",
                                 tmp_path_factory.mktemp("lift") / "lift.onnx")


def test_object_tasks_need_a_fixed_object_position(lift_package, emu, tmp_path, capsys):
    assert play(emu, lift_package, tmp_path / "a") == 2
    assert "give a fixed position with --object X Y Z" in capsys.readouterr().err
    assert emu.snapshot().wire_stats.get("opens", 0) == 0
    assert play(emu, lift_package, tmp_path / "b", "--object", "0.2", "0", "0.015", "--target", "0.2", "0", "0.115",
                "--dry-run", duration=0.3) == 0
    steps = read_steps(tmp_path / "b")
    assert steps and steps[0]["obs"][15:18] == pytest.approx([0.2, 0.0, 0.015])  # object_pos term


# ---------------------------------------------------------------------------------------------------- --record
@pytest.mark.slow
def test_record_appends_each_run_as_a_lerobot_episode(reach_package, emu, tmp_path):
    from lerobot.datasets import LeRobotDataset

    from roarm_lab.lerobot_io.features import JOINT_POS_KEYS

    root = tmp_path / "dataset"
    for run in ("a", "b"):
        assert play(emu, reach_package, tmp_path / run, "--record", str(root), duration=1.0) == 0
    ds = LeRobotDataset("local/roarm_real", root=root)
    assert ds.num_episodes == 2 and ds.fps == 30
    assert ds.features["observation.state"]["names"] == list(JOINT_POS_KEYS) == ds.features["action"]["names"]
    assert "observation.environment_state" not in ds.features  # Reach has no object
    for run, episode in (("a", 0), ("b", 1)):
        sent = [s for s in read_steps(tmp_path / run) if s["status"] == "commanded"]
        meta = ds.meta.episodes[episode]
        assert meta["length"] == len(sent) > 20  # every step that sent a command, ~30 per second
        frames = [ds[i] for i in range(meta["dataset_from_index"], meta["dataset_to_index"])]
        # the frames are what the arm reported and what went out on the wire (the emulator's executed T:102)
        assert np.stack([f["observation.state"].numpy() for f in frames]) == pytest.approx(
            np.array([s["q"] for s in sent]), abs=1e-6)
        assert np.stack([f["action"].numpy() for f in frames]) == pytest.approx(
            np.array([s["command"] for s in sent]), abs=1e-6)
        assert summary_of(tmp_path / run)["lerobot_dataset"]["episode"] == episode
    last_sent = model_to_firmware_rad(np.array(ds[len(ds) - 1]["action"].numpy(), dtype=np.float64))
    wire = t102s(emu)[-1]
    assert [wire[k] for k in T102_FIELDS] == pytest.approx(last_sent, abs=1e-5)


def test_record_to_a_folder_that_is_not_a_dataset_is_refused_before_the_port_is_opened(reach_package, emu, tmp_path,
                                                                                       capsys):
    root = tmp_path / "not_a_dataset"
    root.mkdir()
    (root / "notes.txt").write_text("mine")
    assert play(emu, reach_package, tmp_path / "log", "--record", str(root)) == 2
    assert "no LeRobot dataset" in capsys.readouterr().err
    assert emu.snapshot().wire_stats.get("opens", 0) == 0
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]


def test_recorded_object_task_runs_carry_the_cube_and_target(lift_package, emu, tmp_path):
    from lerobot.datasets import LeRobotDataset

    root = tmp_path / "lift"
    assert play(emu, lift_package, tmp_path / "log", "--object", "0.2", "0", "0.015", "--target", "0.2", "0", "0.115",
                "--record", str(root), duration=0.5) == 0
    ds = LeRobotDataset("local/roarm_real", root=root)
    assert ds.features["observation.environment_state"]["names"] == ["cube.x", "cube.y", "cube.z", "target.x",
                                                                     "target.y", "target.z", "cube.yaw_sin4",
                                                                     "cube.yaw_cos4"]
    # the fixed cube has yaw 0: sin 0, cos 0
    assert ds[0]["observation.environment_state"].numpy() == pytest.approx([0.2, 0, 0.015, 0.2, 0, 0.115, 0, 1])


def test_runs_on_a_callers_open_session_leave_it_open_and_start_from_a_fresh_reading(reach_package, tmp_path):
    """improve.py runs many episodes on one open port (opening a USB port may reboot the arm): play neither opens
    nor closes a session it is given, and its first step waits for a reading newer than the session's old ones."""
    from roarm_lab.runner.run import ExitCode, PlayOptions, play, run_link_settings

    emu = emulator(baud=0)
    try:
        link = ArmLinkSettings(port=emu.port, feedback="request", settle_s=0.1, boot_timeout_s=15.0)
        arm = ArmSession(run_link_settings(link, 1.0))
        arm.open()
        time.sleep(1.5)  # the opening reading is now older than the watchdog's 1 s
        for i, target in enumerate(([0.2, 0.1, 0.2], [0.25, -0.1, 0.25])):
            result = play(PlayOptions(policy=reach_package, link=link, duration_s=1.0, target=target, plot=False,
                                      log_dir=tmp_path / f"run_{i}", stale_periods=30, session=arm),
                          echo=lambda _: None)
            assert result.exit_code == ExitCode.OK, result.summary["outcome"]
            assert arm.is_open
        arm.close()
        closed = play(PlayOptions(policy=reach_package, link=link, duration_s=1.0, plot=False,
                                  log_dir=tmp_path / "closed", session=arm), echo=lambda _: None, warn=lambda _: None)
        opens = emu.snapshot().wire_stats["opens"]
    finally:
        emu.stop()
    assert closed.exit_code == ExitCode.ARM_REFUSED and "closed" in closed.summary["outcome"]
    assert opens == 1
