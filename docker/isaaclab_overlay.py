"""Requirements and constraints for installing roarm-lab into an existing Isaac Lab environment (docker/Dockerfile.gpu).

    python docker/isaaclab_overlay.py ROOT OUT_DIR

Writes OUT_DIR/requirements.txt and OUT_DIR/constraints.txt. The requirements are roarm-lab's dependencies (and its
dev extra: pytest, ruff) less Isaac Lab and torch, which the base image provides; rsl-rl-lib stands in for the
``isaaclab[rsl-rl]`` extra. The constraints pin every distribution already installed in this interpreter to its
installed version, so pip can add packages but never replace Isaac Lab, Isaac Sim, torch or anything they brought;
packages the image lacks take the project's lock (constraints.txt). A requirement the image's versions cannot meet
makes pip fail with the conflict instead of replacing the image's package.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

# provided by the base image: never installed or replaced here
PROVIDED = {"isaaclab", "torch"}
# what the dropped ``isaaclab[rsl-rl]`` requirement brought
EXTRA = ["rsl-rl-lib"]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"cannot read a distribution name from {requirement!r}")
    return canonical(match.group(1))


def requirements(pyproject: dict) -> list[str]:
    project = pyproject["project"]
    wanted = list(project["dependencies"]) + list(project.get("optional-dependencies", {}).get("dev", []))
    kept = [r for r in wanted if requirement_name(r) not in PROVIDED]
    return kept + [e for e in EXTRA if e not in {requirement_name(r) for r in kept}]


def installed_versions() -> dict[str, str]:
    versions = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            versions.setdefault(canonical(name), dist.version)
    return versions


def constraints(lock_lines: list[str], installed: dict[str, str], own: set[str]) -> list[str]:
    pins = [f"{name}=={version}" for name, version in sorted(installed.items()) if name not in own]
    for line in lock_lines:
        line = line.split("#", 1)[0].strip()
        if line and requirement_name(line) not in installed and requirement_name(line) not in own:
            pins.append(line)
    return pins


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root, out = Path(argv[0]), Path(argv[1])
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    # roarm-lab and its plugins are installed editable afterwards; a stale copy must not pin them
    own = {"roarm-lab", "lerobot-robot-roarm-m3", "lerobot-teleoperator-roarm-m3"}
    installed = installed_versions()
    missing = sorted(PROVIDED - installed.keys())
    if missing:
        print(f"error: this interpreter ({sys.executable}) has no {', '.join(missing)}: not an Isaac Lab "
              "environment (set ISAACLAB_PYTHON)", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    reqs = requirements(pyproject)
    pins = constraints((root / "constraints.txt").read_text().splitlines(), installed, own)
    (out / "requirements.txt").write_text("\n".join(reqs) + "\n")
    (out / "constraints.txt").write_text("\n".join(pins) + "\n")
    print(f"Isaac Lab {installed['isaaclab']}, torch {installed['torch']} in {sys.executable}: "
          f"{len(reqs)} requirements, {len(pins)} constraints ({len(installed)} installed pinned)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
