"""Task id -> TaskSpec."""

from __future__ import annotations

from roarm_lab.tasks import lift, pick_place, reach
from roarm_lab.tasks.spec import TaskSpec

TASKS: dict[str, TaskSpec] = {spec.task_id: spec for spec in (reach.SPEC, lift.SPEC, pick_place.SPEC)}


def get_task(task_id: str) -> TaskSpec:
    try:
        return TASKS[task_id]
    except KeyError:
        raise KeyError(f"unknown task {task_id!r}; known: {', '.join(TASKS)}") from None
