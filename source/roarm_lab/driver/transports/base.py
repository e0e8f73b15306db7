"""What every transport to the arm offers (:class:`ArmTransport`); :mod:`.factory` picks one for a port or host."""

from __future__ import annotations

from abc import ABC, abstractmethod

from roarm_lab.driver.protocol.commands import Command
from roarm_lab.driver.protocol.feedback import Feedback


class ArmTransport(ABC):
    """A byte link to one arm (USB serial, a pyserial URL, or HTTP). Methods raise
    :class:`roarm_lab.driver.errors.TransportError` subclasses on link failures and
    :class:`roarm_lab.driver.errors.CommandRefusedError` for commands refused before sending."""

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
        the command is still arriving: ~11 ms sooner at 115200 baud for a T:102 (hardware §1.1)."""

    @abstractmethod
    def close(self) -> None:
        """Release the link; idempotent. Later calls raise DisconnectedError."""

    def __enter__(self) -> ArmTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

