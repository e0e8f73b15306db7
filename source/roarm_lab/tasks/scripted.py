"""A scripted top-down pick policy for Lift and PickPlace: closed-form IK through fixed phases.

It is the reference that proves the tasks are solvable with real contact grasps (the tests run it through the
env and expect success), and it generates demonstrations for imitation learning. It reads only the ArmState
(object pose, command) and returns raw policy actions, like a trained policy would.
"""

from __future__ import annotations

import torch

from roarm_lab.description import HOME_POSE
from roarm_lab.tasks import resets
from roarm_lab.tasks.mdp import observations as obs
from roarm_lab.tasks.mdp.actions import actions_for_targets
from roarm_lab.tasks.mdp.state import ArmState

OPEN, CLOSED = 1.1, 0.0  # 1.1 rad clears a 30 mm cube 3 mm off the fixed jaw
HOVER = 0.06  # m above the cube / target

# (name, control steps); the phase advances on its step budget
LIFT_PHASES = (("hover", 30), ("descend", 25), ("close", 20), ("lift", 1000))
PICK_PLACE_PHASES = (("hover", 30), ("descend", 25), ("close", 20), ("raise", 20), ("carry", 40),
                     ("lower", 25), ("release", 10), ("retreat", 1000))


class ScriptedPicker:
    """Batched phase machine. ``place=False``: grasp and hold up at the command; ``True``: put down at it."""

    def __init__(self, num_envs: int, place: bool):
        self.phases = PICK_PLACE_PHASES if place else LIFT_PHASES
        self.step_in_phase = torch.zeros(num_envs, dtype=torch.long)
        self.phase = torch.zeros(num_envs, dtype=torch.long)
        self.grasp_yaw = torch.zeros(num_envs)
        self.hold_target = torch.zeros(num_envs, 3)

    def reset(self, env_ids: torch.Tensor) -> None:
        self.phase[env_ids] = 0
        self.step_in_phase[env_ids] = 0

    def __call__(self, s: ArmState) -> torch.Tensor:
        n = len(s.joint_pos)
        target = s.object_pos.clone()
        gripper = torch.full((n,), OPEN)
        names = [name for name, _ in self.phases]
        up = torch.tensor([0.0, 0.0, HOVER])
        for k, name in enumerate(names):
            m = self.phase == k
            if not m.any():
                continue
            if name in ("hover", "descend", "close"):
                # latch the cube's yaw and position while it is still on the table
                self.grasp_yaw[m] = obs.object_yaw(s)[m]
                self.hold_target[m] = s.object_pos[m]
            if name == "hover":
                target[m] = s.object_pos[m] + up
            elif name in ("descend", "close"):
                target[m] = self.hold_target[m]
            elif name in ("raise", "retreat"):
                base = s.command if name == "retreat" else self.hold_target
                target[m] = base[m] + up
            elif name in ("lift", "carry"):
                target[m] = s.command[m] + (up if name == "carry" else 0.0)
            elif name in ("lower", "release"):
                target[m] = s.command[m]
            if name in ("close", "raise", "lift", "carry", "lower"):
                gripper[m] = CLOSED
        q, ok = resets.top_down_pose(target, self.grasp_yaw, 0.0)
        q[:, 5] = gripper
        home = torch.tensor(HOME_POSE)
        q[~ok] = home
        budgets = torch.tensor([steps for _, steps in self.phases])
        self.step_in_phase += 1
        advance = self.step_in_phase >= budgets[self.phase]
        self.phase = torch.where(advance, torch.clamp(self.phase + 1, max=len(self.phases) - 1), self.phase)
        self.step_in_phase[advance] = 0
        return actions_for_targets(q)
