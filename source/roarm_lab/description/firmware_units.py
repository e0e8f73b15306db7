"""Unit conversions between the model and FW-250108 (``docs/hardware.md``).

* Model joint angles (rad) equal the firmware's for joints 1-5; the gripper is ``model = pi - firmware``
  (hardware §3.1 "URDF and firmware share the same zero/sign for joints 1-5", §2.8 "Gripper sign flip", §3.5).
* Servo steps: 4096 per turn, middle 2047 (hardware §3.1, §3.6). Each joint's step -> rad map is in hardware §3.1.
* ``spd`` is steps/s (0 = maximum) and ``acc`` is the 0-254 register in units of 100 steps/s^2 (0 = maximum)
  (hardware §2 "Servo speed/accel units").
* ``T:1051`` feedback keys in emission order (hardware §2.7).
"""

from __future__ import annotations

import math

import numpy as np

from roarm_lab.description.kinematic_chain import JOINT_NAMES

STEPS_PER_TURN = 4096
SERVO_MIDDLE_STEP = 2047
RAD_PER_STEP = 2.0 * math.pi / STEPS_PER_TURN
#: acc register unit (hardware §2): 100 steps/s^2; the register is a u8 limited to 0..254.
ACC_UNIT_STEPS_PER_S2 = 100.0
ACC_REGISTER_MAX = 254
GRIPPER_INDEX = JOINT_NAMES.index("gripper")

#: T:102 field per model joint (hardware §2.2: `base`,`shoulder`,`elbow`,`wrist`,`roll`,`hand`).
T102_FIELDS: tuple[str, ...] = ("base", "shoulder", "elbow", "wrist", "roll", "hand")
#: T:1051 joint fields per model joint and load fields (hardware §2.7).
FEEDBACK_JOINT_FIELDS: tuple[str, ...] = ("b", "s", "e", "t", "r", "g")
FEEDBACK_LOAD_FIELDS: tuple[str, ...] = ("tB", "tS", "tE", "tT", "tR", "tG")
FEEDBACK_KEYS: tuple[str, ...] = ("T", "x", "y", "z", "tit", *FEEDBACK_JOINT_FIELDS, *FEEDBACK_LOAD_FIELDS)

# step -> firmware rad is  sign * steps * RAD_PER_STEP + offset  (hardware §3.1, one row per joint).
_STEP_SIGN = np.array([-1.0, 1.0, 1.0, 1.0, -1.0, 1.0])
_STEP_OFFSET = np.array([math.pi, -math.pi, -math.pi / 2, -math.pi, math.pi, 0.0])

#: What T:1051 reports (firmware rad) when the servo bus is dead: every servo read as step 0 (hardware §2.7: the SDK
#: then shows ~[180, -180, -90, -180, 180, 180] deg, its gripper being pi - g).
DEAD_BUS_FIRMWARE_RAD = tuple(float(x) for x in _STEP_OFFSET)


def model_to_firmware_rad(q_model):
    """Model joint angles (..., 6) -> firmware radians (gripper flipped: fw = pi - model)."""
    q = np.array(q_model, dtype=np.float64, copy=True)
    _check_last_dim(q, "q_model")
    q[..., GRIPPER_INDEX] = math.pi - q[..., GRIPPER_INDEX]
    return q


def firmware_to_model_rad(q_firmware):
    """Firmware radians (..., 6) -> model joint angles. The map is its own inverse."""
    return model_to_firmware_rad(q_firmware)


def steps_to_firmware_rad(steps):
    """Servo steps (..., 6), one per joint (shoulder = driving servo 12) -> firmware radians (hardware §3.1)."""
    s = np.asarray(steps, dtype=np.float64)
    _check_last_dim(s, "steps")
    return _STEP_SIGN * s * RAD_PER_STEP + _STEP_OFFSET


def firmware_rad_to_steps(q_firmware):
    """Firmware radians (..., 6) -> servo steps, rounded to the servo's 4096-step quantization."""
    q = np.asarray(q_firmware, dtype=np.float64)
    _check_last_dim(q, "q_firmware")
    return np.rint((q - _STEP_OFFSET) / (_STEP_SIGN * RAD_PER_STEP)).astype(np.int64)


def rad_per_s_to_spd(omega: float) -> int:
    """Joint speed (rad/s, > 0) -> the `spd` field (steps/s). 0 means 'maximum' to the firmware, so a
    positive speed never rounds down to it."""
    if not math.isfinite(omega) or omega <= 0:
        raise ValueError(f"speed must be a positive finite rad/s, got {omega!r} (spd 0 would mean 'maximum')")
    return max(1, round(omega / RAD_PER_STEP))


def spd_to_rad_per_s(spd: int) -> float:
    """The `spd` field (steps/s) -> rad/s. spd 0 (= servo maximum) has no finite meaning here."""
    if spd <= 0:
        raise ValueError("spd 0 means 'servo maximum' and has no fixed rad/s value")
    return spd * RAD_PER_STEP


def rad_per_s2_to_acc(alpha: float) -> int:
    """Joint acceleration (rad/s^2, > 0) -> the `acc` register (x100 steps/s^2), clamped to 1..254."""
    if not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"acceleration must be a positive finite rad/s^2, got {alpha!r} (acc 0 = no ramp)")
    return int(min(ACC_REGISTER_MAX, max(1, round(alpha / RAD_PER_STEP / ACC_UNIT_STEPS_PER_S2))))


def acc_to_rad_per_s2(acc: int) -> float:
    if not 1 <= acc <= ACC_REGISTER_MAX:
        raise ValueError(f"acc register must be 1..{ACC_REGISTER_MAX} (0 = no ramp), got {acc}")
    return acc * ACC_UNIT_STEPS_PER_S2 * RAD_PER_STEP


def _check_last_dim(a: np.ndarray, what: str) -> None:
    if a.ndim == 0 or a.shape[-1] != len(JOINT_NAMES):
        raise ValueError(f"{what} must have a last dimension of {len(JOINT_NAMES)} joints, got shape {a.shape}")
