"""scripts/improve.py as users run it: the loop in its own process against the physics twin in another, with a
drawn truth the loop must never read. One round end to end through the CLI; an audit hook records every file the
loop's process opens."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from run_dirs import new_run

from roarm_lab.emulator.twin.truth import draw_truth, save_truth

pytestmark = [pytest.mark.pty, pytest.mark.slow]

LOOP = textwrap.dedent("""
    import json, sys
    opened = []
    sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" and args else None)
    from roarm_lab.cli.improve import main
    rc = main(sys.argv[1:])
    emulator_modules = sorted(m for m in sys.modules if m.startswith("roarm_lab.emulator"))
    print("LOOP " + json.dumps({"rc": rc, "opened": opened, "emulator_modules": emulator_modules}))
""")


def start_twin(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "roarm_lab.emulator", "--twin", "--boot-s", "0.2", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if line.startswith("serial (pty): "):
            return proc, line.split(": ", 1)[1].strip()
    raise AssertionError(f"the twin did not start: {proc.wait()}")


def test_one_round_on_a_twin_whose_truth_the_loop_never_reads(tmp_path):
    run, runner = new_run(tmp_path / "logs", "RoArm-Reach", 4)
    runner.save(str(run / "model_0.pt"))
    truth, log = tmp_path / "truth.yaml", tmp_path / "ground_truth.jsonl"
    save_truth(draw_truth(3), truth)
    proc, port = start_twin("--truth", str(truth), "--truth-log", str(log), "--cube", "0.25", "0", "0")
    workdir = tmp_path / "loop"
    try:
        res = subprocess.run(
            [sys.executable, "-c", LOOP, "--task", "RoArm-Reach", "--port", port, "--feedback", "request",
             "--rounds", "1", "--workdir", str(workdir), "--checkpoint", str(run), "--episodes", "2",
             "--episode-s", "2.5", "--finetune-iterations", "1", "--num-envs", "4", "--eval-episodes", "4",
             "--excitation-s", "4", "--fit-max-iters", "2", "--threads", "1", "--start-speed", "4",
             "--stale-periods", "30", "--settle", "0.1", "--boot-timeout", "15", "--max-success-drop", "1"],
            capture_output=True, text=True, timeout=600)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    report = next((line for line in res.stdout.splitlines() if line.startswith("LOOP ")), None)
    assert report is not None, res.stdout + res.stderr
    result = json.loads(report[len("LOOP "):])
    assert result["rc"] == 0, res.stdout + res.stderr
    assert result["emulator_modules"] == []
    assert all(Path(p).resolve() not in (truth.resolve(), log.resolve()) for p in result["opened"])
    assert any(Path(p) == Path(port) for p in result["opened"])
    metrics = json.loads((workdir / "round_0" / "metrics.json").read_text())
    assert metrics["status"] == "done" and metrics["metric"] is not None
    assert "round 0 done" in res.stdout and (workdir / "rounds.csv").is_file()
