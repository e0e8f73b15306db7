"""Forward/inverse kinematics against the firmware's geometry, MuJoCo and the facts' joint conventions."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
import torch

from roarm_lab import kinematics as K
from roarm_lab.assets.paths import MJCF_PATH
from roarm_lab.description import HARDWARE_SAFE

# hardware §3.2 / §3.4: firmware home (0, 0, pi/2, 0, 0) -> TCP (346.16, 0, 223.13) mm, z from the shoulder axis.
FIRMWARE_HOME_Q = np.array([0.0, 0.0, math.pi / 2, 0.0, 0.0])
FIRMWARE_HOME_TCP_MM = np.array([346.16, 0.0, 223.13])


def test_home_pose_matches_firmware_tcp_within_3mm():
    tcp_mm = K.tcp_firmware_mm(FIRMWARE_HOME_Q)
    assert np.linalg.norm(tcp_mm - FIRMWARE_HOME_TCP_MM) < 3.0


def test_home_pose_tool_is_horizontal():
    # hardware §2.7: tit = s + e + t - pi/2 = 0 at home, i.e. the gripper points straight ahead (+x).
    frames = K.link_frames(FIRMWARE_HOME_Q)
    approach = frames[4, :3, 2]  # link5 z: the roll axis, along the gripper
    np.testing.assert_allclose(approach, [1.0, 0.0, 0.0], atol=1e-9)


@pytest.mark.parametrize(
    ("joint", "axis", "sign"),
    [(0, 1, +1), (1, 0, +1), (1, 2, -1), (2, 2, -1), (3, 2, -1)],
    ids=["base+ -> +y", "shoulder+ -> forward", "shoulder+ -> down", "elbow+ -> down", "wrist+ -> down"],
)
def test_joint_signs_follow_firmware_convention(joint, axis, sign):
    # hardware §3.1: base + turns left (+y); shoulder + moves the TCP forward/down; elbow + and wrist + move it down.
    q = FIRMWARE_HOME_Q.copy()
    q_plus = q.copy()
    q_plus[joint] += 0.05
    delta = K.tcp_position(q_plus) - K.tcp_position(q)
    assert sign * delta[axis] > 1e-3


def test_tool_pitch_is_the_approach_elevation(random_configs):
    # hardware §2.7: tit is the end-effector pitch, + = pointing down. Check it against the geometry of link5's z.
    frames = K.link_frames(random_configs)
    approach = frames[:, 4, :3, 2]
    horizontal = np.hypot(approach[:, 0], approach[:, 1])
    elevation_down = np.arctan2(-approach[:, 2], horizontal)
    pitch = K.tool_pitch(random_configs)
    # the elevation is pitch folded into [-pi/2, pi/2]
    folded = np.arcsin(np.sin(pitch))
    np.testing.assert_allclose(elevation_down, folded, atol=1e-9)


def test_fk_matches_mujoco_tcp_site(random_configs):
    model = mujoco.MjModel.from_xml_path(str(MJCF_PATH))
    data = mujoco.MjData(model)
    site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, "tcp")
    pos = K.tcp_position(random_configs)
    _, rot = K.forward_kinematics(random_configs)
    for q, p, r in zip(random_configs, pos, rot, strict=True):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        np.testing.assert_allclose(data.site_xpos[site], p, atol=1e-6)
        np.testing.assert_allclose(data.site_xmat[site].reshape(3, 3), r, atol=1e-6)


def test_torch_and_numpy_fk_agree(random_configs):
    p_np = K.tcp_position(random_configs)
    p_t = K.tcp_position(torch.tensor(random_configs, dtype=torch.float64))
    np.testing.assert_allclose(p_t.numpy(), p_np, atol=1e-12)
    p_32 = K.tcp_position(torch.tensor(random_configs, dtype=torch.float32))
    assert p_32.dtype == torch.float32
    np.testing.assert_allclose(p_32.numpy(), p_np, atol=1e-5)


def test_position_jacobian_matches_finite_differences(random_configs):
    q = random_configs[:50]
    jac = K.position_jacobian(q)
    eps = 1e-6
    for i in range(4):
        dq = np.zeros_like(q)
        dq[:, i] = eps
        fd = (K.tcp_position(q + dq) - K.tcp_position(q - dq)) / (2 * eps)
        np.testing.assert_allclose(jac[..., i], fd, atol=1e-7)


@pytest.mark.parametrize("with_pitch", [True, False])
def test_ik_round_trip_on_reachable_targets(random_configs, with_pitch):
    targets = K.tcp_position(random_configs)
    pitch = K.tool_pitch(random_configs) if with_pitch else None
    res = K.inverse_kinematics(targets, pitch=pitch, roll=random_configs[:, 4])
    assert res.converged.all()
    err = np.linalg.norm(K.tcp_position(res.q) - targets, axis=-1)
    assert err.max() < 1e-3  # < 1 mm (it is exact up to rounding)
    if with_pitch:
        np.testing.assert_allclose(K.tool_pitch(res.q), pitch, atol=1e-9)
    lo, hi = np.array(HARDWARE_SAFE.lower[:5]), np.array(HARDWARE_SAFE.upper[:5])
    assert np.all((res.q >= lo - 1e-12) & (res.q <= hi + 1e-12))


def test_ik_torch_round_trip(random_configs):
    q = torch.tensor(random_configs[:200], dtype=torch.float32)
    targets = K.tcp_position(q)
    res = K.inverse_kinematics(targets)
    assert isinstance(res.q, torch.Tensor) and res.q.dtype == torch.float32
    assert bool(res.converged.all())
    assert float((K.tcp_position(res.q) - targets).norm(dim=-1).max()) < 1e-3


def test_ik_reports_unreachable_targets():
    far = np.array([[0.0, 0.0, 2.0], [1.0, 0.0, 0.2]])  # beyond the ~0.55 m reach (hardware §3.4)
    res = K.inverse_kinematics(far)
    assert not res.converged.any()
    assert np.all(res.position_error > 0.4)


def test_ik_rejects_bad_shapes():
    with pytest.raises(ValueError, match="3 coordinates"):
        K.inverse_kinematics(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="at least 5"):
        K.tcp_position(np.zeros(3))


def test_child_link_frames_extend_the_arm_chain_with_the_gripper_link(random_configs):
    frames = K.child_link_frames(random_configs)
    np.testing.assert_allclose(frames[:, :5], K.link_frames(random_configs)[:, :5], atol=1e-12)
    # the jaw turns about its hinge: its frame's origin and axis do not move with the gripper angle, the rest does
    opened = random_configs.copy()
    opened[:, 5] += 0.5
    moved = K.child_link_frames(opened)
    np.testing.assert_allclose(moved[:, 5, :3, 3], frames[:, 5, :3, 3], atol=1e-12)
    np.testing.assert_allclose(moved[:, 5, :3, 2], frames[:, 5, :3, 2], atol=1e-12)
    assert np.abs(moved[:, 5, :3, 0] - frames[:, 5, :3, 0]).max() > 0.1
    with pytest.raises(ValueError, match="6 entries"):
        K.child_link_frames(random_configs[:, :5])
