"""Apply sampled domain-randomization values (:mod:`roarm_lab.tasks.randomization`) to one environment's MjModel."""

from __future__ import annotations

import mujoco
import numpy as np

from roarm_lab.description import JOINT_NAMES
from roarm_lab.tasks import scene

from .scene import OBJECT_BODY


class ModelRandomizer:
    """Remembers the nominal values of a scene model and writes scaled copies into per-environment models."""

    def __init__(self, model: mujoco.MjModel):
        self.actuators = np.array([model.actuator(name).id for name in JOINT_NAMES])
        self.dofs = np.array([model.joint(name).dofadr[0] for name in JOINT_NAMES])
        cube = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, OBJECT_BODY)
        self.cube_body = cube if cube >= 0 else None
        self.cube_geom = model.geom("cube").id if cube >= 0 else None
        self.arm_bodies = np.array([b for b in range(1, model.nbody) if b != cube])
        self.kp = model.actuator_gainprm[self.actuators, 0].copy()
        self.damping = model.dof_damping[self.dofs].copy()
        self.armature = model.dof_armature[self.dofs].copy()
        self.friction = model.dof_frictionloss[self.dofs].copy()
        self.mass = model.body_mass[self.arm_bodies].copy()
        self.inertia = model.body_inertia[self.arm_bodies].copy()

    def apply(self, model: mujoco.MjModel, values: dict[str, float]) -> None:
        kp = self.kp * values["stiffness_scale"]
        model.actuator_gainprm[self.actuators, 0] = kp
        model.actuator_biasprm[self.actuators, 1] = -kp  # position actuator: force = kp (ctrl - q)
        model.dof_damping[self.dofs] = self.damping * values["damping_scale"]
        model.dof_armature[self.dofs] = self.armature * values["armature_scale"]
        model.dof_frictionloss[self.dofs] = self.friction * values["joint_friction_scale"]
        model.body_mass[self.arm_bodies] = self.mass * values["link_mass_scale"]
        model.body_inertia[self.arm_bodies] = self.inertia * values["link_mass_scale"]
        if self.cube_body is not None:
            m = values["object_mass"]
            model.body_mass[self.cube_body] = m
            model.body_inertia[self.cube_body] = m * scene.CUBE_SIZE**2 / 6.0  # solid cube
            model.geom_friction[self.cube_geom, 0] = values["object_friction"]
