"""Ctrl+C as a request: the motion loops stop at their next control step instead of mid-exchange."""

from __future__ import annotations

import signal
import threading

from roarm_lab.runner.errors import StopRequested

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """While entered (in the main thread), SIGINT and SIGTERM set :attr:`requested` instead of interrupting; a
    second Ctrl+C raises KeyboardInterrupt at once. Elsewhere it only carries the flag."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: str | None = None
        self._previous: dict[int, object] = {}

    def request(self, name: str = "stop") -> None:
        self.requested, self.signal_name = True, name

    def raise_if_requested(self) -> None:
        if self.requested:
            raise StopRequested(f"stop requested ({self.signal_name})")

    def _handle(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.request(signal.Signals(signum).name)

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for s in _SIGNALS:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous.clear()
