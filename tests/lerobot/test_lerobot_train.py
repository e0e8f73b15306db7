"""`lerobot-train` runs a tiny ACT on sim demos from record_sim_demos (joints + cube/target positions, no
camera) on the CPU, and the checkpoint it writes loads back and acts on a dataset frame."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import os
import runpy
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from emulated_arm import emulator

from roarm_lab.lerobot_io.dataset_features import ACTION, ENVIRONMENT_STATE, STATE

REPO = Path(__file__).resolve().parents[2]
REPO_ID = "local/test_lift_demos"
pytestmark = [pytest.mark.lerobot, pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread", "scratch_hf_cache")]

#: a tiny ACT: no VAE, one encoder and decoder layer, 5-step chunks; no camera, so no vision backbone to download
TINY_ACT = ["--policy.type=act", "--policy.device=cpu", "--policy.push_to_hub=false", "--policy.dim_model=32",
            "--policy.n_heads=2", "--policy.dim_feedforward=64", "--policy.n_encoder_layers=1",
            "--policy.n_decoder_layers=1", "--policy.use_vae=false", "--policy.chunk_size=5",
            "--policy.n_action_steps=5"]


@pytest.fixture(scope="module")
def lift_demos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demos") / "lift"
    from roarm_lab.cli.record_sim_demos import main as record
    with contextlib.redirect_stdout(io.StringIO()):
        code = record(["--task", "RoArm-Lift", "--episodes", "2", "--num-envs", "2", "--root", str(root),
                       "--repo-id", REPO_ID])
    assert code == 0
    return root


@pytest.fixture(scope="module")
def tiny_act(lift_demos, tmp_path_factory) -> tuple[Path, str]:
    """Three lerobot-train steps; the checkpoint's pretrained_model directory and the run's output."""
    assert importlib.util.find_spec("accelerate"), \
        "lerobot-train needs accelerate (LeRobot's 'accelerate-dep' / 'training' extra), which is not installed"
    lerobot_train = shutil.which("lerobot-train")
    assert lerobot_train, "lerobot-train is not on PATH (run through scripts/env.sh)"
    tmp_path = tmp_path_factory.mktemp("act")
    out = tmp_path / "train"
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_LEROBOT_HOME": str(tmp_path / "hf" / "lerobot"),
           "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled"}
    cmd = [lerobot_train, f"--dataset.repo_id={REPO_ID}", f"--dataset.root={lift_demos}",
           "--dataset.video_backend=pyav", *TINY_ACT, "--steps=3", "--batch_size=2", "--num_workers=0",
           "--save_freq=3", "--log_freq=1", "--env_eval_freq=0", "--wandb.enable=false", "--seed=0",
           f"--output_dir={out}"]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    return out / "checkpoints" / "000003" / "pretrained_model", run.stderr + run.stdout


def test_tiny_act_trains_on_sim_demos_and_acts(lift_demos, tiny_act):
    model, output = tiny_act
    assert "step:3 " in output  # three optimizer steps were logged
    assert (model / "config.json").is_file() and (model / "model.safetensors").is_file()

    from lerobot.datasets.lerobot_dataset import LeRobotDataset
    from lerobot.policies.act.modeling_act import ACTPolicy
    from lerobot.policies.factory import make_pre_post_processors

    policy = ACTPolicy.from_pretrained(model)
    policy.eval()
    assert set(policy.config.input_features) == {STATE, ENVIRONMENT_STATE}
    assert policy.config.chunk_size == 5 and policy.config.dim_model == 32
    preprocess, postprocess = make_pre_post_processors(policy.config, pretrained_path=str(model))
    dataset = LeRobotDataset(REPO_ID, root=lift_demos, video_backend="pyav")
    frame = dataset[10]
    with torch.inference_mode():
        action = postprocess(policy.select_action(preprocess({k: frame[k] for k in (STATE, ENVIRONMENT_STATE)})))
    assert action.shape == (1, 6) and torch.isfinite(action).all()
    # the normalization LeRobot saved with the policy is this dataset's action statistics
    unnormalizer = postprocess.steps[0]
    np.testing.assert_allclose(np.asarray(unnormalizer.stats[ACTION]["mean"]),
                               np.asarray(dataset.meta.stats[ACTION]["mean"]), rtol=1e-5)


def test_the_trained_policy_runs_on_the_emulated_arm(tiny_act, capsys):
    """scripts/run_lerobot_policy.py: the ACT checkpoint drives the emulated arm through the follower plugin; its
    first command is the policy's action for the arm's first reading, after the safety layer's step bound."""
    from lerobot.policies.act.modeling_act import ACTPolicy
    from lerobot.policies.factory import make_pre_post_processors

    from roarm_lab.description import HARDWARE_SAFE, HOME_POSE
    from roarm_lab.description.firmware_units import T102_FIELDS, firmware_to_model_rad, model_to_firmware_rad

    model, _ = tiny_act
    run = runpy.run_path(str(REPO / "scripts" / "run_lerobot_policy.py"))["main"]
    cube, goal = [0.2, 0.0, 0.015], [0.2, 0.0, 0.115]  # cube on the table, lift goal 10 cm above it
    with emulator(baud=0) as emu:
        assert run(["--policy", str(model), "--port", emu.port, "--duration", "0.5"]) == 2  # the cube is needed
        assert "observation.environment_state" in capsys.readouterr().err
        assert emu.snapshot().wire_stats.get("opens", 0) == 0, "refused before the port was opened"
        code = run(["--policy", str(model), "--port", emu.port, "--cube", *map(str, cube), "--target",
                    *map(str, goal), "--cube-yaw", "30", "--duration", "1.0", "--boot-timeout", "5"])
        assert code == 0, capsys.readouterr().err
        sent = [c for c in emu.snapshot().executed if c["T"] == 102]
        assert len(sent) >= 20  # ~30 Hz for 1 s

    policy = ACTPolicy.from_pretrained(model)
    policy.eval()
    preprocess, postprocess = make_pre_post_processors(policy.config, pretrained_path=str(model))
    batch = {STATE: torch.tensor([HOME_POSE], dtype=torch.float32),  # the emulated arm boots at home (facts §3.2)
             ENVIRONMENT_STATE: torch.tensor([[*cube, *goal, math.sin(4 * math.radians(30)),
                                               math.cos(4 * math.radians(30))]], dtype=torch.float32)}
    with torch.inference_mode():
        first = postprocess(policy.select_action(preprocess(batch)))[0].numpy().astype(np.float64)
    lower, upper = np.array(HARDWARE_SAFE.lower) + 0.02, np.array(HARDWARE_SAFE.upper) - 0.02  # the margin
    start = np.clip(HOME_POSE, lower, upper)  # the safety layer starts from the measured pose inside the limits
    expected = np.clip(np.clip(first, start - 0.1, start + 0.1), lower, upper)
    got, want = np.array([sent[0][k] for k in T102_FIELDS]), model_to_firmware_rad(expected)
    assert np.max(np.abs(got - want)) < 2e-3, (got, want)
    commanded = firmware_to_model_rad(np.array([[c[k] for k in T102_FIELDS] for c in sent]))
    assert np.all(commanded >= lower - 1e-4) and np.all(commanded <= upper + 1e-4)
    steps = np.abs(np.diff(commanded, axis=0))
    assert np.all(steps <= 0.1 + 1e-4)  # the follower's step bound, per joint and action
    assert "completed" in capsys.readouterr().out


def test_the_trained_policy_is_evaluated_in_closed_loop_in_mujoco(tiny_act, capsys):
    """eval_lerobot_policy (:mod:`roarm_lab.cli.eval_lerobot_policy`) runs the checkpoint on the held-out MuJoCo
    episodes play.py uses; the env applies the policy's joint targets (the inverse of the action mapping
    round-trips them)."""
    from roarm_lab.tasks.mdp.actions import actions_for_targets, joint_targets

    model, _ = tiny_act
    from roarm_lab.cli.eval_lerobot_policy import main as evaluate
    assert evaluate(["--task", "RoArm-Lift", "--policy", str(model), "--episodes", "2"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("task="))
    assert line.startswith("task=RoArm-Lift episodes=2 success_rate=")
    rate = float(line.split("success_rate=")[1].split()[0])
    assert rate in (0.0, 0.5, 1.0)
    inside = torch.tensor([[0.3, 0.2, 1.4, 0.1, -0.1, 0.7]])
    torch.testing.assert_close(joint_targets(actions_for_targets(inside)), inside)
    assert evaluate(["--task", "RoArm-Lift", "--policy", str(model.parent), "--episodes", "2"]) == 2
    assert "no config.json" in capsys.readouterr().err
