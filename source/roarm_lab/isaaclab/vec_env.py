"""A RoArm task on Isaac Lab as an rsl-rl ``VecEnv``: what ``scripts/train.py --backend isaaclab`` trains on and
what :func:`roarm_lab.evaluation.evaluate` runs with ``backend="isaaclab"``.

The default physics preset (``newton_mjwarp``) needs no Isaac Sim, so this runs kit-less on a CPU or a GPU. Other
presets go through ``overrides`` (Hydra syntax, e.g. ``["presets=physx"]``; PhysX needs Isaac Sim, launched by
``isaaclab train``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

from roarm_lab.tasks.spec import TaskCfg


class RoArmVecEnv(RslRlVecEnvWrapper):
    """rsl-rl's Isaac Lab wrapper plus the task's episode record, so loops written for
    :class:`~roarm_lab.sim_mujoco.env.MujocoTaskEnv` run on it unchanged."""

    @property
    def task(self):
        """The task term (:class:`~roarm_lab.isaaclab.task_state.TaskStateTerm`)."""
        from roarm_lab.isaaclab.task_state import task_state

        return task_state(self.unwrapped)

    @property
    def arm_state(self):
        """The task state (:class:`~roarm_lab.tasks.mdp.state.ArmState`) the current observations come from."""
        return self.task.arm_state()

    @property
    def last_episode(self) -> dict[str, torch.Tensor] | None:
        """The episodes ended by the last step's resets: env_ids, success and the task's metrics."""
        return self.task.last_episode


def make_vec_env(task: str, num_envs: int, seed: int, device: str = "cpu", overrides: Sequence[str] = (),
                 task_cfg: TaskCfg | None = None) -> tuple[RoArmVecEnv, TaskCfg]:
    """The wrapped env (``.unwrapped`` is the ManagerBasedRLEnv) and its task config (``task_cfg``, default: the
    task's ``make_cfg()``). Close it before making the next one: Isaac Lab runs one simulation per process."""
    import gymnasium as gym
    from isaaclab_tasks.utils import parse_env_cfg

    import roarm_lab.isaaclab  # noqa: F401 (registers the tasks)

    cfg = parse_env_cfg(task, device=device, num_envs=num_envs, overrides=list(overrides))
    if task_cfg is not None:
        cfg.set_task_cfg(task_cfg)
    cfg.seed = seed
    env = RoArmVecEnv(gym.make(task, cfg=cfg))
    return env, env.task.task_cfg
