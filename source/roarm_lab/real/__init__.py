"""The real RoArm-M3 over FW-250108's JSON protocol (``shared/hardware/roarm-m3-facts.md`` §1-§2, §7).

* :mod:`.errors` - the typed errors (all :class:`RealArmError`)
* :mod:`.commands` - typed commands, model frame in, firmware JSON out; :func:`encode` refuses dangerous and
  over-long lines
* :mod:`.feedback` - the `T:1051` reading
* :mod:`.stream` - the robust incremental reader of the arm's serial output
* :mod:`.safety` - ``HARDWARE_SAFE`` checks for targets
* :mod:`.transport` - the transport interface and :func:`open_transport`
* :mod:`.serial_transport`, :mod:`.http_transport` - USB serial / pyserial URLs, and HTTP
* :mod:`.stream_transport`, :mod:`.latest_frame` - USB serial reading the InfoPrint=2 feedback stream instead of
  requesting each reading; the newest frame and its arrival time
* :mod:`.motion` - limit-checked joint moves and waiting for them
* :mod:`.emulator` - the firmware emulator (pty, TCP, HTTP) with fault injection
* :mod:`.runner` - running an ONNX policy package on the arm through a safety layer (``scripts/play_real.py``)

    from roarm_lab.real import MoveJoints, open_transport
    with open_transport(port="/dev/ttyUSB0") as arm:
        fb = arm.feedback()                       # fb.q_model: model rad
        fb = arm.exchange(MoveJoints(q, spd=0, acc=0))
    with open_transport(port="/dev/ttyUSB0", stream=True) as arm:
        frame = arm.latest_feedback(max_age_s=0.05)  # frame.feedback, frame.arrived (monotonic s), frame.seq
        arm.send(MoveJoints(q, spd=0, acc=0))        # written; nothing waits for an answer
"""

from roarm_lab.real.commands import (
    DANGEROUS_COMMANDS,
    MAX_LINE_BYTES,
    Command,
    EmergencyStop,
    InfoPrint,
    MoveGripper,
    MoveJoint,
    MoveJoints,
    MoveToPose,
    MoveToPoseDirect,
    RawCommand,
    RequestFeedback,
    SetGripperTorque,
    SetInfoPrint,
    SetJointTorqueLimits,
    SetTorque,
    encode,
)
from roarm_lab.real.errors import (
    ArmResetError,
    CommandRefusedError,
    CommandTooLongError,
    DangerousCommandError,
    DisconnectedError,
    InvalidCommandError,
    JointLimitError,
    MalformedFeedbackError,
    MalformedReplyError,
    MotionTimeoutError,
    ProtocolError,
    RealArmError,
    StaleStreamError,
    TransportError,
    TransportTimeoutError,
)
from roarm_lab.real.feedback import Feedback
from roarm_lab.real.http_transport import HttpTransport
from roarm_lab.real.latest_frame import LatestFrame, StampedFeedback
from roarm_lab.real.safety import check_within_limits, clamp_to_limits, limit_violations
from roarm_lab.real.serial_transport import SerialTransport
from roarm_lab.real.stream import BootNotice, JsonMessage, StreamReader
from roarm_lab.real.stream_transport import StreamingSerialTransport
from roarm_lab.real.transport import ArmTransport, open_transport

__all__ = [
    "DANGEROUS_COMMANDS", "MAX_LINE_BYTES", "ArmResetError", "ArmTransport", "BootNotice", "Command",
    "CommandRefusedError", "CommandTooLongError", "DangerousCommandError", "DisconnectedError", "EmergencyStop",
    "Feedback", "HttpTransport", "InfoPrint", "InvalidCommandError", "JointLimitError", "JsonMessage", "LatestFrame",
    "MalformedFeedbackError", "MalformedReplyError", "MotionTimeoutError", "MoveGripper", "MoveJoint", "MoveJoints",
    "MoveToPose", "MoveToPoseDirect", "ProtocolError", "RawCommand", "RealArmError", "RequestFeedback",
    "SerialTransport", "SetGripperTorque", "SetInfoPrint", "SetJointTorqueLimits", "SetTorque", "StaleStreamError",
    "StampedFeedback", "StreamReader", "StreamingSerialTransport",
    "TransportError", "TransportTimeoutError", "check_within_limits", "clamp_to_limits", "encode",
    "limit_violations", "open_transport",
]
