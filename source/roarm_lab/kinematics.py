"""Batched forward and inverse kinematics of the RoArm-M3 Pro, for numpy arrays and torch tensors alike.

The chain is the robot description's (:mod:`roarm_lab.description.kinematic_chain`). Positions are in the
``world`` frame of the assets (the mounting surface, z up) unless a function says otherwise; the firmware's
x, y, z (hardware §2.7) are in mm with z measured from the shoulder-pitch axis: :func:`tcp_firmware_mm`.

Joint vectors hold the five arm joints (base, shoulder, elbow, wrist, roll); a trailing gripper entry, when
present, is ignored (the TCP is fixed on link5, hardware §3.3).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from roarm_lab.description import kinematic_chain as kc
from roarm_lab.description.geometry import GRASP_POINT_LINK5
from roarm_lab.description.limits import HARDWARE_SAFE, JointLimits
from roarm_lab.spatial import homogeneous, rpy_matrix


def _torch():
    """torch if something imported it, else None: a tensor argument implies torch is loaded, so the numpy path
    (the firmware emulator, the real-arm runner) never pays for importing it."""
    return sys.modules.get("torch")


N_ARM = len(kc.ARM_JOINT_NAMES)


def origin_matrix(origin: kc.Origin) -> np.ndarray:
    """4x4 homogeneous transform of a URDF-style origin."""
    return homogeneous(rpy_matrix(origin.rpy), origin.xyz)


_BASE = origin_matrix(kc.BASE_MOUNT)
_JOINT_ORIGINS = np.stack([origin_matrix(j.origin) for j in kc.JOINTS])  # base..gripper
_TCP = origin_matrix(kc.TCP_ORIGIN)


def _xp(a):
    torch = _torch()
    return torch if torch is not None and isinstance(a, torch.Tensor) else np


def _const(m: np.ndarray, like):
    if _xp(like) is np:
        return m.astype(np.result_type(like.dtype, np.float32), copy=False)
    return _torch().as_tensor(m, dtype=like.dtype, device=like.device)


def _rot_z(q):
    xp = _xp(q)
    c, s, z, o = xp.cos(q), xp.sin(q), xp.zeros_like(q), xp.ones_like(q)
    rows = [xp.stack([c, -s, z, z], -1), xp.stack([s, c, z, z], -1), xp.stack([z, z, o, z], -1),
            xp.stack([z, z, z, o], -1)]
    return xp.stack(rows, -2)


def _as_batch(q):
    if _xp(q) is np:
        q = np.asarray(q, dtype=np.float64)
    if q.shape[-1] < N_ARM:
        raise ValueError(f"joint vectors need at least {N_ARM} entries (base..roll), got shape {tuple(q.shape)}")
    return q[..., :N_ARM]


def _chain_frames(q, n: int) -> list:
    """World poses of the child links of the first ``n`` joints for angles q (..., >= n)."""
    m = _const(_BASE, q)
    origins = _const(_JOINT_ORIGINS, q)
    rz = _rot_z(q[..., :n])
    frames = []
    for i in range(n):  # a serial chain: the gripper link hangs on link5
        m = m @ origins[i] @ rz[..., i, :, :]
        frames.append(m)
    return frames


def link_frames(q):
    """World poses (..., 6, 4, 4) of link1..link5 and the TCP for joint angles q (..., >=5)."""
    q = _as_batch(q)
    frames = _chain_frames(q, N_ARM)
    frames.append(frames[-1] @ _const(_TCP, q))
    return _xp(q).stack(frames, -3)


def child_link_frames(q):
    """World poses (..., 6, 4, 4) of every joint's child link, link1..link5 and the gripper link, for the six model
    joint angles q (..., 6). The joint axis of each is its frame's z."""
    if _xp(q) is np:
        q = np.asarray(q, dtype=np.float64)
    if q.shape[-1] != len(kc.JOINTS):
        raise ValueError(f"joint vectors need {len(kc.JOINTS)} entries (base..gripper), got shape {tuple(q.shape)}")
    return _xp(q).stack(_chain_frames(q, len(kc.JOINTS)), -3)


def forward_kinematics(q):
    """TCP position (..., 3) and rotation matrix (..., 3, 3) in the world frame."""
    tcp = link_frames(q)[..., -1, :, :]
    return tcp[..., :3, 3], tcp[..., :3, :3]


def tcp_position(q):
    return forward_kinematics(q)[0]


def grasp_position(q):
    """World position (..., 3) of the grasp point between the jaws (geometry.GRASP_POINT_LINK5)."""
    return grasp_position_from_frames(link_frames(q))


def grasp_position_from_frames(frames):
    """The grasp point from :func:`link_frames` output (saves a second FK pass)."""
    link5 = frames[..., 4, :, :]
    offset = _const(np.array(GRASP_POINT_LINK5), link5)
    return link5[..., :3, :3] @ offset + link5[..., :3, 3]


def tcp_firmware_mm(q):
    """TCP in the firmware's frame (hardware §2.7): mm, origin on the base axis at shoulder-pitch height."""
    p = tcp_position(q)
    offset = _const(np.array([0.0, 0.0, kc.SHOULDER_AXIS_HEIGHT]), p)
    return (p - offset) * 1000.0


def tool_pitch(q):
    """End-effector pitch as the firmware reports it in `tit` (hardware §2.7): s + e + t - pi/2; 0 = horizontal,
    + = pointing down. Shoulder, elbow and wrist axes are parallel, so this is exact for the model too."""
    q = _as_batch(q)
    return q[..., 1] + q[..., 2] + q[..., 3] - math.pi / 2


def position_jacobian(q):
    """d(TCP position)/dq for base, shoulder, elbow, wrist: (..., 3, 4). Roll does not move the TCP."""
    frames = link_frames(q)
    xp = _xp(frames)
    p = frames[..., -1, :3, 3]
    cols = []
    for i in range(4):
        axis = frames[..., i, :3, 2]
        r = p - frames[..., i, :3, 3]
        cols.append(xp.cross(axis, r, axis=-1) if xp is np else xp.linalg.cross(axis, r, dim=-1))
    return xp.stack(cols, -1)


def _planar_constants():
    """The arm is planar after the base rotation: shoulder, elbow and wrist axes are parallel (all +y at base 0)
    and every joint origin and the TCP lie in that plane (hardware §3.3 numbers, checked in the tests). Read the
    link vectors off the chain at q = 0, as (x, z) pairs in the base-0 plane."""
    frames = link_frames(np.zeros(N_ARM))
    shoulder, elbow, wrist, tcp = (frames[i, [0, 2], 3] for i in (1, 2, 3, 5))
    return shoulder, elbow - shoulder, wrist - elbow, tcp - wrist


_SHOULDER_XZ, _A0, _B0, _C0 = _planar_constants()


def _ang(x, z):
    """Angle of a plane vector, measured from +z towards +x: the sense in which +shoulder/elbow/wrist turn."""
    return np.arctan2(x, z)


_ANG_A0, _ANG_B0, _ANG_C0 = _ang(*_A0), _ang(*_B0), _ang(*_C0)
_LA, _LB, _LC = np.linalg.norm(_A0), np.linalg.norm(_B0), np.linalg.norm(_C0)


@dataclass
class IKResult:
    q: object  # (..., 5) joint angles (base..roll), same array type as the target
    position_error: object  # (...,) metres
    converged: object  # (...,) bool: within limits and within tolerance


def analytic_ik_candidates(target_pos, pitch) -> np.ndarray:
    """All closed-form solutions (..., 4, 5) for TCP position + tool pitch: 2 base branches (facing the target
    or reaching over the back) x 2 elbow branches. NaN where a branch cannot reach. Roll is set to 0."""
    p = np.asarray(target_pos, dtype=np.float64)
    pitch = np.asarray(pitch, dtype=np.float64)
    shape = np.broadcast_shapes(p.shape[:-1], pitch.shape)
    p, pitch = np.broadcast_to(p, shape + (3,)), np.broadcast_to(pitch, shape)
    r = np.hypot(p[..., 0], p[..., 1])
    base_front = np.arctan2(p[..., 1], p[..., 0])
    sols = []
    for base, x in ((base_front, r), (_wrap(base_front + np.pi), -r)):
        sigma = pitch + np.pi / 2  # q1 + q2 + q3
        # wrist-pitch axis position in the plane, relative to the shoulder axis
        wx = x - _LC * np.sin(sigma + _ANG_C0) - _SHOULDER_XZ[0]
        wz = p[..., 2] - _LC * np.cos(sigma + _ANG_C0) - _SHOULDER_XZ[1]
        cos_d = (wx**2 + wz**2 - _LA**2 - _LB**2) / (2 * _LA * _LB)
        with np.errstate(invalid="ignore"):
            for sign in (1.0, -1.0):
                delta = sign * np.arccos(np.where(np.abs(cos_d) <= 1.0, cos_d, np.nan))
                theta_a = _ang(wx, wz) - np.arctan2(_LB * np.sin(delta), _LA + _LB * np.cos(delta))
                q1 = theta_a - _ANG_A0
                q2 = delta + _ANG_A0 - _ANG_B0
                q3 = sigma - q1 - q2
                sols.append(np.stack([base, _wrap(q1), _wrap(q2), _wrap(q3), np.zeros_like(q1)], -1))
    return np.stack(sols, -2)


def _wrap(a):
    return (a + np.pi) % (2 * np.pi) - np.pi


def inverse_kinematics(
    target_pos,
    pitch=None,
    roll=None,
    q_ref=None,
    limits: JointLimits = HARDWARE_SAFE,
    tol: float = 1e-6,
    n_pitch: int = 361,
) -> IKResult:
    """Batched closed-form IK of the TCP position, with the tool pitch given or free.

    target_pos (..., 3) world frame; pitch (...,) in the firmware `tit` convention (0 horizontal, + down) or None
    to search ``n_pitch`` pitches over what the joint limits allow; roll (...,) is copied to joint 5 (it does not
    move the TCP). Among the in-limit solutions the one nearest ``q_ref`` (default: home) is returned. Works on
    numpy arrays; torch tensors are solved on the CPU and returned on their device and dtype.
    """
    torch = _torch()
    if torch is not None and isinstance(target_pos, torch.Tensor):
        res = inverse_kinematics(
            target_pos.detach().cpu().double().numpy(),
            None if pitch is None else torch.as_tensor(pitch).detach().cpu().double().numpy(),
            None if roll is None else torch.as_tensor(roll).detach().cpu().double().numpy(),
            None if q_ref is None else torch.as_tensor(q_ref).detach().cpu().double().numpy(),
            limits, tol, n_pitch,
        )
        like = dict(dtype=target_pos.dtype, device=target_pos.device)
        return IKResult(torch.as_tensor(res.q, **like), torch.as_tensor(res.position_error, **like),
                        torch.as_tensor(res.converged, device=target_pos.device))
    p = np.asarray(target_pos, dtype=np.float64)
    if p.shape[-1] != 3:
        raise ValueError(f"target_pos must end in 3 coordinates, got shape {p.shape}")
    batch = p.shape[:-1]
    if pitch is None:
        # every pitch the shoulder + elbow + wrist limits allow
        pitches = np.linspace(sum(limits.lower[1:4]), sum(limits.upper[1:4]), n_pitch) - np.pi / 2
        cands = analytic_ik_candidates(p[..., None, :], np.broadcast_to(pitches, batch + (n_pitch,)))
        cands = cands.reshape(batch + (n_pitch * 4, N_ARM))
    else:
        cands = analytic_ik_candidates(p, np.broadcast_to(np.asarray(pitch, dtype=np.float64), batch))
    lo, hi = np.array(limits.lower[:N_ARM]), np.array(limits.upper[:N_ARM])
    inside = np.all((cands >= lo) & (cands <= hi), axis=-1)  # NaN compares False
    ref = np.array(kc.HOME_POSE[:N_ARM]) if q_ref is None else np.asarray(q_ref, dtype=np.float64)[..., :N_ARM]
    dist = np.where(inside, np.linalg.norm((cands - np.expand_dims(ref, -2))[..., :4], axis=-1), np.inf)
    best = np.argmin(dist, axis=-1)
    q = np.take_along_axis(cands, best[..., None, None], axis=-2)[..., 0, :]
    found = np.isfinite(np.take_along_axis(dist, best[..., None], axis=-1)[..., 0])
    q = np.where(found[..., None], q, np.asarray(kc.HOME_POSE[:N_ARM]))
    if roll is not None:
        q[..., 4] = roll
    err = np.linalg.norm(tcp_position(q) - p, axis=-1)
    return IKResult(q=q, position_error=err, converged=found & (err <= tol))
