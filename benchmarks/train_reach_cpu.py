#!/usr/bin/env python3
"""Train RoArm-Reach from scratch on the CPU (MuJoCo backend, default configs: the DAgger warm start from the
analytic-IK expert, then PPO) until the median TCP error over 1000 held-out random reachable targets is <= 1 cm.

    python benchmarks/train_reach_cpu.py [--max_iterations 400] [--eval_every 25] [--num_envs 1024]
                                         [--warm_start none]

Evaluated after the warm start and every ``--eval_every`` PPO iterations; training wall time (warm start included)
excludes the evaluations. ``--warm_start none`` measures PPO alone. Last line: ``minutes_to_1cm=<x>`` (goal <= 5
on a 2-core machine; ``inf`` if the budget ran out first).
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from rsl_rl.runners import OnPolicyRunner

from roarm_lab.evaluation import evaluate
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.training.policy import obs_policy, runner_cfg
from roarm_lab.training.warm_start import has_warm_start, warm_start

TASK = "RoArm-Reach"
GOAL_M = 0.01


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max_iterations", type=int, default=400)
    parser.add_argument("--eval_every", type=int, default=25)
    parser.add_argument("--num_envs", type=int, default=1024)
    parser.add_argument("--eval_episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--warm_start", choices=("auto", "none"), default="auto")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    cfg = runner_cfg(TASK, "cpu")
    cfg.seed = args.seed
    env = MujocoTaskEnv(TASK, args.num_envs, seed=args.seed, nthread=args.threads)
    runner = OnPolicyRunner(env, cfg.to_dict(), log_dir=None, device="cpu")
    train_s, done = 0.0, 0

    def reached_goal(label: str) -> bool:
        result = evaluate(TASK, obs_policy(runner.get_inference_policy("cpu")), episodes=args.eval_episodes,
                          nthread=args.threads)
        median = result.metrics["final_tcp_error_m"]["median"]
        print(f"{label} train_minutes={train_s / 60:.2f} median_tcp_error_cm={median * 100:.2f} "
              f"reached_1cm={result.success_rate:.3f}", flush=True)
        return median <= GOAL_M

    reached = False
    if args.warm_start == "auto" and has_warm_start(TASK):
        train_s += warm_start(TASK, runner, env, seed=args.seed, log=lambda line: None)
        reached = reached_goal("warm_start")
    while not reached and done < args.max_iterations:
        chunk = min(args.eval_every, args.max_iterations - done)
        start = time.perf_counter()
        runner.learn(num_learning_iterations=chunk, init_at_random_ep_len=done == 0)
        train_s += time.perf_counter() - start
        done += chunk
        reached = reached_goal(f"iterations={done}")
    print(f"minutes_to_1cm={train_s / 60:.2f}" if reached else "minutes_to_1cm=inf")


if __name__ == "__main__":
    main()
