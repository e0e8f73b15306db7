#!/usr/bin/env python3
"""Single-observation inference latency of a policy package on one CPU thread, as the real-arm runner calls it
(``PolicyPackage.act`` on a (k,) observation: onnxruntime, 1 intra-op and 1 inter-op thread, sequential).

    python benchmarks/onnx_latency.py [--checkpoint RUN_DIR|model_*.pt] [--task T] [--iterations 10000]

Without --checkpoint the task's runner-config actor is randomly initialised (same network, same latency).
Last line: ``p99_us=<x>`` (goal <= 50).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from roarm_lab.deploy import PolicyPackage
from roarm_lab.deploy.checkpoint import resolve_checkpoint, task_of_run
from roarm_lab.deploy.export import export_policy_package
from roarm_lab.tasks.registry import TASKS
from roarm_lab.training.policy import load_actor

DEFAULT_TASK = "RoArm-Reach"


def random_actor(task: str):
    from rsl_rl.runners import OnPolicyRunner

    from roarm_lab.sim_mujoco.env import MujocoTaskEnv
    from roarm_lab.training.policy import runner_cfg

    torch.manual_seed(0)
    runner = OnPolicyRunner(MujocoTaskEnv(task, 1, nthread=1), runner_cfg(task).to_dict(), log_dir=None)
    return runner.get_inference_policy("cpu")


def latencies_us(package: PolicyPackage, iterations: int, warmup: int) -> np.ndarray:
    obs = np.random.default_rng(0).standard_normal(package.observation_size).astype(np.float32)
    for _ in range(warmup):
        package.act(obs)
    out = np.empty(iterations)
    for i in range(iterations):
        start = time.perf_counter_ns()
        package.act(obs)
        out[i] = time.perf_counter_ns() - start
    return out / 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=sorted(TASKS), help=f"default: the run's task, else {DEFAULT_TASK}")
    parser.add_argument("--checkpoint", default=None, help="a run directory or model_*.pt (default: random actor)")
    parser.add_argument("--iterations", type=int, default=10000)
    parser.add_argument("--warmup", type=int, default=1000)
    args = parser.parse_args()
    if args.iterations < 5000:
        parser.error("--iterations must be >= 5000 for a p99")

    if args.checkpoint:
        checkpoint = resolve_checkpoint(args.checkpoint)
        task = args.task or task_of_run(checkpoint) or DEFAULT_TASK
        actor = load_actor(task, str(checkpoint))
    else:
        task = args.task or DEFAULT_TASK
        actor = random_actor(task)
    with tempfile.TemporaryDirectory() as tmp:
        package = PolicyPackage.load(export_policy_package(actor, task, Path(tmp) / "policy.onnx"))
        us = latencies_us(package, args.iterations, args.warmup)
    p50, p99 = np.percentile(us, [50, 99])
    print(f"task={task} policy={'checkpoint' if args.checkpoint else 'random'} obs={package.observation_size} "
          f"iterations={args.iterations} threads=1")
    print(f"p50_us={p50:.1f} mean_us={us.mean():.1f} max_us={us.max():.1f}")
    print(f"p99_us={p99:.1f}")


if __name__ == "__main__":
    main()
