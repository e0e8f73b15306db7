"""A one-line progress bar with ETA for rsl-rl training, in place of its per-iteration block of text.

rsl-rl's logger still writes every scalar to tensorboard; this only changes what the console shows.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

import torch

BAR_WIDTH = 30


def _fmt_duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def progress_line(done: int, total: int, elapsed: float, fields: dict[str, float]) -> str:
    frac = done / total if total else 1.0
    filled = int(round(BAR_WIDTH * frac))
    eta = elapsed / done * (total - done) if done else float("nan")
    eta_s = _fmt_duration(eta) if done else "--:--"
    extra = " ".join(f"{k} {v:.3g}" for k, v in fields.items())
    return (f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} it "
            f"{_fmt_duration(elapsed)} elapsed, ETA {eta_s} | {extra}")


def _episode_mean(ep_extras: list[dict], key: str) -> float | None:
    values = [torch.as_tensor(e[key]).float().flatten() for e in ep_extras if key in e]
    return torch.cat(values).mean().item() if values else None


def attach_progress_bar(runner, stream: TextIO | None = None, verbose: bool = False) -> None:
    """Wrap ``runner.logger.log`` so each iteration redraws one progress line (``verbose`` keeps rsl-rl's text) on
    ``stream`` (default: the ``sys.stdout`` of the call, not of the import)."""
    stream = sys.stdout if stream is None else stream
    logger = runner.logger
    original = logger.log
    start = time.time()
    interactive = stream.isatty()

    def log(*args, **kwargs):
        it, start_it, total_it = kwargs["it"], kwargs["start_it"], kwargs["total_it"]
        fields = {}
        if len(logger.rewbuffer):
            fields["reward"] = sum(logger.rewbuffer) / len(logger.rewbuffer)
        success = _episode_mean(logger.ep_extras, "Metrics/success_rate")
        if success is not None:
            fields["success"] = success
        if verbose:
            original(*args, **kwargs)
        else:
            import contextlib
            import io

            with contextlib.redirect_stdout(io.StringIO()):
                original(*args, **kwargs)
        done, total = it + 1 - start_it, total_it - start_it
        line = progress_line(done, total, time.time() - start, fields)
        if interactive:
            stream.write("\r" + line + ("\n" if done == total else ""))
        elif done == total or done % 10 == 1:
            stream.write(line + "\n")
        stream.flush()

    logger.log = log
