"""The arm as the runner's motion loops use it: one request per control step, the newest fresh feedback and the
joint velocity estimated from it, the watchdog, the hold, and ``--dry-run`` (feedback reads only). The stream-fed
variant is :class:`roarm_lab.real.runner.stream_link.StreamArmLink`."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from roarm_lab.description.firmware_units import rad_per_s2_to_acc, rad_per_s_to_spd
from roarm_lab.real.commands import MoveJoints, encode
from roarm_lab.real.errors import RealArmError, TransportTimeoutError
from roarm_lab.real.feedback import Feedback
from roarm_lab.real.motion import DEFAULT_ACCEL_RAD_S2, DEFAULT_SPEED_RAD_S
from roarm_lab.real.runner.safety_layer import SafetyLayer
from roarm_lab.real.runner.watchdog import FeedbackWatchdog
from roarm_lab.real.transport import REQUEST, ArmTransport

#: The hold moves at most a control step or two, gently (facts §7 item 3: T:0 would drop the arm instead).
HOLD_SPD, HOLD_ACC = rad_per_s_to_spd(DEFAULT_SPEED_RAD_S), rad_per_s2_to_acc(DEFAULT_ACCEL_RAD_S2)


class ArmLink:
    """Wraps a transport. A reply that times out is counted, not raised: the step goes without fresh feedback and
    the watchdog decides when that is too long. Link failures (DisconnectedError, ArmResetError) propagate."""

    mode = REQUEST  # each reading is a T:105 request
    source = "T:105 feedback requests"
    frames_unused: int | None = None  # stream frames no step used (stream mode only)

    def __init__(self, arm: ArmTransport, watchdog: FeedbackWatchdog, *, dry_run: bool = False,
                 feedback_first: bool = True, echo: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.monotonic):
        self.arm, self.watchdog, self.dry_run = arm, watchdog, dry_run
        self.feedback_first = feedback_first  # see ArmTransport.exchange: fits 30 Hz at 115200 baud
        self._echo, self._clock = echo, clock
        self.latest: Feedback | None = None  # the newest fresh feedback
        self.latest_t: float | None = None  # when it arrived
        self.fresh = False  # it arrived after the last command was sent
        self.feedback_seq = 0  # the number of that reading (1, 2, ...), so a step can show it used a new one
        self.joint_velocity = np.zeros(6)  # rad/s, difference of the last two fresh readings
        self.timeouts = 0
        self.commands_sent = 0

    def refresh(self) -> bool:
        """Read feedback (T:105); False when the reply timed out."""
        try:
            fb = self.arm.feedback()
        except TransportTimeoutError:
            self.timeouts += 1
            return False
        self._accept(fb)
        return True

    def command(self, command: MoveJoints) -> float | None:
        """Send ``command`` with a feedback request in the same write, the request first unless
        ``feedback_first=False`` (dry run: print it and read feedback only). Returns the round trip in seconds,
        None when the reply timed out."""
        start = self._clock()
        self.fresh = False
        try:
            if self.dry_run:
                self._echo(f"[dry-run] would send {encode(command).decode('ascii').strip()}")
                fb = self.arm.feedback()
            else:
                self.commands_sent += 1  # counted before the write: a failed write may still have reached the arm
                fb = self.arm.exchange(command, feedback_first=self.feedback_first)
        except TransportTimeoutError:
            self.timeouts += 1
            return None
        self._accept(fb)
        return self.latest_t - start

    def check_watchdog(self, now: float) -> None:
        self.watchdog.check(now)

    def _accept(self, fb: Feedback, arrived: float | None = None, seq: int | None = None) -> None:
        """Take a reading that arrived at ``arrived`` (default: now), numbered ``seq`` (default: the next)."""
        t = self._clock() if arrived is None else arrived
        if self.latest is not None and t > self.latest_t:
            self.joint_velocity = (np.asarray(fb.q_model) - self.latest.q_model) / (t - self.latest_t)
        self.latest, self.latest_t, self.fresh = fb, t, True
        self.feedback_seq = self.feedback_seq + 1 if seq is None else seq
        self.watchdog.feed(t)

    def hold(self, safety: SafetyLayer) -> str:
        """Hold the pose: a gentle T:102 to the last measured joints (inside the limits), where a motion command was
        sent before. Never T:0 (it drops torque and the arm falls, facts §2.1). Returns what happened."""
        if self.dry_run:
            return "not sent (dry run)"
        if self.commands_sent == 0 or self.latest is None:
            return "not needed (no motion command was sent)"
        hold = MoveJoints(safety.hold_target(self.latest.q_model), spd=HOLD_SPD, acc=HOLD_ACC)
        try:
            self.arm.exchange(hold)  # the reply confirms the firmware has read the T:102 before it
        except TransportTimeoutError:
            return "sent (T:102 to the last measured pose), not confirmed: no reply"
        except RealArmError as e:
            return f"failed ({type(e).__name__}: {e}); the servos keep their last target"
        return "sent (T:102 to the last measured pose)"
