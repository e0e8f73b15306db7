#!/usr/bin/env python3
"""Identification on the physics twin, where the truth is known: record an excitation with ``sysid.py record``
over the pseudo-terminal, fit a robot profile with ``sysid.py fit``, compare with the hidden truth.

    python benchmarks/sysid_twin.py [--truth-seeds 0 1 2] [--duration 120] [--out DIR] [--pipeline-ms 55.7]

Per truth seed: the twin runs in its own process (``emulate_arm.py --twin --truth-seed N``, which also writes the
truth for this script, the tape measure; the recording and the fit see only the port and the dataset). Printed per
seed: the held-out joint-replay RMSE of the nominal model and of the fitted one (from the fit, on the last quarter
of the excitation it did not fit) and their ratio (goal >= 5); the fitted command delay against the truth's (goal:
within one 33 ms control period; the fitted delay also contains the serial wire and the firmware loop, which the
truth's does not); per joint the fitted stiffness against the truth's where the fit called it identifiable (goal
within 15 %); the encoder offsets' errors; the fit's wall time (goal < 5 min for a 2-minute recording). ``--out``
keeps the recordings, profiles, reports and truths. ``--pipeline-ms``: the link's own latency (what the fit finds on
the nominal truth, whose command delay is 0: ``sysid.py record`` + ``fit`` against ``emulate_arm.py --twin``), taken
off the fitted delay before comparing it with the truth's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.description.robot_profile import load_profile
from roarm_lab.emulator.twin.truth import load_truth
from roarm_lab.tasks.timing import CONTROL_DT


def start_twin(seed: int, truth_path: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "roarm_lab.emulator", "--twin", "--truth-seed", str(seed),
                             "--write-truth", str(truth_path), "--boot-s", "0.5"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if line.startswith("serial (pty): "):
            return proc, line.split(": ", 1)[1].strip()
    raise SystemExit(f"the twin did not start: {proc.wait()}")


def run(cmd: list[str]) -> float:
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return time.monotonic() - t0


def one_seed(seed: int, duration: float, out: Path) -> dict:
    truth_path, rec, profile_path = out / f"truth_{seed}.yaml", out / f"recording_{seed}", out / f"profile_{seed}.yaml"
    twin, port = start_twin(seed, truth_path)
    try:
        run([sys.executable, "-m", "roarm_lab.cli.sysid", "record", "--port", port, "--out", str(rec),
             "--duration_s", str(duration), "--settle", "0.2", "--boot-timeout", "20"])
    finally:
        twin.terminate()
        twin.communicate(timeout=30)
    fit_s = run([sys.executable, "-m", "roarm_lab.cli.sysid", "fit", str(rec), "--out", str(profile_path),
                 "--report", str(out / f"report_{seed}"), "--force"])
    truth, profile = load_truth(truth_path), load_profile(profile_path)
    heldout = profile.provenance.get("heldout_rmse_rad", {})
    identified = set(profile.provenance.get("identifiable", []))
    stiffness = {}
    for i, j in enumerate(JOINT_NAMES):
        fitted, true = profile.joints[j].stiffness.value, truth.stiffness[i]
        ident = any(name.startswith(j) and "stiffness" in name for name in identified)
        stiffness[j] = (fitted / true - 1.0, ident)
    offsets = np.array(profile.encoder_offsets) - np.array(truth.encoder_offset_rad)
    return {"seed": seed, "rmse_nominal": heldout.get("nominal"), "rmse_fitted": heldout.get("fitted"),
            "delay_fit": profile.command_delay_s.value, "delay_truth": truth.command_delay_s, "stiffness": stiffness,
            "offset_err": offsets, "fit_s": fit_s, "fit_internal_s": profile.provenance.get("fit_time_s")}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--truth-seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--duration", type=float, default=120.0, help="seconds of excitation to record")
    p.add_argument("--out", type=Path, help="keep everything here (default: a temporary folder)")
    p.add_argument("--pipeline-ms", type=float, default=0.0, help="the link's latency, taken off the fitted delay")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="sysid_twin_") as tmp:
        out = a.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        results = []
        for seed in a.truth_seeds:
            r = one_seed(seed, a.duration, out)
            r["delay_fit"] -= a.pipeline_ms / 1000
            results.append(r)
            ratio = r["rmse_nominal"] / r["rmse_fitted"] if r["rmse_fitted"] else float("inf")
            print(f"seed {seed}: held-out RMSE nominal {r['rmse_nominal'] * 1000:.2f} mrad, fitted "
                  f"{r['rmse_fitted'] * 1000:.2f} mrad (x{ratio:.1f} lower); delay fitted - link "
                  f"{r['delay_fit'] * 1000:.0f} ms vs truth {r['delay_truth'] * 1000:.0f} ms "
                  f"(|diff| {abs(r['delay_fit'] - r['delay_truth']) * 1000:.0f} ms, period "
                  f"{CONTROL_DT * 1000:.0f} ms); fit {r['fit_s']:.0f} s wall", flush=True)
            print("    stiffness fitted/truth - 1: " + ", ".join(
                f"{j} {err * 100:+.0f} %{'' if ident else ' (not identified)'}"
                for j, (err, ident) in r["stiffness"].items()))
            print("    encoder offsets (truth, mrad): " + ", ".join(
                f"{j} {-e * 1000:+.1f}" for j, e in zip(JOINT_NAMES, r["offset_err"], strict=True))
                + "; not identifiable from joint data (the fit keeps 0): sysid.py touch")
        ratios = [r["rmse_nominal"] / r["rmse_fitted"] for r in results if r["rmse_fitted"]]
        delays = [abs(r["delay_fit"] - r["delay_truth"]) for r in results]
        stiff = [abs(e) for r in results for e, ident in r["stiffness"].values() if ident]
        print(f"rmse_ratio_min={min(ratios):.1f} delay_err_max_ms={max(delays) * 1000:.0f} "
              f"stiffness_err_max_pct={max(stiff) * 100 if stiff else float('nan'):.0f} "
              f"fit_s_max={max(r['fit_s'] for r in results):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
