"""The runner corrects for the encoder offsets of the package's robot profile: measured joints less the offsets
are what the policy observes, its joint targets plus the offsets are what the arm is told (so a policy trained in an
offset-free simulation acts on the true joint angles); zero offsets change nothing. End to end on the firmware
emulator, through play_real.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from emulated_arm import emulator, summary_of
from robot_profiles import scaled_profile

from roarm_lab.cli.play_real import main as play_real_main
from roarm_lab.deploy import PolicyPackage
from roarm_lab.deploy.export import export_policy_package
from roarm_lab.description.firmware_units import T102_FIELDS, model_to_firmware_rad
from roarm_lab.runner.policy import ArmObservation, OnnxPolicy
from roarm_lab.runner.run_log import read_steps
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks.mdp.actions import DEFAULT_POSE
from roarm_lab.training.policy import runner_cfg

TASK = "RoArm-Reach"
OFFSETS = (0.03, -0.02, 0.04, 0.01, -0.03, 0.02)  # rad: the encoders read q_true + offset
COMMAND = np.array([0.25, 0.10, 0.15])
pytestmark = pytest.mark.pty


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> tuple[Path, Path]:
    """One fresh Reach actor exported twice: for the nominal description and for a profile with OFFSETS."""
    from rsl_rl.runners import OnPolicyRunner

    torch.manual_seed(0)
    runner = OnPolicyRunner(MujocoTaskEnv(TASK, 1, nthread=1), runner_cfg(TASK).to_dict(), log_dir=None)
    actor = runner.get_inference_policy("cpu")
    out = tmp_path_factory.mktemp("packages")
    nominal = export_policy_package(actor, TASK, out / "nominal.onnx")
    offset = export_policy_package(actor, TASK, out / "offset.onnx",
                                   robot_profile=scaled_profile("offset-arm", offsets=OFFSETS))
    return nominal, offset


def _observation(q) -> ArmObservation:
    return ArmObservation(np.asarray(q, dtype=np.float64), np.linspace(-0.1, 0.1, 6), COMMAND)


def test_offsets_come_off_the_measurement_and_onto_the_targets(packages):
    nominal, offset = (OnnxPolicy(PolicyPackage.load(p)) for p in packages)
    q_true = np.array(DEFAULT_POSE) + np.array([0.1, -0.05, 0.08, 0.02, 0.3, 0.1])
    plain = nominal.step(_observation(q_true))
    shifted = offset.step(_observation(q_true + np.array(OFFSETS)))
    assert shifted.observation == pytest.approx(plain.observation, abs=1e-12)
    assert shifted.action == plain.action
    assert np.asarray(shifted.targets) - np.asarray(plain.targets) == pytest.approx(OFFSETS, abs=1e-12)
    assert offset.start_pose - nominal.start_pose == pytest.approx(OFFSETS, abs=1e-12)


def test_zero_offsets_change_nothing(packages):
    package = PolicyPackage.load(packages[0])
    assert not package.encoder_offsets.any()
    policy = OnnxPolicy(package)
    q = np.array(DEFAULT_POSE) + 0.05
    step = policy.step(_observation(q))
    obs = package.observation_from_state(q, np.linspace(-0.1, 0.1, 6), COMMAND, np.zeros(6, dtype=np.float32))
    action = package.act(obs)
    assert step.observation == obs.tolist() and step.action == action.tolist()
    assert np.array_equal(step.targets, package.joint_targets(action))
    assert np.array_equal(policy.start_pose, np.asarray(DEFAULT_POSE, dtype=np.float64))


def test_the_arm_is_sent_the_policy_targets_shifted_by_the_offsets(packages, tmp_path, capsys):
    package = PolicyPackage.load(packages[1])
    emu = emulator(baud=0)
    try:
        log = tmp_path / "log"
        code = play_real_main(["--policy", str(packages[1]), "--port", emu.port, "--log", str(log), "--settle", "0.1",
                               "--boot-timeout", "5", "--start-speed", "4", "--feedback", "request",
                               "--stale-periods", "30", "--duration", "1", "--no-plot"])
        assert code == 0, summary_of(log)["outcome"]
        executed = [c for c in emu.snapshot().executed if c["T"] == 102]
    finally:
        emu.stop()
    assert emu.crash is None
    out = capsys.readouterr().out
    assert f"policy trained for robot profile offset-arm (hash {package.robot_profile['hash']})" in out
    steps = [s for s in read_steps(log) if s["status"] == "commanded"]
    assert len(steps) >= 10
    offsets = np.array(OFFSETS)
    # the move to the start pose ended at the policy's start pose in the encoder frame
    assert np.array(steps[0]["q"]) == pytest.approx(np.array(DEFAULT_POSE) + offsets, abs=0.03)
    # (the step log keeps 6 decimals: the exact arithmetic is the test above)
    previous_action = np.zeros(6)
    for s in steps:
        # the policy saw the true joints (measured less the offsets) and its targets were shifted by the offsets
        rebuilt = package.observation_from_state(np.array(s["q"]) - offsets, s["joint_vel"], COMMAND, previous_action)
        assert rebuilt == pytest.approx(s["obs"], abs=1e-5)
        unshifted = package.joint_targets(np.array(s["action"]))
        assert np.array(s["policy_target"]) - unshifted == pytest.approx(offsets, abs=2e-6)
        previous_action = np.array(s["action"])
    # every loop step sent one T:102 (request mode), the last ones the firmware ran: they are the safety layer's
    # commands, and where the safety layer changed nothing, the shifted policy targets
    loop_t102 = executed[-len(steps):]
    unclamped = 0
    for s, sent in zip(steps, loop_t102, strict=True):
        assert [sent[f] for f in T102_FIELDS] == pytest.approx(model_to_firmware_rad(np.array(s["command"])),
                                                               abs=1e-5)
        if not s["clamps"]:
            unclamped += 1
            assert [sent[f] for f in T102_FIELDS] == pytest.approx(
                model_to_firmware_rad(package.joint_targets(np.array(s["action"])) + offsets),
                abs=1e-5)
    assert unclamped >= len(steps) // 2
