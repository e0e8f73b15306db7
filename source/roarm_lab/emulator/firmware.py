"""FW-250108 as the host sees it, without any I/O: the emulator's core.

Give it the lines it receives and the current time; it keeps the servos moving and appends what the firmware
prints to :attr:`FirmwareCore.output` (each line `\\r\\n`-terminated, hardware §1.1). The emulator loop
(:mod:`.emulated_arm`) owns the wire.

Emulated (hardware sections): the boot (§1.2, §1.3: ROM banner, servo check, re-homing, mission dump, init pose,
InfoPrint back to 2), InfoPrint 0/1/2 (§1.1), silently dropped bad JSON, over-long lines and unknown `T`
(§1.1), T:0 (§2.1, 10 s torque off, blocking), T:100 homing (blocking), T:101, T:102 (+ the shared spd/acc
reset), T:104 (blocking) and T:1041 (shared spd/acc), T:105 / T:1051 (§2.7, tS with a stale ID-13 load), T:106,
T:107 and T:112 (stored only: the emulated servos never yield), T:210, T:600 reboot, T:605, T:999; firmware clamps
(§3.1, §3.5); the 256-byte RX buffer of a blocked firmware (in :mod:`.emulated_arm`); HTTP replies (§1.4).

Not emulated (ignored like an unknown `T`): T:103, T:108-111, T:113-115, T:121-123, files, missions, Wi-Fi,
ESP-NOW. Simplifications: with torque off the arm holds still instead of sagging, and torque coming back holds
the current position (the facts do not say whether a servo returns to its old goal); T:104 is a synchronised
joint move at the homing speed scaled by its `spd`, not the firmware's eased Cartesian interpolation; the
homing moves all servos together instead of one by one; float formatting approximates ArduinoJson's.
"""

from __future__ import annotations

import json
import math
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from roarm_lab.description.firmware_units import (
    GRIPPER_INDEX,
    SERVO_MIDDLE_STEP,
    firmware_rad_to_steps,
    firmware_to_model_rad,
    model_to_firmware_rad,
    steps_to_firmware_rad,
)
from roarm_lab.description.kinematic_chain import HOME_POSE, SHOULDER_AXIS_HEIGHT
from roarm_lab.description.limits import FIRMWARE_CLAMPS
from roarm_lab.driver.protocol.commands import MAX_LINE_BYTES, InfoPrint
from roarm_lab.driver.protocol.feedback import Feedback
from roarm_lab.driver.protocol.json_numbers import as_finite_float
from roarm_lab.emulator.config import EmulatorConfig
from roarm_lab.emulator.plant import KinematicPlant, ServoPlant, steps_to_model_rad
from roarm_lab.kinematics import tcp_firmware_mm

#: A typical ESP32 ROM banner (general ESP32 behaviour, hardware §1.3; the exact text varies per chip and reset).
ROM_BANNER = (
    "ets Jun  8 2016 00:22:57",
    "",
    "rst:{cause},boot:0x13 (SPI_FAST_FLASH_BOOT)",
    "configsip: 0, SPIWP:0xee",
    "clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00",
    "mode:DIO, clock div:1",
    "load:0x3fff0030,len:1184",
    "load:0x40078000,len:13260",
    "load:0x40080400,len:3028",
    "entry 0x400805e4",
)
RESET_POWER_ON = "0x1 (POWERON_RESET)"  # power-up and the EN pin, i.e. the USB DTR/RTS reset
RESET_SOFTWARE = "0xc (SW_CPU_RESET)"  # esp_restart(), T:600
#: The STA MAC the firmware prints as a bare line at boot (hardware §1.3); a made-up, locally administered one.
EMULATED_MAC = "02:00:00:00:00:01"
BOOT_MISSION_DUMP = (
    "---=== File Content ===---",
    "reading file: [boot] starts:",
    "",
    '{"name":"boot","intro":"these cmds run automatically at boot."}',
    "^^^ ^^^ ^^^ reading file: boot.mission ends. ^^^ ^^^ ^^^",
)
HOMING_SPD, HOMING_ACC = 600, 20  # T:100 (hardware §2.2)
GRIPPER_STEP_RANGE = (700, 3396)  # T:106 clamp (hardware §2.2, §3.1)
BOOT_GRIPPER_TORQUE = 300  # permille (hardware §2.2 T:107)
INIT_SHARED_SPD, INIT_SHARED_ACC = 0, 20  # the shared arrays T:1041 uses (hardware §2.2)

_FW_LOWER = model_to_firmware_rad(FIRMWARE_CLAMPS.lower)
_FW_UPPER = model_to_firmware_rad(FIRMWARE_CLAMPS.upper)
_FW_LOWER[GRIPPER_INDEX], _FW_UPPER[GRIPPER_INDEX] = sorted((_FW_LOWER[GRIPPER_INDEX], _FW_UPPER[GRIPPER_INDEX]))


@dataclass
class _Block:
    """The firmware is stuck in a blocking call (setup, T:0, T:100, T:104): it reads no input and prints no stream."""

    kind: str
    until: float
    until_settled: bool = False
    on_end: Callable[[float], None] | None = None


def _num(doc: dict[str, Any], key: str) -> float:
    """A field as ArduinoJson's as<double>() reads it: 0 when missing or not a number."""
    v = as_finite_float(doc.get(key))
    return 0.0 if v is None else v


def _u16(doc: dict[str, Any], key: str) -> int:
    return int(_num(doc, key)) & 0xFFFF


def _u8(doc: dict[str, Any], key: str) -> int:
    return int(_num(doc, key)) & 0xFF


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def make_plant(config: EmulatorConfig, now: float) -> ServoPlant:
    """The kinematic servos, or the physics twin when ``config.twin`` is set (MuJoCo is imported only then)."""
    if config.twin is None:
        return KinematicPlant(config, now)
    from roarm_lab.emulator.twin.physics import PhysicsTwin

    return PhysicsTwin(config, config.twin, now)


def parse_command_line(line: bytes) -> dict[str, Any] | None:
    """The JSON object of a received line, or None where the firmware would drop it."""
    if len(line) + 1 > MAX_LINE_BYTES:
        return None
    try:
        doc = json.loads(line, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    # Without an integer T the facts do not say what FW-250108 does; the emulator ignores the line.
    if not isinstance(doc, dict) or isinstance(doc.get("T"), bool) or not isinstance(doc.get("T"), int):
        return None
    return doc


class FirmwareCore:
    """The emulated ESP32 + servos. Not thread-safe: the emulator loop serialises calls."""

    def __init__(self, config: EmulatorConfig, now: float, plant: ServoPlant | None = None):
        self.config = config
        self.output: deque[bytes] = deque()
        self.stats: Counter[str] = Counter()
        self.executed: deque[dict[str, Any]] = deque(maxlen=64)  # the last commands run, for tests
        self.plant: ServoPlant = plant if plant is not None else make_plant(config, now)
        self.boot_count = 0
        self._last = now
        self._events: list[tuple[float, Callable[[float], None]]] = []
        self._block: _Block | None = None
        self._load13_stale = 0.0
        self.reset(now, RESET_POWER_ON)

    # ------------------------------------------------------------------ time

    def advance(self, now: float) -> None:
        """Move time on to ``now``, running due boot steps at their own times (any call granularity works)."""
        while self._events and self._events[0][0] <= now:
            t, action = self._events.pop(0)
            self._move_servos(t)
            action(t)
        self._move_servos(now)
        block = self._block
        if block and now >= block.until and not (block.until_settled and self.any_moving):
            self._block = None
            if block.on_end:
                block.on_end(now)

    def _move_servos(self, t: float) -> None:
        self._last = max(t, self._last)
        self.plant.advance(self._last)

    def busy(self) -> bool:
        return self._block is not None

    @property
    def booting(self) -> bool:
        return self._block is not None and self._block.kind == "boot"

    @property
    def streaming(self) -> bool:
        return self.info_print == InfoPrint.STREAM and not self.busy()

    @property
    def any_moving(self) -> bool:
        return self.plant.any_moving

    def next_event_time(self, now: float) -> float | None:
        """When :meth:`advance` next has something to do (a blocking move is re-checked every 10 ms)."""
        times = [t for t, _ in self._events[:1]]
        if self._block:
            times.append(self._block.until if self._block.until > now else now + 0.01)
        return min(times) if times else None

    # ------------------------------------------------------------------ boot

    def reset(self, now: float, cause: str = RESET_POWER_ON) -> None:
        """ESP32 reset: RAM settings back to their boot values, then setup() runs (hardware §1.2, §1.3)."""
        self.boot_count += 1
        self.info_print = InfoPrint.STREAM
        self._set_torque_limits((1000,) * 5 + (BOOT_GRIPPER_TORQUE,))  # T:112 mode 0, then T:107 300 (§2.2)
        self.shared_spd, self.shared_acc = INIT_SHARED_SPD, INIT_SHARED_ACC
        self.estop_flag = False
        self.servos_checked = False
        self._all_torque(True)
        for line in ROM_BANNER:
            self._print(line.format(cause=cause))
        d = self.config.boot_duration_s
        self._events = [(now + 0.4 * d, self._boot_servo_check), (now + 0.6 * d, self._boot_server_started),
                        (now + 0.7 * d, self._boot_mission_dump), (now + 0.85 * d, self._boot_init_pose)]
        self._block = _Block("boot", now + d, until_settled=True, on_end=self._remember_load13)

    def _boot_servo_check(self, now: float) -> None:
        if self.config.faults.dead_bus:
            self._print("Bus servos status check: failed.")
            return
        self.servos_checked = True
        self._print("All bus servos status checked.")
        self._command_all_steps([SERVO_MIDDLE_STEP] * 6, HOMING_SPD, HOMING_ACC)

    def _boot_server_started(self, now: float) -> None:
        self._print("Server Starts.")
        self._print(EMULATED_MAC)

    def _boot_mission_dump(self, now: float) -> None:
        for line in BOOT_MISSION_DUMP:
            self._print(line)

    def _boot_init_pose(self, now: float) -> None:
        if self.servos_checked:
            self._command_all_steps(firmware_rad_to_steps(model_to_firmware_rad(HOME_POSE)), HOMING_SPD, HOMING_ACC)

    def _remember_load13(self, now: float) -> None:
        """ID 13 (mirrored shoulder servo) is read at boot and homing only; tS keeps using that value (§2.7)."""
        self._load13_stale = -self.plant.duties()[1] * 1000.0 * self.config.variation.load_scale

    # ------------------------------------------------------------------ input

    def receive_line(self, line: bytes, now: float) -> None:
        """One line from the serial port (without its `\\n`)."""
        self.stats["lines"] += 1
        if self.info_print == InfoPrint.DEBUG_ECHO:
            self._print(line.rstrip(b"\r").decode("utf-8", errors="replace"))
        doc = parse_command_line(line.rstrip(b"\r"))
        if doc is None:
            self.stats["dropped"] += 1
            return
        self._execute(doc, now, via_http=False)

    def http_request(self, text: str, now: float) -> str:
        """`GET /js?json=...` (hardware §1.4): returns the body, the firmware's `jsonInfoHttp` document."""
        doc = parse_command_line(text.encode("utf-8", errors="replace"))
        reply = self._execute(doc, now, via_http=True) if doc is not None else None
        if reply is None and self.info_print == InfoPrint.STREAM:
            reply = self.feedback().to_json_obj()  # the last loop's feedback is left in jsonInfoHttp
        return json.dumps(reply, separators=(",", ":"))

    def _execute(self, doc: dict[str, Any], now: float, via_http: bool) -> dict[str, Any] | None:
        handler = self._HANDLERS.get(doc["T"])
        if handler is None:
            self.stats["ignored"] += 1
            return None
        self.stats["executed"] += 1
        self.executed.append(doc)
        return handler(self, doc, now, via_http)

    # ------------------------------------------------------------------ commands

    def _estop(self, doc, now, via_http):
        self.estop_flag = True
        self._all_torque(False)
        self._block = _Block("estop", now + self.config.estop_duration_s, on_end=self._torque_back_on)

    def _torque_back_on(self, now: float) -> None:
        self._all_torque(True)

    def _all_torque(self, on: bool) -> None:
        for i in range(len(self.joint_torque_limits)):
            self.plant.set_torque(i, on)
            if on:
                self.plant.hold(i)

    def _set_torque_limits(self, permille: tuple[int, ...]) -> None:
        self.joint_torque_limits = permille
        self.plant.set_torque_limits(permille)

    def _homing(self, doc, now, via_http):
        if not self.servos_checked:
            return None
        self._command_all_steps([SERVO_MIDDLE_STEP] * 6, HOMING_SPD, HOMING_ACC)
        self._block = _Block("homing", now, until_settled=True, on_end=self._remember_load13)
        return None

    def _single_joint(self, doc, now, via_http):
        joint = int(_num(doc, "joint"))
        if 1 <= joint <= 6:
            self._command_joint(joint - 1, _num(doc, "rad"), _u16(doc, "spd"), _u8(doc, "acc"))

    def _all_joints(self, doc, now, via_http):
        fw = [_num(doc, k) for k in ("base", "shoulder", "elbow", "wrist", "roll", "hand")]
        spd, acc = _u16(doc, "spd"), _u8(doc, "acc")
        for i, rad in enumerate(fw):
            self._command_joint(i, rad, spd, acc)
        self.shared_spd, self.shared_acc = 0, 0

    def _pose_goal(self, doc, now, via_http):
        fw = self._solve_ik(doc)
        if fw is None:
            return None
        steps = self._clamped_steps(fw)
        dist = [abs(int(s) - int(t)) for s, t in zip(steps, self.plant.targets(), strict=True)]
        speed = HOMING_SPD * max(_num(doc, "spd"), 0.01) / 0.25
        longest = max(max(dist), 1)
        for i, s in enumerate(steps):  # all joints arrive together
            self._command_servo(i, int(s), max(1, round(speed * dist[i] / longest)), 0)
        self._block = _Block("pose", now, until_settled=True)
        return None

    def _pose_direct(self, doc, now, via_http):
        fw = self._solve_ik(doc)
        if fw is not None:
            for i, s in enumerate(self._clamped_steps(fw)):
                self._command_servo(i, int(s), self.shared_spd, self.shared_acc)

    def _feedback_request(self, doc, now, via_http):
        if via_http:
            return self.feedback().to_json_obj()
        self.print_feedback()
        return None

    def _gripper(self, doc, now, via_http):
        self._command_joint(GRIPPER_INDEX, _num(doc, "cmd"), _u16(doc, "spd"), _u8(doc, "acc"))

    def _gripper_torque(self, doc, now, via_http):
        self._set_torque_limits((*self.joint_torque_limits[:5], min(1000, max(50, int(_num(doc, "tor"))))))

    def _adaptation(self, doc, now, via_http):
        if int(_num(doc, "mode")) == 1:
            b, s, e, h = (min(1000, max(50, int(_num(doc, k)))) for k in "bseh")
            self._set_torque_limits((b, s, e, e, e, h))  # FW bug: wrist and roll get `e` (hardware §2.2 T:112)
        else:
            self._set_torque_limits((1000,) * 6)

    def _torque(self, doc, now, via_http):
        on = int(_num(doc, "cmd")) != 0
        for i in range(len(self.joint_torque_limits)):
            self.plant.set_torque(i, on)

    def _reboot(self, doc, now, via_http):
        self.reset(now, RESET_SOFTWARE)

    def _info_print(self, doc, now, via_http):
        self.info_print = int(_num(doc, "cmd"))

    def _clear_estop(self, doc, now, via_http):
        self.estop_flag = False

    _HANDLERS: dict[int, Callable[..., dict[str, Any] | None]] = {
        0: _estop, 100: _homing, 101: _single_joint, 102: _all_joints, 104: _pose_goal, 1041: _pose_direct,
        105: _feedback_request, 106: _gripper, 107: _gripper_torque, 112: _adaptation, 210: _torque, 600: _reboot,
        605: _info_print, 999: _clear_estop,
    }

    # ------------------------------------------------------------------ servos

    def _clamped_steps(self, fw_rad) -> np.ndarray:
        fw = np.clip(np.asarray(fw_rad, dtype=np.float64), _FW_LOWER, _FW_UPPER)
        steps = firmware_rad_to_steps(fw)
        steps[GRIPPER_INDEX] = min(GRIPPER_STEP_RANGE[1], max(GRIPPER_STEP_RANGE[0], steps[GRIPPER_INDEX]))
        return steps

    def _command_joint(self, index: int, fw_rad: float, spd: int, acc: int) -> None:
        fw = np.zeros(6)
        fw[index] = fw_rad
        self._command_servo(index, int(self._clamped_steps(fw)[index]), spd, acc)

    def _command_servo(self, index: int, step: int, spd: int, acc: int) -> None:
        # With a dead bus the write reaches no servo; with torque off the goal is ignored (see module doc).
        if not self.config.faults.dead_bus and self.plant.torque_on(index):
            self.plant.command(index, step, spd, acc)

    def _command_all_steps(self, steps, spd: int, acc: int) -> None:
        for i, s in enumerate(steps):
            self._command_servo(i, int(s), spd, acc)

    def _solve_ik(self, doc: dict[str, Any]) -> list[float] | None:
        """Firmware-frame joint angles for a T:104/T:1041 goal, or None where the IK fails (the firmware then
        keeps its last valid point, hardware §2.2)."""
        from roarm_lab import kinematics  # imported on first use: it pulls in torch

        target = [_num(doc, "x") / 1000.0, _num(doc, "y") / 1000.0, _num(doc, "z") / 1000.0 + SHOULDER_AXIS_HEIGHT]
        res = kinematics.inverse_kinematics(np.array(target), pitch=_num(doc, "t"), roll=_num(doc, "r"),
                                            q_ref=self._measured_q_model(), limits=FIRMWARE_CLAMPS, tol=1e-4)
        if not bool(res.converged):
            self.stats["ik_failed"] += 1
            return None
        return [*(float(x) for x in res.q), _num(doc, "g")]

    # ------------------------------------------------------------------ output

    def _measured_q_model(self) -> np.ndarray:
        """The joints as the firmware knows them: from the encoders."""
        return steps_to_model_rad(self.plant.encoder_steps())

    def _loads(self) -> list[float]:
        """Each servo's output in permille (+ toward the joint's +), as the load registers report it."""
        if self.config.faults.dead_bus:
            return [0.0] * 6
        permille = np.clip(1000.0 * self.plant.duties() * self.config.variation.load_scale, -1000, 1000)
        out = [float(x) for x in permille]
        out[1] -= self._load13_stale  # tS = load(12) - stale load(13) (hardware §2.7)
        return out

    def feedback(self) -> Feedback:
        """What `T:1051` reports now (hardware §2.7)."""
        steps = np.zeros(6) if self.config.faults.dead_bus else self.plant.encoder_steps()
        fw = steps_to_firmware_rad(steps)
        q = firmware_to_model_rad(fw)
        return Feedback(
            tcp_mm=tuple(round(float(v), 9) for v in tcp_firmware_mm(q)),
            tool_pitch=round(float(fw[1] + fw[2] + fw[3] - math.pi / 2), 9),
            firmware_rad=tuple(round(float(v), 9) for v in fw),
            loads=tuple(float(round(v)) for v in self._loads()),
        )

    def print_feedback(self) -> None:
        self.output.append(json.dumps(self.feedback().to_json_obj(), separators=(",", ":")).encode() + b"\r\n")

    def _print(self, text: str) -> None:
        self.output.append(text.encode("utf-8") + b"\r\n")
