"""Robot profiles for the tests (:mod:`roarm_lab.description.robot_profile`): one as sysid would write it, and
nominal ones with chosen drive values, delay and offsets."""

from __future__ import annotations

from dataclasses import replace

from roarm_lab.description.robot_profile import Estimate, RobotProfile, nominal_profile


def measured_profile() -> RobotProfile:
    """Every value off nominal, every std non-zero, provenance set."""
    nominal = nominal_profile()
    joints = {}
    for i, (name, joint) in enumerate(nominal.joints.items()):
        joints[name] = replace(
            joint,
            stiffness=Estimate(joint.stiffness.value * 1.1, 2.0),
            damping=Estimate(joint.damping.value * 0.9, 0.01),
            armature=Estimate(joint.armature.value * 1.2, 0.001),
            friction=Estimate(joint.friction.value + 0.01, 0.005),
            encoder_offset=Estimate(0.01 * (i - 2), 0.002),
        )
    return replace(nominal, joints=joints, command_delay_s=Estimate(0.021, 0.002), name="arm-a",
                   provenance={"recordings": ["a.jsonl"], "residual_rad": 0.004})


def scaled_profile(name: str = "scaled", stiffness: float = 1.0, stiffness_std: float = 0.0,
                   delay_s: float = 0.0, delay_std_s: float = 0.0,
                   offsets: tuple[float, ...] | None = None) -> RobotProfile:
    """The nominal profile with every stiffness times ``stiffness`` (std: ``stiffness_std`` of the value), the
    given command delay and encoder offsets (rad, JOINT_NAMES order)."""
    nominal = nominal_profile()
    joints = {}
    for i, (joint_name, joint) in enumerate(nominal.joints.items()):
        kp = joint.stiffness.value * stiffness
        offset = Estimate(offsets[i]) if offsets is not None else joint.encoder_offset
        joints[joint_name] = replace(joint, stiffness=Estimate(kp, kp * stiffness_std), encoder_offset=offset)
    return replace(nominal, joints=joints, command_delay_s=Estimate(delay_s, delay_std_s), name=name)
