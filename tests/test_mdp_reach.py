"""Reach MDP terms on hand-built states, and the MuJoCo backend's resets, determinism and training."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from roarm_lab import kinematics
from roarm_lab.description import HARDWARE_SAFE, HOME_POSE
from roarm_lab.sim_mujoco.env import MujocoReachEnv
from roarm_lab.tasks import reach
from roarm_lab.tasks.mdp import rewards
from roarm_lab.tasks.mdp.actions import ACTION_SCALE, joint_targets
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.timing import CONTROL_DT

REPO = Path(__file__).resolve().parents[1]


def _state(tcp, target, action=(0.0,) * 6, last=(0.0,) * 6, vel=(0.0,) * 6) -> ArmState:
    t = lambda x: torch.tensor([x], dtype=torch.float32)  # noqa: E731
    return ArmState(joint_pos=t(HOME_POSE), joint_vel=t(vel), tcp_pos=t(tcp), command=t(target),
                    action=t(action), last_action=t(last))


def test_tcp_distance_is_euclidean():
    s = _state((0.3, 0.0, 0.2), (0.3, 0.03, 0.24))  # a 3-4-5 triangle, 5 cm
    assert rewards.tcp_distance(s).item() == pytest.approx(0.05)
    assert rewards.tcp_distance_tanh(s, std=0.1).item() == pytest.approx(1 - math.tanh(0.5))
    at_target = _state((0.3, 0.0, 0.2), (0.3, 0.0, 0.2))
    assert rewards.tcp_distance_tanh(at_target, std=0.1).item() == pytest.approx(1.0)


def test_action_rate_and_joint_velocity_penalties():
    s = _state((0, 0, 0), (0, 0, 0), action=(1, 0, 0, 0, 0, 2), last=(0, 0, 0, 0, 0, 0), vel=(1, 2, 0, 0, 0, 5))
    assert rewards.action_rate(s).item() == pytest.approx(1 + 4)
    assert rewards.joint_vel_l2(s).item() == pytest.approx(1 + 4)  # the gripper is not an arm joint


def test_success_radius_is_one_centimetre():
    assert reach.success(_state((0, 0, 0), (0.0099, 0, 0))).item()
    assert not reach.success(_state((0, 0, 0), (0.0101, 0, 0))).item()


def test_action_mapping_is_home_plus_scaled_offset_clipped_to_safe_limits():
    a = torch.tensor([[0.2, -0.4, 0.0, 0.0, 0.0, 0.0], [100.0, 100.0, 100.0, 100.0, 100.0, 100.0]])
    q = joint_targets(a)
    np.testing.assert_allclose(q[0].numpy(), np.array(HOME_POSE) + ACTION_SCALE * a[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(q[1].numpy(), HARDWARE_SAFE.upper, atol=1e-6)


def test_targets_are_reachable_and_above_the_table():
    cfg = reach.ReachCfg()
    targets = reach.sample_targets(cfg, 500, torch.Generator().manual_seed(3))
    assert torch.all(targets[:, 2] >= cfg.target_min_height - 1e-6)
    ik = kinematics.inverse_kinematics(targets.double().numpy())
    assert ik.converged.all()


def test_reset_respects_initial_state_ranges():
    env = MujocoReachEnv(64, seed=0, nthread=1)
    q = env._read_state().joint_pos
    dev = q - torch.tensor(HOME_POSE)
    assert torch.all(dev.abs() <= env.cfg.init_joint_noise + 1e-6)
    assert torch.all(dev[:, 5] >= 0)  # gripper starts at or above its closed limit
    assert env.episode_length_buf.eq(0).all()


def _rollout(seed: int) -> torch.Tensor:
    env = MujocoReachEnv(8, seed=seed, nthread=2)
    gen = torch.Generator().manual_seed(seed)
    obs = [env.get_observations()["policy"]]
    for _ in range(20):
        o, _, _, _ = env.step(torch.randn(8, 6, generator=gen))
        obs.append(o["policy"])
    return torch.stack(obs)


def test_same_seed_same_rollout():
    a, b, c = _rollout(7), _rollout(7), _rollout(8)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, c)


def test_episode_times_out_and_resets():
    env = MujocoReachEnv(4, seed=0, nthread=1)
    dones_seen = None
    for i in range(env.max_episode_length):
        _, reward, dones, extras = env.step(torch.zeros(4, 6))
        assert torch.isfinite(reward).all()
        if dones.any():
            dones_seen = i + 1
            assert extras["time_outs"].all()
            assert "Metrics/success_rate" in extras["log"]
            break
    assert dones_seen == round(env.cfg.episode_length_s / CONTROL_DT)
    assert env.episode_length_buf.eq(0).all()


def test_zero_action_holds_home_and_moves_tcp_to_home():
    # action 0 = home targets; the servo model settles there (cf. the asset hold test)
    env = MujocoReachEnv(2, seed=0, nthread=1)
    for _ in range(60):
        env.step(torch.zeros(2, 6))
    tcp = env._read_state().tcp_pos
    home_tcp = kinematics.tcp_position(torch.tensor(HOME_POSE))
    assert torch.linalg.norm(tcp - home_tcp, dim=-1).max() < 0.01


def test_bad_actions_are_refused():
    env = MujocoReachEnv(2, seed=0, nthread=1)
    with pytest.raises(ValueError, match="actions must be"):
        env.step(torch.zeros(3, 6))


def test_train_script_runs_two_iterations(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train.py"), "--task", "RoArm-Reach", "--num_envs", "64",
         "--max_iterations", "2", "--log_root", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "backend: mujoco" in result.stdout
    run = next((tmp_path / "RoArm-Reach").iterdir())
    assert (run / "params" / "agent.yaml").exists() and (run / "params" / "env.yaml").exists()
    assert list(run.glob("model_*.pt"))


def test_train_script_refuses_unavailable_combinations(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train.py"), "--task", "RoArm-Lift", "--backend", "mujoco",
         "--log_root", str(tmp_path)], capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2 and "not available" in result.stderr
