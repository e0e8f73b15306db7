"""Where the generated assets live. Override the repository root with ROARM_LAB_ROOT for relocated installs."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(os.environ.get("ROARM_LAB_ROOT", Path(__file__).resolve().parents[3]))
GENERATED_DIR = Path(__file__).resolve().parent / "generated"
URDF_PATH = GENERATED_DIR / "roarm_m3_pro.urdf"
MJCF_PATH = GENERATED_DIR / "roarm_m3_pro.xml"
USD_PATH = REPO_ROOT / "usd" / "roarm_m3_pro.usda"


def fmt(x: float) -> str:
    """Deterministic, compact float text for the XML writers (drops float noise below 1e-12)."""
    x = 0.0 if abs(x) < 1e-12 else float(x)
    return format(x, ".10g")


def fmt_vec(v) -> str:
    return " ".join(fmt(x) for x in v)
