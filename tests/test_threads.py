"""The thread plan (roarm_lab.threads): one thread per free core, an explicit --threads honoured up to the usable
CPUs, OpenMP threads told to sleep before torch starts them, and a busy core seen as busy."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from roarm_lab.threads import busy_cpus, plan_threads, usable_cpus


@pytest.mark.parametrize("cores, busy, expected", [
    (2, 0.1, 2),   # idle
    (2, 1.0, 1),   # one core taken by another program
    (2, 1.9, 1),   # both taken: still one thread
    (8, 2.2, 6),   # background chatter on top of two busy cores
    (1, 0.0, 1),
])
def test_one_thread_per_free_core(cores, busy, expected):
    plan = plan_threads(busy=busy, cores=cores)
    assert plan.mujoco == plan.torch == expected
    assert f"{cores} usable CPUs" in plan.line()


def test_requested_threads_are_capped_by_the_usable_cpus():
    assert plan_threads(4, cores=2).mujoco == 2 and plan_threads(1, cores=2).torch == 1
    with pytest.raises(ValueError, match=">= 1"):
        plan_threads(0, cores=2)
    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)


def test_a_busy_process_is_seen_as_a_busy_cpu():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.monotonic() + 30
        seen = 0.0
        while seen < 0.7 and time.monotonic() < deadline:  # the spinner runs a whole core once it is scheduled
            seen = busy_cpus(0.3)
        assert seen >= 0.7
    finally:
        spinner.kill()
        spinner.wait()


def test_openmp_threads_sleep_unless_the_user_said_otherwise():
    code = "import os, roarm_lab; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.strip() == "PASSIVE"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "OMP_WAIT_POLICY": "ACTIVE"}, timeout=60)
    assert out.stdout.strip() == "ACTIVE"


def test_plan_and_apply_sizes_torchs_pool_and_refuses_a_bad_request():
    import torch

    from roarm_lab.threads import plan_and_apply

    before = torch.get_num_threads()
    try:
        plan = plan_and_apply(1)
        assert plan.torch == plan.mujoco == 1 and torch.get_num_threads() == 1
        with pytest.raises(ValueError, match=">= 1"):
            plan_and_apply(0)
    finally:
        torch.set_num_threads(before)
