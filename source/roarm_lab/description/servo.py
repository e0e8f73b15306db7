"""Servo model (Feetech ST3235) and the simulation drive parameters derived from it.

Facts (``docs/hardware.md`` §3.6): 30 kg*cm (~2.94 N*m) stall torque at 12 V, no-load
0.222 s/60 deg (~4.71 rad/s), 4096 steps/turn, gear ratio 1:345, position-controlled; the shoulder is driven by two
mirrored servos (IDs 12 + 13); the gripper torque is limited to 300 permille at boot (hardware §2.2 T:107, §3.2).

The servo is modelled as a DC motor behind a saturating proportional position loop:

    tau = clip(kp * (q_target - q), -tau_limit, +tau_limit) - b * qdot,   b = tau_stall / omega_no_load

The ``b * qdot`` term is the motor's back-EMF: it makes the torque-speed line of a DC motor, so a saturated joint
runs at the no-load speed and no faster. In MuJoCo this is a position actuator (kp, forcerange) plus joint
damping b; in Isaac Lab an explicit P actuator with an effort clamp plus passive joint damping b
(:mod:`roarm_lab.isaaclab.robot_cfg`).

Parameters the facts do not give are marked ASSUMED; they are what the domain randomization of the tasks spans.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from roarm_lab.description.kinematic_chain import JOINT_NAMES

STALL_TORQUE_NM = 30.0 * 9.80665 / 100.0  # 30 kg*cm -> 2.942 N*m (hardware §3.6)
NO_LOAD_SPEED_RAD_S = (math.pi / 3) / 0.222  # 0.222 s per 60 deg -> 4.717 rad/s (hardware §3.6)
GEAR_RATIO = 345.0  # hardware §3.6
#: Gripper torque limit the firmware sets at boot, permille of maximum (hardware §2.2 T:107, §3.2).
GRIPPER_BOOT_TORQUE_PERMILLE = 300

#: ASSUMED: rotor inertia of the servo's motor; reflected through the 1:345 gearbox it becomes the joint
#: armature (~0.012 kg*m^2), which dominates the light distal links, as it does in a real geared servo.
ROTOR_INERTIA_KG_M2 = 1.0e-7
#: ASSUMED: position error (rad) at which the servo's proportional loop reaches full output. ~0.05 rad is 33 steps.
SATURATION_ERROR_RAD = 0.05
#: ASSUMED: dry (Coulomb) friction of a servo's gear train, N*m at the output.
FRICTION_NM = 0.02

#: Servos driving each model joint (hardware §3.1: shoulder = 12 driving + 13 mirrored).
SERVOS_PER_JOINT: dict[str, int] = {"base": 1, "shoulder": 2, "elbow": 1, "wrist": 1, "roll": 1, "gripper": 1}


@dataclass(frozen=True)
class JointDrive:
    """Simulation drive of one joint, SI units (N*m, rad, s)."""

    joint: str
    stiffness: float  # kp, N*m/rad
    damping: float  # b = back-EMF slope, N*m*s/rad
    torque_limit: float  # saturation of the position loop, N*m
    velocity_limit: float  # no-load speed, rad/s
    armature: float  # reflected rotor inertia, kg*m^2
    friction: float  # Coulomb friction, N*m


def joint_drive(joint_name: str) -> JointDrive:
    """Derive one joint's drive from the servo facts."""
    n = SERVOS_PER_JOINT[joint_name]
    stall = n * STALL_TORQUE_NM
    limit = stall * (GRIPPER_BOOT_TORQUE_PERMILLE / 1000.0 if joint_name == "gripper" else 1.0)
    return JointDrive(
        joint=joint_name,
        stiffness=stall / SATURATION_ERROR_RAD,
        damping=stall / NO_LOAD_SPEED_RAD_S,
        torque_limit=limit,
        velocity_limit=NO_LOAD_SPEED_RAD_S,
        armature=n * ROTOR_INERTIA_KG_M2 * GEAR_RATIO**2,
        friction=n * FRICTION_NM,
    )


DRIVES: tuple[JointDrive, ...] = tuple(joint_drive(j) for j in JOINT_NAMES)
