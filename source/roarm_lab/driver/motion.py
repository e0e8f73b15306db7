"""Joint moves on an :class:`ArmSession`: a limit-checked `T:102` and waiting until the arm gets there."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from roarm_lab.description.firmware_units import RAD_PER_STEP, rad_per_s2_to_acc, rad_per_s_to_spd
from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.description.limits import HARDWARE_SAFE, JointLimits
from roarm_lab.driver.errors import InvalidCommandError, MotionTimeoutError
from roarm_lab.driver.protocol.commands import MoveJoints
from roarm_lab.driver.protocol.feedback import Feedback
from roarm_lab.driver.safety import check_within_limits
from roarm_lab.driver.session import DEFAULT_ACCEL_RAD_S2, DEFAULT_SPEED_RAD_S, ArmSession

#: Servos settle within a step or two (1.5 mm-ish at the TCP); loaded joints may sit a little off.
DEFAULT_TOLERANCE_RAD = 0.02


def move_joints_command(q_model: Sequence[float], speed_rad_s: float = DEFAULT_SPEED_RAD_S,
                        accel_rad_s2: float = DEFAULT_ACCEL_RAD_S2, limits: JointLimits = HARDWARE_SAFE) -> MoveJoints:
    """A `T:102` to ``q_model`` after checking ``limits`` (JointLimitError otherwise)."""
    q = check_within_limits(q_model, limits)
    try:
        spd, acc = rad_per_s_to_spd(speed_rad_s), rad_per_s2_to_acc(accel_rad_s2)
    except ValueError as e:
        raise InvalidCommandError(str(e)) from e
    return MoveJoints(q, spd=spd, acc=acc)


def move_duration(start: Sequence[float], goal: Sequence[float], speed_rad_s: float, accel_rad_s2: float) -> float:
    """Time a trapezoidal move needs for the joint that moves furthest (all servos share speed and acc)."""
    d = max(abs(g - s) for s, g in zip(start, goal, strict=True))
    ramp = speed_rad_s**2 / accel_rad_s2  # distance spent accelerating plus decelerating
    return d / speed_rad_s + speed_rad_s / accel_rad_s2 if d >= ramp else 2 * math.sqrt(d / accel_rad_s2)


def wait_until_reached(arm: ArmSession, q_model: Sequence[float], timeout_s: float,
                       tolerance_rad: float = DEFAULT_TOLERANCE_RAD, poll_s: float = 0.05) -> Feedback:
    """Poll feedback until every joint is within ``tolerance_rad`` of ``q_model`` and has stopped (no joint moved
    more than a servo step since the previous poll); MotionTimeoutError naming the joints still off otherwise."""
    deadline = time.monotonic() + timeout_s
    previous = None
    while True:
        fb = arm.fresh().feedback
        errors = {n: q - t for n, q, t in zip(JOINT_NAMES, fb.q_model, q_model, strict=True)}
        off = {n: e for n, e in errors.items() if abs(e) > tolerance_rad}
        settled = previous is not None and max(abs(a - b) for a, b in zip(fb.q_model, previous, strict=True)) <= (
            1.5 * RAD_PER_STEP)
        if not off and settled:
            return fb
        previous = fb.q_model
        if time.monotonic() >= deadline:
            detail = ", ".join(f"{n} off by {e:+.3f} rad" for n, e in off.items())
            raise MotionTimeoutError(f"target not reached within {timeout_s:.1f} s: {detail}")
        time.sleep(poll_s)


def move_and_wait(arm: ArmSession, q_model: Sequence[float], speed_rad_s: float = DEFAULT_SPEED_RAD_S,
                  accel_rad_s2: float = DEFAULT_ACCEL_RAD_S2, limits: JointLimits = HARDWARE_SAFE,
                  tolerance_rad: float = DEFAULT_TOLERANCE_RAD, slack_s: float = 2.0) -> Feedback:
    """Check, send and wait: the timeout is the planned duration from the current pose x 1.5 + ``slack_s``."""
    command = move_joints_command(q_model, speed_rad_s, accel_rad_s2, limits)
    start = arm.fresh().feedback.q_model
    timeout = 1.5 * move_duration(start, command.positions, speed_rad_s, accel_rad_s2) + slack_s
    arm.send(command)
    return wait_until_reached(arm, command.positions, timeout, tolerance_rad)
