"""How each observation term is computed from arm feedback, written into the package metadata.

A term's ``source`` is an expression over the named inputs (what a runner measures or chooses), constants and
functions below, e.g. ``joint_pos - home_pose``; ``inputs`` lists the inputs it reads. The Python runner does not
evaluate these strings (it calls the task's own term functions, :mod:`roarm_lab.deploy.observation`): they
document the layout for other runtimes and let the loader refuse a package whose layout differs from this code's.
"""

from __future__ import annotations

import re

from roarm_lab.description import HOME_POSE
from roarm_lab.tasks.mdp import observations as obs
from roarm_lab.tasks.spec import TaskSpec

INPUTS: dict[str, str] = {
    "joint_pos": "measured joint angles (rad), model frame, in action.joint_names order; from T:1051 feedback "
                 "fields via firmware.model_to_firmware (its own inverse)",
    "joint_vel": "joint velocities (rad/s), model frame; T:1051 reports none, so a runner estimates them (e.g. "
                 "by differencing joint_pos at control_hz)",
    "command": "the task command, a position (m) in the world frame (origin on the mounting surface under the "
               "base axis, z up): Reach target, Lift goal or PickPlace target",
    "last_action": "the raw policy action (before scale and clip) of the most recent policy call, the one "
                   "being executed: zero at episode start",
    "object_pos": "object (cube) centre (m), world frame; the arm cannot measure it",
    "object_quat": "object orientation, unit quaternion w, x, y, z, world frame; the arm cannot measure it",
}

FUNCTIONS: dict[str, str] = {
    "fk_tcp": "TCP position (m, world) by forward kinematics of joint_pos (roarm_lab.kinematics.tcp_position)",
    "fk_grasp": "grasp point between the jaws (m, world) by forward kinematics of joint_pos "
                "(roarm_lab.kinematics.grasp_position)",
    "yaw": "rotation about world z of a w, x, y, z quaternion: atan2(2 (w z + x y), 1 - 2 (y^2 + z^2))",
}

#: term function -> its source expression; a new term function needs an entry here to be exported
TERM_SOURCES = {
    obs.joint_pos_rel: "joint_pos - home_pose",
    obs.joint_vel_scaled: "joint_vel * joint_vel_scale",
    obs.tcp_position: "fk_tcp(joint_pos)",
    obs.grasp_position: "fk_grasp(joint_pos)",
    obs.command_position: "command",
    obs.command_error: "command - fk_tcp(joint_pos)",
    obs.last_action: "last_action",
    obs.object_position: "object_pos",
    obs.object_to_grasp: "object_pos - fk_grasp(joint_pos)",
    obs.object_to_command: "command - object_pos",
    obs.object_yaw_cube_symmetric: "[sin(4 * yaw(object_quat)), cos(4 * yaw(object_quat))]",
}


def constants() -> dict[str, object]:
    return {"home_pose": list(HOME_POSE), "joint_vel_scale": obs.JOINT_VEL_SCALE}


def _names_in(expression: str, vocabulary) -> list[str]:
    words = set(re.findall(r"[a-z_]+", expression))
    return [name for name in vocabulary if name in words]


def observation_layout(spec: TaskSpec) -> dict:
    """The ``observation`` section of the metadata for a task: its terms in order, with offsets and sources."""
    terms, offset = [], 0
    for term in spec.observation_terms:
        source = TERM_SOURCES.get(term.fn)
        if source is None:
            raise KeyError(f"observation term {term.name!r} ({term.fn.__qualname__}) has no entry in "
                           "roarm_lab.deploy.observation_layout.TERM_SOURCES")
        terms.append({"name": term.name, "offset": offset, "size": term.size, "noise": term.noise,
                      "source": source, "inputs": _names_in(source, INPUTS)})
        offset += term.size
    sources = " ".join(t["source"] for t in terms)
    return {
        "size": offset,
        "terms": terms,
        "inputs": {name: INPUTS[name] for name in _names_in(sources, INPUTS)},
        "constants": constants(),
        "functions": {name: FUNCTIONS[name] for name in _names_in(sources, FUNCTIONS)},
    }
