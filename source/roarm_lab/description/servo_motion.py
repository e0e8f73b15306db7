"""How an ST3235 moves its goal: the trapezoidal speed profile the servo runs for a position command.

Units as the firmware writes them (hardware §2 "Servo speed/accel units"): goal in steps (4096 per turn), speed in
steps/s and acceleration in 100 steps/s^2, 0 meaning maximum for both. The top speed is the no-load speed
(hardware §3.6, ~3075 steps/s); with acc 0 the velocity changes without a ramp.

The kinematic emulator moves its servos along this profile exactly; the physics twin feeds it to each servo's
position loop as the moving set-point; system identification replays recorded commands through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from roarm_lab.description.firmware_units import ACC_UNIT_STEPS_PER_S2, RAD_PER_STEP
from roarm_lab.description.servo import NO_LOAD_SPEED_RAD_S

NOMINAL_MAX_SPEED_STEPS = NO_LOAD_SPEED_RAD_S / RAD_PER_STEP
MAX_SUBSTEP_S = 0.002


def speed_limit_steps(spd: int, max_speed: float = NOMINAL_MAX_SPEED_STEPS) -> float:
    """The profile's top speed (steps/s) for a commanded `spd` (0 = the servo's maximum)."""
    return min(spd, max_speed) if spd > 0 else max_speed


def accel_limit_steps(acc: int) -> float:
    """The profile's acceleration (steps/s^2) for a commanded `acc` (0 = no ramp)."""
    return acc * ACC_UNIT_STEPS_PER_S2 if acc > 0 else math.inf


@dataclass
class TrapezoidProfile:
    """Position (steps, continuous) and velocity (steps/s) of the profile; :meth:`advance` moves them toward a
    goal under a speed and an acceleration limit, stopping exactly on the goal."""

    position: float
    velocity: float = 0.0

    def at_rest_on(self, goal: float) -> bool:
        return self.velocity == 0.0 and self.position == goal

    def advance(self, dt: float, goal: float, vmax: float, amax: float) -> None:
        if dt <= 0 or self.at_rest_on(goal):
            return
        n = max(1, math.ceil(dt / MAX_SUBSTEP_S))
        for _ in range(n):
            self._substep(dt / n, goal, vmax, amax)
            if self.at_rest_on(goal):
                break

    def _substep(self, dt: float, goal: float, vmax: float, amax: float) -> None:
        d = goal - self.position
        if math.isinf(amax):
            v = math.copysign(min(vmax, abs(d) / dt), d)
        else:
            v_des = math.copysign(min(vmax, math.sqrt(2.0 * amax * abs(d))), d)
            v = self.velocity + max(-amax * dt, min(amax * dt, v_des - self.velocity))
        step = v * dt
        if d == 0.0 or (step * d > 0 and abs(step) >= abs(d)):
            self.position, self.velocity = goal, 0.0
        else:
            self.position += step
            self.velocity = v
