#!/usr/bin/env python3
"""Env-steps/s of the Isaac Lab backend kit-less on this machine's CPU, per physics preset and env count (random
actions, the full MDP), each run in its own process (Isaac Lab runs one simulation per process).

    python benchmarks/kitless_steps.py [--task RoArm-Reach] [--physics newton_mjwarp physx] [--num_envs 4 64]
                                       [--seconds 10]

One line per run: ``task=... physics=... num_envs=N env_steps_per_s=X build_s=Y``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

ONE_RUN = """
import json, sys, time, torch
from roarm_lab.isaaclab.vec_env import make_vec_env
task, physics, n, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
start = time.perf_counter()
env, _ = make_vec_env(task, n, 0, physics=physics)
build = time.perf_counter() - start
g = torch.Generator().manual_seed(0)
env.step(torch.randn(n, 6, generator=g) * 0.3)  # warm up
steps, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    env.step(torch.randn(n, 6, generator=g) * 0.3)
    steps += 1
rate = steps * n / (time.perf_counter() - start)
env.close()
print("RESULT " + json.dumps({"env_steps_per_s": rate, "build_s": build}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="RoArm-Reach")
    parser.add_argument("--physics", nargs="+", default=["newton_mjwarp", "physx"])
    parser.add_argument("--num_envs", nargs="+", type=int, default=[4, 64])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    for physics in args.physics:
        for n in args.num_envs:
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", ONE_RUN, args.task, physics, str(n), str(args.seconds)],
                                 capture_output=True, text=True)
            line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
            if out.returncode != 0 or line is None:
                print(f"task={args.task} physics={physics} num_envs={n} FAILED: {out.stderr[-500:]}")
                continue
            r = json.loads(line[len("RESULT "):])
            print(f"task={args.task} physics={physics} num_envs={n} env_steps_per_s={r['env_steps_per_s']:.0f} "
                  f"build_s={r['build_s']:.1f} wall_s={time.perf_counter() - start:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
