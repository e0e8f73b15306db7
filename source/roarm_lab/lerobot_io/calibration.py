"""Calibration of an arm with absolute encoders, in LeRobot's calibration file format.

The ST3235 servos measure their horn's angle absolutely and the firmware reports it relative to the step-2047
middle it also homes to (hardware §2.2 T:100, §3.2), so an arm is usable as it comes: no range sweep, no homing,
and ``is_calibrated`` is always True. What a calibration adds is a per-joint offset for an arm whose middles are
off (a re-assembled horn, a shoulder whose driven servo was re-centred by T:100): the arm is posed by hand at the
firmware's init pose (:data:`HOME_POSE`: base 0, shoulder 0, elbow pi/2, wrist 0, roll 0, gripper closed) with
torque off, and the difference to that pose is stored. Nothing is written to the servos (the middle-set command
T:502 writes EEPROM, hardware §2.2, and stays refused).

The file is LeRobot's ``{joint: MotorCalibration}`` JSON: ``id`` the joint's (driving) servo ID (hardware §3.1),
``homing_offset`` the offset in servo steps (4096 per turn), ``range_min``/``range_max`` the hardware-safe limits
(hardware §3.5) in steps of the calibrated frame, for reference; ``drive_mode`` 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from roarm_lab.description.firmware_units import RAD_PER_STEP
from roarm_lab.description.kinematic_chain import HOME_POSE, JOINT_NAMES, JOINTS
from roarm_lab.description.limits import HARDWARE_SAFE
from roarm_lab.driver.session import ArmSession

#: The pose the arm is held at while calibrating (model rad).
CALIBRATION_POSE = HOME_POSE
#: Larger offsets mean the arm was not at the calibration pose (or a horn is a spline tooth off): refused.
MAX_OFFSET_RAD = 0.35


def offsets_from_reading(measured: Sequence[float], pose: Sequence[float] = CALIBRATION_POSE) -> np.ndarray:
    """Per-joint offsets (model rad) of an arm measured at ``measured`` while held at ``pose``."""
    offsets = np.asarray(measured, dtype=np.float64) - np.asarray(pose, dtype=np.float64)
    far = [f"{n} {o:+.3f} rad" for n, o in zip(JOINT_NAMES, offsets, strict=True) if abs(o) > MAX_OFFSET_RAD]
    if far:
        raise ValueError(f"the arm reads far from the calibration pose {tuple(round(x, 3) for x in pose)} "
                         f"({', '.join(far)}; at most {MAX_OFFSET_RAD} rad): pose it there and calibrate again")
    return offsets


def measure_offsets(arm: ArmSession, who: str) -> np.ndarray:
    """Ask the user to hold the arm (torque off) at the calibration pose and press Enter; the offsets of the
    reading then taken (ValueError when it is too far from the pose)."""
    input(f"Torque is off. Hold {who} at the firmware's init pose (base 0, shoulder 0, elbow 90 deg up, wrist 0, "
          "roll 0, gripper closed) and press Enter...")
    return offsets_from_reading(arm.fresh().feedback.q_model)


def calibrated_joints(arm: ArmSession, offsets: np.ndarray) -> np.ndarray:
    """The arm's joints (model rad) with the calibration offsets removed, from a reading at most
    ``max_feedback_age_s`` old (an older one is an error, never reused)."""
    return np.asarray(arm.read().feedback.q_model) - offsets


def to_lerobot(offsets: Sequence[float]) -> dict:
    """``{joint: MotorCalibration}`` for LeRobot's calibration file."""
    from lerobot.motors import MotorCalibration

    return {
        joint.name: MotorCalibration(id=joint.servo_ids[0], drive_mode=0, homing_offset=round(o / RAD_PER_STEP),
                                     range_min=round(lo / RAD_PER_STEP), range_max=round(hi / RAD_PER_STEP))
        for joint, o, lo, hi in zip(JOINTS, offsets, HARDWARE_SAFE.lower, HARDWARE_SAFE.upper, strict=True)
    }


def from_lerobot(calibration: Mapping[str, object]) -> np.ndarray:
    """Offsets (model rad) from a loaded calibration; zeros where the file is empty (no calibration)."""
    if not calibration:
        return np.zeros(len(JOINT_NAMES))
    missing = [n for n in JOINT_NAMES if n not in calibration]
    if missing:
        raise ValueError(f"the calibration file lacks {', '.join(missing)}: run lerobot-calibrate again")
    return np.array([calibration[n].homing_offset * RAD_PER_STEP for n in JOINT_NAMES])
