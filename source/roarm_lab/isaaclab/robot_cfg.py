"""The RoArm-M3 Pro as an Isaac Lab articulation: the generated USD plus the servo model of the description.

Actuators are :class:`~isaaclab.actuators.DCMotorCfg`, one group with per-joint values. The servo model of
:mod:`roarm_lab.description.servo` is ``tau = clip(kp*e, -tau_limit, tau_limit) - b*qdot``, which MuJoCo builds
from a position actuator and joint damping. DCMotor computes ``kp*e - b*qdot`` and clips it to
``tau_sat*(+-1 - qdot/v_max)``; with ``tau_sat = tau_limit`` and ``v_max = tau_limit/b`` the ``b*qdot`` terms
cancel and the result is the same torque. An implicit PD drive would put the back-EMF inside the clip and let a
saturated joint run faster than the servo's no-load speed. (For the arm joints ``tau_limit/b`` is the no-load
speed; the gripper's boot torque limit of 30 % lowers its top speed by the same factor, as on the real servo.)
Isaac Lab 3 runs this group as a Newton actuator (PD drive + DC-motor clamping) on both physics backends.
"""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.actuators import DCMotorCfg
from isaaclab.assets import ArticulationCfg
from isaaclab_newton.sim.schemas import NewtonArticulationCfg
from isaaclab_physx.sim.schemas import PhysxArticulationCfg

from roarm_lab.assets.paths import USD_PATH
from roarm_lab.description import BASE_MOUNT, DRIVES, HOME_POSE, JOINT_NAMES
from roarm_lab.tasks.mdp.actions import GRIPPER_DEFAULT

SERVO_GROUP = "servos"
#: No continuous-torque cap beyond the saturation: the servo model clips only the proportional term.
UNCAPPED_EFFORT_NM = 1.0e3


def servo_actuator_cfg() -> DCMotorCfg:
    """All six joints in one DC-motor group, values keyed by exact joint name (the USD joint prim names)."""
    by_joint = {d.joint: d for d in DRIVES}
    return DCMotorCfg(
        joint_names_expr=list(JOINT_NAMES),
        stiffness={j: by_joint[j].stiffness for j in JOINT_NAMES},
        damping={j: by_joint[j].damping for j in JOINT_NAMES},
        saturation_effort={j: by_joint[j].torque_limit for j in JOINT_NAMES},
        actuator_velocity_limit={j: by_joint[j].torque_limit / by_joint[j].damping for j in JOINT_NAMES},
        actuator_effort_limit=UNCAPPED_EFFORT_NM,
        joint_effort_limit=UNCAPPED_EFFORT_NM,
        armature={j: by_joint[j].armature for j in JOINT_NAMES},
        friction={j: by_joint[j].friction for j in JOINT_NAMES},
    )


#: The root pose of a fixed-base articulation is the world side of its root joint on Newton (the mount point on
#: the table top, base_link sits BASE_MOUNT above it) but the root link itself on PhysX. Either way base_link
#: ends up BASE_MOUNT above the env origin (the task configs select PHYSX_ROOT_POS with the physx presets).
NEWTON_ROOT_POS = (0.0, 0.0, 0.0)
PHYSX_ROOT_POS = BASE_MOUNT.xyz

#: Firmware home (facts §3.2) with the gripper at the action default, i.e. what a zero action commands.
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
    init_state=ArticulationCfg.InitialStateCfg(pos=NEWTON_ROOT_POS, joint_pos=INIT_JOINT_POS),
    actuators={SERVO_GROUP: servo_actuator_cfg()},
    soft_joint_pos_limit_factor=1.0,
)
