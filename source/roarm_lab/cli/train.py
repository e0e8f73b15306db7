"""Train a RoArm task with rsl-rl PPO.

    python scripts/train.py --task RoArm-Reach|RoArm-Lift|RoArm-PickPlace [--backend auto|mujoco|isaaclab]
                            [--num_envs N] [--max_iterations N] [--seed S] [--device cpu]
                            [--resume --checkpoint PATH] [--warm_start auto|none] [--robot_profile FILE]

The backend defaults to Isaac Lab when a CUDA GPU and Isaac Lab are present, MuJoCo on the CPU otherwise.
``--backend isaaclab`` runs Isaac Lab kit-less, on the CPU too: ``--physics newton_mjwarp`` (Newton / MuJoCo-Warp)
or ``--physics physx`` (OvPhysX: PhysX without Isaac Sim). Where Isaac Sim is installed, ``physx`` is the default and
means Isaac Sim's PhysX: that, ``--video`` and ``--distributed`` hand the run to Isaac Lab's own launcher,
``isaaclab train --rl_library rsl_rl`` (``--print_command`` shows that command): it starts Isaac Sim, records
videos and runs multi-GPU / multi-node training under ``torchrun``. ``--headless`` is accepted for
familiarity: everything here runs headless.
Every task starts by imitating its expert (DAgger; Reach: the analytic IK, Lift/PickPlace: a reactive top-down
picker), then improves with PPO (roarm_lab.training.finetune: a low exploration std the clone was trained to
survive, critic-only updates first, the actor's updates starting at a low rate); ``--max_iterations N`` sets the
number of PPO iterations (0: the clone alone). ``--warm_start none`` trains from PPO alone, and
runs that resume or start from other weights skip the warm start. Isaac Lab's own launcher does not run it.
Logs go to logs/rsl_rl/<task>/<time>/ (roarm_lab.training.run): checkpoints model_<it>.pt, params/env.yaml and
params/agent.yaml, tensorboard events and learning_curves.png at the end.
``--robot_profile FILE`` simulates the arm of a robot profile (``sysid.py fit`` writes one; the domain randomization
is centred on it) instead of the nominal description, and copies it to the run's robot_profile.yaml, which
play.py and export_onnx.py then use. A resumed run keeps its own profile (another one is refused).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from roarm_lab.tasks.registry import TASK_IDS
from roarm_lab.training import run


def pick_backend(requested: str) -> tuple[str, str]:
    if requested != "auto":
        return requested, "requested"
    if torch.cuda.is_available():
        try:
            import isaaclab  # noqa: F401
            return "isaaclab", "CUDA GPU and Isaac Lab found"
        except ImportError:
            pass
    return "mujoco", "no CUDA GPU" if not torch.cuda.is_available() else "Isaac Lab not installed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, choices=sorted(TASK_IDS))
    parser.add_argument("--backend", default="auto", choices=("auto", "mujoco", "isaaclab"))
    parser.add_argument("--num_envs", type=int, default=1024)
    parser.add_argument("--max_iterations", type=int, default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--device", default=None, help="default: cuda:0 for Isaac Lab on a GPU, else cpu")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--checkpoint", default=None, help="model_*.pt to resume from")
    parser.add_argument("--init_from", default=None,
                        help="start from another run's weights (actor, critic, normalizers) with a fresh optimizer "
                             "and iteration count, e.g. a RoArm-Lift model for RoArm-PickPlace")
    parser.add_argument("--warm_start", choices=("auto", "none"), default="auto",
                        help="auto: imitate the task's expert (DAgger) before PPO; none: PPO alone")
    parser.add_argument("--robot_profile", metavar="FILE",
                        help="simulate this robot profile's arm (default: the nominal description; --resume: the "
                             "run's)")
    parser.add_argument("--log_root", default=str(run.LOG_ROOT))
    parser.add_argument("--threads", type=int, default=None,
                        help="MuJoCo and torch threads (default: one per free core, measured at start)")
    parser.add_argument("--verbose", action="store_true", help="print rsl-rl's full report every iteration")
    isaac = parser.add_argument_group("Isaac Lab")
    isaac.add_argument("--physics", choices=("newton_mjwarp", "physx"), default=None,
                       help="physics preset (default: physx with Isaac Sim installed, else newton_mjwarp); without "
                            "Isaac Sim both run kit-less (physx as OvPhysX)")
    isaac.add_argument("--headless", action="store_true", help="accepted; runs are always headless")
    isaac.add_argument("--video", action="store_true", help="record videos (Isaac Sim; via isaaclab train)")
    isaac.add_argument("--distributed", action="store_true",
                       help="multi-GPU/multi-node with torch.distributed (via isaaclab train; start with torchrun)")
    isaac.add_argument("--print_command", action="store_true",
                       help="print the isaaclab train command a hand-off would run, and exit")
    args = parser.parse_args(argv)

    backend, why = pick_backend(args.backend)
    print(f"[roarm-lab] backend: {backend} ({why})")
    if args.device is None:
        args.device = "cuda:0" if backend == "isaaclab" and torch.cuda.is_available() else "cpu"
    if args.resume and not args.checkpoint:
        print("error: --resume needs --checkpoint PATH", file=sys.stderr)
        return 2
    for path in (args.checkpoint, args.init_from):
        if path and not Path(path).is_file():
            print(f"error: checkpoint {path} does not exist", file=sys.stderr)
            return 2
    if args.resume and args.init_from:
        print("error: use either --resume or --init_from", file=sys.stderr)
        return 2
    from roarm_lab.description.robot_profile import RobotProfileError

    try:  # a resumed run goes on with the profile it was trained for
        profile = run.resolve_robot_profile(args.robot_profile, Path(args.checkpoint).parent if args.resume else None)
    except RobotProfileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if profile is not None:
        print(f"[roarm-lab] robot profile {profile.name} (hash {profile.hash})")
    if backend == "isaaclab":
        from roarm_lab.isaaclab import launcher
        from roarm_lab.isaaclab.physics import check_physics

        physics = args.physics or launcher.default_physics()
        if launcher.needs_isaaclab_launcher(physics, args.video, args.distributed) or args.print_command:
            if args.init_from:
                print("error: --init_from is for train.py's own runs; use --checkpoint with isaaclab train",
                      file=sys.stderr)
                return 2
            if profile is not None:
                print("error: --robot_profile is for train.py's own runs; Isaac Lab's launcher trains the nominal "
                      "description", file=sys.stderr)
                return 2
            cmd = launcher.isaaclab_train_command(args.task, args.num_envs, args.seed, args.device, physics,
                                                  args.max_iterations, args.video, args.distributed,
                                                  args.checkpoint)
            print("[roarm-lab] hand-off to Isaac Lab's launcher: " + shlex.join(cmd))
            if args.print_command:
                return 0
            problem = launcher.launcher_problem(args.video)
            if problem:
                print(f"error: {problem}", file=sys.stderr)
                return 2
            return subprocess.call(cmd)
        try:
            check_physics(physics)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    elif args.physics or args.video or args.distributed:
        print("error: --physics, --video and --distributed are Isaac Lab options (--backend isaaclab)", file=sys.stderr)
        return 2

    from rsl_rl.runners import OnPolicyRunner

    from roarm_lab import threads
    from roarm_lab.deploy.checkpoint import git_head
    from roarm_lab.sim_mujoco.env import MujocoTaskEnv
    from roarm_lab.tasks.registry import get_entry, get_task
    from roarm_lab.training.learning_curve import plot_learning_curves
    from roarm_lab.training.policy import runner_cfg
    from roarm_lab.training.progress import attach_progress_bar
    from roarm_lab.training.warm_start import has_warm_start, ppo_iterations_after_warm_start, warm_start

    try:
        plan = threads.plan_and_apply(args.threads)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"[roarm-lab] {plan.line()}")
    torch.manual_seed(args.seed)
    agent_cfg = runner_cfg(args.task, args.device)
    agent_cfg.seed = args.seed
    warm = args.warm_start == "auto" and has_warm_start(args.task) and not (args.resume or args.init_from)
    # a resumed run goes on as the run it resumes began (runs from before this was recorded: the task's default)
    resumed_clone = args.resume and has_warm_start(args.task) and run.read_env_params(
        Path(args.checkpoint).parent).get("warm_start", "dagger") == "dagger"
    if args.max_iterations is not None:
        agent_cfg.max_iterations = args.max_iterations
    elif warm:
        agent_cfg.max_iterations = ppo_iterations_after_warm_start(args.task, agent_cfg.max_iterations)
    task_cfg = get_task(args.task).make_cfg().with_robot_profile(profile)
    if backend == "isaaclab":
        from roarm_lab.isaaclab.vec_env import make_vec_env

        env, task_cfg = make_vec_env(args.task, args.num_envs, args.seed, args.device, physics=physics,
                                     task_cfg=task_cfg)
    else:
        env = MujocoTaskEnv(args.task, args.num_envs, cfg=task_cfg, seed=args.seed, nthread=plan.mujoco)

    log_dir = run.new_run_dir(args.log_root, args.task)
    run.write_agent_params(log_dir, agent_cfg.to_dict())
    if profile is not None:
        run.write_robot_profile(log_dir, profile)
    physics_params = {"physics": physics} if backend == "isaaclab" else {}
    run.write_env_params(log_dir, {"task": args.task, "backend": backend, **physics_params, "num_envs": args.num_envs,
                                   "commit": git_head(), **asdict(task_cfg),
                                   "robot_profile": run.profile_summary(profile),
                                   "warm_start": "dagger" if warm or resumed_clone else "none"})
    runner = OnPolicyRunner(env, agent_cfg.to_dict(), log_dir=str(log_dir), device=args.device)
    if args.resume:
        runner.load(args.checkpoint)
        print(f"[roarm-lab] resumed from {args.checkpoint}")
        if resumed_clone:
            from roarm_lab.training import finetune

            finetune.resume(runner, get_entry(args.task).warm_start, runner.current_learning_iteration)
            print("[roarm-lab] the run began as a clone of the expert: its observation normalizer stays frozen")
    if args.init_from:
        try:
            runner.load(args.init_from, load_cfg={"actor": True, "critic": True}, map_location=args.device)
        except RuntimeError as err:  # a network of another shape
            print(f"error: {args.init_from} does not fit {args.task}'s networks: {err}", file=sys.stderr)
            return 2
        print(f"[roarm-lab] initialised from {args.init_from}")
    start = time.time()
    iterations = agent_cfg.max_iterations
    if warm:
        print(f"[roarm-lab] warm start: DAgger from the {args.task} expert")
        seconds = warm_start(args.task, runner, env, seed=args.seed)
        then = "PPO takes over" if iterations else "no PPO iterations follow (--max_iterations N adds them)"
        print(f"[roarm-lab] warm start done in {seconds / 60:.1f} min; {then}")
    if iterations:
        attach_progress_bar(runner, verbose=args.verbose)
        print(f"[roarm-lab] {args.task}: {args.num_envs} envs x {agent_cfg.num_steps_per_env} steps, "
              f"{iterations} iterations; logging to {log_dir}")
        runner.learn(num_learning_iterations=iterations, init_at_random_ep_len=True)
    else:
        runner.save(str(run.checkpoint_path(log_dir, 0)))
    if backend == "isaaclab":
        env.close()
    curves = f"; learning curves: {plot_learning_curves(log_dir)}" if iterations else ""
    print(f"[roarm-lab] trained {iterations} PPO iterations, {(time.time() - start) / 60:.1f} min in all; "
          f"checkpoints in {log_dir}{curves}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
