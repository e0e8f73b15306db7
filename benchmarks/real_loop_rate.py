#!/usr/bin/env python3
"""Closed-loop rate of the real-arm runner against the firmware emulator on a pseudo-terminal with wire pacing:
feedback -> observation -> ONNX -> safety layer -> T:102 (+ T:105 in the same write), with no rate limit.

    python benchmarks/real_loop_rate.py [--policy X.onnx] [--seconds 5] [--baud 115200] [--command-first]

Without --policy a randomly initialised Reach actor is exported (same network, same cost). The feedback request
goes out before the T:102 as play_real.py sends it; --command-first sends the T:102 first (ArmTransport.exchange's
default order). Jitter is |step interval - mean step interval|. Last line: ``rate_hz=<x> p99_jitter_ms=<y>``
(goal >= 50 Hz and <= 3 ms).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from roarm_lab.deploy import PolicyPackage
from roarm_lab.deploy.export import export_policy_package
from roarm_lab.real import SerialTransport
from roarm_lab.real.emulator import Emulator, EmulatorConfig
from roarm_lab.real.runner.arm_link import ArmLink
from roarm_lab.real.runner.control_loop import ControlLoop, LoopConfig
from roarm_lab.real.runner.safety_layer import SafetyLayer
from roarm_lab.real.runner.session import DEFAULT_REACH_TARGET
from roarm_lab.real.runner.summary import loop_timing
from roarm_lab.real.runner.watchdog import FeedbackWatchdog

TASK = "RoArm-Reach"


def reach_package(directory: Path) -> PolicyPackage:
    sys.path.insert(0, str(Path(__file__).parent))
    from onnx_latency import random_actor

    return PolicyPackage.load(export_policy_package(random_actor(TASK), TASK, directory / "policy.onnx"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", type=Path, help="a Reach policy package (default: a random actor)")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--baud", type=int, default=115200, help="emulated wire pacing (0 = unpaced)")
    parser.add_argument("--command-first", action="store_true", help="T:102 before T:105 in each write")
    args = parser.parse_args()
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory() as tmp:
        policy = PolicyPackage.load(args.policy) if args.policy else reach_package(Path(tmp))
    with Emulator(EmulatorConfig(boot_duration_s=0.1, baud=args.baud)) as emu, \
            SerialTransport(emu.port, baud=args.baud or 115200, settle_s=0.1, boot_timeout_s=5.0) as arm:
        link = ArmLink(arm, FeedbackWatchdog(1.0), feedback_first=not args.command_first)
        link.refresh()
        loop = ControlLoop(link, policy, DEFAULT_REACH_TARGET, SafetyLayer(),
                           LoopConfig(rate_hz=None, duration_s=args.seconds))
        timing = loop_timing(loop.run(), rate_hz=None)
    jitter, round_trip = timing["jitter_ms"], timing["round_trip_ms"]
    order = "T:102 then T:105" if args.command_first else "T:105 then T:102"
    print(f"emulator baud={args.baud} order='{order}' steps={timing['steps']} seconds={timing['elapsed_s']:.2f} "
          f"feedback_timeouts={link.timeouts}")
    print(f"round_trip_ms p50={round_trip['p50']:.2f} p99={round_trip['p99']:.2f} | jitter_ms "
          f"p50={jitter['p50']:.2f} p99={jitter['p99']:.2f} max={jitter['max']:.2f} | mean step "
          f"{1000 / timing['rate_hz']:.2f} ms")
    rt = np.asarray([r for r in loop.stats.round_trip_s if r is not None]) * 1000
    print(f"compute per step (mean step - mean round trip): {1000 / timing['rate_hz'] - rt.mean():.2f} ms")
    print(f"rate_hz={timing['rate_hz']:.1f} p99_jitter_ms={jitter['p99']:.2f}")


if __name__ == "__main__":
    main()
