"""The Isaac Lab configs simulate the task config's robot profile: the servo actuator's stiffness, back-EMF
damping, armature and friction are the profile's (kit-less: the configs are built, no simulation runs)."""

from __future__ import annotations

import pytest
from robot_profiles import measured_profile

from roarm_lab.description import DRIVES, JOINT_NAMES

pytestmark = [pytest.mark.isaaclab, pytest.mark.slow]


def _drives(actuator) -> dict[str, dict[str, float]]:
    return {"stiffness": actuator.stiffness, "damping": actuator.viscous_friction, "armature": actuator.armature,
            "friction": actuator.friction}


def test_actuator_cfg_is_the_profiles_or_the_descriptions():
    from roarm_lab.isaaclab.robot_cfg import servo_actuator_cfg

    profile = measured_profile()
    for field, values in _drives(servo_actuator_cfg(profile)).items():
        assert values == dict(zip(JOINT_NAMES, profile.values(field), strict=True)), field
    nominal = _drives(servo_actuator_cfg())
    for d in DRIVES:
        assert (nominal["stiffness"][d.joint], nominal["damping"][d.joint], nominal["armature"][d.joint],
                nominal["friction"][d.joint]) == (d.stiffness, d.damping, d.armature, d.friction)
    assert servo_actuator_cfg(profile).actuator_effort_limit == servo_actuator_cfg().actuator_effort_limit


def test_env_cfg_passes_the_task_cfgs_profile_to_the_robot():
    from isaaclab_tasks.utils import parse_env_cfg

    import roarm_lab.isaaclab  # noqa: F401 (registers the tasks)
    from roarm_lab.isaaclab.env_cfg import RoArmLiftEnvCfg
    from roarm_lab.isaaclab.robot_cfg import ROOT_POS, SERVO_GROUP
    from roarm_lab.tasks.lift import LiftCfg

    profile = measured_profile()
    task_cfg = LiftCfg().with_robot_profile(profile)
    cfg = RoArmLiftEnvCfg(task_cfg=task_cfg)
    servos = cfg.scene.robot.actuators[SERVO_GROUP]
    assert servos.stiffness == dict(zip(JOINT_NAMES, profile.values("stiffness"), strict=True))
    assert servos.viscous_friction == dict(zip(JOINT_NAMES, profile.values("damping"), strict=True))
    assert cfg.commands.task.task_cfg.robot_profile == profile
    # a parsed config (presets resolved) gets the profile through set_task_cfg and keeps its root pose
    parsed = parse_env_cfg("RoArm-Reach", device="cpu", num_envs=2)
    assert parsed.scene.robot.actuators[SERVO_GROUP].stiffness == {d.joint: d.stiffness for d in DRIVES}
    parsed.set_task_cfg(parsed.task_cfg.with_robot_profile(profile))
    assert parsed.scene.robot.actuators[SERVO_GROUP].stiffness == servos.stiffness
    assert tuple(parsed.scene.robot.init_state.pos) == ROOT_POS
    # a fresh config is nominal again: the profile did not leak into the shared robot config
    assert RoArmLiftEnvCfg().scene.robot.actuators[SERVO_GROUP].stiffness == {d.joint: d.stiffness for d in DRIVES}
