"""USB serial (or any pyserial URL: ``socket://``, ``rfc2217://``) to the arm, with the facts' connect sequence.

On open (hardware §1.2, §7 items 1-2): clear RTS then DTR (the ESP32 auto-reset circuit resets on DTR=0/RTS=1, so
RTS goes first; this board may reset on open anyway), wait out a boot if one happens (banner, then the first
feedback line), switch the InfoPrint=2 stream off with `T:605 cmd 0` and discard what is in flight. Requests are
then `T:105` -> `T:1051` with a timeout and retries; stray stream lines and text are tolerated. A boot banner seen
later means the arm rebooted (it re-homes, the stream is back): :class:`ArmResetError` until
:meth:`SerialTransport.reinitialize`.
"""

from __future__ import annotations

import threading
import time

import serial

from roarm_lab.driver.errors import ArmResetError, DisconnectedError, TransportTimeoutError
from roarm_lab.driver.protocol.commands import MAX_LINE_BYTES, Command, InfoPrint, RequestFeedback, SetInfoPrint, encode
from roarm_lab.driver.protocol.feedback import Feedback
from roarm_lab.driver.protocol.reader import BootNotice, Message, MessageReader
from roarm_lab.driver.transports.base import ArmTransport

DEFAULT_BAUD = 115200  # hardware §1.1
#: Worst-case boot: "several seconds", plus up to 15 s of Wi-Fi STA attempt (hardware §1.2, §1.4).
DEFAULT_BOOT_TIMEOUT_S = 30.0
_FEEDBACK_LINE_BYTES = 250  # a T:1051 line is ~230 bytes


class SerialTransport(ArmTransport):
    """Open, wait for the arm and quiet its stream; then :meth:`feedback`, :meth:`send`, :meth:`exchange`.

    ``settle_s``: how long the output must show no boot before the arm counts as up (and the silence after which
    a `T:105` probe is sent). ``reply_timeout_s`` x (1 + ``retries``) bounds :meth:`feedback`. Thread-safe.
    """

    def __init__(self, port: str, baud: int = DEFAULT_BAUD, *, boot_timeout_s: float = DEFAULT_BOOT_TIMEOUT_S,
                 settle_s: float = 0.5, reply_timeout_s: float = 0.5, retries: int = 2, disable_stream: bool = True,
                 write_timeout_s: float = 1.0, poll_s: float = 0.02):
        self.port, self.baud = port, baud
        self.boot_timeout_s, self.settle_s = boot_timeout_s, settle_s
        self.reply_timeout_s, self.retries = reply_timeout_s, retries
        self.disable_stream = disable_stream
        self.reader = MessageReader()
        self.resets_seen = 0  # boots observed, including one caused by opening the port
        self.unsolicited_feedback = 0  # feedback lines nobody asked for (the stream was on)
        self.initial_feedback: Feedback | None = None
        self._lock = threading.RLock()
        self._needs_reinit = False
        self._last_quiet_sent = -1e9
        # Stream lines already on the wire when T:605 went out still arrive for a few line times.
        self._in_flight_s = max(0.1, 4 * self._wire_s(_FEEDBACK_LINE_BYTES))
        try:
            self._ser = serial.serial_for_url(port, baudrate=baud, timeout=poll_s, write_timeout=write_timeout_s,
                                              do_not_open=True)
            self._ser.open()
        except (serial.SerialException, OSError, ValueError) as e:
            raise DisconnectedError(f"cannot open serial port {port!r}: {e}") from e
        try:
            self._release_reset_lines()
            self.reinitialize()
        except BaseException:
            self._ser.close()
            raise

    # ------------------------------------------------------------------ public API

    def reinitialize(self) -> Feedback:
        """Wait for the arm to be up, turn its stream off and read one feedback (after open or an ArmResetError)."""
        with self._lock:
            self._ensure_open()
            booting, self._needs_reinit = self._needs_reinit, False  # a reset already seen: its boot is under way
            self._wait_until_up(booting)
            if self.disable_stream:
                self._send_quiet()
                self._discard_input(self._in_flight_s)
            self.initial_feedback = self.feedback()
            return self.initial_feedback

    def send(self, command: Command, *, allow_dangerous: bool = False) -> None:
        with self._lock:
            self._check_usable()
            self._write(encode(command, allow_dangerous=allow_dangerous))

    def feedback(self) -> Feedback:
        with self._lock:
            self._check_usable()
            return self._request_feedback(b"")

    def exchange(self, command: Command, *, allow_dangerous: bool = False, feedback_first: bool = False) -> Feedback:
        with self._lock:
            self._check_usable()
            line = encode(command, allow_dangerous=allow_dangerous)
            request = encode(RequestFeedback())
            if len(line) + len(request) > MAX_LINE_BYTES:  # keep a burst within the firmware's RX buffer
                self._write(line)
                line = b""
            return self._request_feedback(line, command_after=feedback_first)

    def resync(self, quiet_s: float = 0.5, max_s: float = 15.0) -> int:
        """Read and drop input until the line has been silent for ``quiet_s`` (at most ``max_s``); returns the
        number of feedback lines dropped. Use after a TransportTimeoutError: T:1051 carries no request id (hardware
        §1.1), so a reply that arrives after its timeout would otherwise answer the next request."""
        with self._lock:
            self._check_usable()
            dropped, start = self.reader.stats.feedback, time.monotonic()
            last_rx = start
            while time.monotonic() - last_rx < quiet_s and time.monotonic() - start < max_s:
                data, messages = self._read_once()
                if data:
                    last_rx = time.monotonic()
                self._handle(messages, expect_feedback=False)
            return self.reader.stats.feedback - dropped

    def close(self) -> None:
        with self._lock:
            if self._ser.is_open:
                self._ser.close()

    @property
    def closed(self) -> bool:
        return not self._ser.is_open

    # ------------------------------------------------------------------ connect sequence

    def _release_reset_lines(self) -> None:
        # RTS first, then DTR (hardware §1.2). Pseudo-terminals and sockets have no modem lines.
        for line in ("rts", "dtr"):
            try:
                setattr(self._ser, line, False)
            except (OSError, serial.SerialException):
                pass

    def _wait_until_up(self, booting: bool) -> None:
        now = time.monotonic()
        deadline = now + self.boot_timeout_s
        calm_since = last_rx = now
        last_probe = -1e9
        while now < deadline:
            data, messages = self._read_once()
            now = time.monotonic()
            if data:
                last_rx = now
            for m in messages:
                if isinstance(m, BootNotice):
                    if not booting:
                        self.resets_seen += 1
                    booting, calm_since = True, now
                elif isinstance(m, Feedback) and (booting or now - calm_since >= self.settle_s):
                    return  # first feedback after a boot = setup() finished; or no boot within settle_s
            # Silent arm (stream already off, or a boot without a readable banner): ask. During setup() the
            # firmware leaves the request in its RX buffer and answers once its loop starts.
            if now - last_rx >= self.settle_s and now - last_probe >= max(self.settle_s, 0.5):
                self._write(encode(RequestFeedback()))
                last_probe = now
        recent = " | ".join(list(self.reader.recent_text)[-3:]) or "nothing readable"
        raise TransportTimeoutError(f"no feedback from the arm on {self.port} within {self.boot_timeout_s:.1f} s "
                                    f"(last output: {recent})")

    def _send_quiet(self) -> None:
        self._write(encode(SetInfoPrint(InfoPrint.QUIET)))
        self._last_quiet_sent = time.monotonic()

    def _discard_input(self, duration_s: float) -> None:
        end = time.monotonic() + duration_s
        while time.monotonic() < end:
            self._handle(self._read_once()[1], expect_feedback=False)
        self._ser.reset_input_buffer()
        self.reader.reset()

    # ------------------------------------------------------------------ request / response

    def _request_feedback(self, command: bytes, command_after: bool = False) -> Feedback:
        """Write ``command`` (may be empty) with a T:105, before it or after it, and read the reply."""
        for _ in range(1 + self.retries):
            self._drain()
            request = encode(RequestFeedback())
            self._write(request + command if command_after else command + request)
            command = b""  # a retry re-requests feedback only
            deadline = time.monotonic() + self.reply_timeout_s
            while time.monotonic() < deadline:
                fb = self._handle(self._read_once()[1], expect_feedback=True)
                if fb is not None:
                    return fb
        raise TransportTimeoutError(f"no T:1051 reply from {self.port} to T:105 after {1 + self.retries} tries of "
                                    f"{self.reply_timeout_s:.2f} s")

    def _drain(self) -> None:
        """Handle what arrived unasked: boot banners, and stream lines (the stream is on again: quiet it)."""
        before = self.unsolicited_feedback
        while self._in_waiting():
            self._handle(self._read_once()[1], expect_feedback=False)
        if (self.disable_stream and self.unsolicited_feedback > before
                and time.monotonic() - self._last_quiet_sent > self._in_flight_s):
            self._send_quiet()

    def _handle(self, messages: list[Message], expect_feedback: bool) -> Feedback | None:
        for m in messages:
            if isinstance(m, BootNotice):
                self.resets_seen += 1
                self._needs_reinit = True
                raise ArmResetError(f"the arm on {self.port} rebooted ({m.text!r}): it re-homes and streams again; "
                                    "call reinitialize() before using it")
            if isinstance(m, Feedback):
                if expect_feedback:
                    return m
                self.unsolicited_feedback += 1
        return None

    # ------------------------------------------------------------------ bytes

    def _check_usable(self) -> None:
        self._ensure_open()
        if self._needs_reinit:
            raise ArmResetError(f"the arm on {self.port} rebooted; call reinitialize() first")

    def _ensure_open(self) -> None:
        if not self._ser.is_open:
            raise DisconnectedError(f"serial transport to {self.port} is closed")

    def _wire_s(self, n_bytes: int) -> float:
        return n_bytes * 10 / self.baud if self.baud else 0.0

    def _in_waiting(self) -> int:
        try:
            return self._ser.in_waiting
        except (serial.SerialException, OSError) as e:
            raise DisconnectedError(f"serial port {self.port} failed: {e}") from e

    def _read_once(self) -> tuple[bytes, list[Message]]:
        """Whatever arrives within one poll interval (returns as soon as something does)."""
        try:
            data = self._ser.read(max(1, self._ser.in_waiting))
        except (serial.SerialException, OSError) as e:
            self._ser.close()
            raise DisconnectedError(f"serial port {self.port} disconnected: {e}") from e
        return data, self.reader.feed(data) if data else []

    def _write(self, data: bytes) -> None:
        try:
            self._ser.write(data)
        except serial.SerialTimeoutException as e:
            raise TransportTimeoutError(f"writing to {self.port} timed out: {e}") from e
        except (serial.SerialException, OSError) as e:
            self._ser.close()
            raise DisconnectedError(f"serial port {self.port} disconnected: {e}") from e
