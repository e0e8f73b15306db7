"""Run the FW-250108 emulator: ``python -m roarm_lab.emulator [--tcp PORT] [--http PORT] [faults ...]``.

Prints the pseudo-terminal path (use it as ``--port`` of scripts/arm.py) and runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.driver.errors import RealArmError
from roarm_lab.emulator.config import DEFAULT_BAUD, ArmVariation, EmulatorConfig, Faults
from roarm_lab.emulator.emulated_arm import Emulator
from roarm_lab.emulator.http_server import EmulatorHttpServer


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
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        emulator = Emulator(config_from_args(args), pty=not args.no_pty, tcp_port=args.tcp, tcp_host=args.host)
        emulator.start()
        http = EmulatorHttpServer(emulator, args.host, args.http).start() if args.http is not None else None
    except RealArmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if not args.no_pty:
        print(f"serial (pty): {emulator.port}", flush=True)
    if args.tcp is not None:
        print(f"serial (tcp): {emulator.url}", flush=True)
    if http is not None:
        print(f"http: {http.address}", flush=True)
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
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
