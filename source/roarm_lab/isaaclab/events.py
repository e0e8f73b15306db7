"""Reset events: the TaskSpec's reset sample written into the scene, and the physics domain randomization drawn
from :mod:`roarm_lab.tasks.randomization`.

:func:`reset_task` draws, in the MuJoCo env's order and from one generator, the reset sample, the action latency
and the physics values, so both backends see the same episodes for the same seed. :class:`apply_physics`
(the next reset event) writes the physics values.

Randomized here: servo stiffness and back-EMF damping (on the DC-motor model), armature, joint friction (N*m on
Newton, as MuJoCo's frictionloss; PhysX reads it as its own coefficient), link masses and inertias, cube mass and
inertia. Elsewhere: the action latency (:mod:`.actions`), the observation noise (the policy group's noise
configs) and the cube friction, by Isaac Lab's ``randomize_rigid_body_material`` over the same range (its own
sampler: Newton keeps shape materials in backend views only).
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

#: (component, parameter) of the servo actuator -> (randomization field, exponent of its scale). The DC-motor
#: clip's velocity limit is tau_limit / b, so it scales with 1 / damping: the back-EMF stays outside the clip.
SERVO_PARAMS = {("controller", "kp"): ("stiffness_scale", 1), ("controller", "kd"): ("damping_scale", 1),
                ("clamping", "velocity_limit"): ("damping_scale", -1)}


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
        # the servo group runs as a Newton actuator (PD controller + DC-motor clamping) on every backend
        self.servo_params = {(component, attr): read_group_parameter(robot.actuators, SERVO_GROUP, component, attr)
                             for component, attr in SERVO_PARAMS}
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
        for (component, attr), (field, exponent) in SERVO_PARAMS.items():
            nominal = self.servo_params[component, attr]
            write_group_parameter(robot.actuators, SERVO_GROUP, component, attr,
                                  nominal[env_ids] * col[field] ** exponent, env_ids=env_ids)
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
