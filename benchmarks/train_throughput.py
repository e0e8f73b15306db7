#!/usr/bin/env python3
"""PPO training throughput with the machine idle and with one core busy (``stress-ng --cpu 1``), under the project's
thread plan (roarm_lab.threads) and under the defaults it replaced.

    python benchmarks/train_throughput.py [--task RoArm-Reach] [--num_envs 1024] [--iterations 8]

Each run is a fresh process (OpenMP's wait policy is fixed when torch starts): ``train.py``'s own setup (the env,
rsl-rl's runner, the plan), PPO alone for ``--iterations`` iterations after one warm-up iteration; s/iteration is
the median. ``planned``: the defaults of train.py now (threads from the free cores, OpenMP threads sleep);
``old``: MuJoCo and torch on every core, OpenMP spinning (what train.py did before). Last lines: each policy's
``busy_over_idle`` throughput ratio (goal >= 0.4).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ONE_RUN = """
import json, sys, time
task, num_envs, iterations, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
import torch
from rsl_rl.runners import OnPolicyRunner
from roarm_lab import threads as thread_plan
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.training.policy import runner_cfg
if threads == "plan":
    plan = thread_plan.plan_threads()
    thread_plan.apply(plan)
    mujoco_threads, line = plan.mujoco, plan.line()
else:
    mujoco_threads, line = int(threads), f"MuJoCo {threads}, torch {torch.get_num_threads()} (defaults)"
torch.manual_seed(0)
cfg = runner_cfg(task)
env = MujocoTaskEnv(task, num_envs, seed=0, nthread=mujoco_threads)
runner = OnPolicyRunner(env, cfg.to_dict(), log_dir=None, device="cpu")
import contextlib, io
times = []
for i in range(iterations + 1):
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        runner.learn(num_learning_iterations=1, init_at_random_ep_len=i == 0)
    times.append(time.perf_counter() - start)
print("RESULT " + json.dumps({"s_per_it": times[1:], "plan": line}))
"""


def run(task: str, num_envs: int, iterations: int, policy: str) -> dict:
    env = dict(os.environ)
    if policy == "old":
        env["OMP_WAIT_POLICY"] = "ACTIVE"
        threads = str(os.cpu_count() or 2)
    else:
        env.pop("OMP_WAIT_POLICY", None)  # roarm_lab sets PASSIVE
        threads = "plan"
    out = subprocess.run([sys.executable, "-c", ONE_RUN, task, str(num_envs), str(iterations), threads],
                         capture_output=True, text=True, env=env)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise SystemExit(f"run failed: {out.stderr[-2000:]}")
    return json.loads(line[len("RESULT "):])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="RoArm-Reach")
    parser.add_argument("--num_envs", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--policies", nargs="+", default=["planned", "old"], choices=("planned", "old"))
    args = parser.parse_args()
    if shutil.which("stress-ng") is None:
        print("error: needs stress-ng (apt-get install stress-ng)", file=sys.stderr)
        return 2
    medians: dict[tuple[str, str], float] = {}
    for policy in args.policies:
        for load in ("idle", "one core busy"):
            stress = None
            if load != "idle":
                stress = subprocess.Popen(["stress-ng", "--cpu", "1", "--quiet"], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
                time.sleep(1.0)
            try:
                result = run(args.task, args.num_envs, args.iterations, policy)
            finally:
                if stress is not None:
                    stress.terminate()
                    stress.wait(timeout=10)
            m = statistics.median(result["s_per_it"])
            medians[(policy, load)] = m
            print(f"policy={policy} load='{load}' s_per_iteration_median={m:.2f} "
                  f"all={[round(t, 2) for t in result['s_per_it']]} [{result['plan']}]", flush=True)
    for policy in args.policies:
        ratio = medians[(policy, "idle")] / medians[(policy, "one core busy")]
        print(f"policy={policy} busy_over_idle={ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
