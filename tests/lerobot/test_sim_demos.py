"""The record_sim_demos command (:mod:`roarm_lab.cli.record_sim_demos`) and the crash-safe LeRobot writer, against
real MuJoCo and real LeRobot 0.6.

Facts checked independently of the recorder: the reset sampler's first states (same seed), the hardware-safe joint
limits, the expert's two gripper commands, the task's episode length and place radius, and what is on disk
before and after a crash (a SIGKILL while an episode is simulated, and one inside LeRobot's write)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from roarm_lab.cli import record_sim_demos
from roarm_lab.description import HARDWARE_SAFE
from roarm_lab.evaluation import eval_cfg
from roarm_lab.lerobot_io.append_journal import JOURNAL
from roarm_lab.lerobot_io.dataset_features import (
    ACTION,
    ENVIRONMENT_STATE,
    ROBOT_TYPE,
    STATE,
    TASK_PROMPTS,
    sim_demo_features,
)
from roarm_lab.lerobot_io.episode_writer import DatasetRootError, EpisodeWriter, FeatureMismatchError
from roarm_lab.lerobot_io.features import JOINT_POS_KEYS
from roarm_lab.tasks.lift import SUCCESS_HEIGHT_M as LIFT_SUCCESS_HEIGHT_M
from roarm_lab.tasks.lift import SUCCESS_HOLD_S as LIFT_SUCCESS_HOLD_S
from roarm_lab.tasks.pick_place import PLACE_RADIUS_M
from roarm_lab.tasks.registry import get_task
from roarm_lab.tasks.scene import CUBE_REST_Z
from roarm_lab.tasks.scripted import CLOSED, OPEN
from roarm_lab.tasks.timing import CONTROL_HZ

RECORD = record_sim_demos.main
#: the command in a child process (the crash tests kill it)
COMMAND = [sys.executable, "-m", "roarm_lab.cli.record_sim_demos"]
PICK_PLACE, LIFT = "RoArm-PickPlace", "RoArm-Lift"
REPO_ID = "local/test_demos"
SEED = 3
pytestmark = [pytest.mark.lerobot, pytest.mark.slow, pytest.mark.usefixtures("scratch_hf_cache")]


def child_env(tmp_path: Path, **extra) -> dict[str, str]:
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", **extra}
    return env


def record(*args) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = RECORD([*map(str, args)])
    return code, out.getvalue()


def load(root: Path, repo_id: str = REPO_ID):
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    return LeRobotDataset(repo_id, root=root, video_backend="pyav")


def episodes_of(dataset, key: str) -> list[np.ndarray]:
    """One (frames, ...) array per episode, in episode order."""
    table = dataset.hf_dataset.with_format("numpy")
    values, index = np.stack(table[key]), np.asarray(table["episode_index"])
    return [values[index == e] for e in range(dataset.num_episodes)]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes (folders as empty markers)."""
    if root.is_file():
        return {".": root.read_bytes()}
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>") for p in root.rglob("*")}


def reset_states(task: str, num_envs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """What the env's first reset draws: joint positions and (cube, target, sin 4 yaw, cos 4 yaw) per environment."""
    sample = get_task(task).reset(eval_cfg(task), num_envs, torch.Generator().manual_seed(seed))
    w, x, y, z = sample.object_quat.double().numpy().T  # wxyz
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return sample.joint_pos.numpy(), np.concatenate([sample.object_pos.numpy(), sample.command.numpy(),
                                                     np.sin(4 * yaw)[:, None], np.cos(4 * yaw)[:, None]], axis=1)


@pytest.fixture(scope="module")
def demos(tmp_path_factory) -> tuple[Path, str]:
    """Two PickPlace episodes from two environments, and what the script printed."""
    root = tmp_path_factory.mktemp("demos") / "pickplace"
    code, out = record("--task", PICK_PLACE, "--episodes", 2, "--num-envs", 2, "--seed", SEED, "--root", root,
                       "--repo-id", REPO_ID)
    assert code == 0, out
    return root, out


def test_dataset_loads_with_the_follower_features(demos):
    root, out = demos
    ds = load(root)
    assert ds.fps == CONTROL_HZ and ds.meta.robot_type == ROBOT_TYPE
    for key in (STATE, ACTION):
        assert ds.features[key]["dtype"] == "float32" and tuple(ds.features[key]["shape"]) == (6,)
        assert tuple(ds.features[key]["names"]) == JOINT_POS_KEYS
    assert ds.features[ENVIRONMENT_STATE]["names"] == ["cube.x", "cube.y", "cube.z", "target.x", "target.y",
                                                      "target.z", "cube.yaw_sin4", "cube.yaw_cos4"]
    length = eval_cfg(PICK_PLACE).max_episode_length  # 8 s at 30 Hz: no cube fell, so every episode ran out
    assert ds.num_episodes == 2 and len(ds) == 2 * length
    assert [ep["length"] for ep in ds.meta.episodes] == [length, length]
    assert list(ds.meta.tasks.index) == [TASK_PROMPTS[PICK_PLACE]]
    last = ds[length - 1]
    assert last["frame_index"].item() == length - 1
    assert last["timestamp"].item() == pytest.approx((length - 1) / CONTROL_HZ, abs=1e-4)
    assert "episodes_written=2 frames=480" in out


def test_first_frames_are_the_envs_reset_states(demos):
    ds = load(demos[0])
    joints, scene = reset_states(PICK_PLACE, 2, SEED)
    firsts = [(s[0], e[0]) for s, e in zip(episodes_of(ds, STATE), episodes_of(ds, ENVIRONMENT_STATE), strict=True)]
    matched = []
    for state, env_state in firsts:
        env = [i for i in range(2) if np.allclose(state, joints[i], atol=1e-6)]
        assert len(env) == 1, f"first state {state} is no reset state of seed {SEED}: {joints}"
        np.testing.assert_allclose(env_state, scene[env[0]], atol=1e-6)
        matched += env
    assert sorted(matched) == [0, 1]


def test_actions_are_the_experts_joint_targets(demos):
    ds = load(demos[0])
    actions = np.concatenate(episodes_of(ds, ACTION))
    assert np.all(actions >= np.float32(HARDWARE_SAFE.lower)) and np.all(actions <= np.float32(HARDWARE_SAFE.upper))
    # the expert commands open or closed jaws only: absolute targets, not raw policy actions
    np.testing.assert_array_equal(np.unique(actions[:, 5]), np.float32([CLOSED, OPEN]))
    assert np.ptp(actions[:, :5], axis=0).min() > 0.05  # every arm joint is moved


def test_the_recorded_cube_is_carried_to_the_target(demos):
    root, out = demos
    ds = load(root)
    assert out.count("frames, success") == 2  # the expert placed both cubes (per the env's success condition) ...
    for scene in episodes_of(ds, ENVIRONMENT_STATE):  # ... and the recorded positions show it
        assert scene[:, 2].max() > CUBE_REST_Z + 0.03
        assert np.linalg.norm(scene[-1, :2] - scene[-1, 3:5]) < PLACE_RADIUS_M
        np.testing.assert_allclose(scene[:, 3:6], scene[:1, 3:6].repeat(len(scene), 0))  # the target stays put


@pytest.mark.slow
def test_appending_adds_episodes_and_keeps_the_old_ones(demos, tmp_path):
    root = tmp_path / "pickplace"
    shutil.copytree(demos[0], root)
    before = load(root)
    old_states = episodes_of(before, STATE)
    code, out = record("--task", PICK_PLACE, "--episodes", 1, "--num-envs", 1, "--seed", SEED, "--root", root,
                       "--repo-id", REPO_ID)
    assert code == 0, out
    after = load(root)
    assert after.num_episodes == 3 and len(after) == 3 * eval_cfg(PICK_PLACE).max_episode_length
    states = episodes_of(after, STATE)
    for old, new in zip(old_states, states, strict=False):
        np.testing.assert_array_equal(old, new)
    joints, _ = reset_states(PICK_PLACE, 1, SEED + 2)  # the seed moves on by the episodes already there
    np.testing.assert_allclose(states[2][0], joints[0], atol=1e-6)
    assert "simulation seed 5" in out


def test_only_successful_drops_the_failed_episodes(tmp_path):
    root = tmp_path / "lift"
    # executed with noise (the expert's targets recorded) the expert fails often enough that some of the first
    # episodes are failures, however good it is without noise
    code, out = record("--task", LIFT, "--episodes", 3, "--num-envs", 8, "--seed", 0, "--root", root,
                       "--repo-id", REPO_ID, "--only-successful", "--action-noise", 0.05)
    assert code == 0, out
    assert out.count("not written") >= 1 and "episodes_written=3" in out
    ds = load(root)
    assert ds.num_episodes == 3
    hold = int(LIFT_SUCCESS_HOLD_S * CONTROL_HZ)
    for scene in episodes_of(ds, ENVIRONMENT_STATE):  # Lift's success, read off the recorded cube height
        up = (scene[:, 2] - CUBE_REST_Z >= LIFT_SUCCESS_HEIGHT_M).astype(int)
        runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], up, [0]]))))[::2]
        assert runs.size and runs.max() >= hold


def wait_for_episodes(root: Path, count: int, process: subprocess.Popen, log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = root / "meta" / "info.json"
        if info.is_file() and json.loads(info.read_text())["total_episodes"] >= count:
            return
        assert process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.05)
    raise AssertionError(f"no {count} episodes in {root} after {timeout_s} s: {log.read_text()[-3000:]}")


@pytest.mark.slow
def test_a_killed_recording_keeps_every_written_episode(tmp_path):
    root, log = tmp_path / "lift", tmp_path / "record.log"
    cmd = [*COMMAND, "--task", LIFT, "--episodes", "3", "--num-envs", "1", "--root", str(root),
           "--repo-id", REPO_ID, "--realtime"]  # 5 s episodes in wall-clock time
    with log.open("w") as out:
        process = subprocess.Popen(cmd, env=child_env(tmp_path), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_episodes(root, 1, process, log)
        time.sleep(1.0)  # well into the second episode
        assert process.poll() is None, log.read_text()[-3000:]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    ds = load(root)
    assert ds.num_episodes == 1 and len(ds) == eval_cfg(LIFT).max_episode_length
    leftovers = [p.name for p in (root / JOURNAL, *tmp_path.glob(".lift*")) if p.exists()]
    assert not leftovers, f"{leftovers} after the kill; the recorder printed: {log.read_text()[-3000:]}"
    code, out = record("--task", LIFT, "--episodes", 1, "--num-envs", 1, "--root", root, "--repo-id", REPO_ID)
    assert code == 0, out
    assert load(root).num_episodes == 2


KILL_INSIDE_THE_WRITE = """
import os, signal, sys
import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from roarm_lab.lerobot_io.append_journal import AppendJournal

root, repo_id = sys.argv[1:]
AppendJournal.begin(root)
dataset = LeRobotDataset.resume(repo_id, root=root, video_backend="pyav")
for _ in range(5):
    dataset.add_frame({"observation.state": np.zeros(6, np.float32), "action": np.zeros(6, np.float32),
                       "observation.environment_state": np.zeros(8, np.float32), "task": "t"})
dataset.save_episode()  # info.json now counts the episode; its parquet files have no footer yet
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_a_crash_inside_the_write_is_rolled_back(demos, tmp_path):
    root = tmp_path / "pickplace"
    shutil.copytree(demos[0], root)
    before = snapshot(root)
    run = subprocess.run([sys.executable, "-c", KILL_INSIDE_THE_WRITE, str(root), REPO_ID], env=child_env(tmp_path),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert json.loads((root / "meta" / "info.json").read_text())["total_episodes"] == 3  # torn: 3 counted
    writer = EpisodeWriter(root, REPO_ID, int(CONTROL_HZ), sim_demo_features())
    assert writer.recovered_append
    assert snapshot(root) == before
    assert load(root).num_episodes == 2


def test_bad_roots_are_refused_and_left_alone(demos, tmp_path, capsys):
    features = sim_demo_features()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a dataset")
    other = tmp_path / "other"
    (other / "sub").mkdir(parents=True)
    (other / "sub" / "b.csv").write_text("1,2")
    dataset = tmp_path / "dataset"
    shutil.copytree(demos[0], dataset)
    before = {p: snapshot(p) for p in (a_file, other, dataset)}

    with pytest.raises(DatasetRootError, match="is a file"):
        EpisodeWriter(a_file, REPO_ID, 30, features)
    with pytest.raises(DatasetRootError, match="no LeRobot dataset"):
        EpisodeWriter(other, REPO_ID, 30, features)
    with pytest.raises(FeatureMismatchError, match="observation.images.front"):
        EpisodeWriter(dataset, REPO_ID, 30, sim_demo_features({"front": (48, 64)}))
    with pytest.raises(FeatureMismatchError, match="fps 30"):
        EpisodeWriter(dataset, REPO_ID, 15, features)
    for root, args in ((a_file, ()), (other, ()), (dataset, ("--fps", "15"))):
        assert RECORD(["--task", LIFT, "--episodes", "1", "--root", str(root), *args]) == 2
        assert "error: " in capsys.readouterr().err
    assert {p: snapshot(p) for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "notes.txt", "other"]  # no staging left


def test_bad_frames_are_refused_before_anything_is_written(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()  # an empty folder is as good as a new one
    writer = EpisodeWriter(root, REPO_ID, 30, sim_demo_features())
    good = {STATE: np.zeros(6), ACTION: np.zeros(6), ENVIRONMENT_STATE: np.zeros(8)}
    with pytest.raises(ValueError, match=r"'observation.state' has shape \(5,\)"):
        writer.add_frame({**good, STATE: np.zeros(5)})
    with pytest.raises(ValueError, match=r"missing \['action'\]"):
        writer.add_frame({STATE: np.zeros(6), ENVIRONMENT_STATE: np.zeros(8)})
    with pytest.raises(ValueError, match="no frames"):
        writer.save_episode("t")
    assert list(tmp_path.rglob("*")) == [root]  # nothing written, no staging folder
    writer.add_frame(good)  # float64 zeros are cast to the features' float32
    assert writer.save_episode("hold still") == 0
    assert load(root).num_episodes == 1


@pytest.mark.slow
def test_a_camera_without_rendering_stops_before_recording(tmp_path):
    root = tmp_path / "cam"
    env = child_env(tmp_path, MUJOCO_GL="glfw")  # glfw needs a display
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    run = subprocess.run([*COMMAND, "--task", LIFT, "--episodes", "1", "--root", str(root),
                          "--camera", "front"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert "cannot render offscreen" in run.stderr and "MUJOCO_GL" in run.stderr
    assert not root.exists() and not list(tmp_path.glob(".cam*"))


def offscreen_rendering_works(env: dict[str, str]) -> bool:
    probe = ("import mujoco; m = mujoco.MjModel.from_xml_string('<mujoco><worldbody><geom size=\"1\"/>"
             "</worldbody></mujoco>'); r = mujoco.Renderer(m, 8, 8); r.render(); r.close()")
    return subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, timeout=120).returncode == 0


@pytest.mark.slow
def test_camera_frames_are_recorded_as_video(tmp_path):
    env = child_env(tmp_path, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"))
    if not offscreen_rendering_works(env):
        pytest.skip(f"MuJoCo cannot render offscreen here (MUJOCO_GL={env['MUJOCO_GL']})")
    root = tmp_path / "cam"
    run = subprocess.run([*COMMAND, "--task", LIFT, "--episodes", "1", "--num-envs", "1",
                          "--root", str(root), "--repo-id", REPO_ID, "--camera", "front", "--camera-size", "48",
                          "64"], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    ds = load(root)
    key = "observation.images.front"
    assert ds.features[key]["dtype"] == "video" and tuple(ds.features[key]["shape"]) == (48, 64, 3)
    first, last = ds[0][key], ds[len(ds) - 1][key]
    assert first.shape == (3, 48, 64) and first.std() > 0.05  # a scene, not a blank frame
    assert (first - last).abs().mean() > 0.005  # the arm moved between them


def test_the_arm_sides_cube_yaw_encoding_is_the_observation_terms():
    """A yaw given on the arm side (run_lerobot_policy.py --cube-yaw, play_real's fixed cube) is encoded as the
    sim demos and the RL policies encode a simulated cube's orientation."""
    from types import SimpleNamespace

    from roarm_lab.lerobot_io.dataset_features import cube_yaw_features
    from roarm_lab.tasks.mdp.observations import object_yaw_cube_symmetric

    for yaw in np.linspace(-np.pi, np.pi, 13):
        quat = torch.tensor([[np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]], dtype=torch.float64)  # wxyz about z
        term = object_yaw_cube_symmetric(SimpleNamespace(object_quat=quat))[0].numpy()
        np.testing.assert_allclose(cube_yaw_features(float(yaw)), term, atol=1e-12)


def test_action_noise_moves_the_arm_but_not_the_recorded_labels():
    from roarm_lab.lerobot_io.sim_demos import SimDemoSource

    clean = next(SimDemoSource(LIFT, num_envs=2, seed=SEED, nthread=1).episodes())
    noisy = next(SimDemoSource(LIFT, num_envs=2, seed=SEED, nthread=1, action_noise=0.05).episodes())
    states = [np.stack([f[STATE] for f in e.frames]) for e in (clean, noisy)]
    np.testing.assert_array_equal(states[0][0], states[1][0])  # the same reset ...
    steps = min(len(s) for s in states)
    assert np.abs(states[0][:steps] - states[1][:steps]).max() > 0.01  # ... then the executed noise moves the arm
    labels = np.stack([f[ACTION] for f in noisy.frames])
    # the labels are the expert's own targets: its gripper commands are exactly open or closed
    assert set(np.unique(labels[:, 5])) <= {np.float32(CLOSED), np.float32(OPEN)}
    with pytest.raises(ValueError, match="action noise"):
        SimDemoSource(LIFT, num_envs=1, action_noise=-0.1)
