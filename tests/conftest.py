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


@pytest.fixture(scope="module")
def one_torch_thread():
    """For modules of tiny batches: one torch thread is fastest and does not fight other work for the cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
