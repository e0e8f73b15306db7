"""Closed-loop evaluation of a LeRobot policy (e.g. ACT trained on sim demos) on the MuJoCo backend: the same
held-out episodes, success test and metrics as :func:`roarm_lab.evaluation.evaluate` uses for the project's own
policies, so an imitation policy is checked sim-to-sim before it meets the arm.

The policy sees what the demos recorded (:mod:`.sim_demos`): the joints, the cube and target positions and the
cube's yaw; camera
inputs are not supported here. Its joint targets go to the env as the actions that command them.
"""

from __future__ import annotations

import numpy as np
import torch

from roarm_lab.evaluation import EvalResult, eval_env, run_episodes
from roarm_lab.tasks.mdp.actions import actions_for_targets

from .dataset_features import ENVIRONMENT_STATE, IMAGE_PREFIX, STATE, TASK_PROMPTS
from .lerobot_policy import LeRobotPolicy
from .sim_demos import environment_state_of


def evaluate_lerobot_policy(task: str, policy: LeRobotPolicy, episodes: int = 100, seed: int = 0,
                            nthread: int = 2) -> EvalResult:
    """The first episode of ``episodes`` environments, all started together (one action-chunk queue serves the
    batch)."""
    images = [name for name in policy.input_names if name.startswith(IMAGE_PREFIX)]
    if images:
        raise ValueError(f"evaluating camera inputs ({', '.join(images)}) in simulation is not supported")
    env = eval_env(task, episodes, seed=seed, nthread=nthread)
    policy.reset()
    prompt = TASK_PROMPTS.get(task, "")

    def act(_observation: torch.Tensor) -> torch.Tensor:
        state = env.arm_state
        inputs = {STATE: state.joint_pos.numpy().astype(np.float32),
                  ENVIRONMENT_STATE: environment_state_of(state).numpy().astype(np.float32)}
        targets = policy.act_batch({name: inputs[name] for name in policy.input_names}, prompt)
        return actions_for_targets(torch.as_tensor(targets, dtype=torch.float32))

    return run_episodes(task, env, act)
