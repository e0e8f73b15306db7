"""Task scenes in MuJoCo: the generated arm MJCF on a table (world z = 0 is the table top, facts §3.3 `world`)."""

from __future__ import annotations

import mujoco

from roarm_lab.assets.paths import MJCF_PATH
from roarm_lab.tasks.timing import PHYSICS_DT

SCENE_CONTYPE, SCENE_CONAFFINITY = 1, 3  # touches the arm (contype 2) and objects (contype 1)
TABLE_HALF_SIZE = (0.35, 0.45, 0.02)
TABLE_CENTER = (0.2, 0.0, -0.02)


def build_scene_spec() -> mujoco.MjSpec:
    spec = mujoco.MjSpec.from_file(str(MJCF_PATH))
    spec.option.timestep = PHYSICS_DT
    spec.worldbody.add_geom(
        name="table", type=mujoco.mjtGeom.mjGEOM_BOX, size=TABLE_HALF_SIZE, pos=TABLE_CENTER,
        contype=SCENE_CONTYPE, conaffinity=SCENE_CONAFFINITY, rgba=[0.45, 0.36, 0.28, 1.0],
    )
    return spec


def build_scene() -> mujoco.MjModel:
    return build_scene_spec().compile()
