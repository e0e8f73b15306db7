"""The one error a policy package is refused with."""


class PolicyPackageError(Exception):
    """A file is not a RoArm policy package this code can run; the message names the problem."""
