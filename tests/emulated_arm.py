"""Helpers shared by the tests that run against the in-process firmware emulator: fast transport options, an
emulator factory, and reading or timing a play_real.py run's log."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from roarm_lab.description.firmware_units import RAD_PER_STEP
from roarm_lab.emulator import Emulator, EmulatorConfig

#: transport options that skip the real arm's long boot wait (the emulator boots in 0.1 s; the twin's boot moves
#: take a second or two of simulated servo motion)
FAST = dict(settle_s=0.1, boot_timeout_s=15.0)
#: The two plants behind the firmware layer: protocol tests run against both.
EMULATOR_KINDS = ("kinematic", "twin")
#: How far a twin joint may sit from its goal at rest: gravity sag through the servo's finite stiffness (~0.01 rad
#: at the shoulder with the nominal truth) plus a step of quantization.
TWIN_POSE_TOL = 0.025


def emulator(kind: str = "kinematic", **config) -> Emulator:
    """A started emulator (``kind``: "kinematic" or "twin", the physics twin with the nominal truth unless
    ``config`` has a ``twin``) with a 0.1 s boot unless ``config`` says otherwise."""
    config.setdefault("boot_duration_s", 0.1)
    if kind == "twin":
        from roarm_lab.emulator.twin.settings import TwinConfig

        config.setdefault("twin", TwinConfig(cube=(0.25, 0.0, 0.0)))
    elif kind != "kinematic":
        raise ValueError(f"kind must be one of {EMULATOR_KINDS}, got {kind!r}")
    return Emulator(EmulatorConfig(**config)).start()


def pose_tol(emu: Emulator) -> float:
    """The tolerance for 'the arm is at this pose' on this emulator: a step for the exact kinematic servos, the
    gravity sag for the twin."""
    return RAD_PER_STEP if emu.config.twin is None else TWIN_POSE_TOL


def wait_until(condition, timeout_s: float = 20.0) -> bool:
    """Poll ``condition`` every 20 ms until it holds (True) or ``timeout_s`` passed (False): tests wait on what they
    expect, never for a fixed time, so they hold on a loaded machine."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def arm_at(emu: Emulator, pose, tol: float) -> bool:
    """Whether the emulated arm's true joints are within ``tol`` (rad) of ``pose``."""
    return max(abs(a - b) for a, b in zip(emu.snapshot().q_model, pose, strict=True)) <= tol


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
