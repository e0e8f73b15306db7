"""The `T:1051` feedback message (hardware §2.7): the reply to `T:105` and each line of the InfoPrint=2 stream."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from roarm_lab.description.firmware_units import (
    DEAD_BUS_FIRMWARE_RAD,
    FEEDBACK_JOINT_FIELDS,
    FEEDBACK_KEYS,
    FEEDBACK_LOAD_FIELDS,
    RAD_PER_STEP,
    firmware_rad_to_steps,
    firmware_to_model_rad,
)
from roarm_lab.driver.errors import MalformedFeedbackError
from roarm_lab.driver.protocol.json_numbers import as_finite_float

FEEDBACK_T = 1051
#: Half a servo step: how close every joint must be to the dead-bus signature to count as one.
_DEAD_BUS_TOLERANCE = RAD_PER_STEP / 2


@dataclass(frozen=True)
class Feedback:
    """One `T:1051` reading. Firmware units as sent; the model frame through :attr:`q_model`.

    ``tcp_mm``: x, y, z of the firmware's FK of the measured angles, mm, z measured from the shoulder-pitch axis.
    ``tool_pitch``: `tit` = s + e + t - pi/2 (0 horizontal, + down). ``firmware_rad``: b, s, e, t, r, g in the
    firmware joint convention (gripper ~pi = closed). ``loads``: tB..tG, permille of servo output, sign = direction;
    `tS` is load(12) - load(13) with a stale ID-13 value (hardware §2.7, §7 item 8).
    """

    tcp_mm: tuple[float, float, float]
    tool_pitch: float
    firmware_rad: tuple[float, ...]
    loads: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.tcp_mm) != 3 or len(self.firmware_rad) != 6 or len(self.loads) != 6:
            raise MalformedFeedbackError("feedback needs 3 TCP coordinates, 6 joint angles and 6 loads")

    @property
    def q_model(self) -> tuple[float, ...]:
        """Joint angles in the model frame (JOINT_NAMES order; gripper 0 = closed)."""
        return tuple(float(x) for x in firmware_to_model_rad(self.firmware_rad))

    @property
    def steps(self) -> tuple[int, ...]:
        """The servo steps these angles correspond to (shoulder = driving servo 12, hardware §3.1)."""
        return tuple(int(s) for s in firmware_rad_to_steps(self.firmware_rad))

    @property
    def is_dead_bus(self) -> bool:
        """Every joint reads as servo step 0: the servo bus is not answering (hardware §2.7)."""
        return bool(np.all(np.abs(np.subtract(self.firmware_rad, DEAD_BUS_FIRMWARE_RAD)) <= _DEAD_BUS_TOLERANCE))

    @classmethod
    def from_json_obj(cls, obj: Mapping[str, Any]) -> Feedback:
        """Parse a decoded JSON object. Requires exactly the hardware §2.7 keys, numeric and finite (key order is not
        required: a firmware build with another ArduinoJson version may reorder them)."""
        if obj.get("T") != FEEDBACK_T or isinstance(obj.get("T"), bool):
            raise MalformedFeedbackError(f"not a T:{FEEDBACK_T} message: T = {obj.get('T')!r}")
        keys = set(obj)
        if keys != set(FEEDBACK_KEYS):
            missing, extra = set(FEEDBACK_KEYS) - keys, keys - set(FEEDBACK_KEYS)
            raise MalformedFeedbackError(f"T:1051 keys differ from hardware §2.7: missing {sorted(missing)}, "
                                         f"unexpected {sorted(extra)}")
        values = {}
        for key in FEEDBACK_KEYS[1:]:
            v = as_finite_float(obj[key])
            if v is None:
                raise MalformedFeedbackError(f"T:1051 field {key!r} is not a finite number: {str(obj[key])[:40]}")
            values[key] = v
        return cls(
            tcp_mm=(values["x"], values["y"], values["z"]),
            tool_pitch=values["tit"],
            firmware_rad=tuple(values[k] for k in FEEDBACK_JOINT_FIELDS),
            loads=tuple(values[k] for k in FEEDBACK_LOAD_FIELDS),
        )

    def to_json_obj(self) -> dict[str, Any]:
        """The message as the firmware emits it, keys in the hardware §2.7 order (loads as integers)."""
        values: Sequence[Any] = (
            FEEDBACK_T, *self.tcp_mm, self.tool_pitch, *self.firmware_rad, *(round(x) for x in self.loads)
        )
        return dict(zip(FEEDBACK_KEYS, values, strict=True))
