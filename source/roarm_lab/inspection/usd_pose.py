"""Pose the generated USD arm from joint angles, for viewers that show the USD (the Isaac Sim extension).

The USD authors every link as a flat child of the robot prim with a translate and an orient op at its pose for all
joints at 0 (:mod:`roarm_lab.assets.usd`); :func:`write_link_poses` sets those ops to the links' world poses for
joint angles ``q`` (forward kinematics of the description), and the inspection markers (the cube, the Reach target)
under ``/World/roarm_inspection``. Kinematic display only: nothing is simulated on the stage. pxr only, no omni.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pxr import Gf, Usd, UsdGeom

from roarm_lab import kinematics
from roarm_lab.description import BASE_MOUNT, LINK_NAMES
from roarm_lab.spatial import matrix_to_quat_wxyz, quat_wxyz_to_matrix

ROBOT_ROOT = "/roarm_m3_pro"
MARKERS_ROOT = "/World/roarm_inspection"
CUBE_EDGE_M = 0.03


def link_world_poses(q: Sequence[float]) -> dict[str, np.ndarray]:
    """World pose (4x4) of every link (LINK_NAMES) for the six joint angles ``q`` (rad)."""
    frames = kinematics.child_link_frames(np.asarray(q, dtype=np.float64))
    poses = {LINK_NAMES[0]: kinematics.origin_matrix(BASE_MOUNT)}
    poses.update({name: frames[i] for i, name in enumerate(LINK_NAMES[1:])})
    return poses


def _set_pose(prim: Usd.Prim, pose: np.ndarray) -> None:
    ops = {op.GetOpName(): op for op in UsdGeom.Xformable(prim).GetOrderedXformOps()}
    if "xformOp:translate" not in ops or "xformOp:orient" not in ops:
        raise ValueError(f"{prim.GetPath()} has no translate + orient ops (not the generated USD?)")
    ops["xformOp:translate"].Set(Gf.Vec3d(*map(float, pose[:3, 3])))
    w, x, y, z = (float(v) for v in matrix_to_quat_wxyz(pose[:3, :3]))
    orient = ops["xformOp:orient"]
    quat = Gf.Quatf if orient.GetPrecision() == UsdGeom.XformOp.PrecisionFloat else Gf.Quatd
    orient.Set(quat(w, x, y, z))


def write_link_poses(stage: Usd.Stage, q: Sequence[float], root: str = ROBOT_ROOT) -> None:
    """Set every link prim under ``root`` to its world pose for joint angles ``q``."""
    for name, pose in link_world_poses(q).items():
        prim = stage.GetPrimAtPath(f"{root}/{name}")
        if not prim.IsValid():
            raise ValueError(f"the stage has no {root}/{name}: open the generated robot USD first")
        _set_pose(prim, pose)


def _marker(stage: Usd.Stage, name: str, make) -> Usd.Prim:
    path = f"{MARKERS_ROOT}/{name}"
    prim = stage.GetPrimAtPath(path)
    if not prim.IsValid():
        UsdGeom.Xform.Define(stage, MARKERS_ROOT)
        prim = make(stage, path).GetPrim()
        xf = UsdGeom.Xformable(prim)
        xf.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble)
        xf.AddOrientOp(UsdGeom.XformOp.PrecisionDouble)
    return prim


def write_markers(stage: Usd.Stage, cube_pos=None, cube_quat_wxyz=None, target=None) -> None:
    """Show the cube (position m, quaternion wxyz) and the Reach target (m) where given; hide them otherwise."""
    def cube(st, path):
        c = UsdGeom.Cube.Define(st, path)
        c.CreateSizeAttr(CUBE_EDGE_M)
        c.CreateDisplayColorAttr([Gf.Vec3f(0.2, 0.5, 0.9)])
        return c

    def ball(st, path):
        s = UsdGeom.Sphere.Define(st, path)
        s.CreateRadiusAttr(0.01)
        s.CreateDisplayColorAttr([Gf.Vec3f(0.9, 0.25, 0.25)])
        return s

    for name, make, pos, quat in (("cube", cube, cube_pos, cube_quat_wxyz), ("target", ball, target, None)):
        if pos is None and not stage.GetPrimAtPath(f"{MARKERS_ROOT}/{name}").IsValid():
            continue
        prim = _marker(stage, name, make)
        imageable = UsdGeom.Imageable(prim)
        if pos is None:
            imageable.MakeInvisible()
            continue
        imageable.MakeVisible()
        pose = np.eye(4)
        pose[:3, 3] = pos
        if quat is not None:
            pose[:3, :3] = quat_wxyz_to_matrix(np.asarray(quat, dtype=np.float64))
        _set_pose(prim, pose)


def read_target(stage: Usd.Stage) -> tuple[float, float, float] | None:
    """Where the Reach target marker is now (a user may have dragged it with Kit's transform gizmo)."""
    prim = stage.GetPrimAtPath(f"{MARKERS_ROOT}/target")
    if not prim.IsValid():
        return None
    ops = {op.GetOpName(): op for op in UsdGeom.Xformable(prim).GetOrderedXformOps()}
    value = ops["xformOp:translate"].Get()
    return None if value is None else tuple(float(v) for v in value)
