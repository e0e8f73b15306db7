#!/usr/bin/env python3
"""Where a task's expert (or a trained policy) fails: held-out success and the failed episodes by the last stage
they reached.

    python benchmarks/expert_failures.py --task RoArm-PickPlace [--episodes 1000] [--checkpoint model_29.pt] \
        [--show 5] [--threads N] [--action-noise 0.05]

Without ``--checkpoint`` it drives the task's expert (the DAgger teacher and the sim demos' driver: the registry's
``make_expert``) through the held-out episodes ``play.py`` evaluates on; with one, that policy. Each failed episode
is filed under the last stage it reached (:func:`roarm_lab.evaluation.stage_flags`: never grasped, grasped,
lifted, placed), and the first ``--show`` of each are printed with their final state (cube to target in the table
plane, cube height, gripper joint, grasp point to cube): e.g. ``placed`` with the jaws open and the grasp point
still at the cube is an arm that did not leave; ``lifted`` with the cube far away on the table is a dropped or
flung cube. ``--action-noise STD`` executes every action plus Gaussian noise of that std (raw action units), as
DAgger's DART rollouts and ``record_sim_demos.py --action-noise`` do: how robust the expert is to a student's
imprecision. Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="RoArm-PickPlace", choices=("RoArm-Lift", "RoArm-PickPlace"))
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="evaluation seed (offset from training seeds)")
    parser.add_argument("--checkpoint", default=None, help="an rsl-rl checkpoint instead of the expert")
    parser.add_argument("--show", type=int, default=5, help="failed episodes printed per stage")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--action-noise", type=float, default=0.0, metavar="STD",
                        help="Gaussian noise added to every executed action (raw action units)")
    args = parser.parse_args()
    if args.episodes < 1:
        parser.error("--episodes must be >= 1")
    if not args.action_noise >= 0.0:
        parser.error("--action-noise must be >= 0")

    import torch

    from roarm_lab import threads
    from roarm_lab.evaluation import eval_env, run_episodes, stage_flags
    from roarm_lab.tasks.mdp import rewards as rew
    from roarm_lab.tasks.registry import get_entry

    plan = threads.plan_and_apply(args.threads)
    print(plan.line())
    n = args.episodes
    env = eval_env(args.task, n, seed=args.seed, nthread=plan.mujoco)
    if args.checkpoint is None:
        expert = get_entry(args.task).make_expert()

        def act(obs):
            return expert(env.arm_state)
    else:
        from roarm_lab.training.policy import load_policy

        act = load_policy(args.task, args.checkpoint)  # fed the observation, as play.py feeds it
    noise = torch.Generator().manual_seed(args.seed)

    def policy(obs):
        action = act(obs)
        if args.action_noise > 0.0:
            action = action + args.action_noise * torch.randn(action.shape, generator=noise)
        return action

    stages = tuple(stage_flags(args.task, env.arm_state))
    reached_now = {name: torch.zeros(n, dtype=torch.bool) for name in stages}

    def observe(e) -> dict[str, torch.Tensor]:
        """The stages the running episode has reached so far and the state it is in."""
        s = e.arm_state
        starts = e.episode_length_buf.cpu() == 0
        for name, flag in stage_flags(args.task, s).items():
            reached_now[name] = torch.where(starts, flag, reached_now[name] | flag)
        return {**{f"reached {name}": flag.clone() for name, flag in reached_now.items()},
                "goal_xy_m": rew.object_goal_xy_distance(s), "cube_height_m": rew.object_height(s),
                "gripper_rad": s.joint_pos[:, 5], "grasp_to_cube_m": rew.object_grasp_distance(s)}

    start = time.perf_counter()
    result = run_episodes(args.task, env, policy, observe=observe)
    seconds = time.perf_counter() - start
    episode = result.per_episode
    success = episode["success"]
    reached = {name: episode[f"reached {name}"] for name in stages}
    final = {key: episode[key] for key in ("goal_xy_m", "cube_height_m", "gripper_rad", "grasp_to_cube_m", "length")}

    def last_stage(i: int) -> str:
        return next((name for name in reversed(stages) if reached[name][i]), "never grasped")

    failed = torch.nonzero(~success).flatten().tolist()
    by_stage = Counter(last_stage(i) for i in failed)
    who = "expert" if args.checkpoint is None else args.checkpoint
    if args.action_noise > 0.0:
        who += f" (action noise {args.action_noise})"
    print(f"{args.task} {who}: success {result.success_rate:.3f} over {n} held-out episodes "
          f"({seconds:.0f} s); stage reached by the episodes: "
          + ", ".join(f"{name} {reached[name].float().mean().item():.3f}" for name in stages))
    print("failed episodes by the last stage reached: " + ", ".join(f"{k} {v}" for k, v in by_stage.most_common()))
    shown: Counter = Counter()
    for i in failed:
        stage = last_stage(i)
        shown[stage] += 1
        if shown[stage] <= args.show:
            print(f"  episode {i} ({stage}): " + ", ".join(f"{k} {final[k][i].item():.3f}" for k in final))
    print(json.dumps({"task": args.task, "policy": who, "action_noise": args.action_noise, "episodes": n,
                      "success": result.success_rate,
                      "reached": {k: v.float().mean().item() for k, v in reached.items()},
                      "failed_by_stage": dict(by_stage), "seconds": round(seconds, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
