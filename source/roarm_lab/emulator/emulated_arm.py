"""The emulated arm as a running device: the firmware core on a pseudo-terminal and/or TCP, driven by one
background thread that paces the wire and applies the output faults.

The firmware's main loop reads serial commands, then (InfoPrint=2) prints one T:1051 line; `println` blocks while
the UART TX FIFO is full, so at 115200 baud the wire sets the loop rate (~50 lines/s, hardware §1.1). While streaming,
received lines are therefore handled once per loop iteration, just before that iteration's stream line, and a
T:105 reply goes out as a whole line between two stream lines. With the stream off, lines are handled on arrival.

    with Emulator(EmulatorConfig(boot_duration_s=0.1)) as emu:
        with SerialTransport(emu.port) as arm:
            print(arm.feedback().q_model)
"""

from __future__ import annotations

import random
import select
import sys
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.emulator.config import EmulatorConfig, EmulatorError
from roarm_lab.emulator.firmware import RESET_POWER_ON, FirmwareCore
from roarm_lab.emulator.plant import steps_to_model_rad
from roarm_lab.emulator.ports import Port, PtyPort, TcpPort

#: ESP32 Arduino serial RX buffer (hardware §1.5, general ESP32): what a busy firmware can hold before input is lost.
RX_BUFFER_BYTES = 256
#: ESP32 UART TX FIFO: println returns once the line fits here, so the loop runs ahead of the wire by this much.
TX_FIFO_BYTES = 128
_MAX_RX_LINE = 4096
_IDLE_WAIT_S = 0.05
_OPEN_POLL_S = 0.02


@dataclass(frozen=True)
class EmulatorSnapshot:
    """The emulated arm's true state, for tests and diagnostics (the host sees it only through feedback)."""

    q_model: tuple[float, ...]  # true joint angles (unquantised), model frame
    target_model: tuple[float, ...]  # servo goals, model frame
    torque_on: tuple[bool, ...]
    info_print: int
    busy: bool
    booting: bool
    boot_count: int
    host_connected: bool
    disconnected: bool  # the disconnect fault fired
    firmware_stats: dict[str, int]
    wire_stats: dict[str, int]
    executed: tuple[dict[str, Any], ...]  # the last commands the firmware ran


class Emulator:
    """Start with :meth:`start` (or ``with``); the pty path is :attr:`port`, the TCP URL :attr:`url`."""

    def __init__(self, config: EmulatorConfig | None = None, *, pty: bool = True, tcp_port: int | None = None,
                 tcp_host: str = "127.0.0.1", clock: Callable[[], float] = time.monotonic):
        self.config = config or EmulatorConfig()
        self._want_pty, self._tcp_port, self._tcp_host = pty, tcp_port, tcp_host
        self._clock = clock
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pty: PtyPort | None = None
        self._tcp: TcpPort | None = None
        self._ports: list[Port] = []
        self.core = FirmwareCore(self.config, clock())
        self.wire_stats: Counter[str] = Counter()
        self._rng = random.Random(self.config.faults.seed)
        self._rx_partial = bytearray()
        self._rx_discarding = False
        self._rx_lines: deque[tuple[float, bytes]] = deque()
        self._rx_wire_free = 0.0
        self._tx: deque[tuple[float, bytes]] = deque()
        self._tx_free_at = 0.0
        self._next_stream = 0.0
        self._boots_seen = self.core.boot_count
        self._first_open_at: float | None = None
        self._lines_delivered = 0
        self.disconnected = False
        self.crash: str | None = None  # traceback of an emulator bug, if the loop died

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Emulator:
        if self._thread is not None:
            raise EmulatorError("emulator already started")
        if self._want_pty:
            self._pty = PtyPort()
            self._ports.append(self._pty)
        if self._tcp_port is not None:
            self._tcp = TcpPort(self._tcp_port, self._tcp_host)
            self._ports.append(self._tcp)
        self._thread = threading.Thread(target=self._run, name="roarm-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        with self._lock:
            for port in self._ports:
                port.close()
        self.core.plant.close()

    def __enter__(self) -> Emulator:
        return self if self._thread is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> str:
        """The pseudo-terminal's path (a serial port for pyserial)."""
        if self._pty is None:
            raise EmulatorError("the emulator has no pseudo-terminal (not started, or pty=False)")
        return self._pty.path

    @property
    def url(self) -> str:
        """``socket://host:port`` for pyserial's serial_for_url."""
        if self._tcp is None:
            raise EmulatorError("the emulator has no TCP port (not started, or tcp_port=None)")
        return self._tcp.url

    # ------------------------------------------------------------------ control from the host side of tests

    def reset(self) -> None:
        """Reset the ESP32 (as a press of EN): the banner, the boot and the stream follow (hardware §1.2, §1.3)."""
        with self._lock:
            self.core.reset(self._clock(), RESET_POWER_ON)

    def http_request(self, text: str, timeout_s: float = 30.0) -> str:
        """Serve `GET /js?json=<text>` (hardware §1.4): waits while the firmware is blocked, as the real loop does."""
        deadline = self._clock() + timeout_s
        self._wait_not_busy(deadline)
        with self._lock:
            body = self.core.http_request(text, self._clock())
        self._wait_not_busy(deadline)  # a blocking command answers when it is done
        return body

    def _wait_not_busy(self, deadline: float) -> None:
        while True:
            with self._lock:
                self.core.advance(self._clock())
                if not self.core.busy():
                    return
            if self._clock() > deadline:
                raise EmulatorError("the emulated firmware stayed busy past the HTTP timeout")
            self._stop.wait(0.01)

    def snapshot(self) -> EmulatorSnapshot:
        with self._lock:
            core = self.core
            core.advance(self._clock())
            plant = core.plant
            return EmulatorSnapshot(
                q_model=tuple(float(x) for x in plant.true_q_model()),
                target_model=tuple(float(x) for x in steps_to_model_rad(plant.targets())),
                torque_on=tuple(plant.torque_on(i) for i in range(len(JOINT_NAMES))),
                info_print=int(core.info_print),
                busy=core.busy(),
                booting=core.booting,
                boot_count=core.boot_count,
                host_connected=any(port.connected for port in self._ports),
                disconnected=self.disconnected,
                firmware_stats=dict(core.stats),
                wire_stats=dict(self.wire_stats),
                executed=tuple(core.executed),
            )

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                try:
                    timeout = self._step(self._clock())
                except Exception:  # a bug in the emulator: unplug, so the host fails fast instead of hanging
                    self.crash = traceback.format_exc()
                    print(f"roarm emulator crashed:\n{self.crash}", file=sys.stderr)
                    for port in self._ports:
                        port.close()
                    return
                fds = [fd for port in self._ports for fd in port.fds()]
            try:
                if fds:
                    select.select(fds, [], [], timeout)
                else:
                    self._stop.wait(timeout)
            except (OSError, ValueError):  # a port was closed meanwhile
                pass

    def _step(self, now: float) -> float:
        for port in self._ports:
            opened, data = port.service()
            if opened:
                self._on_open(now)
            if data:
                self._receive(data, now)
        self.core.advance(now)
        if not self._loop_paced():
            self._deliver_input(now)
        self._maybe_stream(now)
        self._queue_output(now)
        self._flush_output(now)
        self._check_disconnect(now)
        return self._wait_time(now)

    def _host_connected(self) -> bool:
        return any(port.connected for port in self._ports)

    def _loop_paced(self) -> bool:
        """The stream runs: the main loop goes at the stream's pace and handles input once per iteration."""
        return self.core.streaming and self._host_connected()

    def _on_open(self, now: float) -> None:
        self.wire_stats["opens"] += 1
        if self._first_open_at is None:
            self._first_open_at = now
        if self.config.reset_on_open:
            self._rx_partial.clear()
            self._rx_lines.clear()
            self.core.reset(now, RESET_POWER_ON)

    def _receive(self, data: bytes, now: float) -> None:
        faults = self.config.faults
        start = 0
        while (nl := data.find(b"\n", start)) >= 0:
            piece, start = data[start:nl], nl + 1
            if self._rx_discarding or len(self._rx_partial) + len(piece) > _MAX_RX_LINE:
                self._rx_discarding = False
                self._rx_partial.clear()
                self.wire_stats["rx_overlong_lines"] += 1
                continue
            line = bytes(self._rx_partial + piece)
            self._rx_partial.clear()
            if self.core.busy() and sum(len(x) + 1 for _, x in self._rx_lines) + len(line) + 1 > RX_BUFFER_BYTES:
                self.wire_stats["rx_overflow_lines"] += 1  # the firmware is blocked and its RX buffer is full
                continue
            wire_done = max(now, self._rx_wire_free) + self.config.wire_seconds(len(line) + 1)
            self._rx_wire_free = wire_done
            self._rx_lines.append((wire_done + faults.latency_s, line))
        tail = data[start:]
        if not self._rx_discarding:
            if len(self._rx_partial) + len(tail) > _MAX_RX_LINE:
                self._rx_partial.clear()
                self._rx_discarding = True
            else:
                self._rx_partial += tail

    def _deliver_input(self, now: float) -> None:
        while self._rx_lines and self._rx_lines[0][0] <= now and not self.core.busy():
            _, line = self._rx_lines.popleft()
            self.core.receive_line(line, now)

    def _maybe_stream(self, now: float) -> None:
        """One main-loop iteration while streaming: the commands received so far, then the feedback line."""
        if not self._loop_paced() or now < self._next_stream:
            return
        if self._tx_free_at - now > self.config.wire_seconds(TX_FIFO_BYTES):
            return  # println would block: the loop waits for the wire
        self._deliver_input(now)
        if self.core.streaming:  # a command may have stopped the stream or blocked the firmware
            self.core.print_feedback()
        self._next_stream = now + 1.0 / self.config.stream_hz

    def _queue_output(self, now: float) -> None:
        if self.core.boot_count != self._boots_seen:
            self._boots_seen = self.core.boot_count
            self._cut_in_flight(now)
        faults = self.config.faults
        while self.core.output:
            line = self.core.output.popleft()
            if faults.drop_line_prob and self._rng.random() < faults.drop_line_prob:
                self.wire_stats["dropped_lines"] += 1
                continue
            if faults.torn_frame_prob and len(line) > 3 and self._rng.random() < faults.torn_frame_prob:
                line = line[: self._rng.randrange(1, len(line) - 2)]  # loses its `\r\n`: merges with the next
                self.wire_stats["torn_lines"] += 1
            start = max(now, self._tx_free_at)
            self._tx_free_at = start + self.config.wire_seconds(len(line))
            self._tx.append((self._tx_free_at, line))

    def _cut_in_flight(self, now: float) -> None:
        """A reset kills the UART mid-line: the host gets the part already sent, then the banner."""
        if self._tx:
            done_at, line = self._tx[0]
            sent = len(line) - int((done_at - now) / max(self.config.wire_seconds(1), 1e-12))
            if 0 < sent < len(line):
                self._write_ports(line[:sent])
        self._tx.clear()
        self._tx_free_at = now

    def _flush_output(self, now: float) -> None:
        while self._tx and self._tx[0][0] + self.config.faults.output_latency_s <= now:
            _, data = self._tx.popleft()
            self._write_ports(data)
            if self._host_connected() and data.endswith(b"\n"):
                self._lines_delivered += 1

    def _write_ports(self, data: bytes) -> None:
        for port in self._ports:
            port.write(data)

    def _check_disconnect(self, now: float) -> None:
        faults = self.config.faults
        if self.disconnected or self._first_open_at is None:
            return
        late = faults.disconnect_after_s is not None and now - self._first_open_at >= faults.disconnect_after_s
        many = faults.disconnect_after_lines is not None and self._lines_delivered >= faults.disconnect_after_lines
        if late or many:
            self.disconnected = True
            for port in self._ports:
                port.close()

    def _wait_time(self, now: float) -> float:
        times = [now + _IDLE_WAIT_S]
        if self._tx:
            times.append(self._tx[0][0] + self.config.faults.output_latency_s)
        if self._rx_lines and not self.core.busy() and not self._loop_paced():
            times.append(self._rx_lines[0][0])
        if (t := self.core.next_event_time(now)) is not None:
            times.append(t)
        if self.core.streaming and self._host_connected():
            times.append(max(self._next_stream, self._tx_free_at - self.config.wire_seconds(TX_FIFO_BYTES)))
        if any(port.polls_for_open for port in self._ports):
            times.append(now + _OPEN_POLL_S)
        if self.config.faults.disconnect_after_s is not None and self._first_open_at is not None:
            times.append(self._first_open_at + self.config.faults.disconnect_after_s)
        return min(_IDLE_WAIT_S, max(0.0005, min(times) - now))

