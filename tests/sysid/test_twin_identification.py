"""Identification closes part of the gap on the physics twin, whose truth the test sets: a short ``sysid record``
over a real pseudo-terminal, a small ``sysid fit``, compared with the truth (the independent fact)."""

from __future__ import annotations

import numpy as np
import pytest
from emulated_arm import emulator

from roarm_lab.cli.sysid import main as sysid_main
from roarm_lab.description.robot_profile import load_profile
from roarm_lab.description.servo import DRIVES
from roarm_lab.emulator.twin.settings import TwinConfig
from roarm_lab.emulator.twin.truth import nominal_truth, truth_from_dict

pytestmark = [pytest.mark.slow, pytest.mark.pty]
WEAK = 0.6  # shoulder and elbow servos at 60 % of the nominal stiffness
DELAY_S = 0.05


def weak_truth():
    d = nominal_truth().to_dict()
    for joint in ("shoulder", "elbow"):
        d["joints"][joint]["stiffness"] *= WEAK
    d["command_delay_s"] = DELAY_S
    return truth_from_dict(d)


def test_a_short_twin_recording_fits_closer_to_the_truth_than_nominal(tmp_path, capsys):
    emu = emulator("twin", twin=TwinConfig(truth=weak_truth(), cube=(0.25, 0.2, 0.0)))
    try:
        assert sysid_main(["record", "--port", emu.port, "--out", str(tmp_path / "rec"), "--settle", "0.1",
                           "--boot-timeout", "15", "--duration_s", "15"]) == 0
    finally:
        emu.stop()
    assert emu.crash is None
    assert sysid_main(["fit", str(tmp_path / "rec"), "--out", str(tmp_path / "p.yaml"), "--max-iters", "8",
                       "--report", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "heldout_joints.png").stat().st_size > 0
    assert any(p.stat().st_size > 0 for p in (tmp_path / "report").rglob("*.html"))  # mujoco.sysid's report
    profile = load_profile(tmp_path / "p.yaml")
    heldout = profile.provenance["heldout_rmse_rad"]
    assert heldout["fitted"] < heldout["nominal"] / 3
    for j, joint in ((1, "shoulder"), (2, "elbow")):
        fitted, nominal = profile.joints[joint].stiffness.value, DRIVES[j].stiffness
        assert abs(fitted - WEAK * nominal) < abs(nominal - WEAK * nominal) / 2, joint  # most of the way there
    # the fitted delay is the whole pipeline: the truth's servo-side delay plus the serial wire both ways and the
    # firmware's loop (~40 ms at 115200 baud, docs/twin.md)
    assert DELAY_S < profile.command_delay_s.value < DELAY_S + 0.08
    assert np.isfinite(profile.command_delay_s.std)
