"""System identification of the real RoArm-M3 Pro (docs/sysid.md): record an excitation, fit a robot profile.

    python scripts/sysid.py record --port /dev/ttyUSB0 --out data/sysid/arm1            # ~2 minutes
    python scripts/sysid.py record --port /dev/ttyUSB0 --out data/sysid/arm1 --duration_s 30
    python scripts/sysid.py fit data/sysid/arm1 --out profiles/arm1.yaml --report reports/arm1

record: checks the dataset folder (exit 2 before the port is opened), connects, refuses an arm that is moving (two
readings apart), outside HARDWARE_SAFE or with a dead servo bus (exit 2, nothing moved), then drives per-joint chirps
and steps around a few poses and whole-arm moves, every target through the safety layer, at 30 Hz, and appends the
run as one episode of a LeRobot v3 dataset (observation.state = measured joints, action = sent target, plus loads,
times and the T:102 spd/acc). Ctrl+C holds the arm (T:102 to the last measured pose, never T:0) and keeps what was
recorded (exit 0); a fault holds too (exit 1). Opening the USB port may reboot the arm, which re-homes: keep clear.

fit: replays the recorded commands through the MuJoCo arm and fits per joint stiffness, damping, armature,
friction and encoder offset plus one command delay with mujoco.sysid; the last 25 % of each episode is held out to
compare the nominal and the fitted model. Recordings with gaps, NaNs, another robot type or too little motion are
refused (exit 2). Writes the profile (never over an existing file without --force) and, with --report, mujoco.sysid's
results and report.html plus heldout_joints.png. Any dataset with the six joints works (play_real --record too).

    python scripts/sysid.py touch --port /dev/ttyUSB0 --profile profiles/arm1.yaml --out profiles/arm1_touch.yaml

touch: the encoder offsets of the shoulder, elbow and wrist, which joint data cannot identify, from touching the
table the arm stands on at N points (default 8, at least 5; keep the table in front of the arm clear): a slow
descent per point until the tool stops following, a light touch, back up. Writes a copy of the profile (or of the
nominal one without --profile) with the fitted offsets and their std; refuses a moving arm or an ill-conditioned
set of touches (exit 2). Ctrl+C holds the arm (exit 0, nothing written).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from roarm_lab.driver.session import FEEDBACK_MODES


def _add_link_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the arm is and how to talk to it: the arguments record and touch share."""
    link = parser.add_mutually_exclusive_group(required=True)
    link.add_argument("--port", help="serial device or pyserial URL (socket://host:port)")
    link.add_argument("--http", help="the arm's Wi-Fi address (request feedback, slow: use serial)")
    parser.add_argument("--feedback", choices=FEEDBACK_MODES, default=None,
                        help="stream (serial default) or request (a T:105 per tick; HTTP's only mode)")
    parser.add_argument("--settle", type=float, default=None, help="s of quiet output that means the arm is up")
    parser.add_argument("--boot-timeout", type=float, default=None, help="s to wait for the arm's boot")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sysid.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("record", help="drive the excitation and record it as a LeRobot dataset")
    _add_link_arguments(r)
    r.add_argument("--out", required=True, type=Path, help="LeRobot dataset folder (created, or appended to)")
    r.add_argument("--duration_s", "--duration-s", dest="duration_s", type=float, default=None,
                   help="length of the excitation, s (default ~120; short runs stay around one pose)")
    f = sub.add_parser("fit", help="fit a robot profile to recordings")
    f.add_argument("data", nargs="+", type=Path, help="LeRobot dataset folder(s)")
    f.add_argument("--out", required=True, type=Path, help="the robot profile YAML to write")
    f.add_argument("--report", type=Path, default=None, help="folder for mujoco.sysid's report and the plots")
    f.add_argument("--force", action="store_true", help="overwrite an existing profile")
    f.add_argument("--name", default=None, help="the profile's name (default: the output file's stem)")
    f.add_argument("--max-iters", type=int, default=None, help="optimizer iterations per stage (default 25)")
    t = sub.add_parser("touch", help="fit the shoulder/elbow/wrist encoder offsets by touching the table")
    _add_link_arguments(t)
    t.add_argument("--profile", type=Path, default=None, help="the robot profile to start from (default: nominal)")
    t.add_argument("--out", required=True, type=Path, help="the robot profile YAML to write")
    t.add_argument("--points", type=int, default=None, help="how many touch points (5-8, default 8)")
    t.add_argument("--force", action="store_true", help="overwrite an existing profile")
    t.add_argument("--name", default=None, help="the profile's name (default: the output file's stem)")
    return p


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 2


def _connect(args: argparse.Namespace):
    """An open ArmSession from the link arguments, or the exit code when there is none (bad settings: 2; the arm
    does not answer: 2; Ctrl+C while connecting: 0). Nothing is moved either way."""
    from roarm_lab.driver.errors import RealArmError
    from roarm_lab.driver.session import ArmLinkSettings, ArmSession

    link = {k: v for k, v in (("settle_s", args.settle), ("boot_timeout_s", args.boot_timeout)) if v is not None}
    try:
        settings = ArmLinkSettings(port=args.port, http=args.http, feedback=args.feedback, **link)
        settings.check()
    except ValueError as e:
        return _error(str(e))
    if args.port is not None:
        print("[sysid] opening the serial port; a USB connection may reboot the arm and make it re-home "
              "(hardware §1.2): keep clear", flush=True)
    arm = ArmSession(settings)
    try:
        arm.open()
    except RealArmError as e:
        return _error(f"cannot connect to the arm on {settings.where}: {e}")
    except KeyboardInterrupt:
        print("[sysid] interrupted while connecting; nothing was moved", file=sys.stderr)
        return 0
    return arm


def run_record(args: argparse.Namespace) -> int:
    from roarm_lab.driver.errors import RealArmError
    from roarm_lab.runner.stop_request import StopRequest
    from roarm_lab.sysid.config import DEFAULT_RECORD
    from roarm_lab.sysid.data import SYSID_REPO_ID, sysid_features
    from roarm_lab.sysid.recording import RecordRefused, record

    config = DEFAULT_RECORD
    if args.duration_s is not None:
        if not args.duration_s > 0:
            return _error(f"--duration_s must be > 0, got {args.duration_s}")
        config = dataclasses.replace(config, duration_s=args.duration_s)
    try:
        from roarm_lab.lerobot_io.episode_writer import EpisodeWriter

        writer = EpisodeWriter(args.out, SYSID_REPO_ID, int(config.rate_hz), sysid_features())
    except (ImportError, ValueError) as e:
        return _error(f"cannot record to {args.out}: {e}")
    arm = _connect(args)
    if isinstance(arm, int):
        return arm
    with arm, StopRequest() as stop:
        try:
            result = record(arm, writer, config, stop=stop)
        except RecordRefused as e:
            return _error(f"refusing to start: {e}; nothing was moved")
        except RealArmError as e:
            return _error(f"before the excitation: {type(e).__name__}: {e}; nothing was moved")
    print(f"[sysid] {result.outcome}: {result.frames} frames -> {args.out} episode {result.episode}"
          + (f"; safety clamps {result.clamps}" if result.clamps else "")
          + (f"; {result.late_ticks} late ticks" if result.late_ticks else ""), flush=True)
    return 0 if result.ok else 1


def run_fit(args: argparse.Namespace) -> int:
    from roarm_lab.description.robot_profile import RobotProfileError, save_profile
    from roarm_lab.sysid.config import DEFAULT_FIT
    from roarm_lab.sysid.data import RecordingError
    from roarm_lab.sysid.fit import fit

    if args.out.exists() and not args.force:
        return _error(f"{args.out} exists: pass --force to overwrite it")
    config = DEFAULT_FIT
    if args.max_iters is not None:
        if args.max_iters < 1:
            return _error(f"--max-iters must be >= 1, got {args.max_iters}")
        config = dataclasses.replace(config, max_iters=args.max_iters)
    try:
        profile, report = fit(args.data, config, name=args.name or args.out.stem, report_dir=args.report)
    except RecordingError as e:
        return _error(f"refusing the recording: {e}")
    try:
        save_profile(profile, args.out, force=args.force)
    except (RobotProfileError, OSError) as e:
        return _error(str(e))
    print(report.summary())
    print(f"[sysid] wrote {args.out} (hash {profile.hash})" + (f"; report in {args.report}" if args.report else ""))
    return 0


def run_touch(args: argparse.Namespace) -> int:
    from roarm_lab.description.robot_profile import RobotProfileError, load_profile, nominal_profile, save_profile
    from roarm_lab.driver.errors import RealArmError
    from roarm_lab.runner.stop_request import StopRequest
    from roarm_lab.sysid.touch import (
        DEFAULT_POINTS,
        DEFAULT_TOUCH,
        TouchFitError,
        TouchRefused,
        fit_contact_offsets,
        probe,
        profile_with_offsets,
    )

    if args.out.exists() and not args.force:
        return _error(f"{args.out} exists: pass --force to overwrite it")
    n = len(DEFAULT_POINTS) if args.points is None else args.points
    if not DEFAULT_TOUCH.min_touches <= n <= len(DEFAULT_POINTS):
        return _error(f"--points must be {DEFAULT_TOUCH.min_touches}-{len(DEFAULT_POINTS)}, got {n}")
    try:
        base = load_profile(args.profile) if args.profile is not None else nominal_profile()
    except (RobotProfileError, OSError) as e:
        return _error(f"cannot read the profile {args.profile}: {e}")
    arm = _connect(args)
    if isinstance(arm, int):
        return arm
    with arm, StopRequest() as stop:
        try:
            result = probe(arm, DEFAULT_POINTS[:n], stop=stop)
        except TouchRefused as e:
            return _error(f"refusing to start: {e}; nothing was moved")
        except RealArmError as e:
            return _error(f"before the touches: {type(e).__name__}: {e}; nothing was moved")
    if result.outcome != "completed":
        print(f"[sysid] touch {result.outcome} after {len(result.contacts)} contacts; nothing written", flush=True)
        return 0 if result.ok else 1
    try:
        fitted = fit_contact_offsets([c.q_measured for c in result.contacts], base)
    except TouchFitError as e:
        return _error(f"cannot fit the offsets: {e}")
    profile = profile_with_offsets(base, fitted, args.name or args.out.stem, {
        "start_profile": str(args.profile) if args.profile is not None else "nominal",
        "contacts": [c.as_dict() for c in result.contacts]})
    try:
        save_profile(profile, args.out, force=args.force)
    except (RobotProfileError, OSError) as e:
        return _error(str(e))
    print(fitted.summary())
    print(f"[sysid] wrote {args.out} (hash {profile.hash})", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return {"record": run_record, "fit": run_fit, "touch": run_touch}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
