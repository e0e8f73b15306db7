"""What the firmware computes from the measured joint angles: TCP in its frame and the gravity load per joint.

Numpy only (no torch import, so the emulator starts fast). The chain and masses are the robot description's
(:mod:`roarm_lab.description`); the TCP matches :func:`roarm_lab.kinematics.tcp_firmware_mm` (checked in the
tests). The firmware's own geometric model (facts §3.4) differs from the URDF's by ~2.5 mm (facts §3.3).
"""

from __future__ import annotations

import numpy as np

from roarm_lab.description.inertia import LINK_INERTIALS
from roarm_lab.description.kinematic_chain import BASE_MOUNT, JOINTS, SHOULDER_AXIS_HEIGHT, TCP_ORIGIN
from roarm_lab.spatial import homogeneous, rpy_matrix

GRAVITY = np.array([0.0, 0.0, -9.81])
_BASE = homogeneous(rpy_matrix(BASE_MOUNT.rpy), BASE_MOUNT.xyz)
_ORIGINS = [homogeneous(rpy_matrix(j.origin.rpy), j.origin.xyz) for j in JOINTS]
_TCP = homogeneous(rpy_matrix(TCP_ORIGIN.rpy), TCP_ORIGIN.xyz)
_MASS = np.array([LINK_INERTIALS[j.child].mass for j in JOINTS])
_COM = np.array([LINK_INERTIALS[j.child].com + (1.0,) for j in JOINTS])  # homogeneous, child-link frames
_TCP_LINK = [j.child for j in JOINTS].index("link5")


def _rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    m = np.eye(4)
    m[:2, :2] = [[c, -s], [s, c]]
    return m


def child_frames(q_model) -> list[np.ndarray]:
    """World pose of each joint's child link (link1..link5, gripper_link) for six model joint angles."""
    frames, m = [], _BASE
    for origin, angle in zip(_ORIGINS, q_model, strict=True):  # a serial chain: the gripper hangs on link5
        m = m @ origin @ _rot_z(float(angle))
        frames.append(m)
    return frames


def tcp_firmware_mm(q_model) -> np.ndarray:
    """TCP x, y, z in mm, origin on the base axis at shoulder-pitch height (facts §2.7)."""
    p = (child_frames(q_model)[_TCP_LINK] @ _TCP)[:3, 3]
    return (p - np.array([0.0, 0.0, SHOULDER_AXIS_HEIGHT])) * 1000.0


def gravity_torques(q_model) -> np.ndarray:
    """Torque (N*m) gravity applies about each joint axis, + in the joint's + direction: the servo must hold the
    opposite. Every joint's axis is its child frame's z (facts §3.3)."""
    frames = child_frames(q_model)
    coms = np.array([(f @ c)[:3] for f, c in zip(frames, _COM, strict=True)])
    forces = _MASS[:, None] * GRAVITY
    tau = np.zeros(len(frames))
    for i, f in enumerate(frames):  # joint i carries links i.. (serial chain)
        moments = np.cross(coms[i:] - f[:3, 3], forces[i:])
        tau[i] = float(np.sum(moments @ f[:3, 2]))
    return tau
