"""A task scene for inspection: one held-out episode in MuJoCo, stepped on demand by a policy, by hand, or held.

The env is :func:`roarm_lab.evaluation.eval_env` with one environment, so a policy stepped here sees the same
episode and gives the same actions as ``play.py`` (the first of its held-out episodes for the same seed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from roarm_lab.description import HARDWARE_SAFE, JOINT_NAMES
from roarm_lab.inspection.errors import InspectionError
from roarm_lab.tasks.mdp.actions import actions_for_targets, joint_targets
from roarm_lab.tasks.registry import TASK_IDS, get_task


def list_tasks() -> tuple[str, ...]:
    """The task ids of the registry."""
    return TASK_IDS


def joint_slider_ranges() -> dict[str, tuple[float, float]]:
    """Joint name -> (lower, upper) rad: the hardware-safe limits, the range any hand-moved joint keeps to."""
    return {name: (float(lo), float(hi))
            for name, lo, hi in zip(JOINT_NAMES, HARDWARE_SAFE.lower, HARDWARE_SAFE.upper, strict=True)}


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy for one task: ``kind`` ``onnx`` (a policy package) or ``rsl_rl`` (a checkpoint), ``act`` maps the
    policy observation (N, k) to actions (N, 6)."""

    task: str
    kind: str
    path: Path
    act: Callable[[torch.Tensor], torch.Tensor]


def load_policy(task: str, path: str | Path) -> LoadedPolicy:
    """An ONNX policy package (``.onnx``) or an rsl-rl checkpoint (``model_*.pt``, or its run directory: the latest
    one, with the run's ``params/``) for ``task``."""
    path = Path(path)
    if not path.exists():
        raise InspectionError(f"no policy at {path}")
    if path.suffix == ".onnx":
        from roarm_lab.deploy.errors import PolicyPackageError
        from roarm_lab.deploy.package import PolicyPackage

        try:
            package = PolicyPackage.load(path, expect_task=task)
        except (PolicyPackageError, ValueError) as err:
            raise InspectionError(f"{path}: {err}") from err

        def act_onnx(obs: torch.Tensor) -> torch.Tensor:
            return torch.from_numpy(package.act(obs.detach().cpu().numpy()))

        return LoadedPolicy(task, "onnx", path, act_onnx)
    from roarm_lab.deploy.checkpoint import resolve_checkpoint, task_of_run
    from roarm_lab.training.policy import load_actor, obs_policy

    try:
        checkpoint = resolve_checkpoint(path)
    except (FileNotFoundError, ValueError) as err:
        raise InspectionError(f"{path}: {err}") from err
    run_task = task_of_run(checkpoint)
    if run_task is not None and run_task != task:
        raise InspectionError(f"{checkpoint} is a {run_task} run, not {task}")
    actor = obs_policy(load_actor(task, str(checkpoint)))
    return LoadedPolicy(task, "rsl_rl", checkpoint, lambda obs: actor(obs.detach().cpu()))


@dataclass(frozen=True)
class SceneFrame:
    """The scene after a step (or at the start): joints (rad, JOINT_NAMES order), the joint targets last applied,
    the step's reward, the command (Reach: the TCP target, m; object tasks: the place target or lift height), the
    cube (position m, quaternion wxyz) where the task has one."""

    step: int
    episode_step: int
    joint_pos: tuple[float, ...]
    joint_targets: tuple[float, ...] | None
    action: tuple[float, ...] | None
    reward: float | None
    command: tuple[float, ...]
    object_pos: tuple[float, ...] | None
    object_quat: tuple[float, ...] | None
    episode_ended: bool
    source: str  # what moved the arm: policy, hand or hold


def _row(x: torch.Tensor | None) -> tuple[float, ...] | None:
    return None if x is None else tuple(float(v) for v in x[0].tolist())


class TaskScene:
    """One task's scene. :meth:`step` advances one control step (1/30 s): with the policy, or toward the joints set
    by hand (:meth:`set_joint_targets`, which takes over until :meth:`release_joints`), or holding the action
    default pose when there is neither."""

    def __init__(self, task: str, seed: int = 0):
        from roarm_lab.evaluation import eval_env

        if task not in TASK_IDS:
            raise InspectionError(f"unknown task {task!r}; the tasks are {', '.join(TASK_IDS)}")
        self.task = task
        self.seed = seed
        self.spec = get_task(task)
        self.env = eval_env(task, 1, seed, nthread=1)
        self.policy: LoadedPolicy | None = None
        self.hand_targets: torch.Tensor | None = None
        self._steps = 0
        self._obs = self.env.get_observations()["policy"]  # (each call draws new observation noise: once, as play)
        self._last: SceneFrame = self._frame(None, None, None, False, "hold")

    # ------------------------------------------------------------------ setting up
    def set_policy(self, policy: LoadedPolicy | None) -> None:
        if policy is not None and policy.task != self.task:
            raise InspectionError(f"the policy is for {policy.task}, the scene is {self.task}")
        self.policy = policy

    def load_policy(self, path: str | Path) -> LoadedPolicy:
        policy = load_policy(self.task, path)
        self.set_policy(policy)
        return policy

    def reset(self) -> SceneFrame:
        """Back to the first episode of the seed (the same targets and physics values as before)."""
        from roarm_lab.evaluation import eval_env

        self.env = eval_env(self.task, 1, self.seed, nthread=1)
        self._steps = 0
        self._obs = self.env.get_observations()["policy"]
        self._last = self._frame(None, None, None, False, "hold")
        return self._last

    # ------------------------------------------------------------------ by hand
    def set_joint_targets(self, q: Sequence[float]) -> tuple[float, ...]:
        """Drive the joints toward ``q`` (rad), clipped into the hardware-safe limits; returns the clipped target."""
        target = torch.as_tensor(np.asarray(q, dtype=np.float32))
        if target.shape != (len(JOINT_NAMES),) or not torch.isfinite(target).all():
            raise InspectionError(f"joint targets must be {len(JOINT_NAMES)} finite numbers ({', '.join(JOINT_NAMES)})")
        lo, hi = torch.tensor(HARDWARE_SAFE.lower), torch.tensor(HARDWARE_SAFE.upper)
        self.hand_targets = torch.clamp(target, lo, hi)
        return tuple(float(v) for v in self.hand_targets)

    def release_joints(self) -> None:
        self.hand_targets = None

    def set_reach_target(self, xyz: Sequence[float]) -> tuple[float, ...]:
        """Move the Reach target (m, world frame: the table top at z = 0) to ``xyz``. A point the arm cannot reach
        inside its hardware-safe limits (analytic IK), or below the table, is refused and the target stays."""
        from roarm_lab import kinematics

        if self.task != "RoArm-Reach":
            raise InspectionError(f"{self.task} has no movable target (Reach only)")
        point = np.asarray(xyz, dtype=np.float64)
        if point.shape != (3,) or not np.isfinite(point).all():
            raise InspectionError("a Reach target is 3 finite numbers (x, y, z in m)")
        if point[2] < 0.0 or not bool(kinematics.inverse_kinematics(point).converged):
            raise InspectionError(f"the arm cannot reach {tuple(point.round(3))} inside its limits above the table")
        self.env.set_command(torch.tensor([0]), torch.tensor(point, dtype=torch.float32)[None])
        last = self._last
        self._last = SceneFrame(**{**last.__dict__, "command": tuple(float(v) for v in point)})
        return tuple(float(v) for v in point)

    # ------------------------------------------------------------------ stepping
    @property
    def observation(self) -> torch.Tensor:
        """The policy observation (1, k) the next step's policy sees (with the evaluation's observation noise)."""
        return self._obs

    def step(self) -> SceneFrame:
        if self.hand_targets is not None:
            action, source = actions_for_targets(self.hand_targets)[None], "hand"
        elif self.policy is not None:
            action, source = self.policy.act(self._obs).float().reshape(1, -1), "policy"
        else:
            action, source = torch.zeros(1, len(JOINT_NAMES)), "hold"
        obs, reward, dones, _ = self.env.step(action)
        self._obs = obs["policy"]
        self._steps += 1
        self._last = self._frame(joint_targets(action), action, reward, bool(dones[0]), source)
        return self._last

    @property
    def frame(self) -> SceneFrame:
        return self._last

    def mj_state(self) -> tuple[object, np.ndarray]:
        """The MuJoCo model of the episode (its randomized physics) and its FULLPHYSICS state, for drawing."""
        return self.env.env_model(0), self.env.mj_state(0)

    def _frame(self, targets, action, reward, ended: bool, source: str) -> SceneFrame:
        s = self.env.arm_state
        return SceneFrame(step=self._steps, episode_step=int(self.env.episode_length_buf[0]),
                          joint_pos=_row(s.joint_pos), joint_targets=_row(targets), action=_row(action),
                          reward=None if reward is None else float(reward[0]), command=_row(s.command),
                          object_pos=_row(s.object_pos), object_quat=_row(s.object_quat), episode_ended=ended,
                          source=source)
