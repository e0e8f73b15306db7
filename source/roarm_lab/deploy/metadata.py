"""The package metadata: what a runner needs besides the network, stored in the ONNX file's ``metadata_props``.

Two keys: ``roarm_lab.schema`` (the schema version, :data:`SCHEMA_VERSION`) and ``roarm_lab.metadata`` (one JSON
object). Schema "1" fields:

* ``robot_id``, ``task``, ``control_hz``
* ``observation``: ``size``; ``terms`` in order, each ``name``, ``offset``, ``size``, ``noise`` (training noise
  half-range), ``source`` (how it is computed, :mod:`~roarm_lab.deploy.observation_layout`) and ``inputs``; the
  ``inputs``, ``constants`` (home pose, joint velocity scale) and ``functions`` the sources name
* ``action``: ``size``, ``joint_names``, ``scale``, ``default_pose``, ``clip_lower``, ``clip_upper`` and the
  formula ``joint_target``
* ``firmware``: ``unit``, the ``command`` (T:102 and its fields in joint order), the ``feedback`` (T:1051 joint
  fields) and ``model_to_firmware``, one expression of the model angle ``q`` per joint
* ``joint_limits``: ``hardware_safe`` (the simulator's joint limits and the action clip) and ``firmware_clamps``
* ``training``: checkpoint, run, iteration, checkpoint time, code commit; ``exported_at``, ``exporter``;
  optionally ``evaluation`` (from ``play.py --export``)
* ``robot_profile``: the robot profile the policy was trained for (:mod:`roarm_lab.description.robot_profile`):
  ``name``, ``hash``, ``encoder_offsets`` (rad, model frame, joint order: the arm's encoders read
  ``q_true + offset``; the runner corrects for them) and ``command_delay_s``; the nominal description's values
  when it was trained without one. Packages exported before this field read as nominal.

The graph has one input ``obs`` (batch, observation.size) and one output ``actions`` (batch, action.size).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import onnx

import roarm_lab
from roarm_lab.deploy.errors import PolicyPackageError
from roarm_lab.deploy.observation_layout import constants, observation_layout
from roarm_lab.description import FIRMWARE_CLAMPS, HARDWARE_SAFE, JOINT_NAMES, ROBOT_ID
from roarm_lab.description.firmware_units import FEEDBACK_JOINT_FIELDS, GRIPPER_INDEX, T102_FIELDS
from roarm_lab.description.limits import JointLimits
from roarm_lab.description.robot_profile import RobotProfile, nominal_profile
from roarm_lab.tasks.mdp.actions import ACTION_SCALE, DEFAULT_POSE
from roarm_lab.tasks.registry import TASKS, get_task
from roarm_lab.tasks.timing import CONTROL_HZ

SCHEMA_KEY = "roarm_lab.schema"
METADATA_KEY = "roarm_lab.metadata"
SCHEMA_VERSION = "1"
INPUT_NAME = "obs"
OUTPUT_NAME = "actions"

REQUIRED_FIELDS = (
    "robot_id", "task", "control_hz",
    "observation.size", "observation.terms", "observation.constants",
    "action.size", "action.joint_names", "action.scale", "action.default_pose", "action.clip_lower",
    "action.clip_upper",
    "firmware.command", "firmware.model_to_firmware",
    "joint_limits.hardware_safe", "training", "exported_at",
)


def _limits(limits: JointLimits) -> dict[str, list[float]]:
    return {"lower": list(limits.lower), "upper": list(limits.upper)}


def firmware_mapping() -> dict:
    """The ``firmware`` section: what :func:`roarm_lab.description.model_to_firmware_rad` does, as data."""
    return {
        "unit": "rad",
        "command": {"type": "T:102", "fields": list(T102_FIELDS)},
        "feedback": {"type": "T:1051", "joint_fields": list(FEEDBACK_JOINT_FIELDS)},
        "model_to_firmware": ["pi - q" if i == GRIPPER_INDEX else "q" for i in range(len(JOINT_NAMES))],
    }


def action_layout() -> dict:
    return {
        "size": len(JOINT_NAMES),
        "joint_names": list(JOINT_NAMES),
        "scale": ACTION_SCALE,
        "default_pose": list(DEFAULT_POSE),
        "clip_lower": list(HARDWARE_SAFE.lower),
        "clip_upper": list(HARDWARE_SAFE.upper),
        "joint_target": "clip(default_pose + scale * action, clip_lower, clip_upper)",
    }


def robot_profile_section(profile: RobotProfile | None) -> dict:
    """The ``robot_profile`` section: what a runner needs of the profile (the nominal description's for None)."""
    profile = profile if profile is not None else nominal_profile()
    return {"name": profile.name, "hash": profile.hash, "encoder_offsets": list(profile.encoder_offsets),
            "command_delay_s": profile.command_delay_s.value}


def package_robot_profile(meta: dict) -> dict:
    """The package's ``robot_profile`` section; the nominal description's for packages from before the field."""
    return meta.get("robot_profile") or robot_profile_section(None)


def is_nominal(section: dict) -> bool:
    """Whether a ``robot_profile`` section is the nominal description's (by hash: the values, not the name)."""
    return section["hash"] == nominal_profile().hash


def build_metadata(task: str, training: dict | None = None, evaluation: dict | None = None,
                   robot_profile: RobotProfile | None = None) -> dict:
    """The metadata of a package of ``task``; ``training`` describes the checkpoint
    (:func:`roarm_lab.deploy.checkpoint.training_info`), ``robot_profile`` the arm it was trained for (None: the
    nominal description)."""
    meta = {
        "robot_id": ROBOT_ID,
        "task": task,
        "control_hz": CONTROL_HZ,
        "observation": observation_layout(get_task(task)),
        "action": action_layout(),
        "firmware": firmware_mapping(),
        "joint_limits": {"hardware_safe": _limits(HARDWARE_SAFE), "firmware_clamps": _limits(FIRMWARE_CLAMPS)},
        "training": training or {},
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "exporter": f"roarm_lab {roarm_lab.__version__}",
        "robot_profile": robot_profile_section(robot_profile),
    }
    if evaluation is not None:
        meta["evaluation"] = evaluation
    return meta


def write_metadata(model: onnx.ModelProto, meta: dict) -> None:
    """Set the model's roarm_lab metadata props to ``meta`` under schema :data:`SCHEMA_VERSION` (others stay)."""
    props = {p.key: p.value for p in model.metadata_props}
    onnx.helper.set_model_props(model, {**props, SCHEMA_KEY: SCHEMA_VERSION, METADATA_KEY: json.dumps(meta)})


def read_metadata(model: onnx.ModelProto) -> dict:
    """The metadata of a package, checked for its schema version and required fields."""
    props = {p.key: p.value for p in model.metadata_props}
    if SCHEMA_KEY not in props:
        raise PolicyPackageError(f"no roarm_lab metadata (metadata_props has no {SCHEMA_KEY!r}): "
                                 "not a policy package exported by roarm_lab")
    if props[SCHEMA_KEY] != SCHEMA_VERSION:
        raise PolicyPackageError(f"unknown metadata schema version {props[SCHEMA_KEY]!r} "
                                 f"(this roarm_lab reads {SCHEMA_VERSION!r})")
    try:
        meta = json.loads(props[METADATA_KEY])
    except KeyError:
        raise PolicyPackageError(f"metadata_props has no {METADATA_KEY!r}") from None
    except json.JSONDecodeError as err:
        raise PolicyPackageError(f"{METADATA_KEY} is not valid JSON: {err}") from None
    for field in REQUIRED_FIELDS:
        if not _has_field(meta, field):
            raise PolicyPackageError(f"metadata field {field!r} is missing")
    return meta


def _has_field(meta: dict, dotted: str) -> bool:
    node = meta
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def check_metadata(meta: dict, expect_task: str | None = None) -> None:
    """Refuse metadata this code cannot run: another robot or task, or a layout that differs from the code's."""
    if meta["robot_id"] != ROBOT_ID:
        raise PolicyPackageError(f"package is for robot {meta['robot_id']!r}, this code drives {ROBOT_ID!r}")
    task = meta["task"]
    if expect_task is not None and task != expect_task:
        raise PolicyPackageError(f"package is for task {task!r}, expected {expect_task!r}")
    if task not in TASKS:
        raise PolicyPackageError(f"package is for task {task!r}, which this roarm_lab does not know "
                                 f"(known: {', '.join(TASKS)})")
    obs = meta["observation"]
    if sum(t.get("size", 0) for t in obs["terms"]) != obs["size"]:
        raise PolicyPackageError(f"observation terms add up to {sum(t.get('size', 0) for t in obs['terms'])} "
                                 f"values, observation.size is {obs['size']}")
    _check_observation_matches_code(meta)
    _check_robot_profile(meta)
    if meta["firmware"]["model_to_firmware"] != firmware_mapping()["model_to_firmware"]:
        raise PolicyPackageError(f"firmware.model_to_firmware {meta['firmware']['model_to_firmware']} differs from "
                                 f"this code's {firmware_mapping()['model_to_firmware']}")


def _check_robot_profile(meta: dict) -> None:
    """A ``robot_profile`` section, where there is one, holds a name, a hash, one finite encoder offset per joint
    and a finite command delay >= 0."""
    if "robot_profile" not in meta:
        return
    section = meta["robot_profile"]
    if not isinstance(section, dict):
        raise PolicyPackageError(f"robot_profile must be an object, got {section!r}")
    for key in ("name", "hash"):
        if not isinstance(section.get(key), str):
            raise PolicyPackageError(f"robot_profile.{key} must be a string, got {section.get(key)!r}")
    offsets = section.get("encoder_offsets")
    if not (isinstance(offsets, list) and len(offsets) == len(JOINT_NAMES)
            and all(_finite_number(x) for x in offsets)):
        raise PolicyPackageError(f"robot_profile.encoder_offsets must be {len(JOINT_NAMES)} finite numbers (rad), "
                                 f"got {offsets!r}")
    delay = section.get("command_delay_s")
    if not (_finite_number(delay) and delay >= 0):
        raise PolicyPackageError(f"robot_profile.command_delay_s must be a finite number >= 0, got {delay!r}")


def _finite_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _check_observation_matches_code(meta: dict) -> None:
    """The runner computes observations with this code's term functions, so the package's layout must be theirs."""
    task, obs = meta["task"], meta["observation"]
    code = observation_layout(get_task(task))

    def layout(terms):
        return [(t.get("name"), t.get("offset"), t.get("size"), t.get("source")) for t in terms]

    for i, (theirs, ours) in enumerate(zip(layout(obs["terms"]), layout(code["terms"]), strict=False)):
        if theirs != ours:
            raise PolicyPackageError(f"observation term {i} of the package is (name, offset, size, source) = {theirs}, "
                                     f"this roarm_lab's {task} has {ours}")
    if len(obs["terms"]) != len(code["terms"]):
        raise PolicyPackageError(f"package has {len(obs['terms'])} observation terms, this roarm_lab's {task} has "
                                 f"{len(code['terms'])}")
    if obs["constants"] != constants():
        raise PolicyPackageError(f"observation constants {obs['constants']} differ from this code's {constants()}")
