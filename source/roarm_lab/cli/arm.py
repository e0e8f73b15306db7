"""Everyday commands for the real RoArm-M3 (or the emulator): status, home, torque, joint moves, gripper.

    bash scripts/env.sh python scripts/arm.py --port /dev/ttyUSB0 status
    bash scripts/env.sh python scripts/arm.py --port socket://127.0.0.1:5555 move --deg --joints 20 0 90 0 0
    bash scripts/env.sh python scripts/arm.py --http 192.168.4.1 gripper 1.2

Joint values are in the model frame (JOINT_NAMES order: base shoulder elbow wrist roll [gripper]; gripper 0 =
closed, 1.5 = open). Targets outside HARDWARE_SAFE are refused (or clamped with --clamp). Opening the USB port
can reboot the arm, which then re-homes and moves (hardware §1.2): keep clear of it.
"""

from __future__ import annotations

import argparse
import math
import sys

from roarm_lab.description.firmware_units import RAD_PER_STEP, rad_per_s2_to_acc, rad_per_s_to_spd
from roarm_lab.description.kinematic_chain import HOME_POSE, JOINT_NAMES
from roarm_lab.description.limits import HARDWARE_SAFE
from roarm_lab.driver import (
    FEEDBACK_MODES,
    REQUEST,
    ArmLinkSettings,
    ArmSession,
    Feedback,
    MoveGripper,
    MoveJoints,
    RealArmError,
    SetTorque,
)
from roarm_lab.driver.errors import JointLimitError
from roarm_lab.driver.motion import move_and_wait, move_duration, move_joints_command, wait_until_reached
from roarm_lab.driver.safety import clamp_to_limits
from roarm_lab.driver.session import DEFAULT_ACCEL_RAD_S2, DEFAULT_SPEED_RAD_S
from roarm_lab.driver.transports.serial_port import DEFAULT_BAUD, DEFAULT_BOOT_TIMEOUT_S


def _no_minus_zero(x: float) -> float:
    return 0.0 if abs(x) < 5e-5 else x  # the printed value would be -0.0000


def format_status(fb: Feedback) -> str:
    rows = [f"{'joint':<9}{'model rad':>11}{'model deg':>11}{'fw rad':>10}{'step':>6}{'load':>7}"]
    for name, q, fw, step, load in zip(JOINT_NAMES, fb.q_model, fb.firmware_rad, fb.steps, fb.loads, strict=True):
        q, fw = _no_minus_zero(q), _no_minus_zero(fw)
        rows.append(f"{name:<9}{q:>+11.4f}{math.degrees(q):>+11.1f}{fw:>+10.4f}{step:>6d}{load:>+7.0f}")
    x, y, z = fb.tcp_mm
    rows.append(f"TCP (firmware frame) x {x:.1f}  y {y:.1f}  z {z:.1f} mm   tit {fb.tool_pitch:+.4f} rad")
    rows.append("loads: permille of servo output; shoulder = load(12) - stale load(13) (hardware §2.7)")
    if fb.is_dead_bus:
        rows.append("WARNING: every joint reads servo step 0 - the servo bus is not answering (hardware §2.7)")
    half_step = RAD_PER_STEP / 2  # a reading at a limit may be rounded past it
    violations = [n for n, q, lo, hi in zip(JOINT_NAMES, fb.q_model, HARDWARE_SAFE.lower, HARDWARE_SAFE.upper,
                                               strict=True) if not lo - half_step <= q <= hi + half_step]
    if violations and not fb.is_dead_bus:
        rows.append(f"note: outside HARDWARE_SAFE now: {', '.join(violations)}")
    return "\n".join(rows)


def target_pose(args: argparse.Namespace, current: tuple[float, ...]) -> tuple[float, ...]:
    values = [math.radians(v) if args.deg else v for v in args.joints]
    if len(values) == len(JOINT_NAMES) - 1:
        lo, hi = HARDWARE_SAFE.of("gripper")
        values.append(min(max(current[-1], lo), hi))  # gripper stays (a closed one may read a hair below 0)
    if len(values) != len(JOINT_NAMES):
        raise SystemExit(f"error: --joints takes {len(JOINT_NAMES) - 1} or {len(JOINT_NAMES)} values "
                         f"({' '.join(JOINT_NAMES)})")
    if args.clamp:
        clamped, names = clamp_to_limits(values)
        if names:
            print(f"clamped to HARDWARE_SAFE: {', '.join(names)}", file=sys.stderr)
        return clamped
    return tuple(values)


def move_gripper(arm: ArmSession, opening: float, speed: float, accel: float) -> Feedback:
    """T:106 alone, so the arm joints are not re-commanded."""
    lo, hi = HARDWARE_SAFE.of("gripper")
    if not lo <= opening <= hi:
        raise JointLimitError(f"gripper opening {opening:+.3f} rad outside hardware_safe [{lo}, {hi}] rad")
    current = arm.fresh().feedback.q_model
    arm.send(MoveGripper(opening, spd=rad_per_s_to_spd(speed), acc=rad_per_s2_to_acc(accel)))
    goal = (*current[:-1], opening)
    return wait_until_reached(arm, goal, 1.5 * move_duration(current, goal, speed, accel) + 2.0)


def run_command(arm: ArmSession, args: argparse.Namespace) -> None:
    if args.command == "status":
        print(format_status(arm.fresh().feedback))
    elif args.command == "home":
        # A T:102 to the firmware's init pose, not T:100: T:100 rewrites a servo offset in EEPROM (hardware §7 item 7).
        print(format_status(move_and_wait(arm, HOME_POSE, args.speed, args.accel)))
    elif args.command == "move":
        goal = target_pose(args, arm.fresh().feedback.q_model)
        if args.no_wait:
            arm.send(move_joints_command(goal, args.speed, args.accel))
        else:
            print(format_status(move_and_wait(arm, goal, args.speed, args.accel)))
    elif args.command == "gripper":
        print(format_status(move_gripper(arm, args.opening, args.speed, args.accel)))
    elif args.command == "torque":
        if args.state == "off":
            print("torque off: the arm falls if nothing holds it (hardware §2.1)", file=sys.stderr)
            arm.send(SetTorque(False))
        else:
            # The facts do not say whether a servo returns to an old goal when torque comes back: make the current
            # pose the goal before and after switching it on.
            hold = MoveJoints(arm.fresh().feedback.q_model, spd=200, acc=10)
            arm.send(hold)
            arm.send(SetTorque(True))
            arm.send(hold)
        print(format_status(arm.fresh().feedback))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    link = p.add_mutually_exclusive_group(required=True)
    link.add_argument("--port", help="serial device or pyserial URL (socket://host:port, rfc2217://...)")
    link.add_argument("--http", metavar="HOST", help="the arm's IP or host[:port] (GET /js?json=, hardware §1.4)")
    p.add_argument("--baud", type=int, default=DEFAULT_BAUD)
    p.add_argument("--boot-timeout", type=float, default=DEFAULT_BOOT_TIMEOUT_S, help="seconds to wait for a boot")
    p.add_argument("--settle", type=float, default=0.5, help="seconds without boot output before the arm counts as up")
    p.add_argument("--feedback", choices=FEEDBACK_MODES, default=REQUEST,
                   help="a T:105 request per reading (default; the arm's stream is switched off) or the T:1051 stream")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="print the feedback in model and firmware units")

    def motion_options(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--speed", type=float, default=DEFAULT_SPEED_RAD_S, help="joint speed, rad/s")
        sp.add_argument("--accel", type=float, default=DEFAULT_ACCEL_RAD_S2, help="joint acceleration, rad/s^2")

    motion_options(sub.add_parser("home", help="move to the firmware init pose (0, 0, pi/2, 0, 0, closed)"))
    mv = sub.add_parser("move", help="move the joints (T:102)")
    mv.add_argument("--joints", type=float, nargs="+", required=True, metavar="V",
                    help="base shoulder elbow wrist roll [gripper], model frame")
    mv.add_argument("--deg", action="store_true", help="values are degrees")
    mv.add_argument("--clamp", action="store_true", help="clamp into HARDWARE_SAFE instead of refusing")
    mv.add_argument("--no-wait", action="store_true", help="send and return")
    motion_options(mv)
    gr = sub.add_parser("gripper", help="set the gripper opening (rad, 0 = closed, 1.5 = open)")
    gr.add_argument("opening", type=float)
    motion_options(gr)
    tq = sub.add_parser("torque", help="switch servo torque on or off (T:210)")
    tq.add_argument("state", choices=("on", "off"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.port:
            print("opening the serial port; a USB connection may reboot the arm and make it re-home (hardware §1.2)",
                  file=sys.stderr)
        settings = ArmLinkSettings(port=args.port, http=args.http, baud=args.baud, boot_timeout_s=args.boot_timeout,
                                   settle_s=args.settle, feedback=args.feedback if args.port else REQUEST)
        with ArmSession(settings) as arm:
            run_command(arm, args)
    except (RealArmError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0



if __name__ == "__main__":
    sys.exit(main())
