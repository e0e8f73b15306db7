"""The gravity load per joint that the firmware reports (its TCP is :func:`roarm_lab.kinematics.tcp_firmware_mm`).

Numpy only: :mod:`roarm_lab.kinematics` does not import torch for numpy input, so the emulator starts fast. The
chain and masses are the robot description's (:mod:`roarm_lab.description`). The firmware's own geometric model
(hardware §3.4) differs from the URDF's by ~2.5 mm (hardware §3.3).
"""

from __future__ import annotations

import numpy as np

from roarm_lab import kinematics
from roarm_lab.description.inertia import LINK_INERTIALS
from roarm_lab.description.kinematic_chain import JOINTS

GRAVITY = np.array([0.0, 0.0, -9.81])
_MASS = np.array([LINK_INERTIALS[j.child].mass for j in JOINTS])
_COM = np.array([LINK_INERTIALS[j.child].com + (1.0,) for j in JOINTS])  # homogeneous, child-link frames


def gravity_torques(q_model) -> np.ndarray:
    """Torque (N*m) gravity applies about each joint axis, + in the joint's + direction: the servo must hold the
    opposite. Every joint's axis is its child frame's z (hardware §3.3)."""
    frames = kinematics.child_link_frames(q_model)
    coms = np.array([(f @ c)[:3] for f, c in zip(frames, _COM, strict=True)])
    forces = _MASS[:, None] * GRAVITY
    tau = np.zeros(len(frames))
    for i, f in enumerate(frames):  # joint i carries links i.. (serial chain)
        moments = np.cross(coms[i:] - f[:3, 3], forces[i:])
        tau[i] = float(np.sum(moments @ f[:3, 2]))
    return tau
