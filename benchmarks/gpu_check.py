#!/usr/bin/env python3
"""The stages of ``benchmarks/gpu_check.sh``, one Isaac Lab simulation per process (Isaac Lab runs one per process).

    python benchmarks/gpu_check.py reach --physics newton_mjwarp|physx --num_envs 4096 --iterations 150
                                         --device cuda:0 --out reach_newton.json
    python benchmarks/gpu_check.py object --task RoArm-Lift --num_envs 4096 --iterations 300 --device cuda:0
                                          --eval_episodes 1000 --out lift.json
    python benchmarks/gpu_check.py merge --out gpu_check.json part1.json part2.json ...

reach: PPO alone (no warm start) on Reach for a fixed number of iterations; per iteration the wall time and the
median final TCP error of the episodes that ended in it. Prints and writes env-steps/s, iterations/s and the time
(and iteration) at which that median first reaches 1 cm.
object: ``train.py`` as a user runs it (the clone of the scripted expert, then ``--iterations`` PPO iterations from
it), then the trained policy on ``--eval_episodes`` held-out episodes (success rate, median errors).
merge: the parts into one JSON with the machine (GPU name, torch/CUDA versions).
wheels: the pinned list of what the check needs beyond torch (``benchmarks/gpu_wheels.txt`` is its output; a test
keeps it current): the installed closure of Isaac Lab with rsl-rl, Newton, MuJoCo-Warp, OvPhysX and what roarm-lab
imports on this path, less torch and what torch itself brings (a GPU machine with torch has those).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch

TCP_GOAL_M = 0.01


def _device_facts(device: str) -> dict:
    facts = {"device": device, "torch": torch.__version__, "cuda": torch.version.cuda}
    if device.startswith("cuda") and torch.cuda.is_available():
        facts["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return facts


def reach(args) -> dict:
    from rsl_rl.runners import OnPolicyRunner

    from roarm_lab.isaaclab.vec_env import make_vec_env
    from roarm_lab.training.policy import runner_cfg

    torch.manual_seed(args.seed)
    env, _ = make_vec_env("RoArm-Reach", args.num_envs, args.seed, device=args.device, physics=args.physics)
    cfg = runner_cfg("RoArm-Reach", args.device)
    cfg.seed = args.seed
    runner = OnPolicyRunner(env, cfg.to_dict(), log_dir=None, device=args.device)

    ended: list[torch.Tensor] = []  # final TCP errors of the episodes that ended in the current iteration
    step = env.step

    def recording_step(actions):
        out = step(actions)
        episode = env.last_episode
        if out[2].any() and episode is not None:
            ended.append(episode["final_tcp_error_m"].detach().float().cpu())
        return out

    env.step = recording_step
    iterations: list[dict] = []
    logger = runner.logger
    log = logger.log
    last = [time.perf_counter()]

    def timed_log(*a, **kw):
        now = time.perf_counter()
        errors = torch.cat(ended) if ended else torch.empty(0)
        ended.clear()
        iterations.append({"it": kw["it"], "seconds": now - last[0], "episodes": int(errors.numel()),
                           "median_final_tcp_error_m": errors.median().item() if errors.numel() else math.nan})
        last[0] = now
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            log(*a, **kw)

    logger.log = timed_log
    start = last[0] = time.perf_counter()
    cut = False
    try:
        runner.learn(num_learning_iterations=args.iterations, init_at_random_ep_len=True)
    except KeyboardInterrupt:  # gpu_check.sh's time share ran out (timeout --signal=INT): keep what ran
        cut = True
    wall = time.perf_counter() - start
    env.close()

    steps_per_it = args.num_envs * cfg.num_steps_per_env
    elapsed, reached = 0.0, None
    for it in iterations:
        elapsed += it["seconds"]
        if reached is None and it["median_final_tcp_error_m"] <= TCP_GOAL_M:
            reached = {"iteration": it["it"], "seconds": elapsed}
    if not iterations:
        raise SystemExit("reach: no PPO iteration finished")
    steady = iterations[1:] or iterations  # the first iteration compiles kernels / captures graphs
    steady_s = sum(it["seconds"] for it in steady)
    result = {
        "stage": f"reach_{args.physics}", "physics": args.physics, "num_envs": args.num_envs,
        "iterations": len(iterations), "cut": cut, "wall_s": wall,
        "env_steps_per_s": steps_per_it * len(steady) / steady_s,
        "iterations_per_s": len(steady) / steady_s,
        "first_iteration_s": iterations[0]["seconds"],
        "time_to_1cm_median_tcp_s": reached["seconds"] if reached else None,
        "iteration_to_1cm_median_tcp": reached["iteration"] if reached else None,
        "final_median_tcp_error_m": next((it["median_final_tcp_error_m"] for it in reversed(iterations)
                                          if it["episodes"]), math.nan),
        **_device_facts(args.device),
    }
    return result


def object_task(args) -> dict:
    from roarm_lab.cli import train
    from roarm_lab.deploy.checkpoint import resolve_checkpoint
    from roarm_lab.evaluation import eval_cfg, evaluate
    from roarm_lab.training.policy import load_actor, obs_policy

    log_root = Path(args.log_root or tempfile.mkdtemp(prefix="gpu_check_"))
    argv = ["--task", args.task, "--backend", "isaaclab", "--physics", args.physics, "--num_envs",
            str(args.num_envs), "--max_iterations", str(args.iterations), "--device", args.device,
            "--seed", str(args.seed), "--log_root", str(log_root)]
    if args.no_warm_start:
        argv += ["--warm_start", "none"]
    start = time.perf_counter()
    code = train.main(argv)
    train_s = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"train.py {' '.join(argv)} exited {code}")
    run_dir = max((log_root / args.task).iterdir())
    checkpoint = resolve_checkpoint(run_dir)
    actor = load_actor(args.task, str(checkpoint))
    cpu_policy = obs_policy(actor)
    start = time.perf_counter()
    result = evaluate(args.task, lambda obs: cpu_policy(obs.cpu()), episodes=args.eval_episodes, seed=0,
                      cfg=eval_cfg(args.task), backend="isaaclab", device=args.device, physics=args.physics)
    return {"stage": args.task, "physics": args.physics, "num_envs": args.num_envs,
            "ppo_iterations": args.iterations, "warm_start": not args.no_warm_start, "train_s": train_s,
            "eval_s": time.perf_counter() - start, "eval_episodes": result.episodes,
            "success_rate": result.success_rate,
            "metrics_median": {k: v["median"] for k, v in result.metrics.items()},
            "checkpoint": str(checkpoint), **_device_facts(args.device)}


def merge(args) -> dict:
    parts = []
    for path in args.parts:
        p = Path(path)
        parts.append(json.loads(p.read_text()) if p.is_file() else {"stage": p.stem, "missing": True})
    return {"stages": parts}


#: What the GPU check imports beyond torch: Isaac Lab with rsl-rl, both physics engines, and roarm-lab's own
#: dependencies on this path (train.py plots learning curves with matplotlib; configs are YAML).
WHEEL_ROOTS = ("isaaclab[rsl-rl]", "newton", "mujoco-warp", "ovphysx", "ovstage", "mujoco", "numpy", "pyyaml",
               "matplotlib")


def _closure(roots) -> dict[str, str]:
    """name -> version of the installed distributions ``roots`` need (markers evaluated here, extras followed)."""
    import importlib.metadata as md

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, str] = {}
    todo = [Requirement(r) for r in roots]
    done: set[tuple[str, frozenset]] = set()
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in done:
            continue
        done.add(key)
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            continue
        found[canonicalize_name(dist.metadata["Name"])] = dist.version
        for line in dist.requires or []:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in ("", *req.extras)):
                todo.append(sub)
    return found


def wheels() -> str:
    needed = _closure(WHEEL_ROOTS)
    with_torch = _closure(["torch"])
    lines = [f"{name}=={version}" for name, version in sorted(needed.items()) if name not in with_torch]
    header = ["# Generated by `python benchmarks/gpu_check.py wheels` (tests/benchmarks keep it current): what",
              "# benchmarks/gpu_check.sh needs beyond torch, pinned to this project's environment. On a GPU machine",
              "# without network: pip download --no-deps -r benchmarks/gpu_wheels.txt -d wheels/ (here), carry",
              "# wheels/, then gpu_check.sh --wheels wheels/."]
    return "\n".join(header + lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="stage", required=True)
    for name in ("reach", "object"):
        p = sub.add_parser(name)
        p.add_argument("--physics", choices=("newton_mjwarp", "physx"), default="newton_mjwarp")
        p.add_argument("--num_envs", type=int, default=4096)
        p.add_argument("--iterations", type=int, required=True)
        p.add_argument("--device", default="cuda:0")
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--out", required=True)
        if name == "object":
            p.add_argument("--task", required=True, choices=("RoArm-Lift", "RoArm-PickPlace"))
            p.add_argument("--eval_episodes", type=int, default=1000)
            p.add_argument("--log_root", default=None)
            p.add_argument("--no_warm_start", action="store_true", help="PPO alone (smoke runs on a CPU)")
    m = sub.add_parser("merge")
    m.add_argument("--out", required=True)
    m.add_argument("parts", nargs="*")
    sub.add_parser("wheels")
    args = parser.parse_args(argv)
    if args.stage == "wheels":
        sys.stdout.write(wheels())
        return 0
    if args.stage != "merge" and (args.num_envs < 1 or args.iterations < 1):
        parser.error("--num_envs and --iterations must be positive")
    result = {"reach": reach, "object": object_task, "merge": merge}[args.stage](args)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result if args.stage != "merge" else {"stages": len(result["stages"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
