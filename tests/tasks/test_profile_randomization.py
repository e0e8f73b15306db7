"""Domain randomization centred on a robot profile (tasks/randomization.centred_on_profile, TaskCfg's
with_robot_profile): widths from the profile's uncertainty, the latency from its command delay."""

from __future__ import annotations

import pytest
from robot_profiles import measured_profile, scaled_profile

from roarm_lab.tasks import lift, reach
from roarm_lab.tasks.episode import MAX_LATENCY
from roarm_lab.tasks.randomization import (
    PROFILE_SCALE_FLOOR,
    PROFILE_STD_MULTIPLE,
    RandomizationCfg,
    centred_on_profile,
)
from roarm_lab.tasks.timing import CONTROL_DT

DRIVE_SCALES = ("stiffness_scale", "damping_scale", "armature_scale", "joint_friction_scale")


def test_exact_profile_gets_the_floor_ranges_and_its_own_latency():
    cfg = centred_on_profile(RandomizationCfg(), scaled_profile(stiffness=2.0))
    for name in DRIVE_SCALES:
        assert getattr(cfg, name) == pytest.approx((1 - PROFILE_SCALE_FLOOR, 1 + PROFILE_SCALE_FLOOR))
    assert cfg.action_latency_steps == (0, 0)  # zero delay, zero std
    # untouched: what the profile does not measure
    default = RandomizationCfg()
    assert (cfg.link_mass_scale, cfg.object_mass, cfg.object_friction, cfg.observation_noise_scale, cfg.enabled) == (
        default.link_mass_scale, default.object_mass, default.object_friction, default.observation_noise_scale, True)


def test_widths_follow_the_largest_relative_std():
    profile = measured_profile()  # stiffness std 2 N*m/rad on every joint: largest relative on the weakest servo
    cfg = centred_on_profile(RandomizationCfg(), profile)
    rel = max(s / v for s, v in zip(profile.stds("stiffness"), profile.values("stiffness"), strict=True))
    half = PROFILE_STD_MULTIPLE * rel
    assert half > PROFILE_SCALE_FLOOR
    assert cfg.stiffness_scale == pytest.approx((1 - half, 1 + half))
    wide = centred_on_profile(RandomizationCfg(), scaled_profile(stiffness_std=0.1), k=3.0)
    assert wide.stiffness_scale == pytest.approx((0.7, 1.3))
    huge = centred_on_profile(RandomizationCfg(), scaled_profile(stiffness_std=5.0))
    assert huge.stiffness_scale[0] == pytest.approx(0.1)  # a servo keeps some stiffness


def test_latency_is_centred_on_the_command_delay_and_clamped():
    def latency(delay, std=0.0):
        return centred_on_profile(RandomizationCfg(), scaled_profile(delay_s=delay, delay_std_s=std)) \
            .action_latency_steps

    assert latency(0.021) == (1, 1)  # 0.63 control periods
    assert latency(1.2 * CONTROL_DT) == (1, 1)
    assert latency(CONTROL_DT, 0.3 * CONTROL_DT) == (0, 2)  # 1 +- 0.6 periods
    assert latency(0.2) == (MAX_LATENCY, MAX_LATENCY)  # 6 periods: the most the buffer holds


def test_task_cfg_carries_the_profile_and_keeps_its_own_fields():
    profile = measured_profile()
    base = lift.LiftCfg()
    base.pregrasp_fraction = 0.0
    cfg = base.with_robot_profile(profile)
    assert isinstance(cfg, lift.LiftCfg) and cfg.pregrasp_fraction == 0.0
    assert cfg.robot_profile is profile
    assert cfg.randomization == centred_on_profile(base.randomization, profile)
    assert base.robot_profile is None and base.randomization == RandomizationCfg()  # the original is untouched
    plain = reach.ReachCfg().with_robot_profile(None)
    assert plain.robot_profile is None and plain.randomization == RandomizationCfg()
