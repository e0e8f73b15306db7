"""The excitation plan stays inside the safety layer's rules, so the layer passes it unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from roarm_lab import kinematics
from roarm_lab.description import HARDWARE_SAFE
from roarm_lab.description.kinematic_chain import HOME_POSE
from roarm_lab.driver.safety import SafetyLayer
from roarm_lab.sysid.excitation import excitation_plan

MARGIN, MAX_STEP, Z_MIN = 0.02, 0.1, 0.03  # the safety defaults


@pytest.mark.parametrize("duration", [120.0, 4.0])
def test_the_plan_keeps_to_the_safety_rules(duration):
    plan = excitation_plan(HOME_POSE, duration)
    assert plan.duration_s <= duration + 1e-9 and plan.duration_s >= min(duration, 100.0)
    q = plan.targets
    assert np.all(q >= np.array(HARDWARE_SAFE.lower) + MARGIN - 1e-9)
    assert np.all(q <= np.array(HARDWARE_SAFE.upper) - MARGIN + 1e-9)
    assert kinematics.tcp_position(q)[:, 2].min() >= Z_MIN
    start = np.clip(HOME_POSE, np.array(HARDWARE_SAFE.lower) + MARGIN, np.array(HARDWARE_SAFE.upper) - MARGIN)
    assert np.abs(np.diff(np.vstack([start, q]), axis=0)).max() <= MAX_STEP + 1e-9
    # fed through the safety layer with the arm following exactly, nothing is clamped
    layer = SafetyLayer()
    layer.reset(start)
    measured = start
    for target in q:
        assert layer.apply(target, measured).clamps == ()
        measured = target
    if duration >= 100:
        kinds = {label.split(":")[0] for label in plan.labels}
        assert kinds == {"move", "chirp", "step", "whole_arm"}
        assert {int(s) for s in plan.spd} > {0}  # both spd 0 (as a policy) and set speeds


def test_a_nonpositive_duration_is_refused():
    with pytest.raises(ValueError, match="duration"):
        excitation_plan(HOME_POSE, 0.0)
