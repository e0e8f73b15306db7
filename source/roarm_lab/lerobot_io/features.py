"""The arm's joints as LeRobot features: one ``{joint}.pos`` float per joint, ``base.pos`` ... ``gripper.pos``.

Units: radians in the model (URDF) convention, the one the simulation, the policy packages and
:attr:`roarm_lab.driver.protocol.feedback.Feedback.q_model` use: joints 1-5 equal the firmware's angles, the gripper is
``pi - firmware`` (0 = closed, + = open; hardware §3.2, §7 item 5). So a dataset recorded in simulation, on the
real arm with `lerobot-record`, or by `play_real.py --record` has the same numbers for the same pose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from roarm_lab.description import JOINT_NAMES

POS_SUFFIX = ".pos"
#: The feature names, JOINT_NAMES order.
JOINT_POS_KEYS: tuple[str, ...] = tuple(f"{name}{POS_SUFFIX}" for name in JOINT_NAMES)
UNITS = "rad, model convention (gripper: 0 closed, + open)"


def joint_features() -> dict[str, type]:
    """``{"base.pos": float, ...}``: a robot's ``observation_features`` / ``action_features`` for the joints."""
    return dict.fromkeys(JOINT_POS_KEYS, float)


def joints_to_features(q: Sequence[float]) -> dict[str, float]:
    """Joint angles (6, JOINT_NAMES order, model rad) -> ``{"base.pos": ..., ...}``."""
    values = np.asarray(q, dtype=np.float64)
    if values.shape != (len(JOINT_POS_KEYS),):
        raise ValueError(f"expected {len(JOINT_POS_KEYS)} joint angles ({', '.join(JOINT_NAMES)}), got shape "
                         f"{values.shape}")
    return {key: float(v) for key, v in zip(JOINT_POS_KEYS, values, strict=True)}


def features_to_joints(values: Mapping[str, object], what: str = "action") -> np.ndarray:
    """``{"base.pos": ..., ...}`` -> joint angles (6,), model rad. Every joint must be there (KeyError); other keys
    are ignored. Non-finite values pass through: the follower's safety layer holds on a NaN target."""
    missing = [key for key in JOINT_POS_KEYS if key not in values]
    if missing:
        raise KeyError(f"the {what} lacks {', '.join(missing)} (expects {', '.join(JOINT_POS_KEYS)}, {UNITS})")
    return np.array([float(values[key]) for key in JOINT_POS_KEYS], dtype=np.float64)
