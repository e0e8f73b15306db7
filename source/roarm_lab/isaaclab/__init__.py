"""The RoArm tasks on Isaac Lab 3: ``RoArm-Reach``, ``RoArm-Lift``, ``RoArm-PickPlace`` and their ``-Play``
variants, registered with gymnasium on import (and found by ``isaaclab train --task`` through the package's
``isaaclab.tasks`` entry point).

Modules: :mod:`.robot_cfg` (the articulation), :mod:`.scene_cfg` (table, cube), :mod:`.task_state` (the
TaskSpec bridge: ArmState, command, success), :mod:`.actions`, :mod:`.terms`, :mod:`.events`, :mod:`.env_cfg`.
One gym id and one ``-Play`` id per task of :mod:`roarm_lab.tasks.registry`, named after the task; their config
classes are generated from the registry: the env configs in :mod:`.env_cfg`, the rsl-rl agent configs in
:mod:`roarm_lab.training.rsl_rl_cfg` (class names: :func:`env_cfg_class_names`, :func:`rsl_rl_cfg_class_name`).
Importing this package is cheap: the configs load when an env is made.
"""

import gymnasium as gym

from roarm_lab.tasks.registry import TASK_IDS

ENV_ENTRY_POINT = "isaaclab.envs:ManagerBasedRLEnv"
ENV_CFG_MODULE = "roarm_lab.isaaclab.env_cfg"
RSL_RL_CFG_MODULE = "roarm_lab.training.rsl_rl_cfg"


def env_cfg_class_names(task_id: str) -> tuple[str, str]:
    """The task's env config class and its ``-Play`` variant in :mod:`.env_cfg`, e.g. ``RoArmReachEnvCfg``,
    ``RoArmReachPlayEnvCfg``."""
    stem = task_id.replace("-", "")
    return f"{stem}EnvCfg", f"{stem}PlayEnvCfg"


def rsl_rl_cfg_class_name(task_id: str) -> str:
    """The task's rsl-rl config class in :mod:`roarm_lab.training.rsl_rl_cfg`, e.g. ``RoArmReachPPORunnerCfg``
    (that module names its classes with this function)."""
    return task_id.replace("-", "") + "PPORunnerCfg"


def _register() -> None:
    for task_id in TASK_IDS:
        for env_id, cfg_name in zip((task_id, task_id + "-Play"), env_cfg_class_names(task_id), strict=True):
            if env_id in gym.registry:
                continue
            gym.register(
                id=env_id,
                entry_point=ENV_ENTRY_POINT,
                disable_env_checker=True,
                kwargs={
                    "env_cfg_entry_point": f"{ENV_CFG_MODULE}:{cfg_name}",
                    "rsl_rl_cfg_entry_point": f"{RSL_RL_CFG_MODULE}:{rsl_rl_cfg_class_name(task_id)}",
                    "default_agent": "rsl_rl",
                },
            )


_register()
