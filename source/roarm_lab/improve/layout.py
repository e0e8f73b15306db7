"""Where a loop keeps everything (docs/improve.md, "Layout"), and its two state files:

    DIR/loop.json            the loop's settings, its episodes (drawn once) and the current policy
    DIR/episodes.json        the episode inputs every round deploys
    DIR/dataset/             one LeRobot dataset: every deployment on the arm, appended episode by episode
    DIR/rounds.csv, rounds.png
    DIR/start/               the starting policy (and its exported checkpoint, when started from a run)
    DIR/round_<k>/state.json the round's stages, written after each step (resume reads it)
    DIR/round_<k>/deploy/episode_<i>/        the runner's log of each episode (steps.jsonl, summary.json)
    DIR/round_<k>/sysid/                     the fit's report (and an excitation recording, when one was needed)
    DIR/round_<k>/profile.yaml               the identified robot profile
    DIR/round_<k>/checkpoint/                the fine-tuned run (a train.py run directory)
    DIR/round_<k>/policy.onnx                the candidate exported from it
    DIR/round_<k>/gate/                      the candidate's dry runs
    DIR/round_<k>/metrics.json               the deployed metric, the fit, the fine-tune and the gate decision

Every JSON file is written whole to a temporary name and renamed, so a crash leaves the old or the new file.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

LOOP_FILE = "loop.json"
EPISODES_FILE = "episodes.json"
DATASET_DIR = "dataset"
DRY_RUN_DATASET_DIR = "dataset-dry-run"  # dry runs do not move the arm: not part of its history
ROUNDS_CSV = "rounds.csv"
ROUNDS_PLOT = "rounds.png"
STATE_FILE = "state.json"
METRICS_FILE = "metrics.json"
PROFILE_FILE = "profile.yaml"
POLICY_FILE = "policy.onnx"
STAGES = ("deploy", "identify", "finetune", "gate")
CSV_FIELDS = ("round", "policy", "dry_run", "episodes", "metric_name", "metric", "real_success_rate",
              "metric_identified_offsets", "clamps",
              "fit_rmse_nominal_rad", "fit_rmse_fitted_rad", "current_sim_success", "candidate_sim_success",
              "candidate_clamps", "accepted", *(f"{name}_s" for name in STAGES), "reason")


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)
    return path


def read_json(path: Path, default: Any = None) -> Any:
    return json.loads(path.read_text()) if path.is_file() else default


class Layout:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    @property
    def loop_file(self) -> Path:
        return self.root / LOOP_FILE

    @property
    def episodes_file(self) -> Path:
        return self.root / EPISODES_FILE

    def dataset(self, dry_run: bool) -> Path:
        return self.root / (DRY_RUN_DATASET_DIR if dry_run else DATASET_DIR)

    @property
    def start(self) -> Path:
        return self.root / "start"

    def round(self, k: int) -> Path:
        return self.root / f"round_{k}"

    def state_file(self, k: int) -> Path:
        return self.round(k) / STATE_FILE

    def episode_log(self, k: int, i: int) -> Path:
        return self.round(k) / "deploy" / f"episode_{i}"

    def gate_log(self, k: int, i: int, which: str = "candidate") -> Path:
        """A dry run of the gate: of the ``candidate`` or of the ``current`` policy (the reference)."""
        return self.round(k) / "gate" / f"{which}_dry_run_{i}"

    def rounds(self) -> list[int]:
        """The rounds that have a state file, in order."""
        found = []
        for p in self.root.glob("round_*"):
            suffix = p.name.split("_", 1)[1]
            if suffix.isdigit() and (p / STATE_FILE).is_file():
                found.append(int(suffix))
        return sorted(found)


def write_rounds_csv(layout: Layout, rows: list[dict[str, Any]]) -> Path:
    path = layout.root / ROUNDS_CSV
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_FIELDS})
    os.replace(tmp, path)
    return path


def plot_rounds(layout: Layout, rows: list[dict[str, Any]], metric_name: str) -> Path | None:
    """The real metric by round (matplotlib, Agg); None when no round has one."""
    points = [(r["round"], r["metric"]) for r in rows if r.get("metric") is not None]
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    x, y = zip(*points, strict=True)
    scale, unit = (100.0, "cm") if metric_name.endswith("_m") else (1.0, "")
    ax.plot(x, [v * scale for v in y], "o-", label="from the encoders, the deployed package's offsets")
    again = [(r["round"], r["metric_identified_offsets"]) for r in rows
             if r.get("metric_identified_offsets") is not None]
    if again:
        xa, ya = zip(*again, strict=True)
        ax.plot(xa, [v * scale for v in ya], "s--", label="the same runs, the offsets identified in the round")
        ax.legend(fontsize=7)
    for r in rows:
        if r.get("metric") is not None and r.get("accepted") is not None:
            ax.annotate("accepted" if r["accepted"] else "kept", (r["round"], r["metric"] * scale), fontsize=7,
                        textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("round")
    ax.set_ylabel(metric_name.removesuffix("_m") + (f" [{unit}]" if unit else ""))
    ax.set_xticks(list(x))
    ax.grid(alpha=0.3)
    ax.set_title("real metric by round (the arm's own feedback)")
    fig.tight_layout()
    path = layout.root / ROUNDS_PLOT
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
