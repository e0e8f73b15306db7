"""Run an ONNX policy package on the real RoArm-M3 (or the emulator) through the safety layer.

    bash scripts/env.sh python scripts/play_real.py --policy reach.onnx --port /dev/ttyUSB0 --duration 20
    bash scripts/env.sh python scripts/play_real.py --policy reach.onnx --port /dev/ttyUSB0 --dry-run --duration 5
    bash scripts/env.sh python scripts/play_real.py --policy reach.onnx --http 192.168.4.1 --target 0.2 -0.1 0.12

Loads and checks the package (refused: exit 2, before the port is opened) and prints the robot profile it was
trained for ("policy trained for robot profile NAME (hash H)", or "... for the nominal description"); the
profile's encoder offsets are taken off the measured joints and put on the commanded ones. Then it connects,
refuses an arm that does not answer, a dead servo bus or joints far outside the limits (exit 3, nothing moved),
moves slowly to the policy's start pose on a checked straight joint-space path, then runs the policy at its
control rate (30 Hz) until --duration ends or Ctrl+C (exit 0). Faults - link lost, watchdog (no fresh
feedback for --stale-periods control periods), repeated non-finite policy output, an arm reset - stop the run with
exit 1. Ctrl+C and faults end with a T:102 to the last measured pose (never T:0, which drops the arm).

--target is the task command (m, world frame: origin on the mounting surface under the base axis, z up); Reach
defaults to (0.25, 0.10, 0.15). Object tasks (Lift, PickPlace) observe a cube the arm cannot measure: a calibrated
camera finds it each step (--camera SRC --camera-calib FILE; SRC a device index, a video file or an MJPEG URL;
docs/camera.md). The camera must see the cube before the port is opened (exit 2 otherwise); a cube not seen for
--cube-max-age seconds during the run holds the arm and stops it (exit 1), so no step moves on a stale pose. A fixed
--object X Y Z instead is seen never to move: for trying the pipeline, not for grasping.
--dry-run does everything but the motion commands: it reads feedback and prints each T:102 it would send.

--feedback stream (the default over serial) leaves the arm's InfoPrint=2 stream on and uses it as the state: a
reader thread keeps the newest T:1051 frame (~50 frames/s at 115200 baud), each step takes the newest frame no step
has used, and the T:102 is written without waiting; the watchdog measures the age of the newest frame. --feedback
request turns the stream off and sends a T:105 with each T:102 (one ~22 ms round trip per step at 115200 baud).

The log directory (--log, default logs/real/<time>/) gets steps.jsonl (per step: time, feedback age and number,
measured joints, estimated velocities, observation, raw action, policy target, command after safety, clamps, round
trip), summary.json and joints.png (commanded vs measured). Over HTTP each step is two requests; users measure
~3 Hz over Wi-Fi (hardware §1.5), so expect the watchdog to stop the run: use USB serial.

--record DIR appends the run to a LeRobot v3 dataset as one episode (created on first use; --record-repo-id names
it): observation.state = the measured joints each step used, action = the command after the safety layer, model
rad under the LeRobot follower's names (base.pos ... gripper.pos), at the control rate; object tasks add
observation.environment_state (the cube each step used, and --target) and, with a camera, the frames it saw
(observation.images.camera). The root is checked before the port is opened (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from roarm_lab.driver.safety import SafetyConfig, WorkspaceBox
from roarm_lab.driver.session import FEEDBACK_MODES, ArmLinkSettings
from roarm_lab.driver.transports.serial_port import DEFAULT_BAUD, DEFAULT_BOOT_TIMEOUT_S
from roarm_lab.lerobot_io.dataset_features import REAL_RUN_REPO_ID
from roarm_lab.runner.objects import DEFAULT_MAX_AGE_S, CameraOptions
from roarm_lab.runner.run import (
    DEFAULT_REPLY_TIMEOUT_S,
    DEFAULT_STALE_PERIODS,
    DEFAULT_START_SPEED_RAD_S,
    PlayOptions,
    play,
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policy", required=True, type=Path, help="the .onnx policy package (scripts/export_onnx.py)")
    p.add_argument("--object", type=float, nargs=3, metavar=("X", "Y", "Z"),
                   help="fixed cube position for object tasks, m, world frame (orientation: yaw 0)")
    add_cube_camera_options(p, "--camera")
    add_run_options(p)
    return p


def add_cube_camera_options(p: argparse.ArgumentParser, flag: str) -> None:
    """The camera that finds the cube each step (object tasks); ``flag`` names its source option."""
    g = p.add_argument_group("cube camera (object tasks; docs/camera.md)")
    g.add_argument(flag, dest="cube_camera", metavar="SRC",
                   help="the camera that sees the cube: a device index, a video file or a URL (MJPEG over HTTP)")
    g.add_argument("--camera-calib", type=Path, metavar="FILE",
                   help="its calibration (scripts/calibrate_camera.py: intrinsics and extrinsics)")
    g.add_argument("--cube-max-age", type=float, default=DEFAULT_MAX_AGE_S, metavar="S",
                   help=f"hold and stop when the cube was last seen longer ago (default {DEFAULT_MAX_AGE_S})")
    g.add_argument("--camera-fps", type=float, metavar="FPS", help="play a video file at this rate (default its own)")


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The link, safety, logging and recording options of every policy run on the arm (also run_lerobot_policy)."""
    safety, box = SafetyConfig(), WorkspaceBox()
    link = p.add_mutually_exclusive_group(required=True)
    link.add_argument("--port", help="serial device or pyserial URL (socket://host:port)")
    link.add_argument("--http", metavar="HOST", help="the arm's IP or host[:port] (GET /js?json=, hardware §1.4)")
    p.add_argument("--dry-run", action="store_true", help="read feedback and print the T:102 lines, send none")
    p.add_argument("--duration", type=float, metavar="S", help="seconds of policy control (default: until Ctrl+C)")
    p.add_argument("--target", type=float, nargs=3, metavar=("X", "Y", "Z"), help="task command, m, world frame")
    p.add_argument("--log", type=Path, metavar="DIR", help="log directory (default logs/real/<time>/)")
    g = p.add_argument_group("safety")
    g.add_argument("--margin", type=float, default=safety.margin_rad, metavar="RAD",
                   help=f"kept from each hardware-safe joint limit (default {safety.margin_rad})")
    g.add_argument("--max-step", type=float, default=safety.max_step_rad, metavar="RAD",
                   help=f"largest change per joint and control step (default {safety.max_step_rad})")
    g.add_argument("--max-lead", type=float, default=safety.max_lead_rad, metavar="RAD",
                   help=f"largest distance of a command from the measured joint (default {safety.max_lead_rad})")
    g.add_argument("--workspace", type=float, nargs=6, metavar=("XMIN", "YMIN", "ZMIN", "XMAX", "YMAX", "ZMAX"),
                   default=(*box.lower, *box.upper), help="TCP box, m, world frame (default: %(default)s)")
    g.add_argument("--stale-periods", type=int, default=DEFAULT_STALE_PERIODS, metavar="N",
                   help=f"watchdog: stop after N control periods without fresh feedback (default "
                        f"{DEFAULT_STALE_PERIODS})")
    g.add_argument("--start-speed", type=float, default=DEFAULT_START_SPEED_RAD_S, metavar="RAD_S",
                   help=f"joint speed of the move to the start pose (default {DEFAULT_START_SPEED_RAD_S})")
    c = p.add_argument_group("serial link")
    c.add_argument("--feedback", choices=FEEDBACK_MODES,
                   help="state source: the arm's T:1051 stream (default over serial) or a T:105 request per step "
                        "(the only choice over HTTP)")
    c.add_argument("--baud", type=int, default=DEFAULT_BAUD)
    c.add_argument("--boot-timeout", type=float, default=DEFAULT_BOOT_TIMEOUT_S, help="seconds to wait for a boot")
    c.add_argument("--settle", type=float, default=0.5, help="seconds without boot output before the arm counts as up")
    c.add_argument("--reply-timeout", type=float, default=DEFAULT_REPLY_TIMEOUT_S,
                   help=f"seconds to wait for each T:1051 reply (one retry; default {DEFAULT_REPLY_TIMEOUT_S}); "
                        "stream: a step waits twice this for a new frame")
    p.add_argument("--no-plot", action="store_true", help="skip joints.png")
    p.add_argument("--record", type=Path, metavar="DIR", help="append the run to this LeRobot v3 dataset")
    p.add_argument("--record-repo-id", default=REAL_RUN_REPO_ID, help="the dataset's repo id (default %(default)s)")


def play_options(parser: argparse.ArgumentParser, args: argparse.Namespace, policy, object_pos,
                 object_yaw_rad: float = 0.0) -> PlayOptions:
    """:class:`PlayOptions` from :func:`add_run_options`' (and :func:`add_cube_camera_options`') arguments; bad values
    end in ``parser.error``."""
    if args.duration is not None and not args.duration > 0:
        parser.error("--duration must be > 0")
    if args.stale_periods < 1:
        parser.error("--stale-periods must be >= 1")
    if not args.start_speed > 0:
        parser.error("--start-speed must be > 0")
    camera = None
    if getattr(args, "cube_camera", None) is not None:
        if args.camera_calib is None:
            parser.error("the cube camera needs its calibration: --camera-calib FILE")
        if not args.cube_max_age > 0:
            parser.error("--cube-max-age must be > 0")
        camera = CameraOptions(args.cube_camera, args.camera_calib, args.cube_max_age, args.camera_fps)
    elif getattr(args, "camera_calib", None) is not None:
        parser.error("--camera-calib is for the cube camera: give its source too")

    try:
        safety = SafetyConfig(margin_rad=args.margin, max_step_rad=args.max_step, max_lead_rad=args.max_lead,
                              workspace=WorkspaceBox(tuple(args.workspace[:3]), tuple(args.workspace[3:])))
        link = ArmLinkSettings(port=args.port, http=args.http, baud=args.baud, boot_timeout_s=args.boot_timeout,
                               settle_s=args.settle, reply_timeout_s=args.reply_timeout, feedback=args.feedback)
        link.check()
    except ValueError as e:
        parser.error(str(e))
    return PlayOptions(
        policy=policy, link=link, dry_run=args.dry_run, duration_s=args.duration, target=args.target,
        object_pos=object_pos, object_yaw_rad=object_yaw_rad, camera=camera, log_dir=args.log, safety=safety,
        start_speed_rad_s=args.start_speed,
        stale_periods=args.stale_periods, plot=not args.no_plot, record_dir=args.record,
        record_repo_id=args.record_repo_id,
    )


def run(options: PlayOptions) -> int:
    """:func:`play` with one torch thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the observation is one small batch: more threads only add wake-up latency
    try:
        return int(play(options).exit_code)
    finally:
        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run(play_options(parser, args, args.policy, args.object))



if __name__ == "__main__":
    sys.exit(main())
