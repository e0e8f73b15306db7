#!/usr/bin/env python3
"""The layer check: the import graph of roarm_lab and the LeRobot plugins, against a table of layers.

    python scripts/dev/import_graph.py                 # report
    python scripts/dev/import_graph.py --check         # exit 1 on a cycle, an upward or forbidden import, or a
                                                       # package missing from LAYERS
    python scripts/dev/import_graph.py --dot deps.dot  # Graphviz text of the package graph
    python scripts/dev/import_graph.py --extra-layer real=2   # add a package for this run only

Every import counts, at module top level or inside a function (``import`` and ``from ... import``; relative
imports resolved). A module ``roarm_lab.x.y`` belongs to its first-level package ``x``; a top-level module such
as ``roarm_lab/kinematics.py`` is its own package ``kinematics``; each LeRobot plugin is one package. The report
gives (a) import cycles between modules (strongly connected components of more than one module), (b) imports
from a package to a package of a higher layer, or to one in FORBIDDEN, and (c) lines of code per package.
Stdlib only (ast).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

# --- The layer table (data). A package may import from its own layer and below, never above. ---------------------
LAYERS: dict[str, int] = {
    "description": 0, "kinematics": 0, "spatial": 0, "threads": 0,
    "assets": 1, "tasks": 1,
    "sim_mujoco": 2, "isaaclab": 2, "driver": 2, "perception": 2,
    "training": 3, "deploy": 3, "emulator": 3, "sim_to_sim": 3, "evaluation": 3, "lerobot_io": 3, "sysid": 3,
    "runner": 4,
    "improve": 5, "inspection": 5, "lerobot_robot_roarm_m3": 5, "lerobot_teleoperator_roarm_m3": 5,
    "cli": 6,
}
#: Imports refused even where the layers would allow them (same layer) or that deserve their own message.
FORBIDDEN: set[tuple[str, str]] = {
    ("emulator", "runner"),  # the emulator stands in for the arm; it knows nothing of what drives it
    ("driver", "emulator"),  # the driver talks to any arm; tests, not the driver, pick the emulator
    ("sysid", "emulator"),  # the identification sees only bytes on the port, whatever answers on it
    ("improve", "emulator"),  # the loop sees the arm only through the port: never the twin's truth
    ("training", "deploy"),  # training writes run directories; deploy packages them (no such import today)
}
# -----------------------------------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "source"
ROOT_PACKAGE = "roarm_lab"
PLUGIN_DIR = SOURCE / "lerobot_plugins"


def discover(source: Path = SOURCE) -> dict[str, Path]:
    """Module name -> file, for roarm_lab and every plugin package (``source/lerobot_plugins/*/<package>/``)."""
    roots = [source / ROOT_PACKAGE]
    plugins = source / "lerobot_plugins"
    if plugins.is_dir():
        roots += [p for d in sorted(plugins.iterdir()) if d.is_dir()
                  for p in sorted(d.iterdir()) if (p / "__init__.py").is_file()]
    modules: dict[str, Path] = {}
    for root in roots:
        for f in sorted(root.rglob("*.py")):
            if "__pycache__" in f.parts:
                continue
            parts = list(f.relative_to(root.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = f
    return modules


def package_of(module: str, split: frozenset[str] = frozenset(), subpackages: frozenset[str] = frozenset()) -> str:
    """First-level package: roarm_lab.x.y -> x; a plugin module -> the plugin package; roarm_lab itself -> ''.
    A package named in ``split`` is shown by its subpackages (x.y, those in ``subpackages``) instead."""
    parts = module.split(".")
    if parts[0] != ROOT_PACKAGE:
        return parts[0]
    if len(parts) > 2 and parts[1] in split and ".".join(parts[:3]) in subpackages:
        return f"{parts[1]}.{parts[2]}"
    return parts[1] if len(parts) > 1 else ""


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest project module that ``name`` is or lies inside, or None when it is outside the project."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in modules:
            return cand
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported project module, line) for every import in the file, wherever it sits."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    here = module.split(".") if is_pkg else module.split(".")[:-1]
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (target := _resolve(alias.name, modules)) is not None:
                    out.append((target, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else list(here)
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for alias in node.names:
                target = _resolve(f"{prefix}.{alias.name}", modules) if alias.name != "*" else None
                target = target or _resolve(prefix, modules)
                if target is not None:
                    out.append((target, node.lineno))
    return [(t, line) for t, line in out if t != module]


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of more than one node, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    result.append(sorted(comp))
    return sorted(result)


def loc(path: Path) -> int:
    """Non-blank lines that are not only a comment."""
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.lstrip().startswith("#"))


def analyse(layers: dict[str, int], forbidden: set[tuple[str, str]], source: Path = SOURCE,
            split: frozenset[str] = frozenset()) -> dict:
    modules = discover(source)
    subpkgs = frozenset(m for m, f in modules.items() if f.name == "__init__.py")
    mod_graph: dict[str, set[str]] = {m: set() for m in modules}
    pkg_edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for m, f in modules.items():
        for target, line in sorted(set(imports_of(m, f, modules)), key=lambda t: (t[1], t[0])):
            mod_graph[m].add(target)
            a, b = package_of(m, split, subpkgs), package_of(target, split, subpkgs)
            if a and b and a != b:
                pkg_edges[(a, b)].append(f"{f.relative_to(source.parent)}:{line} -> {target}")
    packages = sorted({package_of(m, split, subpkgs) for m in modules} - {""})
    unknown = [p for p in packages if p not in layers]
    bad: list[tuple[str, str, str, list[str]]] = []  # (kind, a, b, where)
    for (a, b), where in sorted(pkg_edges.items()):
        if (a, b) in forbidden:
            bad.append(("forbidden", a, b, where))
        elif a in layers and b in layers and layers[b] > layers[a]:
            bad.append(("upward", a, b, where))
    sizes: dict[str, int] = defaultdict(int)
    for m, f in modules.items():
        sizes[package_of(m, split, subpkgs) or ROOT_PACKAGE] += loc(f)
    pkg_graph: dict[str, set[str]] = defaultdict(set)
    for a, b in pkg_edges:
        pkg_graph[a].add(b)
    return {"modules": modules, "cycles": strongly_connected(mod_graph), "pkg_edges": dict(pkg_edges),
            "pkg_cycles": strongly_connected(pkg_graph), "unknown": unknown, "bad": bad, "sizes": dict(sizes),
            "packages": packages}


def report(res: dict, layers: dict[str, int]) -> str:
    out: list[str] = []
    total = sum(res["sizes"].values())
    out.append(f"{len(res['modules'])} modules, {total} lines of code\n")
    out.append(f"{'package':32} {'layer':>5} {'LOC':>6} {'share':>6}  imports")
    for p in sorted(res["sizes"], key=lambda p: (layers.get(p, 99), p)):
        deps = sorted({b for (a, b) in res["pkg_edges"] if a == p}, key=lambda b: (layers.get(b, 99), b))
        layer = str(layers[p]) if p in layers else ("-" if p == ROOT_PACKAGE else "??")
        out.append(f"{p:32} {layer:>5} {res['sizes'][p]:6d} {100 * res['sizes'][p] / total:5.1f}%  "
                   + ", ".join(deps))
    out.append("\n(a) module import cycles: " + ("none" if not res["cycles"] else f"{len(res['cycles'])}"))
    for comp in res["cycles"]:
        out.append("  - " + " <-> ".join(comp))
    if res["pkg_cycles"]:
        out.append("    package-level cycles: " + "; ".join(" <-> ".join(c) for c in res["pkg_cycles"]))
    out.append("\n(b) upward or forbidden imports: " + ("none" if not res["bad"] else f"{len(res['bad'])}"))
    for kind, a, b, where in res["bad"]:
        la, lb = layers.get(a, "?"), layers.get(b, "?")
        out.append(f"  - {kind}: {a} (layer {la}) -> {b} (layer {lb}), {len(where)} import(s)")
        out.extend(f"      {w}" for w in where)
    if res["unknown"]:
        out.append("\nERROR: packages missing from LAYERS: " + ", ".join(res["unknown"]))
        for p in res["unknown"]:
            users = sorted({a for (a, b) in res["pkg_edges"] if b == p})
            out.append(f"  - {p}: imported by {', '.join(users) or 'nothing'}; imports "
                       f"{', '.join(sorted({b for (a, b) in res['pkg_edges'] if a == p})) or 'nothing'}")
    return "\n".join(out)


def dot(res: dict, layers: dict[str, int]) -> str:
    lines = ["digraph roarm_lab {", "  rankdir=BT;", "  node [shape=box];"]
    by_layer: dict[int, list[str]] = defaultdict(list)
    for p in res["packages"]:
        by_layer[layers.get(p, 99)].append(p)
    for layer, pkgs in sorted(by_layer.items()):
        lines.append("  { rank=same; " + " ".join(f'"{p}"' for p in pkgs) + " }"
                     + f"  // layer {layer if layer != 99 else 'unknown'}")
    bad = {(a, b) for _, a, b, _ in res["bad"]}
    for (a, b), where in sorted(res["pkg_edges"].items()):
        style = ' [color=red, penwidth=2]' if (a, b) in bad else ""
        lines.append(f'  "{a}" -> "{b}"{style};  // {len(where)} import(s)')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 on a cycle, upward/forbidden import, unknown package")
    ap.add_argument("--dot", metavar="FILE", help="write the package graph as Graphviz text")
    ap.add_argument("--extra-layer", action="append", default=[], metavar="PKG=N",
                    help="add a package to the layer table for this run only (repeatable)")
    ap.add_argument("--split", action="append", default=[], metavar="PKG",
                    help="show PKG by its subpackages (PKG.sub), e.g. to plan a split; give them layers with "
                         "--extra-layer PKG.sub=N")
    ap.add_argument("--source", type=Path, default=SOURCE, help="the source folder (default: source/)")
    args = ap.parse_args(argv)
    layers = dict(LAYERS)
    for item in args.extra_layer:
        name, _, n = item.partition("=")
        layers[name] = int(n)
    res = analyse(layers, FORBIDDEN, args.source, frozenset(args.split))
    print(report(res, layers))
    if args.dot:
        Path(args.dot).write_text(dot(res, layers), encoding="utf-8")
    failed = bool(res["cycles"] or res["bad"] or res["unknown"])
    if args.check:
        print("\nlayer check: " + ("FAILED" if failed else "ok"))
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
