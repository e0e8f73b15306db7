"""Before the policy runs: is the arm fit to start, and a slow, checked move to the policy's start pose.

The start pose is the package's ``action.default_pose`` (the zero action), where training episodes begin: the
firmware home pose with the gripper half open. The move is a straight line in joint space at ``speed_rad_s``
(for the joint with the furthest to go), streamed as `T:102` waypoints at the control rate, so the path the
arm takes is the path checked against the limits and the workspace box before anything moves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from roarm_lab.description.firmware_units import rad_per_s_to_spd
from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.driver.errors import MotionTimeoutError
from roarm_lab.driver.protocol.commands import MoveJoints
from roarm_lab.driver.protocol.feedback import Feedback
from roarm_lab.driver.safety import SafetyLayer
from roarm_lab.runner.errors import UnsafeStartError
from roarm_lab.runner.feedback_tracker import FeedbackTracker
from roarm_lab.runner.scheduler import RateScheduler
from roarm_lab.runner.stop_request import StopRequest

#: A joint this far outside the limits was not put there by the firmware's boot: refuse to drive it.
FAR_OUTSIDE_RAD = 0.1
#: Close enough to the start pose; loaded servos settle a step or two off (hardware §3.6: 0.0015 rad per step).
START_TOLERANCE_RAD = 0.03


def check_arm_state(fb: Feedback, safety: SafetyLayer, far_outside_rad: float = FAR_OUTSIDE_RAD) -> None:
    """:class:`UnsafeStartError` for a dead servo bus or joints far outside the limits."""
    if fb.is_dead_bus:
        raise UnsafeStartError("the servo bus is not answering: every joint reads servo step 0 (hardware §2.7). Check "
                               "the 12 V supply and the servo cable; nothing was moved")
    limits = safety.config.limits
    outside = [f"{n} {q:+.3f} rad outside [{lo:+.3f}, {hi:+.3f}]"
               for n, q, lo, hi in zip(JOINT_NAMES, fb.q_model, limits.lower, limits.upper, strict=True)
               if not lo - far_outside_rad <= q <= hi + far_outside_rad]
    if outside:
        raise UnsafeStartError(f"joints far outside {limits.name}: {'; '.join(outside)}. Bring the arm back by hand "
                               "(torque off) or with scripts/arm.py; nothing was moved")


def plan_start_path(start: Sequence[float], goal: Sequence[float], speed_rad_s: float,
                    rate_hz: float) -> np.ndarray:
    """Waypoints (n, 6) from ``start`` (excluded) to ``goal`` (included) on a straight joint-space line, the joint
    with the furthest to go moving at ``speed_rad_s``."""
    a, b = np.asarray(start, dtype=np.float64), np.asarray(goal, dtype=np.float64)
    distance = float(np.max(np.abs(b - a)))
    n = max(1, math.ceil(distance / (speed_rad_s / rate_hz)))
    return a + np.arange(1, n + 1)[:, None] / n * (b - a)


def check_start_path(path: np.ndarray, start: Sequence[float], safety: SafetyLayer) -> None:
    """:class:`UnsafeStartError` unless the goal is inside the limits (less the margin) and the TCP stays in the
    workspace box from the start pose to the goal."""
    goal = path[-1]
    if not safety.within_limits(goal):
        raise UnsafeStartError(f"the policy's start pose {np.round(goal, 3).tolist()} is outside the limits less "
                               f"the {safety.config.margin_rad} rad margin")
    inside = safety.tcp_in_workspace(np.vstack([start, path]))
    if not inside.all():
        where = "the arm's current pose" if not inside[0] else f"waypoint {int(np.argmin(inside))} of {len(path)}"
        box = safety.config.workspace
        raise UnsafeStartError(f"the TCP would leave the workspace box {box.lower}..{box.upper} m on the way to the "
                               f"start pose ({where}); move the arm up first (scripts/arm.py home)")


def move_to_start(link: FeedbackTracker, goal: Sequence[float], safety: SafetyLayer, *, speed_rad_s: float,
                  rate_hz: float, stop: StopRequest, settle_timeout_s: float = 3.0,
                  tolerance_rad: float = START_TOLERANCE_RAD, echo: Callable[[str], None] = print,
                  clock: Callable[[], float] = time.monotonic) -> int:
    """Check the path, stream it and wait until every joint is within ``tolerance_rad`` of ``goal``; returns the
    number of waypoints sent (0 when already there). Raises UnsafeStartError before moving, MotionTimeoutError,
    StaleFeedbackError, StopRequested or a transport error while moving."""
    start = np.asarray(link.latest.q_model)
    goal = np.asarray(goal, dtype=np.float64)
    if np.max(np.abs(goal - start)) <= tolerance_rad:
        echo("[roarm-lab] already at the start pose")
        return 0
    path = plan_start_path(start, goal, speed_rad_s, rate_hz)
    check_start_path(path, start, safety)
    echo(f"[roarm-lab] moving to the start pose {np.round(goal, 3).tolist()} at {speed_rad_s:g} rad/s "
         f"({len(path) / rate_hz:.1f} s)" + (" - skipped (dry run)" if link.dry_run else ""))
    if link.dry_run:
        return 0
    spd = rad_per_s_to_spd(1.5 * speed_rad_s)  # the servos' own speed cap, above the waypoints' pace
    scheduler = RateScheduler(rate_hz, clock)
    for waypoint in path:
        _tick(link, scheduler, stop)
        link.command(MoveJoints(tuple(waypoint), spd=spd, acc=0))
    deadline = clock() + settle_timeout_s
    while True:
        off = {n: q - g for n, q, g in zip(JOINT_NAMES, link.latest.q_model, goal, strict=True)
               if abs(q - g) > tolerance_rad}
        if not off:
            return len(path)
        if clock() > deadline:
            detail = ", ".join(f"{n} off by {e:+.3f} rad" for n, e in off.items())
            raise MotionTimeoutError(f"start pose not reached within {settle_timeout_s:.1f} s: {detail}")
        _tick(link, scheduler, stop)
        link.refresh()


def _tick(link: FeedbackTracker, scheduler: RateScheduler, stop: StopRequest) -> float:
    now = scheduler.next_tick()
    stop.raise_if_requested()
    link.check_watchdog(now)
    return now
