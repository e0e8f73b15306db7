"""The Isaac Lab physics presets of the RoArm tasks and which engine each one runs on here.

* ``newton_mjwarp``: Newton with the MuJoCo-Warp solver; kit-less, CPU or GPU.
* ``physx``: Isaac Lab's ``PhysxAutoCfg``, which resolves when the simulation is built: Isaac Sim's PhysX where Kit
  (the Isaac Sim app) runs, OvPhysX elsewhere. OvPhysX is PhysX without Isaac Sim (the ``ovphysx`` and ``ovstage``
  wheels of ``isaaclab[ovphysx]``, which ``scripts/env.sh`` installs); it runs kit-less on a CPU or a GPU.

``scripts/train.py`` runs both presets itself; only Isaac Sim's PhysX (Kit), videos and multi-GPU runs go through
Isaac Lab's own launcher (:mod:`roarm_lab.isaaclab.launcher`).
"""

from __future__ import annotations

import importlib.util

PHYSICS_PRESETS = ("newton_mjwarp", "physx")
DEFAULT_PHYSICS = "newton_mjwarp"


def isaac_sim_installed() -> bool:
    return importlib.util.find_spec("isaacsim") is not None


def ovphysx_installed() -> bool:
    return importlib.util.find_spec("ovphysx") is not None and importlib.util.find_spec("ovstage") is not None


def physics_engine(physics: str, kit: bool = False) -> str:
    """The engine a preset runs on: ``newton`` (MuJoCo-Warp solver), ``isaacsim-physx`` (Kit running) or
    ``ovphysx``."""
    check_physics(physics, kit)
    if physics == "newton_mjwarp":
        return "newton"
    return "isaacsim-physx" if kit else "ovphysx"


def check_physics(physics: str, kit: bool = False) -> None:
    """Raise ValueError for an unknown preset or one whose engine is not installed."""
    if physics not in PHYSICS_PRESETS:
        raise ValueError(f"physics must be one of {PHYSICS_PRESETS}, got {physics!r}")
    if physics == "physx" and not kit and not ovphysx_installed():
        raise ValueError("the physx preset needs Isaac Sim (Kit) or OvPhysX, and neither is installed: "
                         "`bash scripts/env.sh` installs OvPhysX (pip install --no-deps ovphysx ovstage)")
