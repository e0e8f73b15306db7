"""The MuJoCo backend: resets, randomization applied to the physics, latency, noise, determinism, terminations,
and contact grasping proven by the scripted picker."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from roarm_lab import kinematics
from roarm_lab.description import DRIVES, HOME_POSE, JOINT_NAMES
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks import lift, pick_place, reach, scene
from roarm_lab.tasks.mdp.actions import actions_for_targets
from roarm_lab.tasks.scripted import ScriptedPicker
from roarm_lab.tasks.timing import CONTROL_DT

TASK_IDS = ("RoArm-Reach", "RoArm-Lift", "RoArm-PickPlace")


def _no_randomization(cfg):
    cfg.randomization.enabled = False
    return cfg


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_same_seed_same_rollout(task_id):
    def run(seed):
        env = MujocoTaskEnv(task_id, 6, seed=seed, nthread=2)
        g = torch.Generator().manual_seed(seed)
        obs = [env.get_observations()["policy"]]
        for _ in range(15):
            obs.append(env.step(torch.randn(6, 6, generator=g))[0]["policy"])
        return torch.stack(obs)

    a, b, c = run(7), run(7), run(8)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, c)


def test_object_tasks_reset_the_cube_on_the_table():
    env = MujocoTaskEnv("RoArm-Lift", 64, seed=0, nthread=1)
    s = env.read_state()
    assert torch.allclose(s.object_pos[:, 2], torch.full((64,), scene.CUBE_REST_Z))
    r = torch.linalg.norm(s.object_pos[:, :2], dim=-1)
    assert r.min() >= scene.OBJECT_RADIUS_RANGE[0] - 1e-6 and r.max() <= scene.OBJECT_RADIUS_RANGE[1] + 1e-6
    torch.testing.assert_close(s.command[:, 2] - s.object_pos[:, 2], torch.full((64,), env.cfg.goal_height))


def test_physics_randomization_reaches_each_environments_model():
    env = MujocoTaskEnv("RoArm-Lift", 16, seed=0, nthread=1)
    shoulder_kp = DRIVES[JOINT_NAMES.index("shoulder")].stiffness
    for i in range(16):
        m = env.env_model(i)
        p = {k: float(v[i]) for k, v in env.physics_params.items()}
        assert m.actuator_gainprm[m.actuator("shoulder").id, 0] == pytest.approx(shoulder_kp * p["stiffness_scale"])
        assert m.actuator_biasprm[m.actuator("shoulder").id, 1] == pytest.approx(-shoulder_kp * p["stiffness_scale"])
        assert m.body_mass[m.body("cube").id] == pytest.approx(p["object_mass"])
        assert m.geom_friction[m.geom("cube").id, 0] == pytest.approx(p["object_friction"])
    kps = [env.env_model(i).actuator_gainprm[1, 0] for i in range(16)]
    assert len(set(kps)) == 16  # every environment has its own sample


def _base_response(latency: int) -> list[float]:
    cfg = _no_randomization(reach.ReachCfg())
    cfg.init_joint_noise = 0.0
    cfg.randomization.enabled = True  # latency only: physics ranges collapsed to nominal
    r = cfg.randomization
    for name in ("stiffness_scale", "damping_scale", "joint_friction_scale", "armature_scale", "link_mass_scale"):
        setattr(r, name, (1.0, 1.0))
    r.object_mass, r.object_friction = (scene.CUBE_MASS,) * 2, (scene.CUBE_FRICTION,) * 2
    r.action_latency_steps = (latency, latency)
    r.observation_noise_scale = 0.0
    env = MujocoTaskEnv("RoArm-Reach", 1, cfg=cfg, seed=0, nthread=1)
    hold = actions_for_targets(torch.tensor([HOME_POSE]))
    turn = hold.clone()
    turn[0, 0] += 1.0  # base +0.5 rad
    out = []
    for k in range(5):
        env.step(hold if k == 0 else turn)
        out.append(float(env.read_state().joint_pos[0, 0]))
    return out


def test_action_latency_delays_the_commanded_motion_by_whole_control_steps():
    base0, base2 = _base_response(0), _base_response(2)
    assert base0[1] > 0.02  # the base turns during the first step after the command
    assert abs(base2[1]) < 1e-3 and abs(base2[2]) < 1e-3  # two steps of nothing
    assert base2[3] > 0.02
    assert base2[3] == pytest.approx(base0[1], abs=1e-4)  # then the same response, two steps later


def test_observation_noise_reaches_the_policy_only():
    env = MujocoTaskEnv("RoArm-Lift", 32, seed=0, nthread=1)
    obs = env.get_observations()
    diff = obs["policy"] - obs["critic"]
    scales = env.spec.observation_noise_scales()
    assert torch.all(diff.abs() <= scales * env.cfg.randomization.observation_noise_scale + 1e-6)
    assert diff.abs().max() > 0
    clean = MujocoTaskEnv("RoArm-Lift", 4, cfg=_no_randomization(lift.LiftCfg()), seed=0, nthread=1)
    o = clean.get_observations()
    torch.testing.assert_close(o["policy"], o["critic"], rtol=0, atol=0)


def test_episode_times_out_and_resets():
    env = MujocoTaskEnv("RoArm-Reach", 4, seed=0, nthread=1)
    dones_seen = None
    for i in range(env.max_episode_length):
        _, reward, dones, extras = env.step(torch.zeros(4, 6))
        assert torch.isfinite(reward).all()
        if dones.any():
            dones_seen = i + 1
            assert extras["time_outs"].all()
            assert "Metrics/success_rate" in extras["log"]
            break
    assert dones_seen == round(env.cfg.episode_length_s / CONTROL_DT)
    assert env.episode_length_buf.eq(0).all()


def test_a_cube_off_the_table_terminates_without_a_time_out():
    env = MujocoTaskEnv("RoArm-Lift", 2, seed=0, nthread=1)
    env._state[0, env._qpos0 + 6:env._qpos0 + 9] = [0.9, 0.0, 0.2]  # beyond the table edge: it falls
    for _ in range(20):
        _, _, dones, extras = env.step(torch.zeros(2, 6))
        if dones[0]:
            break
    assert dones[0] and not extras["time_outs"][0]
    assert extras["log"]["Episode_Termination/object_dropped"] == 1.0
    assert env.read_state().object_pos[0, 2] == pytest.approx(scene.CUBE_REST_Z)  # reset back on the table


def test_zero_action_settles_at_the_default_pose():
    env = MujocoTaskEnv("RoArm-Reach", 2, cfg=_no_randomization(reach.ReachCfg()), seed=0, nthread=1)
    for _ in range(60):
        env.step(torch.zeros(2, 6))
    tcp = env.read_state().tcp_pos
    home_tcp = kinematics.tcp_position(torch.tensor(HOME_POSE))
    assert torch.linalg.norm(tcp - home_tcp, dim=-1).max() < 0.01


def test_bad_input_is_refused():
    env = MujocoTaskEnv("RoArm-Reach", 2, seed=0, nthread=1)
    with pytest.raises(ValueError, match="actions must be"):
        env.step(torch.zeros(3, 6))
    with pytest.raises(ValueError, match="num_envs"):
        MujocoTaskEnv("RoArm-Reach", 0)
    with pytest.raises(KeyError, match="unknown task"):
        MujocoTaskEnv("RoArm-Fly", 1)


def test_the_scene_has_no_attachment_shortcut():
    env = MujocoTaskEnv("RoArm-Lift", 1, seed=0, nthread=1)
    assert env.model.neq == 0  # no weld / connect constraints: a grasp is friction between jaws and cube


@pytest.mark.parametrize(("task_id", "place", "min_success"), [
    ("RoArm-Lift", False, 0.8), pytest.param("RoArm-PickPlace", True, 0.7, marks=pytest.mark.slow)])
@pytest.mark.slow
def test_scripted_top_down_grasp_solves_the_task_by_contact(task_id, place, min_success):
    """A closed-form IK pick (no learning) reaches the task's own success condition under full randomization:
    the jaws really hold the cube, and success is reachable from the evaluation start state."""
    cfg = lift.LiftCfg() if not place else pick_place.PickPlaceCfg()
    cfg.pregrasp_fraction = 0.0
    n = 32
    env = MujocoTaskEnv(task_id, n, cfg=cfg, seed=11, nthread=2)
    picker = ScriptedPicker(n, place=place)
    for _ in range(env.max_episode_length - 1):
        env.step(picker(env.read_state()))
    assert env.succeeded.float().mean().item() >= min_success
    if not place:
        held = env.read_state().object_pos[:, 2] - scene.CUBE_REST_Z
        assert np.median(held.numpy()) > 0.05
