"""Reset samplers shared by the tasks: the arm's initial joints, object placements on the table, pre-grasp poses."""

from __future__ import annotations

import math

import numpy as np
import torch

from roarm_lab import kinematics
from roarm_lab.description import HOME_POSE
from roarm_lab.tasks import scene


def initial_joint_pos(noise: float, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 6) home pose plus uniform noise; the gripper only opens (it rests at its closed limit)."""
    jitter = (torch.rand(n, 6, generator=generator) * 2 - 1) * noise
    jitter[:, 5] = jitter[:, 5].abs()
    return torch.tensor(HOME_POSE, dtype=torch.float32) + jitter


def table_positions(n: int, generator: torch.Generator, z: float = scene.CUBE_REST_Z) -> torch.Tensor:
    """(n, 3) points on the table inside the object placement region (polar box around the base axis)."""
    r_lo, r_hi = scene.OBJECT_RADIUS_RANGE
    a_lo, a_hi = scene.OBJECT_AZIMUTH_RANGE
    r = r_lo + (r_hi - r_lo) * torch.rand(n, generator=generator)
    a = a_lo + (a_hi - a_lo) * torch.rand(n, generator=generator)
    return torch.stack([r * torch.cos(a), r * torch.sin(a), torch.full((n,), z)], dim=-1)


def yaw_quat_wxyz(yaw: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.cos(yaw / 2), torch.zeros_like(yaw), torch.zeros_like(yaw), torch.sin(yaw / 2)], -1)


def top_down_pose(grasp_target: torch.Tensor, yaw: torch.Tensor, gripper: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 6) joints that put the grasp point at ``grasp_target`` with the tool pointing straight down and the jaws
    square to a cube of world yaw ``yaw``; and (n,) bool where the IK found one in limits."""
    p = grasp_target.double().numpy()
    down = math.pi / 2  # firmware pitch convention: + = pointing down
    yaw_np = yaw.double().numpy()

    def squaring_roll(base, near=None):
        # top-down, the jaw plane's world yaw is base - pi/2 - roll; a cube repeats every quarter turn, so take
        # the roll nearest 0 (or nearest ``near``) that squares the jaws to the cube
        roll = np.remainder(base - yaw_np + np.pi / 4, np.pi / 2) - np.pi / 4
        return roll if near is None else near + np.remainder(roll - near + np.pi / 4, np.pi / 2) - np.pi / 4

    # the grasp point is off the TCP and turns with base and roll: fixed-point iteration on the TCP target and
    # the roll (the residual shrinks ~10x per pass). The roll stays on the quarter turn chosen first, so that near
    # +-45 deg a re-choice between passes cannot turn the jaws (and the off-axis grasp point) by 90 deg
    tcp_target = p.copy()
    roll = squaring_roll(np.arctan2(p[:, 1], p[:, 0]))
    # Targets whose IK fails keep their last TCP target (a failed solution's joints are no guide); whatever the
    # passes did, a pose counts only if its grasp point is within 1 mm of the target.
    for _ in range(6):
        ik = kinematics.inverse_kinematics(tcp_target, pitch=down, roll=roll)
        solved = ik.converged
        roll = np.where(solved, squaring_roll(ik.q[:, 0], near=roll), roll)
        ik.q[:, 4] = roll
        tcp_target = tcp_target + solved[:, None] * (p - kinematics.grasp_position(ik.q))
    ik = kinematics.inverse_kinematics(tcp_target, pitch=down, roll=roll)
    ok = ik.converged & (np.linalg.norm(kinematics.grasp_position(ik.q) - p, axis=-1) <= 1e-3)
    q = torch.zeros(len(p), 6)
    q[:, :5] = torch.from_numpy(ik.q).float()
    q[:, 5] = gripper
    return q, torch.from_numpy(ok)
