"""LeRobot's own command-line tools (lerobot 0.6.1, for real) with the RoArm plugins against two emulated arms:
`lerobot-teleoperate` leader -> follower, `lerobot-record` into a v3 dataset that `LeRobotDataset` loads back,
`lerobot-replay` of a recorded episode. The emulators run in this process on pseudo-terminals; the CLIs run as
subprocesses, offline, with LeRobot's home in a temporary directory.

The leader's servos are limp (torque off), so the emulator's "hand" (``EmulatorConfig.hand_pose``) moves it,
as a person would; the follower must then reach the same joint angles (model rad), which the test reads from
the follower emulator's true servo state, not from anything the plugins report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from emulated_arm import emulator

from roarm_lab.description import HOME_POSE
from roarm_lab.lerobot_io.features import JOINT_POS_KEYS

FPS = 30
#: Quantisation (2 pi / 4096 = 1.5 mrad) plus the follower's settling: "reached" within this, rad.
REACHED_RAD = 0.01
POSE_A = (0.4, 0.3, 1.3, 0.2, 0.1, 0.6)
POSE_B = (-0.3, 0.1, 1.6, -0.3, -0.2, 0.9)

pytestmark = [pytest.mark.pty, pytest.mark.lerobot, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("lerobot-teleoperate") is None, reason="lerobot CLIs not installed")]


@pytest.fixture
def lerobot_env(tmp_path) -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", HF_LEROBOT_HOME=str(tmp_path / "lerobot_home"),
                HF_HOME=str(tmp_path / "hf_home"))


def follower_args(port: str) -> list[str]:
    return ["--robot.type=roarm_m3_follower", f"--robot.port={port}", "--robot.id=follower",
            "--robot.boot_timeout_s=5"]


def leader_args(port: str) -> list[str]:
    return ["--teleop.type=roarm_m3_leader", f"--teleop.port={port}", "--teleop.id=leader", "--teleop.boot_timeout_s=5"]


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def commands_run(emu, code: int) -> int:
    return sum(1 for c in emu.snapshot().executed if c.get("T") == code)


def reached(emu, pose, tol: float = REACHED_RAD) -> bool:
    return bool(np.max(np.abs(np.asarray(emu.snapshot().q_model) - pose)) < tol)


def finish(proc: subprocess.Popen, timeout_s: float = 60) -> str:
    out, _ = proc.communicate(timeout=timeout_s)
    assert proc.returncode == 0, f"{proc.args[0]} failed ({proc.returncode}):\n{out[-4000:]}"
    return out


def test_teleoperate_follower_tracks_leader(lerobot_env):
    with emulator() as follower, emulator() as leader:
        proc = subprocess.Popen(["lerobot-teleoperate", *follower_args(follower.port), *leader_args(leader.port),
                                 f"--fps={FPS}", "--teleop_time_s=6"], env=lerobot_env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            wait_for(lambda: commands_run(follower, 102) > 0, 30, "the teleoperation loop to start")
            assert not any(leader.snapshot().torque_on), "the leader's torque must be off"
            for pose in (POSE_A, POSE_B):
                leader.config.hand_pose = pose  # a hand moves the limp leader ...
                wait_for(lambda p=pose: reached(leader, p) and reached(follower, p), 20.0,
                         f"leader and follower at {pose}")  # ... and the follower follows
        finally:
            out = finish(proc)
        assert all(leader.snapshot().torque_on), "torque back on when the leader disconnects"
        assert "RoArmM3Follower disconnected" in out


EPISODE_S = 3.0


def record_dataset(root: Path, env: dict[str, str], episodes: int = 2, episode_s: float = EPISODE_S) -> None:
    """lerobot-record with the leader moving from POSE_A to POSE_B during the first episode."""
    with emulator() as follower, emulator() as leader:
        leader.config.hand_pose = POSE_A
        proc = subprocess.Popen(
            ["lerobot-record", *follower_args(follower.port), *leader_args(leader.port),
             "--dataset.repo_id=local/roarm_teleop", f"--dataset.root={root}", f"--dataset.num_episodes={episodes}",
             f"--dataset.episode_time_s={episode_s}", "--dataset.reset_time_s=0.3", f"--dataset.fps={FPS}",
             "--dataset.single_task=follow the leader", "--dataset.push_to_hub=false", "--dataset.no_stamp=true",
             "--play_sounds=false"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for(lambda: commands_run(follower, 102) > 0 and reached(follower, POSE_A), 30,
                     "recording to start with the follower at POSE_A")
            leader.config.hand_pose = POSE_B
        finally:
            finish(proc)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("record")
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_LEROBOT_HOME=str(tmp / "lerobot_home"), HF_HOME=str(tmp / "hf"))
    root = tmp / "dataset"
    record_dataset(root, env)
    return root, env


def test_record_writes_a_v3_dataset_that_loads_back(recorded):
    from lerobot.datasets import LeRobotDataset

    root, _ = recorded
    ds = LeRobotDataset("local/roarm_teleop", root=root)
    assert ds.meta.info.codebase_version == "v3.0"
    assert ds.meta.robot_type == "roarm_m3_follower"
    assert ds.num_episodes == 2 and ds.fps == FPS
    for key in ("observation.state", "action"):
        assert ds.features[key]["names"] == list(JOINT_POS_KEYS) and tuple(ds.features[key]["shape"]) == (6,)
    lengths = list(ds.meta.episodes["length"])
    # episode_time_s x fps frames each where the loop keeps its rate; a loaded machine drops some, never adds any
    assert all(EPISODE_S * FPS / 2 <= n <= EPISODE_S * FPS for n in lengths), lengths
    assert ds.num_frames == sum(lengths)
    first = ds.meta.episodes[0]
    states = np.stack([ds[i]["observation.state"].numpy() for i in range(first["dataset_from_index"],
                                                                            first["dataset_to_index"])])
    actions = np.stack([ds[i]["action"].numpy() for i in range(first["dataset_from_index"],
                                                               first["dataset_to_index"])])
    # the follower started at the firmware's init pose (hardware §3.2); the leader's actions passed where the hand
    # held it first and ended where the hand moved it, and the follower got there within the episode
    assert np.max(np.abs(states[0] - HOME_POSE)) < REACHED_RAD
    assert np.min(np.max(np.abs(actions - POSE_A), axis=1)) < REACHED_RAD
    assert np.max(np.abs(actions[-1] - POSE_B)) < REACHED_RAD
    assert np.max(np.abs(states[-1] - POSE_B)) < REACHED_RAD
    # and each recorded state trails the recorded actions: it reaches POSE_B only after the actions did
    assert np.argmax(np.all(np.abs(actions - POSE_B) < 0.05, axis=1)) <= np.argmax(
        np.all(np.abs(states - POSE_B) < 0.05, axis=1))


def test_replay_drives_the_follower_through_the_recorded_actions(recorded):
    from lerobot.datasets import LeRobotDataset

    root, env = recorded
    ds = LeRobotDataset("local/roarm_teleop", root=root, episodes=[0])
    actions = np.stack([ds[i]["action"].numpy() for i in range(len(ds))])
    with emulator() as follower:
        proc = subprocess.Popen(["lerobot-replay", *follower_args(follower.port),
                                 "--dataset.repo_id=local/roarm_teleop", f"--dataset.root={root}",
                                 "--dataset.episode=0", "--play_sounds=false"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        passed_midway = False
        try:
            wait_for(lambda: commands_run(follower, 102) > 0, 30, "the replay to start")
            midway = actions[len(actions) // 2]
            deadline = time.monotonic() + 10
            while proc.poll() is None and time.monotonic() < deadline:
                passed_midway |= reached(follower, midway, 0.1)
                time.sleep(0.01)
        finally:
            finish(proc)
        assert passed_midway, "the follower never came near the episode's middle action"
        assert reached(follower, actions[-1], REACHED_RAD), "the follower ends at the episode's last action"
