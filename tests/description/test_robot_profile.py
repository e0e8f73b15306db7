"""The robot profile file (description/robot_profile.py): YAML round trip, the hash, what is refused and why."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import yaml
from robot_profiles import measured_profile

from roarm_lab.description import DRIVES, JOINT_NAMES
from roarm_lab.description.robot_profile import (
    JOINT_FIELDS,
    Estimate,
    RobotProfileError,
    load_profile,
    nominal_profile,
    profile_from_dict,
    profile_hash,
    save_profile,
)


def test_nominal_profile_is_the_descriptions_drives_and_the_servo_facts():
    nominal = nominal_profile()
    assert tuple(nominal.joints) == JOINT_NAMES
    for drive, joint in zip(DRIVES, nominal.joints.values(), strict=True):
        assert (joint.stiffness.value, joint.damping.value, joint.armature.value, joint.friction.value) == (
            drive.stiffness, drive.damping, drive.armature, drive.friction)
        assert joint.encoder_offset.value == 0.0
        assert all(getattr(joint, f).std == 0.0 for f in JOINT_FIELDS)
    # hardware §3.6: 30 kg*cm stall torque, 0.222 s/60 deg; the shoulder has two servos; 1:345 gearing
    stall = 30 * 9.80665 / 100
    base, shoulder = nominal.joints["base"], nominal.joints["shoulder"]
    assert base.stiffness.value == pytest.approx(stall / 0.05)
    assert shoulder.stiffness.value == pytest.approx(2 * stall / 0.05)
    assert base.damping.value == pytest.approx(stall / ((math.pi / 3) / 0.222))
    assert base.armature.value == pytest.approx(1e-7 * 345**2)
    assert nominal.command_delay_s == Estimate(0.0, 0.0)


def test_yaml_round_trip_keeps_every_value_name_and_provenance(tmp_path):
    profile = measured_profile()
    path = save_profile(profile, tmp_path / "arm.yaml")
    loaded = load_profile(path)
    assert loaded == profile
    assert loaded.name == "arm-a" and loaded.provenance == profile.provenance
    assert loaded.hash == profile.hash
    assert f"hash {profile.hash}" in path.read_text().splitlines()[0]


def test_hash_ignores_name_and_provenance_but_changes_with_any_value():
    profile = measured_profile()
    assert profile_hash(profile) == profile.hash and len(profile.hash) == 16
    assert replace(profile, name="renamed", provenance={"other": 1}).hash == profile.hash
    seen = {profile.hash}
    for joint in JOINT_NAMES:
        for field in JOINT_FIELDS:
            for part in ("value", "std"):
                estimate = getattr(profile.joints[joint], field)
                changed = replace(estimate, **{part: getattr(estimate, part) + 1e-6})
                joints = {**profile.joints, joint: replace(profile.joints[joint], **{field: changed})}
                seen.add(replace(profile, joints=joints).hash)
    seen.add(replace(profile, command_delay_s=Estimate(0.021 + 1e-6, 0.002)).hash)
    seen.add(replace(profile, command_delay_s=Estimate(0.021, 0.003)).hash)
    assert len(seen) == 1 + len(JOINT_NAMES) * len(JOINT_FIELDS) * 2 + 2
    assert nominal_profile().hash != profile.hash


def test_the_physics_hash_ignores_the_encoder_offsets_alone():
    profile = measured_profile()
    recalibrated = replace(profile, joints={j: replace(p, encoder_offset=Estimate(0.0123, 0.001))
                                            for j, p in profile.joints.items()})
    assert recalibrated.hash != profile.hash and recalibrated.physics_hash == profile.physics_hash
    stiffer = replace(profile, joints={**profile.joints, "elbow": replace(
        profile.joints["elbow"], stiffness=Estimate(profile.joints["elbow"].stiffness.value * 1.01, 2.0))})
    assert stiffer.physics_hash != profile.physics_hash


def _doc():
    return measured_profile().to_dict()


def _refused(doc, *words: str) -> str:
    with pytest.raises(RobotProfileError) as err:
        profile_from_dict(doc, "arm.yaml")
    message = str(err.value)
    assert message.startswith("arm.yaml: ")
    for word in words:
        assert word in message, message
    return message


def test_another_schema_version_or_robot_is_refused():
    _refused({**_doc(), "schema_version": 2}, "schema version 2", "reads version 1")
    _refused({k: v for k, v in _doc().items() if k != "schema_version"}, "schema version None")
    _refused({**_doc(), "robot": "so100"}, "'so100'", "'roarm_m3_pro'")


def test_a_missing_joint_or_field_is_refused_by_name():
    doc = _doc()
    del doc["joints"]["wrist"]
    _refused(doc, "joints", "missing wrist")
    doc = _doc()
    doc["joints"]["elbow"]["gripper_gain"] = {"value": 1.0}
    _refused(doc, "joint elbow", "unexpected gripper_gain")
    doc = _doc()
    del doc["joints"]["elbow"]["damping"]
    _refused(doc, "joint elbow", "missing damping")
    doc = _doc()
    del doc["command_delay_s"]
    _refused(doc, "command_delay_s is missing")
    _refused([1, 2], "expected a mapping")


def test_nan_negative_std_and_impossible_values_are_refused():
    doc = _doc()
    doc["joints"]["base"]["stiffness"]["value"] = float("nan")
    _refused(doc, "joint base", "finite value")
    doc = _doc()
    doc["joints"]["roll"]["friction"]["std"] = -0.1
    _refused(doc, "joint roll", "std >= 0")
    doc = _doc()
    doc["joints"]["shoulder"]["stiffness"]["value"] = 0.0
    _refused(doc, "joint shoulder", "stiffness must be > 0")
    doc = _doc()
    doc["command_delay_s"] = {"value": -0.01, "std": 0.0}
    with pytest.raises(RobotProfileError, match="command_delay_s must be >= 0"):
        profile_from_dict(doc, "arm.yaml")


def test_load_refuses_unreadable_and_invalid_yaml_naming_the_file(tmp_path):
    with pytest.raises(RobotProfileError, match="cannot read robot profile .*missing.yaml"):
        load_profile(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("joints: [unclosed\n")
    with pytest.raises(RobotProfileError, match="bad.yaml: not valid YAML"):
        load_profile(bad)
    nan = tmp_path / "nan.yaml"
    doc = _doc()
    doc["joints"]["gripper"]["armature"] = {"value": ".nan"}
    nan.write_text(yaml.safe_dump(doc).replace("'.nan'", ".nan"))
    with pytest.raises(RobotProfileError, match="nan.yaml: joint gripper"):
        load_profile(nan)


def test_save_refuses_to_overwrite_without_force_and_leaves_the_file_alone(tmp_path):
    path = tmp_path / "arm.yaml"
    path.write_text("precious\n")
    with pytest.raises(RobotProfileError, match="exists"):
        save_profile(measured_profile(), path)
    assert path.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arm.yaml"]
    save_profile(measured_profile(), path, force=True)
    assert load_profile(path) == measured_profile()
