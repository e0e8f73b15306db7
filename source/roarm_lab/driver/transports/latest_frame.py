"""The freshest `T:1051` frame of the InfoPrint=2 stream, handed from the thread that reads the port to the ones
that use it. Older frames are dropped as newer ones arrive: a controller wants the newest state, never a backlog
(hardware §1.1: a stream nobody drains fills the OS buffer with stale frames)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from roarm_lab.driver.errors import StaleStreamError, TransportError
from roarm_lab.driver.protocol.feedback import Feedback


@dataclass(frozen=True)
class StampedFeedback:
    """A frame with when its last byte was read (monotonic s) and its number in the stream (1, 2, ...)."""

    feedback: Feedback
    arrived: float
    seq: int

    def age(self, now: float) -> float:
        return now - self.arrived


class LatestFrame:
    """One slot holding the newest frame, plus the link fault that ended the stream (if any). Thread-safe.

    A fault (reset, disconnect) is raised by every later read until :meth:`clear`; frames posted meanwhile are
    counted but not kept, since they come from an arm that must be re-initialized first."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._cond = threading.Condition()
        self._frame: StampedFeedback | None = None
        self._fault: TransportError | None = None
        self.received = 0  # frames posted, including those replaced before anyone read them

    def post(self, feedback: Feedback, arrived: float) -> None:
        with self._cond:
            self.received += 1
            if self._fault is None:
                self._frame = StampedFeedback(feedback, arrived, self.received)
                self._cond.notify_all()

    def fail(self, fault: TransportError) -> None:
        """The link broke: wake every waiter with ``fault``. The first fault is kept."""
        with self._cond:
            self._fault = self._fault or fault
            self._cond.notify_all()

    def clear(self) -> None:
        """Forget the frame and the fault (the link was re-initialized). Frame numbers keep counting up."""
        with self._cond:
            self._frame, self._fault = None, None

    @property
    def newest(self) -> StampedFeedback | None:
        """The newest frame, however old, without raising."""
        with self._cond:
            return self._frame

    def latest(self, max_age_s: float) -> StampedFeedback:
        """The newest frame if it arrived at most ``max_age_s`` ago; else StaleStreamError (or the link fault)."""
        with self._cond:
            self._raise_fault()
            frame, now = self._frame, self._clock()
            if frame is None or frame.age(now) > max_age_s:
                seen = "no frame yet" if frame is None else f"the newest is {frame.age(now) * 1000:.0f} ms old"
                raise StaleStreamError(f"no feedback frame within {max_age_s * 1000:.0f} ms ({seen})")
            return frame

    def next_after(self, seq: int, timeout_s: float) -> StampedFeedback:
        """The newest frame numbered above ``seq``, waiting up to ``timeout_s`` for one to arrive; else
        StaleStreamError (or the link fault, at once)."""
        deadline = self._clock() + timeout_s
        with self._cond:
            while True:
                self._raise_fault()
                if self._frame is not None and self._frame.seq > seq:
                    return self._frame
                left = deadline - self._clock()
                if left <= 0:
                    raise StaleStreamError(f"no new feedback frame within {timeout_s * 1000:.0f} ms")
                self._cond.wait(left)

    def _raise_fault(self) -> None:
        if self._fault is not None:  # a new instance each time: one raised many times would grow its traceback
            raise type(self._fault)(*self._fault.args)

