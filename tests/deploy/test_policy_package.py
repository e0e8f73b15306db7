"""The ONNX policy package: export, round trip against the torch actor, metadata, the runner helpers, refusals."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper
from run_dirs import new_run

from roarm_lab.deploy import PolicyPackage, PolicyPackageError
from roarm_lab.deploy.checkpoint import resolve_checkpoint, training_info
from roarm_lab.deploy.export import export_policy_package
from roarm_lab.deploy.metadata import METADATA_KEY, SCHEMA_KEY, build_metadata, write_metadata
from roarm_lab.deploy.observation import build_observation
from roarm_lab.deploy.verify import TOLERANCE, random_observations, verify_package
from roarm_lab.description import HARDWARE_SAFE, ROBOT_ID
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks.mdp import actions as mdp_actions
from roarm_lab.tasks.registry import TASKS, get_task
from roarm_lab.training.policy import load_actor

TASK = "RoArm-Reach"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A Reach run directory like train.py's: model_3.pt (fresh) and model_12.pt (non-trivial normalizer)."""
    run, runner = new_run(tmp_path_factory.mktemp("logs"), TASK, 8)
    runner.save(str(run / "model_3.pt"))
    g = torch.Generator().manual_seed(1)
    normalizer = runner.alg.get_policy().obs_normalizer
    normalizer._mean.copy_(torch.randn(normalizer._mean.shape, generator=g))
    normalizer._std.copy_(0.05 + 2 * torch.rand(normalizer._std.shape, generator=g))
    runner.save(str(run / "model_12.pt"))
    return run


@pytest.fixture(scope="module")
def actor(run_dir):
    return load_actor(TASK, str(resolve_checkpoint(run_dir)))


@pytest.fixture(scope="module")
def package_file(run_dir, actor, tmp_path_factory) -> Path:
    checkpoint = resolve_checkpoint(run_dir)
    return export_policy_package(actor, TASK, tmp_path_factory.mktemp("pkg") / "policy.onnx",
                                 training=training_info(checkpoint))


@pytest.fixture(scope="module")
def package(package_file) -> PolicyPackage:
    return PolicyPackage.load(package_file, expect_task=TASK)


def random_observations_np(package: PolicyPackage, n: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, package.observation_size)).astype(np.float32)


def test_run_directory_resolves_to_its_latest_checkpoint(run_dir, actor):
    assert resolve_checkpoint(run_dir).name == "model_12.pt"  # numerically latest, not lexically
    assert actor.obs_normalizer.mean.abs().max() > 0.5  # the perturbed normalizer was loaded


def test_onnx_matches_the_torch_actor_on_random_and_simulated_observations(package, actor):
    diffs = verify_package(package, actor, n_random=1000, rollout_envs=8, rollout_steps=16)
    assert set(diffs) == {"random", "sim_rollout"}
    assert all(d <= TOLERANCE for d in diffs.values()), diffs
    # the normalizer is in the graph: without it the network's output is far off
    obs = random_observations(actor, 64)
    with torch.no_grad():
        unnormalized = actor.mlp(obs).numpy()
    assert np.abs(package.act(obs.numpy()) - unnormalized).max() > 1e-2


def test_package_is_one_file_with_a_dynamic_batch(package, package_file):
    assert list(package_file.parent.iterdir()) == [package_file]  # no policy.onnx.data
    model = onnx.load(package_file, load_external_data=False)
    assert not any(onnx.external_data_helper.uses_external_data(t) for t in model.graph.initializer)
    obs = random_observations_np(package, 37)
    batch = package.act(obs)
    assert batch.shape == (37, 6) and package.act(obs[:1]).shape == (1, 6)
    single = package.act(obs[5])
    assert single.shape == (6,) and np.allclose(single, batch[5], atol=1e-6)
    with pytest.raises(ValueError, match=r"obs must have shape \(27,\)"):
        package.act(obs[:, :26])


def test_metadata_describes_the_task_actions_and_firmware(package, package_file):
    meta = package.metadata
    graph_input = onnx.load(package_file).graph.input[0].type.tensor_type.shape.dim
    assert meta["robot_id"] == ROBOT_ID and meta["task"] == TASK and meta["control_hz"] == 30
    obs = meta["observation"]
    assert [t["name"] for t in obs["terms"]] == [t.name for t in get_task(TASK).observation_terms]
    assert sum(t["size"] for t in obs["terms"]) == obs["size"] == graph_input[1].dim_value == 27
    assert [t["offset"] for t in obs["terms"]] == [0, 6, 12, 15, 18, 21]
    assert obs["terms"][0]["source"] == "joint_pos - home_pose" and obs["terms"][0]["noise"] == 0.005
    assert obs["terms"][4] == {"name": "target_error", "offset": 18, "size": 3, "noise": 0.0,
                               "source": "command - fk_tcp(joint_pos)", "inputs": ["joint_pos", "command"]}
    assert set(obs["inputs"]) == {"joint_pos", "joint_vel", "command", "last_action"}
    assert obs["constants"]["joint_vel_scale"] == 0.1 and obs["constants"]["home_pose"][2] == math.pi / 2
    action = meta["action"]
    assert action["scale"] == mdp_actions.ACTION_SCALE and action["default_pose"] == list(mdp_actions.DEFAULT_POSE)
    assert action["clip_lower"] == list(HARDWARE_SAFE.lower) and action["clip_upper"] == list(HARDWARE_SAFE.upper)
    assert meta["joint_limits"]["hardware_safe"] == {"lower": list(HARDWARE_SAFE.lower),
                                                     "upper": list(HARDWARE_SAFE.upper)}
    assert meta["firmware"]["command"] == {"type": "T:102",
                                           "fields": ["base", "shoulder", "elbow", "wrist", "roll", "hand"]}
    assert meta["firmware"]["model_to_firmware"][5] == "pi - q"
    training = meta["training"]
    assert training["checkpoint"] == "model_12.pt" and training["iteration"] == 12 and training["commit"]
    assert meta["exported_at"].endswith("+00:00")


def test_every_task_can_be_described():
    for task in TASKS:
        obs = build_metadata(task)["observation"]
        assert obs["size"] == get_task(task).observation_size
    lift = build_metadata("RoArm-Lift")["observation"]
    assert {"object_pos", "object_quat"} <= set(lift["inputs"]) and "yaw" in lift["functions"]


def test_joint_and_firmware_targets_apply_the_simulators_action_mapping(package):
    a = np.random.default_rng(2).uniform(-4, 4, (200, 6))  # far enough out to hit every clip
    expected = mdp_actions.joint_targets(torch.from_numpy(a)).numpy()
    assert np.allclose(package.joint_targets(a), expected, atol=1e-12)
    assert np.allclose(package.joint_targets(a[0]), expected[0], atol=1e-12)
    fw = package.firmware_targets(a)
    assert np.allclose(fw[:, :5], expected[:, :5]) and np.allclose(fw[:, 5], math.pi - expected[:, 5])
    assert package.t102_fields == ("base", "shoulder", "elbow", "wrist", "roll", "hand")


@pytest.mark.parametrize("task", ["RoArm-Reach", "RoArm-Lift"])
def test_observation_builder_reproduces_the_envs_clean_observation(task):
    env = MujocoTaskEnv(task, 4, seed=3, nthread=1)
    g = torch.Generator().manual_seed(4)
    for _ in range(3):
        env.step(torch.randn(4, 6, generator=g))
    s = env.read_state()
    objects = {}
    if env.spec.has_object:
        objects = {"object_pos": s.object_pos.numpy(), "object_quat": s.object_quat.numpy()}
    built = build_observation(get_task(task), s.joint_pos.numpy(), s.joint_vel.numpy(), env.command.numpy(),
                              env.action.numpy(), **objects)
    critic = env.get_observations()["critic"].numpy()
    assert np.allclose(built, critic, atol=1e-6)
    one = build_observation(get_task(task), s.joint_pos[1].tolist(), s.joint_vel[1].numpy(), env.command[1].numpy(),
                            env.action[1].numpy(), **{k: v[1] for k, v in objects.items()})
    assert one.shape == (critic.shape[1],) and np.allclose(one, critic[1], atol=1e-6)


def test_last_action_input_is_the_newest_action_as_the_metadata_says():
    env = MujocoTaskEnv(TASK, 1, nthread=1)
    first, second = torch.full((1, 6), 0.1), torch.full((1, 6), -0.2)
    assert torch.equal(env.get_observations()["critic"][0, -6:], torch.zeros(6))  # zero at reset
    env.step(first)
    obs = env.step(second)[0]["critic"]
    assert torch.equal(obs[0, -6:], second[0])  # the observation after `second` holds `second`
    description = build_metadata(TASK)["observation"]["inputs"]["last_action"]
    assert "of the most recent policy call" in description


def test_observation_builder_asks_for_what_it_needs(package):
    zeros = {"joint_pos": np.zeros(6), "joint_vel": np.zeros(6), "command": np.zeros(3), "last_action": np.zeros(6)}
    assert package.observation_from_state(**zeros).shape == (27,)
    with pytest.raises(ValueError, match="need object_pos and object_quat"):
        build_observation(get_task("RoArm-Lift"), **zeros)
    with pytest.raises(ValueError, match="has no object"):
        package.observation_from_state(**zeros, object_pos=np.zeros(3))
    with pytest.raises(ValueError, match=r"command must have shape \(3,\)"):
        package.observation_from_state(**{**zeros, "command": np.zeros(2)})


# ---------------------------------------------------------------------------------------------------- refusals
def _rewrite(package_file: Path, tmp_path: Path, edit) -> Path:
    model = onnx.load(package_file)
    meta = json.loads({p.key: p.value for p in model.metadata_props}[METADATA_KEY])
    edit(model, meta)
    out = tmp_path / "edited.onnx"
    out.write_bytes(model.SerializeToString())
    return out


def _set_meta(**changes):
    def edit(model, meta):
        meta.update(changes)
        write_metadata(model, meta)
    return edit


def _drop_action_scale(model, meta):
    del meta["action"]["scale"]
    write_metadata(model, meta)


def _unknown_schema(model, meta):
    helper.set_model_props(model, {SCHEMA_KEY: "99", METADATA_KEY: json.dumps(meta)})


def _graph_of_26_inputs(model, meta):
    """Reach's metadata on a linear graph that reads 26 values."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [26, 6], [0.0] * 156)
    graph = helper.make_graph([helper.make_node("MatMul", ["obs", "w"], ["actions"])], "g",
                              [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", 26])],
                              [helper.make_tensor_value_info("actions", TensorProto.FLOAT, ["batch", 6])], [weight])
    model.graph.CopyFrom(graph)


@pytest.mark.parametrize("edit, message", [
    (_set_meta(robot_id="so100_arm"), "package is for robot 'so100_arm'"),
    (_unknown_schema, "unknown metadata schema version '99'"),
    (_drop_action_scale, "metadata field 'action.scale' is missing"),
    (_graph_of_26_inputs, r"graph input 'obs' has shape \['batch', 26\], the metadata says \(batch, 27\)"),
    (_set_meta(task="RoArm-Lift"), "observation term 2 of the package"),  # Reach's layout under Lift's name
])
def test_refuses_a_package_that_does_not_fit(package_file, tmp_path, edit, message):
    with pytest.raises(PolicyPackageError, match=message):
        PolicyPackage.load(_rewrite(package_file, tmp_path, edit))


def test_refuses_another_task_when_one_is_expected(package_file):
    with pytest.raises(PolicyPackageError, match="package is for task 'RoArm-Reach', expected 'RoArm-Lift'"):
        PolicyPackage.load(package_file, expect_task="RoArm-Lift")


def test_refuses_files_that_are_not_packages(package_file, tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(PolicyPackageError, match="is not (an|a valid) ONNX model"):
        PolicyPackage.load(garbage)
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(package_file.read_bytes()[:20000])
    with pytest.raises(PolicyPackageError, match="is not (an|a valid) ONNX model"):
        PolicyPackage.load(truncated)
    with pytest.raises(PolicyPackageError, match="cannot read"):
        PolicyPackage.load(tmp_path / "missing.onnx")
    plain = tmp_path / "plain.onnx"
    model = onnx.load(package_file)
    helper.set_model_props(model, {})
    plain.write_bytes(model.SerializeToString())
    with pytest.raises(PolicyPackageError, match="no roarm_lab metadata"):
        PolicyPackage.load(plain)


def test_refuses_weights_in_external_data(package_file, tmp_path):
    split = tmp_path / "split.onnx"
    onnx.save_model(onnx.load(package_file), split, save_as_external_data=True, location="split.onnx.data",
                    size_threshold=0)
    assert (tmp_path / "split.onnx.data").exists()
    with pytest.raises(PolicyPackageError, match="external data"):
        PolicyPackage.load(split)


# ---------------------------------------------------------------------------------------------------- CLI
def _cli_main(name: str):
    """A command's main(argv), run in this process (no interpreter and import start-up: seconds per call)."""
    return importlib.import_module(f"roarm_lab.cli.{name}").main


def test_export_cli_writes_and_verifies_a_package(run_dir, tmp_path, capsys):
    out = tmp_path / "cli" / "policy.onnx"
    assert _cli_main("export_onnx")(["--checkpoint", str(run_dir), "--out", str(out), "--verify"]) == 0
    stdout = capsys.readouterr().out
    assert "model_12.pt" in stdout and "max_abs_diff random=" in stdout and ": ok" in stdout
    assert PolicyPackage.load(out).metadata["training"]["run"] == run_dir.name


def test_export_cli_fails_clearly_without_a_checkpoint_or_task(tmp_path, capsys):
    export = _cli_main("export_onnx")
    assert export(["--checkpoint", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "p.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert export(["--checkpoint", str(tmp_path), "--out", str(tmp_path / "p.onnx")]) == 2
    assert "has no model_*.pt" in capsys.readouterr().err


@pytest.mark.slow
def test_play_exports_the_evaluated_checkpoint(run_dir, tmp_path, capsys):
    out = tmp_path / "played.onnx"
    play = _cli_main("play")
    assert play(["--task", TASK, "--checkpoint", str(run_dir / "model_3.pt"), "--episodes", "2", "--threads", "1",
                 "--export", str(out)]) == 0
    assert f"policy package: {out}" in capsys.readouterr().out
    meta = PolicyPackage.load(out).metadata
    assert meta["training"]["checkpoint"] == "model_3.pt" and meta["evaluation"]["episodes"] == 2
