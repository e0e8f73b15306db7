"""A FW-250108 emulator: the RoArm-M3's ESP32 firmware and servos behind a pseudo-terminal, TCP or HTTP.

* :mod:`.config` - wire, boot, arm variation and fault settings
* :mod:`.servo` - one servo's trapezoidal move in encoder steps
* :mod:`.arm_model` - the firmware's TCP and the gravity loads from the robot description
* :mod:`.firmware` - the firmware's behaviour, no I/O (commands, boot, feedback)
* :mod:`.ports` - pseudo-terminal and TCP ports
* :mod:`.emulated_arm` - :class:`Emulator`: the background thread, wire pacing, output faults
* :mod:`.http_server` - `GET /js?json=` for :class:`roarm_lab.driver.HttpTransport`

Run it: ``python -m roarm_lab.emulator --help``.
"""

from roarm_lab.emulator.config import ArmVariation, EmulatorConfig, Faults
from roarm_lab.emulator.emulated_arm import Emulator, EmulatorSnapshot
from roarm_lab.emulator.firmware import FirmwareCore
from roarm_lab.emulator.http_server import EmulatorHttpServer

__all__ = ["ArmVariation", "Emulator", "EmulatorConfig", "EmulatorHttpServer", "EmulatorSnapshot", "Faults",
           "FirmwareCore"]
