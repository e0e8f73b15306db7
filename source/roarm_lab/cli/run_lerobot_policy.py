"""Run a LeRobot policy (a `lerobot-train` checkpoint, e.g. ACT trained on sim demos) on the RoArm-M3 through the
same runner as ``play_real.py``: the checked move to the start pose, the control loop, the safety layer (joint
limits, step and lead bounds, workspace box, non-finite targets held), the feedback watchdog, the hold on Ctrl+C and
faults, ``steps.jsonl``/``summary.json``/``joints.png`` and ``--record``.

    python scripts/run_lerobot_policy.py --policy outputs/train/act/checkpoints/last/pretrained_model \\
        --port /dev/ttyUSB0 --object 0.22 0.0 0.015 --target 0.18 0.12 0.015 --duration 20

Sim-demo policies see the cube and the target (``observation.environment_state``); on the arm they are given
once with ``--object``/``--target`` (world frame, m: origin under the base axis on the table, z up) and
``--cube-yaw`` (deg), as where the cube was put, or seen each step by a calibrated camera (``--cube-camera SRC
--camera-calib FILE``, as ``play_real.py --camera``; docs/camera.md). Policies trained with cameras get LeRobot
OpenCV cameras
(``--camera name=index_or_path``). An input the run cannot give is refused before the port is opened (exit 2).
Exit codes as play_real.py: 0 done or stopped by the user, 1 a fault (the arm holds), 2 bad input, 3 the arm
refused.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

from roarm_lab.cli.play_real import add_cube_camera_options, add_run_options, play_options, run
from roarm_lab.runner.run import ExitCode
from roarm_lab.tasks.registry import TASKS
from roarm_lab.tasks.timing import CONTROL_HZ


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policy", type=Path, required=True, help="a checkpoint's pretrained_model directory")
    p.add_argument("--task", default="RoArm-PickPlace", choices=list(TASKS),
                   help="the task the policy was trained on: its start pose and prompt (default %(default)s)")
    p.add_argument("--prompt", help="task text for language-conditioned policies (default: the task's)")
    p.add_argument("--object", "--cube", dest="object", type=float, nargs=3, metavar=("X", "Y", "Z"),
                   help="the cube's position, m, world frame")
    p.add_argument("--cube-yaw", type=float, default=0.0, metavar="DEG", help="the cube's yaw (default 0)")
    p.add_argument("--camera", action="append", default=[], metavar="NAME=INDEX_OR_PATH",
                   help="an OpenCV camera for the policy's images (repeatable); 640x480 at 30 fps")
    add_cube_camera_options(p, "--cube-camera")
    p.add_argument("--fps", type=float, default=CONTROL_HZ, help="control rate (default %(default)s)")
    p.add_argument("--device", default="cpu", help="torch device for the policy")
    add_run_options(p)
    return p


def camera_configs(specs: list[str]) -> dict:
    from lerobot.cameras.opencv import OpenCVCameraConfig

    cameras = {}
    for spec in specs:
        name, sep, source = spec.partition("=")
        if not sep or not name:
            raise ValueError(f"--camera wants NAME=INDEX_OR_PATH, got {spec!r}")
        cameras[name] = OpenCVCameraConfig(index_or_path=int(source) if source.isdigit() else Path(source),
                                           width=640, height=480, fps=30)
    return cameras


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.fps > 0:
        parser.error("--fps must be > 0")
    from roarm_lab.runner.lerobot_checkpoint import LeRobotCheckpointPolicy

    try:
        policy = LeRobotCheckpointPolicy(args.policy, task=args.task, cameras=camera_configs(args.camera),
                                         prompt=args.prompt,
                                         control_hz=args.fps, device=args.device)
    except (FileNotFoundError, KeyError, ValueError, ConnectionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return int(ExitCode.BAD_INPUT)
    if policy.observes_object and ((args.object is None and args.cube_camera is None) or args.target is None):
        policy.close()
        print("error: the policy's observation.environment_state holds the cube and the target: give the cube "
              "(--cube-camera SRC --camera-calib FILE, or --object X Y Z) and --target X Y Z (m, world frame)",
              file=sys.stderr)
        return int(ExitCode.BAD_INPUT)
    try:
        return run(play_options(parser, args, policy, args.object, math.radians(args.cube_yaw)))
    finally:
        policy.close()


if __name__ == "__main__":
    sys.exit(main())
