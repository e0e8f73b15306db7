"""Settings of the firmware emulator: the wire, the boot, how the emulated arm differs from nominal, and faults."""

from __future__ import annotations

from dataclasses import dataclass, field

from roarm_lab.description.kinematic_chain import HOME_POSE, JOINT_NAMES
from roarm_lab.emulator.errors import EmulatorError
from roarm_lab.emulator.twin.settings import TwinConfig

#: Serial baud rate of FW-250108 (hardware §1.1). 8N1 = 10 bits on the wire per byte.
DEFAULT_BAUD = 115200
BITS_PER_BYTE = 10

__all__ = ["DEFAULT_BAUD", "ArmVariation", "EmulatorConfig", "EmulatorError", "Faults", "TwinConfig"]


@dataclass
class ArmVariation:
    """How the emulated arm differs from the nominal servo model, standing in for a real arm that differs from sim."""

    speed_scale: float = 1.0  # multiplies every servo's top speed (the no-load 4.7 rad/s, hardware §3.6)
    #: Where each servo settles relative to its target, firmware rad (droop, calibration error), JOINT_NAMES order.
    settle_offset_rad: tuple[float, ...] = (0.0,) * 6
    load_scale: float = 1.0  # multiplies the reported loads

    def __post_init__(self) -> None:
        if not self.speed_scale > 0 or len(self.settle_offset_rad) != len(JOINT_NAMES):
            raise EmulatorError("speed_scale must be > 0 and settle_offset_rad needs one value per joint")


@dataclass
class Faults:
    """Fault injection. Output faults apply per line the arm prints; all draws come from one seeded RNG.

    May be changed while the emulator runs (e.g. ``emulator.config.faults.stuck_joint = "wrist"``).
    """

    torn_frame_prob: float = 0.0  # a printed line loses its tail and `\r\n`, so it merges with the next one
    drop_line_prob: float = 0.0  # a printed line never arrives
    latency_s: float = 0.0  # extra delay before the firmware sees each received line
    #: extra delay before each printed line reaches the host (a lagging USB bridge or host): switched on while the
    #: stream runs, it leaves a gap of this length, then stale frames
    output_latency_s: float = 0.0
    stuck_joint: str | None = None  # this joint's servo ignores position commands (and pushes against the block)
    disconnect_after_s: float | None = None  # close the port this long after the host first opens it
    disconnect_after_lines: int | None = None  # ... or after this many printed lines have reached the host
    dead_bus: bool = False  # no servo answers: every joint reads step 0 (hardware §2.7), nothing moves
    seed: int = 0

    def __post_init__(self) -> None:
        if self.stuck_joint is not None and self.stuck_joint not in JOINT_NAMES:
            raise EmulatorError(f"stuck_joint must be one of {', '.join(JOINT_NAMES)}, got {self.stuck_joint!r}")
        if not (0 <= self.torn_frame_prob <= 1 and 0 <= self.drop_line_prob <= 1 and self.latency_s >= 0
                and self.output_latency_s >= 0):
            raise EmulatorError("fault probabilities must be in [0, 1] and latencies >= 0")


@dataclass
class EmulatorConfig:
    baud: int = DEFAULT_BAUD  # wire pacing; 0 = unpaced (bytes arrive at once)
    #: Time from reset to the first feedback line. Not measured on the real arm (hardware §1.2: "several seconds",
    #: up to 15 s more when a Wi-Fi STA connection is attempted).
    boot_duration_s: float = 3.0
    #: Opening the port resets the arm, as USB does on this board (hardware §1.2).
    reset_on_open: bool = True
    #: Main-loop rate with InfoPrint=2 (hardware §1.1: ~100 Hz estimated); the wire caps it lower at 115200 baud.
    stream_hz: float = 100.0
    estop_duration_s: float = 10.0  # T:0 torque-off time (hardware §2.1)
    #: Where the arm rests at power-on (model rad); the boot moves it to the init pose (hardware §3.2).
    initial_pose: tuple[float, ...] = HOME_POSE
    variation: ArmVariation = field(default_factory=ArmVariation)
    faults: Faults = field(default_factory=Faults)
    #: A hand holding the arm (model rad, JOINT_NAMES order), as when the arm is a leader (hardware §5.2: torque off,
    #: moved by hand): joints with torque off move towards it at ``hand_speed_rad_s``; joints with torque on
    #: resist. May be changed while the emulator runs; None = nobody touches the arm.
    hand_pose: tuple[float, ...] | None = None
    hand_speed_rad_s: float = 2.0
    #: None: the kinematic servos (fast, exact). A TwinConfig: the physics twin (MuJoCo in real time, hidden truth).
    twin: TwinConfig | None = None

    def __post_init__(self) -> None:
        if self.baud < 0 or self.boot_duration_s < 0 or self.stream_hz <= 0 or self.estop_duration_s < 0:
            raise EmulatorError("baud and durations must be >= 0 and stream_hz > 0")
        if len(self.initial_pose) != len(JOINT_NAMES):
            raise EmulatorError(f"initial_pose needs {len(JOINT_NAMES)} joint values")
        if self.hand_pose is not None and len(self.hand_pose) != len(JOINT_NAMES):
            raise EmulatorError(f"hand_pose needs {len(JOINT_NAMES)} joint values")
        if not self.hand_speed_rad_s > 0:
            raise EmulatorError("hand_speed_rad_s must be > 0")

    def wire_seconds(self, n_bytes: int) -> float:
        """Time ``n_bytes`` occupy the serial line (0 when unpaced)."""
        return n_bytes * BITS_PER_BYTE / self.baud if self.baud else 0.0
