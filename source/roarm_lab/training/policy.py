"""rsl-rl glue shared by train.py, play.py and the benchmarks: the rsl-rl config of a task and trained policies as
plain ``obs -> actions`` functions."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version

import torch


def runner_cfg(task: str, device: str = "cpu"):
    """The task's rsl-rl config (:mod:`roarm_lab.training.rsl_rl_cfg`, from its registry entry's agent), adapted to
    the installed rsl-rl-lib."""
    from isaaclab_rl.rsl_rl import handle_deprecated_rsl_rl_cfg

    from roarm_lab.training.rsl_rl_cfg import CFG_CLASSES

    cfg = CFG_CLASSES[task]()
    cfg.device = device
    return handle_deprecated_rsl_rl_cfg(cfg, version("rsl-rl-lib"))


def obs_policy(actor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Wrap an rsl-rl actor (it reads the ``policy`` observation group) as obs (N, k) -> actions (N, 6)."""
    from tensordict import TensorDict

    return lambda obs: actor(TensorDict({"policy": obs}, batch_size=[obs.shape[0]]))


def load_actor(task: str, checkpoint: str, device: str = "cpu"):
    """The rsl-rl actor (``MLPModel`` in eval mode: observation normalizer, MLP, distribution) of a checkpoint."""
    from rsl_rl.runners import OnPolicyRunner

    from roarm_lab.sim_mujoco.env import MujocoTaskEnv

    shape_env = MujocoTaskEnv(task, 1, nthread=1)  # the runner sizes its networks from an env
    runner = OnPolicyRunner(shape_env, runner_cfg(task, device).to_dict(), log_dir=None, device=device)
    runner.load(checkpoint, map_location=device)
    return runner.get_inference_policy(device)


def load_policy(task: str, checkpoint: str, device: str = "cpu") -> Callable[[torch.Tensor], torch.Tensor]:
    """The deterministic actor of an rsl-rl checkpoint of ``task``."""
    return obs_policy(load_actor(task, checkpoint, device))
