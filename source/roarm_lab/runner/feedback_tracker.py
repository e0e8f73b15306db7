"""What the runner's loops know of the arm between control steps: the newest reading a step used, the joint
velocity estimated from the last two (the firmware reports none, hardware §2.7), the watchdog, and counts. Every read
and write goes through the :class:`ArmSession`, in either feedback mode; a dry run prints motion commands instead
of sending them."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from roarm_lab.driver.errors import TransportTimeoutError
from roarm_lab.driver.protocol.commands import MoveJoints, encode
from roarm_lab.driver.protocol.feedback import Feedback
from roarm_lab.driver.safety import SafetyLayer
from roarm_lab.driver.session import ArmSession
from roarm_lab.driver.transports.latest_frame import StampedFeedback
from roarm_lab.runner.watchdog import FeedbackWatchdog


class FeedbackTracker:
    """A reading that does not come in time is counted, not raised: the step goes without fresh feedback and the
    watchdog decides when that is too long. Link failures (DisconnectedError, ArmResetError) propagate."""

    def __init__(self, arm: ArmSession, watchdog: FeedbackWatchdog, *, dry_run: bool = False,
                 frame_timeout_s: float | None = None, echo: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.monotonic, after_seq: int = 0):
        self.arm, self.watchdog, self.dry_run = arm, watchdog, dry_run
        self.frame_timeout_s = frame_timeout_s  # how long a step waits for a new reading (None: the session's)
        self._echo, self._clock = echo, clock
        self.latest: Feedback | None = None  # the newest reading a step used
        self.latest_t: float | None = None  # when it arrived
        # its number in the session, so a step can show it used a new one; readings up to ``after_seq`` (an open
        # session's from before this run) are no step's
        self.feedback_seq = after_seq
        self.joint_velocity = np.zeros(6)  # rad/s, difference of the last two readings used
        self.timeouts = 0  # reads that got no new reading in time
        self.frames_unused = 0  # readings no step used (the stream brings more than the loop takes)
        self.commands_sent = 0

    @property
    def mode(self) -> str:
        return self.arm.mode

    @property
    def feedback_timeouts(self) -> int:
        """Reads without a new reading, plus readings asked for with a command that did not come."""
        return self.timeouts + self.arm.timeouts

    def refresh(self) -> bool:
        """Take the newest reading no step has used, waiting for one; False when none came in time."""
        try:
            reading = self.arm.read_after(self.feedback_seq, self.frame_timeout_s)
        except TransportTimeoutError:
            self.timeouts += 1
            return False
        if self.latest is not None:
            self.frames_unused += reading.seq - self.feedback_seq - 1
        self._take(reading)
        return True

    def command(self, command: MoveJoints) -> float | None:
        """Send ``command`` (with a reading in the same write where readings are requested); returns the round
        trip in seconds, None where nothing answers it (the stream, a timeout, a dry run)."""
        if self.dry_run:
            self._echo(f"[dry-run] would send {encode(command).decode('ascii').strip()}")
            return None
        self.commands_sent += 1  # counted before the write: a failed write may still have reached the arm
        self.arm.send(command, with_reading=True)
        return self.arm.round_trip_s

    def check_watchdog(self, now: float) -> None:
        """Fires when the newest reading received, used or not, is older than the watchdog's limit."""
        newest = self.arm.newest
        if newest is not None and (self.watchdog.last_fresh is None or newest.arrived > self.watchdog.last_fresh):
            self.watchdog.feed(newest.arrived)
        self.watchdog.check(now)

    def hold(self, safety: SafetyLayer) -> str:
        """Hold the newest measured pose (inside the limits) where a motion command was sent before."""
        if self.dry_run:
            return "not sent (dry run)"
        newest = self.arm.newest
        if self.commands_sent == 0 or newest is None:
            return "not needed (no motion command was sent)"
        return self.arm.hold(safety.hold_target(newest.feedback.q_model))

    def _take(self, reading: StampedFeedback) -> None:
        if self.latest is not None and reading.arrived > self.latest_t:
            self.joint_velocity = (np.asarray(reading.feedback.q_model) - self.latest.q_model) / (
                reading.arrived - self.latest_t)
        self.latest, self.latest_t, self.feedback_seq = reading.feedback, reading.arrived, reading.seq
        self.watchdog.feed(reading.arrived)
