"""Import a user's own Waveshare roarm_ws URDF + STL meshes as the visuals of our USD articulation.

We ship no vendor meshes (they carry no licence, see :mod:`roarm_lab.description.geometry`), but a user who
has the roarm_ws checkout can get the real look: this reads their (xacro-expanded) URDF, checks that it
describes the same arm as our description, and writes the same USD layout as :mod:`roarm_lab.assets.usd` (prim
paths, joints, masses, drives and primitive collisions all from our description) with the vendor STL meshes as
each link's visuals.

Everything is validated before anything is written: all our links, every revolute joint (by its roarm_ws name,
``JointFrame.urdf_name``) with parent, child and origin equal to ours within 1e-4 (the URDF writes 1.5708 for
pi/2), and every mesh file present and readable. A different arm (a RoArm-M2 URDF, say) is refused, because
its meshes would not sit on our joints. The generated asset ``usd/roarm_m3_pro.usda`` is never overwritten:
the vendor-look file is the user's own, kept separately.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import numpy as np
from pxr import Gf, Tf, Usd, UsdGeom, Vt

from roarm_lab.assets.paths import USD_PATH
from roarm_lab.assets.stl import read_stl
from roarm_lab.assets.usd import build_stage, set_pose
from roarm_lab.description import JOINTS, LINK_NAMES, MATERIALS
from roarm_lab.spatial import rpy_matrix

#: Largest accepted difference between the URDF's numbers and ours (metres, radians, rotation-matrix entries).
TOLERANCE = 1e-4
USD_SUFFIXES = (".usd", ".usda", ".usdc")
_XACRO_NS = "{http://www.ros.org/wiki/xacro}"


@dataclass(frozen=True)
class VendorVisual:
    """One mesh visual of a link: the STL already read, and its URDF origin and scale."""

    name: str
    source: Path
    points: np.ndarray  # Nx3, in the STL's units (the vendor's are mm)
    faces: np.ndarray  # Mx3
    scale: tuple[float, float, float]
    xyz: tuple[float, float, float]
    rpy: tuple[float, float, float]
    color: tuple[float, float, float]


def import_vendor_urdf(urdf_path, out_path, package_dirs: dict[str, Path] | None = None) -> Path:
    """Write ``out_path`` (.usd/.usda/.usdc): our articulation with the URDF's meshes as visuals; returns it.

    ``package_dirs`` maps a ROS package name to its directory for ``package://`` mesh URIs; without an entry
    the package is looked for upward from the URDF file. Raises ValueError (wrong arm, bad file) or
    FileNotFoundError (URDF or mesh missing) before writing anything."""
    out_path = check_out_path(out_path)
    visuals = load_vendor_visuals(urdf_path, package_dirs)
    return write_vendor_usd(visuals, out_path, source_name=Path(urdf_path).name)


def check_out_path(out_path) -> Path:
    """Refuse the generated asset (it must stay what build_assets.py writes) and non-USD file names."""
    out_path = Path(out_path)
    if out_path.suffix.lower() not in USD_SUFFIXES:
        raise ValueError(f"output {out_path} must end in one of {', '.join(USD_SUFFIXES)}")
    same = out_path.resolve() == USD_PATH.resolve()
    if not same and out_path.exists() and USD_PATH.exists():
        same = os.path.samefile(out_path, USD_PATH)
    if same:
        raise ValueError(
            f"refusing to overwrite the generated asset {USD_PATH}: "
            "write the vendor-look USD to a separate file"
        )
    return out_path


def load_vendor_visuals(
    urdf_path, package_dirs: dict[str, Path] | None = None
) -> dict[str, list[VendorVisual]]:
    """Validate the URDF against our description and read its meshes: {link: [visual, ...]} (links without a
    mesh visual are absent and keep our primitives)."""
    urdf_path = Path(urdf_path)
    if not urdf_path.is_file():
        raise FileNotFoundError(f"URDF not found: {urdf_path}")
    try:
        robot = ET.parse(urdf_path).getroot()
    except ET.ParseError as err:
        raise ValueError(f"{urdf_path}: not valid XML: {err}") from None
    _check_not_xacro(robot, urdf_path)
    if robot.tag != "robot":
        raise ValueError(f"{urdf_path}: root element is <{robot.tag}>, a URDF's is <robot>")
    links = {el.get("name"): el for el in robot.findall("link")}
    missing = [name for name in LINK_NAMES if name not in links]
    if missing:
        raise ValueError(f"{urdf_path}: links missing (not a RoArm-M3 URDF?): {', '.join(missing)}")
    _check_joints(robot, urdf_path)
    colors = _named_colors(robot)
    visuals: dict[str, list[VendorVisual]] = {}
    pkgs = package_dirs or {}
    for link in LINK_NAMES:
        found = [_visual(el, link, urdf_path, pkgs, colors) for el in links[link].findall("visual")]
        found = [v for v in found if v is not None]
        if found:
            visuals[link] = found
    return visuals


def write_vendor_usd(
    visuals: dict[str, list[VendorVisual]], out_path, source_name: str = "a vendor URDF"
) -> Path:
    """Author our articulation with ``visuals`` instead of primitive visuals; export it to ``out_path``."""
    out_path = check_out_path(out_path)

    def override(stage: Usd.Stage, link: str, visuals_path: str) -> bool:
        used: set[str] = set()
        for vis in visuals.get(link, ()):
            name = _unique(Tf.MakeValidIdentifier(vis.name), used)
            _author_mesh(stage, f"{visuals_path}/{name}", vis)
        return link in visuals

    stage = build_stage(visual_override=override)  # keep the stage alive while its layer is exported
    stage.GetDefaultPrim().SetDocumentation(
        f"RoArm-M3 Pro from roarm_lab.description, visuals from {source_name} (scripts/import_vendor_urdf.py)"
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if not stage.GetRootLayer().Export(str(out_path)):
        raise OSError(f"could not write {out_path}")
    return out_path


def _check_not_xacro(robot: ET.Element, urdf_path: Path) -> None:
    for el in robot.iter():
        if el.tag.startswith(_XACRO_NS) or any("${" in value for value in el.attrib.values()):
            raise ValueError(
                f"{urdf_path}: unexpanded xacro (found <{el.tag.removeprefix(_XACRO_NS)}>); "
                "expand it first: `xacro roarm_m3.xacro > roarm_m3.urdf`"
            )


def _vector(text: str | None, default: tuple[float, ...], what: str) -> tuple[float, ...]:
    if text is None:
        return default
    try:
        values = tuple(float(x) for x in text.split())
    except ValueError:
        values = ()
    if len(values) != len(default) or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{what}: expected {len(default)} numbers, got {text!r}")
    return values


def _origin(el: ET.Element, what: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    origin = el.find("origin")
    if origin is None:
        return (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)
    return (
        _vector(origin.get("xyz"), (0.0, 0.0, 0.0), f"{what} origin xyz"),
        _vector(origin.get("rpy"), (0.0, 0.0, 0.0), f"{what} origin rpy"),
    )


def _check_joints(robot: ET.Element, urdf_path: Path) -> None:
    joints = {el.get("name"): el for el in robot.findall("joint")}
    for j in JOINTS:
        el = joints.get(j.urdf_name)
        where = f"{urdf_path}: joint {j.urdf_name} ({j.name})"
        if el is None:
            raise ValueError(f"{where} missing (not a RoArm-M3 URDF?)")
        problems = []
        if el.get("type") != "revolute":
            problems.append(f"type {el.get('type')!r}, expected 'revolute'")
        for role, want in (("parent", j.parent), ("child", j.child)):
            tag = el.find(role)
            have = None if tag is None else tag.get("link")
            if have != want:
                problems.append(f"{role} {have!r}, expected {want!r}")
        xyz, rpy = _origin(el, where)
        if np.max(np.abs(np.subtract(xyz, j.origin.xyz))) > TOLERANCE:
            problems.append(f"origin xyz {_fmt(xyz)}, expected {_fmt(j.origin.xyz)}")
        if np.max(np.abs(rpy_matrix(rpy) - rpy_matrix(j.origin.rpy))) > TOLERANCE:
            problems.append(f"origin rpy {_fmt(rpy)}, expected {_fmt(j.origin.rpy)}")
        axis_el = el.find("axis")
        axis_text = None if axis_el is None else axis_el.get("xyz")  # URDF default axis: 1 0 0
        axis = np.array(_vector(axis_text, (1.0, 0.0, 0.0), f"{where} axis"))
        norm = np.linalg.norm(axis)
        if norm == 0 or np.max(np.abs(axis / norm - (0.0, 0.0, 1.0))) > TOLERANCE:
            problems.append(f"axis {_fmt(axis)}, expected 0 0 1")
        if problems:
            raise ValueError(f"{where} does not match the RoArm-M3 description: {'; '.join(problems)}")


def _fmt(values) -> str:
    return " ".join(f"{float(v):.6g}" for v in values)


def _named_colors(robot: ET.Element) -> dict[str, tuple[float, float, float]]:
    colors = {}
    for mat in robot.findall("material"):
        color = mat.find("color")
        if mat.get("name") and color is not None and color.get("rgba"):
            name = mat.get("name")
            colors[name] = _vector(color.get("rgba"), (0.0,) * 4, f"material {name}")[:3]
    return colors


def _visual(vis, link, urdf_path, package_dirs, colors) -> VendorVisual | None:
    """A link's <visual> with a <mesh>, its file resolved and read; None for primitive (box, ...) visuals."""
    mesh = vis.find("geometry/mesh")
    if mesh is None:
        return None
    uri = mesh.get("filename")
    if not uri:
        raise ValueError(f"{urdf_path}: link {link}: <mesh> without a filename")
    path = resolve_mesh_uri(uri, urdf_path, package_dirs)
    if not path.is_file():
        raise FileNotFoundError(f"link {link}: mesh {uri} not found (looked at {path})")
    if path.suffix.lower() != ".stl":
        raise ValueError(f"link {link}: mesh {uri} is not an STL file (only STL is supported)")
    points, faces = read_stl(path)
    xyz, rpy = _origin(vis, f"link {link} visual")
    material = vis.find("material")
    color = MATERIALS["body"][:3]
    if material is not None:
        rgba = material.find("color")
        if rgba is not None and rgba.get("rgba"):
            color = _vector(rgba.get("rgba"), (0.0,) * 4, f"link {link} visual color")[:3]
        else:
            color = colors.get(material.get("name"), color)
    return VendorVisual(
        name=vis.get("name") or path.stem,
        source=path,
        points=points,
        faces=faces,
        scale=_vector(mesh.get("scale"), (1.0, 1.0, 1.0), f"link {link} mesh scale"),
        xyz=xyz,
        rpy=rpy,
        color=tuple(color),
    )


def resolve_mesh_uri(uri: str, urdf_path: Path, package_dirs: dict[str, Path]) -> Path:
    """Local path of a URDF mesh filename: ``package://<pkg>/rest`` (``package_dirs`` first, else the nearest
    directory named <pkg> upward from the URDF, or a <pkg> child of one), ``file://`` URIs, and plain paths
    (relative ones to the URDF's directory)."""
    parsed = urlparse(uri)
    if parsed.scheme == "package":
        pkg, rest = parsed.netloc, unquote(parsed.path).lstrip("/")
        if pkg in package_dirs:
            return Path(package_dirs[pkg]) / rest
        for directory in (urdf_path.resolve().parent, *urdf_path.resolve().parent.parents):
            if directory.name == pkg:
                return directory / rest
            if (directory / pkg).is_dir():
                return directory / pkg / rest
        raise FileNotFoundError(
            f"mesh {uri}: package {pkg!r} not found upward from {urdf_path}; pass --package-dir {pkg}=DIR"
        )
    if parsed.scheme == "file":
        return Path(url2pathname(unquote(parsed.path)))
    if parsed.scheme and len(parsed.scheme) > 1:  # a one-letter scheme is a Windows drive letter
        raise ValueError(f"mesh {uri}: unsupported scheme {parsed.scheme!r} (package://, file:// or a path)")
    path = Path(uri)
    return path if path.is_absolute() else urdf_path.parent / path


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 1
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add(candidate)
    return candidate


def _author_mesh(stage: Usd.Stage, path: str, vis: VendorVisual) -> None:
    points = vis.points * np.asarray(vis.scale)
    faces = vis.faces if np.prod(vis.scale) > 0 else vis.faces[:, ::-1]  # a mirroring scale flips the winding
    mesh = UsdGeom.Mesh.Define(stage, path)
    mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(points.astype(np.float32)))
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(faces), 3, dtype=np.int32)))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(faces.reshape(-1).astype(np.int32)))
    lo, hi = points.min(axis=0), points.max(axis=0)
    mesh.CreateExtentAttr([Gf.Vec3f(*map(float, lo)), Gf.Vec3f(*map(float, hi))])
    mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)  # STL is a polygon soup: do not subdivide it
    mesh.CreateDisplayColorAttr([Gf.Vec3f(*map(float, vis.color))])
    set_pose(mesh.GetPrim(), vis.xyz, rpy_matrix(vis.rpy))
