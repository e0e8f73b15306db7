"""The physics twin's servos, truth and scene, stepped offline (``realtime=False``: the test moves physics time on,
so nothing here depends on the machine's speed). Expected values come from independent facts: the description's
static gravity model, the truth the test sets, the firmware's 300 permille gripper limit, the table and cube sizes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from roarm_lab.description.firmware_units import RAD_PER_STEP
from roarm_lab.description.kinematic_chain import HOME_POSE, JOINT_NAMES
from roarm_lab.description.servo import DRIVES, SERVOS_PER_JOINT, STALL_TORQUE_NM
from roarm_lab.emulator import EmulatorConfig
from roarm_lab.emulator.arm_model import gravity_torques
from roarm_lab.emulator.config import EmulatorError
from roarm_lab.emulator.plant import model_rad_to_steps
from roarm_lab.emulator.twin.physics import PhysicsTwin
from roarm_lab.emulator.twin.settings import TwinConfig
from roarm_lab.emulator.twin.truth import (
    TRUTH_RANGES,
    draw_truth,
    load_truth,
    nominal_truth,
    save_truth,
    truth_from_dict,
)
from roarm_lab.tasks import resets, scene
from roarm_lab.tasks.randomization import RandomizationCfg
from roarm_lab.tasks.timing import CONTROL_DT

REACHED_OUT = (0.0, 0.9, 0.9, 0.3, 0.0, 0.2)  # shoulder forward, forearm level-ish: large gravity loads
SHOULDER, ELBOW, WRIST, GRIPPER = 1, 2, 3, 5


def twin(truth=None, cube=(0.25, 0.0, 0.0), pose=HOME_POSE) -> PhysicsTwin:
    return PhysicsTwin(EmulatorConfig(initial_pose=pose), TwinConfig(truth=truth or nominal_truth(), cube=cube),
                       now=0.0, realtime=False)


def goto(tw: PhysicsTwin, q, settle_s: float = 2.0, spd: int = 1500, acc: int = 50) -> None:
    for i, step in enumerate(model_rad_to_steps(q)):
        tw.command(i, int(step), spd, acc)
    tw.step_for(settle_s)


def with_truth(**changes):
    d = nominal_truth().to_dict()
    for field, (joint, value) in changes.items():
        d["joints"][joint][field] = value
    return truth_from_dict(d)


def test_truth_ranges_are_wider_than_the_training_randomization():
    dr = RandomizationCfg()
    for field, dr_range in (("stiffness", dr.stiffness_scale), ("damping", dr.damping_scale),
                            ("armature", dr.armature_scale), ("friction", dr.joint_friction_scale),
                            ("link_mass_scale", dr.link_mass_scale)):
        _, lo, hi = TRUTH_RANGES[field]
        assert lo < dr_range[0] and hi > dr_range[1], field
    assert TRUTH_RANGES["command_delay_s"][2] > dr.action_latency_steps[1] * CONTROL_DT
    for seed in range(5):
        t = draw_truth(seed)
        assert t == draw_truth(seed)  # deterministic in the seed
        scale = np.array(t.stiffness) / np.array([d.stiffness for d in DRIVES])
        assert np.all((scale >= TRUTH_RANGES["stiffness"][1]) & (scale <= TRUTH_RANGES["stiffness"][2]))
        assert TRUTH_RANGES["command_delay_s"][1] <= t.command_delay_s <= TRUTH_RANGES["command_delay_s"][2]
    assert draw_truth(0) != draw_truth(1)


def test_truth_files_round_trip_and_bad_ones_are_refused(tmp_path):
    t = draw_truth(7)
    assert load_truth(save_truth(t, tmp_path / "t.yaml")) == t
    (tmp_path / "bad.yaml").write_text("schema: something-else\n")
    with pytest.raises(EmulatorError, match="not a twin truth file"):
        load_truth(tmp_path / "bad.yaml")
    d = t.to_dict()
    d["joints"]["elbow"]["stiffness"] = -1.0
    with pytest.raises(EmulatorError, match="stiffness"):
        truth_from_dict(d)
    del d["joints"]["elbow"]
    with pytest.raises(EmulatorError, match="joints must be exactly"):
        truth_from_dict(d)


def test_under_load_a_servo_settles_short_of_its_goal_by_the_gravity_torque_over_its_stiffness():
    tw = twin(pose=REACHED_OUT)
    goto(tw, REACHED_OUT)
    q = tw.true_q_model()
    expected = -gravity_torques(q) / np.array([d.stiffness for d in DRIVES])  # goal - q at equilibrium
    sag = np.array(REACHED_OUT) - q
    assert abs(expected[SHOULDER]) > 5 * RAD_PER_STEP and abs(expected[ELBOW]) > 5 * RAD_PER_STEP  # visible sags
    for j in (SHOULDER, ELBOW, WRIST):
        # within a step of deadband/quantization plus what the gear friction can hold
        slack = 1.5 * RAD_PER_STEP + DRIVES[j].friction / DRIVES[j].stiffness
        assert sag[j] == pytest.approx(expected[j], abs=slack), JOINT_NAMES[j]
    # a weaker servo sags proportionally more
    weak = twin(truth=with_truth(stiffness=("shoulder", DRIVES[SHOULDER].stiffness / 2)), pose=REACHED_OUT)
    goto(weak, REACHED_OUT)
    weak_sag = REACHED_OUT[SHOULDER] - weak.true_q_model()[SHOULDER]
    assert weak_sag == pytest.approx(2 * sag[SHOULDER], rel=0.25)


def test_the_encoder_reads_the_link_plus_its_offset_quantized():
    tw = twin(truth=with_truth(encoder_offset_rad=("base", 0.02)))
    goal = (0.4, *HOME_POSE[1:])
    goto(tw, goal)
    enc_q = tw.encoder_steps()
    # what the firmware reports is the goal (the servo closes its loop on the encoder) ...
    assert enc_q[0] == pytest.approx(model_rad_to_steps(goal)[0], abs=1)
    # ... while the base (no gravity load about a vertical axis) truly sits 0.02 rad short of it
    assert tw.true_q_model()[0] == pytest.approx(0.4 - 0.02, abs=1.5 * RAD_PER_STEP)


def test_backlash_adds_half_the_play_to_a_loaded_joints_sag():
    play = 0.012
    tight, loose = twin(pose=REACHED_OUT), twin(truth=with_truth(backlash_rad=("shoulder", play)), pose=REACHED_OUT)
    for tw in (tight, loose):
        goto(tw, REACHED_OUT)
    tight_q, loose_q = tight.true_q_model()[SHOULDER], loose.true_q_model()[SHOULDER]
    gravity_side = np.sign(tight_q - REACHED_OUT[SHOULDER])  # where the load pushes the link
    assert (loose_q - tight_q) * gravity_side == pytest.approx(play / 2, abs=1.5 * RAD_PER_STEP)


def test_commands_act_after_the_truths_delay():
    d = nominal_truth().to_dict()
    d["command_delay_s"] = 0.06
    tw = twin(truth=truth_from_dict(d))
    start = tw.true_q_model()[0]
    for i, step in enumerate(model_rad_to_steps((0.5, *HOME_POSE[1:]))):
        tw.command(i, int(step), 0, 0)
    assert tw.targets()[0] == model_rad_to_steps((0.5, *HOME_POSE[1:]))[0]  # what the firmware wrote
    assert tw.any_moving  # a pending command counts as motion (blocking firmware moves wait for it)
    tw.step_for(0.055)
    assert abs(tw.true_q_model()[0] - start) < RAD_PER_STEP  # not yet
    tw.step_for(0.1)
    assert tw.true_q_model()[0] - start > 0.01  # under way


def test_the_gripper_pushes_with_the_firmwares_300_permille_at_most():
    tw = twin()
    tw.set_torque_limits((1000,) * 5 + (300,))  # what the firmware sets at boot (hardware §2.2 T:107)
    closed_hard = model_rad_to_steps((*HOME_POSE[:5], -0.4))[GRIPPER]  # past the closed jaw stop
    tw.command(GRIPPER, int(closed_hard), 0, 0)
    tw.step_for(1.0)
    assert abs(tw.duties()[GRIPPER]) == pytest.approx(0.3)
    stall = SERVOS_PER_JOINT["gripper"] * STALL_TORQUE_NM
    assert abs(tw.data.actuator_force[tw._act[GRIPPER]]) == pytest.approx(0.3 * stall, rel=1e-6)
    tw.set_torque_limits((1000,) * 6)
    tw.step_for(0.2)
    assert abs(tw.duties()[GRIPPER]) == pytest.approx(1.0)


def test_the_cube_rests_on_the_table_where_it_was_put():
    tw = twin(cube=(0.22, -0.05, 0.3))
    tw.step_for(0.5)
    pos, quat = tw.cube_pose()
    assert pos == pytest.approx((0.22, -0.05, scene.CUBE_SIZE / 2), abs=1e-3)
    assert 2 * math.atan2(quat[3], quat[0]) == pytest.approx(0.3, abs=1e-3)


@pytest.mark.slow
def test_the_gripper_grasps_and_lifts_the_cube():
    cube = (0.24, 0.03, 0.2)
    tw = twin(cube=cube)
    tw.set_torque_limits((1000,) * 5 + (300,))  # as the firmware's boot leaves the gripper (hardware §2.2 T:107)
    target = torch.tensor([[cube[0], cube[1], scene.CUBE_REST_Z]])
    yaw = torch.tensor([cube[2]])
    above, ok1 = resets.top_down_pose(target + torch.tensor([0.0, 0.0, 0.06]), yaw, 1.1)
    at, ok2 = resets.top_down_pose(target, yaw, 1.1)
    assert ok1.all() and ok2.all()
    goto(tw, above[0].tolist())
    goto(tw, at[0].tolist())
    closed = at[0].clone()
    closed[GRIPPER] = 0.0
    goto(tw, closed.tolist(), settle_s=1.0)
    assert 0.3 < tw.true_q_model()[GRIPPER] < 0.5  # the jaws stopped on a 3 cm cube, not closed
    lifted = above[0].clone()
    lifted[GRIPPER] = 0.0
    goto(tw, lifted.tolist())
    pos, _ = tw.cube_pose()
    assert pos[2] > scene.CUBE_REST_Z + 0.04  # carried up with the arm
