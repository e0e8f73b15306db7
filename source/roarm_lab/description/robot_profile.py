"""The robot profile: one versioned YAML of identified drive values, each with its uncertainty.

A profile says how one physical arm differs from the nominal description (:mod:`.servo`): per joint the servo
stiffness (the position loop's kp, N*m/rad, before saturation), the damping (back-EMF slope, N*m*s/rad), the
armature (reflected rotor inertia, kg*m^2), the Coulomb friction (N*m) and the encoder zero offset (rad, model
frame: the encoder reads ``q_true + offset``), plus one command delay (s, from the host's write to the servo
starting to move: serial wire + firmware loop + servo bus). Optional, where a fit with the servo loads measured
them: per joint the mass scale of the link it moves (mass and inertia x scale, 1 = the description's) and a payload
at the TCP (kg; 0 = none); a file without them has the description's masses and no payload. ``sysid.py fit``
writes it; ``train.py --robot_profile`` (and play, record_sim_demos, export_onnx) build the simulation from it.

    schema_version: 1
    robot: roarm_m3_pro
    name: my-arm-2026-11-30
    joints:
      base: {stiffness: {value: 58.8, std: 2.1}, damping: {...}, armature: {...}, friction: {...},
             encoder_offset: {...}}
      ...
    command_delay_s: {value: 0.021, std: 0.002}
    payload_kg: {value: 0.012, std: 0.004}     # optional, like each joint's link_mass_scale
    provenance: {...}          # free-form: recordings, fit residuals, tool versions

Values the profile does not carry (geometry, link masses without a scale) stay the description's. The hash
(:func:`profile_hash`) covers the values, not the provenance, so re-saving a profile keeps its identity; the optional
fields are written (and hashed) only when they differ from the description's exact values, so a profile without
them keeps the hash it had before they existed.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.description.servo import DRIVES

SCHEMA_VERSION = 1
PROFILE_ROBOT = "roarm_m3_pro"  # == description.ROBOT_NAME (not imported: the package __init__ imports this module)
#: Per-joint fields, their units and the description's nominal value (:mod:`.servo`).
JOINT_FIELDS: dict[str, str] = {
    "stiffness": "N*m/rad", "damping": "N*m*s/rad", "armature": "kg*m^2", "friction": "N*m", "encoder_offset": "rad",
}
#: Optional per-joint fields (absent = the default, exact): the mass scale of the joint's child link (mass and
#: inertia; the link and everything on it that the description models as that body).
LINK_FIELDS: dict[str, str] = {"link_mass_scale": "x description"}
DEFAULT_LINK_MASS_SCALE = 1.0
#: The command delay of the nominal description: none (the tasks' own action latency randomization stays as is).
NOMINAL_COMMAND_DELAY_S = 0.0


# The dataclasses below are frozen and slotted: a profile is a value (its hash names it), and slots keep Isaac Lab's
# configclass from walking into it (it rewrites the attributes of every dataclass with a __dict__ it holds).


class RobotProfileError(ValueError):
    """A robot profile that cannot be used: wrong schema version or robot, a missing or invalid value."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A fitted value and its standard deviation (0 = exact, e.g. the nominal description)."""

    value: float
    std: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value) and math.isfinite(self.std) and self.std >= 0):
            raise RobotProfileError(f"an estimate needs a finite value and a finite std >= 0, got {self}")


@dataclass(frozen=True, slots=True)
class JointProfile:
    stiffness: Estimate
    damping: Estimate
    armature: Estimate
    friction: Estimate
    encoder_offset: Estimate
    link_mass_scale: Estimate = Estimate(DEFAULT_LINK_MASS_SCALE)

    def __post_init__(self) -> None:
        for name in ("stiffness", "damping", "armature", "friction"):
            if getattr(self, name).value < 0 or (name == "stiffness" and getattr(self, name).value == 0):
                raise RobotProfileError(f"{name} must be {'> 0' if name == 'stiffness' else '>= 0'}")
        if self.link_mass_scale.value <= 0:
            raise RobotProfileError("link_mass_scale must be > 0")


@dataclass(frozen=True, slots=True)
class RobotProfile:
    joints: dict[str, JointProfile]
    command_delay_s: Estimate
    name: str = "nominal"
    robot: str = PROFILE_ROBOT
    schema_version: int = SCHEMA_VERSION
    #: A payload at the TCP (kg), e.g. a tool or what the gripper holds while recording; optional.
    payload_kg: Estimate = Estimate(0.0)
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise RobotProfileError(f"robot profile schema version {self.schema_version} is not supported "
                                    f"(this roarm-lab reads version {SCHEMA_VERSION})")
        if self.robot != PROFILE_ROBOT:
            raise RobotProfileError(f"the profile is for robot {self.robot!r}, not {PROFILE_ROBOT!r}")
        if tuple(self.joints) != JOINT_NAMES:
            raise RobotProfileError(f"the profile needs the joints {', '.join(JOINT_NAMES)} in that order, "
                                    f"got {', '.join(self.joints) or 'none'}")
        if self.command_delay_s.value < 0:
            raise RobotProfileError("command_delay_s must be >= 0")
        if self.payload_kg.value < 0:
            raise RobotProfileError("payload_kg must be >= 0")

    # ------------------------------------------------------------------ views

    def values(self, field_name: str) -> tuple[float, ...]:
        """One per-joint field's values, JOINT_NAMES order."""
        return tuple(getattr(j, field_name).value for j in self.joints.values())

    def stds(self, field_name: str) -> tuple[float, ...]:
        return tuple(getattr(j, field_name).std for j in self.joints.values())

    @property
    def encoder_offsets(self) -> tuple[float, ...]:
        return self.values("encoder_offset")

    @property
    def hash(self) -> str:
        return profile_hash(self)

    @property
    def physics_hash(self) -> str:
        """The hash of what the simulation is built from: all but the encoder offsets, which the runner applies
        (a re-calibration, e.g. ``sysid.py touch``, changes :attr:`hash` but not this)."""
        return profile_hash(self, physics_only=True)

    def to_dict(self) -> dict[str, Any]:
        """The YAML document; the optional fields only where they differ from the description (exactly)."""
        est = lambda e: {"value": e.value, "std": e.std}  # noqa: E731
        joints = {}
        for j, p in self.joints.items():
            joints[j] = {f: est(getattr(p, f)) for f in JOINT_FIELDS}
            if p.link_mass_scale != Estimate(DEFAULT_LINK_MASS_SCALE):
                joints[j]["link_mass_scale"] = est(p.link_mass_scale)
        doc = {"schema_version": self.schema_version, "robot": self.robot, "name": self.name, "joints": joints,
               "command_delay_s": est(self.command_delay_s)}
        if self.payload_kg != Estimate(0.0):
            doc["payload_kg"] = est(self.payload_kg)
        doc["provenance"] = self.provenance
        return doc

    def with_name(self, name: str) -> RobotProfile:
        return replace(self, name=name)


def nominal_profile() -> RobotProfile:
    """The description's own drive values (:data:`.servo.DRIVES`), zero offsets and delay, exact."""
    joints = {d.joint: JointProfile(Estimate(d.stiffness), Estimate(d.damping), Estimate(d.armature),
                                    Estimate(d.friction), Estimate(0.0)) for d in DRIVES}
    return RobotProfile(joints=joints, command_delay_s=Estimate(NOMINAL_COMMAND_DELAY_S), name="nominal")


def _estimate(doc: Any, where: str) -> Estimate:
    if isinstance(doc, (int, float)) and not isinstance(doc, bool):
        return Estimate(float(doc))
    if not isinstance(doc, dict) or "value" not in doc:
        raise RobotProfileError(f"{where}: expected {{value: ..., std: ...}}, got {doc!r}")
    try:
        return Estimate(float(doc["value"]), float(doc.get("std", 0.0)))
    except (TypeError, ValueError) as e:
        raise RobotProfileError(f"{where}: {e}") from None


def _differences(got: dict, expected) -> str:
    """``: missing a, b; unexpected c`` for the keys of ``got`` against ``expected``."""
    missing = [k for k in expected if k not in got]
    unexpected = [str(k) for k in got if k not in expected]
    parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
        [f"unexpected {', '.join(unexpected)}"] if unexpected else [])
    return ": " + "; ".join(parts)


def profile_from_dict(doc: Any, source: str = "profile") -> RobotProfile:
    if not isinstance(doc, dict):
        raise RobotProfileError(f"{source}: not a robot profile (expected a mapping)")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RobotProfileError(f"{source}: robot profile schema version {version!r} is not supported "
                                f"(this roarm-lab reads version {SCHEMA_VERSION})")
    robot = doc.get("robot")
    if robot != PROFILE_ROBOT:
        raise RobotProfileError(f"{source}: the profile is for robot {robot!r}, not {PROFILE_ROBOT!r}")
    joints_doc = doc.get("joints")
    if not isinstance(joints_doc, dict):
        raise RobotProfileError(f"{source}: joints must map {', '.join(JOINT_NAMES)} to their values, "
                                f"got {joints_doc!r}")
    if set(joints_doc) != set(JOINT_NAMES):
        raise RobotProfileError(f"{source}: joints must be exactly {', '.join(JOINT_NAMES)}"
                                f"{_differences(joints_doc, JOINT_NAMES)}")
    joints = {}
    for j in JOINT_NAMES:
        jd = joints_doc[j]
        if not isinstance(jd, dict) or not set(JOINT_FIELDS) <= set(jd) <= set(JOINT_FIELDS) | set(LINK_FIELDS):
            got = (_differences({k: v for k, v in jd.items() if k not in LINK_FIELDS}, JOINT_FIELDS)
                   if isinstance(jd, dict) else f", got {jd!r}")
            raise RobotProfileError(f"{source}: joint {j} needs exactly {', '.join(JOINT_FIELDS)} (optionally "
                                    f"{', '.join(LINK_FIELDS)}){got}")
        try:
            joints[j] = JointProfile(**{f: _estimate(jd[f], f"{source}: {j}.{f}") for f in (*JOINT_FIELDS, *LINK_FIELDS)
                                        if f in jd})
        except RobotProfileError as e:
            raise RobotProfileError(f"{source}: joint {j}: {e}") from None
    if "command_delay_s" not in doc:
        raise RobotProfileError(f"{source}: command_delay_s is missing")
    provenance = doc.get("provenance") or {}
    if not isinstance(provenance, dict):
        raise RobotProfileError(f"{source}: provenance must be a mapping")
    payload = _estimate(doc["payload_kg"], f"{source}: payload_kg") if "payload_kg" in doc else Estimate(0.0)
    try:
        return RobotProfile(joints=joints, command_delay_s=_estimate(doc["command_delay_s"],
                                                                     f"{source}: command_delay_s"),
                            name=str(doc.get("name", Path(source).stem)), payload_kg=payload, provenance=provenance)
    except RobotProfileError as e:
        raise RobotProfileError(f"{source}: {e}") from None


def load_profile(path: str | Path) -> RobotProfile:
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise RobotProfileError(f"cannot read robot profile {path}: {e.strerror or e}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RobotProfileError(f"{path}: not valid YAML: {e}") from None
    return profile_from_dict(doc, str(path))


def save_profile(profile: RobotProfile, path: str | Path, *, force: bool = False) -> Path:
    """Write ``profile`` as YAML; an existing file is kept unless ``force`` (nothing is written then)."""
    import yaml

    path = Path(path)
    if path.exists() and not force:
        raise RobotProfileError(f"{path} exists: pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"# roarm-lab robot profile (schema {SCHEMA_VERSION}); hash {profile.hash}\n"
                   + yaml.safe_dump(profile.to_dict(), sort_keys=False))
    tmp.replace(path)
    return path


def profile_hash(profile: RobotProfile, physics_only: bool = False) -> str:
    """sha256 (first 16 hex digits) of the profile's values, schema and robot: what a policy was trained for.
    ``physics_only``: without the encoder offsets (see :attr:`RobotProfile.physics_hash`)."""
    doc = profile.to_dict()
    doc.pop("provenance")
    doc.pop("name")
    if physics_only:
        for joint in doc["joints"].values():
            joint.pop("encoder_offset")
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]
