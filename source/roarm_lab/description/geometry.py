"""Primitive shapes of the links (no vendor meshes: Waveshare's carry no licence).

Lengths along the arm come from the kinematics (hardware §3.3): the upper arm spans shoulder -> elbow
(236.8 mm + 30 mm offset), the forearm elbow -> wrist (144.6 mm), the wrist bracket wrist -> roll joint, and the
jaws run from the jaw hinge (52 mm along link5) to just past the TCP (115.4 mm along link5). Cross-sections are
ASSUMED (a ~45 x 35 mm bus servo sets most of them). Link frames at the home pose (base 0): link2 x = up,
link3 x = down / -y = forward, link5 z = forward along the gripper, link5 x = the side the moving jaw opens to.

The jaws: the fixed jaw is part of link5, the moving jaw is `gripper_link` (hardware §3.3). Both inner faces lie
on the link5 plane x = 0 when the gripper is closed (model 0), and the moving jaw swings to +x (model + = open).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ShapeKind = Literal["box", "cylinder", "sphere"]


@dataclass(frozen=True)
class Shape:
    """A primitive in a link frame. box: ``size`` = full extents (x, y, z); cylinder: (radius, length) along its
    local z; sphere: (radius,). ``rpy`` rotates the shape's local frame (fixed-axis roll-pitch-yaw)."""

    name: str
    kind: ShapeKind
    size: tuple[float, ...]
    pos: tuple[float, float, float]
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)
    material: str = "body"


@dataclass(frozen=True)
class LinkGeometry:
    visuals: tuple[Shape, ...]
    collisions: tuple[Shape, ...]


HALF_PI = 1.5707963267948966

#: RGBA per material (display only).
MATERIALS: dict[str, tuple[float, float, float, float]] = {
    "body": (0.86, 0.86, 0.88, 1.0),
    "servo": (0.12, 0.12, 0.13, 1.0),
    "jaw": (0.95, 0.55, 0.1, 1.0),
}

# Jaw plate: 70 mm long (hinge at 52 mm -> tip at 122 mm along link5, past the TCP at 115.4 mm), 6 mm thick,
# 30 mm wide. The width is centred on the gripper axis; the moving jaw's hinge sits 18.8 mm off-axis (hardware §3.3).
JAW_LENGTH, JAW_THICKNESS, JAW_WIDTH = 0.070, 0.006, 0.030
_HINGE_Z = 0.052035  # link5 -> gripper_link origin z (hardware §3.3)
_HINGE_Y = 0.018821  # link5 -> gripper_link origin y (hardware §3.3)

_SERVO = (0.045, 0.035, 0.025)

GEOMETRY: dict[str, LinkGeometry] = {
    "base_link": LinkGeometry(
        visuals=(
            Shape("housing", "cylinder", (0.055, 0.0651), (0.0, 0.0, -0.03755)),
            Shape("turntable", "cylinder", (0.045, 0.005), (0.0, 0.0, -0.0025), material="servo"),
        ),
        collisions=(Shape("housing", "cylinder", (0.055, 0.0701), (0.0, 0.0, -0.03505)),),
    ),
    "link1": LinkGeometry(
        visuals=(
            Shape("turret", "cylinder", (0.042, 0.012), (0.0, 0.0, 0.006)),
            Shape("servo_left", "box", _SERVO, (0.0, 0.035, 0.040), material="servo"),
            Shape("servo_right", "box", _SERVO, (0.0, -0.035, 0.040), material="servo"),
        ),
        collisions=(Shape("turret", "box", (0.06, 0.10, 0.06), (0.0, 0.0, 0.032)),),
    ),
    "link2": LinkGeometry(
        visuals=(
            Shape("upper_arm", "box", (0.250, 0.024, 0.050), (0.118, 0.015, 0.0)),
            Shape("elbow_servo", "box", _SERVO, (0.2368, 0.030, 0.0), (0.0, 0.0, HALF_PI), material="servo"),
        ),
        collisions=(Shape("upper_arm", "box", (0.270, 0.036, 0.050), (0.125, 0.015, 0.0)),),
    ),
    "link3": LinkGeometry(
        visuals=(
            Shape("forearm", "box", (0.024, 0.150, 0.044), (0.0, -0.075, 0.0)),
            Shape("wrist_servo", "box", _SERVO, (0.0, -0.1446, 0.0), (0.0, 0.0, HALF_PI), material="servo"),
        ),
        collisions=(Shape("forearm", "box", (0.034, 0.170, 0.044), (0.0, -0.075, 0.0)),),
    ),
    "link4": LinkGeometry(
        visuals=(Shape("wrist_bracket", "box", (0.036, 0.050, 0.040), (0.0076, -0.030, 0.0)),),
        collisions=(Shape("wrist_bracket", "box", (0.036, 0.050, 0.040), (0.0076, -0.030, 0.0)),),
    ),
    "link5": LinkGeometry(
        visuals=(
            Shape("roll_servo", "cylinder", (0.020, 0.014), (0.0, 0.0, 0.007), material="servo"),
            Shape("gripper_body", "box", (0.040, 0.046, 0.038), (-0.004, 0.004, 0.033)),
            Shape(
                "fixed_jaw", "box", (JAW_THICKNESS, JAW_WIDTH, JAW_LENGTH),
                (-JAW_THICKNESS / 2, 0.0, _HINGE_Z + JAW_LENGTH / 2), material="jaw",
            ),
        ),
        collisions=(
            Shape("gripper_body", "box", (0.040, 0.046, 0.038), (-0.004, 0.004, 0.033)),
            Shape(
                "fixed_jaw", "box", (JAW_THICKNESS, JAW_WIDTH, JAW_LENGTH),
                (-JAW_THICKNESS / 2, 0.0, _HINGE_Z + JAW_LENGTH / 2),
            ),
        ),
    ),
    # gripper_link frame: x along the jaw, y = opening side (link5 +x), z = hinge axis (link5 +y).
    "gripper_link": LinkGeometry(
        visuals=(
            Shape(
                "moving_jaw", "box", (JAW_LENGTH, JAW_THICKNESS, JAW_WIDTH),
                (JAW_LENGTH / 2, JAW_THICKNESS / 2, -_HINGE_Y), material="jaw",
            ),
        ),
        collisions=(
            Shape(
                "moving_jaw", "box", (JAW_LENGTH, JAW_THICKNESS, JAW_WIDTH),
                (JAW_LENGTH / 2, JAW_THICKNESS / 2, -_HINGE_Y),
            ),
        ),
    ),
}

#: Grasp point in link5: where a 30 mm cube's centre sits before the jaw closes: 3 mm clear of the fixed jaw's
#: inner face (x = 0) so the fixed jaw slides down past it, centred on the jaw width, with the jaw tips (122 mm)
#: 3 mm short of its far face so a top-down grasp clears the table.
GRASP_POINT_LINK5 = (0.018, 0.0, _HINGE_Z + JAW_LENGTH + 0.003 - 0.015)
