"""The command-line layer: every scripts/<name>.py is a shim over roarm_lab.cli.<name>.main, every roarm-* entry
point of pyproject.toml names a main, and each command answers --help."""

from __future__ import annotations

import ast
import importlib
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ("train", "play", "export_onnx", "sim_to_sim", "record_sim_demos", "eval_lerobot_policy", "build_assets",
            "import_vendor_urdf", "sysid", "improve", "view")
#: eval_lerobot_policy imports LeRobot (~10 s)
PARAMS = [pytest.param(n, marks=[pytest.mark.lerobot, pytest.mark.slow]) if n == "eval_lerobot_policy" else n
          for n in COMMANDS]


@pytest.mark.parametrize("name", PARAMS)
def test_the_script_is_a_shim_over_the_cli_module(name):
    tree = ast.parse((REPO / "scripts" / f"{name}.py").read_text())
    imports = [(node.module, [a.name for a in node.names]) for node in tree.body if isinstance(node, ast.ImportFrom)]
    assert (f"roarm_lab.cli.{name}", ["main"]) in imports
    assert callable(importlib.import_module(f"roarm_lab.cli.{name}").main)


def test_entry_points_name_cli_mains():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    expected = {"roarm-build-assets", "roarm-train", "roarm-play", "roarm-export-onnx", "roarm-sim-to-sim",
                "roarm-record-sim-demos", "roarm-eval-lerobot-policy", "roarm-sysid", "roarm-improve", "roarm-view"}
    assert expected <= set(scripts)
    for name in expected:
        module, _, attr = scripts[name].partition(":")
        assert module.removeprefix("roarm_lab.cli.") in COMMANDS and attr == "main"  # (mains: the test above)


@pytest.mark.parametrize("name", PARAMS)
def test_help(name, capsys):
    with pytest.raises(SystemExit) as done:
        importlib.import_module(f"roarm_lab.cli.{name}").main(["--help"])
    assert done.value.code == 0
    assert "usage:" in capsys.readouterr().out
