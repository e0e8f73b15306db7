"""The RoArm-M3 Pro as an Isaac Lab articulation: the generated USD plus the servo model of the description.

The servo model of :mod:`roarm_lab.description.servo` is ``tau = clip(kp*e, -tau_limit, tau_limit) - b*qdot``.
It is built here as MuJoCo builds it: the clipped proportional term is an explicit actuator
(:class:`~isaaclab.actuators.IdealPDActuatorCfg`, kd = 0, effort clamp tau_limit; Isaac Lab 3 runs it as a Newton
actuator on both physics backends), and the back-EMF ``b*qdot`` is passive joint damping (``viscous_friction``),
which MuJoCo-Warp integrates implicitly, as MuJoCo's ``implicitfast`` does. Putting ``b`` into the actuator
instead (e.g. a DC-motor model whose clip cancels the ``b*qdot`` terms) gives the same torque law but integrates
the damping explicitly: the servo then leads MuJoCo by about one physics step whenever it accelerates, ~1 cm of
TCP in a saturated move (the sim-to-sim check, :mod:`roarm_lab.sim_to_sim`). An implicit PD drive would put the
back-EMF inside the clip and let a saturated joint run faster than the servo's no-load speed.

With a robot profile (:mod:`roarm_lab.description.robot_profile`) the stiffness, back-EMF damping, armature and
friction are the profile's (:func:`servo_actuator_cfg`), as :func:`roarm_lab.sim_mujoco.scene.apply_profile` writes
them into MuJoCo; the torque and velocity limits stay the description's.
"""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.actuators import IdealPDActuatorCfg
from isaaclab.assets import ArticulationCfg
from isaaclab_newton.sim.schemas import NewtonArticulationCfg
from isaaclab_physx.sim.schemas import PhysxArticulationCfg

from roarm_lab.assets.paths import USD_PATH
from roarm_lab.description import DRIVES, HOME_POSE, JOINT_NAMES
from roarm_lab.description.robot_profile import RobotProfile
from roarm_lab.tasks.mdp.actions import GRIPPER_DEFAULT

SERVO_GROUP = "servos"
#: The solver's joint effort limit: none beyond the actuator's clamp (the servo model clips only the P term).
UNCAPPED_EFFORT_NM = 1.0e3
#: The solver's joint velocity limit: none. The servo model caps speed through its back-EMF (a loaded or
#: overshooting joint may pass the no-load speed briefly, as in MuJoCo); PhysX would otherwise clamp at the USD's
#: maxJointVelocity (the no-load speed), which put PhysX's saturated moves 2 cm of TCP behind MuJoCo's.
UNCAPPED_VELOCITY_RAD_S = 1.0e2


def servo_actuator_cfg(profile: RobotProfile | None = None) -> IdealPDActuatorCfg:
    """All six joints in one group, values keyed by exact joint name (the USD joint prim names): the drive values
    of ``profile``, the description's (:data:`~roarm_lab.description.DRIVES`) without one."""
    by_joint = {d.joint: d for d in DRIVES}

    def per_joint(field: str) -> dict[str, float]:
        if profile is None:
            return {j: getattr(by_joint[j], field) for j in JOINT_NAMES}
        return dict(zip(JOINT_NAMES, profile.values(field), strict=True))

    return IdealPDActuatorCfg(
        joint_names_expr=list(JOINT_NAMES),
        stiffness=per_joint("stiffness"),
        damping=0.0,
        actuator_effort_limit={j: by_joint[j].torque_limit for j in JOINT_NAMES},
        joint_effort_limit=UNCAPPED_EFFORT_NM,
        actuator_velocity_limit={j: by_joint[j].velocity_limit for j in JOINT_NAMES},
        joint_velocity_limit=UNCAPPED_VELOCITY_RAD_S,
        viscous_friction=per_joint("damping"),
        armature=per_joint("armature"),
        friction=per_joint("friction"),
    )


#: The articulation's root prim stays at the env origin: the USD's fixed root joint puts base_link BASE_MOUNT above
#: it (the mount point on the table top). Newton and OvPhysX both read it so (tests/isaaclab: the scene's link
#: positions against the FK, on both); Isaac Sim's PhysX parses the same USD with the same PhysX (not run here).
ROOT_POS = (0.0, 0.0, 0.0)

#: Firmware home (hardware §3.2) with the gripper at the action default, i.e. what a zero action commands.
INIT_JOINT_POS = {**dict(zip(JOINT_NAMES, HOME_POSE, strict=True)), "gripper": GRIPPER_DEFAULT}

ROARM_M3_PRO_CFG = ArticulationCfg(
    prim_path="{ENV_REGEX_NS}/Robot",
    spawn=sim_utils.UsdFileCfg(
        usd_path=str(USD_PATH),
        # the MJCF's collision classes keep the arm's own bodies apart; do the same here
        articulation_props=[
            PhysxArticulationCfg(enabled_self_collisions=False),
            NewtonArticulationCfg(self_collision_enabled=False),
        ],
    ),
    init_state=ArticulationCfg.InitialStateCfg(pos=ROOT_POS, joint_pos=INIT_JOINT_POS),
    actuators={SERVO_GROUP: servo_actuator_cfg()},
    soft_joint_pos_limit_factor=1.0,
)
