"""Hand-off to Isaac Lab's own launcher (``isaaclab train``) for what needs the Isaac Sim app or several GPUs.

``scripts/train.py`` runs Isaac Lab kit-less itself (Newton physics). The PhysX preset, video recording and
multi-GPU / multi-node training (torch.distributed) go through ``isaaclab train --rl_library rsl_rl``, which
launches Isaac Sim, records videos and sets up the distributed workers; it finds the RoArm tasks through this
package's ``isaaclab.tasks`` entry point.
"""

from __future__ import annotations

import importlib.util
import sys

PHYSICS_PRESETS = ("newton_mjwarp", "physx")


def isaac_sim_installed() -> bool:
    return importlib.util.find_spec("isaacsim") is not None


def default_physics() -> str:
    return "physx" if isaac_sim_installed() else "newton_mjwarp"


def needs_isaaclab_launcher(physics: str, video: bool, distributed: bool) -> bool:
    return physics == "physx" or video or distributed


def launcher_problem(physics: str, video: bool) -> str | None:
    """Why the hand-off cannot run here, or None."""
    if (physics == "physx" or video) and not isaac_sim_installed():
        what = "the PhysX preset" if physics == "physx" else "--video (rendering)"
        return (f"{what} needs Isaac Sim, which is not installed; install Isaac Lab with Isaac Sim or use "
                "--physics newton_mjwarp without --video (kit-less)")
    return None


def isaaclab_train_command(task: str, num_envs: int, seed: int, device: str, physics: str,
                           max_iterations: int | None = None, video: bool = False, distributed: bool = False,
                           checkpoint: str | None = None) -> list[str]:
    """The ``isaaclab train`` command line for these options. Isaac Lab 3 runs headless unless a visualizer is
    asked for, so there is no headless flag; for several GPUs run it under ``torchrun`` with ``distributed``."""
    if physics not in PHYSICS_PRESETS:
        raise ValueError(f"physics must be one of {PHYSICS_PRESETS}, got {physics!r}")
    cmd = [sys.executable, "-m", "isaaclab", "train", "--rl_library", "rsl_rl", "--task", task,
           "--num_envs", str(num_envs), "--seed", str(seed), "--device", device]
    if max_iterations is not None:
        cmd += ["--max_iterations", str(max_iterations)]
    cmd += [flag for flag, on in (("--video", video), ("--distributed", distributed)) if on]
    if checkpoint:
        cmd += ["--checkpoint", checkpoint]
    return [*cmd, f"agent.device={device}", f"presets={physics}"]
