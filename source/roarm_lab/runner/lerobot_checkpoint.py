"""A `lerobot-train` checkpoint (e.g. ACT on sim demos) as a runner :class:`~roarm_lab.runner.policy.Policy`.

Its inputs are given by name (:class:`roarm_lab.lerobot_io.lerobot_policy.LeRobotPolicy`): ``observation.state``
from the measured joints, ``observation.environment_state`` from the cube and the target the run was given (with
the cube's yaw, as sim demos record them), ``observation.images.<name>`` from LeRobot cameras this policy opens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from roarm_lab.runner.policy import ArmObservation, PolicyStep
from roarm_lab.tasks.mdp.actions import DEFAULT_POSE
from roarm_lab.tasks.registry import get_task
from roarm_lab.tasks.timing import CONTROL_HZ


class LeRobotCheckpointPolicy:
    """``path``: the checkpoint's ``pretrained_model`` directory. ``task``: the task id the policy was trained on
    (its start pose, whether it sees the cube, its prompt unless ``prompt`` is given). ``cameras``: name -> LeRobot
    camera config. ValueError/FileNotFoundError when the policy needs an input this run cannot give."""

    def __init__(self, path: str | Path, *, task: str, cameras: Mapping | None = None,
                 prompt: str | None = None, control_hz: float = CONTROL_HZ, device: str = "cpu"):
        from roarm_lab.lerobot_io.dataset_features import ENVIRONMENT_STATE, ENVIRONMENT_STATE_NAMES, TASK_PROMPTS
        from roarm_lab.lerobot_io.lerobot_policy import LeRobotPolicy

        get_task(task)  # KeyError naming the known tasks
        self.source, self.task, self.control_hz = str(path), task, control_hz
        self.prompt = TASK_PROMPTS[task] if prompt is None else prompt
        self.start_pose = np.asarray(DEFAULT_POSE, dtype=np.float64)  # as every sim episode's action offset
        self.policy = LeRobotPolicy(path, device=device)
        self.observes_object = ENVIRONMENT_STATE in self.policy.input_names
        camera_configs = dict(cameras or {})
        placeholder = [0.0] * len(ENVIRONMENT_STATE_NAMES) if self.observes_object else None  # given per run
        self.policy.check_inputs(list(camera_configs), placeholder)
        self.cameras = {}
        if camera_configs:
            from lerobot.cameras import make_cameras_from_configs

            self.cameras = make_cameras_from_configs(camera_configs)
            for cam in self.cameras.values():
                cam.connect()

    def reset(self) -> None:
        self.policy.reset()

    def step(self, observation: ArmObservation) -> PolicyStep:
        from roarm_lab.lerobot_io.dataset_features import environment_state_values
        from roarm_lab.lerobot_io.features import joints_to_features

        frame = joints_to_features(observation.q)
        for name, cam in self.cameras.items():
            frame[name] = cam.read_latest()
        env = None
        if self.observes_object:
            w, x, y, z = observation.object_quat  # the cube's yaw (a fixed --object's --cube-yaw, or the camera's)
            yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
            env = environment_state_values(observation.object_pos, observation.command, yaw).tolist()
        targets = self.policy.act(frame, env, self.prompt)
        return PolicyStep(np.asarray(targets, dtype=np.float64), None, list(map(float, targets)))

    def close(self) -> None:
        for cam in self.cameras.values():
            if cam.is_connected:
                cam.disconnect()
