"""Task scenes in MuJoCo: the generated arm MJCF on a table (world z = 0 is the table top, hardware §3.3 `world`),
plus the task's cube for Lift and PickPlace. Sizes and nominal masses come from :mod:`roarm_lab.tasks.scene`."""

from __future__ import annotations

import mujoco

from roarm_lab.assets.paths import MJCF_PATH
from roarm_lab.description.kinematic_chain import JOINTS, TCP_ORIGIN, TCP_PARENT
from roarm_lab.description.robot_profile import RobotProfile
from roarm_lab.tasks import scene as task_scene
from roarm_lab.tasks.timing import PHYSICS_DT

SCENE_CONTYPE, SCENE_CONAFFINITY = 1, 3  # touches the arm (contype 2) and objects (contype 1)
OBJECT_BODY = "cube"
PAYLOAD_BODY = "payload"
PAYLOAD_RADIUS_M = 0.01  # the payload's inertia is a 1 cm sphere's (a point mass, for what the arm feels)


def apply_profile(spec: mujoco.MjSpec, profile: RobotProfile) -> None:
    """Write a robot profile's drive values into the arm of ``spec``: per joint the position actuator's kp (its
    bias term follows: force = kp (ctrl - q)), the joint damping, armature and friction loss. Encoder offsets and
    the command delay are not physics: the runner and the tasks' action latency take them. A profile's link mass
    scales multiply each joint's child link's mass and inertia; its payload is a point mass at the TCP
    (:func:`add_payload`)."""
    for spec_joint in JOINTS:
        scale = profile.joints[spec_joint.name].link_mass_scale.value
        if scale != 1.0:
            scale_body_mass(spec.body(spec_joint.child), scale)
    if profile.payload_kg.value > 0:
        add_payload(spec, profile.payload_kg.value)
    for name, joint in profile.joints.items():
        j, act = spec.joint(name), spec.actuator(name)
        j.damping[0] = joint.damping.value  # (linear damping; the other two entries are MuJoCo's polynomial terms)
        j.armature, j.frictionloss = joint.armature.value, joint.friction.value
        kp = joint.stiffness.value
        act.gainprm[0] = kp
        act.biasprm[1] = -kp


def scale_body_mass(body: mujoco.MjsBody, scale: float, mass: float | None = None,
                    inertia: tuple | None = None, fullinertia: tuple | None = None) -> None:
    """The body's mass and inertia x ``scale`` (of the given nominal values, else of its present ones)."""
    mass = body.mass if mass is None else mass
    inertia = list(body.inertia) if inertia is None else inertia
    fullinertia = list(body.fullinertia) if fullinertia is None else fullinertia
    body.mass = mass * scale
    body.inertia = [x * scale for x in inertia]
    body.fullinertia = [x * scale for x in fullinertia]


def add_payload(spec: mujoco.MjSpec, mass_kg: float) -> mujoco.MjsBody:
    """A payload body at the TCP (welded to its link; mass 0 is allowed: the fit varies it)."""
    body = spec.body(TCP_PARENT).add_body(name=PAYLOAD_BODY, pos=list(TCP_ORIGIN.xyz))
    set_payload_mass(body, mass_kg)
    body.explicitinertial = True
    return body


def set_payload_mass(body: mujoco.MjsBody, mass_kg: float) -> None:
    body.mass = mass_kg
    body.inertia = [0.4 * mass_kg * PAYLOAD_RADIUS_M**2] * 3


def build_scene_spec(with_object: bool = False, profile: RobotProfile | None = None) -> mujoco.MjSpec:
    """The task scene; with ``profile`` the arm's drives are the profile's, else the description's nominal ones."""
    spec = mujoco.MjSpec.from_file(str(MJCF_PATH))
    if profile is not None:
        apply_profile(spec, profile)
    spec.option.timestep = PHYSICS_DT
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC  # grasps hold better with elliptic friction cones
    spec.option.impratio = 10.0
    spec.worldbody.add_geom(
        name="table", type=mujoco.mjtGeom.mjGEOM_BOX, size=task_scene.TABLE_HALF_SIZE, pos=task_scene.TABLE_CENTER,
        contype=SCENE_CONTYPE, conaffinity=SCENE_CONAFFINITY, rgba=[0.45, 0.36, 0.28, 1.0],
        friction=[task_scene.TABLE_FRICTION, 0.005, 0.0001],
    )
    if with_object:
        half = task_scene.CUBE_SIZE / 2
        body = spec.worldbody.add_body(name=OBJECT_BODY, pos=[0.25, 0.0, half])
        body.add_freejoint(name="cube_free")
        body.add_geom(
            name="cube", type=mujoco.mjtGeom.mjGEOM_BOX, size=[half] * 3, mass=task_scene.CUBE_MASS,
            contype=SCENE_CONTYPE, conaffinity=SCENE_CONAFFINITY, condim=4,
            friction=[task_scene.CUBE_FRICTION, 0.01, 0.0001], rgba=[0.2, 0.5, 0.9, 1.0],
        )
    return spec


def build_scene(with_object: bool = False, profile: RobotProfile | None = None) -> mujoco.MjModel:
    return build_scene_spec(with_object, profile).compile()
