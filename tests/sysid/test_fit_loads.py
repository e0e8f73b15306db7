"""sysid fit with the servo loads: a heavier link and a weaker / stiffer servo, which the joints alone confuse (sag =
gravity torque / kp), are told apart because the loads measure the torque; the shoulder's stale load bias is found.
Without loads the fit is the joints' alone, as before."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from roarm_lab.description.robot_profile import Estimate, nominal_profile
from roarm_lab.sysid.config import FitConfig
from roarm_lab.sysid.excitation import POSES, excitation_plan
from roarm_lab.sysid.fit import fit
from roarm_lab.sysid.synthetic import synthetic_episode

START = np.array(POSES[0])
ELBOW_LINK_MASS = 1.3  # the elbow's link is heavier ...
SHOULDER_KP, WRIST_KP = 0.75, 1.3  # ... the shoulder's servo weaker, the wrist's stiffer
SHOULDER_BIAS = 80.0  # permille, tS's stale second servo


def truth_profile():
    nominal = nominal_profile()
    joints = dict(nominal.joints)
    joints["elbow"] = replace(joints["elbow"], link_mass_scale=Estimate(ELBOW_LINK_MASS))
    for joint, factor in (("shoulder", SHOULDER_KP), ("wrist", WRIST_KP)):
        joints[joint] = replace(joints[joint], stiffness=Estimate(joints[joint].stiffness.value * factor))
    return replace(nominal, joints=joints, command_delay_s=Estimate(0.03), name="truth")


@pytest.fixture(scope="module")
def episode():
    return synthetic_episode(excitation_plan(START, 24.0), START, truth_profile(), loads=True,
                             load_bias={"shoulder": SHOULDER_BIAS})


@pytest.mark.slow
def test_the_loads_tell_a_heavier_link_from_a_weaker_servo(episode):
    profile, report = fit([episode], FitConfig(max_iters=15, refit_iters=5), log=lambda _: None)
    nominal = nominal_profile()
    assert report.loads_used
    for joint, factor in (("shoulder", SHOULDER_KP), ("wrist", WRIST_KP), ("elbow", 1.0)):
        truth = nominal.joints[joint].stiffness.value * factor
        assert profile.joints[joint].stiffness.value == pytest.approx(truth, rel=0.15), joint  # the goal
        assert f"{joint}.stiffness_scale" in report.identifiable
    # the base turns about a vertical axis: gravity never loads it, so no static error shows its stiffness
    assert "base.stiffness_scale" in report.not_identifiable
    # the mass scale is there to let load and sag agree; it is weighed only roughly (1.47 for 1.3 here)
    assert profile.joints["elbow"].link_mass_scale.value == pytest.approx(ELBOW_LINK_MASS, rel=0.15)
    assert "elbow.link_mass_scale" in report.identifiable
    assert report.values["shoulder.load_bias"] == pytest.approx(SHOULDER_BIAS, abs=10.0)
    assert report.provenance()["load_bias_permille"]["shoulder.load_bias"] == report.values["shoulder.load_bias"]
    fitted_loads = report.load_rmse_fitted_permille
    assert max(fitted_loads.values()) < 0.5 * max(report.load_rmse_nominal_permille.values())


@pytest.mark.slow
def test_without_the_loads_the_heavier_link_passes_for_weaker_servos(episode):
    """The same data less the loads: the fit is the joints' alone (as for a play_real recording); the link masses,
    payload and load bias are not parameters, and the profile keeps the description's masses."""
    profile, report = fit([replace(episode, loads=None)], FitConfig(max_iters=15, refit_iters=5), log=lambda _: None)
    assert not report.loads_used and "elbow.link_mass_scale" not in report.values
    assert "payload_kg" not in report.values and "shoulder.load_bias" not in report.values
    assert profile.joints["elbow"].link_mass_scale == Estimate(1.0) and profile.payload_kg == Estimate(0.0)
