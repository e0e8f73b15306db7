"""The simulator-neutral task layer: ``roarm_lab.tasks`` (every task, the registry, every expert) imports and runs
with Isaac Lab and ``roarm_lab.training`` unimportable, and loads nothing from the layers above it; the registry
holds one complete entry per task; the episode bookkeeping both backends share."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch

from roarm_lab.tasks.episode import MAX_LATENCY, ActionLatencyBuffer, SuccessHold, check_latency
from roarm_lab.tasks.registry import ENTRIES, TASK_IDS, TASKS, get_entry, get_task

#: what the task layer must not import (Isaac Lab, rsl-rl, and every roarm_lab layer above or beside it)
FORBIDDEN = ("isaaclab", "isaaclab_rl", "isaaclab_tasks", "isaaclab_newton", "isaaclab_physx", "rsl_rl",
             "roarm_lab.training", "roarm_lab.sim_mujoco", "roarm_lab.isaaclab", "roarm_lab.real", "roarm_lab.deploy",
             "roarm_lab.lerobot_io", "roarm_lab.cli")

CHILD = textwrap.dedent("""
    import importlib, json, pkgutil, sys

    FORBIDDEN = {forbidden!r}

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                raise ImportError(f"{{name}} is not importable in this test")
            return None

    sys.meta_path.insert(0, Refuse())
    import roarm_lab.tasks
    for module in pkgutil.walk_packages(roarm_lab.tasks.__path__, "roarm_lab.tasks."):
        importlib.import_module(module.name)
    from roarm_lab.tasks.registry import ENTRIES

    import torch
    report = {{}}
    for task_id, entry in ENTRIES.items():
        cfg = entry.spec.make_cfg()
        sample = entry.spec.reset(cfg, 4, torch.Generator().manual_seed(0))
        expert = entry.make_expert()
        expert.reset(torch.arange(4))
        report[task_id] = type(expert).__name__
    loaded = sorted(m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    print(json.dumps({{"experts": report, "loaded": loaded}}))
""")


def test_the_task_layer_imports_without_isaac_lab_or_training():
    result = subprocess.run([sys.executable, "-c", CHILD.format(forbidden=FORBIDDEN)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["loaded"] == []
    assert out["experts"] == {"RoArm-Reach": "ReachIKExpert", "RoArm-Lift": "ReactivePicker",
                              "RoArm-PickPlace": "ReactivePicker"}


def test_the_blocker_does_refuse_isaac_lab():
    """(The test above would pass vacuously if the child's finder did not refuse anything.)"""
    probe = CHILD.split("sys.meta_path.insert(0, Refuse())")[0] + "sys.meta_path.insert(0, Refuse())\nimport isaaclab\n"
    result = subprocess.run([sys.executable, "-c", probe.format(forbidden=FORBIDDEN)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0 and "isaaclab is not importable" in result.stderr


def test_one_complete_registry_entry_per_task():
    assert TASK_IDS == ("RoArm-Reach", "RoArm-Lift", "RoArm-PickPlace") == tuple(ENTRIES) == tuple(TASKS)
    for task_id in TASK_IDS:
        entry = get_entry(task_id)
        assert entry.task_id == task_id and get_task(task_id) is entry.spec
        assert entry.agent.max_iterations > 0 and entry.agent.hidden_dims and entry.agent.init_std > 0
        assert entry.warm_start is not None and entry.warm_start.dagger.rounds > 0
        assert callable(entry.make_expert)
    with pytest.raises(KeyError, match="unknown task 'RoArm-Nope'; known: RoArm-Reach"):
        get_task("RoArm-Nope")


def test_latency_buffer_delays_targets_and_holds_the_reset_pose():
    buffer = ActionLatencyBuffer(3, 2)
    home = torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    buffer.hold(torch.arange(3), home, torch.tensor([0, 1, 2]))
    first = buffer.push(torch.full((3, 2), 10.0))
    torch.testing.assert_close(first, torch.tensor([[10.0, 10.0], [2.0, 2.0], [3.0, 3.0]]))
    second = buffer.push(torch.full((3, 2), 20.0))
    torch.testing.assert_close(second, torch.tensor([[20.0, 20.0], [10.0, 10.0], [3.0, 3.0]]))
    third = buffer.push(torch.full((3, 2), 30.0))
    torch.testing.assert_close(third[:, 0], torch.tensor([30.0, 20.0, 10.0]))
    buffer.hold(torch.tensor([1]), torch.tensor([[5.0, 5.0]]), torch.tensor([2]))  # a new episode in env 1
    torch.testing.assert_close(buffer.push(torch.full((3, 2), 40.0))[:, 0], torch.tensor([40.0, 5.0, 20.0]))
    with pytest.raises(ValueError, match=f"action latency above {MAX_LATENCY} control steps"):
        buffer.hold(torch.tensor([0]), home[:1], torch.tensor([MAX_LATENCY + 1]))
    with pytest.raises(ValueError, match="not supported"):
        check_latency(MAX_LATENCY + 1)


def test_success_needs_the_condition_held_for_consecutive_steps():
    hold = SuccessHold(2, hold_steps=2)
    for ok in ([True, True], [False, True], [True, False], [True, False]):
        hold.update(torch.tensor(ok))
    assert hold.succeeded.tolist() == [True, True]  # env 0 at the last two steps, env 1 at the first two
    hold.restart(torch.tensor([0]))
    assert hold.steps.tolist() == [0, 0] and hold.succeeded.tolist() == [True, True]
    hold.clear(torch.tensor([1]))
    assert hold.succeeded.tolist() == [True, False]
    hold.reset(torch.tensor([0]))
    hold.update(torch.tensor([True, True]))
    assert hold.succeeded.tolist() == [False, False] and hold.steps.tolist() == [1, 1]
