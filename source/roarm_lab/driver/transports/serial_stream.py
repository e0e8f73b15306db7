"""USB serial with the InfoPrint=2 feedback stream left on as the state source (hardware §7 item 1: "parse the stream
and treat it as the state source").

Connecting is :class:`SerialTransport`'s sequence (reset lines, wait out a boot); then `T:605 cmd 2` turns the
stream on in case it was off. A background thread reads the port all the time, so the OS RX buffer never fills with
stale frames (hardware §1.1), and keeps only the newest complete, valid frame with its arrival time
(:class:`LatestFrame`); the :class:`MessageReader` skips torn and merged frames and text. A boot banner means the arm
rebooted: ArmResetError until :meth:`StreamingSerialTransport.reinitialize`; a failed read is a DisconnectedError.
Commands are written without waiting for anything: the UART is full duplex, so they do not compete with the stream.

At 115200 baud a frame is ~170-230 bytes, so the stream brings at most ~50-65 frames/s however fast the firmware
loops (hardware §1.1). T:1051 carries no sequence number or timestamp, so a constant delay between the firmware and
this host is invisible here; gaps are not (the caller's watchdog, on frame ages).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import serial

from roarm_lab.driver.errors import ArmResetError, DisconnectedError, StaleStreamError
from roarm_lab.driver.protocol.commands import Command, InfoPrint, SetInfoPrint, encode
from roarm_lab.driver.protocol.feedback import Feedback
from roarm_lab.driver.protocol.reader import BootNotice, Message
from roarm_lab.driver.transports.latest_frame import LatestFrame, StampedFeedback
from roarm_lab.driver.transports.serial_port import DEFAULT_BAUD, SerialTransport

#: How long the first frame may take once the arm is up: a T:605 and one line on the wire, with a wide margin.
FIRST_FRAME_TIMEOUT_S = 1.0


class StreamingSerialTransport(SerialTransport):
    """Open, wait for the arm, turn its stream on and keep reading it; then :meth:`latest_feedback`,
    :meth:`next_feedback`, and :meth:`send`, which writes and returns (nothing answers a command on the stream).
    ``options`` are SerialTransport's (``disable_stream`` excepted); ``reply_timeout_s`` x (1 + ``retries``) bounds
    the wait of :meth:`feedback`. Thread-safe."""

    def __init__(self, port: str, baud: int = DEFAULT_BAUD, **options: Any):
        self.frames = LatestFrame()
        self._reader_thread: threading.Thread | None = None
        self._stop_reading = threading.Event()
        self._lost: DisconnectedError | None = None  # the read failure that ended the reader thread
        super().__init__(port, baud, disable_stream=False, **options)

    # ------------------------------------------------------------------ public API

    def reinitialize(self) -> Feedback:
        """Wait for the arm to be up, turn its stream on, start reading it; returns the first frame."""
        with self._lock:
            self._stop_reader()
            self._ensure_open()
            booting, self._needs_reinit = self._needs_reinit, False
            self._wait_until_up(booting)
            self._write(encode(SetInfoPrint(InfoPrint.STREAM)))
            self.frames.clear()
            before = self.frames.received
            self._start_reader()
            try:
                first = self.frames.next_after(before, FIRST_FRAME_TIMEOUT_S)
            except StaleStreamError as e:
                self._stop_reader()
                raise StaleStreamError(f"the arm on {self.port} answers but sends no T:1051 stream after "
                                       f"T:605 cmd 2 (waited {FIRST_FRAME_TIMEOUT_S:.1f} s)") from e
            except BaseException:
                self._stop_reader()
                raise
            self.initial_feedback = first.feedback
            return first.feedback

    def latest_feedback(self, max_age_s: float) -> StampedFeedback:
        """The newest frame if it arrived at most ``max_age_s`` ago, else StaleStreamError; ArmResetError or
        DisconnectedError when the link failed."""
        self._check_usable()
        return self.frames.latest(max_age_s)

    def next_feedback(self, after_seq: int, timeout_s: float) -> StampedFeedback:
        """The newest frame numbered above ``after_seq`` (0: any), waiting up to ``timeout_s`` for one."""
        self._check_usable()
        return self.frames.next_after(after_seq, timeout_s)

    @property
    def newest_frame(self) -> StampedFeedback | None:
        """The newest frame however old, without checking the link (for watchdogs)."""
        return self.frames.newest

    def feedback(self) -> Feedback:
        """The first frame that arrives after this call (T:105 is not sent: the stream is the source)."""
        self._check_usable()
        return self.frames.next_after(self.frames.received, self._frame_wait_s).feedback

    def exchange(self, command: Command, *, allow_dangerous: bool = False, feedback_first: bool = False) -> Feedback:
        """The command with a frame: the newest one before it (``feedback_first``), or one from a firmware loop
        iteration that began after the command arrived, so, like a T:105 reply, it shows the command was read.
        The firmware reads commands before emitting each line (hardware §1.1), but the first frame after the write may
        come from an iteration that began before it: the second one cannot."""
        if feedback_first:
            fb = self.latest_feedback(self._frame_wait_s).feedback
            self.send(command, allow_dangerous=allow_dangerous)
            return fb
        self.send(command, allow_dangerous=allow_dangerous)
        self.feedback()
        return self.feedback()

    def resync(self, quiet_s: float = 0.5, max_s: float = 15.0) -> int:
        """Nothing to drop: stream frames answer no request, and the reader thread keeps only the newest."""
        return 0

    def close(self) -> None:
        with self._lock:
            self._stop_reader()
            super().close()

    # ------------------------------------------------------------------ the reader thread

    @property
    def _frame_wait_s(self) -> float:
        return self.reply_timeout_s * (1 + self.retries)

    def _start_reader(self) -> None:
        self._stop_reading.clear()
        self._lost = None
        self._reader_thread = threading.Thread(target=self._read_stream, name=f"roarm-stream {self.port}",
                                               daemon=True)
        self._reader_thread.start()

    def _stop_reader(self) -> None:
        if self._reader_thread is not None:
            self._stop_reading.set()
            self._reader_thread.join(timeout=2.0)  # its read returns within one poll interval
            self._reader_thread = None

    def _read_stream(self) -> None:
        while not self._stop_reading.is_set():
            try:
                data = self._ser.read(max(1, self._ser.in_waiting))
            except (serial.SerialException, OSError) as e:
                if not self._stop_reading.is_set():  # else close() closed the port under the read
                    self._lost = DisconnectedError(f"serial port {self.port} disconnected: {e}")
                    self.frames.fail(self._lost)
                return
            if data:
                self._on_messages(self.reader.feed(data), time.monotonic())

    def _on_messages(self, messages: list[Message], arrived: float) -> None:
        for m in messages:
            if isinstance(m, BootNotice):
                if not self._needs_reinit:
                    self.resets_seen += 1
                    self._needs_reinit = True
                    self.frames.fail(ArmResetError(f"the arm on {self.port} rebooted ({m.text!r}): it re-homes and "
                                                   "re-initializes; call reinitialize() before using it"))
            elif isinstance(m, Feedback):
                self.frames.post(m, arrived)

    def _check_usable(self) -> None:
        super()._check_usable()
        if self._lost is not None:
            raise DisconnectedError(*self._lost.args)
