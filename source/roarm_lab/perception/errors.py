"""The perception package's one error type."""


class PerceptionError(RuntimeError):
    """A camera, a calibration or a detection that cannot give what was asked, with what to do about it."""
