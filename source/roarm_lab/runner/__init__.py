"""Run a policy on the real RoArm-M3 (or the emulator) through the driver: ``scripts/play_real.py`` (an ONNX
policy package) and ``scripts/run_lerobot_policy.py`` (a `lerobot-train` checkpoint) share every part:

* :mod:`.run` - one run from the policy to the summary, and its exit codes
* :mod:`.policy` - the :class:`Policy` protocol; :class:`OnnxPolicy`; :mod:`.lerobot_checkpoint` for LeRobot
* :mod:`.start_pose` - is the arm fit to start; the slow, checked move to the policy's start pose
* :mod:`.control_loop` - feedback -> observation -> policy -> safety layer -> `T:102` at the control rate
* :mod:`.feedback_tracker` - the readings the loops use, the velocity estimate, hold and dry run, over the
  driver's :class:`~roarm_lab.driver.session.ArmSession`
* :mod:`.watchdog` - stop when fresh feedback stops coming
* :mod:`.scheduler` - control-step timing on the monotonic clock
* :mod:`.gc_freeze` - no full garbage-collection pauses during the motion loops
* :mod:`.stop_request` - Ctrl+C / SIGTERM as a request the loops honour at the next step
* :mod:`.run_log`, :mod:`.summary`, :mod:`.plot` - ``steps.jsonl``, ``summary.json`` and ``joints.png``
* :mod:`.errors` - why a run refused to start or stopped

The safety layer itself is the driver's (:mod:`roarm_lab.driver.safety`).
"""

from roarm_lab.runner.policy import OnnxPolicy, Policy
from roarm_lab.runner.run import ExitCode, PlayOptions, play

__all__ = ["ExitCode", "OnnxPolicy", "PlayOptions", "Policy", "play"]
