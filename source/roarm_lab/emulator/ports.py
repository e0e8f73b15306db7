"""Where the emulated arm's serial port appears: a pseudo-terminal (a /dev/pts/N path pyserial opens like a
USB adapter) and/or a TCP socket (pyserial ``socket://host:port``).

Each port reports when a host opens it (the emulated arm resets then, like USB DTR/RTS does, hardware §1.2) and
hands over the bytes received. Bytes printed while no host is connected are lost, as on a real UART.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import tty
from abc import ABC, abstractmethod

from roarm_lab.emulator.config import EmulatorError

_READ_CHUNK = 4096


class Port(ABC):
    @abstractmethod
    def fds(self) -> list[int]:
        """File descriptors worth waiting on (readable = something to service)."""

    @abstractmethod
    def service(self) -> tuple[bool, bytes]:
        """(a host has just opened the port, the bytes received since the last call)."""

    @property
    @abstractmethod
    def connected(self) -> bool: ...

    @property
    def polls_for_open(self) -> bool:
        """True when an open can only be noticed by polling (the emulator loop then wakes up regularly)."""
        return False

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


class PtyPort(Port):
    """A pseudo-terminal. Its slave side is closed here, so the master reports a hang-up (POLLHUP) while no host
    has the port open; the end of the hang-up is the host opening it."""

    def __init__(self) -> None:
        try:
            self._master, slave = os.openpty()
        except OSError as e:
            raise EmulatorError(f"cannot open a pseudo-terminal: {e}") from e
        tty.setraw(slave)  # no echo or newline translation, even before pyserial configures the port
        self.path = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(self._master, False)
        self._poll = select.poll()
        self._poll.register(self._master, select.POLLIN)
        self._connected = False
        self._closed = False

    def _hung_up(self) -> bool:
        return any(ev & select.POLLHUP for _, ev in self._poll.poll(0))

    def fds(self) -> list[int]:
        return [self._master] if self._connected else []

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def polls_for_open(self) -> bool:
        return not self._closed and not self._connected

    def service(self) -> tuple[bool, bytes]:
        if self._closed:
            return False, b""
        was, self._connected = self._connected, not self._hung_up()
        if not self._connected:
            return False, b""
        chunks = []
        while True:
            try:
                chunk = os.read(self._master, _READ_CHUNK)
            except OSError:  # EAGAIN: nothing more; EIO: the host closed it meanwhile
                break
            if not chunk:
                break
            chunks.append(chunk)
        return not was, b"".join(chunks)

    def write(self, data: bytes) -> None:
        if not self._connected or self._closed:
            return
        try:
            os.write(self._master, data)  # a full buffer drops the rest: the host-side overflow of hardware §1.1
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EIO):
                raise

    def close(self) -> None:
        if not self._closed:
            self._closed, self._connected = True, False
            os.close(self._master)


class TcpPort(Port):
    """A listening TCP socket serving one host at a time (one process per port, hardware §1.5)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        try:
            self._server = socket.create_server((host, port))
        except OSError as e:
            raise EmulatorError(f"cannot listen on {host}:{port}: {e}") from e
        self._server.setblocking(False)
        self.host, self.port = self._server.getsockname()[:2]
        self._client: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def fds(self) -> list[int]:
        if self._server.fileno() < 0:
            return []
        return [self._server.fileno()] + ([self._client.fileno()] if self._client else [])

    @property
    def connected(self) -> bool:
        return self._client is not None

    def service(self) -> tuple[bool, bytes]:
        opened = False
        if self._server.fileno() < 0:
            return False, b""
        try:
            conn, _ = self._server.accept()
        except (BlockingIOError, InterruptedError):
            conn = None
        if conn is not None:
            if self._client is None:
                conn.setblocking(False)
                self._client, opened = conn, True
            else:
                conn.close()  # a second host on the same port is refused
        data = b""
        if self._client is not None:
            try:
                data = self._client.recv(_READ_CHUNK)
                if not data:  # the host closed the connection
                    self._drop_client()
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self._drop_client()
        return opened, data

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def write(self, data: bytes) -> None:
        if self._client is None:
            return
        try:
            self._client.send(data)
        except (BlockingIOError, InterruptedError):
            pass  # socket buffer full: dropped, like an overflowing host buffer
        except OSError:
            self._drop_client()

    def close(self) -> None:
        self._drop_client()
        self._server.close()
