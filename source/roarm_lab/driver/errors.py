"""The errors of the real-arm layer. Everything :mod:`roarm_lab.driver` raises on purpose is a :class:`RealArmError`."""

from __future__ import annotations


class RealArmError(Exception):
    """Base of every error raised by the driver (protocol, transports, safety, motion), the firmware emulator
    and the policy runner."""


class ProtocolError(RealArmError):
    """A message to or from the firmware breaks the JSON protocol (hardware §2)."""


class InvalidCommandError(ProtocolError):
    """A command field is out of its documented range or not a finite number."""


class CommandRefusedError(ProtocolError):
    """A well-formed command this layer refuses to put on the wire."""


class CommandTooLongError(CommandRefusedError):
    """The encoded line does not fit the firmware's 256-byte JSON buffer (hardware §1.1); the firmware would drop it
    silently."""


class DangerousCommandError(CommandRefusedError):
    """A persistent or dangerous command (EEPROM, flash, Wi-Fi credentials, reboot, e-stop ...) sent without
    ``allow_dangerous=True``."""


class MalformedFeedbackError(ProtocolError):
    """A ``T:1051`` object lacks a field, repeats one, or holds a non-finite or non-numeric value."""


class MalformedReplyError(ProtocolError):
    """A reply (e.g. an HTTP body) that is not the JSON the firmware sends."""


class JointLimitError(RealArmError):
    """A joint target lies outside the limits the caller asked to enforce (normally ``HARDWARE_SAFE``)."""


class TransportError(RealArmError):
    """The link to the arm failed."""


class TransportTimeoutError(TransportError):
    """The arm did not answer in time."""


class StaleStreamError(TransportTimeoutError):
    """The InfoPrint=2 feedback stream has no frame as fresh as asked: it stopped, lags, or its lines are lost."""


class DisconnectedError(TransportError):
    """The port, socket or HTTP host went away, or the transport was closed."""


class ArmResetError(TransportError):
    """The arm rebooted while in use (its boot banner was seen): it re-homes and its stream is back on
    (hardware §1.2, §7 item 2). Call ``reinitialize()`` on the transport before using it again."""


class MotionTimeoutError(RealArmError):
    """A move did not reach its target within the allowed time."""
