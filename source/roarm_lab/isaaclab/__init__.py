"""The RoArm tasks on Isaac Lab 3: ``RoArm-Reach``, ``RoArm-Lift``, ``RoArm-PickPlace`` and their ``-Play``
variants, registered with gymnasium on import (and found by ``isaaclab train --task`` through the package's
``isaaclab.tasks`` entry point).

Modules: :mod:`.robot_cfg` (the articulation), :mod:`.scene_cfg` (table, cube), :mod:`.task_state` (the
TaskSpec bridge: ArmState, command, success), :mod:`.actions`, :mod:`.terms`, :mod:`.events`, :mod:`.env_cfg`.
Importing this package is cheap: the configs load when an env is made.
"""

import gymnasium as gym

from roarm_lab.tasks.registry import TASKS

_CFG_CLASSES = {"RoArm-Reach": "RoArmReach", "RoArm-Lift": "RoArmLift", "RoArm-PickPlace": "RoArmPickPlace"}
_RUNNER_CFGS = {"RoArm-Reach": "ReachPPORunnerCfg", "RoArm-Lift": "LiftPPORunnerCfg",
                "RoArm-PickPlace": "PickPlacePPORunnerCfg"}


def _register() -> None:
    for task_id in TASKS:
        for suffix, cfg_suffix in (("", "EnvCfg"), ("-Play", "PlayEnvCfg")):
            env_id = task_id + suffix
            if env_id in gym.registry:
                continue
            gym.register(
                id=env_id,
                entry_point="isaaclab.envs:ManagerBasedRLEnv",
                disable_env_checker=True,
                kwargs={
                    "env_cfg_entry_point": f"roarm_lab.isaaclab.env_cfg:{_CFG_CLASSES[task_id]}{cfg_suffix}",
                    "rsl_rl_cfg_entry_point": f"roarm_lab.tasks.agents:{_RUNNER_CFGS[task_id]}",
                    "default_agent": "rsl_rl",
                },
            )


_register()
