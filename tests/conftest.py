"""Shared fixtures: random in-limit joint configurations and the generated assets; the suite's thread policy."""

from __future__ import annotations

import os

# The suite's threads, decided here once. Before torch loads OpenMP: idle OpenMP threads sleep instead of spinning,
# which on 2 cores shared with another busy process otherwise slows torch work 10x and more.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# MuJoCo reads its OpenGL backend when first imported: headless EGL (a GPU, or Mesa's software EGL) for the camera
# tests that render in this process (the twin's camera, rendered calibration frames).
os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from roarm_lab.description import HARDWARE_SAFE  # noqa: E402


def pytest_collection_modifyitems(session, config, items):
    """Tests that build an OvPhysX env in this process run last. OvPhysX's runtime (Carbonite, ovstage) cannot be
    unloaded, and one of its threads keeps ~30 % of a core busy for the rest of the process even after the env is
    closed (measured: 0.3 CPU-seconds a second, one thread). On 2 cores that starved the timing-sensitive
    tests after it (LeRobot CLIs, the runner's stream tests) and stretched the suite; run last, it costs nothing."""
    items.sort(key=lambda item: item.get_closest_marker("ovphysx") is not None)  # stable: order kept otherwise


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread_by_default():
    """One intra-op torch thread for the whole suite: its batches are small, and more threads only contend with
    MuJoCo's rollout threads, the in-process emulator and whatever else runs on the machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def random_configs():
    """1000 joint configurations drawn uniformly inside the hardware-safe limits (fixed seed)."""
    rng = np.random.default_rng(1234)
    lo, hi = np.array(HARDWARE_SAFE.lower), np.array(HARDWARE_SAFE.upper)
    return lo + (hi - lo) * rng.uniform(size=(1000, 6))


@pytest.fixture(scope="module")
def scratch_hf_cache(tmp_path_factory):
    """Loading a LeRobot dataset makes `datasets` cache Arrow copies of it: keep them out of the user's cache."""
    import datasets.config

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("hf_datasets"))
        yield
