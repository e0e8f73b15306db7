"""The driver's safety layer on hand-built inputs with known answers: joint limits with a margin, the step and lead
bounds, the workspace box, non-finite targets, the configuration checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from roarm_lab import kinematics
from roarm_lab.description import HOME_POSE
from roarm_lab.driver import SafetyConfig, SafetyLayer, WorkspaceBox

HOME = np.array(HOME_POSE[:5] + (0.75,))  # firmware home, gripper half open: the policies' start pose
#: hardware §3.3: at (0, 0, pi/2, 0, 0) the TCP is at (343.7, 0, 343.7) mm in `world`.
HOME_TCP = (0.3437, 0.0, 0.3437)


def layer(**config) -> SafetyLayer:
    return SafetyLayer(SafetyConfig(**config))


def test_home_tcp_is_where_the_facts_put_it():
    assert kinematics.tcp_position(HOME) == pytest.approx(HOME_TCP, abs=1e-4)


def test_a_target_inside_everything_passes_unchanged():
    target = HOME + [0.05, -0.05, 0.05, 0.05, -0.05, 0.05]
    safe = layer().apply(target, HOME)
    assert safe.target == pytest.approx(target, abs=1e-12) and safe.clamps == ()


def test_joint_limits_keep_the_margin():
    s = layer(margin_rad=0.02, max_step_rad=10.0, max_lead_rad=10.0)
    target = HOME.copy()
    target[1], target[3], target[5] = 1.5, -2.0, 1.7  # shoulder, wrist, gripper beyond 1.1, -1.0, 1.5
    safe = s.apply(target, HOME)
    assert safe.target[1] == pytest.approx(1.1 - 0.02)
    assert safe.target[3] == pytest.approx(-1.0 + 0.02)
    assert safe.target[5] == pytest.approx(1.5 - 0.02)
    assert set(safe.clamps) >= {"joint_limit:shoulder", "joint_limit:wrist", "joint_limit:gripper"}
    assert s.counts["joint_limit"] == 1  # one command changed by this kind


def test_step_bound_is_relative_to_the_previous_command():
    s = layer(max_step_rad=0.1)
    s.reset(HOME)
    target = HOME + [0.3, -0.05, 0.25, 0.0, -0.4, 0.0]
    safe = s.apply(target, HOME)
    assert np.array(safe.target) - HOME == pytest.approx([0.1, -0.05, 0.1, 0.0, -0.1, 0.0])
    assert safe.clamps == ("max_step:base", "max_step:elbow", "max_step:roll")
    safe = s.apply(target, HOME)  # the arm has not moved yet (a late reading): the command goes on from itself
    assert np.array(safe.target) - HOME == pytest.approx([0.2, -0.05, 0.2, 0.0, -0.2, 0.0])
    assert s.counts["max_step"] == 2 and s.counts["joint_limit"] == 0 and s.counts["max_lead"] == 0


def test_lead_bound_keeps_commands_near_a_joint_that_does_not_follow():
    s = layer(max_step_rad=0.1, max_lead_rad=0.25)
    s.reset(HOME)
    target = HOME.copy()
    target[0] = 1.0
    bases = [s.apply(target, HOME).target[0] for _ in range(5)]  # the base never moves (stuck)
    assert bases == pytest.approx([0.1, 0.2, 0.25, 0.25, 0.25])
    assert s.counts["max_lead"] == 3


def test_the_limits_win_where_the_measured_joint_is_outside_them():
    s = layer(margin_rad=0.02, max_step_rad=0.1, max_lead_rad=0.3)
    s.reset(HOME)
    measured = HOME.copy()
    measured[5] = -0.4  # gripper 0.4 rad below its lower limit (0): the lead bound alone would allow -0.1
    safe = s.apply(HOME, measured)
    assert safe.target[5] == pytest.approx(0.02) and "max_lead:gripper" in safe.clamps


def test_workspace_pulls_a_target_back_along_the_line_to_the_last_point_inside():
    # Rotating the base at home swings the TCP on a circle of radius 0.3437 m: y = r sin(base). With y <= 0.1 the
    # base may turn asin(0.1 / r) = 0.295 rad. The line from 0 to 0.5 rad is checked at 0.5/16 = 0.03125 rad
    # intervals: the last point inside is 9 * 0.03125 = 0.28125 rad.
    box = WorkspaceBox(lower=(-0.6, -0.6, 0.03), upper=(0.6, 0.1, 0.7))
    s = layer(max_step_rad=1.0, max_lead_rad=1.0, workspace=box)
    target = HOME.copy()
    target[0] = 0.5
    safe = s.apply(target, HOME)
    assert 0.28125 < math.asin(0.1 / HOME_TCP[0]) < 0.3125
    assert safe.target[0] == pytest.approx(0.28125) and safe.target[1:] == pytest.approx(HOME[1:])
    assert safe.clamps == ("workspace",) and s.counts["workspace"] == 1


def test_workspace_keeps_the_tcp_above_the_table():
    s = layer(max_step_rad=2.0, max_lead_rad=2.0)
    target = HOME.copy()
    target[1], target[2] = 1.0, 2.5  # shoulder and elbow down: the TCP goes below the table
    assert kinematics.tcp_position(target)[2] < 0.0
    safe = s.apply(target, HOME)
    z = kinematics.tcp_position(np.array(safe.target))[2]
    assert "workspace" in safe.clamps and 0.03 <= z < 0.03 + 0.04  # just above the floor of the box


def test_workspace_holds_an_arm_that_is_outside_already():
    box = WorkspaceBox(lower=(-0.6, -0.6, 0.36), upper=(0.6, 0.6, 0.7))  # home (z 0.344) is below this floor
    s = layer(workspace=box)
    target = HOME.copy()
    target[1] = 0.05  # further down
    safe = s.apply(target, HOME)
    assert safe.target == pytest.approx(HOME) and safe.clamps == ("workspace",)


def test_non_finite_targets_repeat_the_previous_command():
    s = layer()
    first = s.apply(HOME + 0.05, HOME)
    for bad in (np.nan, np.inf, -np.inf):
        target = HOME.copy()
        target[2] = bad
        safe = s.apply(target, HOME)
        assert safe.is_hold and safe.clamps == ("nonfinite_target",) and safe.target == first.target
    assert s.counts["nonfinite_target"] == 3
    fresh = layer()  # no previous command yet: the measured pose, inside the limits
    measured = HOME.copy()
    measured[5] = -0.001  # a closed gripper can read a hair below 0
    assert fresh.apply([np.nan] * 6, measured).target == pytest.approx((*HOME[:5], 0.02))


def test_config_refuses_what_cannot_work():
    with pytest.raises(ValueError, match="max_step_rad"):
        SafetyConfig(max_step_rad=0.0)
    with pytest.raises(ValueError, match="max_lead_rad"):
        SafetyConfig(max_step_rad=0.2, max_lead_rad=0.1)
    with pytest.raises(ValueError, match="margin_rad"):
        SafetyConfig(margin_rad=0.8)  # the gripper's range is 1.5 rad
    with pytest.raises(ValueError, match="workspace box"):
        WorkspaceBox(lower=(0, 0, 0.5), upper=(1, 1, 0.4))
    with pytest.raises(ValueError, match="6 joint values"):
        layer().apply(HOME[:5], HOME)
