"""Write (or check) every generated robot asset: URDF, MJCF and USD (the command: :mod:`roarm_lab.cli.build_assets`)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

from roarm_lab.assets.mjcf import build_mjcf
from roarm_lab.assets.paths import MJCF_PATH, URDF_PATH, USD_PATH
from roarm_lab.assets.urdf import build_urdf
from roarm_lab.assets.usd import build_usd

GENERATORS: dict[Path, Callable[[], str]] = {URDF_PATH: build_urdf, MJCF_PATH: build_mjcf, USD_PATH: build_usd}


def stale_assets() -> list[tuple[Path, str]]:
    """(path, unified diff) for every committed asset that differs from what the generators write now."""
    stale = []
    for path, generate in GENERATORS.items():
        want = generate()
        have = path.read_text() if path.exists() else ""
        if have != want:
            diff = difflib.unified_diff(have.splitlines(), want.splitlines(), str(path), "generated", lineterm="", n=1)
            stale.append((path, "\n".join(list(diff)[:40])))
    return stale


def write_assets() -> list[Path]:
    """Write every generated asset; returns their paths."""
    for path, generate in GENERATORS.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generate())
    return list(GENERATORS)
