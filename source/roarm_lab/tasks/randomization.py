"""Domain randomization, simulator-neutral: what is randomized, over which ranges, and the samplers.

Each backend applies the sampled values its own way (MuJoCo: a per-environment MjModel; Isaac Lab: its
articulation and material properties), so the distributions live here, once. Scales multiply the nominal values
of the robot description (:mod:`roarm_lab.description.servo`, :mod:`~roarm_lab.description.inertia`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from roarm_lab.tasks import scene

Range = tuple[float, float]


@dataclass
class RandomizationCfg:
    enabled: bool = True
    stiffness_scale: Range = (0.8, 1.2)  # servo kp (the saturation error of servo.py is an assumption)
    damping_scale: Range = (0.8, 1.2)  # back-EMF damping
    joint_friction_scale: Range = (0.5, 2.0)  # gear friction is ASSUMED in servo.py: wide range
    armature_scale: Range = (0.7, 1.3)  # rotor inertia is ASSUMED in servo.py
    link_mass_scale: Range = (0.9, 1.1)
    object_mass: Range = (0.01, 0.04)  # kg, around the 20 g nominal cube
    object_friction: Range = (0.6, 1.2)
    action_latency_steps: tuple[int, int] = (0, 2)  # control steps, inclusive
    observation_noise_scale: float = 1.0  # multiplies each observation term's noise


PHYSICS_FIELDS = ("stiffness_scale", "damping_scale", "joint_friction_scale", "armature_scale", "link_mass_scale",
                  "object_mass", "object_friction")
NOMINAL = {"stiffness_scale": 1.0, "damping_scale": 1.0, "joint_friction_scale": 1.0, "armature_scale": 1.0,
           "link_mass_scale": 1.0, "object_mass": scene.CUBE_MASS, "object_friction": scene.CUBE_FRICTION}


def _uniform(lo: float, hi: float, n: int, generator: torch.Generator) -> torch.Tensor:
    if hi < lo:
        raise ValueError(f"randomization range ({lo}, {hi}) is reversed")
    return lo + (hi - lo) * torch.rand(n, generator=generator, dtype=torch.float64)


def sample_physics(cfg: RandomizationCfg, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """(n,) float64 per physics field; the nominal values when randomization is off."""
    if not cfg.enabled:
        return {k: torch.full((n,), NOMINAL[k], dtype=torch.float64) for k in PHYSICS_FIELDS}
    return {k: _uniform(*getattr(cfg, k), n, generator) for k in PHYSICS_FIELDS}


def sample_latency(cfg: RandomizationCfg, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n,) int64 action delays in control steps."""
    lo, hi = cfg.action_latency_steps
    if not cfg.enabled or hi == 0:
        return torch.zeros(n, dtype=torch.long)
    if lo < 0 or hi < lo:
        raise ValueError(f"action_latency_steps must be 0 <= lo <= hi, got {cfg.action_latency_steps}")
    return torch.randint(lo, hi + 1, (n,), generator=generator)


def observation_noise(cfg: RandomizationCfg, scales: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, k) uniform noise in [-scale, scale] per observation entry."""
    if not cfg.enabled or cfg.observation_noise_scale == 0.0:
        return torch.zeros(n, len(scales))
    u = torch.rand(n, len(scales), generator=generator) * 2 - 1
    return u * scales * cfg.observation_noise_scale
