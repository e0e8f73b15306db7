"""Typed FW-250108 commands (hardware §2) and the one gate that turns a command into bytes: :func:`encode`.

Joint values are given in the **model frame** (the project's frame: ``HARDWARE_SAFE``, ``HOME_POSE``, policies)
and converted to the firmware frame only in :meth:`Command.payload`: joints 1-5 are identical, the gripper is
``firmware = pi - model`` (hardware §2.8, §3.1). Speeds and accelerations are the servo fields as the firmware takes
them: ``spd`` in steps/s and ``acc`` as the 0-254 register in 100 steps/s^2, both 0 = maximum (hardware §2); convert
from rad/s with :mod:`roarm_lab.description.firmware_units`.

Joint limits are *not* checked here (the firmware clamps silently to its own, wider ranges, hardware §3.5): use
:mod:`roarm_lab.driver.safety` before building a motion command.
"""

from __future__ import annotations

import enum
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from roarm_lab.description.firmware_units import ACC_REGISTER_MAX, GRIPPER_INDEX, T102_FIELDS
from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.driver.errors import CommandTooLongError, DangerousCommandError, InvalidCommandError
from roarm_lab.driver.protocol.json_numbers import as_finite_float

#: Longest line (JSON + "\n") sent to the firmware. Hardware §1.1: the command document is a StaticJsonDocument<256>
#: and longer commands "can fail to parse (silently)"; the facts mark the exact limit as inferred. 256 bytes of
#: text is the conservative reading (a T:102 line is ~110 bytes).
MAX_LINE_BYTES = 256
#: Largest `spd` accepted: the SDK validates speed 0-4096 steps/s (hardware §2.8); the servo itself tops out near
#: 3072-3400 steps/s (hardware §3.6).
MAX_SPD = 4096
#: Decimals sent for radians: 1e-6 rad is far below one servo step (1.5e-3 rad, hardware §3.6).
_RAD_DECIMALS = 6

#: T codes refused unless the caller passes ``allow_dangerous=True``, with the reason (hardware §2.1-§2.6, §7).
DANGEROUS_COMMANDS: dict[int, str] = {
    0: "emergency stop switches torque off on all servos for 10 s - the arm falls - and blocks the firmware "
       "(hardware §2.1, §7 item 3)",
    100: "homing re-calibrates servo 13's middle offset in EEPROM (hardware §2.2 T:100, §7 item 7)",
    110: "redefines the base zero by writing the base servo's middle offset (persistent, hardware §2.2 T:110)",
    501: "changes a servo ID (persistent, hardware §2.3)",
    502: "sets a servo middle in EEPROM; id 254 broadcasts and re-zeroes every servo at once (hardware §2.3)",
    503: "writes a servo P gain to EEPROM (hardware §2.3)",
    600: "reboots the ESP32; the arm re-homes and moves (hardware §2.1, §1.2)",
    601: "flash maintenance, not needed for control (hardware §2.1)",
    602: "boot-mission maintenance, not needed for control (hardware §2.1)",
    603: "deletes the boot mission (persistent, hardware §2.1)",
    604: "erases the NVS (persistent, hardware §2.1)",
    401: "writes the Wi-Fi boot mode to flash (hardware §2.6)",
    402: "starts an access point with new credentials (hardware §2.6)",
    403: "joins a network with credentials (hardware §2.6)",
    404: "sets AP+STA credentials (hardware §2.6)",
    405: "prints the Wi-Fi passwords in clear (hardware §2.6)",
    406: "saves the Wi-Fi settings to flash (hardware §2.6)",
    407: "sets and saves Wi-Fi credentials (hardware §2.6)",
    408: "disconnects Wi-Fi, cutting HTTP control (hardware §2.6)",
    201: "creates a flash file (hardware §2.4)",
    203: "deletes a flash file (hardware §2.4)",
    204: "edits a flash file (hardware §2.4)",
    205: "edits a flash file (hardware §2.4)",
    206: "edits a flash file (hardware §2.4)",
    208: "edits a flash file (hardware §2.4)",
    **{t: "edits a stored mission, e.g. the boot mission played at every boot (hardware §2.4)" for t in range(220, 232)
       if t != 221},
    241: "runs a stored mission step: arbitrary stored motion (hardware §2.4)",
    242: "plays a stored mission: arbitrary stored motion, blocking (hardware §2.4)",
    301: "makes this arm an ESP-NOW leader that drives other arms (hardware §2.5)",
    305: "sends a command to other arms over ESP-NOW (hardware §2.5)",
    306: "sends a command to other arms over ESP-NOW (hardware §2.5)",
}


class InfoPrint(enum.IntEnum):
    """`T:605` modes (hardware §1.1). The firmware boots in STREAM and goes back to it after every reset."""

    QUIET = 0
    DEBUG_ECHO = 1  # debug text and an echo of every received line
    STREAM = 2  # a T:1051 feedback line every main-loop iteration


class Command(ABC):
    """One JSON command line. ``payload()`` is the firmware-frame JSON object, ``"T"`` first."""

    T: ClassVar[int]

    @abstractmethod
    def payload(self) -> dict[str, Any]: ...

    @property
    def code(self) -> int:
        return self.T

    def to_json(self) -> str:
        """Compact JSON text (ASCII, no spaces); not yet checked against the line limit: see :func:`encode`."""
        return json.dumps(self.payload(), separators=(",", ":"), allow_nan=False)


def encode(command: Command, *, allow_dangerous: bool = False) -> bytes:
    """The bytes of one command line (JSON + ``\\n``, hardware §1.1), or a typed refusal.

    Raises :class:`DangerousCommandError` for the codes in :data:`DANGEROUS_COMMANDS` unless
    ``allow_dangerous``, and :class:`CommandTooLongError` beyond :data:`MAX_LINE_BYTES`.
    """
    reason = DANGEROUS_COMMANDS.get(command.code)
    if reason is not None and not allow_dangerous:
        raise DangerousCommandError(f"T:{command.code} refused: {reason}. Pass allow_dangerous=True to send it anyway.")
    line = (command.to_json() + "\n").encode("ascii")
    if len(line) > MAX_LINE_BYTES:
        raise CommandTooLongError(
            f"T:{command.code} line is {len(line)} bytes; the firmware's JSON buffer takes at most {MAX_LINE_BYTES} "
            "(hardware §1.1) and would drop it silently"
        )
    return line


# ---------------------------------------------------------------- field checks


def _finite(name: str, value: Any) -> float:
    f = as_finite_float(value)
    if f is None:
        raise InvalidCommandError(f"{name} must be a finite number, got {str(value)[:40]}")
    return f


def _int_in(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidCommandError(f"{name} must be an integer in {lo}..{hi}, got {value!r}")
    return value


def _check_speed(spd: Any, acc: Any) -> None:
    _int_in("spd (steps/s, 0 = maximum)", spd, 0, MAX_SPD)
    _int_in("acc (x100 steps/s^2, 0 = maximum)", acc, 0, ACC_REGISTER_MAX)


def _rad(x: float) -> float:
    return round(x, _RAD_DECIMALS)


def _gripper_firmware_rad(opening: float) -> float:
    """Model gripper opening (0 = closed) -> firmware rad (pi = closed), hardware §2.8."""
    return math.pi - opening


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class RequestFeedback(Command):
    """`T:105`: fresh servo read, answered with one `T:1051` line (hardware §2.2, §2.7)."""

    T: ClassVar[int] = 105

    def payload(self) -> dict[str, Any]:
        return {"T": self.T}


@dataclass(frozen=True)
class MoveJoints(Command):
    """`T:102`: all six joints at once, one servo sync-write (hardware §2.2). ``positions`` in model rad, JOINT_NAMES
    order. Missing fields would be read as 0 by the firmware, so all six are always sent."""

    T: ClassVar[int] = 102
    positions: Sequence[float]
    spd: int = 0
    acc: int = 0

    def __post_init__(self) -> None:
        if len(self.positions) != len(JOINT_NAMES):
            raise InvalidCommandError(f"T:102 needs {len(JOINT_NAMES)} joint positions, got {len(self.positions)}")
        q = tuple(_finite(f"{n} position", v) for n, v in zip(JOINT_NAMES, self.positions, strict=True))
        object.__setattr__(self, "positions", q)
        _check_speed(self.spd, self.acc)

    def payload(self) -> dict[str, Any]:
        fw = list(self.positions)
        fw[GRIPPER_INDEX] = _gripper_firmware_rad(fw[GRIPPER_INDEX])
        return {"T": self.T, **{k: _rad(v) for k, v in zip(T102_FIELDS, fw, strict=True)}, "spd": self.spd,
                "acc": self.acc}


@dataclass(frozen=True)
class MoveJoint(Command):
    """`T:101`: one joint (hardware §2.2; M3 numbering 1 base ... 6 gripper). ``position`` in model rad."""

    T: ClassVar[int] = 101
    joint: str
    position: float
    spd: int = 0
    acc: int = 0

    def __post_init__(self) -> None:
        if self.joint not in JOINT_NAMES:
            raise InvalidCommandError(f"unknown joint {self.joint!r}; the joints are {', '.join(JOINT_NAMES)}")
        object.__setattr__(self, "position", _finite(f"{self.joint} position", self.position))
        _check_speed(self.spd, self.acc)

    def payload(self) -> dict[str, Any]:
        index = JOINT_NAMES.index(self.joint)
        rad = _gripper_firmware_rad(self.position) if index == GRIPPER_INDEX else self.position
        return {"T": self.T, "joint": index + 1, "rad": _rad(rad), "spd": self.spd, "acc": self.acc}


@dataclass(frozen=True)
class MoveGripper(Command):
    """`T:106`: gripper position (hardware §2.2). ``opening`` in model rad: 0 = closed, 1.5 = open."""

    T: ClassVar[int] = 106
    opening: float
    spd: int = 0
    acc: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "opening", _finite("gripper opening", self.opening))
        _check_speed(self.spd, self.acc)

    def payload(self) -> dict[str, Any]:
        return {"T": self.T, "cmd": _rad(_gripper_firmware_rad(self.opening)), "spd": self.spd, "acc": self.acc}


@dataclass(frozen=True)
class _CartesianGoal(Command):
    """TCP goal in the firmware frame: mm, origin on the base axis at shoulder-pitch height (hardware §2.7, §3.4);
    ``pitch`` as the feedback's `tit` (0 horizontal, + down), ``roll`` rad, ``gripper`` model rad (0 = closed)."""

    x_mm: float
    y_mm: float
    z_mm: float
    pitch: float = 0.0
    roll: float = 0.0
    gripper: float = 0.0

    def __post_init__(self) -> None:
        for name in ("x_mm", "y_mm", "z_mm", "pitch", "roll", "gripper"):
            object.__setattr__(self, name, _finite(name, getattr(self, name)))

    def _pose_fields(self) -> dict[str, Any]:
        return {"x": round(self.x_mm, 3), "y": round(self.y_mm, 3), "z": round(self.z_mm, 3), "t": _rad(self.pitch),
                "r": _rad(self.roll), "g": _rad(_gripper_firmware_rad(self.gripper))}


@dataclass(frozen=True)
class MoveToPose(_CartesianGoal):
    """`T:104`: eased Cartesian interpolation, **blocking** the firmware until done (hardware §2.2, §1.4)."""

    T: ClassVar[int] = 104
    speed: float = 0.25  # the firmware's relative interpolation speed (hardware §2.2: default 0.25)

    def __post_init__(self) -> None:
        super().__post_init__()
        if _finite("speed", self.speed) <= 0:
            raise InvalidCommandError(f"T:104 speed must be > 0, got {self.speed!r}")

    def payload(self) -> dict[str, Any]:
        return {"T": self.T, **self._pose_fields(), "spd": self.speed}


@dataclass(frozen=True)
class MoveToPoseDirect(_CartesianGoal):
    """`T:1041`: one IK solve and sync write, no interpolation. Servo speed/acc come from whatever the last
    T:102/T:122 left in the firmware's shared arrays (hardware §2.2, §7 item 6)."""

    T: ClassVar[int] = 1041

    def payload(self) -> dict[str, Any]:
        return {"T": self.T, **self._pose_fields()}


@dataclass(frozen=True)
class SetGripperTorque(Command):
    """`T:107`: gripper torque limit, permille of maximum, 50-1000; 300 after boot (hardware §2.2)."""

    T: ClassVar[int] = 107
    permille: int

    def __post_init__(self) -> None:
        _int_in("gripper torque (permille)", self.permille, 50, 1000)

    def payload(self) -> dict[str, Any]:
        return {"T": self.T, "tor": self.permille}


@dataclass(frozen=True)
class SetJointTorqueLimits(Command):
    """`T:112` dynamic adaptation (hardware §2.2): ``enabled`` -> per-joint torque limits (permille, 50-1000,
    JOINT_NAMES order) so the arm yields to external force; disabled -> all 1000. FW-250108 bug: wrist and roll get the
    *elbow* value; their own fields are ignored."""

    T: ClassVar[int] = 112
    enabled: bool
    limits: Sequence[int] = (1000,) * 6

    def __post_init__(self) -> None:
        if len(self.limits) != len(JOINT_NAMES):
            raise InvalidCommandError(f"T:112 needs {len(JOINT_NAMES)} torque limits, got {len(self.limits)}")
        for name, value in zip(JOINT_NAMES, self.limits, strict=True):
            _int_in(f"{name} torque limit (permille)", value, 50, 1000)
        object.__setattr__(self, "limits", tuple(self.limits))

    def payload(self) -> dict[str, Any]:
        return {"T": self.T, "mode": int(self.enabled), **dict(zip("bsetrh", self.limits, strict=True))}


@dataclass(frozen=True)
class SetTorque(Command):
    """`T:210`: torque on/off on all servos, gripper included (hardware §2.2). Off: the arm can be moved by hand."""

    T: ClassVar[int] = 210
    enabled: bool

    def payload(self) -> dict[str, Any]:
        return {"T": self.T, "cmd": int(self.enabled)}


@dataclass(frozen=True)
class SetInfoPrint(Command):
    """`T:605`: InfoPrint mode, RAM only (hardware §1.1). Send QUIET after every connect or reset
    (hardware §7 item 1)."""

    T: ClassVar[int] = 605
    mode: InfoPrint

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "mode", InfoPrint(self.mode))
        except ValueError as e:
            raise InvalidCommandError(f"InfoPrint mode must be 0, 1 or 2, got {self.mode!r}") from e

    def payload(self) -> dict[str, Any]:
        return {"T": self.T, "cmd": int(self.mode)}


@dataclass(frozen=True)
class EmergencyStop(Command):
    """`T:0`: torque off on all servos for 10 s, blocking, then back on (hardware §2.1). The arm falls; it is in
    :data:`DANGEROUS_COMMANDS` so it needs ``allow_dangerous=True``."""

    T: ClassVar[int] = 0

    def payload(self) -> dict[str, Any]:
        return {"T": self.T}


@dataclass(frozen=True)
class RawCommand(Command):
    """Any JSON object with an integer ``"T"``, in the firmware frame, for commands without a typed class.
    Still goes through :func:`encode`'s dangerous-command and length checks."""

    fields: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = self.fields.get("T")
        if isinstance(t, bool) or not isinstance(t, int):
            raise InvalidCommandError(f"a raw command needs an integer 'T', got {t!r}")
        try:
            json.dumps(dict(self.fields), allow_nan=False)
        except (TypeError, ValueError) as e:
            raise InvalidCommandError(f"raw command is not JSON-serialisable: {e}") from e

    @property
    def code(self) -> int:
        return self.fields["T"]

    def payload(self) -> dict[str, Any]:
        return {"T": self.code, **{k: v for k, v in self.fields.items() if k != "T"}}
