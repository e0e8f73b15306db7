"""Shared fixtures: random in-limit joint configurations and the generated assets."""

from __future__ import annotations

import numpy as np
import pytest

from roarm_lab.description import HARDWARE_SAFE


@pytest.fixture
def random_configs():
    """1000 joint configurations drawn uniformly inside the hardware-safe limits (fixed seed)."""
    rng = np.random.default_rng(1234)
    lo, hi = np.array(HARDWARE_SAFE.lower), np.array(HARDWARE_SAFE.upper)
    return lo + (hi - lo) * rng.uniform(size=(1000, 6))
