"""Minimal STL reader (binary and ASCII) for the vendor-mesh importer.

Written here rather than borrowed from trimesh so the importer has no extra dependency and its failure modes
are ours: a truncated or malformed file raises ``ValueError`` naming the file and what is wrong, before any
USD is written. STL stores every triangle with its own three corners, so shared corners are merged into one
point (exact float32 equality: STL is single precision by specification, and ASCII values are rounded to
float32 so the binary and ASCII encodings of one mesh read back identically).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_HEADER_BYTES = 80
_BINARY_TRIANGLE = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])


def read_stl(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(points Nx3 float64, faces Mx3 int64) of an STL file; duplicate corners merged, degenerate faces
    dropped."""
    path = Path(path)
    data = path.read_bytes()
    binary_size = _binary_size(data)
    if binary_size is not None and binary_size == len(data):
        corners = _read_binary(data)
    elif data.lstrip()[:5].lower() == b"solid":
        corners = _read_ascii(data, path)
    elif binary_size is None:
        raise ValueError(f"{path}: not an STL file ({len(data)} bytes, shorter than a binary STL header)")
    else:
        count = int(np.frombuffer(data, "<u4", 1, _HEADER_BYTES)[0])
        raise ValueError(
            f"{path}: binary STL size mismatch (truncated?): header says {count} triangles = "
            f"{binary_size} bytes, file has {len(data)} bytes"
        )
    return _merge(corners, path)


def _binary_size(data: bytes) -> int | None:
    """Size a binary STL of this header's triangle count would have, or None when there is no full header."""
    if len(data) < _HEADER_BYTES + 4:
        return None
    count = int(np.frombuffer(data, "<u4", 1, _HEADER_BYTES)[0])
    return _HEADER_BYTES + 4 + count * _BINARY_TRIANGLE.itemsize


def _read_binary(data: bytes) -> np.ndarray:
    triangles = np.frombuffer(data, _BINARY_TRIANGLE, offset=_HEADER_BYTES + 4)
    return triangles["corners"].astype(np.float64)


def _floats(words: list[str], path: Path, lineno: int) -> list[float]:
    try:
        return [float(np.float32(w)) for w in words]
    except ValueError:
        raise ValueError(f"{path}:{lineno}: expected 3 numbers, got {' '.join(words)!r}") from None


def _read_ascii(data: bytes, path: Path) -> np.ndarray:
    """Corners (Mx3x3) of an ASCII STL, checking the solid/facet/loop structure so truncation is caught."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: starts with 'solid' but is not ASCII (bad binary STL?): {err}") from None
    corners: list[list[float]] = []
    in_solid = False
    facet: list[list[float]] | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words:
            continue
        key, second = words[0].lower(), words[1].lower() if len(words) > 1 else ""
        if key == "solid" and not in_solid:
            in_solid = True
        elif key == "endsolid" and in_solid and facet is None:
            in_solid = False
        elif key == "facet" and in_solid and facet is None and second == "normal" and len(words) == 5:
            _floats(words[2:], path, lineno)
            facet = []
        elif key in ("outer", "endloop") and facet is not None:
            continue
        elif key == "vertex" and facet is not None and len(words) == 4:
            facet.append(_floats(words[1:], path, lineno))
        elif key == "endfacet" and facet is not None:
            if len(facet) != 3:
                raise ValueError(f"{path}:{lineno}: facet has {len(facet)} vertices, STL facets have 3")
            corners.extend(facet)
            facet = None
        else:
            raise ValueError(f"{path}:{lineno}: unexpected ASCII STL line {line.strip()[:60]!r}")
    if in_solid or facet is not None:
        inside = "facet" if facet is not None else "solid"
        raise ValueError(f"{path}: ASCII STL ends inside a {inside} (truncated?)")
    return np.asarray(corners, dtype=np.float64).reshape(-1, 3, 3)


def _merge(corners: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    if len(corners) == 0:
        raise ValueError(f"{path}: STL has no triangles")
    if not np.isfinite(corners).all():
        raise ValueError(f"{path}: STL has non-finite coordinates")
    points, inverse = np.unique(corners.reshape(-1, 3), axis=0, return_inverse=True)
    faces = inverse.reshape(-1, 3).astype(np.int64)
    keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    if not keep.any():
        raise ValueError(f"{path}: every STL triangle is degenerate")
    faces = faces[keep]
    used = np.unique(faces)
    if len(used) != len(points):  # points only degenerate triangles used: drop and renumber
        remap = np.full(len(points), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        points, faces = points[used], remap[faces]
    return points, faces
