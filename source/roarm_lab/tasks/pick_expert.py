"""A reactive top-down pick expert for Lift and PickPlace: what to do next is read from the current state only.

Unlike :class:`~roarm_lab.tasks.scripted.ScriptedPicker`, whose phases run on a clock, this expert has no memory,
so it answers correctly on any state a learning policy drives the arm into; that is what DAgger
(:mod:`roarm_lab.training.dagger`) needs from a teacher. Every step it picks one rule, in order:

1. PickPlace, the cube resting at the target: open the jaws in place, then move up and away.
2. The jaws closed on the cube: carry it (Lift: to the goal; PickPlace: up, over the target, down onto it).
3. The cube between the open jaws: close them.
4. Otherwise: open the jaws over the cube, then descend onto it; on the way there the commanded grasp point leads
   the measured one by at most ``APPROACH_LEAD``.

Targets go through the same closed-form top-down IK as the scripted picker and come out as raw policy actions.
"""

from __future__ import annotations

import torch

from roarm_lab.tasks import resets
from roarm_lab.tasks.mdp import observations as obs
from roarm_lab.tasks.mdp import rewards as rew
from roarm_lab.tasks.mdp.actions import actions_for_targets
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.pick_place import PLACE_RADIUS_M
from roarm_lab.tasks.scripted import CLOSED, HOVER, OPEN

#: gripper joint when the jaws have closed on a 3 cm cube (measured in sim: 0.36-0.40 rad; empty jaws close to 0)
GRIPPED_RANGE = (0.2, 0.55)
#: jaws opening faster than this (rad/s; the servo opens them at ~2.5) hold nothing, whatever the joint reads: jaws
#: opening through GRIPPED_RANGE with the cube near read as a grasp, and the arm carried nothing away
OPENING_SPEED = 1.0
#: cube centre within this of the grasp point: close the jaws / still held
CLOSE_RADIUS = 0.012
HELD_RADIUS = 0.025
#: the grasp point closes on the cube this far above its centre: the fixed jaw reaches 12 mm below the grasp point,
#: 3 mm above the table with the grasp point at a resting cube's centre, and the arm's overshoot against sag then
#: presses it into the table, which pushes the grasp point off the cube (the expert went up and down forever)
GRASP_CLEARANCE = 0.005
#: grasp point within this of the cube's vertical line: descend (wider once on the way down)
ALIGN_RADIUS = (0.012, 0.02)
CARRY_HEIGHT = 0.06  # cube centre above its rest height while carried to the target
#: lower the cube onto the target from within this (xy) of it; keep lowering while within the larger radius
LOWER_RADIUS = (0.01, 0.025)
#: ... down a cone: the cube's target height above the goal is LOWER_SLOPE times its xy error beyond RELEASE_RADIUS
#: (within that it goes straight down and is let go: no target hovering over a release)
LOWER_SLOPE = 4.0
#: on the way to the cube, the commanded grasp point leads the measured one by at most this: straight at the target,
#: the arm arrived in ~5 control steps, overshot 2-4 cm down onto the cube, or came down on it with the jaws still
#: half open (they start an episode closed and take ~20 steps to open): either pushed the cube away
APPROACH_LEAD = 0.02
#: while carrying, the commanded grasp point leads the measured one by at most this (a swinging cube slips)
CARRY_LEAD = 0.03
#: a cube resting this close to the target (xy) is let go; PickPlace counts it placed within PLACE_RADIUS_M (2 cm),
#: and a student whose release boundary blurs by a few millimetres must still land inside that
RELEASE_RADIUS = 0.012
#: where the carried cube is aimed, from the target: outwards (away from the base) and counter-clockwise seen from
#: above. Aimed at the target, cubes landed a median 6 mm nearer the base and 4.5 mm clockwise of it (1000 held-out
#: episodes: the cube swings in the jaws as the arm stops it at the table), and let go within 1.2 cm of the target
#: they came to rest 1.6 cm off at the 90th percentile, which a student's blur pushed past PickPlace's 2 cm. Aimed
#: this far the other way (most of the median, not all: the full median aimed the expert at 97.7 %), the 90th
#: percentile is 1.5 cm, the median 7.7 mm (was 9.1)
LANDING_AIM = (0.004, 0.003)
#: ... and with the cube's centre at most this above its resting height: a 3 cm cube let go from 1.5 cm lands where
#: it is, and a student whose descent stops a few millimetres short still lets go (at 5 mm, PickPlace clones held the
#: cube 8-11 mm up over the target until the episode ended: 3-seed clone mean 89.9 % -> 93.9 %)
RELEASE_HEIGHT = 0.015
#: gripper joint past which the jaws have let go of the cube (they hold it at 0.36-0.40 rad): the arm may leave.
#: Well short of OPEN, because a servo with more friction than nominal stops short of an open command
RELEASED = 0.7
#: after letting go, the grasp point goes this high above the cube: PickPlace's success wants it >= 5 cm away,
#: and the arm sags ~2 cm short of a 6 cm target
RETREAT_HEIGHT = 0.10
#: ... and where that is out of top-down reach (the wrist's 1.4 rad limit, from ~24 cm out), the first of these
#: that is not
RETREAT_FALLBACK_HEIGHTS = (0.085, 0.07, 0.055)


class ReactivePicker:
    """Batched and memoryless. ``place=False``: grasp and hold the cube at the command; ``True``: put it down at the
    command and move clear."""

    def __init__(self, place: bool):
        self.place = place

    def reset(self, env_ids: torch.Tensor) -> None:
        """Nothing to forget."""

    def __call__(self, s: ArmState) -> torch.Tensor:
        cube, grasp, gripper = s.object_pos, s.grasp_pos, s.joint_pos[:, 5]
        up = torch.tensor([0.0, 0.0, HOVER])
        grasp_at = cube + torch.tensor([0.0, 0.0, GRASP_CLEARANCE])
        to_cube = rew.object_grasp_distance(s)
        to_grasp_at = torch.linalg.norm(grasp - grasp_at, dim=-1)
        xy_off = torch.linalg.norm(grasp[:, :2] - cube[:, :2], dim=-1)
        low = grasp[:, 2] < cube[:, 2] + 0.7 * HOVER
        aligned = xy_off < torch.where(low, ALIGN_RADIUS[1], ALIGN_RADIUS[0])
        gripped = ((to_cube <= HELD_RADIUS) & (gripper >= GRIPPED_RANGE[0]) & (gripper <= GRIPPED_RANGE[1])
                   & (s.joint_vel[:, 5] < OPENING_SPEED))

        # 4. approach: above the cube, then down onto it, jaws open
        approach = torch.where(aligned[:, None], grasp_at, cube + up)
        target = _lead(grasp, approach, APPROACH_LEAD)
        jaws = torch.full_like(gripper, OPEN)
        # 3. between the open jaws: close
        closing = (to_grasp_at <= CLOSE_RADIUS) & (gripper > GRIPPED_RANGE[1])
        jaws = torch.where(closing, CLOSED, jaws)
        target = torch.where(closing[:, None], grasp_at, target)
        # 2. gripped: carry
        carry = self._carry_target(s) + (grasp - cube)  # the cube sits a little off the grasp point
        target = torch.where(gripped[:, None], _lead(grasp, carry, CARRY_LEAD), target)
        approaching = ~(gripped | closing)
        jaws = torch.where(gripped, CLOSED, jaws)
        if self.place:
            # 1. on the table at the target: let go, then leave upwards (no speed test: a nudge while the jaws open
            # must not make it grab again)
            to_goal = rew.object_goal_xy_distance(s)
            placed = (rew.object_height(s) <= RELEASE_HEIGHT) & (to_goal <= PLACE_RADIUS_M)
            # still holding it: let go only well inside the place radius, else carry it on (lifted over: the cone below)
            placed = placed & ~(gripped & (to_goal > RELEASE_RADIUS))
            released = placed & (gripper >= RELEASED)
            away = cube + torch.tensor([0.0, 0.0, RETREAT_HEIGHT])
            target = torch.where(placed[:, None], torch.where(released[:, None], away, grasp), target)
            approaching &= ~placed
            jaws = torch.where(placed, OPEN, jaws)

        yaw = obs.object_yaw(s)
        q, ok = resets.top_down_pose(target, yaw, 0.0)
        if self.place:  # far out, 10 cm up is beyond the wrist's limit: leave as high as the arm reaches
            for height in RETREAT_FALLBACK_HEIGHTS:
                retry = released & ~ok
                if not retry.any():
                    break
                q[retry], ok[retry] = resets.top_down_pose(cube[retry] + torch.tensor([0.0, 0.0, height]),
                                                           yaw[retry], 0.0)
        # a lead-limited step on the way to the cube out of top-down reach (e.g. close over the base): go straight
        fix = ~ok & approaching
        if fix.any():
            q[fix], ok[fix] = resets.top_down_pose(approach[fix], yaw[fix], 0.0)
        q[~ok] = s.joint_pos[~ok]  # out of top-down reach: hold still rather than swing away
        q[:, 5] = jaws
        return actions_for_targets(q)

    def _carry_target(self, s: ArmState) -> torch.Tensor:
        """Where the held cube's centre should go."""
        if not self.place:
            return s.command
        cube, goal = s.object_pos, s.command
        xy = rew.object_goal_xy_distance(s)
        carry_z = goal[:, 2] + CARRY_HEIGHT
        raised = cube[:, 2] >= carry_z - 0.02
        # far from the target: first up where it is, then over at carry height; over it: down onto it
        over = torch.stack([goal[:, 0], goal[:, 1], carry_z], -1)
        up_here = torch.stack([cube[:, 0], cube[:, 1], carry_z], -1)
        far = torch.where(raised[:, None], over, up_here)
        lowering = (xy <= LOWER_RADIUS[0]) | ((xy <= LOWER_RADIUS[1]) & ~raised)
        # down a cone over the target: the further off in xy, the higher; a cube set down off the target is lifted
        # and moved over rather than slid along the table (which friction stops: the arm pushed on forever)
        above = torch.clamp(LOWER_SLOPE * (xy - RELEASE_RADIUS), min=0.0, max=CARRY_HEIGHT)
        out = goal[:, :2] / torch.linalg.norm(goal[:, :2], dim=-1, keepdim=True)  # from the base (at the origin)
        ccw = torch.stack([-out[:, 1], out[:, 0]], -1)
        aim = goal[:, :2] + LANDING_AIM[0] * out + LANDING_AIM[1] * ccw
        down = torch.stack([aim[:, 0], aim[:, 1], goal[:, 2] + above], -1)
        return torch.where(lowering[:, None], down, far)


def _lead(grasp: torch.Tensor, target: torch.Tensor, lead: float) -> torch.Tensor:
    """``target`` moved towards ``grasp`` until it is at most ``lead`` away."""
    step = target - grasp
    return grasp + step * torch.clamp(lead / torch.linalg.norm(step, dim=-1, keepdim=True), max=1.0)
