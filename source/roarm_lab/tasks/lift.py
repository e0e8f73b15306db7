"""RoArm-Lift: grasp the 3 cm cube with the jaws and hold it up.

Success (stated here, checked by both backends): the cube's bottom face is >= 5 cm above the table, between the
jaws, for 1 s without a break.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from roarm_lab.tasks import resets
from roarm_lab.tasks.mdp import observations as obs
from roarm_lab.tasks.mdp import rewards as rew
from roarm_lab.tasks.mdp import terminations as term
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.spec import ObservationTerm, ResetSample, TaskCfg, TaskSpec
from roarm_lab.tasks.timing import CONTROL_HZ

TASK_ID = "RoArm-Lift"
SUCCESS_HEIGHT_M = 0.05  # bottom face above the table
SUCCESS_HOLD_S = 1.0
HELD_RADIUS_M = 0.03  # cube centre within this of the grasp point counts as "in the jaws"
DROP_HEIGHT_M = -0.05  # below the table top: the cube fell off

OBJECT_OBSERVATION_TERMS = (
    ObservationTerm("joint_pos_rel", obs.joint_pos_rel, 6, noise=0.005),
    ObservationTerm("joint_vel", obs.joint_vel_scaled, 6, noise=0.01),
    ObservationTerm("grasp_pos", obs.grasp_position, 3),
    ObservationTerm("object_pos", obs.object_position, 3, noise=0.003),
    ObservationTerm("object_to_grasp", obs.object_to_grasp, 3, noise=0.003),
    ObservationTerm("object_yaw", obs.object_yaw_cube_symmetric, 2, noise=0.05),
    ObservationTerm("goal_pos", obs.command_position, 3),
    ObservationTerm("object_to_goal", obs.object_to_command, 3, noise=0.003),
    ObservationTerm("last_action", obs.last_action, 6),
)


@dataclass
class ObjectTaskCfg(TaskCfg):
    """Shared by Lift and PickPlace: cube placement and the pre-grasp start states."""

    object_yaw_range: tuple[float, float] = (-math.pi / 4, math.pi / 4)
    #: fraction of training resets that start above the cube with the jaws open (IK): an initial-state
    #: distribution that shortens exploration. Evaluation (play.py) sets it to 0 and starts from home.
    pregrasp_fraction: float = 0.3
    pregrasp_height_range: tuple[float, float] = (0.0, 0.05)  # grasp point above the cube centre, m
    pregrasp_gripper: float = 1.1  # rad open: clears the 30 mm cube held 3 mm off the fixed jaw (jaw hinge geometry)


@dataclass
class LiftCfg(ObjectTaskCfg):
    episode_length_s: float = 5.0
    goal_height: float = 0.10  # the lift goal: cube centre this high above its start, m
    reward_weights: dict[str, float] = field(
        default_factory=lambda: {"reaching_object": 1.0, "reaching_object_fine": 1.0, "lifted": 15.0,
                                 "goal_tracking": 16.0, "goal_tracking_fine": 5.0, "action_rate": -0.001,
                                 "joint_vel": -0.0001}
    )
    reaching_std: float = 0.1
    reaching_fine_std: float = 0.02
    goal_std: float = 0.3
    goal_fine_std: float = 0.05


def reset_object_task(cfg: ObjectTaskCfg, n: int, generator: torch.Generator) -> ResetSample:
    """Cube on the table at a random place and yaw; the arm at home (noisy) or, for a fraction, above the cube."""
    object_pos = resets.table_positions(n, generator)
    lo, hi = cfg.object_yaw_range
    yaw = lo + (hi - lo) * torch.rand(n, generator=generator)
    joint_pos = resets.initial_joint_pos(cfg.init_joint_noise, n, generator)
    pre = torch.rand(n, generator=generator) < cfg.pregrasp_fraction
    if pre.any():
        h_lo, h_hi = cfg.pregrasp_height_range
        height = h_lo + (h_hi - h_lo) * torch.rand(int(pre.sum()), generator=generator)
        target = object_pos[pre] + torch.stack([torch.zeros_like(height)] * 2 + [height], -1)
        q, ok = resets.top_down_pose(target, yaw[pre], cfg.pregrasp_gripper)
        idx = pre.nonzero().flatten()[ok]
        joint_pos[idx] = q[ok]
    return ResetSample(joint_pos=joint_pos, command=torch.zeros(n, 3), object_pos=object_pos,
                       object_quat=resets.yaw_quat_wxyz(yaw))


def reset(cfg: LiftCfg, n: int, generator: torch.Generator) -> ResetSample:
    sample = reset_object_task(cfg, n, generator)
    sample.command = sample.object_pos + torch.tensor([0.0, 0.0, cfg.goal_height])
    return sample


def reward_terms(cfg: LiftCfg, s: ArmState) -> dict[str, torch.Tensor]:
    in_jaws = rew.object_in_jaws(s, HELD_RADIUS_M).float()
    return {
        "reaching_object": rew.reaching_object(s, cfg.reaching_std),
        "reaching_object_fine": rew.reaching_object(s, cfg.reaching_fine_std),
        "lifted": rew.object_lifted_in_jaws(s, SUCCESS_HEIGHT_M, HELD_RADIUS_M),
        "goal_tracking": rew.object_goal_tracking(s, cfg.goal_std, min_height=0.02) * in_jaws,
        "goal_tracking_fine": rew.object_goal_tracking(s, cfg.goal_fine_std, min_height=0.02) * in_jaws,
        "action_rate": rew.action_rate(s),
        "joint_vel": rew.joint_vel_l2(s),
    }


def object_task_terminations(cfg: ObjectTaskCfg, s: ArmState) -> dict[str, torch.Tensor]:
    """Lift and PickPlace end early when the cube falls off the table."""
    return {"object_dropped": term.object_dropped(s, DROP_HEIGHT_M)}


def held_up(cfg: LiftCfg, s: ArmState) -> torch.Tensor:
    """Cube bottom >= 5 cm above the table (its centre's height above rest) and its centre between the jaws."""
    return (rew.object_height(s) >= SUCCESS_HEIGHT_M) & rew.object_in_jaws(s, HELD_RADIUS_M)


SPEC = TaskSpec(
    task_id=TASK_ID, make_cfg=LiftCfg, observation_terms=OBJECT_OBSERVATION_TERMS, has_object=True, reset=reset,
    reward_terms=reward_terms, terminations=object_task_terminations, success_condition=held_up,
    success_hold_steps=int(round(SUCCESS_HOLD_S * CONTROL_HZ)),
    metrics=(("final_object_height_m", rew.object_height), ("final_grasp_distance_m", rew.object_grasp_distance)),
)
