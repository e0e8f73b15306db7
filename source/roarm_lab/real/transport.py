"""What every link to the arm offers, and :func:`open_transport` to pick one from a port or an HTTP host."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from roarm_lab.real.commands import Command
from roarm_lab.real.feedback import Feedback

#: Where a controller's feedback comes from: the InfoPrint=2 stream (serial only) or a T:105 request per reading.
STREAM, REQUEST = "stream", "request"
FEEDBACK_MODES = (STREAM, REQUEST)


class ArmTransport(ABC):
    """A link to one arm. Methods raise :class:`roarm_lab.real.errors.TransportError` subclasses on link failures
    and :class:`roarm_lab.real.errors.CommandRefusedError` for commands refused before sending."""

    @abstractmethod
    def send(self, command: Command, *, allow_dangerous: bool = False) -> None:
        """Put one command on the wire (no reply expected)."""

    @abstractmethod
    def feedback(self) -> Feedback:
        """A fresh `T:1051` reading, requested with `T:105`."""

    @abstractmethod
    def exchange(self, command: Command, *, allow_dangerous: bool = False, feedback_first: bool = False) -> Feedback:
        """Send ``command`` and return the feedback read right after it (one round trip where the link allows).
        A retry re-requests only the feedback, never the command.

        ``feedback_first``: request the feedback just *before* the command instead. Either reading is taken before
        the servos have moved toward the command, but on a full-duplex serial line the reply then travels while
        the command is still arriving: ~11 ms sooner at 115200 baud for a T:102 (facts §1.1)."""

    @abstractmethod
    def close(self) -> None:
        """Release the link; idempotent. Later calls raise DisconnectedError."""

    def __enter__(self) -> ArmTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_transport(port: str | None = None, http_host: str | None = None, *, stream: bool = False,
                   **options: Any) -> ArmTransport:
    """A :class:`SerialTransport` for ``port`` (device path or pyserial URL) or an :class:`HttpTransport` for
    ``http_host``; ``options`` go to its constructor. ``stream``: serial only, a :class:`StreamingSerialTransport`
    that reads the InfoPrint=2 feedback stream instead of requesting feedback."""
    if (port is None) == (http_host is None):
        raise ValueError("give exactly one of port (serial) or http_host")
    if port is not None:
        if stream:
            from roarm_lab.real.stream_transport import StreamingSerialTransport

            return StreamingSerialTransport(port, **options)
        from roarm_lab.real.serial_transport import SerialTransport

        return SerialTransport(port, **options)
    if stream:
        raise ValueError("HTTP has no feedback stream (facts §1.4): each reading is a T:105 request")
    from roarm_lab.real.http_transport import HttpTransport

    return HttpTransport(http_host, **options)
