"""Write (or ``--check``) every generated robot asset: URDF, MJCF and USD."""

from __future__ import annotations

import argparse
import difflib
import sys
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed asset is not what would be written")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_assets()
        for path, diff in stale:
            print(f"STALE: {path}\n{diff}\n", file=sys.stderr)
        if stale:
            print("run `python scripts/build_assets.py` and commit the result", file=sys.stderr)
            return 1
        print(f"assets up to date: {', '.join(p.name for p in GENERATORS)}")
        return 0
    for path, generate in GENERATORS.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generate())
        print(f"wrote {path}")
    return 0
