"""`lerobot-train` runs a tiny ACT on sim demos from record_sim_demos (joints + cube/target positions, no
camera) on the CPU, and the checkpoint it writes loads back and acts on a dataset frame."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import os
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
pytestmark = [pytest.mark.lerobot, pytest.mark.slow, pytest.mark.usefixtures("scratch_hf_cache")]

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


def run_lerobot(model: Path, emu, log: Path, *extra: str) -> int:
    from roarm_lab.cli.run_lerobot_policy import main

    return main(["--policy", str(model), "--port", emu.port, "--log", str(log), "--settle", "0.1",
                 "--boot-timeout", "5", "--start-speed", "4", "--no-plot", "--task", "RoArm-Lift", *extra])


@pytest.mark.pty
def test_the_trained_policy_runs_on_the_emulated_arm(tiny_act, tmp_path, capsys):
    """scripts/run_lerobot_policy.py: the ACT checkpoint drives the emulated arm through the runner; each step's
    target is the policy's action for the joints that step measured, and what went out is that target after the
    safety layer (limits less the margin, at most 0.1 rad per step)."""
    from lerobot.policies.act.modeling_act import ACTPolicy
    from lerobot.policies.factory import make_pre_post_processors

    from roarm_lab.description import HARDWARE_SAFE
    from roarm_lab.description.firmware_units import T102_FIELDS, firmware_to_model_rad
    from roarm_lab.runner.run_log import read_steps

    model, _ = tiny_act
    cube, goal = [0.2, 0.0, 0.015], [0.2, 0.0, 0.115]  # cube on the table, lift goal 10 cm above it
    with emulator(baud=0) as emu:
        assert run_lerobot(model, emu, tmp_path / "refused", "--duration", "0.5") == 2  # the cube is needed
        assert "observation.environment_state" in capsys.readouterr().err
        assert emu.snapshot().wire_stats.get("opens", 0) == 0, "refused before the port was opened"
        code = run_lerobot(model, emu, tmp_path / "log", "--cube", *map(str, cube), "--target", *map(str, goal),
                           "--cube-yaw", "30", "--duration", "1.0")
        assert code == 0, capsys.readouterr().err
        sent = [c for c in emu.snapshot().executed if c["T"] == 102]
    assert "completed" in capsys.readouterr().out
    steps = [s for s in read_steps(tmp_path / "log") if s["status"] == "commanded"]
    assert len(steps) >= 20  # ~30 Hz for 1 s

    policy = ACTPolicy.from_pretrained(model)
    policy.eval()
    preprocess, postprocess = make_pre_post_processors(policy.config, pretrained_path=str(model))
    env_state = [*cube, *goal, math.sin(4 * math.radians(30)), math.cos(4 * math.radians(30))]
    with torch.inference_mode():  # the first step, as the policy's first action on its measured joints
        first = postprocess(policy.select_action(preprocess({
            STATE: torch.tensor([steps[0]["q"]], dtype=torch.float32),
            ENVIRONMENT_STATE: torch.tensor([env_state], dtype=torch.float32)})))[0].numpy()
    np.testing.assert_allclose(steps[0]["policy_target"], first, atol=1e-5)
    lower, upper = np.array(HARDWARE_SAFE.lower) + 0.02, np.array(HARDWARE_SAFE.upper) - 0.02  # the margin
    commands = np.array([s["command"] for s in steps])
    assert np.all(commands >= lower - 1e-9) and np.all(commands <= upper + 1e-9)
    assert np.all(np.abs(np.diff(commands, axis=0)) <= 0.1 + 1e-9)  # the step bound
    # what the emulated arm executed last is the last step's command (model rad, to a firmware rounding)
    last = firmware_to_model_rad(np.array([sent[-1][k] for k in T102_FIELDS]))
    np.testing.assert_allclose(last, commands[-1], atol=2e-3)


@pytest.mark.pty
def test_a_stale_arm_stops_the_lerobot_policy_and_holds(tiny_act, tmp_path, capsys):
    """The same watchdog and hold as an ONNX package (test_play_real): feedback stops mid-run, the run stops with
    StaleFeedbackError long before --duration, and the arm is told to hold its last measured pose."""
    from emulated_arm import summary_of, when_steps_logged

    from roarm_lab.driver.session import HOLD_SPD

    model, _ = tiny_act
    log = tmp_path / "log"
    with emulator(baud=0) as emu:
        def stop_feedback():
            emu.config.faults.drop_line_prob = 1.0

        trigger = when_steps_logged(log, 10, stop_feedback)
        code = run_lerobot(model, emu, log, "--cube", "0.2", "0", "0.015", "--target", "0.2", "0", "0.115",
                           "--duration", "20", "--feedback", "request")
        trigger.join()
        sent = [c for c in emu.snapshot().executed if c["T"] == 102]
    assert code == 1
    summary = summary_of(log)
    assert "StaleFeedbackError" in summary["outcome"] and "no fresh feedback" in capsys.readouterr().err
    assert summary["hold"].startswith("sent") and summary["timing"]["steps"] < 20 * 30 / 2
    assert sent[-1]["spd"] == HOLD_SPD  # the last command the arm read is the hold


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


@pytest.mark.pty
def test_the_trained_policy_takes_the_cube_from_a_camera(tiny_act, tmp_path, capsys):
    """run_lerobot_policy.py --cube-camera: each step's observation.environment_state holds the cube the camera
    found (the twin camera's view of a cube at a known place), as play_real.py --camera gives an ONNX policy."""
    from camera_frames import cube_video, truth_calibration
    from lerobot.policies.act.modeling_act import ACTPolicy
    from lerobot.policies.factory import make_pre_post_processors

    from roarm_lab.runner.run_log import read_steps

    model, _ = tiny_act
    cube, goal = (0.21, -0.05, math.radians(20)), [0.21, -0.05, 0.115]
    src = cube_video(tmp_path / "cube.avi", cube, seconds=4.0)
    calib = truth_calibration(tmp_path / "camera.json")
    with emulator(baud=0) as emu:
        code = run_lerobot(model, emu, tmp_path / "log", "--cube-camera", str(src), "--camera-calib", str(calib),
                           "--target", *map(str, goal), "--duration", "1.0")
        assert code == 0, capsys.readouterr().err
    steps = [s for s in read_steps(tmp_path / "log") if s["status"] == "commanded"]
    assert len(steps) >= 20
    seen = steps[0]["object"]
    assert np.linalg.norm(np.asarray(seen[:3]) - [cube[0], cube[1], 0.015]) < 0.003
    assert abs(seen[3] - cube[2]) < math.radians(3)
    policy = ACTPolicy.from_pretrained(model)
    policy.eval()
    preprocess, postprocess = make_pre_post_processors(policy.config, pretrained_path=str(model))
    env_state = [*seen[:3], *goal, math.sin(4 * seen[3]), math.cos(4 * seen[3])]
    with torch.inference_mode():
        first = postprocess(policy.select_action(preprocess({
            STATE: torch.tensor([steps[0]["q"]], dtype=torch.float32),
            ENVIRONMENT_STATE: torch.tensor([env_state], dtype=torch.float32)})))[0].numpy()
    np.testing.assert_allclose(steps[0]["policy_target"], first, atol=1e-4)
