"""One ST3235 bus servo as the kinematic emulator moves it: exactly along the servo's trapezoidal profile
(:mod:`roarm_lab.description.servo_motion`), to exactly its goal (plus a settle offset standing in for droop)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from roarm_lab.description.firmware_units import STEPS_PER_TURN
from roarm_lab.description.servo_motion import (
    NOMINAL_MAX_SPEED_STEPS,
    TrapezoidProfile,
    accel_limit_steps,
    speed_limit_steps,
)

__all__ = ["NOMINAL_MAX_SPEED_STEPS", "ServoAxis"]


@dataclass
class ServoAxis:
    position: float  # steps, continuous; the encoder reports it rounded
    target: int = 0
    velocity: float = 0.0  # steps/s
    max_speed: float = NOMINAL_MAX_SPEED_STEPS  # steps/s, this servo's ceiling
    settle_offset: float = 0.0  # steps: where it actually stops relative to the target
    spd: int = 0
    acc: int = 0
    torque_on: bool = True
    stuck: bool = False

    def __post_init__(self) -> None:
        self.target = self.reported_step

    @property
    def reported_step(self) -> int:
        return min(STEPS_PER_TURN - 1, max(0, round(self.position)))

    @property
    def speed_limit(self) -> float:
        return speed_limit_steps(self.spd, self.max_speed)

    @property
    def accel_limit(self) -> float:
        return accel_limit_steps(self.acc)

    @property
    def goal(self) -> float:
        return self.target + self.settle_offset

    @property
    def moving(self) -> bool:
        return self.torque_on and not self.stuck and (self.velocity != 0.0 or self.position != self.goal)

    def command(self, target: int, spd: int, acc: int) -> None:
        self.target, self.spd, self.acc = min(STEPS_PER_TURN - 1, max(0, target)), spd, acc

    def hold(self) -> None:
        """Take the current position as the goal (torque switched back on)."""
        self.target = min(STEPS_PER_TURN - 1, max(0, round(self.position - self.settle_offset)))
        self.velocity = 0.0

    def advance(self, dt: float) -> None:
        if dt <= 0 or not self.moving:
            if not self.torque_on or self.stuck:
                self.velocity = 0.0
            return
        profile = TrapezoidProfile(self.position, self.velocity)
        profile.advance(dt, self.goal, self.speed_limit, self.accel_limit)
        self.position, self.velocity = profile.position, profile.velocity

    def move_by_hand(self, position: float, speed: float, dt: float) -> None:
        """A hand moves the servo towards ``position`` (steps) at ``speed`` steps/s: only with torque off, when
        nothing holds the horn."""
        if self.torque_on or dt <= 0:
            return
        d = position - self.position
        self.position += math.copysign(min(abs(d), speed * dt), d)
