"""The twin as users run it: ``emulate_arm.py --twin`` in its own process, a host process driving it over the
pseudo-terminal. The host must learn nothing of the truth but what comes over the port: it never opens the truth
file or the ground-truth log, and never imports the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_dirs import new_run
from twin_process import run_audited, start_twin, stop_twin

from roarm_lab.cli.export_onnx import main as export_onnx_main
from roarm_lab.emulator.twin.truth import draw_truth, save_truth

pytestmark = [pytest.mark.pty, pytest.mark.slow]

@pytest.fixture(scope="module")
def reach_package(tmp_path_factory) -> Path:
    """An untrained Reach policy, exported: what it does does not matter here, only that it drives the arm."""
    run, runner = new_run(tmp_path_factory.mktemp("logs"), "RoArm-Reach", 4)
    runner.save(str(run / "model_0.pt"))
    out = run.parent / "reach.onnx"
    assert export_onnx_main(["--checkpoint", str(run), "--out", str(out)]) == 0
    return out


def test_the_host_sees_only_bytes_on_the_port(reach_package, tmp_path):
    truth, log = tmp_path / "truth.yaml", tmp_path / "ground_truth.jsonl"
    save_truth(draw_truth(5), truth)
    proc, port = start_twin("--truth", str(truth), "--truth-log", str(log), "--cube", "0.25", "0", "0")
    try:
        result, host = run_audited("roarm_lab.cli.play_real", [
            "--policy", str(reach_package), "--port", port, "--log", str(tmp_path / "run"), "--settle", "0.1",
            "--boot-timeout", "15", "--duration", "1.5", "--no-plot", "--stale-periods", "30"], timeout=300)
    finally:
        twin_out = stop_twin(proc)
    assert result["rc"] == 0, host.stdout + host.stderr
    assert result["emulator_modules"] == []
    assert all(Path(p).resolve() not in (truth.resolve(), log.resolve()) for p in result["opened"])
    assert any(Path(p) == Path(port) for p in result["opened"])  # the audit hook does see the port being opened
    # the twin did run the policy's commands: its ground truth moved and it kept (about) real time
    stats = json.loads(next(line for line in twin_out.splitlines() if line.startswith("twin stats: "))[12:])
    assert stats["physics_steps"] > 0
    assert len(log.read_text().splitlines()) > 10
