"""Keep garbage-collection pauses out of the motion loops. A full collection walks every object the process holds
(torch, onnxruntime, the policy, the emulator in tests): 100-230 ms were seen in the test process, longer than the
feedback watchdog allows (5 periods = 167 ms at 30 Hz), so a pause mid-run stopped it on a spurious fault. Objects
that exist when the motion starts are frozen (``gc.freeze``, O(1)): later collections only walk what the loop
allocates since."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
