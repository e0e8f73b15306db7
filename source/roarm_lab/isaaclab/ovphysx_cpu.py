"""OvPhysX (Isaac Lab's PhysX without Isaac Sim) on a machine without a CUDA driver.

Isaac Lab 3.0.0's ``isaaclab_ov`` assets stage their CPU-side buffers in pinned host memory
(``wp.zeros(..., device="cpu", pinned=True)``, e.g. ``isaaclab_ov/assets/articulation/articulation.py``). Warp
allocates pinned memory through the CUDA driver, so without one every such allocation fails ("Failed to allocate 16
bytes on device 'cpu'") and no OvPhysX env can be built. Pinning only speeds up host-device copies, and without a
CUDA device there are none: :func:`allow_pinned_host_memory_without_cuda` makes Warp's CPU device serve pinned
requests with its ordinary allocator, and only when no CUDA device exists. This is the one place the project works
around it; :func:`roarm_lab.isaaclab.vec_env.make_vec_env` calls it before building an env.
"""

from __future__ import annotations


def allow_pinned_host_memory_without_cuda() -> bool:
    """Serve Warp's pinned CPU allocations from ordinary host memory when no CUDA device exists. Returns whether it
    did (False with a CUDA device: pinned memory works there and is left alone)."""
    import warp as wp

    wp.init()
    if wp.get_cuda_device_count() > 0:
        return False
    cpu = wp.get_device("cpu")
    cpu.pinned_allocator = cpu.default_allocator
    return True
