"""Link masses and inertias, re-estimated so the arm weighs what the real one does.

The roarm_ws URDF inertials (hardware §3.3) sum to 0.449 kg, while a RoArm-M3 Pro weighs 1020.8 g +- 15 g
(hardware §3.6, §6). The URDF numbers look like shell-only estimates with the servos left out (hardware §3.3 and §7
item 9). Re-estimate: keep each link's URDF shell, and add the arm's seven servos (IDs 11-17, hardware §3.1) as
solid boxes on the link that carries each servo's housing, so that shells + servos = 1020.8 g. Each servo then
weighs (1020.8 g - 449.2 g) / 7 = 81.7 g [CALC]; that share also covers brackets, horn screws and cables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from roarm_lab.description.kinematic_chain import JOINTS, LINK_NAMES

ARM_MASS_KG = 1.0208  # RoArm-M3 Pro, hardware §3.6 / §6


@dataclass(frozen=True)
class UrdfInertial:
    mass: float
    com: tuple[float, float, float]
    diag: tuple[float, float, float]  # ixx, iyy, izz about the COM; ixy = ixz = iyz = 0 (hardware §3.3)


#: roarm_ws URDF inertials, hardware §3.3.
URDF_INERTIALS: dict[str, UrdfInertial] = {
    "base_link": UrdfInertial(0.2562183, (-0.0068, 0.0, -0.03), (2.9211e-4, 3.5719e-4, 3.49421e-4)),
    "link1": UrdfInertial(0.0729177, (0.0, 0.0, 0.037), (4.68465e-5, 3.32107e-5, 5.01023e-5)),
    "link2": UrdfInertial(0.0703216, (0.119, 0.012247, -0.0001), (5.46501e-5, 4.23091e-4, 4.04557e-4)),
    "link3": UrdfInertial(0.021608, (-0.0015, -0.0765, 0.00505), (6.37699e-5, 3.67026e-6, 6.28965e-5)),
    "link4": UrdfInertial(0.0099933, (-0.0015, -0.022, -0.00075), (4.53979e-6, 3.78103e-6, 5.60238e-6)),
    "link5": UrdfInertial(0.0153928, (-0.0078, 0.0, 0.0595), (2.02869e-5, 2.14427e-5, 4.39495e-6)),
    "gripper_link": UrdfInertial(0.0028708, (0.027, 0.0027, -0.018935), (5.23216e-7, 1.82071e-6, 1.60231e-6)),
}

#: ASSUMED servo housing size (m), an ST3215-class bus servo; only its inertia depends on it.
SERVO_BOX_SIZE = (0.045, 0.035, 0.025)


def _servo_positions() -> dict[str, list[tuple[float, float, float]]]:
    """Where each servo's mass sits, in the frame of the link that carries its housing (ASSUMED placement).

    A servo sits at the joint it drives, on the parent link: the base servo inside the base under the
    turntable, the two shoulder servos either side of the shoulder axis, and one servo at each further joint.
    """
    origin = {j.name: j.origin.xyz for j in JOINTS}
    sx, sy, sz = origin["shoulder"]
    return {
        "base_link": [(0.0, 0.0, -0.025)],
        "link1": [(sx, sy + 0.035, sz - 0.012), (sx, sy - 0.035, sz - 0.012)],
        "link2": [origin["elbow"]],
        "link3": [origin["wrist"]],
        "link4": [origin["roll"]],
        "link5": [origin["gripper"]],
        "gripper_link": [],
    }


SERVO_POSITIONS = _servo_positions()
SERVO_COUNT = sum(len(v) for v in SERVO_POSITIONS.values())  # 7: IDs 11-17
SERVO_MASS_KG = (ARM_MASS_KG - sum(i.mass for i in URDF_INERTIALS.values())) / SERVO_COUNT


@dataclass(frozen=True)
class LinkInertial:
    """Mass properties of a link in its own frame: mass (kg), COM (m), inertia tensor about the COM (kg m^2)."""

    mass: float
    com: tuple[float, float, float]
    inertia: tuple[tuple[float, float, float], ...]  # 3x3, symmetric

    def principal(self) -> tuple[np.ndarray, np.ndarray]:
        """Principal moments (ascending) and axes (columns, right-handed) of the inertia tensor."""
        moments, axes = np.linalg.eigh(np.array(self.inertia))
        if np.linalg.det(axes) < 0:
            axes[:, 2] = -axes[:, 2]
        return moments, axes


def _box_inertia(mass: float, size: tuple[float, float, float]) -> np.ndarray:
    a, b, c = size
    return mass / 12.0 * np.diag([b * b + c * c, a * a + c * c, a * a + b * b])


def _combine(parts: list[tuple[float, np.ndarray, np.ndarray]]) -> LinkInertial:
    """Sum point-mass-with-inertia parts (mass, com, inertia about own com) with the parallel-axis theorem."""
    mass = sum(m for m, _, _ in parts)
    com = sum(m * c for m, c, _ in parts) / mass
    inertia = np.zeros((3, 3))
    for m, c, i in parts:
        d = c - com
        inertia += i + m * (np.dot(d, d) * np.eye(3) - np.outer(d, d))
    return LinkInertial(
        mass=float(mass),
        com=tuple(float(x) for x in com),
        inertia=tuple(tuple(float(x) for x in row) for row in inertia),
    )


def link_inertial(link: str) -> LinkInertial:
    shell = URDF_INERTIALS[link]
    parts = [(shell.mass, np.array(shell.com), np.diag(shell.diag))]
    for pos in SERVO_POSITIONS[link]:
        parts.append((SERVO_MASS_KG, np.array(pos, dtype=float), _box_inertia(SERVO_MASS_KG, SERVO_BOX_SIZE)))
    return _combine(parts)


LINK_INERTIALS: dict[str, LinkInertial] = {name: link_inertial(name) for name in LINK_NAMES}
