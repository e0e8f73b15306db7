"""What the loop needs of a task (:class:`LoopTask`): the episodes a round deploys, and the real metric and success
of one deployed episode, computed from what the host measures: the arm's feedback (Reach) or the camera (PickPlace).
Lift is not a loop task: its episodes end with the cube held up, and nothing puts it down for the next one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from roarm_lab import kinematics
from roarm_lab.driver.safety import WorkspaceBox


class LoopTask(Protocol):
    task_id: str
    metric_name: str  # the real metric of a round, e.g. "median_final_tcp_error_m"
    lower_is_better: bool

    def draw_episodes(self, n: int, seed: int, workspace: WorkspaceBox) -> list[dict[str, Any]]:
        """``n`` episodes' inputs (JSON-able: ``target``, ``object_pos``), fixed by ``seed``: every round measures
        the same ones."""

    def episode_metric(self, episode: Mapping[str, Any], summary: Mapping[str, Any],
                       encoder_offsets: Sequence[float]) -> float | None:
        """One episode's real metric from the runner's summary (the arm's measured joints); None if unmeasured."""

    def episode_success(self, metric: float | None) -> bool:
        ...

    def round_metric(self, metrics: Sequence[float | None]) -> float | None:
        """The round's metric over its episodes' metrics."""


@dataclass(frozen=True)
class ReachLoopTask:
    """RoArm-Reach: targets from the task's own sampler; the metric is the median final TCP error, the forward
    kinematics of the last measured joints less the encoder offsets of the deployed policy's profile (the true joint
    angles as far as the loop knows them), to the target."""

    task_id: str = "RoArm-Reach"
    metric_name: str = "median_final_tcp_error_m"
    lower_is_better: bool = True

    def draw_episodes(self, n: int, seed: int, workspace: WorkspaceBox) -> list[dict[str, Any]]:
        from roarm_lab.tasks.reach import ReachCfg, sample_targets

        generator = torch.Generator().manual_seed(seed)
        cfg, out = ReachCfg(), []
        while len(out) < n:  # targets outside the runner's workspace box would be refused: draw again
            for t in sample_targets(cfg, n, generator).double().numpy():
                if workspace.contains(t) and len(out) < n:
                    out.append({"target": [round(float(x), 5) for x in t], "object_pos": None})
        return out

    def episode_metric(self, episode: Mapping[str, Any], summary: Mapping[str, Any],
                       encoder_offsets: Sequence[float]) -> float | None:
        q = summary.get("final_measured_q")
        if q is None:
            return None
        q_true = np.asarray(q, dtype=np.float64) - np.asarray(encoder_offsets, dtype=np.float64)
        tcp = kinematics.tcp_position(q_true)
        return float(np.linalg.norm(tcp - np.asarray(episode["target"], dtype=np.float64)))

    def episode_success(self, metric: float | None) -> bool:
        from roarm_lab.tasks.reach import SUCCESS_RADIUS_M

        return metric is not None and metric <= SUCCESS_RADIUS_M

    def round_metric(self, metrics: Sequence[float | None]) -> float | None:
        values = [m for m in metrics if m is not None]
        return float(np.median(values)) if values else None


@dataclass(frozen=True)
class PickPlaceLoopTask:
    """RoArm-PickPlace with the cube camera: each episode puts the cube down at a new target, where the next one
    picks it up (episodes chain: the loop never needs a hand to reset the cube). Targets from the task's placement
    area, each >= the task's minimum distance from the one before. The metric is the median distance (table plane)
    from the target to the cube where the camera last saw it when the run ended."""

    task_id: str = "RoArm-PickPlace"
    metric_name: str = "median_final_cube_to_target_m"
    lower_is_better: bool = True
    needs_camera: bool = True

    def draw_episodes(self, n: int, seed: int, workspace: WorkspaceBox) -> list[dict[str, Any]]:
        from roarm_lab.tasks import resets
        from roarm_lab.tasks.pick_place import PickPlaceCfg

        generator = torch.Generator().manual_seed(seed)
        gap, out = PickPlaceCfg().min_target_distance, []
        while len(out) < n:
            t = resets.table_positions(1, generator).double().numpy()[0]
            if out and np.linalg.norm(t[:2] - np.asarray(out[-1]["target"][:2])) < gap:
                continue
            out.append({"target": [round(float(x), 5) for x in t], "object_pos": None})
        return out

    def episode_metric(self, episode: Mapping[str, Any], summary: Mapping[str, Any],
                       encoder_offsets: Sequence[float]) -> float | None:
        cube = ((summary.get("cube") or {}).get("last_cube") or {}).get("position")
        if cube is None:
            return None
        return float(np.linalg.norm(np.asarray(cube[:2]) - np.asarray(episode["target"][:2], dtype=np.float64)))

    def episode_success(self, metric: float | None) -> bool:
        from roarm_lab.tasks.pick_place import PLACE_RADIUS_M

        return metric is not None and metric <= PLACE_RADIUS_M

    def round_metric(self, metrics: Sequence[float | None]) -> float | None:
        values = [m for m in metrics if m is not None]
        return float(np.median(values)) if values else None


LOOP_TASKS: dict[str, LoopTask] = {"RoArm-Reach": ReachLoopTask(), "RoArm-PickPlace": PickPlaceLoopTask()}


def loop_task(task_id: str) -> LoopTask:
    if task_id not in LOOP_TASKS:
        raise ValueError(f"the improvement loop runs {', '.join(LOOP_TASKS)}; {task_id}'s episodes end with the cube "
                         "held up, and nothing puts it down for the next one")
    return LOOP_TASKS[task_id]
