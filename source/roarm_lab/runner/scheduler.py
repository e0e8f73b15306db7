"""Control-step timing on the monotonic clock."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RateScheduler:
    """Step ``k`` is due at ``t0 + k / rate_hz``; :meth:`next_tick` sleeps until the next due time (no busy-wait).
    A step that ran past one or more due times makes the next step start at once and the missed ticks are skipped
    (counted in :attr:`skipped`), never bunched. ``rate_hz=None`` runs as fast as the caller goes."""

    def __init__(self, rate_hz: float | None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate_hz is not None and not rate_hz > 0:
            raise ValueError(f"rate_hz must be > 0 or None, got {rate_hz!r}")
        self.period = None if rate_hz is None else 1.0 / rate_hz
        self._clock, self._sleep = clock, sleep
        self._t0: float | None = None
        self._k = 0
        self.skipped = 0

    def next_tick(self) -> float:
        """Wait for the next step and return its start time."""
        now = self._clock()
        if self._t0 is None:
            self._t0 = now
            return now
        if self.period is None:
            return now
        self._k += 1
        due = self._t0 + self._k * self.period
        if now < due:
            self._sleep(due - now)
            return self._clock()
        missed = math.floor((now - due) / self.period)
        self._k += missed
        self.skipped += missed
        return now
