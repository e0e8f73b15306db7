"""The train and play commands end to end (a few PPO iterations on MuJoCo), the progress bar and the learning curves.

The commands run as child processes (``python -m roarm_lab.cli.train``: training sets torch's seed and threads);
the bad-arguments test goes through scripts/train.py and scripts/play.py, the README's commands."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from roarm_lab.isaaclab import launcher
from roarm_lab.tasks.registry import get_entry
from roarm_lab.training.progress import progress_line

REPO = Path(__file__).resolve().parents[2]
TRAIN, PLAY = ("-m", "roarm_lab.cli.train"), ("-m", "roarm_lab.cli.play")


def _run(*args, timeout=600):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def reach_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    result = _run(*TRAIN, "--task", "RoArm-Reach", "--num_envs", "64", "--max_iterations", "3",
                  "--log_root", root)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result, next((root / "RoArm-Reach").iterdir())


@pytest.mark.slow
def test_train_writes_isaac_lab_style_logs(reach_run):
    result, run = reach_run
    assert "backend: mujoco (no CUDA GPU)" in result.stdout or "backend: mujoco" in result.stdout
    assert (run / "params" / "agent.yaml").exists() and (run / "params" / "env.yaml").exists()
    env_params = yaml.safe_load((run / "params" / "env.yaml").read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    assert env_params["task"] == "RoArm-Reach" and env_params["commit"] == head
    assert (run / "model_2.pt").exists()
    assert list(run.glob("events.out.tfevents.*"))
    png = run / "learning_curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert re.search(r"\[#+\] 3/3 it .* ETA 00:00", result.stdout)
    # Reach starts from the analytic-IK expert: every DAgger round is reported, then PPO takes over
    assert len(re.findall(r"DAgger round \d+/\d+", result.stdout)) == get_entry("RoArm-Reach").warm_start.dagger.rounds
    assert "PPO takes over" in result.stdout


@pytest.mark.slow
def test_play_evaluates_a_checkpoint_on_held_out_episodes(reach_run):
    _, run = reach_run
    result = _run(*PLAY, "--task", "RoArm-Reach", "--checkpoint", run / "model_2.pt",
                  "--episodes", "16")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert re.search(r"task=RoArm-Reach episodes=16 success_rate=[0-9.]+", result.stdout)
    assert re.search(r"final_tcp_error_m: median=[0-9.]+ mean=[0-9.]+ p90=[0-9.]+ max=[0-9.]+", result.stdout)


@pytest.mark.slow
def test_resume_continues_from_a_checkpoint(reach_run, tmp_path):
    _, run = reach_run
    result = _run(*TRAIN, "--task", "RoArm-Reach", "--num_envs", "32", "--max_iterations", "1",
                  "--resume", "--checkpoint", run / "model_2.pt", "--log_root", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    resumed = next((tmp_path / "RoArm-Reach").iterdir())
    assert (resumed / "model_2.pt").exists()  # rsl-rl counts on from the loaded iteration (2), not from 0
    # the run began as a clone: its actor's input scaling stays as the clone was fitted to, resumed or not (the
    # critic's normalizer goes on learning)
    assert "normalizer stays frozen" in result.stdout
    assert yaml.safe_load((resumed / "params" / "env.yaml").read_text())["warm_start"] == "dagger"
    before, after = (torch.load(p, map_location="cpu", weights_only=False) for p in (run / "model_2.pt",
                                                                                        resumed / "model_2.pt"))
    norm = [k for k in before["actor_state_dict"] if "obs_normalizer" in k and k.endswith(("mean", "var", "std"))]
    assert norm and all(torch.equal(before["actor_state_dict"][k], after["actor_state_dict"][k]) for k in norm)
    critic = [k for k in before["critic_state_dict"] if "obs_normalizer" in k and k.endswith("mean")]
    assert not all(torch.equal(before["critic_state_dict"][k], after["critic_state_dict"][k]) for k in critic)


@pytest.mark.slow
def test_object_tasks_train_and_pick_place_starts_from_lift_weights(reach_run, tmp_path):
    # Lift's default: the DAgger clone of the reactive picker, then its PPO iterations
    lift = _run(*TRAIN, "--task", "RoArm-Lift", "--num_envs", "32", "--log_root", tmp_path)
    assert lift.returncode == 0, lift.stdout[-2000:] + lift.stderr[-2000:]
    warm = get_entry("RoArm-Lift").warm_start
    assert "PPO takes over" in lift.stdout and f"trained {warm.ppo_iterations} PPO iterations" in lift.stdout
    assert len(re.findall(r"DAgger round \d+/\d+", lift.stdout)) == warm.dagger.rounds
    lift_ckpt = next((tmp_path / "RoArm-Lift").glob(f"*/model_{warm.ppo_iterations - 1}.pt"))
    place = _run(*TRAIN, "--task", "RoArm-PickPlace", "--num_envs", "32",
                 "--max_iterations", "1", "--init_from", lift_ckpt, "--log_root", tmp_path)
    assert place.returncode == 0, place.stdout[-2000:] + place.stderr[-2000:]
    assert "initialised from" in place.stdout
    assert list((tmp_path / "RoArm-PickPlace").glob("*/model_0.pt"))  # a fresh iteration count
    _, reach_dir = reach_run
    wrong = _run(*TRAIN, "--task", "RoArm-Lift", "--num_envs", "32", "--max_iterations", "1",
                 "--init_from", reach_dir / "model_2.pt", "--log_root", tmp_path)
    assert wrong.returncode == 2 and "does not fit" in wrong.stderr


@pytest.mark.slow
def test_bad_arguments_fail_clearly(tmp_path):
    # through scripts/play.py and scripts/train.py, the README's commands
    missing = _run(REPO / "scripts" / "play.py", "--task", "RoArm-Lift", "--checkpoint", tmp_path / "nope.pt")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    resume = _run(REPO / "scripts" / "train.py", "--task", "RoArm-Lift", "--resume", "--log_root", tmp_path)
    assert resume.returncode == 2 and "--resume needs --checkpoint" in resume.stderr


def test_progress_line_eta_is_linear_in_remaining_iterations():
    line = progress_line(5, 10, 50.0, {"reward": 1.5})
    assert "5/10 it" in line and "ETA 00:50" in line and "00:50 elapsed" in line and "reward 1.5" in line
    assert line.count("#") == 15 and "ETA 00:00" in progress_line(10, 10, 99.0, {})
    assert "ETA 1:23:20" in progress_line(1, 101, 50.0, {})


def test_learning_curves_refuse_an_empty_directory(tmp_path):
    from roarm_lab.training.learning_curve import plot_learning_curves

    with pytest.raises(ValueError, match="no training scalars"):
        plot_learning_curves(tmp_path)


@pytest.mark.slow
def test_isaac_lab_hand_off_command_carries_the_options(tmp_path):
    """--distributed (like --video and PhysX) goes to Isaac Lab's own launcher; --print_command shows the call."""
    result = _run(*TRAIN, "--task", "RoArm-Lift", "--backend", "isaaclab", "--distributed",
                  "--num_envs", "4096", "--max_iterations", "7", "--device", "cuda:0", "--print_command",
                  "--log_root", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(x for x in result.stdout.splitlines() if "hand-off to Isaac Lab's launcher" in x)
    args = shlex.split(line.split(": ", 1)[1])
    assert args[1:7] == ["-m", "isaaclab", "train", "--rl_library", "rsl_rl", "--task"] and args[7] == "RoArm-Lift"
    for flag, value in (("--num_envs", "4096"), ("--max_iterations", "7"), ("--device", "cuda:0")):
        assert args[args.index(flag) + 1] == value
    assert "--distributed" in args and "--video" not in args
    assert "agent.device=cuda:0" in args
    assert args[-1] == ("presets=physx" if launcher.isaac_sim_installed() else "presets=newton_mjwarp")


@pytest.mark.slow
def test_isaac_lab_only_options_are_refused_elsewhere(tmp_path):
    video = _run(*TRAIN, "--task", "RoArm-Reach", "--backend", "mujoco", "--video",
                 "--log_root", tmp_path)
    assert video.returncode == 2 and "Isaac Lab options" in video.stderr
    if not launcher.isaac_sim_installed():
        video = _run(*TRAIN, "--task", "RoArm-Reach", "--backend", "isaaclab", "--video", "--log_root", tmp_path)
        assert video.returncode == 2 and "needs Isaac Sim" in video.stderr


@pytest.mark.slow
@pytest.mark.isaaclab
def test_physx_preset_trains_kit_less_on_ovphysx(tmp_path):
    """Without Isaac Sim, --physics physx runs in train.py itself on OvPhysX (no hand-off to Isaac Lab's launcher)."""
    if launcher.isaac_sim_installed():
        pytest.skip("with Isaac Sim installed the physx preset is Isaac Sim's PhysX, run by Isaac Lab's launcher")
    result = _run(*TRAIN, "--task", "RoArm-Lift", "--backend", "isaaclab", "--physics", "physx", "--num_envs", "4",
                  "--max_iterations", "1", "--warm_start", "none", "--log_root", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "hand-off" not in result.stdout
    run = next((tmp_path / "RoArm-Lift").iterdir())
    params = yaml.safe_load((run / "params" / "env.yaml").read_text())
    assert params["backend"] == "isaaclab" and params["physics"] == "physx"
    assert sorted(p.name for p in run.glob("model_*.pt")) == ["model_0.pt"]


def test_run_directory_layout(tmp_path):
    from datetime import datetime

    from roarm_lab.deploy.checkpoint import resolve_checkpoint, task_of_run
    from roarm_lab.training import run as runs

    run = runs.new_run_dir(tmp_path, "RoArm-Lift", started=datetime(2026, 2, 3, 4, 5, 6))
    assert run == tmp_path / "RoArm-Lift" / "2026-02-03_04-05-06" and (run / "params").is_dir()
    runs.write_env_params(run, {"task": "RoArm-Lift", "num_envs": 8})
    runs.write_agent_params(run, {"max_iterations": 3, "seed": 1})
    assert (run / "params" / "env.yaml").read_text() == "task: RoArm-Lift\nnum_envs: 8\n"
    assert yaml.safe_load((run / "params" / "agent.yaml").read_text()) == {"max_iterations": 3, "seed": 1}
    for iteration in (2, 10):
        runs.checkpoint_path(run, iteration).write_bytes(b"")
    assert resolve_checkpoint(run) == run / "model_10.pt" and task_of_run(run / "model_10.pt") == "RoArm-Lift"
