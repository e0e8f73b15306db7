"""The task scenes in Isaac Lab, from the simulator-neutral numbers of :mod:`roarm_lab.tasks.scene`: the arm's base
at each environment's origin on a table top at z = 0, and (Lift, PickPlace) the 3 cm cube. Everything is local
primitives, so nothing is fetched at run time."""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.assets import ArticulationCfg, AssetBaseCfg, RigidObjectCfg
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sim.spawners.materials import RigidBodyMaterialBaseCfg
from isaaclab.utils import configclass

from roarm_lab.isaaclab.robot_cfg import ROARM_M3_PRO_CFG
from roarm_lab.tasks import scene

ENV_SPACING_M = 1.5  # the table is 0.7 x 0.9 m


def _friction(mu: float) -> RigidBodyMaterialBaseCfg:
    return RigidBodyMaterialBaseCfg(static_friction=mu, dynamic_friction=mu, restitution=0.0)


TABLE_CFG = AssetBaseCfg(
    prim_path="{ENV_REGEX_NS}/Table",
    init_state=AssetBaseCfg.InitialStateCfg(pos=scene.TABLE_CENTER),
    spawn=sim_utils.CuboidCfg(
        size=tuple(2 * h for h in scene.TABLE_HALF_SIZE),
        collision_props=sim_utils.UsdPhysicsCollisionCfg(),
        physics_material=_friction(scene.TABLE_FRICTION),
        visual_material=sim_utils.PreviewSurfaceCfg(diffuse_color=(0.45, 0.36, 0.28)),
    ),
)

CUBE_CFG = RigidObjectCfg(
    prim_path="{ENV_REGEX_NS}/Cube",
    init_state=RigidObjectCfg.InitialStateCfg(pos=(0.25, 0.0, scene.CUBE_REST_Z)),
    spawn=sim_utils.CuboidCfg(
        size=(scene.CUBE_SIZE,) * 3,
        rigid_props=sim_utils.UsdPhysicsRigidBodyCfg(),
        collision_props=sim_utils.UsdPhysicsCollisionCfg(),
        mass_props=sim_utils.MassCfg(mass=scene.CUBE_MASS),
        physics_material=_friction(scene.CUBE_FRICTION),
        visual_material=sim_utils.PreviewSurfaceCfg(diffuse_color=(0.2, 0.5, 0.9)),
    ),
)


@configclass
class RoArmSceneCfg(InteractiveSceneCfg):
    """Reach: the arm on the table."""

    robot: ArticulationCfg = ROARM_M3_PRO_CFG
    table: AssetBaseCfg = TABLE_CFG
    light = AssetBaseCfg(
        prim_path="/World/light", spawn=sim_utils.DomeLightCfg(color=(0.9, 0.9, 0.9), intensity=2000.0)
    )


@configclass
class RoArmCubeSceneCfg(RoArmSceneCfg):
    """Lift and PickPlace: the arm, the table and the cube."""

    cube: RigidObjectCfg = CUBE_CFG
