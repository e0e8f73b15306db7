"""Reset events: the TaskSpec's reset sample written into the scene, and the physics domain randomization drawn
from :mod:`roarm_lab.tasks.randomization`.

:func:`reset_task` draws, in the MuJoCo env's order and from one generator, the reset sample, the action latency
and the physics values, so both backends see the same episodes for the same seed. :class:`apply_physics`
(the next reset event) writes the physics values.

Randomized here: servo stiffness (the actuator's kp), back-EMF damping (passive joint damping, as MuJoCo's), armature,
joint friction (N*m on Newton, as MuJoCo's frictionloss; PhysX reads it as its own coefficient), link masses and
inertias, cube mass and inertia. Elsewhere: the action latency (:mod:`.actions`), the observation noise (the policy
group's noise configs) and the cube friction, by Isaac Lab's ``randomize_rigid_body_material`` over the same range (its
own sampler: Newton keeps shape materials in backend views only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.actuators.newton import read_group_parameter, write_group_parameter
from isaaclab.managers import EventTermCfg, ManagerTermBase

from roarm_lab.isaaclab.robot_cfg import SERVO_GROUP
from roarm_lab.isaaclab.task_state import ACTION_TERM, ROBOT, task_state, wxyz_to_xyzw
from roarm_lab.tasks import randomization, scene

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv



def _index(env: ManagerBasedRLEnv, env_ids: torch.Tensor | slice | None) -> torch.Tensor:
    """Event env_ids as an index tensor (Isaac Lab passes a slice for "all")."""
    if env_ids is None or isinstance(env_ids, slice):
        return torch.arange(env.num_envs, device=env.device)[env_ids or slice(None)]
    return env_ids.long()


def reset_task(env: ManagerBasedRLEnv, env_ids: torch.Tensor | slice | None) -> None:
    """Start new episodes from the TaskSpec's reset sampler: joints, cube pose, command, latency, physics."""
    task = task_state(env)
    env_ids = _index(env, env_ids)
    n = len(env_ids)
    sample = task.spec.reset(task.task_cfg, n, task.generator)
    joint_pos = sample.joint_pos.to(env.device)
    task.robot.write_joint_position_to_sim_index(position=joint_pos, joint_ids=task.joint_ids, env_ids=env_ids)
    task.robot.write_joint_velocity_to_sim_index(velocity=torch.zeros_like(joint_pos), joint_ids=task.joint_ids,
                                                 env_ids=env_ids)
    if task.cube is not None:
        pos = sample.object_pos.to(env.device) + env.scene.env_origins[env_ids]
        pose = torch.cat([pos, wxyz_to_xyzw(sample.object_quat.to(env.device))], dim=-1)
        task.cube.write_root_pose_to_sim_index(root_pose=pose, env_ids=env_ids)
        task.cube.write_root_velocity_to_sim_index(root_velocity=torch.zeros(n, 6, device=env.device),
                                                   env_ids=env_ids)
    rand = task.task_cfg.randomization
    latency = randomization.sample_latency(rand, n, task.generator)
    env.action_manager.get_term(ACTION_TERM).hold(env_ids, joint_pos, latency)
    if rand.enabled:
        for name, values in randomization.sample_physics(rand, n, task.generator).items():
            task.physics_params[name][env_ids] = values.float().to(env.device)
    task.start_episodes(env_ids, sample.command)


class apply_physics(ManagerTermBase):  # noqa: N801 (Isaac Lab names event terms like functions)
    """Write the physics values :func:`reset_task` drew (``task.physics_params``) into the scene, as scales of the
    nominal values read at start-up (absolute values for the cube mass)."""

    def __init__(self, cfg: EventTermCfg, env: ManagerBasedRLEnv):
        super().__init__(cfg, env)
        robot = env.scene[ROBOT]  # (built before the command manager: no task term yet)
        # the servo group runs as a Newton actuator (P controller + effort clamping) on every backend
        self.kp = read_group_parameter(robot.actuators, SERVO_GROUP, "controller", "kp")
        self.damping = robot.data.joint_viscous_friction_coeff.torch.clone()  # the back-EMF, passive
        self.armature = robot.data.joint_armature.torch.clone()
        self.friction = robot.data.joint_friction_coeff.torch.clone()
        self.mass = robot.data.body_mass.torch.clone()
        self.inertia = robot.data.body_inertia.torch.clone()

    def __call__(self, env: ManagerBasedRLEnv, env_ids: torch.Tensor | slice | None) -> None:
        task = task_state(env)
        if not task.task_cfg.randomization.enabled:
            return
        env_ids = _index(env, env_ids)
        p = {k: v[env_ids] for k, v in task.physics_params.items()}
        col = {k: v[:, None] for k, v in p.items()}
        robot = task.robot
        write_group_parameter(robot.actuators, SERVO_GROUP, "controller", "kp",
                              self.kp[env_ids] * col["stiffness_scale"], env_ids=env_ids)
        robot.write_joint_viscous_friction_coefficient_to_sim_index(
            joint_viscous_friction_coeff=self.damping[env_ids] * col["damping_scale"], env_ids=env_ids)
        robot.write_joint_armature_to_sim_index(armature=self.armature[env_ids] * col["armature_scale"],
                                                env_ids=env_ids)
        robot.write_joint_friction_coefficient_to_sim_index(
            joint_friction_coeff=self.friction[env_ids] * col["joint_friction_scale"], env_ids=env_ids)
        mass_scale = col["link_mass_scale"]
        robot.set_masses_index(masses=self.mass[env_ids] * mass_scale, env_ids=env_ids)
        robot.set_inertias_index(inertias=self.inertia[env_ids] * mass_scale[..., None], env_ids=env_ids)
        if task.cube is not None:
            m = p["object_mass"]
            task.cube.set_masses_index(masses=m[:, None], env_ids=env_ids)
            diag = m * scene.CUBE_SIZE**2 / 6.0  # solid cube
            inertia = torch.zeros(len(env_ids), 1, 9, device=env.device)
            inertia[:, 0, [0, 4, 8]] = diag[:, None]
            task.cube.set_inertias_index(inertias=inertia, env_ids=env_ids)
