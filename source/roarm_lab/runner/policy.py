"""What the runner needs of a policy, whatever made it: the :class:`Policy` protocol, met by an ONNX policy package
(:class:`OnnxPolicy`) and by a `lerobot-train` checkpoint (:class:`roarm_lab.runner.lerobot_checkpoint.
LeRobotCheckpointPolicy`). The control loop, the watchdog, the hold, the step log and the recording are the same
for both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from roarm_lab.deploy import PolicyPackage


@dataclass(frozen=True)
class ArmObservation:
    """What the arm side knows at a control step (model frame, rad; world frame, m)."""

    q: np.ndarray  # measured joints (6,)
    joint_velocity: np.ndarray  # estimated from the last two readings (6,)
    command: np.ndarray  # the task command: Reach's target, the place target (3,)
    object_pos: np.ndarray | None = None  # the cube's position, for object tasks (3,)
    object_quat: np.ndarray | None = None  # its orientation (w, x, y, z)


@dataclass(frozen=True)
class PolicyStep:
    """Joint targets (6,), model rad (non-finite: unusable, the safety layer holds), and for the step log what the
    policy saw and gave (None where it has no such vector)."""

    targets: np.ndarray
    observation: list[float] | None = None
    action: list[float] | None = None


class Policy(Protocol):
    source: str  # where it came from (a file or directory), for logs
    task: str  # task id, e.g. RoArm-Reach
    control_hz: float
    start_pose: np.ndarray  # where runs start (model rad): the loop moves there slowly first
    observes_object: bool  # needs the cube's position (a fixed --object, or a camera)

    def reset(self) -> None:
        """Start of a run: forget the previous action, queued chunks, ..."""

    def step(self, observation: ArmObservation) -> PolicyStep: ...


class OnnxPolicy:
    """An ONNX policy package: the observation computed exactly as in simulation
    (:meth:`PolicyPackage.observation_from_state`, the task's own term functions), ``last_action`` the previous raw
    action (zero at the start and after a non-finite one).

    Encoder offsets: the arm's encoders read ``q_true + offset`` (the package's robot profile,
    :attr:`PolicyPackage.encoder_offsets`), the simulation the policy was trained in has none. So the measured joints
    less the offsets are the observation's joints, and the policy's joint targets plus the offsets are what the
    servos are told (their position loops close on the encoder): the policy acts on the true joint angles. The
    start pose is shifted the same way. Zero offsets (the nominal description) change nothing."""

    def __init__(self, package: PolicyPackage):
        from roarm_lab.tasks.registry import get_task

        self.package = package
        self.source = str(package.path)
        self.task, self.control_hz = package.task, package.control_hz
        self.encoder_offsets = np.asarray(package.encoder_offsets, dtype=np.float64)
        self.start_pose = np.asarray(package.action_mapping.default_pose, dtype=np.float64) + self.encoder_offsets
        self.observes_object = get_task(package.task).has_object
        self._last_action = np.zeros(package.action_size, dtype=np.float32)

    def reset(self) -> None:
        self._last_action = np.zeros_like(self._last_action)

    def step(self, observation: ArmObservation) -> PolicyStep:
        extra = {} if observation.object_pos is None else {"object_pos": observation.object_pos,
                                                            "object_quat": observation.object_quat}
        q_true = np.asarray(observation.q, dtype=np.float64) - self.encoder_offsets
        obs = self.package.observation_from_state(q_true, observation.joint_velocity, observation.command,
                                                  self._last_action, **extra)
        action = self.package.act(obs)
        self._last_action = action if np.all(np.isfinite(action)) else np.zeros_like(action)
        targets = self.package.joint_targets(action) + self.encoder_offsets  # the encoder frame the servos hold
        return PolicyStep(targets, obs.tolist(), action.tolist())
