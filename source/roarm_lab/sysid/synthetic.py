"""Recordings made by the replay model itself from a known profile: the fit's own check (tests, benchmarks).

The plan's ticks are sent at ``k / rate``; the reading of tick ``k`` is taken just before its command, as the
runner does; readings are rounded to servo steps like the real encoder's. With ``loads`` the episode also has the
servo loads the replay model predicts (permille, plus ``load_bias``, rounded and clipped like the firmware's).
"""

from __future__ import annotations

import numpy as np

from roarm_lab.description.firmware_units import RAD_PER_STEP
from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.description.robot_profile import RobotProfile
from roarm_lab.sysid.config import DEFAULT_FIT, LOAD_BIAS_FIELD, FitConfig
from roarm_lab.sysid.data import Episode
from roarm_lab.sysid.excitation import ExcitationPlan
from roarm_lab.sysid.replay import ReplayModel, param_name


def synthetic_episode(plan: ExcitationPlan, start, truth: RobotProfile, name: str = "synthetic",
                      config: FitConfig = DEFAULT_FIT, noise_rad: float = 0.0, quantize: bool = True,
                      seed: int = 0, loads: bool = False, load_bias: dict[str, float] | None = None) -> Episode:
    """The episode the arm of profile ``truth`` would record for ``plan`` from rest at ``start`` (encoder); the
    profile's link mass scales and payload count only with ``loads`` (the model without loads has neither)."""
    n = len(plan)
    t = np.arange(n) / plan.rate_hz
    start = np.asarray(start, dtype=np.float64)
    episode = Episode(name, t, np.tile(start, (n, 1)), t, plan.targets, plan.spd.astype(float),
                      plan.acc.astype(float))
    model = ReplayModel(config, loads=loads)
    if loads:
        episode.loads = np.zeros((n, len(JOINT_NAMES)))
    prepared = model.prepare(episode)
    params = model.profile_params(truth)
    for joint, bias in (load_bias or {}).items():
        params[param_name(joint, LOAD_BIAS_FIELD)].value[:] = bias
    readings, permille = model.simulate_all(prepared, params)
    if loads:
        permille = np.clip(np.round(permille), -1000.0 - np.abs(model.load_bias(params)), 1000.0 + np.abs(
            model.load_bias(params)))
        episode.loads = np.vstack([permille, np.tile(permille[-1], (n - len(permille), 1))])
    q = np.vstack([readings, np.tile(readings[-1], (n - len(readings), 1))])
    q[0] = start
    if noise_rad:
        q = q + np.random.default_rng(seed).normal(0.0, noise_rad, q.shape)
    if quantize:
        q = np.round(q / RAD_PER_STEP) * RAD_PER_STEP
    episode.q = q
    return episode
