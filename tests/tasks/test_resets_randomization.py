"""Reset samplers and domain randomization: ranges respected, geometry checked by forward kinematics."""

from __future__ import annotations

import math

import pytest
import torch

from roarm_lab import kinematics
from roarm_lab.description import HARDWARE_SAFE, HOME_POSE
from roarm_lab.tasks import lift, pick_place, reach, resets, scene
from roarm_lab.tasks.randomization import (
    NOMINAL,
    PHYSICS_FIELDS,
    RandomizationCfg,
    observation_noise,
    sample_latency,
    sample_physics,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_reach_targets_are_reachable_and_above_the_table():
    cfg = reach.ReachCfg()
    targets = reach.sample_targets(cfg, 500, gen(3))
    assert torch.all(targets[:, 2] >= cfg.target_min_height - 1e-6)
    assert kinematics.inverse_kinematics(targets.double().numpy()).converged.all()


def test_initial_joints_stay_within_noise_of_home():
    q = resets.initial_joint_pos(0.1, 500, gen())
    dev = q - torch.tensor(HOME_POSE)
    assert torch.all(dev.abs() <= 0.1 + 1e-6) and torch.all(dev[:, 5] >= 0)


def test_table_positions_are_inside_the_polar_placement_region():
    p = resets.table_positions(2000, gen())
    r = torch.linalg.norm(p[:, :2], dim=-1)
    a = torch.atan2(p[:, 1], p[:, 0])
    assert r.min() >= scene.OBJECT_RADIUS_RANGE[0] - 1e-6 and r.max() <= scene.OBJECT_RADIUS_RANGE[1] + 1e-6
    assert a.min() >= scene.OBJECT_AZIMUTH_RANGE[0] - 1e-6 and a.max() <= scene.OBJECT_AZIMUTH_RANGE[1] + 1e-6
    assert torch.all(p[:, 2] == scene.CUBE_REST_Z)


def test_place_targets_keep_their_distance_from_the_cube():
    cfg = pick_place.PickPlaceCfg()
    sample = pick_place.reset(cfg, 1000, gen(5))
    d = torch.linalg.norm(sample.command[:, :2] - sample.object_pos[:, :2], dim=-1)
    assert d.min() >= cfg.min_target_distance


def test_top_down_pose_puts_the_jaws_square_over_the_cube():
    p = resets.table_positions(200, gen(1))
    yaw = (torch.rand(200, generator=gen(2)) * 2 - 1) * math.pi / 4
    q, ok = resets.top_down_pose(p, yaw, 1.1)
    assert ok.all()
    frames = kinematics.link_frames(q.double())
    link5 = frames[:, 4]
    torch.testing.assert_close(link5[:, 2, 2], -torch.ones(200, dtype=torch.float64), atol=1e-6, rtol=0)  # down
    torch.testing.assert_close(kinematics.grasp_position(q.double()), p.double(), atol=1e-4, rtol=0)
    jaw_yaw = torch.atan2(link5[:, 1, 0], link5[:, 0, 0])
    misalign = torch.remainder(jaw_yaw - yaw.double() + math.pi / 4, math.pi / 2) - math.pi / 4
    assert misalign.abs().max() < 1e-5
    lo, hi = torch.tensor(HARDWARE_SAFE.lower), torch.tensor(HARDWARE_SAFE.upper)
    assert torch.all((q >= lo - 1e-6) & (q <= hi + 1e-6))


def test_top_down_pose_is_ok_only_where_it_reaches_the_target():
    """Targets from the table up to 15 cm above it, any cube yaw (the jaws' roll wraps at +-45 deg): a pose reported
    ok puts the grasp point within 1 mm (forward kinematics) with the joints in limits; far out and high, where the
    wrist's 1.4 rad limit forbids pointing straight down, it is reported not ok rather than a pose somewhere else."""
    n = 4000
    p = resets.table_positions(n, gen(3))
    p[:, 2] += torch.rand(n, generator=gen(4)) * 0.15
    yaw = (torch.rand(n, generator=gen(5)) * 2 - 1) * math.pi
    q, ok = resets.top_down_pose(p, yaw, 0.0)
    err = torch.linalg.norm(kinematics.grasp_position(q.double()) - p.double(), dim=-1)
    assert err[ok].max() <= 1e-3
    lo, hi = torch.tensor(HARDWARE_SAFE.lower), torch.tensor(HARDWARE_SAFE.upper)
    assert torch.all((q[ok] >= lo - 1e-6) & (q[ok] <= hi + 1e-6))
    radius = torch.linalg.norm(p[:, :2], dim=-1)
    assert ok[(p[:, 2] < 0.08) | ((radius < 0.2) & (p[:, 2] < 0.12))].all()  # where the picker works
    assert not ok[(radius > 0.27) & (p[:, 2] > 0.13)].any()


def test_lift_reset_goal_is_above_the_cube_and_pregrasp_starts_at_the_cube():
    cfg = lift.LiftCfg()
    cfg.pregrasp_fraction = 1.0
    sample = lift.reset(cfg, 100, gen())
    torch.testing.assert_close(sample.command - sample.object_pos,
                               torch.tensor([0.0, 0.0, cfg.goal_height]).expand(100, 3))
    grasp = kinematics.grasp_position(sample.joint_pos.double()).float()
    above = grasp - sample.object_pos
    assert above[:, :2].abs().max() < 1e-3
    assert above[:, 2].min() >= cfg.pregrasp_height_range[0] - 1e-3
    assert above[:, 2].max() <= cfg.pregrasp_height_range[1] + 1e-3
    assert torch.all(sample.joint_pos[:, 5] == cfg.pregrasp_gripper)


def test_physics_samples_stay_in_their_ranges_and_are_nominal_when_disabled():
    cfg = RandomizationCfg()
    values = sample_physics(cfg, 5000, gen())
    for field in PHYSICS_FIELDS:
        lo, hi = getattr(cfg, field)
        assert values[field].min() >= lo and values[field].max() <= hi, field
        assert values[field].max() - values[field].min() > 0.8 * (hi - lo), field  # actually spread
    off = sample_physics(RandomizationCfg(enabled=False), 10, gen())
    for field in PHYSICS_FIELDS:
        assert torch.all(off[field] == NOMINAL[field])


def test_latency_samples_cover_zero_to_two_steps():
    lat = sample_latency(RandomizationCfg(), 3000, gen())
    assert set(lat.unique().tolist()) == {0, 1, 2}
    assert torch.all(sample_latency(RandomizationCfg(enabled=False), 10, gen()) == 0)
    with pytest.raises(ValueError, match="action_latency_steps"):
        sample_latency(RandomizationCfg(action_latency_steps=(2, 1)), 10, gen())


def test_observation_noise_is_bounded_by_its_scale():
    scales = torch.tensor([0.0, 0.01, 0.1])
    noise = observation_noise(RandomizationCfg(), scales, 5000, gen())
    assert torch.all(noise[:, 0] == 0)
    assert noise[:, 1].abs().max() <= 0.01 and noise[:, 1].abs().max() > 0.009
    assert noise[:, 2].abs().max() <= 0.1
    assert torch.all(observation_noise(RandomizationCfg(enabled=False), scales, 10, gen()) == 0)
