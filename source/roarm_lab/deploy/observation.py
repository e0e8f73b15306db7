"""The policy observation from arm feedback, computed by the task's own term functions (one copy of the math).

Given the same joint state, command, last action and object pose, :func:`build_observation` returns what
MujocoTaskEnv gives its critic: the policy's observation without the training noise.
"""

from __future__ import annotations

import numpy as np
import torch

from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.spec import TaskSpec


def _batch(name: str, value, width: int) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(value, dtype=np.float32))
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{name} must have shape ({width},) or (N, {width}), got {tuple(np.shape(value))}")
    return x


def build_observation(spec: TaskSpec, joint_pos, joint_vel, command, last_action, object_pos=None,
                      object_quat=None) -> np.ndarray:
    """The observation of ``spec`` for one state ((6,) joints -> (k,)) or a batch ((N, 6) -> (N, k)), float32.

    joint_pos, joint_vel: model frame, rad and rad/s; command: (3,) m, world; last_action: (6,) the raw action of
    the previous policy call, the simulator's ``ArmState.action`` (see the metadata's ``observation.inputs``);
    object_pos (3,) and object_quat (4,, wxyz): required by tasks with an object, refused by the others.
    """
    if spec.has_object:
        missing = [name for name, value in (("object_pos", object_pos), ("object_quat", object_quat)) if value is None]
        if missing:
            raise ValueError(f"{spec.task_id} observations need {' and '.join(missing)}: the arm cannot measure the "
                             "object, so its pose must come from elsewhere (e.g. a camera)")
        objects = {"object_pos": _batch("object_pos", object_pos, 3),
                   "object_quat": _batch("object_quat", object_quat, 4)}
    elif object_pos is not None or object_quat is not None:
        raise ValueError(f"{spec.task_id} has no object: do not pass object_pos or object_quat")
    else:
        objects = {}
    state = {"joint_pos": _batch("joint_pos", joint_pos, 6), "joint_vel": _batch("joint_vel", joint_vel, 6),
             "command": _batch("command", command, 3), "last_action": _batch("last_action", last_action, 6),
             **objects}
    sizes = {name: len(x) for name, x in state.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"inputs have different batch sizes: {sizes}")
    # the policy's previous action is the state's newest action; no observation term reads the one before it,
    # and NaN would make a term that started to visible at once
    newest = state.pop("last_action")
    with torch.no_grad():
        obs = spec.observations(ArmState.from_joints(action=newest, last_action=torch.full_like(newest, float("nan")),
                                                     **state)).numpy()
    return obs[0] if np.ndim(joint_pos) == 1 else obs
