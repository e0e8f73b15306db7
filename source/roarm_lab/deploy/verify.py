"""Does a package compute what the torch actor computes? Max abs difference on random and simulated observations."""

from __future__ import annotations

import numpy as np
import torch

from roarm_lab.deploy.package import PolicyPackage
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.training.policy import obs_policy

TOLERANCE = 1e-5


def random_observations(actor, n: int = 1000, seed: int = 0) -> torch.Tensor:
    """(n, k) observations uniform within +-3 standard deviations of the actor's normalizer statistics (the unit
    box when it has no normalizer): inputs of the size the network saw in training."""
    k = actor.obs_dim
    normalizer = actor.obs_normalizer
    mean = normalizer.mean if hasattr(normalizer, "mean") else torch.zeros(k)
    std = normalizer.std if hasattr(normalizer, "std") else torch.ones(k)
    u = torch.rand(n, k, generator=torch.Generator().manual_seed(seed))
    return mean + 3 * std * (2 * u - 1)


def rollout_observations(task: str, policy, num_envs: int = 16, steps: int = 64, seed: int = 0) -> torch.Tensor:
    """(num_envs * steps, k) policy observations of a MuJoCo rollout driven by ``policy`` (obs -> actions)."""
    env = MujocoTaskEnv(task, num_envs, seed=seed, nthread=1)
    obs = env.get_observations()["policy"]
    recorded = []
    with torch.inference_mode():
        for _ in range(steps):
            recorded.append(obs)
            obs = env.step(policy(obs))[0]["policy"]
    return torch.cat(recorded)


def max_abs_difference(package: PolicyPackage, policy, obs: torch.Tensor) -> float:
    with torch.inference_mode():
        expected = policy(obs).numpy()
    return float(np.abs(package.act(obs.numpy()) - expected).max())


def verify_package(package: PolicyPackage, actor, n_random: int = 1000, rollout_envs: int = 16,
                   rollout_steps: int = 64, seed: int = 0) -> dict[str, float]:
    """Max abs difference between the package and ``actor`` (the rsl-rl actor it was exported from), per set."""
    policy = obs_policy(actor)
    return {
        "random": max_abs_difference(package, policy, random_observations(actor, n_random, seed)),
        "sim_rollout": max_abs_difference(
            package, policy, rollout_observations(package.task, policy, rollout_envs, rollout_steps, seed)),
    }
