"""The layer check: no import cycles between modules and no import against the layer table of
scripts/dev/import_graph.py (see docs/development.md)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_layers():
    res = subprocess.run([sys.executable, "scripts/dev/import_graph.py", "--check"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
