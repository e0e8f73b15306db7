"""The reactive pick expert (tasks/pick_expert.py): solves Lift and PickPlace by real contact under full
randomization, and, having no clock, recovers from a dropped cube, which the clocked ScriptedPicker cannot."""

from __future__ import annotations

import pytest
import torch

from roarm_lab.evaluation import eval_cfg
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks import scene
from roarm_lab.tasks.mdp import rewards as rew
from roarm_lab.tasks.mdp.actions import actions_for_targets
from roarm_lab.tasks.pick_expert import ReactivePicker
from roarm_lab.tasks.scripted import OPEN

N = 32


@pytest.mark.slow
@pytest.mark.parametrize(("task_id", "min_success"), [("RoArm-Lift", 0.85), ("RoArm-PickPlace", 0.8)])
def test_reactive_picker_solves_the_task_from_home(task_id, min_success):
    env = MujocoTaskEnv(task_id, N, cfg=eval_cfg(task_id), seed=11, nthread=1)
    expert = ReactivePicker(place=task_id == "RoArm-PickPlace")
    for _ in range(env.max_episode_length - 1):
        env.step(expert(env.arm_state))
    assert env.succeeded.float().mean().item() >= min_success


@pytest.mark.slow
def test_reactive_picker_grasps_again_after_the_cube_is_dropped():
    cfg = eval_cfg("RoArm-Lift")
    cfg.episode_length_s = 8.0  # time for a second grasp
    env = MujocoTaskEnv("RoArm-Lift", N, cfg=cfg, seed=5, nthread=1)
    expert = ReactivePicker(place=False)
    dropped = torch.zeros(N, dtype=torch.bool)
    for step in range(env.max_episode_length - 1):
        action = expert(env.arm_state)
        if 70 <= step < 80:  # force the jaws open for a third of a second: whatever was held falls
            action[:, 5] = actions_for_targets(torch.full((N, 6), OPEN))[:, 5]
        env.step(action)
        if step == 80:
            dropped = rew.object_height(env.arm_state) < 0.01
            env.succeeded[:] = False  # count only success after the drop
    assert dropped.float().mean().item() >= 0.5, "the forced opening dropped too few cubes to test recovery"
    recovered = env.succeeded[dropped].float().mean().item()
    assert recovered >= 0.8
    assert torch.median(env.arm_state.object_pos[dropped, 2] - scene.CUBE_REST_Z) > 0.05
