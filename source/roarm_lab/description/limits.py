"""Joint limits of the RoArm-M3, in the model frame (radians; gripper 0 = closed, + = open).

Two sets are kept and named, both from ``docs/hardware.md`` §3.5 (and §3.1 for the clamps):

* :data:`FIRMWARE_CLAMPS` - what FW-250108 clamps a command to. Wider than the mechanics allow (hardware §3.5:
  "Firmware clamps are wider than what the mechanics allow (collisions possible)"). The runner never relies on
  them; they only tell what the firmware would silently do with a value.
* :data:`HARDWARE_SAFE` - the tightest of all sources in hardware §3.5 per joint and side. This is the range the
  simulation models use as joint limits and the range the real-arm safety layer enforces (hardware §7 item 10).

Per joint, the source that set each bound of :data:`HARDWARE_SAFE`:

============  =====================================  =====================================
joint         lower                                  upper
============  =====================================  =====================================
base          -pi: FW clamp / Viam -180 deg          +pi: FW clamp / Viam +180 deg
shoulder      -1.3: user-verified (KJA88)            +1.1: user-verified (KJA88)
elbow         -0.366: user-verified (KJA88)          2.734: user-verified (KJA88)
wrist         -1.0: user-verified (KJA88)            1.4: user-verified (KJA88)
roll          -pi/2: metrox "protect gripper cables" +pi/2: same
gripper       0: URDF (closed)                       1.5: URDF / SRDF `open`
============  =====================================  =====================================

Gripper lower bound: KJA88's "pinch 2.8" (firmware rad, = 0.342 model) is where the jaws pinch an object, not a
mechanical stop: the firmware's own init pose holds the gripper at firmware pi (= model 0, closed; hardware §3.2),
so fully closed is a pose the hardware takes at every boot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from roarm_lab.description.kinematic_chain import JOINT_NAMES


@dataclass(frozen=True)
class JointLimits:
    """Lower and upper bounds per joint, in :data:`JOINT_NAMES` order (model frame, rad)."""

    name: str
    lower: tuple[float, ...]
    upper: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.lower) != len(JOINT_NAMES) or len(self.upper) != len(JOINT_NAMES):
            raise ValueError(f"{self.name}: limits need {len(JOINT_NAMES)} entries")
        for j, lo, hi in zip(JOINT_NAMES, self.lower, self.upper, strict=True):
            if not lo < hi:
                raise ValueError(f"{self.name}: {j} lower {lo} is not below upper {hi}")

    def of(self, joint_name: str) -> tuple[float, float]:
        i = JOINT_NAMES.index(joint_name)
        return self.lower[i], self.upper[i]

    def contains(self, q, margin: float = 0.0) -> bool:
        """True when every joint of the pose ``q`` (len 6) lies within the limits shrunk by ``margin``."""
        return all(lo + margin <= x <= hi - margin for x, lo, hi in zip(q, self.lower, self.upper, strict=True))


# Firmware clamps, hardware §3.1 / §3.5. Elbow: steps 512-3071 -> -pi/4 ... 3.140. Gripper: firmware steps 700-3396 =
# 1.074 ... 5.209 firmware rad, i.e. model (pi - fw) -2.068 ... 2.068.
_GRIPPER_FW_MIN, _GRIPPER_FW_MAX = 700 * 2 * math.pi / 4096, 3396 * 2 * math.pi / 4096
FIRMWARE_CLAMPS = JointLimits(
    "firmware_clamps",
    lower=(-math.pi, -math.pi / 2, -math.pi / 4, -math.pi / 2, -math.pi, math.pi - _GRIPPER_FW_MAX),
    upper=(math.pi, math.pi / 2, 3.140, math.pi / 2, math.pi, math.pi - _GRIPPER_FW_MIN),
)

HARDWARE_SAFE = JointLimits(
    "hardware_safe",
    lower=(-math.pi, -1.3, -0.366, -1.0, -math.pi / 2, 0.0),
    upper=(math.pi, 1.1, 2.734, 1.4, math.pi / 2, 1.5),
)
