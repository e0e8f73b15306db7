"""Why the policy runner refused to start or stopped. All are :class:`roarm_lab.driver.errors.RealArmError`s except
:class:`StopRequested`, which is the user's wish, not a fault."""

from __future__ import annotations

from roarm_lab.driver.errors import RealArmError


class RunnerError(RealArmError):
    """The policy runner refused to start or stopped on a fault."""


class UnsafeStartError(RunnerError):
    """The arm is not fit to start and nothing was moved: dead servo bus, joints far outside the limits, or a path
    to the start pose that leaves the workspace."""


class StaleFeedbackError(RunnerError):
    """The watchdog fired: no fresh feedback for longer than it allows."""


class PolicyOutputError(RunnerError):
    """The policy gave non-finite joint targets for too many control steps in a row."""


class StopRequested(Exception):
    """Ctrl+C (SIGINT) or SIGTERM asked the runner to stop."""
