#!/usr/bin/env python3
"""The improvement loop proven where the truth is known: ``scripts/improve.py`` against the physics twin with hidden
truths, Reach's true median final TCP error at round 0 (the start policy) and after each round.

    python benchmarks/improve_twin.py --checkpoint logs/rsl_rl/RoArm-Reach/<run> [--truth-seeds 0 1 2]
           [--rounds 2] [--workdir bench/improve] [-- improve.py options, e.g. --episodes 10]

Per truth seed: the truth is drawn (``draw_truth(seed)``) into ``DIR/truth_<seed>/truth.yaml``; the twin runs it in
its own process (``python -m roarm_lab.emulator --twin --truth F --truth-log L``); the loop runs in another
(``python -m roarm_lab.cli.improve --port <the twin's pty> --rounds R --workdir DIR/truth_<seed>/loop``), seeing only
the port. A second run of this script resumes the loops where they stopped.

Afterwards, as a tape measure would on a real arm, this script (never the loop) takes each deployed episode's true
final pose from the twin's ground-truth log at the time the runner wrote the run's summary (the run over: the arm
rests at its last goal), and its distance to the episode's target. Prints one table row per truth and round, then
per truth the goal of issue 16: the last round's median at most half of round 0's and at most 1 cm; writes
everything to ``DIR/results.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from twin_processes import stop_twin

from roarm_lab import kinematics
from roarm_lab.description.firmware_units import RAD_PER_STEP
from roarm_lab.emulator.twin.truth import draw_truth, save_truth

TASK = "RoArm-Reach"
CUBE = ("0.25", "0.2", "0")  # clear of the touch points and of the Reach targets' path


def start_twin(truth: Path, log: Path, out: Path) -> tuple[subprocess.Popen, str]:
    """The twin in its own process (output to ``out``); returns it and its pseudo-terminal."""
    f = out.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "roarm_lab.emulator", "--twin", "--truth", str(truth),
                             "--truth-log", str(log), "--cube", *CUBE], stdout=f, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for line in out.read_text().splitlines():
            if line.startswith("serial (pty): "):
                return proc, line.split(": ", 1)[1].strip()
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the twin did not start; see {out}")


def run_loop(port: str, loop_dir: Path, checkpoint: Path, rounds: int, extra: list[str], out: Path) -> int:
    """improve.py in its own process; its lines go to ``out``, the loop's own ``[improve]`` lines also here."""
    cmd = [sys.executable, "-m", "roarm_lab.cli.improve", "--task", TASK, "--port", port, "--rounds", str(rounds),
           "--workdir", str(loop_dir), "--checkpoint", str(checkpoint), *extra]
    with out.open("a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        for line in proc.stdout:
            f.write(line)
            if line.startswith("[improve]"):
                print("    " + line.rstrip(), flush=True)
        return proc.wait()


class GroundTruth:
    """The twin's ground-truth log: true joints by the machine's clock."""

    def __init__(self, path: Path):
        unix, q, enc = [], [], []
        with path.open() as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut by the twin's stop
                    continue
                unix.append(rec["unix"])
                q.append(rec["q"])
                enc.append(rec["encoder"])
        self.unix, self.q, self.encoder = np.array(unix), np.array(q), np.array(enc)

    def covers(self, t: float) -> bool:
        return len(self.unix) > 0 and self.unix[0] <= t <= self.unix[-1] + 1.0

    def at(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """The true joints and the encoder steps of the last record at or before ``t``."""
        i = max(0, int(np.searchsorted(self.unix, t, side="right")) - 1)
        return self.q[i], self.encoder[i]


def true_errors(loop_dir: Path, truth_log: GroundTruth) -> dict[int, dict]:
    """Per deployed round: the episodes' true final TCP errors (m), where the arm rests when the run is over, and
    how far it moved after the runner's final reading (the largest difference, in steps, of base to wrist between the
    twin's encoders then and that reading)."""
    from roarm_lab.description.firmware_units import firmware_rad_to_steps, model_to_firmware_rad

    episodes = json.loads((loop_dir / "episodes.json").read_text())
    out = {}
    for k in range(100):
        deploy = loop_dir / f"round_{k}" / "deploy"
        if not deploy.is_dir():
            break
        errors, mismatch = [], 0.0
        for i, episode in enumerate(episodes):
            steps, summary = deploy / f"episode_{i}" / "steps.jsonl", deploy / f"episode_{i}" / "summary.json"
            if not (steps.is_file() and summary.is_file()):
                break
            final = json.loads(summary.read_text()).get("final_measured_q")
            ended = summary.stat().st_mtime  # the run over (and its episode recorded): the arm rests at its last goal
            if final is None or not truth_log.covers(ended):
                break
            q_true, encoder = truth_log.at(ended)
            reading = firmware_rad_to_steps(model_to_firmware_rad(np.array(final)))
            mismatch = max(mismatch, float(np.abs(encoder - reading)[:4].max()))
            errors.append(float(np.linalg.norm(kinematics.tcp_position(q_true) - np.array(episode["target"]))))
        if len(errors) == len(episodes):
            out[k] = {"errors_m": errors, "alignment_steps": mismatch}
    return out


def held_out(loop_dir: Path, last: int, episodes: int) -> dict:
    """Held-out MuJoCo success (evaluation seeds, randomization on) of the start policy and of the policy deployed
    in round ``last``, on the nominal arm and on the last identified profile's."""
    from roarm_lab.description.robot_profile import load_profile
    from roarm_lab.improve.simulation import sim_success

    state = json.loads((loop_dir / f"round_{last}" / "state.json").read_text())
    start = json.loads((loop_dir / "round_0" / "state.json").read_text())["policy"]
    profiles = sorted(loop_dir.glob("round_*/profile.yaml"), key=lambda f: int(f.parent.name.split("_")[1]))
    arms = {"nominal": None, **({"identified": load_profile(profiles[-1])} if profiles else {})}
    return {arm: {which: sim_success(TASK, Path(policy), profile, episodes, seed=0)["success_rate"]
                  for which, policy in (("start", start), ("outcome", state["policy"]))}
            for arm, profile in arms.items()}


def mm(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 1000:.1f}"


def main() -> int:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, required=True, help="the start run (Reach, train.py's default)")
    p.add_argument("--truth-seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--rounds", type=int, default=2, help="rounds per truth (the outcome is deployed as round R)")
    p.add_argument("--workdir", type=Path, default=Path("bench/improve"))
    p.add_argument("--measure-only", action="store_true", help="only measure loops that ran before")
    p.add_argument("--eval-episodes", type=int, default=500, help="held-out MuJoCo episodes per policy and arm")
    a = p.parse_args(argv)
    results = {"checkpoint": str(a.checkpoint), "rounds": a.rounds, "improve_args": extra, "truths": {}}
    for seed in a.truth_seeds:
        d = a.workdir / f"truth_{seed}"
        d.mkdir(parents=True, exist_ok=True)
        truth, log, loop_dir = d / "truth.yaml", d / "ground_truth.jsonl", d / "loop"
        if not a.measure_only:
            if not truth.is_file():
                save_truth(draw_truth(seed), truth)
            if log.exists():  # a resumed loop: keep the earlier log beside the new one
                log.rename(d / f"ground_truth.{int(log.stat().st_mtime)}.jsonl")
            print(f"truth seed {seed}: the twin and the loop ({a.rounds} rounds)", flush=True)
            proc, port = start_twin(truth, log, d / "twin.out")
            started = time.monotonic()
            try:
                rc = run_loop(port, loop_dir, a.checkpoint, a.rounds, extra, d / "improve.out")
            finally:
                stop_twin(proc)
            print(f"truth seed {seed}: the loop ended with exit {rc} after {time.monotonic() - started:.0f} s",
                  flush=True)
        logs = sorted(d.glob("ground_truth*.jsonl"), key=lambda f: f.stat().st_mtime)
        measured: dict[int, dict] = {}
        for f in logs:  # each log covers the episodes deployed while it was written
            for k, v in true_errors(loop_dir, GroundTruth(f)).items():
                if k not in measured or v["alignment_steps"] < measured[k]["alignment_steps"]:
                    measured[k] = v
        rounds = {}
        for k, v in sorted(measured.items()):
            metrics = json.loads((loop_dir / f"round_{k}" / "metrics.json").read_text())
            stages = json.loads((loop_dir / f"round_{k}" / "state.json").read_text())["stages"]
            e = np.array(v["errors_m"])
            rounds[k] = {"true_median_m": float(np.median(e)), "true_p90_m": float(np.percentile(e, 90)),
                         "true_within_1cm": float(np.mean(e <= 0.01)), "true_errors_m": v["errors_m"],
                         "alignment_steps": v["alignment_steps"], "loop_metric_m": metrics["metric"],
                         "loop_metric_identified_offsets_m": metrics["identify"].get(
                             "deploy_metric_identified_offsets"),
                         "current_sim_success": metrics["gate"].get("current_sim_success"),
                         "candidate_sim_success": metrics["gate"].get("candidate_sim_success"),
                         "accepted": metrics["gate"].get("accepted"), "reason": metrics["gate"].get("reason"),
                         "touch": metrics["identify"].get("touch"),
                         "stage_s": {s: stages[s].get("seconds") for s in stages}}
        results["truths"][seed] = rounds
        if rounds:  # the start policy and the outcome, held out in MuJoCo on the same arms
            results.setdefault("sim_success", {})[seed] = held_out(loop_dir, max(rounds), a.eval_episodes)
    print("\n| truth | round | true median final TCP error, mm | p90, mm | within 1 cm | the loop's own metric, mm "
          "(with the offsets identified) | held-out MuJoCo success, current -> candidate | gate | round wall, s |")
    print("|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    for seed, rounds in results["truths"].items():
        for k, r in rounds.items():
            sim = ("" if r["current_sim_success"] is None else
                   f"{r['current_sim_success']:.3f} -> {r['candidate_sim_success']:.3f}")
            gate = "" if r["accepted"] is None else ("accepted" if r["accepted"] else "kept the current")
            wall = sum(s for s in r["stage_s"].values() if s is not None)
            print(f"| {seed} | {k} | {mm(r['true_median_m'])} | {mm(r['true_p90_m'])} | "
                  f"{r['true_within_1cm'] * 100:.0f} % | {mm(r['loop_metric_m'])} "
                  f"({mm(r['loop_metric_identified_offsets_m'])}) | {sim} | {gate} | {wall:.0f} |")
        if 0 in rounds and a.rounds in rounds:
            r0, rn = rounds[0]["true_median_m"], rounds[a.rounds]["true_median_m"]
            ok = rn <= 0.5 * r0 and rn <= 0.01
            verdicts.append(ok)
            print(f"truth {seed}: round {a.rounds} {mm(rn)} mm vs round 0 {mm(r0)} mm (x{rn / r0:.2f}): goal "
                  f"(<= half and <= 1 cm) {'met' if ok else 'NOT met'}", file=sys.stderr)
        worst = max((r["alignment_steps"] for r in rounds.values()), default=0.0)
        print(f"truth {seed}: after the final readings the arms moved at most {worst:.0f} steps "
              f"({worst * RAD_PER_STEP * 1000:.1f} mrad) on base to wrist", file=sys.stderr)
    for seed, arms in results.get("sim_success", {}).items():
        print(f"truth {seed}: held-out MuJoCo success, start -> outcome: " + "; ".join(
            f"{arm} arm {v['start']:.3f} -> {v['outcome']:.3f}" for arm, v in arms.items()))
    (a.workdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"goal met on {sum(verdicts)}/{len(verdicts)} truths; {a.workdir / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
