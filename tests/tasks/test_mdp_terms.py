"""MDP terms of Reach, Lift and PickPlace on hand-built states with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from roarm_lab.description import HARDWARE_SAFE, HOME_POSE
from roarm_lab.tasks import lift, pick_place, reach, scene
from roarm_lab.tasks.mdp import observations, rewards, terminations
from roarm_lab.tasks.mdp.actions import ACTION_SCALE, DEFAULT_POSE, actions_for_targets, joint_targets
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.registry import TASKS

REST = scene.CUBE_SIZE / 2


def t(x):
    return torch.tensor([x], dtype=torch.float32)


def _state(tcp=(0.3, 0.0, 0.2), target=(0.3, 0.0, 0.2), action=(0.0,) * 6, last=(0.0,) * 6, vel=(0.0,) * 6,
           joints=HOME_POSE, grasp=(0.25, 0.0, 0.05), obj=None, quat=(1.0, 0.0, 0.0, 0.0),
           obj_vel=(0.0, 0.0, 0.0)) -> ArmState:
    objects = {}
    if obj is not None:
        objects = dict(object_pos=t(obj), object_quat=t(quat), object_lin_vel=t(obj_vel))
    return ArmState(joint_pos=t(joints), joint_vel=t(vel), tcp_pos=t(tcp), command=t(target), action=t(action),
                    last_action=t(last), grasp_pos=t(grasp), **objects)


# ---------------------------------------------------------------- Reach
def test_tcp_distance_is_euclidean():
    s = _state((0.3, 0.0, 0.2), (0.3, 0.03, 0.24))  # a 3-4-5 triangle, 5 cm
    assert rewards.tcp_distance(s).item() == pytest.approx(0.05)
    assert rewards.tcp_distance_tanh(s, std=0.1).item() == pytest.approx(1 - math.tanh(0.5))
    assert rewards.tcp_distance_tanh(_state(), std=0.1).item() == pytest.approx(1.0)


def test_action_rate_and_joint_velocity_penalties():
    s = _state(action=(1, 0, 0, 0, 0, 2), last=(0, 0, 0, 0, 0, 0), vel=(1, 2, 0, 0, 0, 5))
    assert rewards.action_rate(s).item() == pytest.approx(1 + 4)
    assert rewards.joint_vel_l2(s).item() == pytest.approx(1 + 4)  # the gripper is not an arm joint


def test_reach_success_radius_is_one_centimetre():
    cfg = reach.ReachCfg()
    assert reach.success(cfg, _state((0, 0, 0), (0.0099, 0, 0))).item()
    assert not reach.success(cfg, _state((0, 0, 0), (0.0101, 0, 0))).item()


# ---------------------------------------------------------------- actions
def test_action_mapping_is_default_plus_scaled_offset_clipped_to_safe_limits():
    a = torch.tensor([[0.2, -0.4, 0.0, 0.0, 0.0, -1.0], [100.0] * 6, [-100.0] * 6])
    q = joint_targets(a)
    np.testing.assert_allclose(q[0].numpy(), np.array(DEFAULT_POSE) + ACTION_SCALE * a[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(q[1].numpy(), HARDWARE_SAFE.upper, atol=1e-6)
    np.testing.assert_allclose(q[2].numpy(), HARDWARE_SAFE.lower, atol=1e-6)
    torch.testing.assert_close(joint_targets(actions_for_targets(q[0])), q[0])


def test_default_pose_is_firmware_home_with_gripper_half_open():
    assert DEFAULT_POSE[:5] == HOME_POSE[:5]
    assert DEFAULT_POSE[5] == pytest.approx((HARDWARE_SAFE.lower[5] + HARDWARE_SAFE.upper[5]) / 2)


# ---------------------------------------------------------------- object terms
def test_reaching_object_uses_the_grasp_point():
    at = _state(grasp=(0.25, 0.0, 0.02), obj=(0.25, 0.0, 0.02))
    off = _state(grasp=(0.25, 0.0, 0.02), obj=(0.25, 0.05, 0.02))
    assert rewards.reaching_object(at, 0.05).item() == pytest.approx(1.0)
    assert rewards.reaching_object(off, 0.05).item() == pytest.approx(1 - math.tanh(1.0))


def test_object_lift_progress_is_linear_from_rest():
    assert rewards.object_lifted(_state(obj=(0.2, 0, REST)), 0.05).item() == pytest.approx(0.0)
    assert rewards.object_lifted(_state(obj=(0.2, 0, REST + 0.025)), 0.05).item() == pytest.approx(0.5)
    assert rewards.object_lifted(_state(obj=(0.2, 0, REST + 0.2)), 0.05).item() == pytest.approx(1.0)


def test_goal_tracking_counts_only_above_the_gate_height():
    low = _state(obj=(0.2, 0, REST), target=(0.2, 0, REST))
    high = _state(obj=(0.2, 0, REST + 0.05), target=(0.2, 0, REST + 0.05))
    assert rewards.object_goal_tracking(low, 0.1, min_height=0.02).item() == 0.0
    assert rewards.object_goal_tracking(high, 0.1, min_height=0.02).item() == pytest.approx(1.0)
    assert rewards.object_goal_tracking(low, 0.1).item() == pytest.approx(1.0)


def test_object_dropped_below_threshold():
    assert terminations.object_dropped(_state(obj=(0.2, 0, -0.06)), -0.05).item()
    assert not terminations.object_dropped(_state(obj=(0.2, 0, REST)), -0.05).item()


def test_object_yaw_and_its_quarter_turn_symmetry():
    yaw = 0.5
    s = _state(obj=(0.2, 0, REST), quat=(math.cos(yaw / 2), 0, 0, math.sin(yaw / 2)))
    assert observations.object_yaw(s).item() == pytest.approx(yaw, abs=1e-6)
    turned = yaw + math.pi / 2
    s2 = _state(obj=(0.2, 0, REST), quat=(math.cos(turned / 2), 0, 0, math.sin(turned / 2)))
    torch.testing.assert_close(observations.object_yaw_cube_symmetric(s),
                               observations.object_yaw_cube_symmetric(s2), atol=1e-5, rtol=0)


# ---------------------------------------------------------------- Lift success
@pytest.mark.parametrize(("bottom", "grasp_offset", "expected"), [
    (0.0505, 0.0, True), (0.0495, 0.0, False), (0.08, 0.029, True), (0.08, 0.031, False),
])
def test_lift_held_up_is_five_centimetres_with_cube_in_jaws(bottom, grasp_offset, expected):
    centre = (0.2, 0.0, bottom + REST)
    s = _state(obj=centre, grasp=(0.2 + grasp_offset, 0.0, centre[2]))
    assert lift.held_up(lift.LiftCfg(), s).item() is expected


def test_lift_needs_one_second_of_holding():
    assert lift.SPEC.success_hold_steps == 30  # 1 s at 30 Hz


# ---------------------------------------------------------------- PickPlace success
def _placed(dx=0.0, z=REST, speed=0.0, gripper=0.8, grasp_dist=0.08):
    target = (0.22, 0.05, REST)
    obj = (0.22 + dx, 0.05, z)
    joints = (*HOME_POSE[:5], gripper)
    return _state(target=target, obj=obj, obj_vel=(speed, 0, 0), joints=joints,
                  grasp=(obj[0], obj[1], obj[2] + grasp_dist))


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, True),
    ({"dx": 0.019}, True),
    ({"dx": 0.021}, False),  # outside 2 cm
    ({"z": REST + 0.02}, False),  # not resting on the table
    ({"speed": 0.2}, False),  # still sliding
    ({"gripper": 0.3}, False),  # gripper not open
    ({"grasp_dist": 0.03}, False),  # jaws still at the cube
])
def test_pick_place_success_conditions(kwargs, expected):
    assert pick_place.done_and_clear(pick_place.PickPlaceCfg(), _placed(**kwargs)).item() is expected


def test_pick_place_release_and_retreat_pay_only_when_placed():
    cfg = pick_place.PickPlaceCfg()
    placed = pick_place.reward_terms(cfg, _placed())
    away = pick_place.reward_terms(cfg, _placed(dx=0.1))
    assert placed["release"].item() == pytest.approx(1.0) and placed["retreat"].item() == pytest.approx(1.0)
    assert placed["placed"].item() == 1.0 and placed["transport"].item() == 0.0
    assert away["release"].item() == 0.0 and away["retreat"].item() == 0.0 and away["placed"].item() == 0.0


def _weighted_total(cfg, s) -> float:
    terms = pick_place.reward_terms(cfg, s)
    return sum(cfg.reward_weights[k] * v.item() for k, v in terms.items() if cfg.reward_weights[k] > 0)


def test_pick_place_carry_waypoint_is_above_the_target_until_the_last_centimetres():
    cfg = pick_place.PickPlaceCfg()
    far = _placed(dx=0.10, z=REST + 0.05)
    near = _placed(dx=0.0, z=REST + 0.01)
    half = _placed(dx=cfg.lower_radius / 2, z=REST + 0.01)
    assert pick_place.carry_waypoint(cfg, far)[0, 2].item() == pytest.approx(REST + cfg.carry_height)
    assert pick_place.carry_waypoint(cfg, near)[0, 2].item() == pytest.approx(REST)
    assert pick_place.carry_waypoint(cfg, half)[0, 2].item() == pytest.approx(REST + cfg.carry_height / 2)


def test_pick_place_rewards_each_stage_more_than_the_one_before():
    """Carrying the cube at its best < holding it at the target < released and clear: no stage is a trap."""
    cfg = pick_place.PickPlaceCfg()
    hovering = _placed(z=REST + 0.006, gripper=0.2, grasp_dist=0.0)  # 6 mm up, in the jaws, on the target
    hovering_total = _weighted_total(cfg, hovering)
    assert pick_place.reward_terms(cfg, hovering)["placed"].item() == 0.0
    holding = _weighted_total(cfg, _placed(gripper=0.2, grasp_dist=0.0))
    done = _weighted_total(cfg, _placed())
    assert hovering_total < holding < done
    assert done == pytest.approx(sum(cfg.reward_weights[k] for k in ("placed", "release", "retreat")))


# ---------------------------------------------------------------- task specs
@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_observation_terms_match_their_declared_sizes(task_id):
    spec = TASKS[task_id]
    s = _state(obj=(0.2, 0, REST)) if spec.has_object else _state()
    for term in spec.observation_terms:
        assert term.fn(s).shape == (1, term.size), term.name
    assert spec.observations(s).shape == (1, spec.observation_size)


@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_every_reward_term_has_a_weight(task_id):
    spec = TASKS[task_id]
    cfg = spec.make_cfg()
    s = _state(obj=(0.2, 0, REST)) if spec.has_object else _state()
    assert set(spec.reward_terms(cfg, s)) == set(cfg.reward_weights)
