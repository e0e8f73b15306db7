"""The bridge from an Isaac Lab env to the task's :class:`~roarm_lab.tasks.spec.TaskSpec`.

:class:`TaskStateTerm` is the env's one command term (named :data:`TASK_TERM`). It owns what the TaskSpec needs
beyond the scene: the task config, the command (reach target, lift goal or place target), the reset generator and
success tracking (:class:`~roarm_lab.tasks.episode.SuccessHold`, as the MuJoCo env). It builds the shared
:class:`~roarm_lab.tasks.mdp.state.ArmState` from the scene once per step (and again after a reset), and every
observation, reward and termination term reads that one state.

ArmState is in each environment's local frame (the arm's base is at the env origin), joints in
:data:`~roarm_lab.description.JOINT_NAMES` order, the object quaternion wxyz (Isaac Lab 3 uses xyzw).
"""

from __future__ import annotations

from dataclasses import MISSING
from typing import TYPE_CHECKING

import torch
from isaaclab.managers import CommandTerm, CommandTermCfg
from isaaclab.utils import configclass

from roarm_lab.description import JOINT_NAMES
from roarm_lab.tasks import randomization
from roarm_lab.tasks.episode import SuccessHold
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.registry import get_task
from roarm_lab.tasks.spec import TaskCfg

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

TASK_TERM = "task"
ACTION_TERM = "joint_targets"
ROBOT = "robot"
CUBE = "cube"
NEVER_RESAMPLE_S = 1.0e9  # the command is drawn with the rest of the reset sample, never on a timer


def xyzw_to_wxyz(q: torch.Tensor) -> torch.Tensor:
    return q[..., [3, 0, 1, 2]]


def wxyz_to_xyzw(q: torch.Tensor) -> torch.Tensor:
    return q[..., [1, 2, 3, 0]]


class TaskStateTerm(CommandTerm):
    """Command, success tracking and the cached ArmState of a RoArm task."""

    cfg: TaskStateTermCfg

    def __init__(self, cfg: TaskStateTermCfg, env: ManagerBasedRLEnv):
        super().__init__(cfg, env)
        self.spec = get_task(cfg.task_id)
        self.task_cfg: TaskCfg = cfg.task_cfg if cfg.task_cfg is not None else self.spec.make_cfg()
        self.robot = env.scene[ROBOT]
        self.cube = env.scene[CUBE] if self.spec.has_object else None
        ids, _ = self.robot.find_joints(list(JOINT_NAMES), preserve_order=True)
        self.joint_ids = torch.as_tensor(ids, dtype=torch.long, device=self.device)
        # reset samples come from the TaskSpec's samplers on the CPU, seeded like the MuJoCo env
        seed = env.cfg.seed if env.cfg.seed is not None else 0
        self.generator = torch.Generator().manual_seed(seed)
        self._command = torch.zeros(self.num_envs, 3, device=self.device)
        self._obs_fns = {t.name: t.fn for t in self.spec.observation_terms}
        self._success = SuccessHold(self.num_envs, self.spec.success_hold_steps, device=self.device)
        # logged by CommandTerm.reset as Metrics/task/<name> over the episodes that end
        self.metrics["success"] = torch.zeros(self.num_envs, device=self.device)
        for name, _ in self.spec.metrics:
            self.metrics[name] = torch.zeros(self.num_envs, device=self.device)
        #: physics values of the current episodes (drawn by the reset event, written by events.apply_physics)
        self.physics_params = {k: torch.full((self.num_envs,), float(randomization.NOMINAL[k]), device=self.device)
                               for k in randomization.PHYSICS_FIELDS}
        #: the episodes ended by the latest reset, as :attr:`MujocoTaskEnv.last_episode`: env_ids, success, metrics
        self.last_episode: dict[str, torch.Tensor] | None = None
        self._state: ArmState | None = None
        self._cache: dict[str, dict[str, torch.Tensor]] = {}
        self._state_key: tuple[int, int] | None = None
        self._resets = 0
        self._tracked_step = env.common_step_counter

    # ------------------------------------------------------------------ CommandTerm
    @property
    def command(self) -> torch.Tensor:
        """(N, 3) the task's target position in the env frame."""
        return self._command

    def reset(self, env_ids=None) -> dict[str, torch.Tensor]:
        # the episode's success and final metrics, before CommandTerm.reset logs their means and clears them
        ids = torch.arange(self.num_envs, device=self.device)[env_ids if env_ids is not None else slice(None)]
        self.last_episode = {"env_ids": ids, "success": self.succeeded[ids],
                             **{name: self.metrics[name][ids].clone() for name, _ in self.spec.metrics}}
        self._success.clear(ids)
        return super().reset(env_ids)

    def _resample_command(self, env_ids):
        pass  # set by the reset event together with the joints and the cube (one TaskSpec sample)

    def _update_command(self):
        pass

    def _update_metrics(self):
        pass  # updated when the step's state is first built (before the resets of that step)

    # ------------------------------------------------------------------ state
    def start_episodes(self, env_ids: torch.Tensor, command: torch.Tensor) -> None:
        """Called by the reset event after it wrote the new episodes' joints and objects."""
        self._command[env_ids] = command.to(self.device)
        self._success.restart(env_ids)
        self._resets += 1

    @property
    def succeeded(self) -> torch.Tensor:
        """(N,) bool: the success condition held long enough at some point of the current episode."""
        return self._success.succeeded

    def arm_state(self) -> ArmState:
        """The current ArmState, rebuilt once per env step and after every reset."""
        key = (self._env.common_step_counter, self._resets)
        if key != self._state_key:
            self._state = self._read_state()
            self._cache = {}
            self._state_key = key
            if self._env.common_step_counter != self._tracked_step:  # first read after a physics step
                self._tracked_step = self._env.common_step_counter
                self._track_success(self._state)
        return self._state

    def _read_state(self) -> ArmState:
        data = self.robot.data
        action_term = self._env.action_manager.get_term(ACTION_TERM)
        objects = {}
        if self.cube is not None:
            origins = self._env.scene.env_origins
            cube = self.cube.data
            objects = dict(object_pos=cube.root_link_pos_w.torch - origins,
                           object_quat=xyzw_to_wxyz(cube.root_link_quat_w.torch),
                           object_lin_vel=cube.root_com_lin_vel_w.torch)
        return ArmState.from_joints(data.joint_pos.torch[:, self.joint_ids], data.joint_vel.torch[:, self.joint_ids],
                                    self._command, action_term.action, action_term.last_action, **objects)

    def _track_success(self, s: ArmState) -> None:
        self._success.update(self.spec.success_condition(self.task_cfg, s))
        self.metrics["success"].copy_(self._success.succeeded.float())  # logged by CommandTerm.reset
        for name, fn in self.spec.metrics:
            self.metrics[name][:] = fn(s)

    # ------------------------------------------------------------------ MDP terms (one TaskSpec evaluation a step)
    def observation(self, name: str) -> torch.Tensor:
        return self._obs_fns[name](self.arm_state())

    def reward_terms(self) -> dict[str, torch.Tensor]:
        return self._cached("rewards", lambda s: self.spec.reward_terms(self.task_cfg, s))

    def failures(self) -> dict[str, torch.Tensor]:
        return self._cached("terminations", lambda s: self.spec.terminations(self.task_cfg, s))

    def _cached(self, kind: str, compute) -> dict[str, torch.Tensor]:
        s = self.arm_state()  # (clears the cache when the state changed)
        if kind not in self._cache:
            self._cache[kind] = compute(s)
        return self._cache[kind]


@configclass
class TaskStateTermCfg(CommandTermCfg):
    class_type: type = TaskStateTerm
    task_id: str = MISSING
    #: None: the task's defaults (``spec.make_cfg()``)
    task_cfg: TaskCfg | None = None
    resampling_time_range: tuple[float, float] = (NEVER_RESAMPLE_S, NEVER_RESAMPLE_S)


def task_state(env: ManagerBasedRLEnv) -> TaskStateTerm:
    return env.command_manager.get_term(TASK_TERM)
