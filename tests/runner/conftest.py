"""The runner tests' emulated arm: the firmware emulator with exact servos on a pseudo-terminal, unpaced."""

import pytest
from emulated_arm import emulator


@pytest.fixture
def emu():
    e = emulator(baud=0)
    yield e
    e.stop()
    assert e.crash is None
