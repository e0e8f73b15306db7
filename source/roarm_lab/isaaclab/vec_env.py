"""A RoArm task on Isaac Lab as an rsl-rl ``VecEnv``: what ``scripts/train.py --backend isaaclab`` trains on.

The default physics preset (``newton_mjwarp``) needs no Isaac Sim, so this runs kit-less on a CPU or a GPU. Other
presets go through ``overrides`` (Hydra syntax, e.g. ``["presets=physx"]``; PhysX needs Isaac Sim, launched by
``isaaclab train``).
"""

from __future__ import annotations

from collections.abc import Sequence

from roarm_lab.tasks.spec import TaskCfg


def make_vec_env(task: str, num_envs: int, seed: int, device: str = "cpu", overrides: Sequence[str] = ()):
    """The wrapped env (rsl-rl VecEnv; ``.unwrapped`` is the ManagerBasedRLEnv) and its task config."""
    import gymnasium as gym
    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper
    from isaaclab_tasks.utils import parse_env_cfg

    import roarm_lab.isaaclab  # noqa: F401 (registers the tasks)
    from roarm_lab.isaaclab.task_state import task_state

    cfg = parse_env_cfg(task, device=device, num_envs=num_envs, overrides=list(overrides))
    cfg.seed = seed
    env = RslRlVecEnvWrapper(gym.make(task, cfg=cfg))
    task_cfg: TaskCfg = task_state(env.unwrapped).task_cfg
    return env, task_cfg
