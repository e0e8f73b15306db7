"""``joints.png``: commanded vs measured joint angles over the run (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.runner.control_loop import LoopStats


def _as_array(rows: list[tuple[float, ...] | None]) -> np.ndarray:
    return np.array([row if row is not None else (np.nan,) * len(JOINT_NAMES) for row in rows], dtype=np.float64)


def plot_joints(stats: LoopStats, path: str | Path, title: str) -> Path:
    from matplotlib.figure import Figure  # the Agg canvas, without pyplot's global state

    t = np.asarray(stats.t)
    measured, commanded = _as_array(stats.measured), _as_array(stats.commanded)
    fig = Figure(figsize=(11, 8), layout="constrained")
    axes = fig.subplots(3, 2, sharex=True).flat
    for i, (ax, name) in enumerate(zip(axes, JOINT_NAMES, strict=True)):
        ax.step(t, commanded[:, i], where="post", label="commanded (after safety)", color="tab:orange")
        ax.plot(t, measured[:, i], label="measured", color="tab:blue", linewidth=1)
        ax.set_title(name)
        ax.set_ylabel("rad")
        ax.grid(alpha=0.3)
    for ax in list(fig.axes)[-2:]:
        ax.set_xlabel("time since the loop started (s)")
    fig.axes[0].legend(loc="best", fontsize="small")
    fig.suptitle(title)
    fig.savefig(path, dpi=90)
    return Path(path)
