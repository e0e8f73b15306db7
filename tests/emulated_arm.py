"""Helpers shared by the tests that run against the in-process firmware emulator: fast transport options, an
emulator factory, and reading or timing a play_real.py run's log."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from roarm_lab.emulator import Emulator, EmulatorConfig

#: transport options that skip the real arm's long boot wait (the emulator boots in 0.1 s)
FAST = dict(settle_s=0.1, boot_timeout_s=5.0)


def emulator(**config) -> Emulator:
    """A started emulator with a 0.1 s boot unless ``config`` says otherwise."""
    config.setdefault("boot_duration_s", 0.1)
    return Emulator(EmulatorConfig(**config)).start()


def summary_of(log: Path) -> dict:
    return json.loads((log / "summary.json").read_text())


def when_steps_logged(log: Path, n: int, action) -> threading.Thread:
    """Run ``action`` once the run's steps.jsonl has ``n`` lines (polls every 20 ms)."""
    def wait():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            path = log / "steps.jsonl"
            if path.exists() and path.read_text().count("\n") >= n:
                action()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread
