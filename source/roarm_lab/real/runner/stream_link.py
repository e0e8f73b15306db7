"""The runner's link when the InfoPrint=2 stream is the state source (``--feedback stream``): a control step takes
the newest frame no step has used yet, waiting for one when none has come; commands are written without waiting
for anything; the watchdog measures the age of the newest frame received."""

from __future__ import annotations

import time
from collections.abc import Callable

from roarm_lab.real.commands import MoveJoints, encode
from roarm_lab.real.errors import StaleStreamError
from roarm_lab.real.runner.arm_link import ArmLink
from roarm_lab.real.runner.safety_layer import SafetyLayer
from roarm_lab.real.runner.watchdog import FeedbackWatchdog
from roarm_lab.real.stream_transport import StreamingSerialTransport
from roarm_lab.real.transport import STREAM


class StreamArmLink(ArmLink):
    """:class:`ArmLink` on a :class:`StreamingSerialTransport`. ``latest_t`` is the frame's arrival time, so the
    logged feedback age and the joint velocity estimate use when the state was received, not when it was used.
    ``frame_timeout_s``: how long :meth:`refresh` waits for a new frame before the step goes without one."""

    mode = STREAM
    source = "the T:1051 feedback stream"

    def __init__(self, arm: StreamingSerialTransport, watchdog: FeedbackWatchdog, *, frame_timeout_s: float,
                 dry_run: bool = False, echo: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(arm, watchdog, dry_run=dry_run, echo=echo, clock=clock)
        self.arm: StreamingSerialTransport = arm
        self.frame_timeout_s = frame_timeout_s
        self.frames_unused = 0

    def refresh(self) -> bool:
        """Take the newest frame numbered above the last one used; False when none came within the timeout."""
        try:
            frame = self.arm.next_feedback(self.feedback_seq, self.frame_timeout_s)
        except StaleStreamError:
            self.timeouts += 1
            return False
        if self.feedback_seq:
            self.frames_unused += frame.seq - self.feedback_seq - 1
        self._accept(frame.feedback, frame.arrived, frame.seq)
        return True

    def command(self, command: MoveJoints) -> None:
        """Write ``command`` (dry run: print it). Returns None: nothing answers it, so there is no round trip."""
        self.fresh = False
        if self.dry_run:
            self._echo(f"[dry-run] would send {encode(command).decode('ascii').strip()}")
            return None
        self.commands_sent += 1  # counted before the write: a failed write may still have reached the arm
        self.arm.send(command)
        return None

    def check_watchdog(self, now: float) -> None:
        """Fires when the newest frame received, used or not, is older than the watchdog's limit."""
        newest = self.arm.newest_frame
        if newest is not None and (self.watchdog.last_fresh is None or newest.arrived > self.watchdog.last_fresh):
            self.watchdog.feed(newest.arrived)
        self.watchdog.check(now)

    def hold(self, safety: SafetyLayer) -> str:
        """As :meth:`ArmLink.hold`, at the pose of the newest frame received (it may be newer than the last used)."""
        newest = self.arm.newest_frame
        if newest is not None and newest.seq > self.feedback_seq:
            self._accept(newest.feedback, newest.arrived, newest.seq)
        return super().hold(safety)
