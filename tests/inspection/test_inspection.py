"""The inspection core (roarm_lab.inspection), tested for real: MuJoCo scenes, rsl-rl and ONNX policies, runner logs
and LeRobot datasets, and the firmware emulator on a pseudo-terminal for the live mirror.

Independent facts: play.py's evaluation of the same checkpoint (the same actions step by step), the hardware-safe
limits, the analytic IK, the logged joints themselves, the emulated arm's true joints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from emulated_arm import FAST, emulator, wait_until

from roarm_lab.description import HARDWARE_SAFE, JOINT_NAMES
from roarm_lab.description.firmware_units import RAD_PER_STEP
from roarm_lab.inspection.errors import InspectionError
from roarm_lab.inspection.replay import Replay
from roarm_lab.inspection.scene import TaskScene, joint_slider_ranges, list_tasks, load_policy
from roarm_lab.tasks.registry import TASK_IDS

TASK = "RoArm-Reach"


@pytest.fixture(scope="module")
def reach_checkpoint(tmp_path_factory):
    """An rsl-rl Reach checkpoint (untrained weights: the tests compare actions, not skill) in a run directory."""
    from rsl_rl.runners import OnPolicyRunner

    from roarm_lab.sim_mujoco.env import MujocoTaskEnv
    from roarm_lab.training import run
    from roarm_lab.training.policy import runner_cfg

    torch.manual_seed(3)
    run_dir = tmp_path_factory.mktemp("logs") / TASK / "2026-01-01_00-00-00"
    (run_dir / "params").mkdir(parents=True)
    run.write_env_params(run_dir, {"task": TASK})
    runner = OnPolicyRunner(MujocoTaskEnv(TASK, 2, nthread=1), runner_cfg(TASK).to_dict(), log_dir=None,
                            device="cpu")
    with torch.no_grad():  # weights far from zero, so the actions move the arm
        for p in runner.alg.actor.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    runner.save(str(run_dir / "model_7.pt"))
    return run_dir


def test_tasks_and_slider_ranges_come_from_the_registry_and_the_hardware_limits():
    assert list_tasks() == TASK_IDS
    ranges = joint_slider_ranges()
    assert list(ranges) == list(JOINT_NAMES)
    assert [r[0] for r in ranges.values()] == pytest.approx(HARDWARE_SAFE.lower)
    assert [r[1] for r in ranges.values()] == pytest.approx(HARDWARE_SAFE.upper)


def test_a_policy_stepped_by_the_core_gives_play_pys_actions(reach_checkpoint):
    """play.py evaluates through roarm_lab.evaluation.evaluate; its first held-out episode for a seed is the
    scene's episode, so the actions agree step by step, exactly."""
    from roarm_lab.evaluation import evaluate

    seed, steps = 4, 40
    policy = load_policy(TASK, reach_checkpoint)  # the run directory: its latest checkpoint
    assert policy.kind == "rsl_rl" and policy.path.name == "model_7.pt"
    played: list[torch.Tensor] = []
    evaluate(TASK, policy.act, episodes=1, seed=seed, nthread=1,
             on_step=lambda env: played.append(env.action[0].clone()) if len(played) < steps else None)
    scene = TaskScene(TASK, seed=seed)
    scene.set_policy(policy)
    for i in range(steps):
        frame = scene.step()
        assert frame.source == "policy"
        assert torch.equal(torch.tensor(frame.action), played[i]), i
    assert frame.step == steps and frame.reward is not None and frame.joint_targets is not None
    moved = np.abs(np.subtract(frame.joint_pos, TaskScene(TASK, seed=seed).frame.joint_pos)).max()
    assert moved > 0.05  # the policy moved the arm


def test_an_onnx_package_acts_as_its_checkpoint(reach_checkpoint, tmp_path):
    from roarm_lab.deploy.export import export_policy_package
    from roarm_lab.training.policy import load_actor

    actor = load_actor(TASK, str(reach_checkpoint / "model_7.pt"))
    package = export_policy_package(actor, TASK, tmp_path / "reach.onnx")
    onnx_scene, torch_scene = TaskScene(TASK, seed=1), TaskScene(TASK, seed=1)
    onnx_scene.load_policy(package)
    torch_scene.load_policy(reach_checkpoint / "model_7.pt")
    assert onnx_scene.policy.kind == "onnx"
    for _ in range(10):
        a, b = onnx_scene.step(), torch_scene.step()
        assert a.action == pytest.approx(b.action, rel=1e-4, abs=1e-4)  # ONNX vs torch, float32
    with pytest.raises(InspectionError, match="RoArm-Lift"):
        load_policy("RoArm-Lift", package)
    with pytest.raises(InspectionError, match="RoArm-Reach run"):
        load_policy("RoArm-Lift", reach_checkpoint)
    with pytest.raises(InspectionError, match="no policy"):
        load_policy(TASK, tmp_path / "missing.onnx")


def test_joints_moved_by_hand_stay_inside_the_limits_and_get_there():
    scene = TaskScene("RoArm-Lift", seed=0)
    wanted = [0.4, 5.0, 1.2, -0.3, 0.5, 0.6]  # the shoulder far beyond its limit
    target = scene.set_joint_targets(wanted)
    assert target[1] == pytest.approx(HARDWARE_SAFE.upper[1])
    assert [t for i, t in enumerate(target) if i != 1] == pytest.approx([w for i, w in enumerate(wanted) if i != 1])
    for _ in range(60):  # 2 s
        frame = scene.step()
    assert frame.source == "hand"
    assert np.abs(np.subtract(frame.joint_pos, target)).max() < 0.05
    with pytest.raises(InspectionError, match="6 finite numbers"):
        scene.set_joint_targets([0.0, float("nan"), 0, 0, 0, 0])
    scene.release_joints()
    assert scene.step().source == "hold"


def test_the_reach_target_moves_where_the_arm_can_reach_it():
    from roarm_lab import kinematics

    scene = TaskScene(TASK, seed=0)
    point = kinematics.tcp_position(np.array([0.3, 0.2, 1.2, 0.3, 0.0, 0.0]))
    assert scene.set_reach_target(point) == pytest.approx(tuple(point))
    assert scene.frame.command == pytest.approx(tuple(point))
    assert scene.env.arm_state.command[0].numpy() == pytest.approx(point, abs=1e-6)
    for bad in ([0.9, 0.0, 0.2], [0.2, 0.0, -0.05]):  # out of reach; below the table
        with pytest.raises(InspectionError, match="cannot reach"):
            scene.set_reach_target(bad)
    assert scene.frame.command == pytest.approx(tuple(point))  # a refused target leaves the old one
    with pytest.raises(InspectionError, match="Reach only"):
        TaskScene("RoArm-Lift").set_reach_target(point)


def test_replay_of_a_runner_log_reproduces_the_logged_joints_exactly(tmp_path):
    from roarm_lab.runner.run_log import RunLog, StepRecord, read_steps

    g = np.random.default_rng(0)
    with RunLog(tmp_path) as log:
        for i in range(50):
            q = g.uniform(-1, 1, 6).round(6).tolist()
            status = "no_feedback" if i == 10 else "commanded"
            log.write_step(StepRecord(step=i, t=i / 30 + g.uniform(0, 0.003), status=status, feedback_age_ms=1.0,
                                      q=None if status == "no_feedback" else q,
                                      command=None if status == "no_feedback" else (np.array(q) + 0.1).tolist()))
    logged = read_steps(tmp_path)
    replay = Replay.from_run(tmp_path)
    assert len(replay) == 50
    t0 = logged[0]["t"]
    for i, step in enumerate(logged):
        sample = replay.at(step["t"] - t0)
        assert sample.index == i
        if step["q"] is None:
            assert np.isnan(sample.measured).all() and np.isnan(sample.commanded).all()
        else:
            assert sample.measured.tolist() == step["q"] and sample.commanded.tolist() == step["command"]
        if i + 1 < len(logged):  # between two samples the earlier one is in force
            assert replay.at((step["t"] + logged[i + 1]["t"]) / 2 - t0).index == i
    assert replay.at(-1.0).index == 0 and replay.at(1e6).index == 49
    with pytest.raises(InspectionError, match="no steps.jsonl"):
        Replay.from_run(tmp_path / "nothing")


@pytest.mark.lerobot
def test_replay_of_a_lerobot_episode_gives_its_frames(tmp_path):
    from roarm_lab.lerobot_io.real_runs import record_run, run_writer

    g = np.random.default_rng(1)
    steps = [{"step": i, "t": i / 30, "status": "commanded", "q": g.uniform(-1, 1, 6).tolist(),
              "command": g.uniform(-1, 1, 6).tolist()} for i in range(20)]
    writer = run_writer(tmp_path / "ds", 30, has_object=False)
    assert record_run(writer, steps, TASK, [0.2, 0.0, 0.2]) == 0
    replay = Replay.from_lerobot(tmp_path / "ds", episode=0)
    assert len(replay) == 20 and replay.duration_s == pytest.approx(19 / 30, abs=1e-4)
    for i, step in enumerate(steps):
        sample = replay.at(i / 30 + 1e-4)
        assert sample.index == i
        assert sample.measured == pytest.approx(np.float32(step["q"]), abs=1e-7)
        assert sample.commanded == pytest.approx(np.float32(step["command"]), abs=1e-7)
    with pytest.raises(InspectionError, match="episodes 0..0"):
        Replay.from_lerobot(tmp_path / "ds", episode=3)
    with pytest.raises(InspectionError, match="not a LeRobot dataset"):
        Replay.from_lerobot(tmp_path)


@pytest.mark.pty
def test_live_mirror_follows_the_emulated_arm_and_commands_only_when_switched_on():
    from roarm_lab.driver.session import ArmLinkSettings
    from roarm_lab.inspection.mirror import LiveMirror

    emu = emulator(baud=0)
    try:
        settings = ArmLinkSettings(port=emu.port, feedback="stream", **FAST)
        with LiveMirror(settings) as mirror:  # read-only
            first = mirror.wait_for(0)
            assert first.q == pytest.approx(emu.snapshot().q_model, abs=RAD_PER_STEP)
            with pytest.raises(InspectionError, match="read-only"):
                mirror.command([0.0] * 6)
        assert not [c for c in emu.snapshot().executed if c["T"] == 102]  # nothing moved the arm
        with LiveMirror(settings, allow_commands=True) as mirror:
            target = list(mirror.wait_for(0).q)
            target[0] += 0.3
            for _ in range(200):  # the safety layer's step limit makes it a few commands
                mirror.command(target)
                if abs(mirror.wait_for(mirror.newest.seq).q[0] - target[0]) < 2 * RAD_PER_STEP:
                    break
            assert wait_until(lambda: abs(emu.snapshot().q_model[0] - target[0]) < 2 * RAD_PER_STEP)
            at_rest = emu.snapshot().q_model
            reading = mirror.wait_for(mirror.newest.seq)  # the next stream frame after the arm came to rest
            assert reading.q == pytest.approx(at_rest, abs=RAD_PER_STEP)
            safe = mirror.command([9.0, 0, 0, 0, 0, 0])  # far outside the base's limits
            assert safe.target[0] <= HARDWARE_SAFE.upper[0] and safe.clamps
    finally:
        emu.stop()
    assert emu.crash is None
