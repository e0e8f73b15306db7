"""The driver of the real RoArm-M3: FW-250108's JSON protocol, the transports, the safety checks and the arm
session (hardware §1-§2, §7). No policy, task or simulator code; the firmware emulator (:mod:`roarm_lab.emulator`) and
the policy runner (:mod:`roarm_lab.runner`) sit on top of it.

* :mod:`.errors` - the typed errors (all :class:`RealArmError`)
* :mod:`.protocol` - typed commands (model frame in, firmware JSON out; :func:`encode` refuses dangerous and
  over-long lines), the `T:1051` :class:`Feedback`, and the :class:`MessageReader` of the arm's serial output
* :mod:`.transports` - USB serial / pyserial URLs (requests or the InfoPrint=2 stream) and HTTP, behind one
  interface, and :func:`open_transport`
* :mod:`.session` - :class:`ArmSession`: the one way to talk to an arm (readings in either feedback mode,
  commands, hold, torque), set up by :class:`ArmLinkSettings`
* :mod:`.safety` - ``HARDWARE_SAFE`` checks of targets and the :class:`SafetyLayer` for policy targets
* :mod:`.motion` - limit-checked joint moves and waiting for them

    from roarm_lab.driver import ArmLinkSettings, ArmSession, MoveJoints
    with ArmSession(ArmLinkSettings(port="/dev/ttyUSB0")) as arm:
        reading = arm.read(max_age_s=0.05)       # reading.feedback.q_model (model rad), .arrived, .seq
        arm.send(MoveJoints(q, spd=0, acc=0))    # written; nothing waits for an answer
"""

from roarm_lab.driver.errors import RealArmError
from roarm_lab.driver.protocol.commands import MoveGripper, MoveJoints, SetTorque
from roarm_lab.driver.protocol.feedback import Feedback
from roarm_lab.driver.safety import SafetyConfig, SafetyLayer, WorkspaceBox
from roarm_lab.driver.session import FEEDBACK_MODES, REQUEST, STREAM, ArmLinkSettings, ArmSession

__all__ = ["FEEDBACK_MODES", "REQUEST", "STREAM", "ArmLinkSettings", "ArmSession", "Feedback", "MoveGripper",
           "MoveJoints", "RealArmError", "SafetyConfig", "SafetyLayer", "SetTorque", "WorkspaceBox"]
