"""Domain randomization, simulator-neutral: what is randomized, over which ranges, and the samplers.

Each backend applies the sampled values its own way (MuJoCo: a per-environment MjModel; Isaac Lab: its
articulation and material properties), so the distributions live here, once. Scales multiply the nominal values
of the simulated arm: the robot description's (:mod:`roarm_lab.description.servo`,
:mod:`~roarm_lab.description.inertia`), or a robot profile's where the task carries one
(:attr:`roarm_lab.tasks.spec.TaskCfg.robot_profile`): the randomization is then centred on the profile by
construction, and :func:`centred_on_profile` sets its widths from the profile's uncertainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from roarm_lab.description.robot_profile import RobotProfile
from roarm_lab.tasks import scene
from roarm_lab.tasks.episode import MAX_LATENCY
from roarm_lab.tasks.timing import CONTROL_DT

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


#: Around a robot profile each drive scale spans 1 +- max(PROFILE_SCALE_FLOOR, PROFILE_STD_MULTIPLE * the largest
#: relative std of its joints), the latency its delay +- PROFILE_STD_MULTIPLE std: 2 std holds ~95 % of a fit's
#: uncertainty; the floor keeps 5 % of spread for what the fit cannot see (temperature, wear, supply voltage).
PROFILE_STD_MULTIPLE = 2.0
PROFILE_SCALE_FLOOR = 0.05
#: the widest half-width of a scale range: a scale stays >= 0.1 (a servo with no stiffness is no servo)
PROFILE_SCALE_MAX_HALF_WIDTH = 0.9
#: scale field -> the profile's per-joint field it multiplies
PROFILE_SCALE_FIELDS = {"stiffness_scale": "stiffness", "damping_scale": "damping", "armature_scale": "armature",
                        "joint_friction_scale": "friction"}


def profile_scale_range(profile: RobotProfile, joint_field: str, k: float = PROFILE_STD_MULTIPLE,
                        floor: float = PROFILE_SCALE_FLOOR) -> Range:
    """``1 +- max(floor, k * max_j std_j / value_j)`` for one per-joint field; joints whose value is 0 are left
    out (a scale does not change them), and the half-width is at most :data:`PROFILE_SCALE_MAX_HALF_WIDTH`."""
    relative = [std / value for value, std in zip(profile.values(joint_field), profile.stds(joint_field),
                                                   strict=True) if value > 0]
    half = min(max(floor, k * max(relative, default=0.0)), PROFILE_SCALE_MAX_HALF_WIDTH)
    return (1.0 - half, 1.0 + half)


def _steps(seconds: float) -> int:
    return math.floor(seconds / CONTROL_DT + 0.5)


def profile_latency_range(profile: RobotProfile, k: float = PROFILE_STD_MULTIPLE) -> tuple[int, int]:
    """The action latency, control steps, of ``command_delay_s`` +- k std, each end rounded to the nearest step
    and clamped to [0, MAX_LATENCY] (the most the latency buffer holds: a longer delay is simulated as
    MAX_LATENCY steps)."""
    delay = profile.command_delay_s

    def clamp(steps: int) -> int:
        return min(max(steps, 0), MAX_LATENCY)

    return clamp(_steps(delay.value - k * delay.std)), clamp(_steps(delay.value + k * delay.std))


def centred_on_profile(cfg: RandomizationCfg, profile: RobotProfile, k: float = PROFILE_STD_MULTIPLE,
                       floor: float = PROFILE_SCALE_FLOOR) -> RandomizationCfg:
    """``cfg`` with the drive scale ranges (stiffness, damping, armature, joint friction) and the action latency
    range set from ``profile`` (:func:`profile_scale_range`, :func:`profile_latency_range`). The scales multiply
    the simulated arm's values, which are the profile's, so the ranges are centred on 1. Everything else (link
    masses, the cube, observation noise, ``enabled``) stays as ``cfg`` has it."""
    scales = {name: profile_scale_range(profile, joint_field, k, floor)
              for name, joint_field in PROFILE_SCALE_FIELDS.items()}
    return replace(cfg, **scales, action_latency_steps=profile_latency_range(profile, k))


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
