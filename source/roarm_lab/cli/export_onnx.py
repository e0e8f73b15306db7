"""Export a trained RoArm policy as a self-contained ONNX policy package for the real-arm runner.

    python scripts/export_onnx.py --checkpoint logs/rsl_rl/RoArm-Reach/<run>[/model_299.pt] --out policy.onnx
                                  [--task RoArm-Reach] [--verify] [--robot_profile FILE]

Given a run directory, the latest model_*.pt is exported; the task comes from the run's params/env.yaml unless
--task is given. --verify compares onnxruntime with the torch actor on 1000 random observations and on the
observations of a short MuJoCo rollout and exits 1 when the max abs difference exceeds 1e-5.
The package records the robot profile the policy was trained for (name, hash, encoder offsets, command delay): the
run's robot_profile.yaml (train.py --robot_profile), or --robot_profile FILE (the same arm: only its encoder offsets
may differ, as after sysid.py touch; a run without a profile was trained for the nominal description).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from roarm_lab.tasks.registry import TASK_IDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a run directory or a model_*.pt file")
    parser.add_argument("--out", required=True, help="the .onnx file to write")
    parser.add_argument("--task", choices=sorted(TASK_IDS), help="default: the task in the run's params/env.yaml")
    parser.add_argument("--verify", action="store_true", help="compare onnxruntime with torch (tolerance 1e-5)")
    parser.add_argument("--robot_profile", metavar="FILE",
                        help="the robot profile it was trained for (default: the run's robot_profile.yaml, if any)")
    args = parser.parse_args(argv)

    from roarm_lab.deploy.checkpoint import resolve_checkpoint, task_of_run, training_info
    from roarm_lab.description.robot_profile import RobotProfileError
    from roarm_lab.training.run import resolve_robot_profile

    try:
        checkpoint = resolve_checkpoint(args.checkpoint)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    run_task = task_of_run(checkpoint)
    task = args.task or run_task
    if task is None:
        print(f"error: no --task given and no params/env.yaml with a task next to {checkpoint}", file=sys.stderr)
        return 2
    if run_task and run_task != task:
        print(f"[roarm-lab] warning: exporting as {task}, the run's params/env.yaml says {run_task}", file=sys.stderr)
    try:
        profile = resolve_robot_profile(args.robot_profile, checkpoint.parent)
    except RobotProfileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    from roarm_lab.deploy import PolicyPackage
    from roarm_lab.deploy.export import export_policy_package
    from roarm_lab.training.policy import load_actor

    try:
        actor = load_actor(task, str(checkpoint))
    except RuntimeError as err:  # a network of another shape
        print(f"error: {checkpoint} does not fit {task}'s networks: {err}", file=sys.stderr)
        return 2
    out = export_policy_package(actor, task, Path(args.out), training=training_info(checkpoint),
                                robot_profile=profile)
    package = PolicyPackage.load(out, expect_task=task)
    print(f"[roarm-lab] wrote {out} ({out.stat().st_size / 1024:.0f} KiB): {task} from {checkpoint}, "
          f"obs {package.observation_size} -> actions {package.action_size} at {package.control_hz:g} Hz, "
          f"trained for {package.trained_for}")
    if not args.verify:
        return 0

    from roarm_lab.deploy.verify import TOLERANCE, verify_package

    diffs = verify_package(package, actor)
    ok = all(d <= TOLERANCE for d in diffs.values())
    print("max_abs_diff " + " ".join(f"{name}={d:.3g}" for name, d in diffs.items())
          + f" tolerance={TOLERANCE:g}: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
