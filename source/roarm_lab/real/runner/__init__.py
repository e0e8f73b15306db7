"""Run an ONNX policy package on the real RoArm-M3 (``scripts/play_real.py``), one concept per module:

* :mod:`.session` - one run from the package file to the summary, and its exit codes
* :mod:`.start_pose` - is the arm fit to start; the slow, checked move to the policy's start pose
* :mod:`.control_loop` - feedback -> observation -> policy -> safety -> `T:102` at the control rate
* :mod:`.safety_layer` - joint limits with a margin, per-step change bound, TCP workspace box, non-finite guard
* :mod:`.watchdog` - stop when fresh feedback stops coming
* :mod:`.arm_link` - the transport as the loops use it: one request per step, velocity estimate, hold, dry run
* :mod:`.stream_link` - the same fed by the InfoPrint=2 stream: the newest unused frame per step (``--feedback``)
* :mod:`.scheduler` - control-step timing on the monotonic clock
* :mod:`.gc_freeze` - no full garbage-collection pauses during the motion loops
* :mod:`.stop_request` - Ctrl+C / SIGTERM as a request the loops honour at the next step
* :mod:`.run_log`, :mod:`.summary`, :mod:`.plot` - ``steps.jsonl``, ``summary.json`` and ``joints.png``
* :mod:`.errors` - why a run refused to start or stopped
"""

from roarm_lab.real.runner.errors import (
    PolicyOutputError,
    RunnerError,
    StaleFeedbackError,
    StopRequested,
    UnsafeStartError,
)
from roarm_lab.real.runner.safety_layer import SafeCommand, SafetyConfig, SafetyLayer, WorkspaceBox
from roarm_lab.real.runner.session import ExitCode, LinkOptions, PlayOptions, PlayResult, play

__all__ = [
    "ExitCode", "LinkOptions", "PlayOptions", "PlayResult", "PolicyOutputError", "RunnerError", "SafeCommand",
    "SafetyConfig", "SafetyLayer", "StaleFeedbackError", "StopRequested", "UnsafeStartError", "WorkspaceBox", "play",
]
