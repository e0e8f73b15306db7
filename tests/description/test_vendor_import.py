"""Vendor-mesh importer and STL reader, on a synthetic roarm_ws package (we ship no vendor files).

The URDF numbers below are typed in from the roarm_ws URDF (roarm_description/urdf/bases/roarm_m3.xacro), not
read from our description, so these tests also check that our description matches the vendor's arm: note
1.5708, not exact pi/2, which the importer's 1e-4 tolerance must accept.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pxr import Usd, UsdGeom, UsdPhysics

from roarm_lab.assets.paths import USD_PATH
from roarm_lab.assets.stl import read_stl
from roarm_lab.assets.vendor_import import import_vendor_urdf
from roarm_lab.spatial import rpy_matrix

REPO = Path(__file__).resolve().parents[2]
ROOT = "/roarm_m3_pro"
PKG = "roarm_description"

#: roarm_ws revolute joints: name -> (parent, child, xyz, rpy).
VENDOR_JOINTS = {
    "base_link_to_link1": ("base_link", "link1", "0 0 0", "0 0 0"),
    "link1_to_link2": ("link1", "link2", "0 0 0.051959", "-1.5708 -1.5708 0"),
    "link2_to_link3": ("link2", "link3", "0.236815 0.030002 0", "0 0 1.5708"),
    "link3_to_link4": ("link3", "link4", "0 -0.144586 0", "0 0 0"),
    "link4_to_link5": ("link4", "link5", "0.015147 -0.053653 0", "1.5708 1.5708 0"),
    "link5_to_gripper_link": ("link5", "gripper_link", "0 0.018821 0.052035", "-1.5708 -1.5708 0"),
}
FIXED_JOINTS = {
    "world_to_base_link": ("world", "base_link", "0 0 0.0701", "0 0 0"),
    "link5_to_hand_tcp": ("link5", "hand_tcp", "0 0 0.115428", "1.5708 -1.5708 0"),
}
#: Synthetic visuals: link -> (cube edge in mm, STL format, mesh filename as the URDF writes it, origin).
#: No origin = identity, no rpy = zero; link4 has no visual: it must keep our primitives.
MESHES = {
    "base_link": (40.0, "binary", f"package://{PKG}/meshes/roarm_m3/base_link.stl", None),
    "link1": (30.0, "ascii", f"package://{PKG}/meshes/roarm_m3/link1.stl", ("0 0 0.01", "0 0 0")),
    "link2": (50.0, "binary", f"package://{PKG}/meshes/roarm_m3/link2.stl", ("0.01 0.02 0.03", "0 0 1.5708")),
    "link3": (20.0, "ascii", "../meshes/roarm_m3/link3.stl", ("0 -0.07 0", "1.5708 0 0")),
    "link5": (24.0, "binary", "FILE_URI", ("0 0 0.02", "0 -1.5708 0")),
    "gripper_link": (10.0, "ascii", f"package://{PKG}/meshes/roarm_m3/gripper_link.stl", ("0.03 0 0", "")),
}
LINKS = ("world", "base_link", "link1", "link2", "link3", "link4", "link5", "gripper_link", "hand_tcp")


# ---------------------------------------------------------------- synthetic files


def cube_triangles(edge: float) -> np.ndarray:
    """12 outward-facing triangles (12x3x3) of an axis-aligned cube of this edge, centred on the origin."""
    h = edge / 2
    c = np.array([[x, y, z] for x in (-h, h) for y in (-h, h) for z in (-h, h)])  # index = 4x + 2y + z
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    return np.array([c[[a, b, d]] for a, b, _, d in quads] + [c[[b, cc, d]] for _, b, cc, d in quads])


def write_binary_stl(path: Path, triangles: np.ndarray, header: bytes = b"synthetic binary cube") -> None:
    body = b"".join(struct.pack("<12fH", 0, 0, 0, *t.reshape(-1), 0) for t in triangles)
    path.write_bytes(header.ljust(80, b" ") + struct.pack("<I", len(triangles)) + body)


def write_ascii_stl(path: Path, triangles: np.ndarray) -> None:
    lines = ["solid synthetic_cube"]
    for t in triangles:
        lines += ["  facet normal 0 0 0", "    outer loop"]
        lines += [f"      vertex {x:.6e} {y:.6e} {z:.6e}" for x, y, z in t]
        lines += ["    endloop", "  endfacet"]
    path.write_text("\n".join(lines + ["endsolid synthetic_cube", ""]))


def urdf_text(joints=VENDOR_JOINTS, meshes: dict[str, str] | None = None, drop_link: str | None = None):
    """A roarm_ws-like URDF; ``meshes`` = {link: mesh filename} for the links that get a visual."""
    meshes = meshes or {}
    out = ['<?xml version="1.0"?>', '<robot name="roarm_m3">']
    out.append('  <material name="white"><color rgba="1 1 1 1"/></material>')
    for link in LINKS:
        if link == drop_link:
            continue
        out.append(f'  <link name="{link}">')
        if link in meshes:
            _, _, _, origin = MESHES[link]
            out.append("    <visual>")
            if origin is not None:
                rpy = f' rpy="{origin[1]}"' if origin[1] else ""  # an absent rpy is zero
                out.append(f'      <origin xyz="{origin[0]}"{rpy}/>')
            mesh = f'<mesh filename="{meshes[link]}" scale="0.001 0.001 0.001"/>'
            out.append(f"      <geometry>{mesh}</geometry>")
            out.append('      <material name="white"/>')
            out.append("    </visual>")
        out.append("  </link>")
    for name, (parent, child, xyz, rpy) in {**joints, **FIXED_JOINTS}.items():
        kind = "fixed" if name in FIXED_JOINTS else "revolute"
        out.append(f'  <joint name="{name}" type="{kind}">')
        out.append(f'    <origin xyz="{xyz}" rpy="{rpy}"/><parent link="{parent}"/><child link="{child}"/>')
        if kind == "revolute":
            out.append('    <axis xyz="0 0 1"/><limit lower="-3.14" upper="3.14" effort="0" velocity="0"/>')
        out.append("  </joint>")
    return "\n".join(out + ["</robot>", ""])


@pytest.fixture
def vendor(tmp_path) -> Path:
    """A roarm_description package in a fake workspace; returns the URDF path."""
    pkg = tmp_path / "ws" / "src" / PKG
    mesh_dir = pkg / "meshes" / "roarm_m3"
    mesh_dir.mkdir(parents=True)
    (pkg / "urdf").mkdir()
    uris = {}
    for link, (edge, fmt, uri, _) in MESHES.items():
        path = mesh_dir / f"{link}.stl"
        (write_binary_stl if fmt == "binary" else write_ascii_stl)(path, cube_triangles(edge))
        uris[link] = path.as_uri() if uri == "FILE_URI" else uri
    urdf = pkg / "urdf" / "roarm_m3.urdf"
    urdf.write_text(urdf_text(meshes=uris))
    return urdf


def mesh_uris(urdf: Path) -> dict[str, str]:
    return {link: (urdf.parents[1] / "meshes/roarm_m3/link5.stl").as_uri() if uri == "FILE_URI" else uri
            for link, (_, _, uri, _) in MESHES.items()}


# ---------------------------------------------------------------- STL reader


def test_stl_binary_and_ascii_read_the_same(tmp_path):
    tri = cube_triangles(12.5)
    write_binary_stl(tmp_path / "b.stl", tri, header=b"solid but binary")  # a 'solid' header must not fool it
    write_ascii_stl(tmp_path / "a.stl", tri)
    points_b, faces_b = read_stl(tmp_path / "b.stl")
    points_a, faces_a = read_stl(tmp_path / "a.stl")
    assert points_b.shape == (8, 3) and faces_b.shape == (12, 3)
    np.testing.assert_array_equal(points_a, points_b)
    np.testing.assert_array_equal(faces_a, faces_b)
    np.testing.assert_allclose(points_b[faces_b], tri)  # same triangles, same corner order (winding kept)


def test_stl_truncated_binary_raises(tmp_path):
    path = tmp_path / "cube.stl"
    write_binary_stl(path, cube_triangles(10.0))
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(ValueError, match="truncated"):
        read_stl(path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage",
        b"solid x\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 0\n   vertex 1 0 0\n",  # truncated ASCII
        b"solid x\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 zero\n",
        b"solid x\nendsolid x\n",  # no triangles
    ],
)
def test_stl_malformed_raises(tmp_path, content):
    path = tmp_path / "bad.stl"
    path.write_bytes(content)
    with pytest.raises(ValueError):
        read_stl(path)


# ---------------------------------------------------------------- importer


def _attr_values(prim: Usd.Prim) -> dict:
    values = {a.GetName(): a.Get() for a in prim.GetAttributes() if a.HasAuthoredValue()}
    values.update({r.GetName(): list(r.GetTargets()) for r in prim.GetRelationships()})
    return values


def test_import_writes_vendor_meshes_on_our_articulation(vendor, tmp_path):
    out = import_vendor_urdf(vendor, tmp_path / "out" / "vendor.usda")
    stage = Usd.Stage.Open(str(out))
    assert stage and stage.GetDefaultPrim().GetPath() == ROOT
    for link, (edge, _, _, origin) in MESHES.items():
        children = stage.GetPrimAtPath(f"{ROOT}/{link}/visuals").GetChildren()
        assert len(children) == 1 and children[0].IsA(UsdGeom.Mesh), link
        mesh = UsdGeom.Mesh(children[0])
        assert len(mesh.GetPointsAttr().Get()) == 8
        assert list(mesh.GetFaceVertexCountsAttr().Get()) == [3] * 12
        assert len(mesh.GetFaceVertexIndicesAttr().Get()) == 36
        lo, hi = np.array(mesh.GetExtentAttr().Get())
        np.testing.assert_allclose(hi - lo, [edge * 0.001] * 3, atol=1e-7)
        np.testing.assert_allclose(hi, [edge * 0.0005] * 3, atol=1e-7)
        assert mesh.GetDisplayColorAttr().Get() is not None
        xyz, rpy = origin or ("0 0 0", "0 0 0")
        local = np.array(UsdGeom.Xformable(mesh).GetLocalTransformation())  # row-vector convention
        np.testing.assert_allclose(local[3, :3], [float(v) for v in xyz.split()], atol=1e-9)
        np.testing.assert_allclose(local[:3, :3].T, rpy_matrix([float(v) for v in rpy.split()] or [0.0] * 3), atol=1e-6)
    kept = [p.GetTypeName() for p in stage.GetPrimAtPath(f"{ROOT}/link4/visuals").GetChildren()]
    assert kept == ["Cube"], "a link without a vendor visual keeps our primitive"


def test_import_matches_generated_asset_except_visuals(vendor, tmp_path):
    """Same prim paths, joints, masses, collisions and drives as usd/roarm_m3_pro.usda; only visuals
    differ."""
    ours = Usd.Stage.Open(str(USD_PATH))
    stage = Usd.Stage.Open(str(import_vendor_urdf(vendor, tmp_path / "vendor.usdc")))
    revolute = [p for p in ours.Traverse() if p.IsA(UsdPhysics.RevoluteJoint)]
    assert len(revolute) == 6
    assert len([p for p in stage.Traverse() if p.IsA(UsdPhysics.RevoluteJoint)]) == 6
    compared = 0
    for prim in ours.Traverse():
        path = prim.GetPath()
        if "visuals" in path.pathString.split("/")[3:] and MESHES.get(path.pathString.split("/")[2]):
            continue
        other = stage.GetPrimAtPath(path)
        assert other.IsValid(), path
        assert other.GetTypeName() == prim.GetTypeName(), path
        assert other.GetAppliedSchemas() == prim.GetAppliedSchemas(), path
        assert _attr_values(other) == _attr_values(prim), path
        compared += 1
    assert compared > 40
    for link in MESHES:
        mass_ours = UsdPhysics.MassAPI(ours.GetPrimAtPath(f"{ROOT}/{link}")).GetMassAttr().Get()
        mass_vendor = UsdPhysics.MassAPI(stage.GetPrimAtPath(f"{ROOT}/{link}")).GetMassAttr().Get()
        assert mass_ours > 0 and mass_vendor == mass_ours


def test_import_with_package_dirs(vendor, tmp_path):
    moved = tmp_path / "elsewhere" / "robot.urdf"  # no roarm_description upward from here
    moved.parent.mkdir()
    uris = mesh_uris(vendor)
    uris["link3"] = str(vendor.parents[1] / "meshes/roarm_m3/link3.stl")  # an absolute plain path
    moved.write_text(urdf_text(meshes=uris))
    with pytest.raises(FileNotFoundError, match=PKG):
        import_vendor_urdf(moved, tmp_path / "a.usda")
    out = import_vendor_urdf(moved, tmp_path / "a.usda", package_dirs={PKG: vendor.parents[1]})
    assert Usd.Stage.Open(str(out))


@pytest.mark.parametrize(
    ("joint", "xyz", "rpy"),
    [
        ("link2_to_link3", "0.2 0.030002 0", "0 0 1.5708"),  # RoArm-M2-like 200 mm upper arm
        ("link4_to_link5", "0.015147 -0.053653 0", "1.5708 0 0"),
        ("link1_to_link2", "0 0 0.0525", "-1.5708 -1.5708 0"),  # off by 0.5 mm > 1e-4
    ],
)
def test_wrong_joint_origin_is_refused(vendor, tmp_path, joint, xyz, rpy):
    parent, child, _, _ = VENDOR_JOINTS[joint]
    vendor.write_text(urdf_text({**VENDOR_JOINTS, joint: (parent, child, xyz, rpy)}, mesh_uris(vendor)))
    out = tmp_path / "bad.usda"
    with pytest.raises(ValueError, match=joint):
        import_vendor_urdf(vendor, out)
    assert not out.exists()


def test_missing_joint_link_or_xacro_is_refused(vendor, tmp_path):
    joints = {k: v for k, v in VENDOR_JOINTS.items() if k != "link3_to_link4"}
    vendor.write_text(urdf_text(joints, mesh_uris(vendor)))
    with pytest.raises(ValueError, match="link3_to_link4"):
        import_vendor_urdf(vendor, tmp_path / "a.usda")
    vendor.write_text(urdf_text(meshes=mesh_uris(vendor), drop_link="link4"))
    with pytest.raises(ValueError, match="link4"):
        import_vendor_urdf(vendor, tmp_path / "a.usda")
    vendor.write_text('<robot xmlns:xacro="http://www.ros.org/wiki/xacro"><xacro:macro name="m"/></robot>')
    with pytest.raises(ValueError, match="xacro"):
        import_vendor_urdf(vendor, tmp_path / "a.usda")


def test_missing_or_bad_mesh(vendor, tmp_path):
    mesh = vendor.parents[1] / "meshes/roarm_m3/link2.stl"
    mesh.write_bytes(mesh.read_bytes()[:100])
    with pytest.raises(ValueError, match="link2.stl"):
        import_vendor_urdf(vendor, tmp_path / "a.usda")
    mesh.unlink()
    with pytest.raises(FileNotFoundError, match="link2"):
        import_vendor_urdf(vendor, tmp_path / "a.usda")
    assert not (tmp_path / "a.usda").exists()


def test_refuses_to_overwrite_generated_asset(vendor, tmp_path):
    before = USD_PATH.read_bytes()
    with pytest.raises(ValueError, match="refusing"):
        import_vendor_urdf(vendor, USD_PATH)
    with pytest.raises(ValueError, match=r"\.usda"):
        import_vendor_urdf(vendor, tmp_path / "vendor.urdf")
    assert USD_PATH.read_bytes() == before


# ---------------------------------------------------------------- CLI


def _cli(*args: str) -> subprocess.CompletedProcess:
    paths = [str(REPO / "source"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "import_vendor_urdf.py"), *args],
        capture_output=True, text=True, env=env, timeout=120,
    )


def test_cli(vendor, tmp_path):
    out = tmp_path / "cli.usda"
    ok = _cli("--urdf", str(vendor), "--out", str(out), "--package-dir", f"{PKG}={vendor.parents[1]}")
    assert ok.returncode == 0, ok.stderr
    assert str(out) in ok.stdout and "link4" in ok.stdout and Usd.Stage.Open(str(out))
    joints = dict(VENDOR_JOINTS, link2_to_link3=("link2", "link3", "0.2 0.030002 0", "0 0 1.5708"))
    vendor.write_text(urdf_text(joints, mesh_uris(vendor)))
    bad = _cli("--urdf", str(vendor), "--out", str(tmp_path / "bad.usda"))
    assert bad.returncode == 2 and "link2_to_link3" in bad.stderr
    missing = _cli("--urdf", str(tmp_path / "nope.urdf"), "--out", str(tmp_path / "bad.usda"))
    assert missing.returncode == 2 and "not found" in missing.stderr
    assert not (tmp_path / "bad.usda").exists()
