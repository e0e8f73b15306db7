"""USD writer: the arm as a UsdPhysics articulation for Isaac Sim / Isaac Lab (``UsdFileCfg``) and Newton.

Layout (also produced by :mod:`roarm_lab.assets.vendor_import`, which swaps in vendor meshes as visuals)::

    /roarm_m3_pro                     Xform, ArticulationRootAPI (default prim)
        /Looks/<material>             UsdPreviewSurface materials (+ a physics material for the jaws)
        /<link>                       Xform, RigidBodyAPI, MassAPI; authored at its pose for all joints = 0
            /visuals/<shape>          Cube / Cylinder / Sphere (or Mesh)
            /collisions/<shape>       CollisionAPI primitives, purpose = guide
        /link5/tcp                    Xform at the TCP (hardware §3.3 hand_tcp)
        /joints/root_joint            FixedJoint world -> base_link
        /joints/<joint>               RevoluteJoint, axis Z, limits (deg), angular DriveAPI

Units: metres, kilograms, degrees for joint limits and drive gains (UsdPhysics convention: angular stiffness is
per degree, damping per degree/s). The drive is the servo model of :mod:`roarm_lab.description.servo`.
"""

from __future__ import annotations

import math

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade

from roarm_lab.description import (
    BASE_MOUNT,
    DRIVES,
    GEOMETRY,
    HARDWARE_SAFE,
    JOINTS,
    LINK_INERTIALS,
    LINK_NAMES,
    MATERIALS,
    ROBOT_NAME,
    TCP_ORIGIN,
    TCP_PARENT,
)
from roarm_lab.description.geometry import Shape
from roarm_lab.kinematics import link_frames, origin_matrix
from roarm_lab.spatial import matrix_to_quat_wxyz, rpy_matrix

ROOT = f"/{ROBOT_NAME}"
JAW_FRICTION = 1.2
RAD2DEG = 180.0 / math.pi


def _quatf(m: np.ndarray) -> Gf.Quatf:
    w, x, y, z = matrix_to_quat_wxyz(m)
    return Gf.Quatf(float(w), float(x), float(y), float(z))


def _quatd(m: np.ndarray) -> Gf.Quatd:
    w, x, y, z = matrix_to_quat_wxyz(m)
    return Gf.Quatd(float(w), float(x), float(y), float(z))


def set_pose(prim: Usd.Prim, translation, rotation: np.ndarray, scale=None) -> None:
    xf = UsdGeom.Xformable(prim)
    xf.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*map(float, translation)))
    xf.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(_quatd(rotation))
    if scale is not None:
        xf.AddScaleOp(UsdGeom.XformOp.PrecisionDouble).Set(Gf.Vec3d(*map(float, scale)))


def link_rest_poses() -> dict[str, np.ndarray]:
    """World pose (4x4) of every link with all joints at 0: where the USD authors the rigid bodies."""
    frames = link_frames(np.zeros(6))
    poses = {"base_link": origin_matrix(BASE_MOUNT)}
    for i, name in enumerate(LINK_NAMES[1:6]):
        poses[name] = frames[i]
    gripper = next(j for j in JOINTS if j.name == "gripper")
    poses["gripper_link"] = poses[gripper.parent] @ origin_matrix(gripper.origin)
    return poses


def _define_shape(stage: Usd.Stage, path: str, shape: Shape) -> Usd.Prim:
    rot = rpy_matrix(shape.rpy)
    if shape.kind == "box":
        geom = UsdGeom.Cube.Define(stage, path)
        geom.CreateSizeAttr(1.0)
        set_pose(geom.GetPrim(), shape.pos, rot, scale=shape.size)
        half = 0.5
    elif shape.kind == "cylinder":
        geom = UsdGeom.Cylinder.Define(stage, path)
        geom.CreateRadiusAttr(shape.size[0])
        geom.CreateHeightAttr(shape.size[1])
        geom.CreateAxisAttr(UsdGeom.Tokens.z)
        set_pose(geom.GetPrim(), shape.pos, rot)
        r, h = shape.size[0], shape.size[1] / 2
        geom.CreateExtentAttr([Gf.Vec3f(-r, -r, -h), Gf.Vec3f(r, r, h)])
        return geom.GetPrim()
    else:
        geom = UsdGeom.Sphere.Define(stage, path)
        geom.CreateRadiusAttr(shape.size[0])
        set_pose(geom.GetPrim(), shape.pos, rot)
        half = shape.size[0]
    geom.CreateExtentAttr([Gf.Vec3f(-half, -half, -half), Gf.Vec3f(half, half, half)])
    return geom.GetPrim()


def _materials(stage: Usd.Stage) -> dict[str, UsdShade.Material]:
    looks = {}
    for name, rgba in MATERIALS.items():
        mat = UsdShade.Material.Define(stage, f"{ROOT}/Looks/{name}")
        shader = UsdShade.Shader.Define(stage, f"{ROOT}/Looks/{name}/surface")
        shader.CreateIdAttr("UsdPreviewSurface")
        shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*rgba[:3]))
        shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.5)
        mat.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
        looks[name] = mat
    jaw = UsdShade.Material.Define(stage, f"{ROOT}/Looks/jaw_physics")
    pm = UsdPhysics.MaterialAPI.Apply(jaw.GetPrim())
    pm.CreateStaticFrictionAttr(JAW_FRICTION)
    pm.CreateDynamicFrictionAttr(JAW_FRICTION)
    pm.CreateRestitutionAttr(0.0)
    looks["jaw_physics"] = jaw
    return looks


def _mass(prim: Usd.Prim, link: str) -> None:
    inertial = LINK_INERTIALS[link]
    moments, axes = inertial.principal()
    mass_api = UsdPhysics.MassAPI.Apply(prim)
    mass_api.CreateMassAttr(inertial.mass)
    mass_api.CreateCenterOfMassAttr(Gf.Vec3f(*inertial.com))
    mass_api.CreateDiagonalInertiaAttr(Gf.Vec3f(*map(float, moments)))
    mass_api.CreatePrincipalAxesAttr(_quatf(axes))


def _joints(stage: Usd.Stage) -> None:
    UsdGeom.Scope.Define(stage, f"{ROOT}/joints")
    # The world side is the identity and the mount offset sits on the base side: importers (Newton) read a
    # non-identity world-side pose as a fixed world anchor, an identity one as "where the arm was placed", so the
    # arm can be spawned anywhere (Isaac Lab's per-environment clones).
    mount = origin_matrix(BASE_MOUNT)
    root_joint = UsdPhysics.FixedJoint.Define(stage, f"{ROOT}/joints/root_joint")
    root_joint.CreateBody1Rel().SetTargets([f"{ROOT}/base_link"])
    root_joint.CreateLocalPos0Attr(Gf.Vec3f(0, 0, 0))
    root_joint.CreateLocalRot0Attr(Gf.Quatf(1, 0, 0, 0))
    base_to_world = np.linalg.inv(mount)
    root_joint.CreateLocalPos1Attr(Gf.Vec3f(*map(float, base_to_world[:3, 3])))
    root_joint.CreateLocalRot1Attr(_quatf(base_to_world[:3, :3]))
    for j, drive in zip(JOINTS, DRIVES, strict=True):
        joint = UsdPhysics.RevoluteJoint.Define(stage, f"{ROOT}/joints/{j.name}")
        joint.CreateBody0Rel().SetTargets([f"{ROOT}/{j.parent}"])
        joint.CreateBody1Rel().SetTargets([f"{ROOT}/{j.child}"])
        joint.CreateLocalPos0Attr(Gf.Vec3f(*j.origin.xyz))
        joint.CreateLocalRot0Attr(_quatf(rpy_matrix(j.origin.rpy)))
        joint.CreateLocalPos1Attr(Gf.Vec3f(0, 0, 0))
        joint.CreateLocalRot1Attr(Gf.Quatf(1, 0, 0, 0))
        joint.CreateAxisAttr(UsdPhysics.Tokens.z)
        lo, hi = HARDWARE_SAFE.of(j.name)
        joint.CreateLowerLimitAttr(lo * RAD2DEG)
        joint.CreateUpperLimitAttr(hi * RAD2DEG)
        drive_api = UsdPhysics.DriveAPI.Apply(joint.GetPrim(), UsdPhysics.Tokens.angular)
        drive_api.CreateTypeAttr(UsdPhysics.Tokens.force)
        drive_api.CreateStiffnessAttr(drive.stiffness / RAD2DEG)
        drive_api.CreateDampingAttr(drive.damping / RAD2DEG)
        drive_api.CreateMaxForceAttr(drive.torque_limit)
        drive_api.CreateTargetPositionAttr(0.0)
        # PhysX joint extras, read by Isaac Sim (custom attributes: plain pxr has no PhysxSchema).
        prim = joint.GetPrim()
        prim.AddAppliedSchema("PhysxJointAPI")
        prim.CreateAttribute("physxJoint:armature", Sdf.ValueTypeNames.Float).Set(drive.armature)
        prim.CreateAttribute("physxJoint:maxJointVelocity", Sdf.ValueTypeNames.Float).Set(
            drive.velocity_limit * RAD2DEG
        )
        prim.CreateAttribute("physxJoint:jointFriction", Sdf.ValueTypeNames.Float).Set(drive.friction)


def build_stage(visual_override=None) -> Usd.Stage:
    """Author the articulation. ``visual_override(stage, link, visuals_path) -> bool`` may author a link's visuals
    itself (the vendor-mesh importer does); returning False keeps the primitive visuals."""
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdPhysics.SetStageKilogramsPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, ROOT).GetPrim()
    stage.SetDefaultPrim(root)
    root.SetDocumentation("RoArm-M3 Pro, generated by scripts/build_assets.py from roarm_lab.description")
    UsdPhysics.ArticulationRootAPI.Apply(root)
    looks = _materials(stage)

    for link, pose in link_rest_poses().items():
        prim = UsdGeom.Xform.Define(stage, f"{ROOT}/{link}").GetPrim()
        set_pose(prim, pose[:3, 3], pose[:3, :3])
        UsdPhysics.RigidBodyAPI.Apply(prim)
        _mass(prim, link)
        vis_path = f"{ROOT}/{link}/visuals"
        UsdGeom.Xform.Define(stage, vis_path)
        if visual_override is None or not visual_override(stage, link, vis_path):
            for shape in GEOMETRY[link].visuals:
                vis = _define_shape(stage, f"{vis_path}/{shape.name}", shape)
                UsdShade.MaterialBindingAPI.Apply(vis).Bind(looks[shape.material])
        UsdGeom.Xform.Define(stage, f"{ROOT}/{link}/collisions")
        for shape in GEOMETRY[link].collisions:
            col = _define_shape(stage, f"{ROOT}/{link}/collisions/{shape.name}", shape)
            UsdPhysics.CollisionAPI.Apply(col)
            UsdGeom.Imageable(col).CreatePurposeAttr(UsdGeom.Tokens.guide)
            if shape.name in ("fixed_jaw", "moving_jaw"):
                UsdShade.MaterialBindingAPI.Apply(col).Bind(
                    looks["jaw_physics"], UsdShade.Tokens.weakerThanDescendants, "physics"
                )
    tcp = UsdGeom.Xform.Define(stage, f"{ROOT}/{TCP_PARENT}/tcp").GetPrim()
    set_pose(tcp, TCP_ORIGIN.xyz, rpy_matrix(TCP_ORIGIN.rpy))
    _joints(stage)
    return stage


def build_usd() -> str:
    stage = build_stage()  # keep the stage alive while its layer is exported
    return stage.GetRootLayer().ExportToString()
