"""N RoArm environments in native MuJoCo behind the rsl-rl ``VecEnv`` interface.

Physics: every control step advances all environments DECIMATION physics steps with ``mujoco.rollout`` on a
persistent thread pool (one MjData per thread). The MDP (observations, rewards, resets) is the task module's
torch code on the batched state, so the same functions serve the Isaac Lab backend.
"""

from __future__ import annotations

import mujoco
import numpy as np
import torch
from mujoco import rollout
from rsl_rl.env import VecEnv
from tensordict import TensorDict

from roarm_lab import kinematics
from roarm_lab.tasks import reach
from roarm_lab.tasks.mdp.actions import joint_targets
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.mdp.terminations import time_out
from roarm_lab.tasks.timing import CONTROL_DT, DECIMATION

from .scene import build_scene

N_JOINTS = 6


class MujocoReachEnv(VecEnv):
    """RoArm-Reach on MuJoCo."""

    def __init__(self, num_envs: int, cfg: reach.ReachCfg | None = None, seed: int = 0, nthread: int = 2,
                 device: str = "cpu"):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.cfg = cfg or reach.ReachCfg()
        self.num_envs = num_envs
        self.num_actions = N_JOINTS
        self.device = device
        self.max_episode_length = int(round(self.cfg.episode_length_s / CONTROL_DT))
        self.model = build_scene()
        self._datas = [mujoco.MjData(self.model) for _ in range(nthread)]
        self._rollout = rollout.Rollout(nthread=nthread)
        self._state_spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        nstate = mujoco.mj_stateSize(self.model, self._state_spec)
        self._qpos = slice(1, 1 + self.model.nq)  # FULLPHYSICS = [time, qpos, qvel, ...]
        self._qvel = slice(1 + self.model.nq, 1 + self.model.nq + self.model.nv)
        self._state = np.zeros((num_envs, nstate))
        self._ctrl = np.zeros((num_envs, DECIMATION, self.model.nu))
        self._generator = torch.Generator().manual_seed(seed)
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long)
        self.command = torch.zeros(num_envs, 3)
        self.action = torch.zeros(num_envs, N_JOINTS)
        self.last_action = torch.zeros(num_envs, N_JOINTS)
        self._episode_sums = {name: torch.zeros(num_envs) for name in self.cfg.reward_weights}
        self._reset(torch.arange(num_envs))
        self._arm_state = self._read_state()

    # ------------------------------------------------------------------ state
    def _read_state(self) -> ArmState:
        qpos = torch.from_numpy(self._state[:, self._qpos]).float()
        qvel = torch.from_numpy(self._state[:, self._qvel]).float()
        return ArmState(
            joint_pos=qpos[:, :N_JOINTS], joint_vel=qvel[:, :N_JOINTS],
            tcp_pos=kinematics.tcp_position(qpos[:, :N_JOINTS]), command=self.command,
            action=self.action, last_action=self.last_action,
        )

    def _reset(self, env_ids: torch.Tensor) -> None:
        n = len(env_ids)
        if n == 0:
            return
        ids = env_ids.numpy()
        q0 = reach.initial_joint_pos(self.cfg, n, self._generator)
        self._state[ids] = 0.0
        self._state[ids, self._qpos.start:self._qpos.start + N_JOINTS] = q0.double().numpy()
        self.command[env_ids] = reach.sample_targets(self.cfg, n, self._generator)
        self.action[env_ids] = 0.0
        self.last_action[env_ids] = 0.0
        self.episode_length_buf[env_ids] = 0

    # ------------------------------------------------------------------ VecEnv
    def get_observations(self) -> TensorDict:
        s = self._arm_state
        obs = torch.cat([fn(s) for _, fn, _ in reach.OBSERVATION_TERMS], dim=-1)
        return TensorDict({"policy": obs, "critic": obs}, batch_size=[self.num_envs])

    def step(self, actions: torch.Tensor):
        actions = torch.as_tensor(actions, dtype=torch.float32).detach().cpu()
        if actions.shape != (self.num_envs, N_JOINTS):
            raise ValueError(f"actions must be ({self.num_envs}, {N_JOINTS}), got {tuple(actions.shape)}")
        self.last_action = self.action
        self.action = torch.nan_to_num(actions)
        self._ctrl[:] = joint_targets(self.action).double().numpy()[:, None, :]
        states, _ = self._rollout.rollout(self.model, self._datas, self._state, self._ctrl, nstep=DECIMATION)
        self._state = states[:, -1].copy()
        self.episode_length_buf += 1

        s = self._read_state()
        terms = reach.reward_terms(self.cfg, s)
        reward = torch.zeros(self.num_envs)
        for name, value in terms.items():
            weighted = self.cfg.reward_weights[name] * value * CONTROL_DT
            reward += weighted
            self._episode_sums[name] += weighted
        time_outs = time_out(self.episode_length_buf, self.max_episode_length)
        extras = {"time_outs": time_outs, "log": {}}
        done_ids = time_outs.nonzero(as_tuple=False).flatten()
        if len(done_ids):
            extras["log"]["Metrics/final_tcp_error_m"] = terms["tcp_distance"][done_ids].mean()
            extras["log"]["Metrics/success_rate"] = reach.success(s)[done_ids].float().mean()
            for name, total in self._episode_sums.items():
                extras["log"][f"Episode_Reward/{name}"] = total[done_ids].mean()
                total[done_ids] = 0.0
            self._reset(done_ids)
            s = self._read_state()
        self._arm_state = s
        return self.get_observations(), reward, time_outs.clone(), extras
