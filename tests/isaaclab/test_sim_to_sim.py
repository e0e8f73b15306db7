"""Sim-to-sim (issue 4): the MuJoCo backend against Isaac Lab kit-less (Newton / MuJoCo-Warp) on the CPU.

Open loop: the same raw-action sequence (sinusoids, then two steps that saturate the servos, on all six joints)
from home through both backends gives joint trajectories within 0.02 rad RMS per joint and TCP trajectories
within 5 mm, with nominal physics and with randomized physics (both backends draw the same values per
environment for a seed). Closed loop: a Reach policy trained briefly on MuJoCo keeps >= 80 % of its success in
Isaac Lab on the same held-out episodes.

Each Isaac Lab run builds its own environment and closes it (one simulation per process).
"""

from __future__ import annotations

import importlib
import re

import pytest
import torch

from roarm_lab import kinematics
from roarm_lab.description import HARDWARE_SAFE
from roarm_lab.sim_to_sim import (
    MAX_JOINT_RMS_RAD,
    MAX_TCP_DEVIATION_M,
    MIN_SUCCESS_RATIO,
    compare_open_loop,
    compare_policy,
    open_loop_targets,
)

#: Newton runs the MJCF-equivalent model through MuJoCo-Warp, so with the actuator mapping right the backends agree
#: to float32 rounding (< 1e-6 rad nominal, ~4e-5 rad randomized). An explicit back-EMF damping (a DC-motor
#: actuator model) drifted 2-4e-2 rad; this bound catches such a mapping error with margin to spare.
MAPPING_MAX_ABS_RAD = 1e-3
MIN_TRAVEL_RAD = 0.5  # every joint moves at least this much in the open-loop run (agreement is not trivial)

TASK = "RoArm-Reach"
TRAIN_ENVS, TRAIN_ITERATIONS, TRAIN_SEED = 256, 100, 42
EVAL_EPISODES = 64
pytestmark = pytest.mark.isaaclab
#: The comparison at the task's own success definition needs a policy that succeeds often enough for a ratio to
#: mean something; the fixture's training reaches ~0.5 (deterministic for a seed).
MIN_MUJOCO_SUCCESS = 0.3
MAX_MEDIAN_ERROR_RATIO = 1.25


def test_open_loop_sequence_moves_every_joint_inside_the_limits_above_the_table():
    targets = open_loop_targets().double()
    lo, hi = torch.tensor(HARDWARE_SAFE.lower), torch.tensor(HARDWARE_SAFE.upper)
    assert ((targets >= lo) & (targets <= hi)).all(), "the action mapping would clip the sequence"
    assert (targets.amax(0) - targets.amin(0) >= MIN_TRAVEL_RAD).all()
    assert (targets.diff(dim=0).abs().amax(0) >= MIN_TRAVEL_RAD).all(), "no step that saturates every servo"
    assert kinematics.tcp_position(targets)[:, 2].min() >= 0.04


@pytest.mark.slow
@pytest.mark.parametrize("randomized", [False, True], ids=["nominal", "randomized"])
def test_open_loop_trajectories_agree(randomized):
    """Issue 4's limits (RMS per joint, largest TCP deviation) and the tighter mapping bound. Randomized: four
    environments, each with its own physics values and action latency, the same in both backends. (With the
    first actuator mapping the nominal run failed the TCP limit: 9.8 mm.)"""
    result = compare_open_loop(randomized=randomized, num_envs=4 if randomized else 1)
    print("\n".join(result.lines()))
    travel = result.mujoco_joint_pos.amax(dim=(0, 1)) - result.mujoco_joint_pos.amin(dim=(0, 1))
    assert (travel >= MIN_TRAVEL_RAD).all(), travel
    assert (result.joint_rms_rad <= MAX_JOINT_RMS_RAD).all(), result.lines()
    assert result.tcp_deviation_m.max() <= MAX_TCP_DEVIATION_M, result.lines()
    assert (result.joint_max_abs_rad <= MAPPING_MAX_ABS_RAD).all(), result.lines()


@pytest.fixture(scope="module")
def mujoco_reach_run(tmp_path_factory):
    """A Reach policy after a short PPO run on the MuJoCo backend (~1.5 min on one thread) and its checkpoint."""
    from rsl_rl.runners import OnPolicyRunner

    from roarm_lab.sim_mujoco.env import MujocoTaskEnv
    from roarm_lab.training.policy import obs_policy, runner_cfg

    torch.manual_seed(TRAIN_SEED)
    cfg = runner_cfg(TASK)
    cfg.seed = TRAIN_SEED
    env = MujocoTaskEnv(TASK, TRAIN_ENVS, seed=TRAIN_SEED, nthread=1)
    runner = OnPolicyRunner(env, cfg.to_dict(), log_dir=None, device="cpu")
    runner.learn(num_learning_iterations=TRAIN_ITERATIONS, init_at_random_ep_len=True)
    checkpoint = tmp_path_factory.mktemp("reach") / "model.pt"
    runner.save(str(checkpoint))
    return obs_policy(runner.get_inference_policy("cpu")), checkpoint


@pytest.mark.slow
def test_mujoco_trained_reach_policy_keeps_its_success_in_isaac_lab(mujoco_reach_run):
    """Both backends run the same held-out episodes (targets, initial joints, physics values, latency: one seed).

    Compared: the success rate at the task's definition (TCP within 1 cm), Isaac Lab's at least 80 % of MuJoCo's
    (issue 4), which needs MuJoCo's to be high enough for a ratio to mean something (>= 0.3: the test fails, not
    skips, if training got weaker); and the median final TCP error, a continuous measure that does not depend on
    where the 1 cm line falls, Isaac Lab's at most 1.25x MuJoCo's.
    """
    policy, _ = mujoco_reach_run
    result = compare_policy(TASK, policy, episodes=EVAL_EPISODES, nthread=1)
    print("\n".join(result.lines()))
    assert result.mujoco.success_rate >= MIN_MUJOCO_SUCCESS, result.lines()
    assert result.success_ratio >= MIN_SUCCESS_RATIO, result.lines()
    assert result.median_ratio("final_tcp_error_m") <= MAX_MEDIAN_ERROR_RATIO, result.lines()


def _cli(name: str):
    """The module of a command (:mod:`roarm_lab.cli`)."""
    return importlib.import_module(f"roarm_lab.cli.{name}")


@pytest.mark.slow
def test_play_evaluates_a_mujoco_checkpoint_in_isaac_lab(mujoco_reach_run, capsys):
    _, checkpoint = mujoco_reach_run
    assert _cli("play").main(["--task", TASK, "--checkpoint", str(checkpoint), "--backend", "isaaclab",
                                 "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"task=RoArm-Reach episodes=2 success_rate=[0-9.]+", out)
    assert re.search(r"final_tcp_error_m: median=[0-9.]+ mean=[0-9.]+ p90=[0-9.]+ max=[0-9.]+", out)


@pytest.mark.slow
def test_sim_to_sim_script_prints_the_open_loop_comparison(capsys):
    assert _cli("sim_to_sim").main(["--duration_s", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "open_loop steps=15 envs=1" in out and "open_loop PASS" in out
    assert re.search(r"joint_rms_rad: base=\S+ shoulder=\S+ elbow=\S+ wrist=\S+ roll=\S+ gripper=\S+", out)
    assert re.search(r"tcp_deviation_mm: max=[0-9.]+", out)


def test_scripts_refuse_bad_arguments(tmp_path, capsys):
    play, sim_to_sim = _cli("play"), _cli("sim_to_sim")
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"")
    assert play.main(["--task", TASK, "--checkpoint", str(checkpoint), "--backend", "isaaclab", "--viewer"]) == 2
    assert play.main(["--task", TASK, "--checkpoint", str(checkpoint), "--device", "cuda:0"]) == 2
    assert sim_to_sim.main(["--checkpoint", str(tmp_path / "nope.pt")]) == 2
    assert sim_to_sim.main(["--episodes", "0"]) == 2
    err = capsys.readouterr().err
    assert "MuJoCo backend only" in err and "--device is for --backend isaaclab" in err
    assert "does not exist" in err and "must be positive" in err
