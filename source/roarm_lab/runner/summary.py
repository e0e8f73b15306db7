"""The end-of-run summary: rate, jitter, round trips, clamps, the task error; as a dict (summary.json) and text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from roarm_lab import kinematics
from roarm_lab.runner.control_loop import LoopStats

REACH_TASK = "RoArm-Reach"


def _percentiles_ms(seconds: Sequence[float]) -> dict[str, float] | None:
    if len(seconds) == 0:
        return None
    ms = np.asarray(seconds, dtype=np.float64) * 1000
    p50, p99 = np.percentile(ms, [50, 99])
    return {"p50": float(p50), "p99": float(p99), "max": float(ms.max())}


def fresh_steps(feedback_seq: Sequence[int | None]) -> int:
    """Steps that used a reading no earlier step had used (readings are numbered in arrival order)."""
    count, last = 0, None
    for seq in feedback_seq:
        if seq is not None and (last is None or seq > last):
            count, last = count + 1, seq
    return count


def loop_timing(stats: LoopStats, rate_hz: float | None) -> dict[str, Any]:
    """Achieved rate over the steps' start times, and the rate of steps with a new reading (``fresh_rate_hz``: a
    step that reuses a reading or has none is not counted); jitter = |interval between step starts - the nominal
    period| (the mean interval when free-running); round trip = T:102 + T:105 written -> T:1051 read (request
    mode); feedback age = arrival of the reading -> the step using it."""
    t = np.asarray(stats.t, dtype=np.float64)
    intervals = np.diff(t)
    elapsed = float(t[-1] - t[0]) if len(t) >= 2 else 0.0
    nominal = 1.0 / rate_hz if rate_hz else (float(intervals.mean()) if len(intervals) else 0.0)
    fresh = fresh_steps(stats.feedback_seq) if len(stats.feedback_seq) == len(t) else None
    return {
        "steps": len(t),
        "elapsed_s": elapsed,
        "rate_hz": (len(t) - 1) / elapsed if elapsed > 0 else None,
        "fresh_steps": fresh,
        "fresh_rate_hz": (fresh - 1) / elapsed if fresh and elapsed > 0 else None,
        "target_rate_hz": rate_hz,
        "skipped_ticks": stats.skipped_ticks,
        "jitter_ms": _percentiles_ms(np.abs(intervals - nominal)),
        "round_trip_ms": _percentiles_ms([r for r in stats.round_trip_s if r is not None]),
        "feedback_age_ms": _percentiles_ms([a for a in stats.feedback_age_s if a is not None]),
    }


def final_tcp_error_m(task: str, measured: Sequence[float] | None, command: Sequence[float]) -> float | None:
    """Reach only: distance from the TCP (forward kinematics of the last measured joints) to the target."""
    if task != REACH_TASK or measured is None:
        return None
    tcp = kinematics.tcp_position(np.asarray(measured, dtype=np.float64))
    return float(np.linalg.norm(tcp - np.asarray(command)))


def _fmt_ms(p: dict[str, float] | None) -> str:
    return "n/a" if p is None else f"p50 {p['p50']:.2f} ms, p99 {p['p99']:.2f} ms"


def format_summary(s: dict[str, Any]) -> str:
    timing = s["timing"]
    lines = [f"run: {s['outcome']} (exit {s['exit_code']})"]
    if timing["steps"]:
        rate = "n/a" if timing["rate_hz"] is None else f"{timing['rate_hz']:.1f} Hz"
        target = f"{timing['target_rate_hz']:g} Hz" if timing["target_rate_hz"] else "free-running"
        lines += [
            f"steps {timing['steps']} in {timing['elapsed_s']:.2f} s: {rate} (target {target}), "
            f"{timing['skipped_ticks']} ticks skipped",
            f"jitter {_fmt_ms(timing['jitter_ms'])} | round trip {_fmt_ms(timing['round_trip_ms'])}",
            f"feedback {s['feedback_mode']}: age {_fmt_ms(timing['feedback_age_ms'])}, "
            f"{timing['fresh_steps']} steps with a new reading"
            + ("" if s.get("frames_unused") is None else f", {s['frames_unused']} stream frames unused"),
        ]
    clamps = ", ".join(f"{k} {v}" for k, v in s["clamps"].items())
    lines.append(f"clamps (commands changed): {clamps} | feedback timeouts {s['feedback_timeouts']}")
    if s.get("final_tcp_error_m") is not None:
        target = " ".join(f"{x:.3f}" for x in s["command"])
        lines.append(f"final TCP error {s['final_tcp_error_m'] * 100:.1f} cm (target {target} m)")
    lines.append(f"hold: {s['hold']}")
    if s.get("log_dir"):
        lines.append(f"log: {s['log_dir']}")
    return "\n".join(lines)
