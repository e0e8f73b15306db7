"""N RoArm task environments in native MuJoCo behind the rsl-rl ``VecEnv`` interface.

Physics: every control step advances all environments DECIMATION physics steps with ``mujoco.rollout`` on a
persistent thread pool (one MjData per thread). The arm's drives are the task config's robot profile's
(``cfg.robot_profile``; the description's without one). With physics randomization on, each environment has its own
MjModel (rollout takes one model per initial state). The MDP (observations, rewards, terminations, resets,
success) is the task's :class:`~roarm_lab.tasks.spec.TaskSpec`: torch code on the batched state, the same
functions the Isaac Lab backend calls, and so is the episode bookkeeping (:mod:`roarm_lab.tasks.episode`: action
latency, success hold).
"""

from __future__ import annotations

import copy

import mujoco
import numpy as np
import torch
from mujoco import rollout
from rsl_rl.env import VecEnv
from tensordict import TensorDict

from roarm_lab.tasks import randomization
from roarm_lab.tasks.episode import ActionLatencyBuffer, SuccessHold, check_latency
from roarm_lab.tasks.mdp.actions import joint_targets
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.mdp.terminations import time_out
from roarm_lab.tasks.registry import get_task
from roarm_lab.tasks.spec import TaskCfg, TaskSpec
from roarm_lab.tasks.timing import CONTROL_DT, DECIMATION

from .randomize import ModelRandomizer
from .scene import build_scene

N_JOINTS = 6


class MujocoTaskEnv(VecEnv):
    """A RoArm task (``RoArm-Reach``, ``RoArm-Lift``, ``RoArm-PickPlace``) on MuJoCo."""

    def __init__(self, task: str | TaskSpec, num_envs: int, cfg: TaskCfg | None = None, seed: int = 0,
                 nthread: int = 2, device: str = "cpu"):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if nthread < 1:
            raise ValueError(f"nthread must be >= 1, got {nthread}")
        self.spec = get_task(task) if isinstance(task, str) else task
        self.cfg = cfg if cfg is not None else self.spec.make_cfg()
        self.num_envs = num_envs
        self.num_actions = N_JOINTS
        self.device = device
        self.max_episode_length = self.cfg.max_episode_length
        self.model = build_scene(self.spec.has_object, self.cfg.robot_profile)
        rand = self.cfg.randomization
        check_latency(rand.action_latency_steps[1])
        self._randomizer = ModelRandomizer(self.model)
        self._models = [copy.copy(self.model) for _ in range(num_envs)] if rand.enabled else None
        # rollout with skip_checks wants one model per environment; without randomization they are all the same
        self._rollout_models = self._models if self._models is not None else [self.model] * num_envs
        self._datas = [mujoco.MjData(self.model) for _ in range(nthread)]
        self._rollout = rollout.Rollout(nthread=nthread)
        self._state_spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        nstate = mujoco.mj_stateSize(self.model, self._state_spec)
        nq = self.model.nq
        self._qpos0 = 1  # FULLPHYSICS = [time, qpos, qvel, act, ...]
        self._qvel0 = 1 + nq
        self._state = np.zeros((num_envs, nstate))
        self._traj = np.zeros((num_envs, DECIMATION, nstate))
        self._ctrl = np.zeros((num_envs, DECIMATION, self.model.nu))
        self._generator = torch.Generator().manual_seed(seed)
        self._noise_generator = torch.Generator().manual_seed(seed + 1)
        self._noise_scales = self.spec.observation_noise_scales()
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long)
        self.command = torch.zeros(num_envs, 3)
        self.action = torch.zeros(num_envs, N_JOINTS)
        self.last_action = torch.zeros(num_envs, N_JOINTS)
        self._latency = ActionLatencyBuffer(num_envs, N_JOINTS)
        self._success = SuccessHold(num_envs, self.spec.success_hold_steps)
        self._episode_sums = {name: torch.zeros(num_envs) for name in self.cfg.reward_weights}
        self.physics_params: dict[str, torch.Tensor] = {
            k: torch.full((num_envs,), randomization.NOMINAL[k], dtype=torch.float64)
            for k in randomization.PHYSICS_FIELDS}
        self._reset(torch.arange(num_envs))
        self._arm_state = self.read_state()

    # ------------------------------------------------------------------ state
    def read_state(self) -> ArmState:
        """The batched task state from the current MuJoCo states."""
        qpos = torch.from_numpy(self._state[:, self._qpos0:self._qpos0 + self.model.nq]).float()
        qvel = torch.from_numpy(self._state[:, self._qvel0:self._qvel0 + self.model.nv]).float()
        objects = {}
        if self.spec.has_object:
            objects = dict(object_pos=qpos[:, 6:9], object_quat=qpos[:, 9:13], object_lin_vel=qvel[:, 6:9])
        return ArmState.from_joints(qpos[:, :N_JOINTS], qvel[:, :N_JOINTS], self.command, self.action,
                                    self.last_action, **objects)

    @property
    def latency(self) -> torch.Tensor:
        """(N,) the current episodes' action latency, control steps."""
        return self._latency.latency

    @property
    def succeeded(self) -> torch.Tensor:
        """(N,) bool: the success condition held long enough at some point of the current episode."""
        return self._success.succeeded

    @property
    def arm_state(self) -> ArmState:
        """The task state the current observations were computed from."""
        return self._arm_state

    def mj_state(self, env_id: int) -> np.ndarray:
        """FULLPHYSICS state vector of one environment (for viewers: ``mujoco.mj_setState``)."""
        return self._state[env_id].copy()

    def env_model(self, env_id: int) -> mujoco.MjModel:
        return self._rollout_models[env_id]

    def set_command(self, env_ids: torch.Tensor, command: torch.Tensor) -> None:
        """Replace the current episodes' commands (Reach: the TCP target, m) of ``env_ids``; the next observation
        carries them (inspection tools move the target by hand)."""
        self.command[env_ids] = torch.as_tensor(command, dtype=self.command.dtype)
        self._arm_state = self.read_state()

    def _reset(self, env_ids: torch.Tensor) -> None:
        n = len(env_ids)
        if n == 0:
            return
        ids = env_ids.numpy()
        sample = self.spec.reset(self.cfg, n, self._generator)
        self._state[ids] = 0.0
        self._state[ids, self._qpos0:self._qpos0 + N_JOINTS] = sample.joint_pos.double().numpy()
        if self.spec.has_object:
            self._state[ids, self._qpos0 + 6:self._qpos0 + 9] = sample.object_pos.double().numpy()
            self._state[ids, self._qpos0 + 9:self._qpos0 + 13] = sample.object_quat.double().numpy()
        self.command[env_ids] = sample.command
        self.action[env_ids] = 0.0
        self.last_action[env_ids] = 0.0
        self.episode_length_buf[env_ids] = 0
        self._success.reset(env_ids)
        rand = self.cfg.randomization
        self._latency.hold(env_ids, sample.joint_pos, randomization.sample_latency(rand, n, self._generator))
        if self._models is not None:
            values = randomization.sample_physics(rand, n, self._generator)
            for k, v in values.items():
                self.physics_params[k][env_ids] = v
            for row, i in enumerate(ids):
                self._randomizer.apply(self._models[i], {k: float(v[row]) for k, v in values.items()})

    # ------------------------------------------------------------------ VecEnv
    def get_observations(self) -> TensorDict:
        clean = self.spec.observations(self._arm_state)
        noisy = clean + randomization.observation_noise(self.cfg.randomization, self._noise_scales, self.num_envs,
                                                        self._noise_generator)
        return TensorDict({"policy": noisy, "critic": clean}, batch_size=[self.num_envs])

    def step(self, actions: torch.Tensor):
        actions = torch.as_tensor(actions, dtype=torch.float32).detach().cpu()
        if actions.shape != (self.num_envs, N_JOINTS):
            raise ValueError(f"actions must be ({self.num_envs}, {N_JOINTS}), got {tuple(actions.shape)}")
        self.last_action = self.action
        self.action = torch.nan_to_num(actions)
        applied = self._latency.push(joint_targets(self.action))
        self._ctrl[:] = applied.double().numpy()[:, None, :]
        self._rollout.rollout(self._rollout_models, self._datas, self._state, self._ctrl, nstep=DECIMATION,
                              state=self._traj, skip_checks=True)
        self._state[:] = self._traj[:, -1]
        self.episode_length_buf += 1

        s = self.read_state()
        terms = self.spec.reward_terms(self.cfg, s)
        reward = torch.zeros(self.num_envs)
        for name, value in terms.items():
            weighted = self.cfg.reward_weights[name] * value * CONTROL_DT
            reward += weighted
            self._episode_sums[name] += weighted
        self._success.update(self.spec.success_condition(self.cfg, s))
        failures = self.spec.terminations(self.cfg, s)
        terminated = torch.zeros(self.num_envs, dtype=torch.bool)
        for value in failures.values():
            terminated |= value
        time_outs = time_out(self.episode_length_buf, self.max_episode_length) & ~terminated
        dones = terminated | time_outs
        extras = {"time_outs": time_outs, "log": {}}
        done_ids = dones.nonzero(as_tuple=False).flatten()
        if len(done_ids):
            self.last_episode = {"env_ids": done_ids, "success": self.succeeded[done_ids].clone(),
                                 **{name: fn(s)[done_ids] for name, fn in self.spec.metrics}}
            log = extras["log"]
            log["Metrics/success_rate"] = self.succeeded[done_ids].float().mean()
            for name, _ in self.spec.metrics:
                log[f"Metrics/{name}"] = self.last_episode[name].mean()
            for name, value in failures.items():
                log[f"Episode_Termination/{name}"] = value[done_ids].float().mean()
            log["Episode_Termination/time_out"] = time_outs[done_ids].float().mean()
            for name, total in self._episode_sums.items():
                log[f"Episode_Reward/{name}"] = total[done_ids].mean()
                total[done_ids] = 0.0
            self._reset(done_ids)
            s = self.read_state()
        else:
            self.last_episode = None
        self._arm_state = s
        return self.get_observations(), reward, dones, extras
