"""Hand-off to Isaac Lab's own launcher (``isaaclab train``) for what needs the Isaac Sim app or several GPUs.

``scripts/train.py`` runs Isaac Lab kit-less itself: Newton, and PhysX as OvPhysX (:mod:`.physics`). Isaac Sim's
own PhysX (the ``physx`` preset where Isaac Sim is installed), video recording and multi-GPU / multi-node training
(torch.distributed) go through ``isaaclab train --rl_library rsl_rl``, which launches Isaac Sim, records videos and
sets up the distributed workers; it finds the RoArm tasks through this package's ``isaaclab.tasks`` entry point.
"""

from __future__ import annotations

import sys

from roarm_lab.isaaclab.physics import PHYSICS_PRESETS, isaac_sim_installed


def default_physics() -> str:
    return "physx" if isaac_sim_installed() else "newton_mjwarp"


def needs_isaaclab_launcher(physics: str, video: bool, distributed: bool) -> bool:
    """Isaac Sim's PhysX runs under Kit, which Isaac Lab's launcher starts; without Isaac Sim, train.py runs the
    physx preset itself (OvPhysX)."""
    return (physics == "physx" and isaac_sim_installed()) or video or distributed


def launcher_problem(video: bool) -> str | None:
    """Why the hand-off cannot run here, or None."""
    if video and not isaac_sim_installed():
        return ("--video (rendering) needs Isaac Sim, which is not installed; install Isaac Lab with Isaac Sim or "
                "run without --video (kit-less)")
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
