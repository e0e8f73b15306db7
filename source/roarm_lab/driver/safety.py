"""Safety for everything that commands the arm: the ``HARDWARE_SAFE`` checks of single targets
(:func:`check_within_limits`, :func:`clamp_to_limits`, used by ``arm.py`` and the motion helpers) and the
:class:`SafetyLayer` that every policy's joint target passes through before a `T:102` (the runner, the LeRobot
follower).

The firmware clamps to ranges wider than the mechanics allow (hardware §3.5), so the host enforces ``HARDWARE_SAFE``
(the tightest limits of all sources, hardware §7 item 10) before a target goes on the wire.

The safety layer is pure functions of the proposed target, the measured joints and the previous command (model
frame, rad, JOINT_NAMES order); no I/O. The rules, in order, each named in :attr:`SafeCommand.clamps` when it
changed the target:

1. ``nonfinite_target`` - a NaN/inf target (a broken policy) is replaced by the previous command: the arm holds;
2. ``joint_limit:<joint>`` - ``HARDWARE_SAFE`` shrunk by a margin;
3. ``max_step:<joint>`` - at most ``max_step_rad`` from the previous command per control step, a speed bound:
   0.1 rad at 30 Hz = 3 rad/s, about 2/3 of the servo's no-load speed (hardware §3.6);
4. ``max_lead:<joint>`` - at most ``max_lead_rad`` from the measured joint, so commands cannot run away from a
   joint that does not follow (stuck, blocked, or a late reading: feedback is about one step old);
5. ``workspace`` - the TCP (forward kinematics of the target) must lie in a box above the table; a target
   outside is pulled back along the joint-space line from the previous command to the last point inside.

The joint limits win over the step and lead bounds: a command is always inside the limits less the margin, even
when the measured joint is outside them. The first previous command is the pose given to :meth:`SafetyLayer.reset`
(the measured pose when there was none).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from roarm_lab import kinematics
from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.description.limits import HARDWARE_SAFE, JointLimits
from roarm_lab.driver.errors import JointLimitError

NONFINITE = "nonfinite_target"
JOINT_LIMIT = "joint_limit"
MAX_STEP = "max_step"
MAX_LEAD = "max_lead"
WORKSPACE = "workspace"
CLAMP_KINDS = (NONFINITE, JOINT_LIMIT, MAX_STEP, MAX_LEAD, WORKSPACE)
#: Points checked on the joint-space line when a target leaves the workspace (max_step / 16 apart).
_LINE_POINTS = 17


@dataclass(frozen=True)
class WorkspaceBox:
    """Where the TCP may go: an axis-aligned box in the world frame (m; origin on the mounting surface under the
    base axis, z up). The default only binds at the bottom - 3 cm above the table - since the arm reaches at most
    ~0.56 m from the shoulder axis (hardware §3.4); tighten it to the free space of your set-up."""

    lower: tuple[float, float, float] = (-0.6, -0.6, 0.03)
    upper: tuple[float, float, float] = (0.6, 0.6, 0.7)

    def __post_init__(self) -> None:
        if len(self.lower) != 3 or len(self.upper) != 3 or not all(lo < hi for lo, hi in zip(self.lower, self.upper,
                                                                                            strict=True)):
            raise ValueError(f"a workspace box needs 3 lower values below 3 upper values, got {self.lower} "
                             f"and {self.upper}")

    def contains(self, points) -> np.ndarray:
        """Whether each point (..., 3) lies inside (bounds included)."""
        p = np.asarray(points, dtype=np.float64)
        return np.all((p >= self.lower) & (p <= self.upper), axis=-1)


@dataclass(frozen=True)
class SafetyConfig:
    limits: JointLimits = HARDWARE_SAFE
    margin_rad: float = 0.02  # kept from each limit
    max_step_rad: float = 0.1  # per joint and control step, from the previous command
    max_lead_rad: float = 0.3  # per joint, from the measured position: 3 steps, room for a reading 1-2 steps old
    workspace: WorkspaceBox = field(default_factory=WorkspaceBox)

    def __post_init__(self) -> None:
        if not self.max_step_rad > 0:
            raise ValueError(f"max_step_rad must be > 0, got {self.max_step_rad!r}")
        if not self.max_lead_rad >= self.max_step_rad:
            raise ValueError(f"max_lead_rad must be >= max_step_rad ({self.max_step_rad}), got {self.max_lead_rad!r}")
        narrowest = min(hi - lo for lo, hi in zip(self.limits.lower, self.limits.upper, strict=True))
        if not 0 <= self.margin_rad < narrowest / 2:
            raise ValueError(f"margin_rad must be in [0, {narrowest / 2:.3f}) rad, got {self.margin_rad!r}")

    @property
    def lower(self) -> np.ndarray:
        return np.asarray(self.limits.lower) + self.margin_rad

    @property
    def upper(self) -> np.ndarray:
        return np.asarray(self.limits.upper) - self.margin_rad


@dataclass(frozen=True)
class SafeCommand:
    """The joint target to send and the rules that changed it (``kind`` or ``kind:joint``)."""

    target: tuple[float, ...]
    clamps: tuple[str, ...] = ()

    @property
    def kinds(self) -> set[str]:
        return {c.split(":", 1)[0] for c in self.clamps}

    @property
    def is_hold(self) -> bool:
        """The policy's target was unusable and this repeats the previous command."""
        return NONFINITE in self.kinds


def _pose(name: str, q: Sequence[float]) -> np.ndarray:
    a = np.asarray(q, dtype=np.float64)
    if a.shape != (len(JOINT_NAMES),):
        raise ValueError(f"{name} must have {len(JOINT_NAMES)} joint values, got shape {a.shape}")
    return a


def _changed(before: np.ndarray, after: np.ndarray, kind: str) -> list[str]:
    return [f"{kind}:{n}" for n, a, b in zip(JOINT_NAMES, before, after, strict=True) if a != b]


class SafetyLayer:
    """Apply :class:`SafetyConfig` to policy targets; :attr:`counts` holds how many commands each kind changed."""

    def __init__(self, config: SafetyConfig | None = None):
        self.config = config or SafetyConfig()
        self.counts: Counter[str] = Counter(dict.fromkeys(CLAMP_KINDS, 0))
        self._lower, self._upper = self.config.lower, self.config.upper
        self.previous: np.ndarray | None = None  # the last command this layer let through

    def reset(self, pose: Sequence[float]) -> None:
        """Start from ``pose`` (the pose the arm was last commanded to or stands at), inside the limits."""
        self.previous = np.asarray(self.hold_target(pose))

    def hold_target(self, measured: Sequence[float]) -> tuple[float, ...]:
        """The measured pose, inside the limits less the margin."""
        return tuple(float(x) for x in np.clip(_pose("measured", measured), self._lower, self._upper))

    def within_limits(self, q: Sequence[float]) -> bool:
        a = _pose("q", q)
        return bool(np.all((a >= self._lower) & (a <= self._upper)))

    def tcp_in_workspace(self, q) -> np.ndarray:
        """Whether the TCP of each pose (..., 6) lies in the workspace box."""
        return self.config.workspace.contains(kinematics.tcp_position(np.asarray(q, dtype=np.float64)))

    def apply(self, proposed: Sequence[float], measured: Sequence[float]) -> SafeCommand:
        """The safe joint target for the policy's ``proposed`` one, given the ``measured`` joints."""
        q = _pose("measured", measured)
        target = np.asarray(proposed, dtype=np.float64)
        if target.shape != q.shape:
            raise ValueError(f"proposed must have {len(JOINT_NAMES)} joint values, got shape {target.shape}")
        if self.previous is None:
            self.reset(q)
        previous = self.previous
        if not np.all(np.isfinite(target)):
            return self._accept(previous, (NONFINITE,))
        limited = np.clip(target, self._lower, self._upper)
        clamps = _changed(target, limited, JOINT_LIMIT)
        step, lead = self.config.max_step_rad, self.config.max_lead_rad
        stepped = np.clip(limited, previous - step, previous + step)
        clamps += _changed(limited, stepped, MAX_STEP)
        led = np.clip(stepped, q - lead, q + lead)
        clamps += _changed(stepped, led, MAX_LEAD)
        led = np.clip(led, self._lower, self._upper)  # the limits win where the arm is outside them
        safe = self._pull_into_workspace(led, previous)
        if not np.array_equal(safe, led):
            clamps.append(WORKSPACE)
        return self._accept(safe, tuple(clamps))

    def _pull_into_workspace(self, target: np.ndarray, reference: np.ndarray) -> np.ndarray:
        if self.tcp_in_workspace(target):
            return target
        s = np.linspace(0.0, 1.0, _LINE_POINTS)[:, None]
        line = reference + s * (target - reference)
        inside = self.tcp_in_workspace(line)
        if not inside[0]:
            return reference  # the previous command is outside already (only a start outside can do that): stay
        return line[int(np.argmin(inside)) - 1]  # the last point before the line first leaves the box

    def _accept(self, target: np.ndarray, clamps: tuple[str, ...]) -> SafeCommand:
        self.previous = np.asarray(target, dtype=np.float64)
        command = SafeCommand(tuple(float(x) for x in target), clamps)
        self.counts.update(command.kinds)
        return command



def _as_pose(q: Sequence[float]) -> tuple[float, ...]:
    if len(q) != len(JOINT_NAMES):
        raise JointLimitError(f"a pose needs {len(JOINT_NAMES)} joint values ({', '.join(JOINT_NAMES)}), got {len(q)}")
    pose = tuple(float(x) for x in q)
    bad = [n for n, x in zip(JOINT_NAMES, pose, strict=True) if not math.isfinite(x)]
    if bad:
        raise JointLimitError(f"non-finite joint target for {', '.join(bad)}")
    return pose


def limit_violations(q: Sequence[float], limits: JointLimits = HARDWARE_SAFE) -> list[str]:
    """One readable line per joint of ``q`` outside ``limits`` (empty when all are inside)."""
    pose = _as_pose(q)
    out = []
    for name, x, lo, hi in zip(JOINT_NAMES, pose, limits.lower, limits.upper, strict=True):
        if not lo <= x <= hi:
            out.append(f"{name} {x:+.4f} rad ({math.degrees(x):+.1f} deg) outside [{lo:+.4f}, {hi:+.4f}] rad "
                       f"([{math.degrees(lo):+.1f}, {math.degrees(hi):+.1f}] deg)")
    return out


def check_within_limits(q: Sequence[float], limits: JointLimits = HARDWARE_SAFE) -> tuple[float, ...]:
    """``q`` as a tuple when every joint is inside ``limits``; otherwise :class:`JointLimitError` naming each one."""
    violations = limit_violations(q, limits)
    if violations:
        raise JointLimitError(f"target outside {limits.name}: " + "; ".join(violations))
    return _as_pose(q)


def clamp_to_limits(q: Sequence[float], limits: JointLimits = HARDWARE_SAFE) -> tuple[tuple[float, ...], list[str]]:
    """``q`` clamped into ``limits`` and the names of the joints that were clamped."""
    pose = _as_pose(q)
    clamped = tuple(min(max(x, lo), hi) for x, lo, hi in zip(pose, limits.lower, limits.upper, strict=True))
    names = [n for n, a, b in zip(JOINT_NAMES, pose, clamped, strict=True) if a != b]
    return clamped, names
