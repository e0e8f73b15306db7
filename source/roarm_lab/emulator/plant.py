"""What the emulated firmware drives: the six servos and the arm they move (the "plant").

The firmware layer (:mod:`.firmware`) is the same for every plant: it parses commands, clamps, blocks, prints
feedback. A plant takes servo goals (encoder steps with the `spd`/`acc` profile the firmware passes on), torque
on/off and the torque limits, and reports the encoder steps and each servo's output. Two plants:

* :class:`KinematicPlant` (the default, fast): each servo follows its trapezoidal profile exactly to its goal
  (:mod:`.servo`); loads come from a static gravity model (:mod:`.arm_model`).
* :class:`~roarm_lab.emulator.twin.physics.PhysicsTwin` (``--twin``): the MuJoCo scene stepped in real time, each
  servo closing its own position loop on encoder steps, with hidden "truth" parameters.

Index order is JOINT_NAMES (one servo per joint; the shoulder's mirrored ID 13 is folded into joint 1).
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from roarm_lab.description.firmware_units import (
    RAD_PER_STEP,
    firmware_rad_to_steps,
    firmware_to_model_rad,
    model_to_firmware_rad,
    steps_to_firmware_rad,
)
from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.description.servo import SATURATION_ERROR_RAD, SERVOS_PER_JOINT, STALL_TORQUE_NM
from roarm_lab.emulator.arm_model import gravity_torques
from roarm_lab.emulator.config import EmulatorConfig
from roarm_lab.emulator.servo import NOMINAL_MAX_SPEED_STEPS, ServoAxis

#: +1 where a servo step moves the joint in its + direction, -1 where the mapping is inverted (base, roll; §3.1).
STEP_SIGN = np.sign(steps_to_firmware_rad(np.ones(6)) - steps_to_firmware_rad(np.zeros(6)))
SERVOS = np.array([SERVOS_PER_JOINT[j] for j in JOINT_NAMES])


def steps_to_model_rad(steps) -> np.ndarray:
    return firmware_to_model_rad(steps_to_firmware_rad(steps))


def model_rad_to_steps(q_model) -> np.ndarray:
    return firmware_rad_to_steps(model_to_firmware_rad(q_model))


class ServoPlant(Protocol):
    """The servos and arm under the firmware. Not thread-safe toward the firmware: the emulator loop serialises
    calls (a plant with its own thread, like the twin, locks inside)."""

    def advance(self, now: float) -> None:
        """Bring the plant to time ``now`` (a real-time plant runs by itself and may ignore it)."""

    def command(self, index: int, step: int, spd: int, acc: int) -> None:
        """A goal for one servo (steps 0-4095, `spd` steps/s, `acc` x100 steps/s^2; 0 = maximum)."""

    def hold(self, index: int) -> None:
        """The servo's goal becomes where its encoder reads now."""

    def set_torque(self, index: int, on: bool) -> None:
        """Torque off: the servo lets go. Back on: it holds where it is."""

    def torque_on(self, index: int) -> bool: ...

    def set_torque_limits(self, permille) -> None:
        """Per servo output limit, permille of maximum (T:107, T:112)."""

    @property
    def any_moving(self) -> bool:
        """A servo has not reached its goal yet (what blocking firmware moves wait for)."""

    def encoder_steps(self) -> np.ndarray:
        """(6,) int: what each servo's encoder reads now."""

    def targets(self) -> np.ndarray:
        """(6,) int: each servo's goal step."""

    def true_q_model(self) -> np.ndarray:
        """(6,) the joints' true angles, model rad (for tests and diagnostics: the firmware sees the encoders)."""

    def duties(self) -> np.ndarray:
        """(6,) each joint's servo output, fraction of maximum, + toward the joint's + direction."""

    def close(self) -> None: ...


class KinematicPlant:
    """Servos that follow their profile exactly (no dynamics): fast, deterministic, for protocol tests."""

    def __init__(self, config: EmulatorConfig, now: float):
        self.config = config
        steps = model_rad_to_steps(config.initial_pose)
        var = config.variation
        offsets = np.asarray(var.settle_offset_rad) / RAD_PER_STEP * STEP_SIGN
        self.servos = [
            ServoAxis(position=float(s), max_speed=NOMINAL_MAX_SPEED_STEPS * var.speed_scale, settle_offset=float(o))
            for s, o in zip(steps, offsets, strict=True)
        ]
        self._last = now

    def advance(self, now: float) -> None:
        dt, self._last = now - self._last, max(now, self._last)
        faults = self.config.faults
        hand = self.config.hand_pose
        hand_steps = None if hand is None else model_rad_to_steps(hand)
        hand_speed = self.config.hand_speed_rad_s / RAD_PER_STEP
        for i, (name, servo) in enumerate(zip(JOINT_NAMES, self.servos, strict=True)):
            servo.stuck = faults.dead_bus or faults.stuck_joint == name
            servo.advance(dt)
            if hand_steps is not None:
                servo.move_by_hand(float(hand_steps[i]), hand_speed, dt)

    def command(self, index: int, step: int, spd: int, acc: int) -> None:
        self.servos[index].command(step, spd, acc)

    def hold(self, index: int) -> None:
        self.servos[index].hold()

    def set_torque(self, index: int, on: bool) -> None:
        servo = self.servos[index]
        if on and not servo.torque_on:
            servo.torque_on = True
            servo.hold()
        servo.torque_on = on

    def torque_on(self, index: int) -> bool:
        return self.servos[index].torque_on

    def set_torque_limits(self, permille) -> None:
        """Kinematic servos are never overpowered: limits are stored by the firmware only."""

    @property
    def any_moving(self) -> bool:
        return any(s.moving for s in self.servos)

    def encoder_steps(self) -> np.ndarray:
        return np.array([s.reported_step for s in self.servos])

    def targets(self) -> np.ndarray:
        return np.array([s.target for s in self.servos])

    def true_q_model(self) -> np.ndarray:
        return steps_to_model_rad([s.position for s in self.servos])

    def duties(self) -> np.ndarray:
        """Holding against gravity plus the back-EMF share of the speed (a DC motor's duty = torque/stall +
        speed/no-load speed); a stuck servo's loop saturates against the block. Sign convention ASSUMED."""
        tau = gravity_torques(self.true_q_model())
        vel = np.array([s.velocity for s in self.servos]) * STEP_SIGN
        duty = -tau / (SERVOS * STALL_TORQUE_NM) + vel / NOMINAL_MAX_SPEED_STEPS
        for i, servo in enumerate(self.servos):
            err = servo.goal - servo.position
            if not servo.torque_on:
                duty[i] = 0.0
            elif servo.stuck and abs(err) > 1:
                duty[i] = math.copysign(min(1.0, abs(err) * RAD_PER_STEP / SATURATION_ERROR_RAD), err * STEP_SIGN[i])
        return duty

    def close(self) -> None:
        pass
