#!/usr/bin/env python3
"""Closed-loop rate of the real-arm runner against the firmware emulator on a pseudo-terminal with wire pacing:
feedback -> observation -> ONNX -> safety layer -> T:102, with no rate limit, in both feedback modes.

    python benchmarks/real_loop_rate.py [--policy X.onnx] [--seconds 5] [--warmup 0.5] [--baud 115200]
                                        [--mode stream|request|both]

* ``request``: a T:105 goes out with each T:102 (just before it, in one write, as play_real.py --feedback request
  sends it) and the next step uses its T:1051 reply.
* ``stream`` (play_real.py's default): the InfoPrint=2 stream stays on; each step waits for a frame no step has
  used, then writes the T:102 without waiting.

As in play_real.py, the arm first moves to the policy's start pose. The figures cover ``--seconds`` after a
``--warmup`` (reported on its own line, not counted): the first inferences, and the stream's frame rate changing
as the arm leaves the start pose: the T:1051 lines are ~165 bytes while most joints read exactly 0.0 (~70
frames/s) and ~225 bytes in motion (~50 frames/s), and free-running steps follow the frames. The emulator runs in
its own process, as the arm is its own device (in-process it would share the GIL with the loop). Without --policy a
randomly initialised Reach actor is exported (same network, same cost). Rates count only steps
that used a reading no earlier step had used. Jitter is |step interval - mean step interval|. The stream's own
timing is shown too: the arrival jitter of 100 frames read right after the loop, and the wire limit (115200 baud
/ 10 bits / line length). Last line, for the stream mode (the request mode when only it ran):
``rate_hz=<x> p99_jitter_ms=<y>`` (goal >= 50 Hz and <= 3 ms).
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from roarm_lab.deploy import PolicyPackage
from roarm_lab.deploy.export import export_policy_package
from roarm_lab.driver import REQUEST, STREAM, ArmLinkSettings, ArmSession, SafetyLayer
from roarm_lab.driver.transports.serial_stream import StreamingSerialTransport
from roarm_lab.runner.control_loop import ControlLoop, LoopConfig, LoopStats
from roarm_lab.runner.feedback_tracker import FeedbackTracker
from roarm_lab.runner.gc_freeze import frozen_heap
from roarm_lab.runner.policy import OnnxPolicy
from roarm_lab.runner.run import DEFAULT_REACH_TARGET, DEFAULT_START_SPEED_RAD_S
from roarm_lab.runner.start_pose import move_to_start
from roarm_lab.runner.stop_request import StopRequest
from roarm_lab.runner.summary import loop_timing
from roarm_lab.runner.watchdog import FeedbackWatchdog

TASK = "RoArm-Reach"
CONNECT = dict(settle_s=0.1, boot_timeout_s=10.0)
FRAME_TIMEOUT_S = 0.2


def reach_package(directory: Path) -> PolicyPackage:
    sys.path.insert(0, str(Path(__file__).parent))
    from onnx_latency import random_actor

    return PolicyPackage.load(export_policy_package(random_actor(TASK), TASK, directory / "policy.onnx"))


def start_emulator(baud: int) -> tuple[subprocess.Popen, str]:
    """``python -m roarm_lab.emulator`` in its own process; returns it and its pseudo-terminal path."""
    proc = subprocess.Popen([sys.executable, "-m", "roarm_lab.emulator", "--boot-s", "0.1", "--baud", str(baud)],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("serial (pty): "):
        proc.terminate()
        raise RuntimeError(f"the emulator did not start: {line!r}")
    return proc, line.split(": ", 1)[1].strip()


def stream_timing(arm: StreamingSerialTransport, frames: int = 100) -> dict[str, float]:
    """How the frames themselves arrive, read with no loop running: rate, p99 interval jitter, line length."""
    arrived, seq = [], 0
    bytes_before, lines_before = arm.reader.stats.bytes, arm.reader.stats.lines
    for _ in range(frames):
        frame = arm.next_feedback(seq, FRAME_TIMEOUT_S)
        arrived.append(frame.arrived)
        seq = frame.seq
    intervals = np.diff(arrived)
    line_bytes = (arm.reader.stats.bytes - bytes_before) / max(arm.reader.stats.lines - lines_before, 1)
    return {"rate_hz": len(intervals) / (arrived[-1] - arrived[0]), "line_bytes": line_bytes,
            "p99_jitter_ms": float(np.percentile(np.abs(intervals - intervals.mean()), 99) * 1000)}


def since(stats: LoopStats, t0: float) -> LoopStats:
    """The steps that started at ``t0`` s or later."""
    k = next((i for i, t in enumerate(stats.t) if t >= t0), len(stats.t))
    lists = {f.name: getattr(stats, f.name)[k:] for f in dataclasses.fields(stats) if f.name != "skipped_ticks"}
    return LoopStats(**lists, skipped_ticks=stats.skipped_ticks)


def run_mode(mode: str, port: str, baud: int, policy: PolicyPackage, seconds: float, warmup_s: float) -> dict:
    """One free-running loop in ``mode`` from the policy's start pose; the timing after the warm-up, the warm-up's
    longest step interval, the feedback timeouts and (stream) the frame timing."""
    extra = {}
    arm = ArmSession(ArmLinkSettings(port=port, baud=baud, feedback=mode, **CONNECT))
    link = FeedbackTracker(arm, FeedbackWatchdog(1.0), frame_timeout_s=FRAME_TIMEOUT_S)
    safety = SafetyLayer()
    with arm, frozen_heap():  # as play_real.py runs it: no full garbage-collection pauses in the loop
        link.refresh()
        move_to_start(link, policy.action_mapping.default_pose, safety, speed_rad_s=DEFAULT_START_SPEED_RAD_S,
                      rate_hz=policy.control_hz, stop=StopRequest(), echo=lambda _: None)
        unused_before = link.frames_unused
        loop = ControlLoop(link, OnnxPolicy(policy), DEFAULT_REACH_TARGET, safety,
                           LoopConfig(rate_hz=None, duration_s=warmup_s + seconds))
        stats = loop.run()
        timing = loop_timing(since(stats, warmup_s), rate_hz=None)
        warm = np.diff([t for t in stats.t if t < warmup_s] + [t for t in stats.t if t >= warmup_s][:1]) * 1000
        extra["warmup"] = {"seconds": warmup_s, "intervals": len(warm),
                           "range_ms": (float(warm.min()), float(warm.max())) if len(warm) else None}
        extra["frames_unused"] = link.frames_unused - unused_before
        if mode == STREAM:  # afterwards: the arm is away from home, so the lines are as long as in the loop
            extra["stream"] = stream_timing(arm.transport)
    return {"timing": timing, "timeouts": link.feedback_timeouts, **extra}


def _ms(p: dict | None) -> str:
    return "n/a" if p is None else f"p50={p['p50']:.2f} p99={p['p99']:.2f} max={p['max']:.2f}"


def report(mode: str, result: dict, baud: int) -> None:
    timing = result["timing"]
    how = "T:105 then T:102" if mode == REQUEST else "stream frames"
    print(f"[{mode}] baud={baud} feedback='{how}' steps={timing['steps']} fresh_steps={timing['fresh_steps']} "
          f"seconds={timing['elapsed_s']:.2f} feedback_timeouts={result['timeouts']} "
          f"frames_unused={result['frames_unused']}")
    print(f"[{mode}] rate_hz={timing['fresh_rate_hz']:.1f} (all steps {timing['rate_hz']:.1f}) | jitter_ms "
          f"{_ms(timing['jitter_ms'])} | round_trip_ms {_ms(timing['round_trip_ms'])} | feedback_age_ms "
          f"{_ms(timing['feedback_age_ms'])}")
    w = result["warmup"]
    if w["intervals"]:
        print(f"[{mode}] warm-up (not counted): {w['seconds']:g} s, {w['intervals']} step intervals of "
              f"{w['range_ms'][0]:.2f}-{w['range_ms'][1]:.2f} ms")
    if "stream" in result:
        s = result["stream"]
        wire_hz = baud / 10 / s["line_bytes"] if baud else float("inf")
        print(f"[{mode}] the stream alone: {s['rate_hz']:.1f} frames/s, arrival p99_jitter_ms={s['p99_jitter_ms']:.2f}"
              f", lines ~{s['line_bytes']:.0f} bytes -> wire limit {wire_hz:.1f} frames/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", type=Path, help="a Reach policy package (default: a random actor)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured, per mode")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds run before the measured ones, per mode")
    parser.add_argument("--baud", type=int, default=115200, help="emulated wire pacing (0 = unpaced)")
    parser.add_argument("--mode", choices=(STREAM, REQUEST, "both"), default="both")
    args = parser.parse_args()
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory() as tmp:
        policy = PolicyPackage.load(args.policy) if args.policy else reach_package(Path(tmp))
    modes = [REQUEST, STREAM] if args.mode == "both" else [args.mode]
    proc, port = start_emulator(args.baud)
    try:
        results = {mode: run_mode(mode, port, args.baud or 115200, policy, args.seconds, args.warmup)
                   for mode in modes}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    for mode, result in results.items():
        report(mode, result, args.baud)
    best = results[modes[-1]]["timing"]
    print(f"rate_hz={best['fresh_rate_hz']:.1f} p99_jitter_ms={best['jitter_ms']['p99']:.2f}")


if __name__ == "__main__":
    main()
