"""The physics presets: ``physx`` runs kit-less on OvPhysX where Isaac Sim is absent (no hand-off), and the one
workaround OvPhysX needs on a machine without a CUDA driver (pinned host memory) does what it says."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from roarm_lab.isaaclab import launcher
from roarm_lab.isaaclab.physics import PHYSICS_PRESETS, check_physics, isaac_sim_installed, physics_engine

pytestmark = pytest.mark.isaaclab


def test_presets_resolve_to_their_engines():
    assert PHYSICS_PRESETS == ("newton_mjwarp", "physx")
    assert physics_engine("newton_mjwarp") == "newton" and physics_engine("newton_mjwarp", kit=True) == "newton"
    assert physics_engine("physx") == "ovphysx" and physics_engine("physx", kit=True) == "isaacsim-physx"
    with pytest.raises(ValueError, match="physics must be one of"):
        check_physics("bullet")


def test_physx_runs_in_train_py_unless_isaac_sim_is_installed():
    """Kit (Isaac Sim) is needed for Isaac Sim's PhysX, videos and multi-GPU runs only."""
    assert launcher.needs_isaaclab_launcher("physx", video=False, distributed=False) == isaac_sim_installed()
    assert not launcher.needs_isaaclab_launcher("newton_mjwarp", video=False, distributed=False)
    assert launcher.needs_isaaclab_launcher("newton_mjwarp", video=True, distributed=False)
    assert launcher.needs_isaaclab_launcher("newton_mjwarp", video=False, distributed=True)


PINNED_PROBE = """
import warp as wp
wp.init()
cuda = wp.get_cuda_device_count() > 0
def pinned():
    try:
        a = wp.zeros(4, dtype=wp.float32, device="cpu", pinned=True)
        a.numpy()[:] = 1.0
        return float(a.numpy().sum())
    except RuntimeError as err:
        return str(err)
before = pinned()
from roarm_lab.isaaclab.ovphysx_cpu import allow_pinned_host_memory_without_cuda
patched = allow_pinned_host_memory_without_cuda()
print(repr((cuda, before, patched, pinned())))
"""


def test_pinned_host_memory_workaround_only_without_cuda():
    """In a fresh process: without a CUDA device Warp's pinned CPU allocation fails (what breaks the OvPhysX
    assets) until the workaround is on, then it gives usable memory; with one, the workaround leaves Warp alone."""
    result = subprocess.run([sys.executable, "-c", PINNED_PROBE], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    cuda, before, patched, after = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    if cuda:
        assert patched is False and before == after == 4.0
    else:
        assert "Failed to allocate" in before
        assert patched is True and after == 4.0
