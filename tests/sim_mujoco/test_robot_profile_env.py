"""The MuJoCo env simulates its task config's robot profile: the drives in its MjModel, the domain randomization
around them, the action latency from the command delay."""

from __future__ import annotations

import numpy as np
import pytest
from robot_profiles import measured_profile, scaled_profile

from roarm_lab.description import DRIVES, JOINT_NAMES
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks import reach
from roarm_lab.tasks.timing import CONTROL_DT


def _kp(model) -> np.ndarray:
    return np.array([model.actuator_gainprm[model.actuator(j).id, 0] for j in JOINT_NAMES])


def test_doubled_stiffness_doubles_the_actuator_kp():
    nominal_kp = np.array([d.stiffness for d in DRIVES])
    cfg = reach.ReachCfg()
    cfg.randomization.enabled = False
    env = MujocoTaskEnv("RoArm-Reach", 2, cfg=cfg.with_robot_profile(scaled_profile(stiffness=2.0)), nthread=1)
    assert _kp(env.model) == pytest.approx(2 * nominal_kp)
    assert _kp(env.env_model(1)) == pytest.approx(2 * nominal_kp)
    assert np.array([env.model.actuator_biasprm[env.model.actuator(j).id, 1] for j in JOINT_NAMES]) == \
        pytest.approx(-2 * nominal_kp)
    plain = MujocoTaskEnv("RoArm-Reach", 1, cfg=cfg, nthread=1)
    assert _kp(plain.model) == pytest.approx(nominal_kp)


def test_randomized_drives_stay_in_the_range_centred_on_the_profile():
    profile = measured_profile()
    cfg = reach.ReachCfg().with_robot_profile(profile)
    lo, hi = cfg.randomization.stiffness_scale
    assert lo < 1 < hi
    env = MujocoTaskEnv("RoArm-Reach", 32, cfg=cfg, seed=3, nthread=1)
    profile_kp = np.array(profile.values("stiffness"))
    ratios = np.array([_kp(env.env_model(i)) / profile_kp for i in range(32)])
    assert np.all(ratios >= lo - 1e-9) and np.all(ratios <= hi + 1e-9)
    assert ratios.min() < 1 < ratios.max()  # spread on both sides of the profile
    damping = np.array(profile.values("damping"))
    dlo, dhi = cfg.randomization.damping_scale
    for i in range(32):
        m = env.env_model(i)
        d = np.array([m.dof_damping[m.joint(j).dofadr[0]] for j in JOINT_NAMES]) / damping
        assert np.all(d >= dlo - 1e-9) and np.all(d <= dhi + 1e-9)


def test_a_long_command_delay_shifts_the_latency_samples():
    short = MujocoTaskEnv("RoArm-Reach", 16, cfg=reach.ReachCfg().with_robot_profile(scaled_profile()), nthread=1)
    assert short.latency.tolist() == [0] * 16
    slow = scaled_profile(delay_s=2 * CONTROL_DT)
    long = MujocoTaskEnv("RoArm-Reach", 16, cfg=reach.ReachCfg().with_robot_profile(slow), nthread=1)
    assert long.latency.tolist() == [2] * 16
