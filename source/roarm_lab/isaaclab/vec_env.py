"""A RoArm task on Isaac Lab as an rsl-rl ``VecEnv``: what ``scripts/train.py --backend isaaclab`` trains on and
what :func:`roarm_lab.evaluation.evaluate` runs with ``backend="isaaclab"``.

Both physics presets run kit-less, on a CPU or a GPU: ``newton_mjwarp`` (the default) and ``physx``, which is Isaac
Sim's PhysX where Kit runs and OvPhysX (PhysX without Isaac Sim) elsewhere (:mod:`roarm_lab.isaaclab.physics`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

from roarm_lab.isaaclab.ovphysx_cpu import allow_pinned_host_memory_without_cuda
from roarm_lab.isaaclab.physics import DEFAULT_PHYSICS, check_physics
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


def make_vec_env(task: str, num_envs: int, seed: int, device: str = "cpu", physics: str = DEFAULT_PHYSICS,
                 overrides: Sequence[str] = (), task_cfg: TaskCfg | None = None) -> tuple[RoArmVecEnv, TaskCfg]:
    """The wrapped env (``.unwrapped`` is the ManagerBasedRLEnv) on the ``physics`` preset and its task config
    (``task_cfg``, default: the task's ``make_cfg()``); ``overrides``: more Hydra overrides. Close it before making
    the next one: Isaac Lab runs one simulation per process."""
    import gymnasium as gym
    from isaaclab_tasks.utils import parse_env_cfg

    import roarm_lab.isaaclab  # noqa: F401 (registers the tasks)

    check_physics(physics)
    allow_pinned_host_memory_without_cuda()
    cfg = parse_env_cfg(task, device=device, num_envs=num_envs, overrides=[f"presets={physics}", *overrides])
    if task_cfg is not None:
        cfg.set_task_cfg(task_cfg)
    cfg.seed = seed
    env = RoArmVecEnv(gym.make(task, cfg=cfg))
    return env, env.task.task_cfg
