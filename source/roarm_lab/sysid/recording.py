"""``sysid.py record``: drive the excitation plan (:mod:`.excitation`) on an :class:`ArmSession` at a fixed rate and
keep every tick as a frame of a LeRobot v3 dataset (:func:`.data.sysid_features`, the writer of play_real
``--record``).

Before anything moves: a reading, another ``rest_gap_s`` later; the arm must be at rest (no joint moved more than
``rest_tolerance_rad``), its servo bus alive and every joint inside ``HARDWARE_SAFE``; otherwise
:class:`RecordRefused` and nothing was sent. Each tick then takes the newest reading no earlier tick used, passes the
plan's target through the :class:`~roarm_lab.driver.safety.SafetyLayer` and writes the `T:102` with the plan's spd and
acc. A stop request (Ctrl+C, SIGTERM: the caller's stop object) or a fault ends the loop with a hold - a `T:102` to
the last measured pose at the hold speed (:meth:`ArmSession.hold`), never `T:0` - and what was recorded so far is
still written as the episode.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from roarm_lab.description.limits import HARDWARE_SAFE, JointLimits
from roarm_lab.driver.errors import RealArmError
from roarm_lab.driver.protocol.commands import MoveJoints
from roarm_lab.driver.safety import SafetyLayer, limit_violations
from roarm_lab.driver.session import ArmSession
from roarm_lab.driver.transports.latest_frame import StampedFeedback
from roarm_lab.lerobot_io.dataset_features import ACTION, STATE
from roarm_lab.sysid.config import DEFAULT_RECORD, RecordConfig
from roarm_lab.sysid.data import ACTION_TIME, EXCITATION_TASK, LOAD, OBS_TIME, SERVO_PROFILE
from roarm_lab.sysid.excitation import ExcitationPlan, excitation_plan


class RecordRefused(RealArmError):
    """The arm is not fit for the excitation (moving, outside the limits, dead bus); nothing was sent."""


class StopFlag(Protocol):
    requested: bool


@dataclass
class _NoStop:
    requested: bool = False


@dataclass
class RecordResult:
    outcome: str  # "completed", "stopped", "fault: ..."
    frames: int
    episode: int | None
    hold: str = "not needed"
    clamps: dict[str, int] = field(default_factory=dict)
    late_ticks: int = 0

    @property
    def ok(self) -> bool:
        return not self.outcome.startswith("fault")

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "frames": self.frames, "episode": self.episode, "hold": self.hold,
                "clamps": self.clamps, "late_ticks": self.late_ticks}


def check_ready(arm: ArmSession, config: RecordConfig = DEFAULT_RECORD,
                sleep: Callable[[float], None] = time.sleep) -> StampedFeedback:
    """Readings ``rest_gap_s`` apart until two agree (the arm rests) or ``rest_wait_s`` passed; :class:`RecordRefused`
    unless the arm rests inside the limits. (Just after a boot or a move a loaded servo may still creep.)"""
    first = arm.fresh()
    if first.feedback.is_dead_bus:
        raise RecordRefused("the servo bus is not answering: every joint reads servo step 0 (hardware §2.7); check "
                            "the 12 V supply and the servo cable")
    for _ in range(max(1, round(config.rest_wait_s / config.rest_gap_s))):
        sleep(config.rest_gap_s)
        second = arm.fresh()
        moved = np.abs(np.subtract(second.feedback.q_model, first.feedback.q_model))
        if moved.max() <= config.rest_tolerance_rad:
            break
        first = second
    slack = config.limit_slack_rad
    widened = JointLimits(f"{HARDWARE_SAFE.name} + {slack} rad", tuple(x - slack for x in HARDWARE_SAFE.lower),
                          tuple(x + slack for x in HARDWARE_SAFE.upper))
    outside = limit_violations(second.feedback.q_model, widened)
    if outside:
        raise RecordRefused("a joint is outside HARDWARE_SAFE: " + "; ".join(outside) + ". Bring the arm back with "
                            "scripts/arm.py first")
    if moved.max() > config.rest_tolerance_rad:
        raise RecordRefused(f"the arm is not at rest: joints kept moving for {config.rest_wait_s:g} s, up to "
                            f"{moved.max():.3f} rad in {config.rest_gap_s:g} s (at most {config.rest_tolerance_rad} "
                            "rad); wait for it to stop")
    return second


def record(arm: ArmSession, writer, config: RecordConfig = DEFAULT_RECORD, *, stop: StopFlag | None = None,
           safety: SafetyLayer | None = None, plan: ExcitationPlan | None = None,
           echo: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic) -> RecordResult:
    """Record one excitation episode with ``writer`` (an :class:`~roarm_lab.lerobot_io.episode_writer.EpisodeWriter`
    over :func:`~.data.sysid_features`). Raises :class:`RecordRefused` before moving; afterwards every outcome is
    a :class:`RecordResult` (a fault included: the arm was told to hold)."""
    stop = stop or _NoStop()
    safety = safety or SafetyLayer()
    start = check_ready(arm, config)
    q0 = start.feedback.q_model
    plan = plan or excitation_plan(q0, config.duration_s, config.rate_hz, config.approach_speed_rad_s, safety)
    safety.reset(q0)
    echo(f"[sysid] excitation: {len(plan)} ticks at {plan.rate_hz:g} Hz ({plan.duration_s:.1f} s); Ctrl+C holds "
         "the arm and keeps what was recorded")
    period = 1.0 / plan.rate_hz
    frames, late, outcome = 0, 0, "completed"
    latest = start
    t0 = clock()
    try:
        for k in range(len(plan)):
            due = t0 + k * period
            now = clock()
            if now < due:
                time.sleep(due - now)
            elif now - due > period:
                late += 1
            if stop.requested:
                outcome = "stopped"
                break
            latest = arm.read_after(latest.seq)
            q = latest.feedback.q_model
            safe = safety.apply(plan.targets[k], q)
            sent_at = clock()
            arm.send(MoveJoints(safe.target, spd=int(plan.spd[k]), acc=int(plan.acc[k])))
            writer.add_frame({STATE: np.asarray(q, np.float32), ACTION: np.asarray(safe.target, np.float32),
                              LOAD: np.asarray(latest.feedback.loads, np.float32),
                              OBS_TIME: np.array([latest.arrived - t0], np.float32),
                              ACTION_TIME: np.array([sent_at - t0], np.float32),
                              SERVO_PROFILE: np.array([plan.spd[k], plan.acc[k]], np.float32)})
            frames += 1
    except KeyboardInterrupt:
        outcome = "stopped"
    except RealArmError as e:
        outcome = f"fault: {type(e).__name__}: {e}"
    hold = "not needed"
    if outcome != "completed":
        newest = arm.newest or latest
        hold = arm.hold(safety.hold_target(newest.feedback.q_model))
        echo(f"[sysid] {outcome}; hold: {hold}")
    episode = writer.save_episode(EXCITATION_TASK) if frames else None
    return RecordResult(outcome, frames, episode, hold, {k: v for k, v in safety.counts.items() if v}, late)
