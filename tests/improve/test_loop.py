"""The improvement loop (scripts/improve.py) against the in-process emulators: a tiny untrained Reach checkpoint,
2 episodes of 2.5 s, a 1-iteration fine-tune on 4 environments, a small fit. A round's layout, resume without
re-recording, the dry run, and the faults: a disconnect mid-deploy, a fit that fails, a touch that finds no table, a
candidate the gate refuses."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest
from emulated_arm import emulator
from run_dirs import new_run

from roarm_lab.driver.session import ArmLinkSettings
from roarm_lab.emulator import Faults
from roarm_lab.improve.layout import Layout
from roarm_lab.improve.loop import ImprovementLoop, LoopOptions
from roarm_lab.runner.run import play
from roarm_lab.sysid.config import DEFAULT_FIT

pytestmark = [pytest.mark.pty, pytest.mark.slow]
TASK = "RoArm-Reach"
SMALL_FIT = dataclasses.replace(DEFAULT_FIT, max_iters=2, refit_iters=1)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    run, runner = new_run(tmp_path_factory.mktemp("logs"), TASK, 4)
    runner.save(str(run / "model_0.pt"))
    return run


def options(emu, workdir: Path, checkpoint: Path, **kw) -> LoopOptions:
    link = ArmLinkSettings(port=emu.port, feedback="request", settle_s=0.1, boot_timeout_s=15.0)
    base = dict(task=TASK, link=link, workdir=workdir, rounds=1, checkpoint=checkpoint, episodes=2, episode_s=2.5,
                finetune_iterations=1, num_envs=4, eval_episodes=4, excitation_s=4.0, fit=SMALL_FIT, threads=1,
                start_speed_rad_s=4.0, stale_periods=30, touch_points=0)  # the kinematic servos pass through tables
    base.update(kw)
    return LoopOptions(**base)


def dataset_episodes(root: Path) -> int:
    return json.loads((root / "meta" / "info.json").read_text())["total_episodes"]


def t102s(emu) -> list[dict]:
    return [c for c in emu.snapshot().executed if c["T"] == 102]


def test_a_round_resumes_without_re_recording_and_keeps_the_policy_the_gate_refuses(checkpoint, tmp_path, capsys):
    emu = emulator(baud=0)
    calls = []

    def interrupted(opts):  # Ctrl+C before the second episode: the first one is recorded
        calls.append(opts)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return play(opts)

    try:
        # the gate refuses every candidate: it must be 100 points better in simulation
        o = options(emu, tmp_path / "loop", checkpoint, max_success_drop=-1.0)
        assert ImprovementLoop(o, play_fn=interrupted).run() == 0
        lay = Layout(o.workdir)
        state = json.loads(lay.state_file(0).read_text())
        assert state["status"] == "stopped" and list(state["stages"]["deploy"]["episodes"]) == ["0"]
        assert dataset_episodes(lay.dataset(False)) == 1

        calls.clear()
        resumed = ImprovementLoop(o, play_fn=lambda opts: calls.append(opts) or play(opts))
        assert resumed.run() == 0
    finally:
        emu.stop()
    assert emu.crash is None
    out = capsys.readouterr()
    # episode 1 only (episode 0 was not deployed again), then the gate's dry runs of the current policy and of the
    # candidate, then the policy the round kept, deployed and measured as round 1
    assert [c.dry_run for c in calls] == [False, True, True, True, True, False, False]
    current = calls[0].policy
    assert [c.policy == current for c in calls] == [True, True, True, False, False, True, True]
    assert dataset_episodes(lay.dataset(False)) == 4
    r0 = lay.round(0)
    for name in ("profile.yaml", "policy.onnx", "checkpoint/model_1.pt", "checkpoint/params/env.yaml",
                 "sysid/report/heldout_joints.png", "deploy/episode_0/summary.json", "deploy/episode_1/steps.jsonl",
                 "metrics.json", "state.json"):
        assert (r0 / name).exists(), name
    assert (lay.root / "episodes.json").is_file() and (lay.root / "rounds.png").is_file()
    metrics = json.loads((r0 / "metrics.json").read_text())
    assert metrics["status"] == "done" and metrics["metric_name"] == "median_final_tcp_error_m"
    assert 0 <= metrics["metric"] < 0.6
    assert metrics["identify"]["hash"] and "excitation" in metrics["identify"]  # too little motion: excited
    gate = metrics["gate"]
    assert gate["accepted"] is False and "held-out success" in gate["reason"]
    assert "the current policy stays" in out.err
    rows = list(csv.DictReader((lay.root / "rounds.csv").open()))
    assert len(rows) == 2 and rows[0]["accepted"] == "False" and float(rows[0]["metric"]) == metrics["metric"]
    assert all(float(rows[0][f"{s}_s"]) > 0 for s in ("deploy", "identify", "finetune", "gate"))
    # round 1: the policy round 0 kept, deployed and measured; the next run of the loop resumes it at identify
    r1 = json.loads((lay.round(1) / "metrics.json").read_text())
    assert r1["status"] == "deployed" and r1["deployed"]["policy"] == metrics["deployed"]["policy"]
    assert rows[1]["metric"] != "" and rows[1]["accepted"] == ""
    nxt = ImprovementLoop(o)
    nxt._setup()
    assert nxt._first_unfinished() == 1 and nxt._round_state(1)["stages"]["deploy"]["done"]


def test_a_dry_run_sends_no_motion(checkpoint, tmp_path):
    emu = emulator(baud=0)
    try:
        boot = len(t102s(emu))
        o = options(emu, tmp_path / "loop", checkpoint, dry_run=True, max_success_drop=1.0, clamp_allowance=10**6)
        assert ImprovementLoop(o).run() == 0
        assert len(t102s(emu)) == boot
        # 8 runs (2 deployed, 2 + 2 in the gate, 2 deployed as round 1) on one open port per stage: opening a USB
        # port may reboot the arm
        assert emu.snapshot().wire_stats["opens"] == 4
    finally:
        emu.stop()
    lay = Layout(o.workdir)
    metrics = json.loads((lay.round(0) / "metrics.json").read_text())
    assert metrics["dry_run"] and "dry run" in metrics["identify"]["skipped"]
    assert metrics["gate"]["accepted"] is True
    assert not lay.dataset(False).exists() and dataset_episodes(lay.dataset(True)) == 4  # + round 1
    nxt = ImprovementLoop(o)
    nxt._setup()
    assert nxt._round_state(1)["policy"] == str(lay.round(0) / "policy.onnx")  # the candidate goes out next


def test_a_disconnect_mid_deploy_stops_the_loop_with_the_arm_held(checkpoint, tmp_path, capsys):
    emu = emulator(baud=0, faults=Faults(disconnect_after_s=1.5))
    try:
        o = options(emu, tmp_path / "loop", checkpoint)
        assert ImprovementLoop(o).run() == 1
    finally:
        emu.stop()
    err = capsys.readouterr().err
    assert "round 0 deploy episode 0" in err and "told to hold" in err and "resume" in err
    lay = Layout(o.workdir)
    state = json.loads(lay.state_file(0).read_text())
    assert state["status"] == "failed" and not state["stages"]["deploy"]["done"]
    assert (lay.episode_log(0, 0) / "steps.jsonl").is_file()
    assert json.loads((lay.round(0) / "metrics.json").read_text())["message"].startswith("round 0 deploy")


def test_a_fit_that_fails_stops_the_round_and_keeps_its_recordings(checkpoint, tmp_path, capsys):
    emu = emulator(baud=0)
    try:  # nothing is ever enough motion, and no excitation is allowed
        o = options(emu, tmp_path / "loop", checkpoint, excitation_s=0.0,
                    fit=dataclasses.replace(SMALL_FIT, min_motion_rad=10.0))
        assert ImprovementLoop(o).run() == 1
    finally:
        emu.stop()
    err = capsys.readouterr().err
    assert "identify: the fit failed" in err and "too little motion" in err
    lay = Layout(o.workdir)
    state = json.loads(lay.state_file(0).read_text())
    assert state["status"] == "failed" and state["stages"]["deploy"]["done"]
    assert not state["stages"]["identify"]["done"]
    assert dataset_episodes(lay.dataset(False)) == 2


def test_a_touch_that_finds_no_table_stops_the_round_with_the_arm_held(checkpoint, tmp_path, capsys):
    emu = emulator(baud=0)  # the kinematic servos follow every command: the tool goes through where the table is
    try:
        o = options(emu, tmp_path / "loop", checkpoint, touch_points=5)
        assert ImprovementLoop(o).run() == 1
        executed = emu.snapshot().executed
    finally:
        emu.stop()
    err = capsys.readouterr().err
    assert "round 0 touch: fault" in err and "no contact" in err and "hold" in err
    # the last command is the probe's hold: a T:102 to the measured pose, never T:0
    moves = [c for c in executed if c["T"] != 105]  # feedback requests aside
    assert moves[-1]["T"] == 102 and all(c["T"] != 0 for c in executed)
    lay = Layout(o.workdir)
    state = json.loads(lay.state_file(0).read_text())
    assert state["status"] == "failed" and state["stages"]["deploy"]["done"] and not state["stages"]["identify"]["done"]
    assert not (lay.round(0) / "sysid" / "touch.json").exists() and dataset_episodes(lay.dataset(False)) == 2


def test_a_pickplace_round_measures_the_cube_with_the_camera(tmp_path):
    """PickPlace on the twin with its camera served over HTTP: the deployment's metric is the camera's final
    cube-to-target distance, which matches the twin's hidden truth."""
    import numpy as np

    from roarm_lab.emulator import Emulator, EmulatorConfig
    from roarm_lab.emulator.twin.camera import CameraTruth
    from roarm_lab.emulator.twin.mjpeg import MjpegServer
    from roarm_lab.emulator.twin.settings import TwinConfig
    from roarm_lab.perception.calibration import CameraCalibration, CameraIntrinsics
    from roarm_lab.runner.objects import CameraOptions

    run, runner = new_run(tmp_path / "logs", "RoArm-PickPlace", 4)
    runner.save(str(run / "model_0.pt"))
    cam = CameraTruth(fps=10.0)
    calib = CameraCalibration(CameraIntrinsics(cam.width, cam.height, cam.matrix(), np.zeros(5)),
                              cam.world_from_camera(), "truth").save(tmp_path / "camera.json")
    emu = Emulator(EmulatorConfig(baud=0, boot_duration_s=0.3, twin=TwinConfig(cube=(0.22, 0.04, 0.3),
                                                                                camera=cam))).start()
    server = MjpegServer(emu.core.plant.frames).start()
    try:
        o = options(emu, tmp_path / "loop", run, task="RoArm-PickPlace", episodes=1, episode_s=2.0,
                    camera=CameraOptions(server.url, calib))
        assert ImprovementLoop(o).run() == 0
        cube, _ = emu.core.plant.cube_pose()
    finally:
        server.stop()
        emu.stop()
    lay = Layout(o.workdir)
    state = json.loads(lay.state_file(0).read_text())
    episode = json.loads(lay.episodes_file.read_text())[0]
    measured = state["stages"]["deploy"]["episodes"]["0"]["metric"]
    truth = float(np.linalg.norm(np.asarray(cube[:2]) - np.asarray(episode["target"][:2])))
    assert abs(measured - truth) < 0.003
