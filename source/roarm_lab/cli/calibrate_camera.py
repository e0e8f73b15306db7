"""Calibrate the camera that finds the cube (docs/camera.md): first its lens, then where it stands in the arm's
frame; print the markers.

    python scripts/calibrate_camera.py print --out markers/                       # sheets to print at 100 %
    python scripts/calibrate_camera.py intrinsics --camera 0 --out camera.json    # wave the ChArUco board
    python scripts/calibrate_camera.py extrinsics --camera 0 --calib camera.json --method board
    python scripts/calibrate_camera.py extrinsics --camera 0 --calib camera.json --method hand-eye --port /dev/ttyUSB0

``intrinsics`` takes a frame every --interval seconds while the ChArUco board (5 x 7 squares of 30 mm, markers
13-29) is shown at varied angles and distances, until --frames frames show it, and writes the lens calibration
(the file then has no camera pose: the lens changed). ``extrinsics --method board``: the table board (3 x 2 markers
of 60 mm, ids 6-11) lies at --board-pose X Y YAW (default: its centre at (0.24, 0) m, rows along y); the camera's
pose is fitted to its corners over --frames still frames. ``extrinsics --method hand-eye``: the gripper marker (id
12, 30 mm, on the side of the hand) is seen in --poses arm poses; the arm moves there slowly through the joint and
workspace checks of the runner's safety layer, and returns to its start pose at the end. Either writes the camera's
pose into --calib (or --out). Exit codes: 0 written, 2 bad input or the calibration failed (nothing written),
3 the arm refused.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from roarm_lab.perception import markers
from roarm_lab.perception.calibration import EXTRINSIC_METHODS, CameraCalibration, pose_error
from roarm_lab.perception.errors import PerceptionError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    pr = sub.add_parser("print", help="write the marker sheets (PNG, with their size in the name)")
    pr.add_argument("--out", type=Path, required=True)
    pr.add_argument("--dpi", type=int, default=300)
    i = sub.add_parser("intrinsics", help="the lens, from the ChArUco board")
    i.add_argument("--camera", required=True, metavar="SRC", help="device index, video file or URL")
    i.add_argument("--out", type=Path, required=True, help="the calibration file to write")
    i.add_argument("--frames", type=int, default=20, help="frames showing the board to use (default 20)")
    i.add_argument("--interval", type=float, default=1.0, help="seconds between frames taken (default 1)")
    i.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds (default 120)")
    e = sub.add_parser("extrinsics", help="the camera's pose in the arm's frame")
    e.add_argument("--camera", required=True, metavar="SRC")
    e.add_argument("--calib", type=Path, required=True, help="the calibration with the camera's intrinsics")
    e.add_argument("--out", type=Path, help="where to write (default: --calib)")
    e.add_argument("--method", choices=EXTRINSIC_METHODS, default="board")
    e.add_argument("--board-pose", type=float, nargs=3, metavar=("X", "Y", "YAW"), default=markers.TABLE_BOARD_POSE,
                   help="board: where the table board's centre lies, m, m, rad (default %(default)s)")
    e.add_argument("--frames", type=int, default=10, help="board: still frames to fit (default 10)")
    e.add_argument("--truth", type=Path, help=argparse.SUPPRESS)  # the twin's camera truth: print the error
    link = e.add_argument_group("hand-eye: the arm")
    link.add_argument("--port", help="serial device or pyserial URL")
    link.add_argument("--http", metavar="HOST")
    link.add_argument("--poses", type=int, default=16, help="arm poses to try (default 16)")
    link.add_argument("--speed", type=float, default=0.6, help="joint speed between poses, rad/s (default 0.6)")
    return p


def _frames(camera, count: int, interval_s: float, timeout_s: float, keep=None) -> tuple[list[np.ndarray], int]:
    """``count`` frames at least ``interval_s`` apart (those ``keep`` accepts), within ``timeout_s`` or until the
    source ends; and how many frames were looked at."""
    out, seq, seen, deadline = [], 0, 0, time.monotonic() + timeout_s
    while len(out) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            frame = camera.wait_frame(seq, min(left, 10.0))
        except PerceptionError:
            if camera.ended or time.monotonic() >= deadline:
                break  # a file played to its end, or the time is up: calibrate from what there is
            raise
        seq, seen = frame.seq, seen + 1
        if keep is None or keep(frame.image):
            out.append(frame.image)
            time.sleep(interval_s)
    return out, seen


def intrinsics(args) -> int:
    import cv2

    from roarm_lab.perception.calibration import MIN_CHARUCO_CORNERS, calibrate_intrinsics
    from roarm_lab.perception.source import FrameSource

    detector = cv2.aruco.CharucoDetector(markers.charuco_board())

    def shows_board(image) -> bool:
        _, ids, _, _ = detector.detectBoard(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        return ids is not None and len(ids) >= MIN_CHARUCO_CORNERS

    with FrameSource(args.camera) as camera:
        print(f"[roarm-lab] show the ChArUco board at varied angles and distances; taking {args.frames} frames, "
              f"one every {args.interval:g} s", flush=True)
        frames, seen = _frames(camera, args.frames, args.interval, args.timeout, shows_board)
    if not frames:
        raise PerceptionError(f"the ChArUco board ({markers.CHARUCO_SQUARES[0]}x{markers.CHARUCO_SQUARES[1]} "
                              f"squares, markers {markers.CHARUCO_FIRST_ID}+) was not found in any of {seen} frames: "
                              "show the whole board to the camera, at several angles and distances")
    result = calibrate_intrinsics(frames, min_frames=min(args.frames, 8))
    CameraCalibration(result).save(args.out)
    k = result.matrix
    print(f"[roarm-lab] intrinsics from {result.frames} frames: {result.width}x{result.height}, fx {k[0, 0]:.1f} "
          f"fy {k[1, 1]:.1f} cx {k[0, 2]:.1f} cy {k[1, 2]:.1f} px, reprojection RMS {result.rms_px:.3f} px -> "
          f"{args.out}")
    return 0


def extrinsics(args) -> int:
    from roarm_lab.perception.source import FrameSource

    base = CameraCalibration.load(args.calib)
    with FrameSource(args.camera) as camera:
        first = camera.wait_frame(0)
        base.check_size(first.image.shape[1], first.image.shape[0])
        if args.method == "board":
            from roarm_lab.perception.calibration import board_extrinsics

            frames, _ = _frames(camera, args.frames, 0.1, 30.0)
            result = board_extrinsics(frames, base.intrinsics, tuple(args.board_pose))
        else:
            result = _hand_eye(args, camera, base)
    result.save(args.out or args.calib)
    p = result.world_from_camera[:3, 3]
    print(f"[roarm-lab] camera pose by {result.method}: at {np.round(p, 4).tolist()} m, corner reprojection RMS "
          f"{result.extrinsics_rms_px:.3f} px -> {args.out or args.calib}")
    if args.truth is not None:
        truth = np.asarray(json.loads(args.truth.read_text())["world_from_camera"])
        dt, dr = pose_error(result.world_from_camera, truth)
        print(f"[roarm-lab] against the twin's truth: {dt * 1000:.2f} mm, {dr:.3f} deg")
    return 0


def _hand_eye(args, camera, base: CameraCalibration) -> CameraCalibration:
    from roarm_lab.driver.errors import RealArmError
    from roarm_lab.driver.motion import move_and_wait
    from roarm_lab.driver.session import ArmLinkSettings, ArmSession
    from roarm_lab.perception.calibration import HandEyeSample, hand_eye_extrinsics, hand_eye_poses

    if (args.port is None) == (args.http is None):
        raise PerceptionError("hand-eye moves the arm: give --port or --http")
    settings = ArmLinkSettings(port=args.port, http=args.http)
    samples = []
    with ArmSession(settings) as arm:
        start = np.asarray(arm.fresh().feedback.q_model)
        poses = hand_eye_poses(args.poses, gripper=float(start[5]))
        try:
            for k, q in enumerate(poses):
                move_and_wait(arm, q, speed_rad_s=args.speed)
                time.sleep(0.3)  # let the picture settle too
                newest = camera.newest()
                frame = camera.wait_frame(newest.seq if newest else 0, 5.0)
                fb = arm.fresh().feedback
                samples.append(HandEyeSample(np.asarray(fb.q_model), frame.image))
                print(f"[roarm-lab] pose {k + 1}/{len(poses)}", flush=True)
        except RealArmError as e:
            raise PerceptionError(f"the arm stopped the hand-eye poses: {e}") from e
        finally:
            try:
                move_and_wait(arm, start, speed_rad_s=args.speed)
            except RealArmError as e:
                print(f"warning: could not return to the start pose: {e}", file=sys.stderr)
    return hand_eye_extrinsics(samples, base.intrinsics)


def print_sheets(args) -> int:
    import cv2

    args.out.mkdir(parents=True, exist_ok=True)
    for sheet in markers.print_sheets(args.dpi):
        name = f"{sheet.name}_{sheet.width_m * 1000:.0f}x{sheet.height_m * 1000:.0f}mm_{args.dpi}dpi.png"
        cv2.imwrite(str(args.out / name), sheet.image)
        print(f"[roarm-lab] {args.out / name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.what == "print":
            return print_sheets(args)
        if args.what == "intrinsics":
            return intrinsics(args)
        return extrinsics(args)
    except PerceptionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
