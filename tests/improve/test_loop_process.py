"""scripts/improve.py as users run it: the loop in its own process against the physics twin in another, with a
drawn truth the loop must never read. One round end to end through the CLI; an audit hook records every file the
loop's process opens."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from run_dirs import new_run
from twin_process import run_audited, start_twin, stop_twin

from roarm_lab import kinematics
from roarm_lab.description.robot_profile import load_profile
from roarm_lab.emulator.twin.truth import draw_truth, load_truth, save_truth

pytestmark = [pytest.mark.pty, pytest.mark.slow]

def test_one_round_on_a_twin_whose_truth_the_loop_never_reads(tmp_path):
    run, runner = new_run(tmp_path / "logs", "RoArm-Reach", 4)
    runner.save(str(run / "model_0.pt"))
    truth, log = tmp_path / "truth.yaml", tmp_path / "ground_truth.jsonl"
    save_truth(draw_truth(3), truth)
    proc, port = start_twin("--truth", str(truth), "--truth-log", str(log), "--cube", "0.25", "0", "0")
    workdir = tmp_path / "loop"
    try:
        result, res = run_audited("roarm_lab.cli.improve", [
            "--task", "RoArm-Reach", "--port", port, "--feedback", "request",
            "--rounds", "1", "--workdir", str(workdir), "--checkpoint", str(run), "--episodes", "2",
            "--episode-s", "2.5", "--finetune-iterations", "1", "--num-envs", "4", "--eval-episodes", "4",
            "--excitation-s", "4", "--fit-max-iters", "2", "--threads", "1", "--start-speed", "4",
            "--stale-periods", "30", "--settle", "0.1", "--boot-timeout", "15", "--max-success-drop", "1",
            "--touch-points", "6"])
    finally:
        stop_twin(proc)
    assert result["rc"] == 0, res.stdout + res.stderr
    assert result["emulator_modules"] == []
    assert all(Path(p).resolve() not in (truth.resolve(), log.resolve()) for p in result["opened"])
    assert any(Path(p) == Path(port) for p in result["opened"])
    metrics = json.loads((workdir / "round_0" / "metrics.json").read_text())
    assert metrics["status"] == "done" and metrics["metric"] is not None
    assert "round 0 done" in res.stdout and (workdir / "rounds.csv").is_file()
    # the table touches found the truth's shoulder, elbow and wrist offsets well enough that the tool's place as the
    # loop now computes it (the encoders less the identified offsets) is nearer the truth than the encoders' alone
    # (the truth's base offset, which no touch of the table can see, stays in both)
    true_offsets = np.array(load_truth(truth).encoder_offset_rad)
    identified = np.array(load_profile(workdir / "round_0" / "profile.yaml").encoder_offsets)
    assert metrics["identify"]["touch"]["touches"] == 6
    near, far = [], []
    for episode in metrics["episodes"].values():
        q = np.array(json.loads((Path(episode["log"]) / "summary.json").read_text())["final_measured_q"])
        tcp = kinematics.tcp_position(q - true_offsets)
        near.append(np.linalg.norm(kinematics.tcp_position(q - identified) - tcp))
        far.append(np.linalg.norm(kinematics.tcp_position(q) - tcp))
    assert np.median(near) < 0.5 * np.median(far), (near, far)
