"""Joint-limit checks for targets sent to the real arm (model frame, rad).

The firmware clamps to ranges wider than the mechanics allow (facts §3.5), so the host enforces
``HARDWARE_SAFE`` (the tightest limits of all sources, facts §7 item 10) before a target goes on the wire.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.description.limits import HARDWARE_SAFE, JointLimits
from roarm_lab.real.errors import JointLimitError


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
