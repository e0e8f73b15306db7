"""The Isaac Lab backend, kit-less on the CPU, on both physics presets: Newton (MuJoCo-Warp) and PhysX (OvPhysX,
PhysX without Isaac Sim). Each task builds, resets, steps and trains a PPO iteration; its observation, action,
reward and termination terms are the TaskSpec's, in the MuJoCo env's order and sizes (so the same on every
backend); the first episodes of a seed are the MuJoCo env's; rewards are the spec's reward of the ArmState; the
scene agrees with the FK the ArmState uses; the randomized physics values reach the simulation.

One 2-env environment per task and preset is shared by the tests of that task (Isaac Lab runs one simulation per
process, so each is closed before the next one is built). The first run compiles Warp kernels (cached afterwards).
"""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch

from roarm_lab import kinematics
from roarm_lab.description import DRIVES, JOINT_NAMES
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks.mdp.actions import joint_targets
from roarm_lab.tasks.registry import TASK_IDS as REGISTRY_TASK_IDS
from roarm_lab.tasks.timing import CONTROL_DT

TASK_IDS = ("RoArm-Reach", "RoArm-Lift", "RoArm-PickPlace")
NUM_ENVS = 2
pytestmark = [pytest.mark.isaaclab, pytest.mark.slow]


PHYSICS = ("newton_mjwarp", "physx")


@pytest.fixture(scope="module", ids="-".join, params=[
    pytest.param((t, p), marks=[pytest.mark.ovphysx] if p == "physx" else []) for p in PHYSICS for t in TASK_IDS])
def task_env(request):
    from isaaclab_tasks.utils import parse_env_cfg

    import roarm_lab.isaaclab  # noqa: F401 (registers the tasks)
    from roarm_lab.isaaclab.ovphysx_cpu import allow_pinned_host_memory_without_cuda

    task_id, physics = request.param
    allow_pinned_host_memory_without_cuda()
    cfg = parse_env_cfg(task_id, device="cpu", num_envs=NUM_ENVS, overrides=[f"presets={physics}"])
    env = gym.make(task_id, cfg=cfg)
    env.reset()
    engine = type(env.unwrapped.sim.cfg.physics).__name__  # the preset as resolved (no Kit: OvPhysX for physx)
    assert engine == {"newton_mjwarp": "NewtonCfg", "physx": "OvPhysxCfg"}[physics], engine
    yield task_id, env.unwrapped
    env.close()


def _task(env):
    from roarm_lab.isaaclab.task_state import task_state

    return task_state(env)


def test_tasks_and_play_variants_are_registered():
    """Every registry entry has a gym id and a -Play id whose entry points Isaac Lab's loader resolves: the task's
    env config (the -Play one in play mode) and its agent's rsl-rl config."""
    from isaaclab_rl.rsl_rl import RslRlOnPolicyRunnerCfg
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    import roarm_lab.isaaclab  # noqa: F401
    from roarm_lab.isaaclab.env_cfg import RoArmEnvCfg
    from roarm_lab.tasks.registry import get_entry

    assert TASK_IDS == REGISTRY_TASK_IDS
    for task_id in TASK_IDS:
        for env_id in (task_id, f"{task_id}-Play"):
            spec = gym.spec(env_id)
            assert spec.entry_point == "isaaclab.envs:ManagerBasedRLEnv"
            assert spec.kwargs["env_cfg_entry_point"].startswith("roarm_lab.isaaclab.env_cfg:")
            assert spec.kwargs["rsl_rl_cfg_entry_point"].startswith("roarm_lab.training.rsl_rl_cfg:")
            env_cfg = load_cfg_from_registry(env_id, "env_cfg_entry_point")
            assert isinstance(env_cfg, RoArmEnvCfg) and env_cfg.task_id == task_id
            assert env_cfg.observations.policy.enable_corruption != env_id.endswith("-Play")
            agent = load_cfg_from_registry(env_id, "rsl_rl_cfg_entry_point")
            assert isinstance(agent, RslRlOnPolicyRunnerCfg) and agent.experiment_name == task_id
            assert agent.max_iterations == get_entry(task_id).agent.max_iterations


def test_play_config_starts_object_tasks_from_home_without_observation_noise():
    from roarm_lab.isaaclab.env_cfg import RoArmLiftPlayEnvCfg

    cfg = RoArmLiftPlayEnvCfg()
    assert cfg.commands.task.task_cfg.pregrasp_fraction == 0.0
    assert not cfg.observations.policy.enable_corruption


def test_terms_match_the_mujoco_backend(task_env):
    task_id, env = task_env
    mj = MujocoTaskEnv(task_id, 1, nthread=1)
    names = [t.name for t in mj.spec.observation_terms]
    for group in ("policy", "critic"):
        assert env.observation_manager.active_terms[group] == names
        assert [d[0] for d in env.observation_manager.group_obs_term_dim[group]] == [
            t.size for t in mj.spec.observation_terms]
    assert env.observation_manager.group_obs_dim["policy"] == (mj.get_observations()["policy"].shape[1],)
    assert env.action_manager.total_action_dim == mj.num_actions
    assert env.reward_manager.active_terms == list(mj.cfg.reward_weights)
    for name, weight in mj.cfg.reward_weights.items():
        assert env.reward_manager.get_term_cfg(name).weight == weight
    failures = list(mj.spec.terminations(mj.cfg, mj.read_state()))
    assert env.termination_manager.active_terms == ["time_out", *failures]
    assert env.max_episode_length == mj.max_episode_length
    assert env.step_dt == pytest.approx(CONTROL_DT)


def test_first_episodes_are_the_mujoco_envs_for_the_same_seed(task_env):
    task_id, env = task_env
    mj = MujocoTaskEnv(task_id, NUM_ENVS, seed=0, nthread=1)
    assert env.common_step_counter == 0, "runs before the tests that step the shared env"
    ours, theirs = _task(env).arm_state(), mj.read_state()
    torch.testing.assert_close(ours.joint_pos, theirs.joint_pos, atol=1e-5, rtol=0)
    torch.testing.assert_close(ours.command, theirs.command)
    if theirs.object_pos is not None:
        torch.testing.assert_close(ours.object_pos, theirs.object_pos, atol=1e-5, rtol=0)
        torch.testing.assert_close(ours.object_quat, theirs.object_quat, atol=1e-5, rtol=0)
    for name, values in mj.physics_params.items():
        torch.testing.assert_close(_task(env).physics_params[name], values.float())


def test_steps_give_finite_observations_and_the_specs_reward(task_env):
    task_id, env = task_env
    task = _task(env)
    g = torch.Generator().manual_seed(0)
    for _ in range(4):
        obs, reward, terminated, truncated, _ = env.step(torch.randn(NUM_ENVS, 6, generator=g) * 0.3)
        assert obs["policy"].shape == (NUM_ENVS, task.spec.observation_size)
        assert torch.isfinite(obs["policy"]).all() and torch.isfinite(obs["critic"]).all()
        assert torch.isfinite(reward).all()
        if not (terminated | truncated).any():  # the state the rewards saw is still the current one
            terms = task.spec.reward_terms(task.task_cfg, task.arm_state())
            expected = sum(task.task_cfg.reward_weights[k] * v * CONTROL_DT for k, v in terms.items())
            torch.testing.assert_close(reward, expected)
            torch.testing.assert_close(obs["critic"], task.spec.observations(task.arm_state()))


def test_actions_reach_the_servos_through_joint_targets(task_env):
    _, env = task_env
    term = env.action_manager.get_term("joint_targets")
    term.latency[:] = 0
    before = torch.full((NUM_ENVS, 6), 0.2)
    action = torch.linspace(-1.0, 1.0, 6).repeat(NUM_ENVS, 1)
    env.step(before)
    env.step(action)
    if not env.reset_buf.any():  # (a reset makes the servos hold the new episode's pose)
        torch.testing.assert_close(term.processed_actions, joint_targets(action))
        s = _task(env).arm_state()
        torch.testing.assert_close(s.action, action)
        torch.testing.assert_close(s.last_action, before)


def test_scene_agrees_with_the_arm_state(task_env):
    _, env = task_env
    task = _task(env)
    s = task.arm_state()
    robot = task.robot
    assert robot.joint_names == list(JOINT_NAMES)
    link5 = robot.body_names.index("link5")
    sim_link5 = robot.data.body_link_pos_w.torch[:, link5] - env.scene.env_origins
    fk_link5 = kinematics.link_frames(s.joint_pos)[:, 4, :3, 3]
    torch.testing.assert_close(sim_link5, fk_link5, atol=1e-4, rtol=0)
    if task.cube is not None:
        torch.testing.assert_close(task.cube.data.root_link_pos_w.torch - env.scene.env_origins, s.object_pos)


def test_physics_randomization_reaches_the_simulation(task_env):
    from isaaclab.actuators.newton import read_group_parameter

    from roarm_lab.isaaclab.robot_cfg import SERVO_GROUP

    _, env = task_env
    task = _task(env)
    applied = env.event_manager.get_term_cfg("apply_physics").func  # the term instance (holds the nominal values)
    # the nominal values are the servo model of the description (robot_cfg)
    actuators = task.robot.actuators
    nominal = {"armature": applied.armature, "friction": applied.friction, "damping": applied.damping,
               "torque_limit": read_group_parameter(actuators, SERVO_GROUP, "clamping", "max_effort"),
               "stiffness": applied.kp}
    for name, values in nominal.items():
        expected = torch.tensor([getattr(d, name) for d in DRIVES]).expand(NUM_ENVS, -1)
        torch.testing.assert_close(values.float(), expected, msg=name)
    # the back-EMF is passive joint damping, not the actuator's (MuJoCo integrates it implicitly; robot_cfg)
    torch.testing.assert_close(read_group_parameter(actuators, SERVO_GROUP, "controller", "kd"),
                               torch.zeros(NUM_ENVS, len(DRIVES)))
    p = task.physics_params
    kp = read_group_parameter(actuators, SERVO_GROUP, "controller", "kp")
    torch.testing.assert_close(kp / applied.kp, p["stiffness_scale"][:, None].expand_as(kp))
    damping_ratio = task.robot.data.joint_viscous_friction_coeff.torch / applied.damping
    torch.testing.assert_close(damping_ratio, p["damping_scale"][:, None].expand_as(damping_ratio))
    mass_ratio = task.robot.data.body_mass.torch / applied.mass
    torch.testing.assert_close(mass_ratio, p["link_mass_scale"][:, None].expand_as(mass_ratio))
    if task.cube is not None:
        torch.testing.assert_close(task.cube.data.body_mass.torch[:, 0], p["object_mass"])


def test_one_ppo_iteration_trains_the_task(task_env):
    """rsl-rl's runner on the env as train.py wraps it: one iteration collects a rollout of every env and updates
    the actor (its weights change) with finite losses."""
    from rsl_rl.runners import OnPolicyRunner

    from roarm_lab.isaaclab.vec_env import RoArmVecEnv
    from roarm_lab.training.policy import runner_cfg

    task_id, env = task_env
    cfg = runner_cfg(task_id)
    cfg.num_steps_per_env = 8
    vec_env = RoArmVecEnv(env)
    runner = OnPolicyRunner(vec_env, cfg.to_dict(), log_dir=None, device="cpu")
    before = [p.detach().clone() for p in runner.alg.actor.parameters()]
    runner.learn(num_learning_iterations=1)
    after = list(runner.alg.actor.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before, strict=True))
    assert all(torch.isfinite(p).all() for p in after)


def test_train_script_runs_isaac_lab_kit_less_and_its_checkpoint_loads_for_mujoco(tmp_path):
    import subprocess
    import sys

    import yaml

    from roarm_lab.training.policy import load_policy

    result = subprocess.run(
        [sys.executable, "-m", "roarm_lab.cli.train", "--task", "RoArm-Reach", "--backend", "isaaclab",
         "--num_envs", "4", "--max_iterations", "2", "--device", "cpu", "--log_root", str(tmp_path)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    run = next((tmp_path / "RoArm-Reach").iterdir())
    assert yaml.safe_load((run / "params" / "env.yaml").read_text())["backend"] == "isaaclab"
    assert "PPO takes over" in result.stdout  # the DAgger warm start ran on Isaac Lab's ArmState
    policy = load_policy("RoArm-Reach", str(run / "model_1.pt"))
    obs = MujocoTaskEnv("RoArm-Reach", 2, nthread=1).get_observations()["policy"]
    assert policy(obs).shape == (2, 6)
