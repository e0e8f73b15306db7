"""One RoArm-M3 as a LeRobot device sees it: open the link, read the joints, write joint targets, switch torque.

Both plugins (the follower robot and the leader teleoperator) are thin LeRobot classes over this, and this is a
thin layer over :mod:`roarm_lab.real` (the protocol, the transports, the firmware quirks), so there is one
implementation of the arm's protocol in the project.

Feedback: ``"stream"`` (default, serial only) keeps the InfoPrint=2 stream on and takes its newest frame, ~50 per
second at 115200 baud, without a round trip (facts §1.1); ``"request"`` sends a `T:105` per reading (the only way
over HTTP, facts §1.4). A reading older than ``max_feedback_age_s`` is an error, never silently reused.
Joint values are model radians (:mod:`.features`) with the calibration offsets removed (:mod:`.calibration`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from roarm_lab.real.commands import MoveJoints, SetTorque
from roarm_lab.real.feedback import Feedback
from roarm_lab.real.serial_transport import DEFAULT_BAUD
from roarm_lab.real.transport import FEEDBACK_MODES, STREAM, ArmTransport, open_transport


@dataclass(kw_only=True)
class ArmLinkSettings:
    """Where the arm is and how to talk to it; also the link fields of the plugins' LeRobot configs
    (``--robot.port=...``, ``--teleop.port=...``), which inherit them. Exactly one of ``port`` or ``http``
    (checked by :meth:`check_link`)."""

    # serial device (/dev/ttyUSB0, /dev/serial/by-id/...) or pyserial URL (socket://host:port)
    port: str | None = None
    # or the arm's Wi-Fi address, e.g. 192.168.4.1 (HTTP, ~3 Hz; needs feedback=request)
    http: str | None = None
    baud: int = DEFAULT_BAUD
    # "stream": newest InfoPrint=2 frame (serial); "request": one T:105 per reading
    feedback: str = STREAM
    boot_timeout_s: float = 15.0  # opening the serial port resets the arm (facts §1.2)
    max_feedback_age_s: float = 0.25

    def check_link(self) -> None:
        """ValueError for settings no link can have (:class:`ArmDevice` checks them: a LeRobot config is built
        before the device, possibly with defaults, and may not be checked on its own)."""
        if (self.port is None) == (self.http is None):
            raise ValueError("give exactly one of port (serial: /dev/ttyUSB0, socket://...) or http (Wi-Fi address)")
        if self.feedback not in FEEDBACK_MODES:
            raise ValueError(f"feedback must be one of {', '.join(FEEDBACK_MODES)}, got {self.feedback!r}")
        if self.http is not None and self.feedback == STREAM:
            raise ValueError("HTTP has no feedback stream (facts §1.4): use feedback='request' with http")
        if not self.max_feedback_age_s > 0:
            raise ValueError(f"max_feedback_age_s must be > 0, got {self.max_feedback_age_s!r}")

    @property
    def where(self) -> str:
        return self.port if self.port is not None else f"http://{self.http}"


class ArmDevice:
    """The link to one arm. ``offsets``: calibration offsets (model rad, JOINT_NAMES order) subtracted from every
    reading and added to every command."""

    def __init__(self, settings: ArmLinkSettings, offsets: np.ndarray | None = None):
        settings.check_link()
        self.settings = settings
        self.offsets = np.zeros(6) if offsets is None else np.asarray(offsets, dtype=np.float64)
        self.transport: ArmTransport | None = None

    @property
    def is_open(self) -> bool:
        return self.transport is not None

    def open(self) -> Feedback:
        """Connect (serial: waits out the boot that opening the port causes); returns the first reading."""
        s = self.settings
        if s.port is not None:
            self.transport = open_transport(s.port, stream=s.feedback == STREAM, baud=s.baud,
                                            boot_timeout_s=s.boot_timeout_s)
        else:
            self.transport = open_transport(http_host=s.http)
        return self.transport.initial_feedback or self.read_feedback()

    def read_feedback(self) -> Feedback:
        """The newest reading (stream) or a fresh one (request)."""
        arm = self._require_open()
        if self.settings.feedback == STREAM:
            return arm.latest_feedback(self.settings.max_feedback_age_s).feedback
        return arm.feedback()

    def read_joints(self) -> np.ndarray:
        """Measured joints, model rad, calibration applied."""
        return np.asarray(self.read_feedback().q_model) - self.offsets

    def write_joints(self, q: np.ndarray, spd: int = 0, acc: int = 0) -> None:
        """`T:102` to ``q`` (model rad, calibrated frame); written without waiting for a reply."""
        self._require_open().send(MoveJoints(tuple(float(x) for x in np.asarray(q) + self.offsets), spd=spd, acc=acc))

    def set_torque(self, enabled: bool) -> None:
        """`T:210` on all servos, and wait until the firmware has read it (its reply or the next frames)."""
        self._require_open().exchange(SetTorque(enabled))

    def close(self) -> None:
        if self.transport is not None:
            transport, self.transport = self.transport, None
            transport.close()

    def _require_open(self) -> ArmTransport:
        if self.transport is None:
            raise ConnectionError(f"the arm at {self.settings.where} is not connected (call connect() first)")
        return self.transport

