#!/usr/bin/env python3
"""Does the physics twin keep real time on one core while the runner drives it, and does the runner still hold
30 Hz against it?

    python benchmarks/twin_realtime.py [--policy reach.onnx] [--seconds 20] [--truth-seed 1] [--core 0]
                                       [--feedback stream|request]

``emulate_arm.py --twin`` runs in its own process pinned to one core (``taskset -c CORE``); ``play_real.py`` runs
in another process pinned to the same core, so twin and runner share one core (the harder case). The twin prints
its real-time factor when it stops (simulated / wall time; it drops a backlog it cannot catch up rather than
running late, so a slow machine shows as rtf < 1); the runner's summary.json gives its loop rate and jitter.
Without --policy a randomly initialised Reach actor is exported (the same network, the same cost). Last line:
``rtf=<x> loop_hz=<y> p99_jitter_ms=<z>`` (goal rtf >= 1.0, loop 30 Hz).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from roarm_lab.deploy.export import export_policy_package

TASK = "RoArm-Reach"


def random_reach_package(directory: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).parent))
    from onnx_latency import random_actor

    return export_policy_package(random_actor(TASK), TASK, directory / "policy.onnx")


def pinned(core: int | None) -> list[str]:
    if core is None or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(core)]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policy", type=Path)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--truth-seed", type=int, default=1)
    p.add_argument("--core", type=int, default=0, help="the one core both processes run on (-1: no pinning)")
    p.add_argument("--feedback", choices=("stream", "request"), default="stream")
    p.add_argument("--physics-hz", type=float, default=1000.0)
    a = p.parse_args()
    core = None if a.core < 0 else a.core
    with tempfile.TemporaryDirectory(prefix="twin_rt_") as tmp:
        tmp = Path(tmp)
        policy = a.policy or random_reach_package(tmp)
        twin = subprocess.Popen(
            [*pinned(core), sys.executable, "-m", "roarm_lab.emulator", "--twin", "--truth-seed", str(a.truth_seed),
             "--boot-s", "0.5", "--physics-hz", str(a.physics_hz)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        port = None
        for line in twin.stdout:
            if line.startswith("serial (pty): "):
                port = line.split(": ", 1)[1].strip()
                break
        if port is None:
            raise SystemExit(f"the twin did not start: {twin.wait()}")
        try:
            run = subprocess.run(
                [*pinned(core), sys.executable, "-m", "roarm_lab.cli.play_real", "--policy", str(policy),
                 "--port", port, "--log", str(tmp / "run"), "--duration", str(a.seconds), "--no-plot",
                 "--feedback", a.feedback, "--settle", "0.2", "--boot-timeout", "20"],
                capture_output=True, text=True, timeout=a.seconds + 120)
        finally:
            twin.terminate()
            out, _ = twin.communicate(timeout=30)
        if run.returncode != 0:
            raise SystemExit(f"play_real failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
        stats = json.loads(next(line for line in out.splitlines() if line.startswith("twin stats: "))[12:])
        summary = json.loads((tmp / "run" / "summary.json").read_text())
    timing = summary.get("timing", summary)
    rate, jitter = timing.get("rate_hz"), (timing.get("jitter_ms") or {}).get("p99")
    print(f"twin ({a.physics_hz:.0f} Hz physics, truth seed {a.truth_seed}) and play_real ({a.feedback} feedback) "
          f"on {'core ' + str(core) if core is not None else 'any core'}, {a.seconds:.0f} s of control")
    print(f"twin: simulated {stats['sim_time_s']:.2f} s in {stats['wall_time_s']:.2f} s wall, dropped "
          f"{stats['dropped_s']:.3f} s, physics thread busy {stats['busy_fraction'] * 100:.0f} % of wall time")
    print(f"runner: {timing.get('steps')} steps, {rate:.2f} Hz (target 30), p99 jitter {jitter:.1f} ms, "
          f"skipped ticks {timing.get('skipped_ticks')}")
    print(f"rtf={stats['rtf']:.3f} loop_hz={rate:.2f} p99_jitter_ms={jitter:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
