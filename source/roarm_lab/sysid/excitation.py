"""The excitation plan of ``sysid.py record``: what to command, tick by tick, so the recording shows the servos'
dynamics without leaving the safe ranges.

Around each of a few poses (all well inside ``HARDWARE_SAFE`` less the safety margin, the TCP well above the
table), in order:

1. a slow move to the pose (a straight joint-space line at ``approach`` speed, as play_real's start move);
2. per joint, a chirp: ``A sin(phase)`` with the frequency swept 0.3 -> 1.5 Hz, streamed with ``spd 0, acc 0`` as a
   policy does (peak 2.4 rad/s for the largest amplitude, under the safety layer's 0.1 rad per 30 Hz tick);
3. per joint of the first four, steps of +A, -A, 0 held for a while: once with ``spd 0, acc 0`` (the servo's own
   step response) and once with a set speed and acceleration (the servo's trapezoidal profile);
4. a whole-arm move to an offset pose and back, every joint at once, with a set speed and acceleration.

Chirps separate the delay (a phase growing with frequency) from the servo's lag; steps show stiffness, damping and
armature (rise, overshoot); the poses change the gravity load (stiffness against droop). The default lasts ~2
minutes (three poses); a shorter duration scales every segment down, below 40 s around one pose only, and the plan
is cut at ``duration_s``. Every target is checked here against the limits and the workspace box, and at run time
each one still goes through the :class:`~roarm_lab.driver.safety.SafetyLayer`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from roarm_lab.description.firmware_units import rad_per_s2_to_acc, rad_per_s_to_spd
from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.driver.safety import SafetyLayer

#: Poses the excitation happens around (model rad, JOINT_NAMES order); the first is used alone for short plans.
POSES: tuple[tuple[float, ...], ...] = (
    (0.0, 0.0, 1.4, 0.2, 0.0, 0.5),
    (0.7, 0.35, 1.1, 0.5, 0.5, 0.3),
    (-0.7, -0.3, 1.9, -0.3, -0.5, 0.8),
)
#: Chirp and step amplitude per joint, rad.
AMPLITUDE_RAD: tuple[float, ...] = (0.15, 0.12, 0.15, 0.2, 0.25, 0.2)
#: The whole-arm move's offset from the pose, rad (its sign alternates with the pose).
WHOLE_ARM_OFFSET_RAD: tuple[float, ...] = (0.3, 0.2, -0.3, 0.3, 0.3, 0.2)
CHIRP_HZ = (0.3, 1.5)
STEP_JOINTS = 4  # base, shoulder, elbow, wrist
STEP_TICK_RAD = 0.09  # a step's largest move per tick, under the safety layer's 0.1 rad
STEP_SPEED_RAD_S, STEP_ACCEL_RAD_S2 = 2.0, 8.0
WHOLE_ARM_SPEED_RAD_S, WHOLE_ARM_ACCEL_RAD_S2 = 1.5, 10.0
FULL_PLAN_S = 120.0
ONE_POSE_BELOW_S = 40.0


@dataclass(frozen=True)
class ExcitationPlan:
    """Per tick at ``rate_hz``: the joint target (n, 6, model rad), the T:102 ``spd`` and ``acc``, and what the
    tick belongs to."""

    rate_hz: float
    targets: np.ndarray
    spd: np.ndarray
    acc: np.ndarray
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def duration_s(self) -> float:
        return len(self) / self.rate_hz


class _Builder:
    def __init__(self, start: Sequence[float], rate_hz: float):
        self.rate_hz = rate_hz
        self.current = np.asarray(start, dtype=np.float64)
        self.targets: list[np.ndarray] = []
        self.spd: list[int] = []
        self.acc: list[int] = []
        self.labels: list[str] = []

    def ticks(self, seconds: float) -> int:
        return max(1, round(seconds * self.rate_hz))

    def add(self, target: np.ndarray, spd: int, acc: int, label: str) -> None:
        self.current = np.asarray(target, dtype=np.float64)
        self.targets.append(self.current)
        self.spd.append(spd)
        self.acc.append(acc)
        self.labels.append(label)

    def hold(self, seconds: float, label: str, spd: int = 0, acc: int = 0) -> None:
        for _ in range(self.ticks(seconds)):
            self.add(self.current, spd, acc, label)

    def line(self, goal: Sequence[float], speed_rad_s: float, label: str, spd: int = 0, acc: int = 0) -> None:
        """A straight joint-space line, the joint with the furthest to go at ``speed_rad_s``."""
        start, goal = self.current, np.asarray(goal, dtype=np.float64)
        n = max(1, math.ceil(float(np.max(np.abs(goal - start))) / (speed_rad_s / self.rate_hz)))
        spd = spd or rad_per_s_to_spd(1.5 * speed_rad_s)
        for k in range(1, n + 1):
            self.add(start + k / n * (goal - start), spd, acc, label)

    def chirp(self, pose: np.ndarray, joint: int, amplitude: float, seconds: float) -> None:
        f0, f1 = CHIRP_HZ
        n = self.ticks(seconds)
        t = np.arange(1, n + 1) / self.rate_hz
        phase = 2 * math.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds))  # linear sweep f0 -> f1
        for s in np.sin(phase) * np.minimum(1.0, np.minimum(t, seconds - t) / 0.3):  # 0.3 s fade in and out
            target = pose.copy()
            target[joint] += amplitude * s
            self.add(target, 0, 0, f"chirp:{JOINT_NAMES[joint]}")
        self.add(pose, 0, 0, f"chirp:{JOINT_NAMES[joint]}")

    def steps(self, pose: np.ndarray, joint: int, amplitude: float, hold_s: float, spd: int, acc: int) -> None:
        label = f"step:{JOINT_NAMES[joint]}" + (":profile" if spd else "")
        for level in (amplitude, -amplitude, 0.0):
            target = pose.copy()
            target[joint] += level
            # a step larger than the safety layer's per-tick bound would be cut into ticks anyway: cut it here
            start = self.current
            n = max(1, math.ceil(float(np.max(np.abs(target - start))) / STEP_TICK_RAD))
            for k in range(1, n + 1):
                self.add(start + k / n * (target - start), spd, acc, label)
            self.hold(hold_s, label, spd, acc)

    def plan(self) -> ExcitationPlan:
        return ExcitationPlan(self.rate_hz, np.array(self.targets), np.array(self.spd, dtype=np.int64),
                              np.array(self.acc, dtype=np.int64), tuple(self.labels))


def excitation_plan(start: Sequence[float], duration_s: float = FULL_PLAN_S, rate_hz: float = 30.0,
                    approach_speed_rad_s: float = 0.5, safety: SafetyLayer | None = None) -> ExcitationPlan:
    """The plan from the arm's pose ``start``, cut at ``duration_s``; ValueError when a target would break the
    limits (less the margin) or leave the workspace box (a bug in the poses, or a tightened workspace)."""
    if not duration_s > 0:
        raise ValueError(f"the duration must be > 0 s, got {duration_s}")
    safety = safety or SafetyLayer()
    poses = POSES if duration_s >= ONE_POSE_BELOW_S else POSES[:1]
    start = safety.hold_target(start)  # a start on a limit (the gripper closed at 0) begins inside the margin
    b = _Builder(start, rate_hz)
    per_pose = duration_s / len(poses)
    step_spd, step_acc = rad_per_s_to_spd(STEP_SPEED_RAD_S), rad_per_s2_to_acc(STEP_ACCEL_RAD_S2)
    arm_spd, arm_acc = rad_per_s_to_spd(WHOLE_ARM_SPEED_RAD_S * 1.5), rad_per_s2_to_acc(WHOLE_ARM_ACCEL_RAD_S2)
    for i, pose_values in enumerate(poses):
        pose = np.asarray(pose_values, dtype=np.float64)
        b.line(pose, approach_speed_rad_s, "move")
        b.hold(0.3, "move")
        chirp_s = max(0.5, 0.5 * per_pose / len(JOINT_NAMES))
        for j in range(len(JOINT_NAMES)):
            b.chirp(pose, j, AMPLITUDE_RAD[j], chirp_s)
        hold_s = max(0.2, 0.3 * per_pose / (STEP_JOINTS * 3 * 2))
        for j in range(STEP_JOINTS):
            b.steps(pose, j, AMPLITUDE_RAD[j], hold_s, 0, 0)
            b.steps(pose, j, AMPLITUDE_RAD[j], hold_s, step_spd, step_acc)
        sign = 1.0 if i % 2 == 0 else -1.0
        b.line(pose + sign * np.asarray(WHOLE_ARM_OFFSET_RAD), WHOLE_ARM_SPEED_RAD_S, "whole_arm", arm_spd, arm_acc)
        b.hold(0.5, "whole_arm", arm_spd, arm_acc)
        b.line(pose, WHOLE_ARM_SPEED_RAD_S, "whole_arm", arm_spd, arm_acc)
        b.hold(0.5, "whole_arm", arm_spd, arm_acc)
    plan = b.plan()
    n = max(1, round(duration_s * rate_hz))
    plan = ExcitationPlan(rate_hz, plan.targets[:n], plan.spd[:n], plan.acc[:n], plan.labels[:n])
    check_plan(plan, start, safety)
    return plan


def check_plan(plan: ExcitationPlan, start: Sequence[float], safety: SafetyLayer) -> None:
    """ValueError unless every target is inside the limits less the margin, the TCP in the workspace box, and no
    tick moves a joint more than the safety layer's per-step bound (the plan then passes the layer unchanged)."""
    outside = [k for k, q in enumerate(plan.targets) if not safety.within_limits(q)]
    if outside:
        raise ValueError(f"excitation target {outside[0]} {np.round(plan.targets[outside[0]], 3).tolist()} is "
                         f"outside the limits less the {safety.config.margin_rad} rad margin")
    inside = safety.tcp_in_workspace(plan.targets)
    if not inside.all():
        k = int(np.argmin(inside))
        raise ValueError(f"excitation target {k} {np.round(plan.targets[k], 3).tolist()} puts the TCP outside the "
                         f"workspace box")
    steps = np.abs(np.diff(np.vstack([np.asarray(start, dtype=np.float64), plan.targets]), axis=0))
    if steps[1:].max(initial=0.0) > safety.config.max_step_rad + 1e-9:
        k = int(np.argmax(steps[1:].max(axis=1))) + 1
        raise ValueError(f"excitation tick {k} moves a joint {steps[k].max():.3f} rad, more than the safety layer's "
                         f"{safety.config.max_step_rad} rad per step")
