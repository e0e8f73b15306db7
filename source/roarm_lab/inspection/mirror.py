"""A live mirror of the arm: the newest joints from the driver's feedback, read in a background thread.

Read-only by default: nothing is written to the arm but the driver's own feedback requests. Commanding from a UI
needs ``allow_commands=True`` at construction (an explicit switch); then :meth:`LiveMirror.command` sends each
target through the safety layer (joint limits, step and lead limits, workspace), never ``T:0`` and no EEPROM T codes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from roarm_lab.driver.errors import RealArmError
from roarm_lab.driver.protocol.commands import MoveJoints
from roarm_lab.driver.safety import SafeCommand, SafetyConfig, SafetyLayer
from roarm_lab.driver.session import HOLD_ACC, HOLD_SPD, ArmLinkSettings, ArmSession
from roarm_lab.inspection.errors import InspectionError


@dataclass(frozen=True)
class MirrorReading:
    seq: int  # the driver's reading number
    q: tuple[float, ...]  # joints, model rad
    arrived: float  # monotonic s
    loads: tuple[float, ...]


class LiveMirror:
    """Open with :meth:`start` (or ``with LiveMirror(settings) as mirror``); :attr:`newest` is the latest reading
    (None before the first), :attr:`error` the link failure that stopped the reader (None while it runs)."""

    def __init__(self, settings: ArmLinkSettings, *, allow_commands: bool = False,
                 safety: SafetyConfig | None = None, poll_s: float = 0.01):
        self.settings = settings
        self.allow_commands = allow_commands
        self.safety = SafetyLayer(safety)
        self.poll_s = poll_s
        self.session = ArmSession(settings)
        self.newest: MirrorReading | None = None
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> MirrorReading:
        first = self.session.open()
        self._take(first)
        self._thread = threading.Thread(target=self._run, name="roarm-mirror", daemon=True)
        self._thread.start()
        return self.newest

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        with self._lock:
            self.session.close()

    def __enter__(self) -> LiveMirror:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, seq: int, timeout_s: float = 5.0) -> MirrorReading:
        """The first reading numbered above ``seq``, waiting up to ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            reading = self.newest
            if reading is not None and reading.seq > seq:
                return reading
            if self.error is not None:
                raise InspectionError(f"the mirror stopped: {self.error}")
            time.sleep(self.poll_s)
        raise InspectionError(f"no reading after #{seq} within {timeout_s} s")

    def command(self, target: Sequence[float]) -> SafeCommand:
        """Send ``target`` (model rad) through the safety layer; refused unless commanding was switched on."""
        if not self.allow_commands:
            raise InspectionError("the mirror is read-only; commanding needs allow_commands=True (an explicit switch)")
        reading = self.newest
        if reading is None:
            raise InspectionError("no reading of the arm yet: nothing is sent blind")
        safe = self.safety.apply(target, reading.q)
        with self._lock:
            self.session.send(MoveJoints(safe.target, spd=HOLD_SPD, acc=HOLD_ACC))
        return safe

    def _take(self, stamped) -> None:
        fb = stamped.feedback
        self.newest = MirrorReading(stamped.seq, tuple(fb.q_model), stamped.arrived, tuple(float(x) for x in fb.loads))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._lock:
                    seq = self.newest.seq if self.newest is not None else 0
                    reading = self.session.read_after(seq)
                self._take(reading)
            except RealArmError as err:
                if self._stop.is_set():
                    return
                self.error = err
                return
            time.sleep(self.poll_s)
