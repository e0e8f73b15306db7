"""Pick the transport for a serial port (or pyserial URL) or an HTTP host."""

from __future__ import annotations

from typing import Any

from roarm_lab.driver.transports.base import ArmTransport
from roarm_lab.driver.transports.http_api import HttpTransport
from roarm_lab.driver.transports.serial_port import SerialTransport
from roarm_lab.driver.transports.serial_stream import StreamingSerialTransport


def open_transport(port: str | None = None, http_host: str | None = None, *, stream: bool = False,
                   **options: Any) -> ArmTransport:
    """A :class:`SerialTransport` for ``port`` (device path or pyserial URL) or an :class:`HttpTransport` for
    ``http_host``; ``options`` go to its constructor. ``stream``: serial only, a :class:`StreamingSerialTransport`
    that reads the InfoPrint=2 feedback stream instead of requesting feedback."""
    if (port is None) == (http_host is None):
        raise ValueError("give exactly one of port (serial) or http_host")
    if port is not None:
        if stream:
            return StreamingSerialTransport(port, **options)
        return SerialTransport(port, **options)
    if stream:
        raise ValueError("HTTP has no feedback stream (hardware §1.4): each reading is a T:105 request")
    return HttpTransport(http_host, **options)
