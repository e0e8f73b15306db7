"""Kinematic chain of the RoArm-M3 Pro: joint frames, axes and the TCP.

Every number is from the roarm_ws URDF (`roarm_description/urdf/bases/roarm_m3.xacro`, commit 62146ad) as
listed in ``docs/hardware.md`` §3.3. Units: metres and radians. All joint axes are +z
of the child frame (hardware §3.3: "All joint axes `0 0 1` in the child frame").

Frame convention (hardware §3.1): model joints 1-5 share zero and sign with the firmware's joints 1-5; only the
gripper differs (model = pi - firmware, see :mod:`roarm_lab.description.firmware_units`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HALF_PI = math.pi / 2

#: The model's joint names in firmware order (hardware §2: 1 base, 2 shoulder, 3 elbow, 4 wrist, 5 roll, 6 gripper).
JOINT_NAMES: tuple[str, ...] = ("base", "shoulder", "elbow", "wrist", "roll", "gripper")
#: The five joints that place the TCP (the gripper does not move it: hardware §3.3, `hand_tcp` is fixed on link5).
ARM_JOINT_NAMES: tuple[str, ...] = JOINT_NAMES[:5]
#: Links from the base up; ``gripper_link`` is the moving jaw only (hardware §3.3, [USER Viam]).
LINK_NAMES: tuple[str, ...] = ("base_link", "link1", "link2", "link3", "link4", "link5", "gripper_link")


@dataclass(frozen=True)
class Origin:
    """A fixed transform parent -> child, as URDF writes it (xyz, then fixed-axis roll-pitch-yaw)."""

    xyz: tuple[float, float, float]
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class JointFrame:
    """A revolute joint: its parent link, child link, origin in the parent frame and firmware identity."""

    name: str
    urdf_name: str
    parent: str
    child: str
    origin: Origin
    firmware_index: int  # T:101 `joint` number (hardware §2)
    servo_ids: tuple[int, ...]  # hardware §3.1


#: world -> base_link: the base frame sits 70.1 mm above the mounting surface (hardware §3.3, world_to_base_link).
BASE_MOUNT = Origin((0.0, 0.0, 0.0701))

JOINTS: tuple[JointFrame, ...] = (
    JointFrame("base", "base_link_to_link1", "base_link", "link1", Origin((0.0, 0.0, 0.0)), 1, (11,)),
    JointFrame(
        "shoulder", "link1_to_link2", "link1", "link2", Origin((0.0, 0.0, 0.051959), (-HALF_PI, -HALF_PI, 0.0)),
        2, (12, 13),  # 12 driving, 13 driven mirror (hardware §3.1, §3.6 "dual-driven")
    ),
    JointFrame(
        "elbow", "link2_to_link3", "link2", "link3", Origin((0.236815, 0.030002, 0.0), (0.0, 0.0, HALF_PI)), 3, (14,)
    ),
    JointFrame("wrist", "link3_to_link4", "link3", "link4", Origin((0.0, -0.144586, 0.0)), 4, (15,)),
    JointFrame(
        "roll", "link4_to_link5", "link4", "link5", Origin((0.015147, -0.053653, 0.0), (HALF_PI, HALF_PI, 0.0)),
        5, (16,),
    ),
    JointFrame(
        "gripper", "link5_to_gripper_link", "link5", "gripper_link",
        Origin((0.0, 0.018821, 0.052035), (-HALF_PI, -HALF_PI, 0.0)), 6, (17,),
    ),
)

#: link5 -> hand_tcp, fixed (hardware §3.3 link5_to_hand_tcp). The TCP does not move with the jaw.
TCP_PARENT = "link5"
TCP_ORIGIN = Origin((0.0, 0.0, 0.115428), (HALF_PI, -HALF_PI, 0.0))

#: Height of the shoulder-pitch axis above `world` (hardware §3.3: 0.0701 + 0.051959). The firmware reports
#: x, y, z with z measured from this axis (hardware §2.7, §3.4).
SHOULDER_AXIS_HEIGHT = BASE_MOUNT.xyz[2] + JOINTS[1].origin.xyz[2]

#: Firmware init / home pose in model joint order (hardware §3.2): base 0, shoulder 0, elbow pi/2, wrist 0, roll 0,
#: gripper closed (firmware pi -> model 0).
HOME_POSE: tuple[float, ...] = (0.0, 0.0, HALF_PI, 0.0, 0.0, 0.0)

#: Firmware geometric model, mm (hardware §3.4); used to cross-check the TCP, never for the model itself.
FIRMWARE_HOME_TCP_MM = (346.16, 0.0, 223.13)


def joint(name: str) -> JointFrame:
    """Look a joint up by model name, with a clear error for a typo."""
    for j in JOINTS:
        if j.name == name:
            return j
    raise KeyError(f"unknown joint {name!r}; the RoArm-M3 joints are {', '.join(JOINT_NAMES)}")
