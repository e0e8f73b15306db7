"""Run the FW-250108 emulator: ``python -m roarm_lab.emulator [--tcp PORT] [--http PORT] [faults ...]``.

``--twin`` puts the physics twin behind the firmware (MuJoCo in real time with a hidden truth: ``--truth FILE`` or
``--truth-seed N``; the nominal description otherwise) and a cube on the table (``--cube X Y YAW``).

Prints the pseudo-terminal path (use it as ``--port`` of scripts/arm.py) and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.driver.errors import RealArmError
from roarm_lab.emulator.config import DEFAULT_BAUD, ArmVariation, EmulatorConfig, EmulatorError, Faults
from roarm_lab.emulator.emulated_arm import Emulator
from roarm_lab.emulator.http_server import EmulatorHttpServer

TWIN_ONLY = ("truth", "truth_seed", "cube", "truth_log", "write_truth", "camera_port", "camera_seed", "write_camera")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m roarm_lab.emulator", description=__doc__.splitlines()[0])
    p.add_argument("--no-pty", action="store_true", help="do not open a pseudo-terminal")
    p.add_argument("--tcp", type=int, metavar="PORT", help="also serve the serial protocol on TCP (socket://)")
    p.add_argument("--http", type=int, metavar="PORT", help="also serve GET /js?json= on this HTTP port")
    p.add_argument("--host", default="127.0.0.1", help="address for --tcp/--http (default 127.0.0.1)")
    p.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="wire pacing, 0 = unpaced (default 115200)")
    p.add_argument("--boot-s", type=float, default=3.0, help="boot duration (default 3 s)")
    p.add_argument("--no-reset-on-open", action="store_true", help="opening the port does not reboot the arm")
    p.add_argument("--stream-hz", type=float, default=100.0, help="InfoPrint=2 loop rate (default 100)")
    p.add_argument("--estop-s", type=float, default=10.0, help="T:0 torque-off time (default 10 s)")
    g = p.add_argument_group("arm variation")
    g.add_argument("--speed-scale", type=float, default=1.0, help="servo top-speed factor (default 1)")
    g.add_argument("--settle-offset", type=float, nargs=6, metavar="RAD", default=(0.0,) * 6,
                   help="where each servo settles relative to its target, firmware rad")
    g.add_argument("--load-scale", type=float, default=1.0)
    g.add_argument("--hand-pose", type=float, nargs=6, metavar="RAD",
                   help="a hand holds the arm at this pose (model rad): joints with torque off (T:210 cmd 0, e.g. a "
                        "LeRobot leader) move there")
    t = p.add_argument_group("physics twin")
    t.add_argument("--twin", action="store_true",
                   help="a physics twin behind the firmware: MuJoCo in real time, servo position loops on encoder "
                        "steps, a hidden truth (default: the exact kinematic servos)")
    src = t.add_mutually_exclusive_group()
    src.add_argument("--truth", metavar="FILE", help="the twin's hidden truth, a YAML file (see docs/twin.md)")
    src.add_argument("--truth-seed", type=int, metavar="N",
                     help="draw the truth from the documented ranges (wider than the training randomization)")
    t.add_argument("--cube", type=float, nargs=3, metavar=("X", "Y", "YAW"),
                   help="the cube on the table, world frame (m, m, rad); default: at random in the tasks' area")
    t.add_argument("--truth-log", metavar="FILE", help="write the ground truth (joints, goals, cube) as JSON lines")
    t.add_argument("--write-truth", metavar="FILE", help="also write the truth in use to FILE (for benchmarks)")
    t.add_argument("--physics-hz", type=float, default=1000.0, help="physics and servo-loop rate (default 1000)")
    c = p.add_argument_group("twin camera")
    c.add_argument("--camera-port", type=int, metavar="PORT",
                   help="a camera beside the table, served as MJPEG at http://HOST:PORT/stream.mjpg (0: any port); "
                        "its pose and lens are hidden truth. Needs MUJOCO_GL=egl (set here when unset)")
    c.add_argument("--camera-seed", type=int, metavar="N", help="place the camera differently per N (default: the "
                   "nominal placement, docs/camera.md)")
    c.add_argument("--camera-fps", type=float, default=15.0, help="frames per second drawn (default 15)")
    c.add_argument("--charuco", action="store_true",
                   help="hold a ChArUco board up in front of the camera, a new pose every second (intrinsics)")
    c.add_argument("--table-board", action="store_true", help="the table board lies at its spot (extrinsics)")
    c.add_argument("--write-camera", metavar="FILE", help="write the camera's truth (pose, matrix) as JSON")
    f = p.add_argument_group("faults")
    f.add_argument("--torn", type=float, default=0.0, metavar="P", help="probability a printed line is torn")
    f.add_argument("--drop", type=float, default=0.0, metavar="P", help="probability a printed line is lost")
    f.add_argument("--latency", type=float, default=0.0, metavar="S", help="delay before each command is seen")
    f.add_argument("--output-latency", type=float, default=0.0, metavar="S",
                   help="delay before each printed line reaches the host")
    f.add_argument("--stuck", choices=JOINT_NAMES, help="this joint's servo ignores position commands")
    f.add_argument("--disconnect-after", type=float, metavar="S", help="close the port S s after the host opens it")
    f.add_argument("--disconnect-after-lines", type=int, metavar="N", help="... or after N lines reached the host")
    f.add_argument("--dead-bus", action="store_true", help="no servo answers (every joint reads step 0)")
    f.add_argument("--seed", type=int, default=0)
    return p


def twin_from_args(a: argparse.Namespace):
    """The TwinConfig of ``--twin`` (None without it). Imports MuJoCo only then."""
    if not a.twin:
        given = [f"--{n.replace('_', '-')}" for n in TWIN_ONLY if getattr(a, n) is not None]
        if given:
            raise EmulatorError(f"{', '.join(given)} apply only to the physics twin: add --twin")
        return None
    from pathlib import Path

    from roarm_lab.emulator.twin.settings import TwinConfig
    from roarm_lab.emulator.twin.truth import draw_truth, load_truth, nominal_truth, save_truth

    if a.truth is not None:
        truth = load_truth(a.truth)
    elif a.truth_seed is not None:
        truth = draw_truth(a.truth_seed)
    else:
        truth = nominal_truth()
    if a.write_truth:
        save_truth(truth, a.write_truth)
    camera = None
    if a.camera_port is not None:
        from roarm_lab.emulator.twin.camera import CameraTruth, draw_camera

        camera = CameraTruth(fps=a.camera_fps) if a.camera_seed is None else draw_camera(a.camera_seed,
                                                                                          fps=a.camera_fps)
        if a.write_camera:
            Path(a.write_camera).write_text(json.dumps(camera.to_dict(), indent=2) + "\n")
    elif a.charuco or a.table_board or a.camera_seed is not None or a.write_camera:
        raise EmulatorError("--camera-seed, --charuco, --table-board and --write-camera need --camera-port")
    return TwinConfig(truth=truth, cube=None if a.cube is None else tuple(a.cube),
                      seed=a.seed if a.truth_seed is None else a.truth_seed, physics_hz=a.physics_hz,
                      truth_log=None if a.truth_log is None else Path(a.truth_log), camera=camera,
                      charuco=a.charuco, table_board=a.table_board)


def config_from_args(a: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        baud=a.baud, boot_duration_s=a.boot_s, reset_on_open=not a.no_reset_on_open, stream_hz=a.stream_hz,
        estop_duration_s=a.estop_s, hand_pose=None if a.hand_pose is None else tuple(a.hand_pose),
        variation=ArmVariation(speed_scale=a.speed_scale, settle_offset_rad=tuple(a.settle_offset),
                               load_scale=a.load_scale),
        faults=Faults(torn_frame_prob=a.torn, drop_line_prob=a.drop, latency_s=a.latency,
                      output_latency_s=a.output_latency, stuck_joint=a.stuck,
                      disconnect_after_s=a.disconnect_after, disconnect_after_lines=a.disconnect_after_lines,
                      dead_bus=a.dead_bus, seed=a.seed),
        twin=twin_from_args(a),
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.camera_port is not None:
        os.environ.setdefault("MUJOCO_GL", "egl")  # read when MuJoCo is first imported: before the twin is built
    try:
        emulator = Emulator(config_from_args(args), pty=not args.no_pty, tcp_port=args.tcp, tcp_host=args.host)
        emulator.start()
        http = EmulatorHttpServer(emulator, args.host, args.http).start() if args.http is not None else None
        camera = None
        if getattr(emulator.core.plant, "frames", None) is not None:
            from roarm_lab.emulator.twin.mjpeg import MjpegServer

            camera = MjpegServer(emulator.core.plant.frames, args.host, args.camera_port).start()
    except RealArmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if not args.no_pty:
        print(f"serial (pty): {emulator.port}", flush=True)
    if args.tcp is not None:
        print(f"serial (tcp): {emulator.url}", flush=True)
    if http is not None:
        print(f"http: {http.address}", flush=True)
    if camera is not None:
        print(f"camera: {camera.url}", flush=True)
    twin = args.twin
    if twin:
        print(f"twin: truth {emulator.core.plant.truth.name}, cube at {emulator.core.plant.cube_start}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if http is not None:
            http.stop()
        if camera is not None:
            camera.stop()
        emulator.stop()
        if twin:  # the real-time factor the physics achieved (benchmarks read this line)
            print(f"twin stats: {json.dumps(emulator.core.plant.stats())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
