"""The self-improvement loop on one arm (docs/improve.md): deploy, record, identify, fine-tune, gate, redeploy.

    python scripts/improve.py --task RoArm-Reach --port /dev/ttyUSB0 --rounds 2 --workdir runs/arm1 \\
                              --checkpoint logs/rsl_rl/RoArm-Reach/<run> [--episodes 10] [--dry-run]

A round deploys the current policy through the runner (safety layer, watchdog, hold) on the loop's fixed episodes
(Reach targets drawn once with --seed and kept in DIR/episodes.json), each recorded into DIR/dataset (LeRobot); the
real metric (Reach: the median final TCP error from the arm's own readings) goes to round_<k>/metrics.json and
DIR/rounds.csv. It then touches the table for the encoder offsets (once per loop, --touch-points), fits a robot
profile on every recording so far (plus a short excitation when the drive is not identifiable from the deployments),
fine-tunes the checkpoint in MuJoCo on that profile, and gates the candidate: its held-out MuJoCo success at most
--max-success-drop below the current policy's, its safety clamps in dry runs on the arm at most --clamp-factor x the
current policy's in the same dry runs + --clamp-allowance. The next round deploys the winner; after the last round
the winner is deployed and measured once more (the next round's deployment: a later run resumes from there).

PickPlace runs with the cube camera (--camera SRC --camera-calib FILE, docs/camera.md): each episode puts the cube
down at a new target where the next one picks it up, the metric is the camera's final cube-to-target distance, and
the table is not touched (the cube may stand there).

Ctrl+C holds the arm (the runner's hold) and keeps every recorded episode: run the same command to resume. --rounds
0 runs until Ctrl+C. --dry-run does everything but move the arm (the runner's dry run; no identification). Exit 0
when the rounds are done or the user stopped, 1 on a fault (the arm held) or a failed stage, 2 for bad input, 3 when
the arm refused to start.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from roarm_lab.cli.play_real import add_cube_camera_options
from roarm_lab.driver.session import FEEDBACK_MODES


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="improve.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", default="RoArm-Reach", choices=("RoArm-Reach", "RoArm-PickPlace", "RoArm-Lift"),
                   help="the loop's task: RoArm-Reach, or RoArm-PickPlace with the cube camera (--camera, "
                        "--touch-points 0)")
    link = p.add_mutually_exclusive_group(required=True)
    link.add_argument("--port", help="serial device or pyserial URL (socket://host:port)")
    link.add_argument("--http", help="the arm's Wi-Fi address (request feedback, slow: use serial)")
    p.add_argument("--feedback", choices=FEEDBACK_MODES, default=None, help="stream (serial default) or request")
    p.add_argument("--rounds", type=int, default=1, help="rounds to run (0: until Ctrl+C)")
    p.add_argument("--workdir", required=True, type=Path, help="where the loop keeps everything (resumed if there)")
    p.add_argument("--policy", type=Path, default=None, help="the starting policy package (.onnx)")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="the run (or model_*.pt) the fine-tune continues; the start policy is exported from it "
                        "unless --policy is given")
    p.add_argument("--episodes", type=int, default=10, help="episodes per deployment (drawn once)")
    p.add_argument("--episode-s", type=float, default=None, help="s per episode (default: the task's episode)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-run", action="store_true", help="do everything but move the arm")
    p.add_argument("--finetune-iterations", type=int, default=50, help="PPO iterations per fine-tune")
    p.add_argument("--num-envs", type=int, default=256, help="MuJoCo environments of the fine-tune")
    p.add_argument("--eval-episodes", type=int, default=200, help="held-out MuJoCo episodes of the gate")
    p.add_argument("--max-success-drop", type=float, default=0.02,
                   help="the gate: how far (fraction) the held-out success may fall (default 0.02 = 2 points)")
    p.add_argument("--clamp-factor", type=float, default=2.0,
                   help="the gate: the candidate's dry-run clamps at most this x the current policy's "
                        "(+ --clamp-allowance)")
    p.add_argument("--clamp-allowance", type=int, default=10)
    p.add_argument("--excitation-s", type=float, default=20.0,
                   help="s of sysid excitation when the deployments do not identify the drive (0: never)")
    p.add_argument("--touch-points", type=int, default=None,
                   help="table touches for the encoder offsets, once per loop (5-8; 0: never; default 8, and 0 "
                        "for PickPlace: the cube may stand where the probe touches)")
    add_cube_camera_options(p, "--camera")
    p.add_argument("--fit-max-iters", type=int, default=None, help="the fit's optimizer iterations per stage")
    p.add_argument("--threads", type=int, default=None,
                   help="MuJoCo and torch threads (default: the free cores, roarm_lab.threads)")
    p.add_argument("--start-speed", type=float, default=None, help="rad/s of the runner's start move")
    p.add_argument("--stale-periods", type=int, default=None, help="the runner's watchdog, in control periods")
    p.add_argument("--settle", type=float, default=None, help="s of quiet output that means the arm is up")
    p.add_argument("--boot-timeout", type=float, default=None, help="s to wait for the arm's boot")
    return p


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from roarm_lab.driver.session import ArmLinkSettings
    from roarm_lab.improve.loop import ImprovementLoop, LoopOptions
    from roarm_lab.improve.tasks import loop_task
    from roarm_lab.runner.objects import CameraOptions
    from roarm_lab.sysid.config import DEFAULT_FIT

    try:
        task = loop_task(args.task)
    except ValueError as e:
        return _error(str(e))
    if (args.cube_camera is None) != (args.camera_calib is None):
        return _error("the cube camera needs both --camera SRC and --camera-calib FILE")
    camera = None if args.cube_camera is None else CameraOptions(args.cube_camera, args.camera_calib,
                                                                 args.cube_max_age, args.camera_fps)
    if args.touch_points is None:  # the loop refuses touches where a cube may stand
        args.touch_points = 0 if getattr(task, "needs_camera", False) else 8
    for name in ("rounds", "finetune_iterations"):
        if getattr(args, name) < 0:
            return _error(f"--{name.replace('_', '-')} must be >= 0")
    for name in ("episodes", "num_envs", "eval_episodes"):
        if getattr(args, name) < 1:
            return _error(f"--{name.replace('_', '-')} must be >= 1")
    if args.touch_points != 0 and not 5 <= args.touch_points <= 8:
        return _error(f"--touch-points must be 0 (no touches) or 5-8, got {args.touch_points}")
    if args.episode_s is not None and not args.episode_s > 0:
        return _error("--episode-s must be > 0")
    link = {k: v for k, v in (("settle_s", args.settle), ("boot_timeout_s", args.boot_timeout)) if v is not None}
    settings = ArmLinkSettings(port=args.port, http=args.http, feedback=args.feedback, **link)
    try:
        settings.check()
    except ValueError as e:
        return _error(str(e))
    from roarm_lab import threads

    try:
        plan = threads.plan_and_apply(args.threads)
    except ValueError as e:
        return _error(str(e))
    print(plan.line())
    fit = DEFAULT_FIT if args.fit_max_iters is None else dataclasses.replace(
        DEFAULT_FIT, max_iters=args.fit_max_iters, refit_iters=max(1, args.fit_max_iters // 2))
    extra = {k: v for k, v in (("start_speed_rad_s", args.start_speed), ("stale_periods", args.stale_periods))
             if v is not None}
    options = LoopOptions(task=args.task, link=settings, workdir=args.workdir, rounds=args.rounds, policy=args.policy,
                          checkpoint=args.checkpoint, episodes=args.episodes, episode_s=args.episode_s,
                          seed=args.seed, dry_run=args.dry_run, finetune_iterations=args.finetune_iterations,
                          num_envs=args.num_envs, eval_episodes=args.eval_episodes,
                          max_success_drop=args.max_success_drop, clamp_factor=args.clamp_factor,
                          clamp_allowance=args.clamp_allowance, excitation_s=args.excitation_s,
                          touch_points=args.touch_points, fit=fit, camera=camera,
                          threads=plan.mujoco, **extra)
    try:
        loop = ImprovementLoop(options)
    except ValueError as e:  # options the loop refuses for its task (the cube camera, touches)
        return _error(str(e))
    return loop.run()


if __name__ == "__main__":
    sys.exit(main())
