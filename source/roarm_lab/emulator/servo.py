"""One ST3235 bus servo as the emulator moves it: a trapezoidal profile in encoder steps.

Units as the firmware writes them (hardware §2 "Servo speed/accel units"): goal in steps (4096 per turn), speed in
steps/s and acceleration in 100 steps/s^2, 0 meaning maximum for both. The top speed is the no-load speed
(hardware §3.6, ~3075 steps/s); with acc 0 the velocity changes without a ramp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from roarm_lab.description.firmware_units import ACC_UNIT_STEPS_PER_S2, RAD_PER_STEP, STEPS_PER_TURN
from roarm_lab.description.servo import NO_LOAD_SPEED_RAD_S

NOMINAL_MAX_SPEED_STEPS = NO_LOAD_SPEED_RAD_S / RAD_PER_STEP
_MAX_SUBSTEP_S = 0.002


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
        return min(self.spd, self.max_speed) if self.spd > 0 else self.max_speed

    @property
    def accel_limit(self) -> float:
        return self.acc * ACC_UNIT_STEPS_PER_S2 if self.acc > 0 else math.inf

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
        n = max(1, math.ceil(dt / _MAX_SUBSTEP_S))
        for _ in range(n):
            self._substep(dt / n)
            if self.velocity == 0.0 and self.position == self.goal:
                break

    def move_by_hand(self, position: float, speed: float, dt: float) -> None:
        """A hand moves the servo towards ``position`` (steps) at ``speed`` steps/s: only with torque off, when
        nothing holds the horn."""
        if self.torque_on or dt <= 0:
            return
        d = position - self.position
        self.position += math.copysign(min(abs(d), speed * dt), d)

    def _substep(self, dt: float) -> None:
        d = self.goal - self.position
        vmax, amax = self.speed_limit, self.accel_limit
        if math.isinf(amax):
            v = math.copysign(min(vmax, abs(d) / dt), d)
        else:
            v_des = math.copysign(min(vmax, math.sqrt(2.0 * amax * abs(d))), d)
            v = self.velocity + max(-amax * dt, min(amax * dt, v_des - self.velocity))
        step = v * dt
        if d == 0.0 or (step * d > 0 and abs(step) >= abs(d)):
            self.position, self.velocity = self.goal, 0.0
        else:
            self.position += step
            self.velocity = v
