"""The loop's parts that need no arm: the Reach episodes and real metric, the layout files, the CLI's refusals."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from roarm_lab import kinematics
from roarm_lab.cli.improve import main as improve_main
from roarm_lab.driver.safety import WorkspaceBox
from roarm_lab.improve.layout import CSV_FIELDS, Layout, read_json, write_json, write_rounds_csv
from roarm_lab.improve.tasks import ReachLoopTask, loop_task
from roarm_lab.tasks import scene as task_scene


def test_reach_episodes_are_fixed_by_the_seed_and_inside_the_workspace():
    task, box = ReachLoopTask(), WorkspaceBox()
    a, b = task.draw_episodes(10, 3, box), task.draw_episodes(10, 3, box)
    assert a == b and len(a) == 10 and a != task.draw_episodes(10, 4, box)
    assert all(box.contains(e["target"]) and e["object_pos"] is None for e in a)
    tight = WorkspaceBox(lower=(-1.0, -1.0, 0.2), upper=(1.0, 1.0, 1.0))
    assert all(e["target"][2] >= 0.2 for e in task.draw_episodes(5, 0, tight))


def test_the_reach_metric_takes_the_encoder_offsets_off_the_measured_joints():
    task = ReachLoopTask()
    q = np.array([0.3, 0.2, 1.9, 0.4, 0.0, 0.75])
    target = kinematics.tcp_position(q).tolist()
    offsets = np.array([0.0, 0.02, -0.01, 0.0, 0.0, 0.0])
    summary = {"final_measured_q": (q + offsets).tolist()}
    assert task.episode_metric({"target": target}, summary, offsets) == pytest.approx(0.0, abs=1e-9)
    assert task.episode_metric({"target": target}, summary, np.zeros(6)) > 0.003
    assert task.episode_metric({"target": target}, {"final_measured_q": None}, offsets) is None
    assert task.round_metric([0.01, None, 0.03, 0.02]) == pytest.approx(0.02)
    assert task.episode_success(0.009) and not task.episode_success(0.011) and not task.episode_success(None)


def test_lift_is_not_a_loop_task_and_pickplace_episodes_chain():
    from roarm_lab.tasks.pick_place import PLACE_RADIUS_M, PickPlaceCfg

    with pytest.raises(ValueError, match="held up"):
        loop_task("RoArm-Lift")
    task = loop_task("RoArm-PickPlace")
    episodes = task.draw_episodes(12, 3, WorkspaceBox())
    assert episodes == task.draw_episodes(12, 3, WorkspaceBox())
    targets = np.array([e["target"] for e in episodes])
    gaps = np.linalg.norm(np.diff(targets[:, :2], axis=0), axis=1)
    assert gaps.min() >= PickPlaceCfg().min_target_distance  # each cube start (the last target) is far enough
    radius = np.linalg.norm(targets[:, :2], axis=1)
    assert radius.min() >= task_scene.OBJECT_RADIUS_RANGE[0] and radius.max() <= task_scene.OBJECT_RADIUS_RANGE[1]
    # the metric is the camera's last sight of the cube, in the table plane
    summary = {"cube": {"last_cube": {"position": [targets[0, 0] + 0.012, targets[0, 1] - 0.016, 0.015]}}}
    assert task.episode_metric(episodes[0], summary, [0.0] * 6) == pytest.approx(0.02)
    assert task.episode_success(PLACE_RADIUS_M) and not task.episode_success(0.021)
    assert task.episode_metric(episodes[0], {"cube": None}, [0.0] * 6) is None


def test_state_files_are_replaced_whole_and_rounds_csv_has_every_round(tmp_path):
    lay = Layout(tmp_path)
    write_json(lay.state_file(0), {"a": 1})
    write_json(lay.state_file(0), {"a": 2})
    assert read_json(lay.state_file(0)) == {"a": 2} and not list(tmp_path.rglob("*.tmp"))
    assert lay.rounds() == [0] and read_json(tmp_path / "missing.json", {}) == {}
    write_rounds_csv(lay, [{"round": 0, "metric": 0.02, "accepted": True}, {"round": 1, "metric": None}])
    rows = list(csv.DictReader((tmp_path / "rounds.csv").open()))
    assert list(rows[0]) == list(CSV_FIELDS) and rows[0]["metric"] == "0.02" and rows[1]["metric"] == ""


@pytest.mark.parametrize("argv, message", [
    (["--task", "RoArm-Lift"], "held up"),
    (["--task", "RoArm-PickPlace"], "--camera SRC --camera-calib FILE"),
    (["--task", "RoArm-PickPlace", "--camera", "0", "--camera-calib", "c.json", "--touch-points", "8"], "no table"),
    (["--camera", "0", "--camera-calib", "c.json"], "has no cube"),
    (["--episodes", "0"], "--episodes must be >= 1"),
    (["--rounds", "-1"], "--rounds must be >= 0"),
    ([], "give the start policy"),
])
def test_bad_input_is_refused_before_the_port_is_opened(argv, message, tmp_path, capsys):
    base = ["--port", str(tmp_path / "no-such-port"), "--workdir", str(tmp_path / "loop")]
    assert improve_main(base + argv) == 2
    assert message in capsys.readouterr().err


def test_the_fine_tune_continues_the_runs_optimizer_at_its_learning_rate(tmp_path):
    """A converged run ends with a small action std and, under the KL-adaptive schedule, a small learning rate. The
    fine-tune continues that optimizer: from a checkpoint that ended at 3e-5 the policy barely moves in two PPO
    iterations, where the same weights under a fresh optimizer at the configured 1e-3 (what an untrained run saves)
    move it many times further (on a trained Reach policy that lost its success within ten iterations)."""
    import torch
    from run_dirs import new_run

    from roarm_lab.improve.simulation import finetune
    from roarm_lab.training.dagger import set_action_std
    from roarm_lab.training.policy import load_actor, obs_policy

    task = "RoArm-Reach"
    run, runner = new_run(tmp_path / "logs", task, 8)
    set_action_std(runner.alg.actor, 0.01)
    fresh = run / "model_0.pt"
    runner.save(str(fresh))
    for group in runner.alg.optimizer.param_groups:
        group["lr"] = 3e-5
    ended = run / "model_1.pt"
    runner.save(str(ended))
    obs = torch.randn(256, 27) * 0.3
    with torch.no_grad():
        start = obs_policy(load_actor(task, str(fresh)))(obs)

    def moved(checkpoint, name):
        out = finetune(task, checkpoint, None, tmp_path / name, tmp_path / f"{name}.onnx", 2, 8, seed=0, threads=1,
                       log=lambda _: None)
        with torch.no_grad():
            return float((obs_policy(load_actor(task, str(out.checkpoint)))(obs) - start).abs().max())

    continued, restarted = moved(ended, "continued"), moved(fresh, "restarted")
    assert continued < 0.02 and restarted > 5 * continued, (continued, restarted)
