"""--robot_profile through the commands: train.py copies the profile into its run, export_onnx and play take the
run's (a different one is refused with both hashes), the package records it; bad profiles end in ``error: ...``
and exit 2 without a traceback. Commands run in this process (their main(argv))."""

from __future__ import annotations

import importlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml
from robot_profiles import measured_profile, scaled_profile

from roarm_lab.deploy import PolicyPackage
from roarm_lab.deploy.metadata import METADATA_KEY, write_metadata
from roarm_lab.description.robot_profile import Estimate, load_profile, nominal_profile, save_profile
from roarm_lab.training import run as runs

TASK = "RoArm-Reach"


def _main(name: str):
    return importlib.import_module(f"roarm_lab.cli.{name}").main


@pytest.fixture(scope="module")
def profile_file(tmp_path_factory) -> Path:
    return save_profile(measured_profile(), tmp_path_factory.mktemp("profiles") / "arm-a.yaml")


@pytest.fixture(scope="module")
def bad_profile_file(tmp_path_factory) -> Path:
    doc = measured_profile().to_dict()
    doc["schema_version"] = 2
    path = tmp_path_factory.mktemp("profiles") / "future.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def other_profile_file(tmp_path_factory) -> Path:
    return save_profile(scaled_profile("stiff", stiffness=2.0), tmp_path_factory.mktemp("profiles") / "stiff.yaml")


@pytest.fixture(scope="module")
def profile_run(profile_file, tmp_path_factory) -> Path:
    """Three PPO iterations of Reach on 16 MuJoCo environments of the measured profile's arm."""
    root = tmp_path_factory.mktemp("logs")
    code = _main("train")(["--task", TASK, "--backend", "mujoco", "--num_envs", "16", "--max_iterations", "3",
                           "--warm_start", "none", "--threads", "1", "--log_root", str(root),
                           "--robot_profile", str(profile_file)])
    assert code == 0
    return next((root / TASK).iterdir())


def _no_traceback(err: str) -> None:
    assert err.startswith("error: ") and "Traceback" not in err


@pytest.mark.slow
def test_train_copies_the_profile_into_its_run(profile_run, profile_file):
    profile = load_profile(profile_file)
    copied = runs.run_robot_profile(profile_run)
    assert copied == profile and copied.hash == profile.hash and copied.name == profile.name
    env = yaml.safe_load(runs.env_params_path(profile_run).read_text())
    assert env["robot_profile"] == {"name": "arm-a", "hash": profile.hash, "file": "robot_profile.yaml"}
    assert env["randomization"]["action_latency_steps"] == [1, 1]  # 21 ms +- 4 ms: one control step


@pytest.mark.slow
def test_export_records_the_runs_profile_and_refuses_another(profile_run, profile_file, other_profile_file,
                                                              tmp_path, capsys):
    export = _main("export_onnx")
    out = tmp_path / "policy.onnx"
    assert export(["--checkpoint", str(profile_run), "--out", str(out)]) == 0
    profile = load_profile(profile_file)
    assert f"trained for robot profile arm-a (hash {profile.hash})" in capsys.readouterr().out
    package = PolicyPackage.load(out)
    assert package.robot_profile == {"name": "arm-a", "hash": profile.hash,
                                     "encoder_offsets": list(profile.encoder_offsets), "command_delay_s": 0.021}
    assert package.encoder_offsets == pytest.approx(profile.encoder_offsets)
    # the same profile given again is fine; another one is refused, both hashes named
    assert export(["--checkpoint", str(profile_run), "--out", str(out), "--robot_profile", str(profile_file)]) == 0
    capsys.readouterr()
    assert export(["--checkpoint", str(profile_run), "--out", str(tmp_path / "x.onnx"),
                   "--robot_profile", str(other_profile_file)]) == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert load_profile(other_profile_file).hash in err and profile.hash in err
    assert not (tmp_path / "x.onnx").exists()
    # a re-calibration (sysid.py touch: other encoder offsets, the same physics) needs no retraining
    touched = replace(profile, name="arm-a-touched",
                      joints={j: replace(p, encoder_offset=Estimate(0.005)) for j, p in profile.joints.items()})
    touched_file = save_profile(touched, tmp_path / "touched.yaml")
    assert export(["--checkpoint", str(profile_run), "--out", str(tmp_path / "t.onnx"),
                   "--robot_profile", str(touched_file)]) == 0
    assert PolicyPackage.load(tmp_path / "t.onnx").encoder_offsets == pytest.approx((0.005,) * 6)


@pytest.mark.slow
def test_play_simulates_the_runs_profile_and_refuses_another(profile_run, other_profile_file, capsys):
    play = _main("play")
    checkpoint = str(next(profile_run.glob("model_*.pt")))
    assert play(["--task", TASK, "--checkpoint", checkpoint, "--episodes", "2", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert f"simulating robot profile arm-a (hash {measured_profile().hash})" in out and "success_rate=" in out
    assert play(["--task", TASK, "--checkpoint", checkpoint, "--episodes", "2",
                 "--robot_profile", str(other_profile_file)]) == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "is not the profile the run was trained for" in err


@pytest.mark.parametrize("command", ["train", "play", "export_onnx", "record_sim_demos"])
def test_a_bad_profile_is_an_error_without_a_traceback(command, bad_profile_file, tmp_path, capsys):
    checkpoint = tmp_path / "model_0.pt"
    checkpoint.write_bytes(b"")  # never read: the profile is refused first
    argv = {
        "train": ["--task", TASK, "--backend", "mujoco", "--log_root", str(tmp_path / "logs")],
        "play": ["--task", TASK, "--checkpoint", str(checkpoint)],
        "export_onnx": ["--checkpoint", str(checkpoint), "--out", str(tmp_path / "p.onnx"), "--task", TASK],
        "record_sim_demos": ["--task", "RoArm-Lift", "--episodes", "1", "--root", str(tmp_path / "ds")],
    }[command]
    assert _main(command)([*argv, "--robot_profile", str(bad_profile_file)]) == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "schema version 2 is not supported" in err and str(bad_profile_file) in err
    assert not (tmp_path / "logs").exists() and not (tmp_path / "ds").exists()
    assert _main(command)([*argv, "--robot_profile", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read robot profile" in capsys.readouterr().err


def test_packages_without_the_field_read_as_nominal(tmp_path):
    from rsl_rl.runners import OnPolicyRunner

    from roarm_lab.deploy.export import export_policy_package
    from roarm_lab.sim_mujoco.env import MujocoTaskEnv
    from roarm_lab.training.policy import runner_cfg

    runner = OnPolicyRunner(MujocoTaskEnv(TASK, 1, nthread=1), runner_cfg(TASK).to_dict(), log_dir=None)
    actor = runner.get_inference_policy("cpu")
    nominal = PolicyPackage.load(export_policy_package(actor, TASK, tmp_path / "nominal.onnx"))
    assert nominal.robot_profile["hash"] == nominal_profile().hash and nominal.robot_profile["name"] == "nominal"
    assert nominal.trained_for == "the nominal description" and not nominal.encoder_offsets.any()
    profiled = PolicyPackage.load(export_policy_package(actor, TASK, tmp_path / "arm.onnx",
                                                        robot_profile=measured_profile()))
    assert profiled.trained_for == f"robot profile arm-a (hash {measured_profile().hash})"
    # an older package: the same metadata without robot_profile
    model = onnx.load(tmp_path / "arm.onnx")
    meta = json.loads({p.key: p.value for p in model.metadata_props}[METADATA_KEY])
    del meta["robot_profile"]
    write_metadata(model, meta)
    (tmp_path / "old.onnx").write_bytes(model.SerializeToString())
    old = PolicyPackage.load(tmp_path / "old.onnx")
    assert old.trained_for == "the nominal description" and np.all(old.encoder_offsets == 0.0)
    # a broken field is refused by name
    meta["robot_profile"] = {**profiled.robot_profile, "encoder_offsets": [0.0] * 5}
    write_metadata(model, meta)
    (tmp_path / "broken.onnx").write_bytes(model.SerializeToString())
    from roarm_lab.deploy import PolicyPackageError

    with pytest.raises(PolicyPackageError, match="robot_profile.encoder_offsets must be 6 finite numbers"):
        PolicyPackage.load(tmp_path / "broken.onnx")


@pytest.mark.slow
def test_a_run_without_a_profile_exports_only_for_the_nominal_arm(tmp_path, capsys):
    """A run trained without --robot_profile was trained for the nominal description: only a profile with the nominal
    physics (encoder offsets aside, as sysid.py touch writes them) may be recorded in its package."""
    from run_dirs import new_run

    run, runner = new_run(tmp_path / "logs", TASK, 4)
    runner.save(str(run / "model_0.pt"))
    export = _main("export_onnx")
    nominal = nominal_profile()
    touched = replace(nominal, name="touched",
                      joints={j: replace(p, encoder_offset=Estimate(-0.01)) for j, p in nominal.joints.items()})
    assert export(["--checkpoint", str(run), "--out", str(tmp_path / "a.onnx"),
                   "--robot_profile", str(save_profile(touched, tmp_path / "touched.yaml"))]) == 0
    assert PolicyPackage.load(tmp_path / "a.onnx").encoder_offsets == pytest.approx((-0.01,) * 6)
    capsys.readouterr()
    assert export(["--checkpoint", str(run), "--out", str(tmp_path / "b.onnx"),
                   "--robot_profile", str(save_profile(measured_profile(), tmp_path / "measured.yaml"))]) == 2
    err = capsys.readouterr().err
    _no_traceback(err)
    assert "nominal description" in err and not (tmp_path / "b.onnx").exists()
