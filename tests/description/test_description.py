"""The robot description against docs/hardware.md."""

from __future__ import annotations

import math

import numpy as np
import pytest

from roarm_lab.description import (
    DRIVES,
    FIRMWARE_CLAMPS,
    HARDWARE_SAFE,
    HOME_POSE,
    JOINT_NAMES,
    LINK_INERTIALS,
)
from roarm_lab.description import firmware_units as fu
from roarm_lab.description.inertia import URDF_INERTIALS

# hardware §3.5, every source, model frame (gripper = pi - firmware): (lower, upper) per joint.
SOURCES = {
    "urdf": [(-3.1416, 3.1416), (-1.5708, 1.5708), (-1.0, 2.95), (-1.5708, 1.5708), (-3.1416, 3.1416), (0.0, 1.5)],
    "sdk": [(-3.3, 3.3), (-1.9, 1.9), (-1.2, 3.3), (-1.9, 1.9), (-3.3, 3.3), (-0.2, 1.9)],
    "viam_deg": [(-180, 180), (-90, 90), (-57, 169), (-90, 90), (-180, 180), (-11.5, 108.9)],
}


def test_safe_limits_lie_inside_every_source():
    for name, ranges in SOURCES.items():
        scale = math.pi / 180 if name.endswith("_deg") else 1.0
        for joint, (lo, hi) in zip(JOINT_NAMES, ranges, strict=True):
            safe_lo, safe_hi = HARDWARE_SAFE.of(joint)
            assert safe_lo >= lo * scale - 1e-3, (name, joint)
            assert safe_hi <= hi * scale + 1e-3, (name, joint)
    for joint in JOINT_NAMES:
        fw_lo, fw_hi = FIRMWARE_CLAMPS.of(joint)
        safe_lo, safe_hi = HARDWARE_SAFE.of(joint)
        assert fw_lo <= safe_lo < safe_hi <= fw_hi, joint


def test_safe_limits_take_the_user_verified_mechanical_range():
    # hardware §3.5, KJA88 (human-verified): shoulder -1.3..1.1, elbow -0.366..2.734, wrist -1.0..1.4
    assert HARDWARE_SAFE.of("shoulder") == (-1.3, 1.1)
    assert HARDWARE_SAFE.of("elbow") == (-0.366, 2.734)
    assert HARDWARE_SAFE.of("wrist") == (-1.0, 1.4)


def test_home_pose_is_inside_the_safe_limits():
    assert HARDWARE_SAFE.contains(HOME_POSE)


def test_firmware_gripper_clamp_in_firmware_radians():
    # hardware §2.2 T:106 / §3.5: gripper clamped to 1.074 ... 5.209 firmware rad
    lo, hi = FIRMWARE_CLAMPS.of("gripper")
    assert sorted([math.pi - lo, math.pi - hi]) == pytest.approx([1.074, 5.209], abs=1e-3)


def test_servo_middle_step_is_the_firmware_init_pose():
    # hardware §3.2: all servos at step 2047 -> base 0, shoulder 0, elbow pi/2, wrist 0, roll 0, gripper pi (fw).
    q_fw = fu.steps_to_firmware_rad(np.full(6, 2047))
    one_step = 1.01 * fu.RAD_PER_STEP
    np.testing.assert_allclose(q_fw, [0, 0, math.pi / 2, 0, 0, math.pi], atol=one_step)
    np.testing.assert_allclose(fu.firmware_to_model_rad(q_fw), HOME_POSE, atol=one_step)


def test_elbow_step_clamp_maps_to_firmware_radians():
    # hardware §3.1: elbow steps 512-3071 -> -pi/4 ... 3.140 rad
    elbow = fu.steps_to_firmware_rad(np.array([[0, 0, 512, 0, 0, 0], [0, 0, 3071, 0, 0, 0]]))[:, 2]
    np.testing.assert_allclose(elbow, [-math.pi / 4, 3.140], atol=2e-3)


def test_steps_round_trip_and_quantization():
    steps = np.random.default_rng(0).integers(0, 4096, size=(100, 6))
    np.testing.assert_array_equal(fu.firmware_rad_to_steps(fu.steps_to_firmware_rad(steps)), steps)


def test_gripper_flip_is_pi_minus_firmware():
    # hardware §2.8: user/model gripper = pi - firmware g; closed = firmware pi = model 0.
    fw = fu.model_to_firmware_rad([0.1, 0.2, 0.3, 0.4, 0.5, 0.0])
    assert fw[5] == pytest.approx(math.pi)
    np.testing.assert_allclose(fw[:5], [0.1, 0.2, 0.3, 0.4, 0.5])
    np.testing.assert_allclose(fu.firmware_to_model_rad(fw), [0.1, 0.2, 0.3, 0.4, 0.5, 0.0])


def test_dead_bus_signature_matches_sdk_degrees():
    # hardware §2.7: dead bus -> SDK shows ~[180, -180, -90, -180, 180, 180] deg (SDK gripper = pi - g)
    fw = np.array(fu.DEAD_BUS_FIRMWARE_RAD)
    sdk = np.degrees(np.r_[fw[:5], math.pi - fw[5]])
    np.testing.assert_allclose(sdk, [180, -180, -90, -180, 180, 180])


def test_speed_and_acceleration_units():
    # hardware §3.6: 45 rpm ~ 4.71 rad/s ~ 3072 steps/s; hardware §2: acc register unit 100 steps/s^2
    assert fu.rad_per_s_to_spd(45 * 2 * math.pi / 60) == 3072
    assert fu.acc_to_rad_per_s2(1) == pytest.approx(100 * 2 * math.pi / 4096)
    assert fu.rad_per_s2_to_acc(1e6) == 254  # u8 register, 0..254
    with pytest.raises(ValueError, match="spd 0"):
        fu.rad_per_s_to_spd(0.0)
    with pytest.raises(ValueError):
        fu.rad_per_s_to_spd(float("nan"))


def test_feedback_keys_in_firmware_order():
    # hardware §2.7
    assert fu.FEEDBACK_KEYS == (
        "T", "x", "y", "z", "tit", "b", "s", "e", "t", "r", "g", "tB", "tS", "tE", "tT", "tR", "tG")


def test_total_mass_is_the_real_arm():
    # hardware §3.6: M3-Pro 1020.8 g +- 15 g; the URDF alone is 0.449 kg (hardware §3.3)
    assert sum(i.mass for i in URDF_INERTIALS.values()) == pytest.approx(0.449, abs=1e-3)
    assert sum(i.mass for i in LINK_INERTIALS.values()) == pytest.approx(1.0208, abs=0.015)


def test_inertia_tensors_are_physical():
    for name, inertial in LINK_INERTIALS.items():
        moments, axes = inertial.principal()
        assert np.all(moments > 0), name
        a, b, c = moments
        assert a + b >= c - 1e-12, name  # triangle inequality of principal moments
        assert np.linalg.det(axes) == pytest.approx(1.0)


def test_servo_drive_facts():
    drives = {d.joint: d for d in DRIVES}
    # hardware §3.6: ~2.94 N*m stall at 12 V, ~4.71 rad/s no-load; shoulder dual-driven; gripper 300 permille at boot
    assert drives["elbow"].torque_limit == pytest.approx(2.94, abs=0.01)
    assert drives["shoulder"].torque_limit == pytest.approx(2 * 2.94, abs=0.02)
    assert drives["gripper"].torque_limit == pytest.approx(0.3 * 2.94, abs=0.01)
    for d in DRIVES:
        assert d.velocity_limit == pytest.approx(4.71, abs=0.01)
