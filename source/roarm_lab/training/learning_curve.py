"""Plot a run's learning curves (from its tensorboard event files) to a PNG."""

from __future__ import annotations

from pathlib import Path

CURVES = ("Train/mean_reward", "Metrics/success_rate", "Train/mean_episode_length")


def read_scalars(log_dir: str | Path) -> dict[str, tuple[list[int], list[float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags().get("scalars", []):
        events = acc.Scalars(tag)
        out[tag] = ([e.step for e in events], [e.value for e in events])
    return out


def plot_learning_curves(log_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write ``learning_curves.png`` in ``log_dir`` (or ``out``): reward, success and the task metrics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scalars = read_scalars(log_dir)
    tags = [t for t in CURVES if t in scalars] + sorted(t for t in scalars if t.startswith("Metrics/")
                                                        and t not in CURVES)
    if not tags:
        raise ValueError(f"no training scalars found under {log_dir}")
    fig, axes = plt.subplots(len(tags), 1, figsize=(7, 2.2 * len(tags)), sharex=True, squeeze=False)
    for ax, tag in zip(axes[:, 0], tags, strict=True):
        steps, values = scalars[tag]
        ax.plot(steps, values, lw=1.2)
        ax.set_ylabel(tag.split("/")[-1], fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("iteration")
    fig.suptitle(Path(log_dir).parent.name + " / " + Path(log_dir).name, fontsize=9)
    fig.tight_layout()
    path = Path(out) if out else Path(log_dir) / "learning_curves.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
