"""Transports: the :class:`ArmTransport` interface (:mod:`.base`), USB serial with a `T:105` request per reading
(:mod:`.serial_port`), USB serial fed by the InfoPrint=2 stream (:mod:`.serial_stream`, :mod:`.latest_frame`), HTTP
(:mod:`.http_api`), and :func:`open_transport` (:mod:`.factory`) to pick one."""

from roarm_lab.driver.transports.base import ArmTransport
from roarm_lab.driver.transports.factory import open_transport
from roarm_lab.driver.transports.http_api import HttpTransport
from roarm_lab.driver.transports.latest_frame import LatestFrame, StampedFeedback
from roarm_lab.driver.transports.serial_port import DEFAULT_BAUD, DEFAULT_BOOT_TIMEOUT_S, SerialTransport
from roarm_lab.driver.transports.serial_stream import StreamingSerialTransport

__all__ = ["DEFAULT_BAUD", "DEFAULT_BOOT_TIMEOUT_S", "ArmTransport", "HttpTransport", "LatestFrame",
           "SerialTransport", "StampedFeedback", "StreamingSerialTransport", "open_transport"]
