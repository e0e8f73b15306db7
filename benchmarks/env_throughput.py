#!/usr/bin/env python3
"""Env-steps/s of the MuJoCo backend (random actions, MDP included) next to bare ``mujoco.rollout`` on the same
scene model, same thread count and substeps.

    python benchmarks/env_throughput.py [--task RoArm-Reach] [--threads 2] [--seconds 5]

Last line: ``ratio_vs_rollout=<x>`` at N = 1024 (goal >= 0.7).
"""

from __future__ import annotations

import argparse
import os
import time

import mujoco
import numpy as np
import torch
from mujoco import rollout

from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks.timing import DECIMATION

SIZES = (64, 256, 1024)


def env_rate(task: str, n: int, threads: int, seconds: float) -> float:
    env = MujocoTaskEnv(task, n, seed=0, nthread=threads)
    g = torch.Generator().manual_seed(0)
    env.step(torch.randn(n, 6, generator=g))  # warm up
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step(torch.randn(n, 6, generator=g))
        steps += 1
    return steps * n / (time.perf_counter() - start)


def rollout_rate(model: mujoco.MjModel, n: int, threads: int, seconds: float) -> float:
    """Policy steps/s of rollout alone: DECIMATION physics steps per call, random controls, state fed back."""
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0) if model.nkey else mujoco.mj_resetData(model, data)
    state0 = np.zeros(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, data, state0, spec)
    state = np.tile(state0, (n, 1))
    traj = np.zeros((n, DECIMATION, len(state0)))
    datas = [mujoco.MjData(model) for _ in range(threads)]
    models = [model] * n
    rng = np.random.default_rng(0)
    lo, hi = model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1]
    with rollout.Rollout(nthread=threads) as r:
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            ctrl = np.repeat(rng.uniform(lo, hi, (n, 1, model.nu)), DECIMATION, axis=1)
            r.rollout(models, datas, state, ctrl, nstep=DECIMATION, state=traj, skip_checks=True)
            state[:] = traj[:, -1]
            steps += 1
        return steps * n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="RoArm-Reach")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the MDP math is small; keep the cores for MuJoCo's threads
    model = MujocoTaskEnv(args.task, 1, nthread=1).model
    print(f"task={args.task} threads={args.threads} substeps={DECIMATION} (env-steps/s = policy steps/s)")
    print(f"{'N':>6} {'env':>10} {'rollout':>10} {'ratio':>6}")
    ratio = float("nan")
    for n in SIZES:
        e = env_rate(args.task, n, args.threads, args.seconds)
        r = rollout_rate(model, n, args.threads, args.seconds)
        ratio = e / r
        print(f"{n:>6} {e:>10.0f} {r:>10.0f} {ratio:>6.2f}")
    print(f"ratio_vs_rollout={ratio:.3f}")


if __name__ == "__main__":
    main()
