"""``sysid.py touch``: identify the encoder zero offsets that move the tool vertically by touching the table.

The servos close their loops on their own encoders, which read ``q_true + offset``: a commanded pose reads back as
commanded whatever the offset, so joint data alone cannot identify it (docs/sysid.md). The table the arm stands on is
an outside reference every user has: world z = 0 is its top (tasks/scene.py). For a set of touch points (reach
radius, azimuth, tool pitch) the probe moves to a hover pose above the table, descends slowly along a vertical line
(IK at a fixed pitch, one `T:102` per 30 Hz tick, every target through the :class:`SafetyLayer`) until the measured
tool stops following the commanded descent (or a load changes), eases the press off to a light touch, keeps the
measured joints, and backs up. At every contact the lowest point of the gripper's collision shapes
(:func:`lowest_z`, description/geometry.py on the kinematic link frames) is on the table:
``lowest_z(q_measured - offset) = 0``; :func:`fit_offsets` solves that for the shoulder, elbow and wrist offsets
by least squares.

Not observable this way: the base (a vertical axis: turning it never changes a height), the roll (with the tool
pointing down it spins the gripper about itself; tilted, its effect is a fraction of a millimetre, second to the
jaw's cross-section) and the gripper (identified from its closed-jaw stop by ``sysid.py fit``). Their offsets are
taken from the input profile.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from roarm_lab import kinematics
from roarm_lab.description.firmware_units import RAD_PER_STEP
from roarm_lab.description.geometry import GEOMETRY
from roarm_lab.description.kinematic_chain import JOINT_NAMES, LINK_NAMES
from roarm_lab.description.robot_profile import Estimate, RobotProfile
from roarm_lab.driver.errors import RealArmError
from roarm_lab.driver.protocol.commands import MoveJoints
from roarm_lab.driver.safety import SafetyConfig, SafetyLayer, WorkspaceBox
from roarm_lab.driver.session import ArmSession
from roarm_lab.driver.transports.latest_frame import StampedFeedback
from roarm_lab.spatial import rpy_matrix
from roarm_lab.sysid.recording import RecordRefused, check_ready

#: The joints whose offsets move the tool vertically (identified here), JOINT_NAMES indices.
FITTED_JOINTS: tuple[str, ...] = ("shoulder", "elbow", "wrist")
FITTED_INDEX = tuple(JOINT_NAMES.index(j) for j in FITTED_JOINTS)
NOT_OBSERVABLE: dict[str, str] = {
    "base": "a vertical axis: turning it never changes a height",
    "roll": "with the tool pointing down it spins the gripper about itself (tilted, a fraction of a mm)",
    "gripper": "its own closed-jaw stop (sysid.py fit)",
}
#: Links whose collision shapes can touch the table (the base and the turret stand on it).
_TOUCH_LINKS = LINK_NAMES[2:]  # link2 .. gripper_link


def _shape_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per collision shape of the touching links: its link index (child_link_frames order: link1.., gripper_link),
    its centre and rotation in the link frame, and its half extents along its local axes (box: x, y, z; cylinder:
    radius, radius, half length; sphere: radius x 3 with a flag so the rotation does not matter)."""
    link_index, centre, rot, half = [], [], [], []
    for name in _TOUCH_LINKS:
        for s in GEOMETRY[name].collisions:
            link_index.append(LINK_NAMES.index(name) - 1)
            centre.append(s.pos)
            rot.append(rpy_matrix(s.rpy))
            if s.kind == "box":
                half.append((s.size[0] / 2, s.size[1] / 2, s.size[2] / 2, 0.0))
            elif s.kind == "cylinder":
                half.append((s.size[0], s.size[0], s.size[1] / 2, 1.0))
            else:
                half.append((s.size[0], s.size[0], s.size[0], 2.0))
    return np.array(link_index), np.array(centre, float), np.array(rot, float), np.array(half, float)


_LINK, _CENTRE, _ROT, _HALF = _shape_table()


def shape_bottoms(q) -> np.ndarray:
    """The world z (..., n_shapes) of the lowest point of each collision shape of link2..gripper_link for the six
    model joints ``q`` (..., 6)."""
    frames = kinematics.child_link_frames(np.asarray(q, dtype=np.float64))[..., _LINK, :, :]
    r_link, p_link = frames[..., :3, :3], frames[..., :3, 3]
    centre_z = np.einsum("...j,...j->...", r_link[..., 2, :], _CENTRE) + p_link[..., 2]
    # the world-z row of each shape's rotation: how its local axes tilt against the vertical
    up = np.einsum("...j,...jk->...k", r_link[..., 2, :], _ROT)
    box = np.sum(np.abs(up) * _HALF[:, :3], axis=-1)
    az = np.clip(np.abs(up[..., 2]), 0.0, 1.0)
    cyl = az * _HALF[:, 2] + np.sqrt(1.0 - az**2) * _HALF[:, 0]
    sphere = np.broadcast_to(_HALF[:, 0], box.shape)
    kind = _HALF[:, 3]
    return centre_z - np.where(kind == 0.0, box, np.where(kind == 1.0, cyl, sphere))


def lowest_z(q) -> np.ndarray:
    """World z (...,) of the lowest point of the arm's collision shapes that can touch the table (link2 to the jaws)
    for the six model joints ``q`` (..., 6): 0 when the arm touches the table top."""
    return shape_bottoms(q).min(axis=-1)


# ---------------------------------------------------------------------------------------------------- the points


@dataclass(frozen=True)
class TouchPoint:
    """Where to touch: the TCP's reach radius and azimuth (m, rad, world frame) and the tool pitch (rad, the firmware's
    `tit` convention: 0 horizontal, + pointing down, above pi/2 pointing down and back towards the base)."""

    radius_m: float
    azimuth_rad: float
    pitch_rad: float

    def describe(self) -> str:
        x, y = self.radius_m * math.cos(self.azimuth_rad), self.radius_m * math.sin(self.azimuth_rad)
        return (f"r {self.radius_m * 1000:.0f} mm, azimuth {math.degrees(self.azimuth_rad):+.0f} deg "
                f"(x {x * 1000:.0f}, y {y * 1000:+.0f} mm), pitch {math.degrees(self.pitch_rad):.0f} deg")


def _pt(r: float, az_deg: float, pitch_deg: float) -> TouchPoint:
    return TouchPoint(r, math.radians(az_deg), math.radians(pitch_deg))


#: Chosen greedily for the determinant of J^T J (D-optimal) among reachable (radius, pitch) pairs: any first N >= 5
#: of them make a well-conditioned 3x3 problem (condition ~15). Far reach at a shallow pitch separates the shoulder;
#: the tool pointing down and back (pitch > 90 deg) near the base turns the wrist's effect around. Azimuths keep
#: clear of the +y quarter (where the tests' cube stands) and every point lies on a 0.7 x 0.9 m table.
DEFAULT_POINTS: tuple[TouchPoint, ...] = (
    _pt(0.38, -25, 30), _pt(0.20, -10, 110), _pt(0.38, 0, 70), _pt(0.14, 20, 85),
    _pt(0.28, 10, 45), _pt(0.38, -15, 75), _pt(0.14, -30, 110), _pt(0.34, -35, 35),
)


def pose_at_height(point: TouchPoint, height_m: float, gripper: float, q_ref: Sequence[float] | None = None
                   ) -> np.ndarray | None:
    """The six joints that put the lowest point of the tool ``height_m`` above the table (nominal frame) at ``point``,
    roll 0, the gripper at ``gripper``; None when out of reach or of HARDWARE_SAFE."""
    xy = np.array([point.radius_m * math.cos(point.azimuth_rad), point.radius_m * math.sin(point.azimuth_rad)])
    ref = None if q_ref is None else np.asarray(q_ref, dtype=np.float64)[:5]
    tcp = np.array([*xy, height_m + 0.01])
    q = None
    for _ in range(2):  # at a fixed pitch and azimuth the tool is rigid: lowest point - TCP height is a constant
        res = kinematics.inverse_kinematics(tcp, pitch=point.pitch_rad, roll=0.0, q_ref=ref)
        if not bool(res.converged):
            return None
        q = np.append(res.q, gripper)
        tcp[2] += height_m - float(lowest_z(q))
    res = kinematics.inverse_kinematics(tcp, pitch=point.pitch_rad, roll=0.0, q_ref=ref)
    if not bool(res.converged):
        return None
    q = np.append(res.q, gripper)
    return q if abs(float(lowest_z(q)) - height_m) < 1e-6 else None


# ---------------------------------------------------------------------------------------------------- the fit


class TouchFitError(ValueError):
    """Too few touches, or touches that do not separate the three offsets (an ill-conditioned problem)."""


@dataclass(frozen=True)
class TouchFit:
    offsets: dict[str, float]  # rad, FITTED_JOINTS
    stds: dict[str, float]
    condition: float  # of the contact-height Jacobian (n x 3, m/rad)
    residuals_m: tuple[float, ...]  # lowest_z at each contact with the fitted offsets
    touches: int  # used in the fit
    dropped: int = 0  # contacts left out as not fitting the others

    @property
    def rms_m(self) -> float:
        return float(np.sqrt(np.mean(np.square(self.residuals_m))))

    def summary(self) -> str:
        parts = [f"{j} {self.offsets[j]:+.4f} +- {self.stds[j]:.4f} rad ({self.offsets[j] / RAD_PER_STEP:+.1f} "
                 f"steps)" for j in FITTED_JOINTS]
        left = f", {self.dropped} left out as not fitting the others" if self.dropped else ""
        return (f"[sysid] touch fit over {self.touches} contacts (condition {self.condition:.1f}, residual RMS "
                f"{self.rms_m * 1000:.2f} mm{left}): " + "; ".join(parts))

    def as_dict(self) -> dict[str, Any]:
        return {"offsets_rad": self.offsets, "std_rad": self.stds, "condition": self.condition,
                "residual_rms_mm": self.rms_m * 1000, "touches": self.touches, "dropped": self.dropped}


def _heights(q_contacts: np.ndarray, theta: np.ndarray) -> np.ndarray:
    q = q_contacts.copy()
    q[:, FITTED_INDEX] -= theta
    return lowest_z(q)


def height_jacobian(q_contacts, theta=None, eps: float = 1e-6) -> np.ndarray:
    """d lowest_z(q - offset) / d offset for the shoulder, elbow and wrist, one row per contact (n x 3, m/rad)."""
    q = np.atleast_2d(np.asarray(q_contacts, dtype=np.float64))
    theta = np.zeros(3) if theta is None else np.asarray(theta, dtype=np.float64)
    cols = []
    for i in range(3):
        d = np.zeros(3)
        d[i] = eps
        cols.append((_heights(q, theta + d) - _heights(q, theta - d)) / (2 * eps))
    return np.stack(cols, axis=-1)


def _solve(q: np.ndarray) -> np.ndarray:
    theta = np.zeros(3)
    for _ in range(20):  # Gauss-Newton; lowest_z is smooth within one lowest corner, which rarely changes here
        step = np.linalg.lstsq(height_jacobian(q, theta), -_heights(q, theta), rcond=None)[0]
        theta = theta + step
        if np.abs(step).max() < 1e-9:
            break
    return theta


def fit_offsets(q_contacts, *, min_touches: int = 5, max_condition: float = 60.0,
                height_resolution_m: float = 1.5e-4, outlier_m: float = 5e-4) -> TouchFit:
    """Least squares for the shoulder, elbow and wrist offsets with ``lowest_z(q - offset) = 0`` at every contact.
    ``q_contacts`` (n x 6) are the measured joints less the offsets already known (base, roll, gripper).
    The std: ``s^2 (J^T J)^-1`` with ``s`` the residual std (n - 3 dof), at least ``height_resolution_m`` (a servo
    step at the reach, quantization)."""
    q = np.atleast_2d(np.asarray(q_contacts, dtype=np.float64))
    n = len(q)
    if n < min_touches:
        raise TouchFitError(f"{n} contacts: at least {min_touches} are needed to fit the shoulder, elbow and wrist "
                            "offsets with a check on the residuals")
    condition = float(np.linalg.cond(height_jacobian(q)))
    if not condition <= max_condition:
        raise TouchFitError(f"the touches do not separate the shoulder, elbow and wrist offsets: the problem's "
                            f"condition number is {condition:.3g} (at most {max_condition:g}); touch at more "
                            "different reach radii and tool pitches")
    theta = _solve(q)
    r = _heights(q, theta)
    dropped = 0
    # a contact that does not fit the others (the tool off the table when read, a snag) is left out, one at a time,
    # while enough remain and the problem stays well conditioned
    while np.sqrt(np.mean(r**2)) > outlier_m and len(q) > min_touches:
        keep = np.arange(len(q)) != int(np.argmax(np.abs(r)))
        if not np.linalg.cond(height_jacobian(q[keep])) <= max_condition:
            break
        q, dropped = q[keep], dropped + 1
        theta = _solve(q)
        r = _heights(q, theta)
    n = len(q)
    jac = height_jacobian(q, theta)
    dof = n - 3
    s2 = max(float(r @ r) / dof if dof > 0 else 0.0, height_resolution_m**2)
    std = np.sqrt(np.diag(s2 * np.linalg.inv(jac.T @ jac)))
    return TouchFit({j: float(t) for j, t in zip(FITTED_JOINTS, theta, strict=True)},
                    {j: float(s) for j, s in zip(FITTED_JOINTS, std, strict=True)},
                    float(np.linalg.cond(jac)), tuple(float(x) for x in r), n, dropped)


def fit_contact_offsets(q_contacts: Sequence[Sequence[float]], base: RobotProfile) -> TouchFit:
    """:func:`fit_offsets` on measured contact joints (model rad) of an arm whose base, roll and gripper offsets
    (not observable by touching) are ``base``'s."""
    known = np.array(base.encoder_offsets, dtype=np.float64)
    known[list(FITTED_INDEX)] = 0.0
    return fit_offsets([np.subtract(q, known) for q in q_contacts])


def profile_with_offsets(profile: RobotProfile, result: TouchFit, name: str,
                         provenance: dict[str, Any] | None = None) -> RobotProfile:
    """A copy of ``profile`` with the fitted offsets and their std, named ``name``, its provenance extended by a
    ``touch`` entry."""
    joints = dict(profile.joints)
    for j in FITTED_JOINTS:
        joints[j] = replace(joints[j], encoder_offset=Estimate(result.offsets[j], result.stds[j]))
    prov = dict(profile.provenance)
    prov["touch"] = {"method": "sysid.py touch: lowest_z(q_measured - offset) = 0 at table contacts",
                     **result.as_dict(), "not_observable": dict(NOT_OBSERVABLE), **(provenance or {})}
    return replace(profile, joints=joints, name=name, provenance=prov)


# ---------------------------------------------------------------------------------------------------- the probe


@dataclass(frozen=True)
class TouchConfig:
    rate_hz: float = 30.0
    #: Height (m, nominal frame) of the lowest point of the tool at the approach pose of each point. The truth may be
    #: ~15 mm off (0.03 rad at 0.4 m), so the fast part of the descent stops at ``slow_height_m``.
    approach_height_m: float = 0.04
    slow_height_m: float = 0.02
    fast_step_m: float = 0.0015  # per tick: 45 mm/s
    slow_step_m: float = 0.0003  # per tick: 9 mm/s
    #: Never command the tool further below the nominal table than this: no contact by then means no table there.
    max_depth_m: float = 0.025
    #: Contact: the measured tool sits ``min_gap_m`` further above the command than it did at any point of the slow
    #: descent (in free air it follows at a steady lag) and over the last ``stall_window`` ticks it came down less
    #: than ``stall_fraction`` of the commanded descent (a servo step is ~0.5 mm at the reach, so one window alone
    #: would mistake a servo's deadband for the table) ...
    stall_window: int = 10
    stall_fraction: float = 0.3
    min_gap_m: float = 0.0015
    #: ... or (caps: never push hard) that gap passes ``max_gap_m``, or a shoulder/elbow/wrist load changed by
    #: ``max_load_change`` permille since the approach.
    max_gap_m: float = 0.004
    max_load_change: float = 300.0
    #: The light touch the joints are read at: the command eased back up to the contact height less the free-air lag
    #: of the slow descent (``min`` of measured - commanded), then ``ease_m`` higher. The servos then hold the arm
    #: much as in free air (their backlash on the side it is on when a policy runs) and the tool barely presses:
    #: on the nominal twin the offsets came out within 0.7 / 2.9 / 1.3 mrad (shoulder / elbow / wrist) against
    #: 2.5 / 6.3 / 1.9 left pressing where the contact was detected; on drawn truths with backlash the elbow stays
    #: the weakest (1-15 mrad off).
    ease_m: float = 0.0
    #: Eased, a tool that measures this much above where it touched has left the table: it is read pressing instead.
    #: (0.5 mm of ``ease_m`` lifted it on a twin truth with 11 mrad of shoulder backlash.)
    lift_tolerance_m: float = 0.0003
    settle_s: float = 0.4
    average_readings: int = 5
    move_speed_rad_s: float = 0.5  # joint moves between points
    move_settle_timeout_s: float = 4.0
    travel_clearance_m: float = 0.015  # a move's path may not bring the tool nearer the nominal table
    travel_height_m: float = 0.10  # moves that would come nearer go up to this height first
    min_touches: int = 5
    max_condition: float = 60.0


DEFAULT_TOUCH = TouchConfig()


class TouchRefused(RealArmError):
    """The arm is not fit for probing (moving, outside the limits, dead bus) or a point cannot be reached; nothing
    was sent."""


class TouchFault(RealArmError):
    """Something went wrong while probing (no contact where the table should be, a move that does not settle)."""


class StopFlag(Protocol):
    requested: bool


@dataclass
class _NoStop:
    requested: bool = False


class _Stopped(Exception):
    pass


@dataclass(frozen=True)
class Contact:
    point: TouchPoint
    q_measured: tuple[float, ...]  # model rad, the mean of the readings while touching lightly
    reason: str  # what detected the contact: stall, gap, load
    nominal_height_m: float  # lowest_z(q_measured): where the nominal model puts the tool (the table is at 0)

    def as_dict(self) -> dict[str, Any]:
        p = self.point
        return {"radius_m": p.radius_m, "azimuth_rad": p.azimuth_rad, "pitch_rad": p.pitch_rad,
                "q_measured": list(self.q_measured), "reason": self.reason, "nominal_height_m": self.nominal_height_m}


@dataclass
class TouchResult:
    outcome: str  # "completed", "stopped", "fault: ..."
    contacts: list[Contact] = field(default_factory=list)
    hold: str = "not needed"
    clamps: dict[str, int] = field(default_factory=dict)
    commands: list[tuple[float, ...]] = field(default_factory=list)  # every T:102 target sent

    @property
    def ok(self) -> bool:
        return not self.outcome.startswith("fault")


def probe_safety() -> SafetyLayer:
    """The driver's safety layer with the workspace floor lowered to the table less ``max_depth``: the TCP has to
    come down to the table here (the default box keeps it 3 cm above). The probe itself bounds how far below the
    table the tool is ever commanded (:attr:`TouchConfig.max_depth_m`)."""
    box = WorkspaceBox()
    lower = (box.lower[0], box.lower[1], -DEFAULT_TOUCH.max_depth_m)
    return SafetyLayer(SafetyConfig(workspace=WorkspaceBox(lower, box.upper)))


class _Ticks:
    """The 30 Hz loop: each tick takes the newest reading no earlier tick used, passes the target through the
    safety layer and writes it as a `T:102` (spd 0, acc 0: the servo's own fastest profile, as a policy streams)."""

    def __init__(self, arm: ArmSession, safety: SafetyLayer, start: StampedFeedback, rate_hz: float, stop: StopFlag,
                 commands: list, clock: Callable[[], float]):
        self.arm, self.safety, self.latest, self.stop, self.commands = arm, safety, start, stop, commands
        self.period, self.clock = 1.0 / rate_hz, clock
        self.t0, self.k = clock(), 0

    def __call__(self, target: Sequence[float]) -> StampedFeedback:
        due = self.t0 + self.k * self.period
        now = self.clock()
        if now < due:
            time.sleep(due - now)
        elif now - due > 3 * self.period:
            self.t0, self.k = now, 0  # a late machine: carry on from now rather than rush to catch up
        self.k += 1
        if self.stop.requested:
            raise _Stopped
        self.latest = self.arm.read_after(self.latest.seq)
        safe = self.safety.apply(target, self.latest.feedback.q_model)
        self.arm.send(MoveJoints(safe.target, spd=0, acc=0))
        self.commands.append(safe.target)
        return self.latest


def _path_clear(a: np.ndarray, b: np.ndarray, clearance: float) -> bool:
    s = np.linspace(0.0, 1.0, 41)[:, None]
    return bool(lowest_z(a + s * (b - a)).min() >= clearance)


def _travel_pose(point: TouchPoint, gripper: float, q_ref: np.ndarray, config: TouchConfig) -> np.ndarray:
    """The pose over ``point`` at the highest of travel height, 2/3 and 1/3 of it (or the approach) it reaches."""
    for f in (1.0, 2 / 3, 1 / 3):
        h = max(config.approach_height_m, f * config.travel_height_m)
        q = pose_at_height(point, h, gripper, q_ref)
        if q is not None:
            return q
    return q_ref


def plan_points(points: Sequence[TouchPoint], start: Sequence[float], config: TouchConfig = DEFAULT_TOUCH
                ) -> list[list[np.ndarray]]:
    """Per point the joint poses to move through, the last its approach pose: straight there when the joint-space
    line keeps the tool ``travel_clearance_m`` above the nominal table, else up to ``travel_height_m`` over the
    previous point, across at that height and down. TouchRefused for a point out of reach, outside the safety
    layer's limits and workspace, or with no clear path, before anything moves."""
    safety = probe_safety()
    q_prev = np.asarray(start, dtype=np.float64)
    gripper = float(np.clip(q_prev[5], safety.config.lower[5], safety.config.upper[5]))
    plans: list[list[np.ndarray]] = []
    prev_point: TouchPoint | None = None
    for p in points:
        q = pose_at_height(p, config.approach_height_m, gripper, q_prev)
        low = None if q is None else pose_at_height(p, -config.max_depth_m, gripper, q)
        high = None if q is None else _travel_pose(p, gripper, q, config)
        if q is None or low is None:
            raise TouchRefused(f"touch point {p.describe()} is out of reach inside HARDWARE_SAFE")
        for pose in (q, low, high):
            if not (safety.within_limits(pose) and bool(safety.tcp_in_workspace(pose))):
                raise TouchRefused(f"touch point {p.describe()} leaves the safety limits or the workspace")
        clearance = config.travel_clearance_m
        if prev_point is None or _path_clear(q_prev, q, clearance):
            path = [q]  # the first move starts wherever the arm rests (it has been told to keep the table clear)
        else:
            path = [_travel_pose(prev_point, gripper, q_prev, config), high, q]
            legs = zip([q_prev, *path[:-1]], path, strict=True)
            if not all(_path_clear(a, b, clearance) for a, b in legs):
                raise TouchRefused(f"the move to touch point {p.describe()} would bring the tool within "
                                   f"{clearance * 1000:.0f} mm of the table")
        plans.append(path)
        q_prev, prev_point = q, p
    return plans


def probe(arm: ArmSession, points: Sequence[TouchPoint] = DEFAULT_POINTS, config: TouchConfig = DEFAULT_TOUCH, *,
          stop: StopFlag | None = None, echo: Callable[[str], None] = print,
          clock: Callable[[], float] = time.monotonic) -> TouchResult:
    """Touch the table at each of ``points`` and return the contacts. Raises :class:`TouchRefused` before moving
    (the arm not at rest, outside HARDWARE_SAFE, a dead bus, a point out of reach); afterwards every outcome is a
    :class:`TouchResult`: a stop request (Ctrl+C) or a fault holds the arm (`T:102` to the measured pose at the hold
    speed, never `T:0`). On completion the arm goes back to where it started."""
    stop = stop or _NoStop()
    try:
        start = check_ready(arm)
    except RecordRefused as e:
        raise TouchRefused(str(e)) from None
    q0 = np.asarray(start.feedback.q_model, dtype=np.float64)
    plans = plan_points(points, q0, config)
    safety = probe_safety()
    safety.reset(q0)
    result = TouchResult("completed")
    ticks = _Ticks(arm, safety, start, config.rate_hz, stop, result.commands, clock)
    echo(f"[sysid] touch: {len(points)} points, descending from {config.approach_height_m * 1000:.0f} mm; keep the "
         "table under them clear; Ctrl+C holds the arm")
    try:
        for i, (p, path) in enumerate(zip(points, plans, strict=True)):
            for q in path:
                _move(ticks, q, config)
            q_app = path[-1]
            contact = _touch(ticks, p, q_app, config)
            result.contacts.append(contact)
            echo(f"[sysid] touch {i + 1}/{len(points)} at {p.describe()}: contact ({contact.reason}), the nominal "
                 f"model puts the tool at {contact.nominal_height_m * 1000:+.1f} mm")
            _move_vertical(ticks, p, q_app, contact.nominal_height_m, config.approach_height_m, config.fast_step_m)
        _move(ticks, safety.hold_target(q0), config)
    except (_Stopped, KeyboardInterrupt):
        result.outcome = "stopped"
    except RealArmError as e:
        result.outcome = f"fault: {type(e).__name__}: {e}"
    if result.outcome != "completed":
        newest = arm.newest or ticks.latest
        result.hold = arm.hold(safety.hold_target(newest.feedback.q_model))
        echo(f"[sysid] touch {result.outcome}; hold: {result.hold}")
    result.clamps = {k: v for k, v in safety.counts.items() if v}
    return result


def _move(ticks: _Ticks, goal: Sequence[float], config: TouchConfig) -> StampedFeedback:
    """A joint-space line to ``goal`` at the move speed, then ticks at the goal until the arm has stopped."""
    q_from = np.asarray(ticks.safety.previous, dtype=np.float64)
    goal = np.asarray(goal, dtype=np.float64)
    n = max(1, math.ceil(np.abs(goal - q_from).max() / (config.move_speed_rad_s / config.rate_hz)))
    for k in range(1, n + 1):
        ticks(q_from + (goal - q_from) * k / n)
    return _settle(ticks, goal, config)


def _settle(ticks: _Ticks, goal: Sequence[float], config: TouchConfig) -> StampedFeedback:
    window = max(3, config.stall_window)
    history: list[np.ndarray] = []
    deadline = ticks.clock() + config.move_settle_timeout_s
    while True:
        reading = ticks(goal)
        history.append(np.asarray(reading.feedback.q_model))
        if len(history) > window and np.abs(history[-1] - history[-1 - window]).max() <= 1.5 * RAD_PER_STEP:
            return reading
        if ticks.clock() > deadline:
            raise TouchFault(f"the arm did not settle within {config.move_settle_timeout_s:g} s of a move")


def _move_vertical(ticks: _Ticks, point: TouchPoint, q_ref: np.ndarray, h_from: float, h_to: float, step: float
                   ) -> None:
    n = max(1, math.ceil(abs(h_to - h_from) / step))
    for k in range(1, n + 1):
        q = pose_at_height(point, h_from + (h_to - h_from) * k / n, q_ref[5], q_ref)
        if q is None:
            raise TouchFault(f"no pose at {point.describe()} on the way up")
        ticks(q)


def _touch(ticks: _Ticks, point: TouchPoint, q_app: np.ndarray, config: TouchConfig) -> Contact:
    """Descend from the approach pose until contact, ease to a light touch, keep the mean measured joints."""
    reading = _settle(ticks, q_app, config)
    load0 = np.asarray(reading.feedback.loads, dtype=np.float64)[list(FITTED_INDEX)]
    gripper = float(q_app[5])
    h_cmd, gap0 = config.approach_height_m, None
    heights: list[float] = []
    reason = ""
    while not reason:
        step = config.fast_step_m if h_cmd > config.slow_height_m else config.slow_step_m
        h_cmd -= step
        if h_cmd < -config.max_depth_m:
            raise TouchFault(f"no contact at {point.describe()} down to {config.max_depth_m * 1000:.0f} mm below "
                             "the nominal table: is the table there, and the arm standing on it?")
        q_cmd = pose_at_height(point, h_cmd, gripper, q_app)
        if q_cmd is None:
            raise TouchFault(f"no pose at {point.describe()} at {h_cmd * 1000:.1f} mm")
        reading = ticks(q_cmd)
        h_meas = float(lowest_z(np.asarray(reading.feedback.q_model)))
        if step == config.fast_step_m:
            continue
        heights.append(h_meas)
        gap = h_meas - h_cmd
        gap0 = gap if gap0 is None else min(gap0, gap)
        load = np.asarray(reading.feedback.loads, dtype=np.float64)[list(FITTED_INDEX)]
        w = config.stall_window
        stalled = len(heights) > w and heights[-1 - w] - heights[-1] < config.stall_fraction * w * config.slow_step_m
        if stalled and gap - gap0 > config.min_gap_m:
            reason = "stall"
        elif gap - gap0 > config.max_gap_m:
            reason = "gap"
        elif np.abs(load - load0).max() > config.max_load_change:
            reason = "load"
    n_settle = max(config.average_readings, round(config.settle_s * config.rate_hz))

    def held_at(command: np.ndarray) -> np.ndarray:  # the mean of the last readings, the command held
        readings = [np.asarray(ticks(command).feedback.q_model) for _ in range(n_settle)]
        return np.mean(readings[-config.average_readings:], axis=0)

    # the light touch (TouchConfig.ease_m): the command eased back up to the contact less the free-air lag
    q_light = pose_at_height(point, h_meas - gap0 + config.ease_m, gripper, q_app)
    q = None if q_light is None else held_at(q_light)
    if q is not None and float(lowest_z(q)) - h_meas > config.lift_tolerance_m:  # eased off the table
        q, reason = None, reason + ", lifted when eased"
    if q is None:  # read it pressing, where the contact was detected
        q = held_at(q_cmd)
    return Contact(point, tuple(float(x) for x in q), reason, float(lowest_z(q)))
