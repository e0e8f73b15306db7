"""The emulator's own error (a RealArmError, so hosts that catch arm errors report it the same way)."""

from roarm_lab.driver.errors import RealArmError


class EmulatorError(RealArmError):
    """The firmware emulator could not start or was misconfigured."""
