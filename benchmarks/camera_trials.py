#!/usr/bin/env python3
"""Issue 17's end-to-end check: Lift and PickPlace policies on the physics twin through the serial port and the
camera URL only, the cube found by the calibrated camera, success judged from the twin's ground truth.

    MUJOCO_GL=egl python benchmarks/camera_trials.py --lift lift.onnx --pickplace pickplace.onnx [--trials 20]
           [--workdir bench/camera_trials] [--camera-seed N] [--truth-seed N]

First the camera is calibrated as a user would (``calibrate_camera.py intrinsics`` with the twin holding up its
ChArUco board, then ``extrinsics --method board`` with the table board at its spot). Then per trial a twin starts in
its own process with the cube at random in the tasks' placement area (yaw +-45 deg) and the physics at the given
truth; ``play_real.py --camera URL --camera-calib FILE`` runs the policy for 1.5x the task's episode on the twin's
TCP serial port; the target is the task's (Lift: 10 cm above the cube; PickPlace: a table spot >= 8 cm away).
Afterwards this script (never the runner) reads the twin's ground-truth log: Lift succeeds when the cube's bottom is
>= 5 cm up with its centre within 3 cm of the grasp point for 1 s; PickPlace when it rests within 2 cm of the target
with the jaws open (>= 0.5 rad) and the grasp point >= 5 cm away for 0.2 s (the tasks' own conditions). Failures:
``not seen`` (the run refused or stopped on a lost cube), ``grasp missed`` (the cube never rose 2 cm), ``dropped``
(it rose, then fell), ``misplaced`` (PickPlace: down, but not at the target), ``other``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from twin_processes import stop_twin

from roarm_lab import kinematics
from roarm_lab.tasks import scene as task_scene
from roarm_lab.tasks.lift import HELD_RADIUS_M, SUCCESS_HEIGHT_M
from roarm_lab.tasks.pick_place import GRIPPER_OPEN_RAD, PLACE_RADIUS_M, TCP_AWAY_M

EPISODE_S = {"RoArm-Lift": 5.0, "RoArm-PickPlace": 8.0}
HOLD_S = {"RoArm-Lift": 1.0, "RoArm-PickPlace": 0.2}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_twin(out: Path, *args: str) -> tuple[subprocess.Popen, str, str]:
    tcp, cam = free_port(), free_port()
    f = out.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "roarm_lab.emulator", "--twin", "--no-pty", "--tcp", str(tcp),
                             "--camera-port", str(cam), *args], stdout=f, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if "camera: http" in out.read_text():
            return proc, f"socket://127.0.0.1:{tcp}", f"http://127.0.0.1:{cam}/stream.mjpg"
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the twin did not start; see {out}")


def run(cmd: list[str], log: Path) -> int:
    with log.open("a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=900).returncode


def calibrate(work: Path, twin_args: list[str]) -> Path:
    """The lens with the ChArUco board held up, then the pose with the table board laid down (two sessions)."""
    calib, log = work / "camera.json", work / "calibration.log"
    cli = [sys.executable, "-m", "roarm_lab.cli.calibrate_camera"]
    away = ("--cube", "-0.3", "0.4", "0")  # the cube out of the way, as a user would
    proc, _, url = start_twin(work / "twin_intrinsics.out", "--charuco", *away, *twin_args)
    try:
        if run([*cli, "intrinsics", "--camera", url, "--out", str(calib), "--frames", "15"], log):
            raise SystemExit(f"intrinsics failed: see {log}")
    finally:
        stop_twin(proc)
    proc, _, url = start_twin(work / "twin_extrinsics.out", "--table-board", *away, "--write-camera",
                              str(work / "camera_truth.json"), *twin_args)
    try:
        if run([*cli, "extrinsics", "--camera", url, "--calib", str(calib), "--truth",
                str(work / "camera_truth.json")], log):
            raise SystemExit(f"extrinsics failed: see {log}")
    finally:
        stop_twin(proc)
    print("".join("  " + line + "\n" for line in log.read_text().splitlines() if line.startswith("[roarm-lab]")),
          end="", flush=True)
    return calib


def draw(task: str, rng: random.Random) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    def spot():
        r, a = rng.uniform(*task_scene.OBJECT_RADIUS_RANGE), rng.uniform(*task_scene.OBJECT_AZIMUTH_RANGE)
        return r * math.cos(a), r * math.sin(a)

    x, y = spot()
    cube = (x, y, rng.uniform(-math.pi / 4, math.pi / 4))
    if task == "RoArm-Lift":
        return cube, (x, y, task_scene.CUBE_REST_Z + 0.10)
    while True:
        tx, ty = spot()
        if math.hypot(tx - x, ty - y) >= 0.08:
            return cube, (tx, ty, task_scene.CUBE_REST_Z)


def judge(task: str, truth_log: Path, target) -> tuple[bool, str, dict]:
    rows = [json.loads(line) for line in truth_log.read_text().splitlines() if line.strip()]
    t = np.array([r["t"] for r in rows])
    cube = np.array([r["cube_pos"] for r in rows])
    q = np.array([r["q"] for r in rows])
    grasp = np.asarray(kinematics.grasp_position(q))
    height = cube[:, 2] - task_scene.CUBE_REST_Z
    near = np.linalg.norm(cube - grasp, axis=1)
    if task == "RoArm-Lift":
        ok = (height >= SUCCESS_HEIGHT_M) & (near <= HELD_RADIUS_M)
    else:
        at = (np.linalg.norm(cube[:, :2] - np.asarray(target[:2]), axis=1) <= PLACE_RADIUS_M) & (height < 0.005)
        ok = at & (q[:, 5] >= GRIPPER_OPEN_RAD) & (near >= TCP_AWAY_M)
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.02
    need = int(round(HOLD_S[task] / dt))
    run_len, success = 0, False
    for v in ok:
        run_len = run_len + 1 if v else 0
        success |= run_len >= need
    facts = {"max_height_m": float(height.max()), "final_cube": cube[-1].tolist(),
             "final_to_target_m": float(np.linalg.norm(cube[-1, :2] - np.asarray(target[:2])))}
    if success:
        return True, "success", facts
    if height.max() < 0.02:
        return False, "grasp missed", facts
    if task == "RoArm-Lift" or height[-1] > 0.005:
        return False, "dropped", facts
    return False, "misplaced", facts


def trials(task: str, package: Path, calib: Path, n: int, work: Path, seed: int, twin_args: list[str]) -> dict:
    rng = random.Random(seed)
    results = []
    for i in range(n):
        cube, target = draw(task, rng)
        d = work / task / f"trial_{i:02d}"
        d.mkdir(parents=True, exist_ok=True)
        truth_log = d / "truth.jsonl"
        proc, port, url = start_twin(d / "twin.out", "--cube", *map(str, cube), "--truth-log", str(truth_log),
                                     *twin_args)
        try:
            rc = run([sys.executable, "-m", "roarm_lab.cli.play_real", "--policy", str(package), "--port", port,
                      "--camera", url, "--camera-calib", str(calib), "--target", *map(str, target), "--duration",
                      str(1.5 * EPISODE_S[task]), "--log", str(d / "run"), "--no-plot"], d / "play_real.log")
            time.sleep(0.5)  # the arm settles where the run left it
        finally:
            stop_twin(proc)
        success, outcome, facts = judge(task, truth_log, target)
        text = (d / "play_real.log").read_text()
        if not success and ("does not see the cube" in text or "CubeLostError" in text):
            outcome = "not seen"
        summary = json.loads((d / "run" / "summary.json").read_text()) if (d / "run" / "summary.json").exists() \
            else {}
        results.append({"trial": i, "cube": cube, "target": target, "exit": rc, "success": success,
                        "outcome": outcome, **facts, "cube_camera": summary.get("cube")})
        print(f"  {task} trial {i + 1}/{n}: {outcome} (exit {rc}, cube up {facts['max_height_m'] * 100:.1f} cm, "
              f"ends {facts['final_to_target_m'] * 100:.1f} cm from the target)", flush=True)
    wins = sum(r["success"] for r in results)
    by = {}
    for r in results:
        by[r["outcome"]] = by.get(r["outcome"], 0) + 1
    print(f"{task}: {wins}/{n} = {100 * wins / n:.0f} % ({', '.join(f'{k} {v}' for k, v in sorted(by.items()))})",
          flush=True)
    return {"success_rate": wins / n, "outcomes": by, "trials": results}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lift", type=Path)
    p.add_argument("--pickplace", type=Path)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", type=Path, default=Path("bench/camera_trials"))
    p.add_argument("--camera-seed", type=int)
    p.add_argument("--truth-seed", type=int)
    a = p.parse_args()
    os.environ.setdefault("MUJOCO_GL", "egl")
    twin_args = [] if a.camera_seed is None else ["--camera-seed", str(a.camera_seed)]
    twin_args += [] if a.truth_seed is None else ["--truth-seed", str(a.truth_seed)]
    a.workdir.mkdir(parents=True, exist_ok=True)
    print("calibrating the twin's camera", flush=True)
    calib = calibrate(a.workdir, twin_args)
    out = {}
    for task, package in (("RoArm-Lift", a.lift), ("RoArm-PickPlace", a.pickplace)):
        if package is not None:
            out[task] = trials(task, package.resolve(), calib, a.trials, a.workdir, a.seed, twin_args)
    (a.workdir / "results.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
