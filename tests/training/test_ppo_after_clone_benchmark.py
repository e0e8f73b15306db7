"""benchmarks/ppo_after_clone.py wraps the env it hands rsl-rl; the wrapper must keep rsl-rl's contract."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from roarm_lab.sim_mujoco.env import MujocoTaskEnv

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "ppo_after_clone.py"


def test_the_probe_lets_rsl_rl_spread_the_episode_starts():
    """rsl-rl's learn(init_at_random_ep_len=True) assigns ``env.episode_length_buf``: through the benchmark's probe
    that must reach the env, so that episodes end at different steps (before the fix every episode ran in step
    and each PPO iteration saw one phase of the task only)."""
    spec = importlib.util.spec_from_file_location("ppo_after_clone", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    env = MujocoTaskEnv("RoArm-Reach", 8, seed=0, nthread=1)
    probe = module.RolloutProbe(env, "RoArm-Reach")
    torch.manual_seed(0)
    # what rsl-rl's OnPolicyRunner.learn does with init_at_random_ep_len=True
    probe.episode_length_buf = torch.randint_like(probe.episode_length_buf, high=int(probe.max_episode_length))
    first_done = torch.full((8,), -1)
    with torch.inference_mode():
        for step in range(int(env.max_episode_length)):
            _, _, dones, _ = probe.step(torch.zeros(8, 6))
            first_done[(first_done < 0) & dones.bool()] = step
    assert (first_done >= 0).all(), "every episode ends within one episode length"
    assert len(set(first_done.tolist())) >= 6, f"episodes ended in step: {first_done.tolist()}"
