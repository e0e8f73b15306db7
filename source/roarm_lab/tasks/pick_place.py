"""RoArm-PickPlace: move the 3 cm cube to a target on the table, let go and move the jaws away.

Success (stated here, checked by both backends): the cube rests on the table (at rest height, < 5 cm/s) with its
centre within 2 cm of the target, the gripper open (>= 0.5 rad) and the grasp point >= 5 cm from the cube, for
0.2 s without a break.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from roarm_lab.tasks import resets
from roarm_lab.tasks.lift import (
    HELD_RADIUS_M,
    OBJECT_OBSERVATION_TERMS,
    ObjectTaskCfg,
    object_task_terminations,
    reset_object_task,
)
from roarm_lab.tasks.mdp import rewards as rew
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.spec import ResetSample, TaskSpec
from roarm_lab.tasks.timing import CONTROL_HZ

TASK_ID = "RoArm-PickPlace"
PLACE_RADIUS_M = 0.02
GRIPPER_OPEN_RAD = 0.5
TCP_AWAY_M = 0.05
SUCCESS_HOLD_S = 0.2


@dataclass
class PickPlaceCfg(ObjectTaskCfg):
    episode_length_s: float = 8.0
    min_target_distance: float = 0.08  # m between the cube's start and the target
    #: Staged so that each stage pays more than the one before it: carrying the cube (transport, at most 8)
    #: < the cube resting at the target (placed, 10) < placed, released and clear (placed + release + retreat,
    #: 20). Transport stops paying once the cube is placed, so holding on at the target is worth less than letting
    #: go (placed + a closed gripper's partial release, < 15).
    reward_weights: dict[str, float] = field(
        default_factory=lambda: {"reaching_object": 1.0, "lifted": 2.0, "transport": 4.0, "transport_fine": 4.0,
                                 "placed": 10.0, "release": 5.0, "retreat": 5.0, "action_rate": -0.01,
                                 "joint_vel": -0.001}
    )
    reaching_std: float = 0.05
    transport_std: float = 0.1
    transport_fine_std: float = 0.02
    #: the carried cube is guided through a point this high above the target, lowered over the last few cm
    carry_height: float = 0.05
    lower_radius: float = 0.04


def sample_place_targets(object_pos: torch.Tensor, min_distance: float, generator: torch.Generator) -> torch.Tensor:
    """(n, 3) targets on the table in the placement region, each >= min_distance from its cube."""
    out = resets.table_positions(len(object_pos), generator)
    todo = torch.linalg.norm(out[:, :2] - object_pos[:, :2], dim=-1) < min_distance
    while todo.any():
        out[todo] = resets.table_positions(int(todo.sum()), generator)
        todo = torch.linalg.norm(out[:, :2] - object_pos[:, :2], dim=-1) < min_distance
    return out


def reset(cfg: PickPlaceCfg, n: int, generator: torch.Generator) -> ResetSample:
    sample = reset_object_task(cfg, n, generator)
    sample.command = sample_place_targets(sample.object_pos, cfg.min_target_distance, generator)
    return sample


def placed(s: ArmState) -> torch.Tensor:
    return rew.object_resting_at_goal(s, PLACE_RADIUS_M)


def carry_waypoint(cfg: PickPlaceCfg, s: ArmState) -> torch.Tensor:
    """(N, 3) where the carried cube should be: ``carry_height`` above the target while it is far from it in the
    table plane, lowered onto the target over the last ``lower_radius`` metres."""
    xy = rew.object_goal_xy_distance(s)
    height = cfg.carry_height * torch.clamp(xy / cfg.lower_radius, 0.0, 1.0)
    return s.command + torch.stack([torch.zeros_like(height), torch.zeros_like(height), height], dim=-1)


def reward_terms(cfg: PickPlaceCfg, s: ArmState) -> dict[str, torch.Tensor]:
    at_goal = placed(s).float()
    in_jaws = rew.object_in_jaws(s, HELD_RADIUS_M).float()
    carrying = in_jaws * (1.0 - at_goal)
    to_waypoint = torch.linalg.norm(carry_waypoint(cfg, s) - s.object_pos, dim=-1)
    away_from_goal = (rew.object_goal_xy_distance(s) > PLACE_RADIUS_M * 1.5).float()
    return {
        "reaching_object": rew.reaching_object(s, cfg.reaching_std) * (1.0 - at_goal),
        "lifted": rew.object_lifted_in_jaws(s, 0.03, HELD_RADIUS_M) * away_from_goal,
        "transport": carrying * (1.0 - torch.tanh(to_waypoint / cfg.transport_std)),
        "transport_fine": carrying * (1.0 - torch.tanh(to_waypoint / cfg.transport_fine_std)),
        "placed": at_goal,
        "release": at_goal * rew.gripper_opening(s, GRIPPER_OPEN_RAD),
        "retreat": at_goal * torch.clamp(rew.object_grasp_distance(s) / TCP_AWAY_M, 0.0, 1.0),
        "action_rate": rew.action_rate(s),
        "joint_vel": rew.joint_vel_l2(s),
    }


def done_and_clear(cfg: PickPlaceCfg, s: ArmState) -> torch.Tensor:
    return placed(s) & (s.joint_pos[:, 5] >= GRIPPER_OPEN_RAD) & (rew.object_grasp_distance(s) >= TCP_AWAY_M)


SPEC = TaskSpec(
    task_id=TASK_ID, make_cfg=PickPlaceCfg, observation_terms=OBJECT_OBSERVATION_TERMS, has_object=True,
    reset=reset, reward_terms=reward_terms, terminations=object_task_terminations, success_condition=done_and_clear,
    success_hold_steps=int(round(SUCCESS_HOLD_S * CONTROL_HZ)),
    metrics=(("final_goal_distance_m", rew.object_goal_xy_distance),),
)
