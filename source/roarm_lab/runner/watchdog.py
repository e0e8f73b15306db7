"""The feedback watchdog: the runner must not command an arm it has not heard from recently."""

from __future__ import annotations

from roarm_lab.runner.errors import StaleFeedbackError


class FeedbackWatchdog:
    """Fires when no fresh feedback has arrived for more than ``limit_s`` (``stale_periods`` control periods)."""

    def __init__(self, limit_s: float, stale_periods: int | None = None):
        if not limit_s > 0:
            raise ValueError(f"the watchdog limit must be > 0 s, got {limit_s!r}")
        self.limit_s = limit_s
        self._what = f"{stale_periods} control periods = {limit_s * 1000:.0f} ms" if stale_periods else (
            f"{limit_s * 1000:.0f} ms")
        self.last_fresh: float | None = None

    def feed(self, t: float) -> None:
        """Fresh feedback arrived at ``t`` (monotonic seconds)."""
        self.last_fresh = t

    def age(self, now: float) -> float:
        return 0.0 if self.last_fresh is None else now - self.last_fresh

    def check(self, now: float) -> None:
        """:class:`StaleFeedbackError` when the newest fresh feedback is older than the limit."""
        age = self.age(now)
        if age > self.limit_s:
            raise StaleFeedbackError(f"watchdog: no fresh feedback for {age * 1000:.0f} ms (limit {self._what}): "
                                     "the arm stopped answering in time")
