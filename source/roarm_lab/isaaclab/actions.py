"""The action term: raw policy actions -> servo position targets through
:func:`roarm_lab.tasks.mdp.actions.joint_targets`, the mapping the MuJoCo env and the real-arm runner apply.

Like the MuJoCo env (with the same :class:`~roarm_lab.tasks.episode.ActionLatencyBuffer`), the targets reach the
servos ``latency`` control steps late (per environment, sampled at reset by :mod:`.events` from the task's
randomization config), and until the first delayed action arrives the servos hold the reset pose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.managers import ActionTerm, ActionTermCfg
from isaaclab.utils import configclass

from roarm_lab.description import JOINT_NAMES
from roarm_lab.tasks.episode import ActionLatencyBuffer
from roarm_lab.tasks.mdp.actions import joint_targets

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedEnv


class JointTargetAction(ActionTerm):
    """Six raw actions (JOINT_NAMES order) -> delayed joint position targets of the arm's servos."""

    cfg: JointTargetActionCfg

    def __init__(self, cfg: JointTargetActionCfg, env: ManagerBasedEnv):
        super().__init__(cfg, env)
        ids, _ = self._asset.find_joints(list(JOINT_NAMES), preserve_order=True)
        self._joint_ids = torch.as_tensor(ids, dtype=torch.long, device=self.device)
        n = self.num_envs
        self.action = torch.zeros(n, len(JOINT_NAMES), device=self.device)
        self.last_action = torch.zeros_like(self.action)
        self._latency = ActionLatencyBuffer(n, len(JOINT_NAMES), device=self.device)
        self._applied = torch.zeros_like(self.action)

    @property
    def latency(self) -> torch.Tensor:
        """(N,) the current episodes' action latency, control steps."""
        return self._latency.latency

    @property
    def action_dim(self) -> int:
        return len(JOINT_NAMES)

    @property
    def raw_actions(self) -> torch.Tensor:
        return self.action

    @property
    def processed_actions(self) -> torch.Tensor:
        """The joint targets the servos track this step (after the latency)."""
        return self._applied

    def process_actions(self, actions: torch.Tensor):
        self.last_action = self.action
        self.action = torch.nan_to_num(actions.detach().clone())
        self._applied = self._latency.push(joint_targets(self.action))

    def apply_actions(self):
        self._asset.actuators.target_command.set_position_index(value=self._applied, joint_ids=self._joint_ids)

    def reset(self, env_ids=None) -> None:
        ids = slice(None) if env_ids is None else env_ids
        self.action[ids] = 0.0
        self.last_action[ids] = 0.0

    def hold(self, env_ids: torch.Tensor, joint_pos: torch.Tensor, latency: torch.Tensor) -> None:
        """New episodes: the servos hold ``joint_pos`` (n, 6) until the first action arrives ``latency`` steps late."""
        self._latency.hold(env_ids, joint_pos, latency)
        self._applied[env_ids] = joint_pos.to(self.device)


@configclass
class JointTargetActionCfg(ActionTermCfg):
    class_type: type = JointTargetAction
    asset_name: str = "robot"
