"""Evaluate a LeRobot policy (a `lerobot-train` checkpoint trained on scripts/record_sim_demos.py datasets) in
closed loop on the MuJoCo backend, on the held-out episodes scripts/play.py uses:

    python scripts/eval_lerobot_policy.py --task RoArm-Lift \\
        --policy outputs/act_lift/checkpoints/last/pretrained_model [--episodes 100] [--seed 0]

Prints ``task=... episodes=... success_rate=...`` and the task's metrics. Exit 2 for a policy that needs inputs
the simulation does not give (cameras).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from roarm_lab.lerobot_io.sim_demos import EXPERT_TASKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, choices=EXPERT_TASKS, help="a task with sim demos")
    parser.add_argument("--policy", required=True, type=Path, help="a checkpoint's pretrained_model directory")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.episodes < 1:
        parser.error("--episodes must be >= 1")
    torch.set_num_threads(1)

    from roarm_lab.lerobot_io.lerobot_policy import LeRobotPolicy
    from roarm_lab.lerobot_io.sim_eval import evaluate_lerobot_policy

    try:
        policy = LeRobotPolicy(args.policy)
        result = evaluate_lerobot_policy(args.task, policy, args.episodes, args.seed)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("\n".join(result.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
