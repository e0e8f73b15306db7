"""Errors of the inspection core."""


class InspectionError(ValueError):
    """A task, policy, recording or command that cannot be inspected or applied, with the reason."""
