"""JSON protocol layer: commands, refusals, feedback parsing and the joint-limit checks, against docs/hardware.md."""

from __future__ import annotations

import json
import math

import pytest

from roarm_lab.description import HOME_POSE, JOINT_NAMES
from roarm_lab.driver import Feedback, MoveGripper, MoveJoints, SetTorque
from roarm_lab.driver.errors import (
    CommandTooLongError,
    DangerousCommandError,
    InvalidCommandError,
    JointLimitError,
    MalformedFeedbackError,
)
from roarm_lab.driver.motion import move_duration, move_joints_command
from roarm_lab.driver.protocol.commands import (
    DANGEROUS_COMMANDS,
    MAX_LINE_BYTES,
    EmergencyStop,
    InfoPrint,
    MoveJoint,
    MoveToPose,
    MoveToPoseDirect,
    RawCommand,
    RequestFeedback,
    SetGripperTorque,
    SetInfoPrint,
    SetJointTorqueLimits,
    encode,
)
from roarm_lab.driver.safety import check_within_limits, clamp_to_limits

# hardware §2.7: "Key order as emitted (ArduinoJson insertion order)"
FACTS_FEEDBACK_ORDER = "T, x, y, z, tit, b, s, e, t, r, g, tB, tS, tE, tT, tR, tG".split(", ")


def decode(line: bytes) -> dict:
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    return json.loads(line)


def test_t102_fields_units_and_gripper_flip():
    # hardware §2.2 T:102 fields base..hand in rad; hardware §3.2 init pose; hardware §2.8 gripper fw = pi - model.
    doc = decode(encode(MoveJoints(HOME_POSE, spd=1000, acc=50)))
    assert list(doc) == ["T", "base", "shoulder", "elbow", "wrist", "roll", "hand", "spd", "acc"]
    assert doc["T"] == 102 and doc["spd"] == 1000 and doc["acc"] == 50
    assert doc["elbow"] == pytest.approx(math.pi / 2, abs=1e-6)
    assert doc["hand"] == pytest.approx(math.pi, abs=1e-6)  # model closed 0 = firmware ~pi (closed)
    open_doc = decode(encode(MoveJoints((0, 0, 0, 0, 0, 1.5))))
    assert open_doc["hand"] == pytest.approx(math.pi - 1.5, abs=1e-6)
    assert b" " not in encode(MoveJoints(HOME_POSE))  # compact: keeps well inside the 256-byte buffer


def test_single_joint_and_gripper_commands_use_m3_numbering_and_flip():
    # hardware §2: M3 joint numbering 1 base ... 6 gripper; §2.2 T:101 joint/rad/spd/acc, T:106 cmd/spd/acc
    assert decode(encode(MoveJoint("base", 0.5, spd=100, acc=10))) == {
        "T": 101, "joint": 1, "rad": 0.5, "spd": 100, "acc": 10}
    grip = decode(encode(MoveJoint("gripper", 1.0)))
    assert grip["joint"] == 6 and grip["rad"] == pytest.approx(math.pi - 1.0, abs=1e-6)
    t106 = decode(encode(MoveGripper(1.57)))
    assert t106["T"] == 106 and t106["cmd"] == pytest.approx(math.pi - 1.57, abs=1e-6)
    with pytest.raises(InvalidCommandError, match="unknown joint"):
        MoveJoint("hand", 0.0)


def test_cartesian_feedback_torque_and_mode_commands():
    t104 = decode(encode(MoveToPose(346.16, 0.0, 223.13)))  # hardware §3.4 init XYZ
    assert t104 == {"T": 104, "x": 346.16, "y": 0.0, "z": 223.13, "t": 0.0, "r": 0.0,
                    "g": pytest.approx(math.pi, abs=1e-6), "spd": 0.25}
    assert list(decode(encode(MoveToPoseDirect(300, 10, 200, pitch=0.2)))) == ["T", "x", "y", "z", "t", "r", "g"]
    assert decode(encode(RequestFeedback())) == {"T": 105}
    assert decode(encode(SetTorque(False))) == {"T": 210, "cmd": 0}
    assert decode(encode(SetTorque(True))) == {"T": 210, "cmd": 1}
    assert decode(encode(SetInfoPrint(InfoPrint.QUIET))) == {"T": 605, "cmd": 0}
    assert decode(encode(SetGripperTorque(300))) == {"T": 107, "tor": 300}
    t112 = decode(encode(SetJointTorqueLimits(True, (500, 600, 700, 800, 900, 300))))
    assert t112 == {"T": 112, "mode": 1, "b": 500, "s": 600, "e": 700, "t": 800, "r": 900, "h": 300}


@pytest.mark.parametrize("bad", [
    lambda: SetGripperTorque(49), lambda: SetGripperTorque(1001),  # hardware §2.2: 50..1000
    lambda: MoveJoints(HOME_POSE, acc=255),  # hardware §2: acc register 0-254
    lambda: MoveJoints(HOME_POSE, spd=-1), lambda: MoveJoints(HOME_POSE, spd=4097),  # hardware §2.8: 0-4096
    lambda: MoveJoints(HOME_POSE[:5]), lambda: MoveJoints((math.nan, 0, 0, 0, 0, 0)),
    lambda: MoveJoints((10**400, 0, 0, 0, 0, 0)),  # beyond float range
    lambda: MoveGripper(math.inf), lambda: SetInfoPrint(3), lambda: SetJointTorqueLimits(True, (40,) * 6),
    lambda: MoveToPose(0, 0, 0, speed=0), lambda: RawCommand({"x": 1}), lambda: RawCommand({"T": True}),
    lambda: RawCommand({"T": 1, "v": math.nan}),
])
def test_out_of_range_fields_are_refused(bad):
    with pytest.raises(InvalidCommandError):
        bad()


def test_lines_longer_than_the_firmware_buffer_are_refused():
    overhead = len(encode(RawCommand({"T": 999, "s": ""})))
    fits = RawCommand({"T": 999, "s": "a" * (MAX_LINE_BYTES - overhead)})
    assert len(encode(fits)) == MAX_LINE_BYTES == 256  # hardware §1.1 StaticJsonDocument<256>
    with pytest.raises(CommandTooLongError, match="256"):
        encode(RawCommand({"T": 999, "s": "a" * (MAX_LINE_BYTES - overhead + 1)}))


@pytest.mark.parametrize("t", [0, 100, 110, 501, 502, 503, 600, 601, 602, 603, 604, 401, 402, 403, 404, 405, 406,
                               407, 408, 222, 242])
def test_dangerous_commands_need_explicit_opt_in(t):
    command = RawCommand({"T": t})
    with pytest.raises(DangerousCommandError, match=f"T:{t} refused"):
        encode(command)
    assert decode(encode(command, allow_dangerous=True))["T"] == t


def test_broadcast_middle_set_and_estop_explain_themselves():
    with pytest.raises(DangerousCommandError, match="254 broadcasts"):
        encode(RawCommand({"T": 502, "id": 254}))  # hardware §2.3: SDK middle_set() broadcast
    with pytest.raises(DangerousCommandError, match="arm falls"):
        encode(EmergencyStop())
    assert decode(encode(EmergencyStop(), allow_dangerous=True)) == {"T": 0}
    assert 105 not in DANGEROUS_COMMANDS and 102 not in DANGEROUS_COMMANDS and 605 not in DANGEROUS_COMMANDS


def feedback_obj(fw_rad, xyz=(0.0, 0.0, 0.0), tit=0.0, loads=(0,) * 6) -> dict:
    return dict(zip(FACTS_FEEDBACK_ORDER, (1051, *xyz, tit, *fw_rad, *loads), strict=True))


def test_feedback_of_the_init_pose_is_home_in_the_model_frame():
    # hardware §3.2: init pose base 0, shoulder 0, elbow pi/2, wrist 0, roll 0, gripper pi (closed, firmware)
    obj = feedback_obj((0.0, 0.0, math.pi / 2, 0.0, 0.0, math.pi), xyz=(346.16, 0.0, 223.13),
                       loads=(1, -120, 30, 4, 0, -7))
    fb = Feedback.from_json_obj(json.loads(json.dumps(obj)))
    assert fb.q_model == pytest.approx(HOME_POSE, abs=1e-12)
    assert fb.tcp_mm == (346.16, 0.0, 223.13) and fb.loads == (1, -120, 30, 4, 0, -7)
    assert fb.steps == (2048, 2048, 2048, 2048, 2048, 2048)  # hardware §3.1 step maps; middle 2047/2048
    assert not fb.is_dead_bus
    assert list(fb.to_json_obj()) == FACTS_FEEDBACK_ORDER
    assert Feedback.from_json_obj(fb.to_json_obj()) == fb


def test_dead_bus_signature():
    # hardware §2.7: every servo read as step 0 -> the SDK shows ~[180, -180, -90, -180, 180, 180] deg (gripper pi - g)
    fw = (math.pi, -math.pi, -math.pi / 2, -math.pi, math.pi, 0.0)
    fb = Feedback.from_json_obj(feedback_obj(fw))
    assert fb.is_dead_bus and fb.steps == (0,) * 6
    assert [round(math.degrees(q)) for q in fb.q_model] == [180, -180, -90, -180, 180, 180]
    assert not Feedback.from_json_obj(feedback_obj((*fw[:5], 0.01))).is_dead_bus


@pytest.mark.parametrize("edit", [
    lambda o: o.pop("tG"), lambda o: o.update(extra=1), lambda o: o.update(b=True), lambda o: o.update(x="1"),
    lambda o: o.update(s=math.nan), lambda o: o.update(T=105), lambda o: o.update(tS=None),
    lambda o: o.update(y=10**400),
])
def test_malformed_feedback_is_a_typed_error(edit):
    obj = feedback_obj((0.0,) * 6)
    edit(obj)
    with pytest.raises(MalformedFeedbackError):
        Feedback.from_json_obj(obj)


def test_limits_are_checked_and_clamped_in_the_model_frame():
    assert check_within_limits(HOME_POSE) == HOME_POSE
    with pytest.raises(JointLimitError, match=r"shoulder \+1\.2000 rad .*outside \[-1\.3000, \+1\.1000\]"):
        check_within_limits((0, 1.2, 1.5, 0, 0, 0))  # hardware §3.5 KJA88 shoulder -1.3 ... +1.1
    with pytest.raises(JointLimitError, match="gripper"):
        move_joints_command((0, 0, 1.5, 0, 0, 1.6))  # URDF gripper 0 ... 1.5
    q, names = clamp_to_limits((0, 1.2, 1.5, 0, 0, -0.1))
    assert q == (0, 1.1, 1.5, 0, 0, 0.0) and names == ["shoulder", "gripper"]
    with pytest.raises(JointLimitError, match="6 joint values"):
        check_within_limits((0, 0, 0))


def test_move_command_speed_units_and_duration():
    cmd = move_joints_command(HOME_POSE, speed_rad_s=1.0, accel_rad_s2=3.0)
    # hardware §2: spd steps/s (4096 per turn), acc x100 steps/s^2
    assert cmd.spd == round(1.0 / (2 * math.pi / 4096)) == 652 and cmd.acc == round(3.0 / (2 * math.pi / 4096) / 100)
    assert move_duration((0,) * 6, (1, 0, 0, 0, 0, 0), 1.0, 4.0) == pytest.approx(1.25)  # 1 s cruise + 0.25 ramp
    assert move_duration((0,) * 6, (0.25, 0, 0, 0, 0, 0), 1.0, 4.0) == pytest.approx(0.5)  # triangle
    assert len(JOINT_NAMES) == 6
