"""Sim-to-sim, three ways: the MuJoCo backend against Isaac Lab kit-less on Newton (MuJoCo-Warp) and on PhysX
(OvPhysX), on the CPU.

Open loop: the same raw-action sequence (sinusoids, then two steps that saturate the servos, on all six joints)
from home through every backend gives joint trajectories within 0.02 rad RMS per joint of MuJoCo's and TCP
trajectories within 5 mm (Newton) or 15 mm (PhysX, whose solver differs: roarm_lab.sim_to_sim), with nominal
physics and with randomized physics (every backend draws the same values per environment for a seed). Closed
loop: a Reach policy trained briefly on MuJoCo keeps >= 80 % of its success on Newton and on PhysX on the same
held-out episodes.

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
    ENGINES,
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
#: PhysX's largest joint deviation (measured 0.019 rad nominal, 0.030 rad randomized: its friction model on the
#: light gripper). With the USD's maxJointVelocity left as PhysX's hard clamp it was 0.078 rad (and 21 mm of TCP):
#: the servo model limits speed through its back-EMF only, so the articulation's solver limit is lifted (robot_cfg).
PHYSX_MAX_ABS_RAD = 0.05
MIN_TRAVEL_RAD = 0.5  # every joint moves at least this much in the open-loop run (agreement is not trivial)

TASK = "RoArm-Reach"
TRAIN_ENVS, TRAIN_ITERATIONS, TRAIN_SEED = 256, 100, 42
EVAL_EPISODES = 64
pytestmark = [pytest.mark.isaaclab, pytest.mark.ovphysx]
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
    """The limits (RMS per joint, largest TCP deviation) for both engines, Newton's tighter mapping bound and
    PhysX's peak. Randomized: four environments, each with its own physics values and action latency, the same in
    every backend. (With the first actuator mapping Newton's nominal run failed the TCP limit: 9.8 mm.)"""
    result = compare_open_loop(randomized=randomized, num_envs=4 if randomized else 1)
    print("\n".join(result.lines()))
    assert result.engines == list(ENGINES)
    mujoco = result.joint_pos["mujoco"]
    travel = mujoco.amax(dim=(0, 1)) - mujoco.amin(dim=(0, 1))
    assert (travel >= MIN_TRAVEL_RAD).all(), travel
    for engine in ENGINES:
        assert (result.joint_rms_rad(engine) <= MAX_JOINT_RMS_RAD).all(), result.lines()
        assert result.tcp_deviation_m(engine).max() <= MAX_TCP_DEVIATION_M[engine], result.lines()
    assert (result.joint_max_abs_rad("newton") <= MAPPING_MAX_ABS_RAD).all(), result.lines()
    assert (result.joint_max_abs_rad("physx") <= PHYSX_MAX_ABS_RAD).all(), result.lines()
    assert result.passed


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
def test_mujoco_trained_reach_policy_keeps_its_success_on_newton_and_physx(mujoco_reach_run):
    """Every backend runs the same held-out episodes (targets, initial joints, physics values, latency: one seed).

    Compared: the success rate at the task's definition (TCP within 1 cm), each engine's at least 80 % of MuJoCo's
    (issue 4), which needs MuJoCo's to be high enough for a ratio to mean something (>= 0.3: the test fails, not
    skips, if training got weaker); and the median final TCP error, a continuous measure that does not depend on
    where the 1 cm line falls, each engine's at most 1.25x MuJoCo's.
    """
    policy, _ = mujoco_reach_run
    result = compare_policy(TASK, policy, episodes=EVAL_EPISODES, nthread=1)
    print("\n".join(result.lines()))
    assert result.engines == list(ENGINES)
    assert result.results["mujoco"].success_rate >= MIN_MUJOCO_SUCCESS, result.lines()
    for engine in ENGINES:
        assert result.success_ratio(engine) >= MIN_SUCCESS_RATIO, result.lines()
        assert result.median_ratio(engine, "final_tcp_error_m") <= MAX_MEDIAN_ERROR_RATIO, result.lines()


def _cli(name: str):
    """The module of a command (:mod:`roarm_lab.cli`)."""
    return importlib.import_module(f"roarm_lab.cli.{name}")


@pytest.mark.slow
def test_play_evaluates_a_mujoco_checkpoint_on_physx(mujoco_reach_run, capsys):
    _, checkpoint = mujoco_reach_run
    assert _cli("play").main(["--task", TASK, "--checkpoint", str(checkpoint), "--backend", "isaaclab",
                              "--physics", "physx", "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"task=RoArm-Reach episodes=2 success_rate=[0-9.]+", out)
    assert re.search(r"final_tcp_error_m: median=[0-9.]+ mean=[0-9.]+ p90=[0-9.]+ max=[0-9.]+", out)


@pytest.mark.slow
def test_sim_to_sim_script_prints_the_open_loop_comparison(capsys):
    assert _cli("sim_to_sim").main(["--duration_s", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "open_loop steps=15 envs=1 reference=mujoco" in out and "\nopen_loop PASS" in out
    for engine in ENGINES:
        assert re.search(engine + r" joint_rms_rad: base=\S+ shoulder=\S+ elbow=\S+ wrist=\S+ roll=\S+ gripper=\S+",
                         out)
        assert re.search(engine + r" tcp_deviation_mm: max=[0-9.]+", out)
        assert f"{engine} open_loop PASS" in out


def test_scripts_refuse_bad_arguments(tmp_path, capsys):
    play, sim_to_sim = _cli("play"), _cli("sim_to_sim")
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"")
    assert play.main(["--task", TASK, "--checkpoint", str(checkpoint), "--backend", "isaaclab", "--viewer"]) == 2
    assert play.main(["--task", TASK, "--checkpoint", str(checkpoint), "--device", "cuda:0"]) == 2
    assert sim_to_sim.main(["--checkpoint", str(tmp_path / "nope.pt")]) == 2
    assert sim_to_sim.main(["--episodes", "0"]) == 2
    err = capsys.readouterr().err
    assert "MuJoCo backend only" in err and "--device and --physics are for --backend isaaclab" in err
    assert "does not exist" in err and "must be positive" in err
