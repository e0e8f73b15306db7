"""Sim-to-sim check: the MuJoCo backend against Isaac Lab kit-less on Newton and on PhysX (OvPhysX), CPU or GPU.

    python scripts/sim_to_sim.py [--engines newton physx] [--duration_s 4] [--randomized --num_envs 4]
                                 [--checkpoint logs/rsl_rl/RoArm-Reach/<run>/model_299.pt --episodes 128]

Open loop: one raw-action sequence (sinusoids, then steps, on all joints) from home through every backend;
prints each engine's RMS joint deviation from MuJoCo per joint and its largest TCP deviation (limits: 0.02 rad;
5 mm for Newton, 15 mm for PhysX, whose solver differs: roarm_lab.sim_to_sim). Nominal physics unless
``--randomized`` (then each environment draws the same physics values and latency in every backend).
Closed loop (``--checkpoint`` of a policy trained on MuJoCo): success and error stats on the same held-out
episodes in every backend and each engine's share of MuJoCo's success (at least 0.8).

Exit status 0 when every check run passes, 1 when one fails, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from roarm_lab.tasks.registry import TASK_IDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", choices=("newton", "physx"), default=["newton", "physx"],
                        help="Isaac Lab physics engines compared with MuJoCo")
    parser.add_argument("--duration_s", type=float, default=4.0, help="open-loop sequence length")
    parser.add_argument("--randomized", action="store_true", help="open loop with domain randomization on")
    parser.add_argument("--num_envs", type=int, default=1, help="open-loop environments")
    parser.add_argument("--checkpoint", help="rsl-rl checkpoint of a policy trained on MuJoCo")
    parser.add_argument("--task", default="RoArm-Reach", choices=sorted(TASK_IDS), help="the checkpoint's task")
    parser.add_argument("--episodes", type=int, default=128, help="held-out episodes per backend")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="Isaac Lab's simulation device")
    parser.add_argument("--threads", type=int, default=None,
                        help="MuJoCo rollout and torch threads (default: the free cores, roarm_lab.threads)")
    args = parser.parse_args(argv)
    if args.checkpoint and not Path(args.checkpoint).is_file():
        print(f"error: checkpoint {args.checkpoint} does not exist", file=sys.stderr)
        return 2
    if args.num_envs < 1 or args.episodes < 1 or args.duration_s <= 0:
        print("error: --num_envs, --episodes and --duration_s must be positive", file=sys.stderr)
        return 2
    from roarm_lab import threads

    try:
        plan = threads.plan_and_apply(args.threads)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(plan.line())
    from roarm_lab.isaaclab.physics import check_physics
    from roarm_lab.sim_to_sim import ISAACLAB_PHYSICS

    try:
        for engine in args.engines:
            check_physics(ISAACLAB_PHYSICS[engine])
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    from roarm_lab.sim_to_sim import compare_open_loop, compare_policy

    start = time.perf_counter()
    open_loop = compare_open_loop(args.duration_s, args.randomized, args.num_envs, args.seed, args.device,
                                  engines=args.engines)
    for line in open_loop.lines():
        print(line)
    print(f"open_loop_seconds={time.perf_counter() - start:.1f}")
    passed = open_loop.passed
    if args.checkpoint:
        from roarm_lab.training.policy import load_policy

        cpu_policy = load_policy(args.task, args.checkpoint)
        start = time.perf_counter()
        policy = compare_policy(args.task, lambda obs: cpu_policy(obs.cpu()), args.episodes, args.seed,
                                nthread=plan.mujoco, device=args.device, engines=args.engines)
        for line in policy.lines():
            print(line)
        print(f"policy_seconds={time.perf_counter() - start:.1f}")
        passed = passed and policy.passed
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
