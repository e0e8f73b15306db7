#!/usr/bin/env python3
"""Run a LeRobot policy (a `lerobot-train` checkpoint, e.g. ACT trained on sim demos) on the arm through the
RoArm follower plugin: observation -> policy -> the follower's safety (joint limits, step and lead bounds,
workspace, NaN held) -> `T:102`, at ``--fps``.

    python scripts/run_lerobot_policy.py --policy outputs/train/act/checkpoints/last/pretrained_model \\
        --port /dev/ttyUSB0 --cube 0.22 0.0 0.015 --target 0.18 0.12 0.015 --duration 20

Sim-demo policies see the cube and the target (``observation.environment_state``); on the arm they are given
once with ``--cube``/``--target`` (world frame, m: origin under the base axis on the table, z up) and
``--cube-yaw`` (deg), as where the cube was put. Policies trained with cameras take the follower's cameras
(``--camera name=index_or_path``).
Ctrl+C or ``--duration`` ends the run; the servos keep holding the last target. Exit 0: done, 1: the arm or the
link failed, 2: bad arguments or a policy the arm cannot feed.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

from roarm_lab.lerobot_io.dataset_features import TASK_PROMPTS, environment_state_values
from roarm_lab.lerobot_io.features import JOINT_POS_KEYS, joints_to_features
from roarm_lab.real.errors import RealArmError
from roarm_lab.real.runner.scheduler import RateScheduler
from roarm_lab.real.transport import REQUEST, STREAM
from roarm_lab.tasks.timing import CONTROL_HZ

DEFAULT_TASK = TASK_PROMPTS["RoArm-PickPlace"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", type=Path, required=True, help="a checkpoint's pretrained_model directory")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial device or pyserial URL")
    where.add_argument("--http", help="the arm's Wi-Fi address (slow: ~3 Hz)")
    parser.add_argument("--cube", type=float, nargs=3, metavar=("X", "Y", "Z"), help="cube position, m")
    parser.add_argument("--target", type=float, nargs=3, metavar=("X", "Y", "Z"), help="target position, m")
    parser.add_argument("--cube-yaw", type=float, default=0.0, metavar="DEG", help="the cube's yaw (default 0)")
    parser.add_argument("--camera", action="append", default=[], metavar="NAME=INDEX_OR_PATH",
                        help="an OpenCV camera for the follower (repeatable); 640x480 at 30 fps")
    parser.add_argument("--task", default=DEFAULT_TASK, help="task text for language-conditioned policies")
    parser.add_argument("--fps", type=float, default=CONTROL_HZ)
    parser.add_argument("--duration", type=float, default=None, help="seconds (default: until Ctrl+C)")
    parser.add_argument("--max-step", type=float, default=0.1, help="rad per joint and step (safety layer)")
    parser.add_argument("--device", default="cpu", help="torch device for the policy")
    parser.add_argument("--boot-timeout", type=float, default=15.0, help="s to wait for the arm after opening")
    args = parser.parse_args(argv)
    if (args.cube is None) != (args.target is None):
        parser.error("give both --cube and --target, or neither")
    return args


def make_follower(args: argparse.Namespace):
    from lerobot.cameras.opencv import OpenCVCameraConfig
    from lerobot_robot_roarm_m3 import RoArmM3Follower, RoArmM3FollowerConfig

    cameras = {}
    for spec in args.camera:
        name, sep, source = spec.partition("=")
        if not sep or not name:
            raise ValueError(f"--camera wants NAME=INDEX_OR_PATH, got {spec!r}")
        cameras[name] = OpenCVCameraConfig(index_or_path=int(source) if source.isdigit() else Path(source),
                                           width=640, height=480, fps=30)
    feedback = REQUEST if args.http else STREAM
    return RoArmM3Follower(RoArmM3FollowerConfig(port=args.port, http=args.http, feedback=feedback,
                                                 boot_timeout_s=args.boot_timeout, max_step_rad=args.max_step,
                                                 cameras=cameras, id="run_lerobot_policy"))


def run(args: argparse.Namespace) -> int:
    from roarm_lab.lerobot_io.lerobot_policy import LeRobotPolicy

    environment_state = (None if args.cube is None else
                         environment_state_values(args.cube, args.target, math.radians(args.cube_yaw)).tolist())
    try:
        policy = LeRobotPolicy(args.policy, device=args.device)
        robot = make_follower(args)
        policy.check_inputs(list(robot.cameras), environment_state)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        robot.connect()
    except RealArmError as e:
        print(f"error: cannot connect to the arm: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    steps, code, outcome, final = 0, 0, "completed", None
    scheduler = RateScheduler(args.fps)
    start = time.monotonic()
    try:
        policy.reset()
        while args.duration is None or time.monotonic() - start < args.duration:
            scheduler.next_tick()
            target = policy.act(robot.get_observation(), environment_state, args.task)
            robot.send_action(joints_to_features(target))
            steps += 1
    except KeyboardInterrupt:
        outcome = "stopped by the user"
    except RealArmError as e:
        code, outcome = 1, f"stopped on a fault: {type(e).__name__}: {e}"
    finally:
        elapsed = time.monotonic() - start
        try:
            final = robot.get_observation() if code == 0 else None
        finally:
            robot.disconnect()
    clamps = {k: v for k, v in robot.safety.counts.items() if v}
    print(f"[roarm-lab] {outcome}: {steps} steps in {elapsed:.1f} s ({steps / max(elapsed, 1e-9):.1f} Hz, "
          f"target {args.fps:g}), {scheduler.skipped} ticks skipped, safety clamps {clamps or 'none'}")
    if final is not None:
        print("[roarm-lab] final joints (rad): " + ", ".join(f"{k}={final[k]:+.3f}" for k in JOINT_POS_KEYS))
    return code


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
