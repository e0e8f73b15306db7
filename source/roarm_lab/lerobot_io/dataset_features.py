"""The LeRobot dataset features this project records, in LeRobot's ``{"dtype", "shape", "names"}`` form.

``observation.state`` and ``action`` are the six joints under the names of :mod:`.features` (model rad, the
follower plugin's names), so sim demos and real recordings line up. ``observation.environment_state`` is what the
arm cannot measure but a simulated demo knows: the cube's and the target's positions (world frame, m; the arm's
base is at the world origin, the table top at z = 0) and the cube's yaw. It lets ACT train without cameras.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .features import JOINT_POS_KEYS

#: LeRobot's ``robot_type``: the follower plugin's name, so sim and real datasets can be merged.
ROBOT_TYPE = "roarm_m3_follower"
STATE = "observation.state"
ACTION = "action"
ENVIRONMENT_STATE = "observation.environment_state"
IMAGE_PREFIX = "observation.images."
#: The cube's yaw as the RL policies observe it (tasks/mdp/observations.object_yaw_cube_symmetric): sin and cos of
#: 4 x yaw, since a cube looks the same every quarter turn. The picker turns the gripper's roll to it.
ENVIRONMENT_STATE_NAMES: tuple[str, ...] = ("cube.x", "cube.y", "cube.z", "target.x", "target.y", "target.z",
                                            "cube.yaw_sin4", "cube.yaw_cos4")
#: The dataset ``play_real.py --record`` appends to unless told otherwise.
REAL_RUN_REPO_ID = "local/roarm_real"
#: The text each task's episodes are stored with (LeRobot's ``task``), in sim demos and real runs alike.
TASK_PROMPTS = {
    "RoArm-Reach": "move the gripper to the target",
    "RoArm-Lift": "pick up the cube and lift it",
    "RoArm-PickPlace": "pick up the cube and place it on the target",
}


def joints_feature() -> dict:
    """``observation.state`` / ``action``: the six joints, model rad."""
    return {"dtype": "float32", "shape": (len(JOINT_POS_KEYS),), "names": list(JOINT_POS_KEYS)}


def cube_yaw_features(yaw: float) -> tuple[float, float]:
    """``(sin 4 yaw, cos 4 yaw)`` of a cube at ``yaw`` rad about z, for the arm side (a yaw given by the user)."""
    return math.sin(4 * yaw), math.cos(4 * yaw)


def environment_state_values(cube: Sequence[float], target: Sequence[float], cube_yaw: float = 0.0) -> np.ndarray:
    """``observation.environment_state`` for a cube at ``cube`` (m) turned ``cube_yaw`` (rad) and a target (m)."""
    return np.array([*cube, *target, *cube_yaw_features(cube_yaw)], dtype=np.float32)


def environment_state_feature() -> dict:
    return {"dtype": "float32", "shape": (len(ENVIRONMENT_STATE_NAMES),), "names": list(ENVIRONMENT_STATE_NAMES)}


def camera_key(name: str) -> str:
    return IMAGE_PREFIX + name


def camera_feature(height: int, width: int) -> dict:
    """An RGB camera stored as video (``uint8`` frames of ``(height, width, 3)``)."""
    if height < 1 or width < 1:
        raise ValueError(f"camera size must be positive, got {height}x{width}")
    return {"dtype": "video", "shape": (height, width, 3), "names": ["height", "width", "channels"]}


def recording_features(environment_state: bool, cameras: dict[str, tuple[int, int]] | None = None) -> dict[str, dict]:
    """Joint state and joint-target action; the cube and target (``environment_state``); one video per
    ``{name: (h, w)}``."""
    features = {STATE: joints_feature(), ACTION: joints_feature()}
    if environment_state:
        features[ENVIRONMENT_STATE] = environment_state_feature()
    for name, (height, width) in (cameras or {}).items():
        features[camera_key(name)] = camera_feature(height, width)
    return features


def sim_demo_features(cameras: dict[str, tuple[int, int]] | None = None) -> dict[str, dict]:
    """What sim demos record: joints, action, the cube and target, and the cameras."""
    return recording_features(True, cameras)
