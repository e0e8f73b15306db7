"""The RoArm-M3 Pro robot description: the single source of truth for every asset, task and the real-arm runner.

Each number cites ``docs/hardware.md``. Modules, one concept each:

* :mod:`.kinematic_chain` - joints, frames, TCP, home pose (roarm_ws URDF numbers)
* :mod:`.limits` - firmware clamps and the hardware-safe limits
* :mod:`.inertia` - link masses and inertias re-estimated to the real arm's 1.02 kg
* :mod:`.servo` - the ST3235 servo model and the drive gains derived from it
* :mod:`.firmware_units` - model <-> firmware conversions (rad, steps, spd/acc, feedback fields)
* :mod:`.geometry` - primitive visual and collision shapes
"""

from roarm_lab.description.firmware_units import (
    firmware_to_model_rad,
    model_to_firmware_rad,
)
from roarm_lab.description.geometry import GEOMETRY, MATERIALS
from roarm_lab.description.inertia import LINK_INERTIALS
from roarm_lab.description.kinematic_chain import (
    ARM_JOINT_NAMES,
    BASE_MOUNT,
    HOME_POSE,
    JOINT_NAMES,
    JOINTS,
    LINK_NAMES,
    SHOULDER_AXIS_HEIGHT,
    TCP_ORIGIN,
    TCP_PARENT,
)
from roarm_lab.description.limits import FIRMWARE_CLAMPS, HARDWARE_SAFE
from roarm_lab.description.servo import DRIVES

ROBOT_ID = "waveshare_roarm_m3_pro"
ROBOT_NAME = "roarm_m3_pro"

__all__ = [
    "ARM_JOINT_NAMES", "BASE_MOUNT", "DRIVES", "FIRMWARE_CLAMPS", "GEOMETRY", "HARDWARE_SAFE", "HOME_POSE",
    "JOINTS", "JOINT_NAMES", "LINK_INERTIALS", "LINK_NAMES", "MATERIALS", "ROBOT_ID", "ROBOT_NAME",
    "SHOULDER_AXIS_HEIGHT", "TCP_ORIGIN", "TCP_PARENT", "firmware_to_model_rad", "model_to_firmware_rad",
]
