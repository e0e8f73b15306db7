"""One session with one arm: the only class above the transports that talks to it. The policy runner, the LeRobot
plugins and ``arm.py`` all use :class:`ArmSession`; nothing above it branches on how feedback arrives.

Two feedback modes (:attr:`ArmLinkSettings.feedback`):

* ``stream`` (the default over serial): the InfoPrint=2 `T:1051` stream is the state source (hardware §7 item 1); a
  reader thread keeps only the newest frame, ~50 frames/s at 115200 baud, and commands are written without waiting
  for anything (the UART is full duplex);
* ``request`` (the only mode over HTTP, hardware §1.4): each reading is a `T:105` round trip; a command can carry a
  request in the same write (:meth:`ArmSession.send` with ``with_reading``), so a control step needs one round trip.

Either way a reading is a :class:`StampedFeedback` (the `T:1051`, when it arrived on the monotonic clock, and its
number in the session), and :meth:`ArmSession.read` / :meth:`ArmSession.read_after` work the same in both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from roarm_lab.description.firmware_units import rad_per_s2_to_acc, rad_per_s_to_spd
from roarm_lab.driver.errors import DisconnectedError, RealArmError, TransportTimeoutError
from roarm_lab.driver.protocol.commands import Command, MoveJoints, SetTorque
from roarm_lab.driver.protocol.feedback import Feedback
from roarm_lab.driver.transports.base import ArmTransport
from roarm_lab.driver.transports.factory import open_transport
from roarm_lab.driver.transports.latest_frame import StampedFeedback
from roarm_lab.driver.transports.serial_port import DEFAULT_BAUD, DEFAULT_BOOT_TIMEOUT_S

#: Where readings come from: the InfoPrint=2 stream (serial only) or a T:105 request per reading.
STREAM, REQUEST = "stream", "request"
FEEDBACK_MODES = (STREAM, REQUEST)
#: Joint speed for everyday moves and holds: ~1/10 of the servo's no-load 4.7 rad/s (hardware §3.6).
DEFAULT_SPEED_RAD_S = 0.5
DEFAULT_ACCEL_RAD_S2 = 3.0  # ~ acc register 20, the firmware's own homing value (hardware §2.2 T:100)
#: A hold moves at most a control step or two, gently (hardware §7 item 3: T:0 would drop the arm instead).
HOLD_SPD, HOLD_ACC = rad_per_s_to_spd(DEFAULT_SPEED_RAD_S), rad_per_s2_to_acc(DEFAULT_ACCEL_RAD_S2)


@dataclass(kw_only=True)
class ArmLinkSettings:
    """Where the arm is and how to talk to it. Also the link fields of the LeRobot plugins' configs
    (``--robot.port=...``), which inherit them. Exactly one of ``port`` or ``http`` (:meth:`check`)."""

    # serial device (/dev/ttyUSB0, /dev/serial/by-id/...) or pyserial URL (socket://host:port)
    port: str | None = None
    # or the arm's Wi-Fi address, e.g. 192.168.4.1 (HTTP, ~3 Hz; request feedback only)
    http: str | None = None
    baud: int = DEFAULT_BAUD
    # "stream" (newest InfoPrint=2 frame, serial only) or "request" (a T:105 per reading); None: stream over
    # serial, request over HTTP
    feedback: str | None = None
    boot_timeout_s: float = DEFAULT_BOOT_TIMEOUT_S  # opening the serial port may reboot the arm (hardware §1.2)
    settle_s: float = 0.5  # output without a boot for this long: the arm is up
    reply_timeout_s: float = 0.5  # one reply (serial) or HTTP request; stream: a frame waits this x (1 + retries)
    retries: int = 2
    max_feedback_age_s: float = 0.25  # read()'s default: an older reading is an error, never silently reused

    def check(self) -> None:
        """ValueError for settings no link can have. :class:`ArmSession` calls it: a LeRobot config is built
        before the device, possibly with defaults, and is not checked on its own."""
        if (self.port is None) == (self.http is None):
            raise ValueError("give exactly one of port (serial: /dev/ttyUSB0, socket://...) or http (Wi-Fi address)")
        if self.feedback not in (None, *FEEDBACK_MODES):
            raise ValueError(f"feedback must be one of {', '.join(FEEDBACK_MODES)}, got {self.feedback!r}")
        if self.http is not None and self.feedback == STREAM:
            raise ValueError("HTTP has no feedback stream (hardware §1.4): use request feedback or a serial port")
        for name in ("reply_timeout_s", "max_feedback_age_s", "boot_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries!r}")

    @property
    def feedback_mode(self) -> str:
        if self.feedback is not None:
            return self.feedback
        return REQUEST if self.http is not None else STREAM

    @property
    def where(self) -> str:
        return self.port if self.port is not None else f"http://{self.http}"

    @property
    def frame_wait_s(self) -> float:
        """How long a read waits for a new reading by default."""
        return self.reply_timeout_s * (1 + self.retries)


class ArmSession:
    """Open with :meth:`open` (or ``with ArmSession(settings) as arm``); then :meth:`read`, :meth:`read_after`,
    :attr:`newest`, :meth:`send`, :meth:`confirm`, :meth:`hold`, :meth:`set_torque`. Link failures raise
    :class:`roarm_lab.driver.errors.TransportError` subclasses; a reading that does not come in time raises
    :class:`TransportTimeoutError` (:class:`StaleStreamError` in stream mode)."""

    def __init__(self, settings: ArmLinkSettings, *, clock: Callable[[], float] = time.monotonic):
        settings.check()
        self.settings = settings
        self.mode = settings.feedback_mode
        self.source = "the T:1051 feedback stream" if self.mode == STREAM else "T:105 feedback requests"
        self.transport: ArmTransport | None = None
        self.timeouts = 0  # readings asked for with a command that did not come in time (send with_reading)
        self.round_trip_s: float | None = None  # of the last send(with_reading=True) in request mode
        self._clock = clock
        self._newest: StampedFeedback | None = None  # request mode: the newest reading
        self._seq = 0

    # ------------------------------------------------------------------ connection

    def open(self) -> StampedFeedback:
        """Connect (serial: wait out the boot that opening the port may cause); returns the first reading."""
        if self.transport is not None:
            raise RealArmError(f"the session with {self.settings.where} is already open")
        s = self.settings
        if s.port is not None:
            self.transport = open_transport(port=s.port, stream=self.mode == STREAM, baud=s.baud,
                                            boot_timeout_s=s.boot_timeout_s, settle_s=s.settle_s,
                                            reply_timeout_s=s.reply_timeout_s, retries=s.retries)
        else:
            self.transport = open_transport(http_host=s.http, timeout_s=s.reply_timeout_s, retries=s.retries)
        if self.mode == STREAM:
            return self.transport.newest_frame or self.read_after(0)
        first = self.transport.initial_feedback
        return self._accept(first) if first is not None else self.read_after(0)

    @property
    def is_open(self) -> bool:
        return self.transport is not None

    def close(self) -> None:
        """Release the link; idempotent."""
        if self.transport is not None:
            transport, self.transport = self.transport, None
            transport.close()

    def __enter__(self) -> ArmSession:
        if self.transport is None:
            self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ readings

    @property
    def newest(self) -> StampedFeedback | None:
        """The newest reading received, however old, without any I/O (for watchdogs and holds)."""
        if self.mode == STREAM and self.transport is not None:
            return self.transport.newest_frame
        return self._newest

    def read(self, max_age_s: float | None = None) -> StampedFeedback:
        """The arm's present state. Stream: the newest frame if it is at most ``max_age_s`` old (default
        ``settings.max_feedback_age_s``), else StaleStreamError: never a stale frame silently. Request: a `T:105`
        now (a reply is always fresh; the reply timeout bounds the wait)."""
        arm = self._require_open()
        if self.mode == STREAM:
            return arm.latest_feedback(self.settings.max_feedback_age_s if max_age_s is None else max_age_s)
        return self._accept(arm.feedback())

    def read_after(self, seq: int, timeout_s: float | None = None) -> StampedFeedback:
        """The newest reading numbered above ``seq`` (0: any), waiting up to ``timeout_s`` (default
        ``settings.frame_wait_s``) for one. Request mode: the reading that came with the last command when it is
        numbered above ``seq``, else a `T:105` (bounded by the reply timeout and retries)."""
        arm = self._require_open()
        if self.mode == STREAM:
            return arm.next_feedback(seq, self.settings.frame_wait_s if timeout_s is None else timeout_s)
        newest = self._newest
        if newest is not None and newest.seq > seq:
            return newest
        return self._accept(arm.feedback())

    def fresh(self, timeout_s: float | None = None) -> StampedFeedback:
        """A reading taken after this call."""
        newest = self.newest
        return self.read_after(0 if newest is None else newest.seq, timeout_s)

    # ------------------------------------------------------------------ commands

    def send(self, command: Command, *, with_reading: bool = False) -> None:
        """Write ``command`` without waiting for it to be read. ``with_reading``, request mode: a `T:105` goes
        first in the same write (its ~230-byte reply travels while the command still arrives, hardware §1.1), and the
        reply becomes :attr:`newest` (so :meth:`read_after` returns it without another round trip;
        :attr:`round_trip_s` is its round trip). A reply that does not come is counted in :attr:`timeouts`, not
        raised: the command was written. Stream mode: the stream brings readings anyway."""
        arm = self._require_open()
        if self.mode == STREAM or not with_reading:
            arm.send(command)
            return
        start = self._clock()
        self.round_trip_s = None
        try:
            fb = arm.exchange(command, feedback_first=True)
        except TransportTimeoutError:
            self.timeouts += 1
            return
        self.round_trip_s = self._accept(fb).arrived - start

    def confirm(self, command: Command) -> StampedFeedback:
        """Send ``command`` and return a reading that shows the firmware has read it (the `T:105` reply after it,
        or a stream frame from a firmware loop iteration that began after it)."""
        fb = self._require_open().exchange(command)
        if self.mode == STREAM:
            return self.transport.newest_frame
        return self._accept(fb)

    def set_torque(self, enabled: bool) -> None:
        """`T:210` on every servo, confirmed. Off: the arm falls under gravity if nothing holds it (hardware §2.1)."""
        self.confirm(SetTorque(enabled))

    def hold(self, target: Sequence[float]) -> str:
        """Hold ``target`` (normally the last measured pose, inside the limits): a gentle `T:102`, confirmed.
        Never `T:0` (it drops torque and the arm falls, hardware §2.1). Returns what happened, for the log."""
        try:
            self.confirm(MoveJoints(tuple(float(x) for x in target), spd=HOLD_SPD, acc=HOLD_ACC))
        except TransportTimeoutError:
            return "sent (T:102 to the last measured pose), not confirmed: no reply"
        except RealArmError as e:
            return f"failed ({type(e).__name__}: {e}); the servos keep their last target"
        return "sent (T:102 to the last measured pose)"

    # ------------------------------------------------------------------ internals

    def _accept(self, fb: Feedback) -> StampedFeedback:
        self._seq += 1
        self._newest = StampedFeedback(fb, self._clock(), self._seq)
        return self._newest

    def _require_open(self) -> ArmTransport:
        if self.transport is None:
            raise DisconnectedError(f"the session with the arm at {self.settings.where} is not open")
        return self.transport
