"""What the twin benchmarks share: ending a twin (or any child) process."""

from __future__ import annotations

import subprocess


def stop_twin(proc: subprocess.Popen) -> None:
    """SIGTERM (the twin writes its stats and closes its logs), then SIGKILL after 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
