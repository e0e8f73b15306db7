"""benchmarks/gpu_check.sh, as far as a CPU allows: the dry run's plan, the refusals, the wheel list kept current,
and its Python stages run for real on the CPU at a tiny size (the GPU figures come from a GPU machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "gpu_check.sh"
STAGES = REPO / "benchmarks" / "gpu_check.py"
pytestmark = pytest.mark.isaaclab


def _sh(*args, timeout=300):
    env = {**os.environ, "PYTHONPATH": str(REPO / "source")}
    return subprocess.run(["bash", str(SCRIPT), "--python", sys.executable, *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def _stage(*args, timeout=900):
    env = {**os.environ, "PYTHONPATH": str(REPO / "source")}
    return subprocess.run([sys.executable, str(STAGES), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_dry_run_prints_every_stage_inside_ten_minutes_and_runs_nothing(tmp_path):
    out = tmp_path / "figures.json"
    result = _sh("--dry-run", "--out", out)
    assert result.returncode == 0, result.stderr
    commands = [line[2:].split() for line in result.stdout.splitlines() if line.startswith("+ timeout ")]
    stages = [(c[4], c[c.index("--physics") + 1] if "--physics" in c else c[c.index("--task") + 1]
               if "--task" in c else "") for c in commands]
    assert stages == [("reach", "newton_mjwarp"), ("reach", "physx"), ("object", "RoArm-Lift"),
                      ("object", "RoArm-PickPlace"), ("merge", "")]
    assert sum(int(c[1]) for c in commands) <= 600, "the shares and the merge exceed 10 minutes"
    for c in commands[:4]:
        assert c[c.index("--num_envs") + 1] == "4096" and c[c.index("--device") + 1] == "cuda:0"
    assert "missing from benchmarks/gpu_wheels.txt: none" in result.stdout  # this environment has all of it
    assert "dry run: nothing ran" in result.stdout and not out.exists()


def test_refuses_bad_options_and_a_machine_without_cuda(tmp_path):
    bad = _sh("--num-envs", "0")
    assert bad.returncode == 2 and "positive integers" in bad.stderr
    assert _sh("--frobnicate").returncode == 2
    assert _sh("--wheels", tmp_path / "nope").returncode == 2
    real = _sh("--out", tmp_path / "figures.json")
    assert real.returncode == 2 and "no CUDA device" in real.stderr


def test_wheel_list_is_current():
    """The committed list is what `gpu_check.py wheels` derives from this environment (torch and its own
    dependencies left out: the GPU machine has them)."""
    result = _stage("wheels", timeout=120)
    assert result.returncode == 0, result.stderr
    committed = (REPO / "benchmarks" / "gpu_wheels.txt").read_text()
    assert result.stdout == committed, "regenerate: python benchmarks/gpu_check.py wheels > benchmarks/gpu_wheels.txt"
    names = [line.split("==")[0] for line in committed.splitlines() if line and not line.startswith("#")]
    for needed in ("isaaclab", "rsl-rl-lib", "warp-lang", "newton", "mujoco-warp", "ovphysx", "ovstage"):
        assert needed in names
    assert "torch" not in names and not any(n.startswith("nvidia-") for n in names)


@pytest.mark.slow
def test_reach_stage_measures_throughput_and_tcp_error_on_the_cpu(tmp_path):
    physics = "physx"  # (the stage is the same code on Newton, which the other Isaac Lab tests cover)
    out = tmp_path / "reach.json"
    result = _stage("reach", "--physics", physics, "--num_envs", 8, "--iterations", 2, "--device", "cpu",
                    "--out", out)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures["physics"] == physics and figures["iterations"] == 2 and not figures["cut"]
    assert figures["env_steps_per_s"] > 0 and figures["iterations_per_s"] > 0
    assert figures["device"] == "cpu" and figures["torch"]
    # two iterations of PPO from scratch do not reach 1 cm: the field says so instead of inventing a time
    assert figures["time_to_1cm_median_tcp_s"] is None or figures["final_median_tcp_error_m"] <= 0.01


@pytest.mark.slow
def test_object_stage_trains_and_evaluates_and_merge_collects(tmp_path):
    part = tmp_path / "lift.json"
    result = _stage("object", "--task", "RoArm-Lift", "--physics", "physx", "--num_envs", 4, "--iterations", 1,
                    "--device", "cpu", "--no_warm_start", "--eval_episodes", 2, "--log_root", tmp_path / "logs",
                    "--out", part)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = json.loads(part.read_text())
    assert figures["stage"] == "RoArm-Lift" and figures["eval_episodes"] == 2
    assert 0.0 <= figures["success_rate"] <= 1.0 and figures["train_s"] > 0
    assert Path(figures["checkpoint"]).is_file()
    merged = tmp_path / "all.json"
    assert _stage("merge", "--out", merged, part, tmp_path / "reach_physx.json").returncode == 0
    stages = json.loads(merged.read_text())["stages"]
    assert stages[0]["success_rate"] == figures["success_rate"]
    assert stages[1] == {"stage": "reach_physx", "missing": True}
