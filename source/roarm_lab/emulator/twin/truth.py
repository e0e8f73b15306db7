"""The twin's hidden truth: how the stand-in "real" arm differs from the nominal robot description.

Only the twin reads it. The host (runner, plugins, identification) sees bytes on the port, as with a real arm.

Per joint (JOINT_NAMES order): servo stiffness (the position loop's gain before saturation, N*m/rad), damping
(back-EMF slope, N*m*s/rad), armature (reflected rotor inertia, kg*m^2), Coulomb friction (N*m), backlash (total
play between the servo's encoder and the link, rad) and the encoder zero offset (the encoder reads
``q_link + offset``, model rad); per link a mass scale (link and inertia, the six moving links); a payload at the
TCP (kg); and one command delay (s) from the firmware's servo write to the servo acting on it (bus, servo
firmware), on top of the serial wire the emulator already paces.

:func:`draw_truth` draws from :data:`TRUTH_RANGES`, each wider than the training randomization
(:class:`~roarm_lab.tasks.randomization.RandomizationCfg`); ``docs/twin.md`` has the table.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.description.servo import DRIVES
from roarm_lab.emulator.errors import EmulatorError

TRUTH_SCHEMA = "roarm-twin-truth/1"
JOINT_FIELDS = ("stiffness", "damping", "armature", "friction", "backlash_rad", "encoder_offset_rad",
                "link_mass_scale")

#: Draw ranges: ("scale", lo, hi) multiplies the nominal drive value; ("abs", lo, hi) is absolute. The training
#: randomization spans (RandomizationCfg): stiffness/damping x0.8-1.2, armature x0.7-1.3, friction x0.5-2.0, link
#: mass x0.9-1.1, action latency 0-2 control steps (0-67 ms); no backlash, encoder offset or payload.
TRUTH_RANGES: dict[str, tuple[str, float, float]] = {
    "stiffness": ("scale", 0.55, 1.45),
    "damping": ("scale", 0.6, 1.5),
    "armature": ("scale", 0.5, 1.6),
    "friction": ("scale", 0.3, 3.0),
    "backlash_rad": ("abs", 0.0, 0.012),  # up to ~8 encoder steps of play
    "encoder_offset_rad": ("abs", -0.03, 0.03),  # up to ~20 steps: a servo re-seated one spline tooth off, roughly
    "link_mass_scale": ("scale", 0.85, 1.2),
    "payload_kg": ("abs", 0.0, 0.06),
    "command_delay_s": ("abs", 0.005, 0.09),
}
_NOMINAL_DRIVE = {
    "stiffness": tuple(d.stiffness for d in DRIVES), "damping": tuple(d.damping for d in DRIVES),
    "armature": tuple(d.armature for d in DRIVES), "friction": tuple(d.friction for d in DRIVES),
}

Six = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class TwinTruth:
    stiffness: Six
    damping: Six
    armature: Six
    friction: Six
    backlash_rad: Six
    encoder_offset_rad: Six
    link_mass_scale: Six
    payload_kg: float = 0.0
    command_delay_s: float = 0.0
    name: str = "nominal"

    def __post_init__(self) -> None:
        for f in JOINT_FIELDS:
            v = getattr(self, f)
            if len(v) != len(JOINT_NAMES):
                raise EmulatorError(f"truth {f} needs {len(JOINT_NAMES)} values, got {len(v)}")
            if f != "encoder_offset_rad" and any(not x >= 0 for x in v):
                raise EmulatorError(f"truth {f} must be >= 0, got {v}")
        if any(x <= 0 for x in self.stiffness) or any(x <= 0 for x in self.link_mass_scale):
            raise EmulatorError("truth stiffness and link_mass_scale must be > 0")
        if not (self.payload_kg >= 0 and self.command_delay_s >= 0):
            raise EmulatorError("truth payload_kg and command_delay_s must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {"schema": TRUTH_SCHEMA, "name": d.pop("name"),
                "joints": {j: {f: d[f][i] for f in JOINT_FIELDS} for i, j in enumerate(JOINT_NAMES)},
                "payload_kg": self.payload_kg, "command_delay_s": self.command_delay_s}


def nominal_truth() -> TwinTruth:
    """The description's own values: no play, no offsets, no payload, no extra delay."""
    zeros = (0.0,) * 6
    return TwinTruth(**_NOMINAL_DRIVE, backlash_rad=zeros, encoder_offset_rad=zeros, link_mass_scale=(1.0,) * 6)


def draw_truth(seed: int) -> TwinTruth:
    """A truth drawn per joint from :data:`TRUTH_RANGES` (deterministic in ``seed``)."""
    rng = random.Random(seed)

    def per_joint(field: str) -> Six:
        kind, lo, hi = TRUTH_RANGES[field]
        vals = [rng.uniform(lo, hi) for _ in JOINT_NAMES]
        if kind == "scale" and field in _NOMINAL_DRIVE:
            vals = [n * v for n, v in zip(_NOMINAL_DRIVE[field], vals, strict=True)]
        return tuple(vals)  # type: ignore[return-value]

    values = {f: per_joint(f) for f in JOINT_FIELDS}
    return TwinTruth(**values, payload_kg=rng.uniform(*TRUTH_RANGES["payload_kg"][1:]),
                     command_delay_s=rng.uniform(*TRUTH_RANGES["command_delay_s"][1:]), name=f"seed-{seed}")


def truth_from_dict(doc: Any, source: str = "truth") -> TwinTruth:
    if not isinstance(doc, dict) or doc.get("schema") != TRUTH_SCHEMA:
        raise EmulatorError(f"{source}: not a twin truth file (expected schema: {TRUTH_SCHEMA})")
    joints = doc.get("joints")
    if not isinstance(joints, dict) or set(joints) != set(JOINT_NAMES):
        raise EmulatorError(f"{source}: joints must be exactly {', '.join(JOINT_NAMES)}")
    base = nominal_truth()
    values: dict[str, Any] = {}
    try:
        for f in JOINT_FIELDS:
            values[f] = tuple(float(joints[j].get(f, getattr(base, f)[i])) for i, j in enumerate(JOINT_NAMES))
        return TwinTruth(**values, payload_kg=float(doc.get("payload_kg", 0.0)),
                         command_delay_s=float(doc.get("command_delay_s", 0.0)),
                         name=str(doc.get("name", Path(source).stem)))
    except (AttributeError, TypeError, ValueError) as e:
        raise EmulatorError(f"{source}: {e}") from None


def load_truth(path: str | Path) -> TwinTruth:
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise EmulatorError(f"cannot read twin truth {path}: {e}") from None
    return truth_from_dict(doc, str(path))


def save_truth(truth: TwinTruth, path: str | Path) -> Path:
    import yaml

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(truth.to_dict(), sort_keys=False))
    return path
