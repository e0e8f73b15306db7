"""The generated URDF, MJCF and USD: current, consistent with each other, and physically sound."""

from __future__ import annotations

import math
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import mujoco
import numpy as np
import pytest
from pxr import Gf, Usd, UsdGeom, UsdPhysics

from roarm_lab import kinematics as K
from roarm_lab.assets import build
from roarm_lab.assets.paths import MJCF_PATH, URDF_PATH, USD_PATH
from roarm_lab.cli import build_assets
from roarm_lab.description import HARDWARE_SAFE, HOME_POSE, JOINT_NAMES, LINK_INERTIALS, LINK_NAMES

REPO = Path(__file__).resolve().parents[2]


def test_committed_assets_are_current():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_assets.py"), "--check"], capture_output=True, text=True
    )  # the README's command, through its shim
    assert result.returncode == 0, result.stderr


def test_check_flags_a_stale_asset_and_build_repairs_it(tmp_path, monkeypatch, capsys):
    target = tmp_path / "robot.xml"
    monkeypatch.setattr(build, "GENERATORS", {target: lambda: "<mujoco/>\n"})
    assert build_assets.main(["--check"]) == 1  # missing
    target.write_text("<mujoco>edited</mujoco>\n")
    assert build_assets.main(["--check"]) == 1  # edited by hand
    assert "STALE" in capsys.readouterr().err
    assert build_assets.main([]) == 0
    assert target.read_text() == "<mujoco/>\n"
    assert build_assets.main(["--check"]) == 0


# ---------------------------------------------------------------------------------------------------- USD


@pytest.fixture(scope="module")
def stage():
    return Usd.Stage.Open(str(USD_PATH))


def _pose(pos, quat) -> np.ndarray:
    """4x4 (column-vector convention) from a USD position and quaternion."""
    m = Gf.Matrix4d(Gf.Rotation(Gf.Quatd(quat)), Gf.Vec3d(pos))
    return np.array(m).T


def _rot_z(q: float) -> np.ndarray:
    m = np.eye(4)
    m[:2, :2] = [[math.cos(q), -math.sin(q)], [math.sin(q), math.cos(q)]]
    return m


def _usd_joints(stage):
    joints = {}
    for prim in stage.Traverse():
        if prim.IsA(UsdPhysics.Joint):
            j = UsdPhysics.Joint(prim)
            body0 = j.GetBody0Rel().GetTargets()
            joints[prim.GetName()] = dict(
                prim=prim,
                body0=str(body0[0]) if body0 else None,
                body1=str(j.GetBody1Rel().GetTargets()[0]),
                local0=_pose(j.GetLocalPos0Attr().Get(), j.GetLocalRot0Attr().Get()),
                local1=_pose(j.GetLocalPos1Attr().Get(), j.GetLocalRot1Attr().Get()),
            )
    return joints


def _usd_tcp(stage, joints, q) -> np.ndarray:
    """Chain the USD joint frames (read back with pxr) from the world to the tcp prim."""
    world = {}
    root = next(j for j in joints.values() if j["body0"] is None)
    world[root["body1"]] = root["local0"] @ np.linalg.inv(root["local1"])
    pending = [j for j in joints.values() if j["body0"] is not None]
    while pending:
        for j in list(pending):
            if j["body0"] in world:
                angle = q[JOINT_NAMES.index(j["prim"].GetName())]
                world[j["body1"]] = world[j["body0"]] @ j["local0"] @ _rot_z(angle) @ np.linalg.inv(j["local1"])
                pending.remove(j)
    tcp = stage.GetPrimAtPath("/roarm_m3_pro/link5/tcp")
    local = np.array(UsdGeom.Xformable(tcp).GetLocalTransformation()).T
    return (world["/roarm_m3_pro/link5"] @ local)[:3, 3]


def test_usd_articulation_joints_and_limits(stage):
    root = stage.GetDefaultPrim()
    assert root.HasAPI(UsdPhysics.ArticulationRootAPI)
    joints = _usd_joints(stage)
    revolute = {n: j for n, j in joints.items() if j["prim"].IsA(UsdPhysics.RevoluteJoint)}
    assert sorted(revolute) == sorted(JOINT_NAMES)
    for name, j in revolute.items():
        rj = UsdPhysics.RevoluteJoint(j["prim"])
        lo, hi = HARDWARE_SAFE.of(name)
        assert rj.GetLowerLimitAttr().Get() == pytest.approx(math.degrees(lo), abs=1e-4)
        assert rj.GetUpperLimitAttr().Get() == pytest.approx(math.degrees(hi), abs=1e-4)
        drive = UsdPhysics.DriveAPI.Get(j["prim"], "angular")
        assert drive.GetStiffnessAttr().Get() > 0 and drive.GetMaxForceAttr().Get() > 0
    fixed = [j for j in joints.values() if j["body0"] is None]
    assert len(fixed) == 1 and fixed[0]["prim"].IsA(UsdPhysics.FixedJoint)


def test_usd_total_mass(stage):
    # hardware §3.6: RoArm-M3 Pro 1020.8 g
    masses = [UsdPhysics.MassAPI(p).GetMassAttr().Get() for p in stage.Traverse() if p.HasAPI(UsdPhysics.MassAPI)]
    assert len(masses) == 7
    assert sum(masses) == pytest.approx(1.02, abs=0.05)


def test_usd_bodies_are_authored_where_their_joints_put_them(stage):
    # PhysX expects the authored body poses to satisfy every joint at q = 0.
    joints = _usd_joints(stage)
    cache = UsdGeom.XformCache()

    def world(path):
        return np.array(cache.GetLocalToWorldTransform(stage.GetPrimAtPath(path))).T

    for name, j in joints.items():
        parent = world(j["body0"]) if j["body0"] else np.eye(4)
        np.testing.assert_allclose(parent @ j["local0"], world(j["body1"]) @ j["local1"], atol=1e-6, err_msg=name)


def test_fk_matches_usd_joint_chain(stage, random_configs):
    joints = _usd_joints(stage)
    ours = K.tcp_position(random_configs[:200])
    for q, p in zip(random_configs[:200], ours, strict=True):
        np.testing.assert_allclose(_usd_tcp(stage, joints, q), p, atol=1e-5)


def test_usd_collision_shapes_are_hidden_guides(stage):
    colliders = [p for p in stage.Traverse() if p.HasAPI(UsdPhysics.CollisionAPI)]
    assert len(colliders) >= 7
    for p in colliders:
        assert UsdGeom.Imageable(p).GetPurposeAttr().Get() == UsdGeom.Tokens.guide


# ----------------------------------------------------------------------------------------------- URDF, MJCF


def test_urdf_joints_carry_servo_limits():
    root = ET.parse(URDF_PATH).getroot()
    revolute = {j.get("name"): j for j in root.iter("joint") if j.get("type") == "revolute"}
    assert sorted(revolute) == sorted(JOINT_NAMES)
    for name, j in revolute.items():
        limit = j.find("limit")
        lo, hi = HARDWARE_SAFE.of(name)
        assert float(limit.get("lower")) == pytest.approx(lo) and float(limit.get("upper")) == pytest.approx(hi)
        assert float(limit.get("effort")) > 0 and float(limit.get("velocity")) == pytest.approx(4.71, abs=0.01)


def test_urdf_compiled_by_mujoco_matches_fk(random_configs):
    model = mujoco.MjModel.from_xml_path(str(URDF_PATH))  # MuJoCo's own URDF parser
    data = mujoco.MjData(model)
    link5 = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "link5")
    ours = K.link_frames(random_configs[:200])[:, 4]
    for q, frame in zip(random_configs[:200], ours, strict=True):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        np.testing.assert_allclose(data.xpos[link5], frame[:3, 3], atol=1e-6)
    # MuJoCo fuses the static base into the world; every moving link keeps its URDF mass.
    for link in LINK_NAMES[1:]:
        assert model.body(link).mass[0] == pytest.approx(LINK_INERTIALS[link].mass, rel=1e-6)


def test_mjcf_holds_home_pose_under_gravity():
    model = mujoco.MjModel.from_xml_path(str(MJCF_PATH))
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    np.testing.assert_allclose(data.ctrl, HOME_POSE)
    for _ in range(int(3.0 / model.opt.timestep)):
        mujoco.mj_step(model, data)
    assert np.abs(data.qvel).max() < 1e-3  # settled
    assert np.abs(data.qpos - np.array(HOME_POSE)).max() < 0.02


def test_mjcf_servo_runs_at_its_no_load_speed():
    # hardware §3.6: no-load 0.222 s/60 deg = 4.71 rad/s. A saturated joint with gravity off must top out there.
    model = mujoco.MjModel.from_xml_path(str(MJCF_PATH))
    model.opt.gravity[:] = 0
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    roll = model.joint("roll").id
    data.ctrl[model.actuator("roll").id] = HARDWARE_SAFE.of("roll")[1]
    peak = 0.0
    for _ in range(int(0.5 / model.opt.timestep)):
        mujoco.mj_step(model, data)
        peak = max(peak, data.qvel[model.jnt_dofadr[roll]])
    assert peak == pytest.approx(4.71, rel=0.1)
