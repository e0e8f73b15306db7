"""One place decides how the CPU work is threaded: MuJoCo's rollout pool, torch's intra-op threads and OpenMP's wait
policy, from the cores actually free when a job starts.

Left to their defaults on a 2-core machine that does something else too, three things pile up: MuJoCo's rollout
splits the environments over every core, so a core shared with another program makes its half the straggler every
step; torch's intra-op pool takes every core as well; and GNU OpenMP's threads spin-wait after each parallel region
(``OMP_WAIT_POLICY`` active), taking the cores MuJoCo is waiting for. Measured: one busy core slowed Reach PPO from
~1.5 s to 17-29 s an iteration.

The plan: OpenMP threads sleep when idle (``OMP_WAIT_POLICY=PASSIVE``, set by ``roarm_lab/__init__.py`` before
torch starts its pool, unless the user set it); MuJoCo and torch each get as many threads as there are free cores
(the CPUs this process may run on, less what other processes used over a short sample of ``/proc/stat``), at
least one; torch's inter-op pool one thread. Jobs call :func:`plan_threads` once at start and :func:`apply`.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

#: A core counts as free when at most this share of it is busy (a desktop's background chatter is not a job).
BUSY_SLACK = 0.3


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask; containers and taskset narrow it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_times() -> tuple[float, float] | None:
    try:
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return idle, sum(fields[:8])


def busy_cpus(sample_s: float = 0.25) -> float:
    """How many CPUs' worth of work the machine did over ``sample_s`` (all processes; this one is idle meanwhile).
    Falls back to the 1-minute load average where ``/proc/stat`` is missing."""
    first = _cpu_times()
    if first is None:
        return min(os.getloadavg()[0], float(os.cpu_count() or 1))
    time.sleep(sample_s)
    second = _cpu_times()
    total = second[1] - first[1]
    if total <= 0:
        return 0.0
    return (1.0 - (second[0] - first[0]) / total) * (os.cpu_count() or 1)


@dataclass(frozen=True)
class ThreadPlan:
    mujoco: int  # MuJoCo rollout threads
    torch: int  # torch intra-op threads
    cores: int  # CPUs this process may use
    busy: float  # CPUs' worth of other work when planned
    reason: str

    def line(self) -> str:
        return (f"threads: MuJoCo {self.mujoco}, torch {self.torch} ({self.reason}; OpenMP wait policy "
                f"{os.environ.get('OMP_WAIT_POLICY', 'default')})")


def plan_threads(requested: int | None = None, *, busy: float | None = None, cores: int | None = None) -> ThreadPlan:
    """``requested`` threads (an explicit ``--threads``) are honoured up to the usable CPUs; otherwise one thread per
    free core, at least one. ``busy`` and ``cores`` default to this machine's, measured now."""
    cores = usable_cpus() if cores is None else cores
    if requested is not None:
        if requested < 1:
            raise ValueError(f"threads must be >= 1, got {requested}")
        n = min(requested, cores)
        return ThreadPlan(n, n, cores, math.nan, f"--threads {requested} of {cores} usable CPUs")
    busy = busy_cpus() if busy is None else busy
    free = max(1, min(cores, math.floor(cores - busy + BUSY_SLACK)))
    return ThreadPlan(free, free, cores, busy, f"{cores} usable CPUs, {busy:.1f} busy with other work")


def apply(plan: ThreadPlan) -> None:
    """torch's pools to the plan (MuJoCo's pool is sized where the env is made, from ``plan.mujoco``)."""
    import torch

    torch.set_num_threads(plan.torch)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before the first inter-op work; then it stays what it was
        pass


def plan_and_apply(requested: int | None = None) -> ThreadPlan:
    """:func:`plan_threads` then :func:`apply`: what a command does with its ``--threads`` (None: the free cores)
    before it builds envs; raises ValueError for a bad ``requested``."""
    plan = plan_threads(requested)
    apply(plan)
    return plan
