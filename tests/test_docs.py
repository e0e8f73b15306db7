"""Every hardware citation in the project resolves to a section of docs/hardware.md (and none cites the old sheet)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_hardware_citations_resolve():
    cmd = [sys.executable, "scripts/dev/repoint_citations.py", "--check",
           "source", "scripts", "tests", "benchmarks", "exts", "README.md", "docs"]
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
