"""The analytic-IK Reach expert and the DAgger warm start (real MuJoCo, real rsl-rl)."""

from __future__ import annotations

import pytest
import torch
from rsl_rl.runners import OnPolicyRunner

from roarm_lab import kinematics
from roarm_lab.evaluation import EVAL_SEED_OFFSET, eval_cfg, evaluate, run_episodes
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks.mdp.actions import joint_targets
from roarm_lab.tasks.reach_expert import ReachIKExpert
from roarm_lab.tasks.registry import get_entry
from roarm_lab.training.dagger import DaggerCfg, clone_expert, expert_share, warm_up_critic
from roarm_lab.training.policy import obs_policy, runner_cfg

TASK = "RoArm-Reach"


def test_the_expert_commands_an_ik_solution_of_each_target():
    env = MujocoTaskEnv(TASK, 64, seed=3, nthread=1)
    targets = joint_targets(ReachIKExpert()(env.arm_state))
    # forward kinematics of the commanded joints lands on the sampled target (analytic IK, independent of sim)
    torch.testing.assert_close(kinematics.tcp_position(targets.double()).float(), env.arm_state.command,
                               atol=1e-5, rtol=0)


@pytest.mark.slow
def test_the_expert_reaches_held_out_targets_within_a_centimetre_in_simulation():
    expert = ReachIKExpert()
    env = MujocoTaskEnv(TASK, 200, cfg=eval_cfg(TASK), seed=EVAL_SEED_OFFSET, nthread=1)
    result = run_episodes(TASK, env, lambda obs: expert(env.arm_state))
    assert result.metrics["final_tcp_error_m"]["median"] <= 0.01


def test_expert_share_falls_from_one_to_zero():
    cfg = DaggerCfg(rounds=10, expert_fraction=0.5)
    shares = [expert_share(cfg, r) for r in range(cfg.rounds)]
    assert shares[0] == 1.0 and shares[5:] == [0.0] * 5
    assert all(a > b for a, b in zip(shares[:5], shares[1:6], strict=True))


def _runner(num_envs: int, seed: int = 0):
    torch.manual_seed(seed)
    env = MujocoTaskEnv(TASK, num_envs, seed=seed, nthread=1)
    return OnPolicyRunner(env, runner_cfg(TASK).to_dict(), log_dir=None, device="cpu"), env


def _actor_error_to_expert(runner, env) -> float:
    """Mean absolute difference between the actor's mean action and the expert's on the env's current states."""
    with torch.no_grad():
        return (runner.alg.actor(env.get_observations()) - ReachIKExpert()(env.arm_state)).abs().mean().item()


@pytest.mark.slow
def test_dagger_clones_the_expert_and_hands_ppo_a_low_std():
    runner, env = _runner(128)
    before = _actor_error_to_expert(runner, env)
    cfg = DaggerCfg(rounds=6, steps_per_round=24, epochs=10, exploration_std=0.15)
    rounds = clone_expert(runner, env, ReachIKExpert(), cfg, seed=1)
    assert [r.samples for r in rounds] == [128 * 24 * (k + 1) for k in range(6)]
    assert rounds[-1].expert_share == 0.0
    after = _actor_error_to_expert(runner, env)
    assert after < before / 4, (before, after)
    torch.testing.assert_close(runner.alg.actor.distribution.std_param.detach(), torch.full((6,), 0.15))
    # the clone reaches targets far better than an untrained actor could
    result = evaluate(TASK, obs_policy(runner.get_inference_policy("cpu")), episodes=128, nthread=1)
    assert result.metrics["final_tcp_error_m"]["median"] < 0.04


def test_the_aggregate_keeps_the_newest_samples_up_to_the_cap():
    runner, env = _runner(16)
    cfg = DaggerCfg(rounds=5, steps_per_round=4, epochs=1, max_samples=16 * 4 * 3)
    rounds = clone_expert(runner, env, ReachIKExpert(), cfg)
    assert [r.samples for r in rounds] == [64, 128, 192, 192, 192]


def test_ppo_after_the_clone_leaves_the_actors_input_scaling_alone():
    runner, env = _runner(32)
    clone_expert(runner, env, ReachIKExpert(), DaggerCfg(rounds=2, steps_per_round=4, epochs=1))
    normalizer = runner.alg.actor.obs_normalizer
    mean, std = normalizer.mean, normalizer.std
    runner.learn(1)
    assert torch.equal(mean, normalizer.mean) and torch.equal(std, normalizer.std)
    critic = runner.alg.critic.obs_normalizer
    assert critic.count > normalizer.count  # the critic's keeps learning


def test_critic_warm_up_leaves_the_actor_alone_then_lets_ppo_train_it():
    runner, _ = _runner(32)
    actor = [p.detach().clone() for p in runner.alg.actor.parameters()]
    critic = [p.detach().clone() for p in runner.alg.critic.parameters()]
    warm_up_critic(runner, 2)
    runner.learn(2)
    assert all(torch.equal(a, p) for a, p in zip(actor, runner.alg.actor.parameters(), strict=True))
    assert not all(torch.equal(c, p) for c, p in zip(critic, runner.alg.critic.parameters(), strict=True))
    assert all(p.requires_grad for p in runner.alg.actor.parameters())
    runner.learn(1)
    assert not all(torch.equal(a, p) for a, p in zip(actor, runner.alg.actor.parameters(), strict=True))


def test_reach_is_the_task_with_a_warm_start():
    entry = get_entry(TASK)
    assert isinstance(entry.make_expert(), ReachIKExpert) and entry.warm_start.rounds > 0
