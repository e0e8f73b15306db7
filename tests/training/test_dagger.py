"""The analytic-IK Reach expert and the DAgger warm start (real MuJoCo, real rsl-rl)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from rsl_rl.runners import OnPolicyRunner

from roarm_lab import kinematics
from roarm_lab.evaluation import EVAL_SEED_OFFSET, eval_cfg, evaluate, run_episodes
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks.mdp.actions import actions_for_targets, joint_targets
from roarm_lab.tasks.mdp.state import ArmState
from roarm_lab.tasks.reach_expert import ReachIKExpert
from roarm_lab.tasks.registry import get_entry
from roarm_lab.training import finetune
from roarm_lab.training.dagger import DaggerCfg, clone_expert, expert_share
from roarm_lab.training.policy import obs_policy, runner_cfg

TASK = "RoArm-Reach"


def test_the_expert_holds_an_ik_solution_of_each_target_once_the_arm_is_on_it():
    env = MujocoTaskEnv(TASK, 64, seed=3, nthread=1)
    expert = ReachIKExpert()
    s = env.arm_state
    first = joint_targets(expert(s))
    # from home, the first command heads for the solution (within the integral action's 0.05 rad of it) ...
    solution = kinematics.inverse_kinematics(s.command.double(), n_pitch=61).q.float()
    assert (first[:, :5] - solution).abs().max() <= 0.05 + 1e-6
    # ... and with the arm on it and that command sent, the expert commands exactly it: forward kinematics of the
    # commanded joints lands on the sampled target (analytic IK, independent of the sim)
    on_target = ArmState.from_joints(first.clone(), torch.zeros_like(first), s.command, expert(s), expert(s))
    on_target.joint_pos[:, :5] = solution
    on_target.action[:, :5] = actions_for_targets(torch.cat([solution, first[:, 5:]], -1))[:, :5]
    targets = joint_targets(expert(on_target))
    torch.testing.assert_close(kinematics.tcp_position(targets.double()).float(), s.command, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_the_expert_reaches_held_out_targets_within_a_millimetre_in_simulation():
    expert = ReachIKExpert()
    env = MujocoTaskEnv(TASK, 200, cfg=eval_cfg(TASK), seed=EVAL_SEED_OFFSET, nthread=1)
    result = run_episodes(TASK, env, lambda obs: expert(env.arm_state))
    # the IK solution alone stops 4-5 mm short (the servos sag under gravity); the integral action removes that
    assert result.metrics["final_tcp_error_m"]["median"] <= 0.001


def test_run_episodes_keeps_each_episodes_last_observation_and_outcome():
    """``observe``'s values come back per episode from before its last step: a Reach episode ends by timing out,
    so its last step starts at step max_episode_length - 1; the final TCP error is the env's own metric."""
    expert = ReachIKExpert()
    env = MujocoTaskEnv(TASK, 8, cfg=eval_cfg(TASK), seed=EVAL_SEED_OFFSET, nthread=1)
    result = run_episodes(TASK, env, lambda obs: expert(env.arm_state),
                          observe=lambda e: {"step": e.episode_length_buf.clone()})
    episode = result.per_episode
    assert (episode["step"] == env.max_episode_length - 1).all()
    assert (episode["length"] == env.max_episode_length).all()
    assert episode["success"].dtype == torch.bool and len(episode["final_tcp_error_m"]) == 8
    assert episode["final_tcp_error_m"].median().item() == pytest.approx(
        result.metrics["final_tcp_error_m"]["median"])
    with pytest.raises(ValueError, match="'length'"):
        run_episodes(TASK, env, lambda obs: expert(env.arm_state), observe=lambda e: {"length": e.episode_length_buf})


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


def test_the_final_fit_brings_the_clone_closer_to_the_expert():
    errors = {}
    for final_epochs in (0, 20):
        runner, env = _runner(64)
        cfg = DaggerCfg(rounds=3, steps_per_round=16, epochs=2, minibatch_size=256, final_epochs=final_epochs)
        rounds = clone_expert(runner, env, ReachIKExpert(), cfg, seed=1)
        # the same rollouts either way (the final fit runs after the last round), one more record with it
        assert len(rounds) == cfg.rounds + (final_epochs > 0)
        assert rounds[-1].samples == 64 * 16 * 3
        errors[final_epochs] = _actor_error_to_expert(runner, env)
    assert errors[20] < 0.85 * errors[0], errors


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


def _record_updates(runner) -> list[dict]:
    """Record, at each PPO update, what the update runs with; the real update then runs."""
    alg, calls = runner.alg, []
    update = alg.update

    def recording_update():
        calls.append({"clipped": alg.use_clipped_value_loss, "schedule": alg.schedule,
                      "lr": [g["lr"] for g in alg.optimizer.param_groups],
                      "actor_trains": all(p.requires_grad for p in alg.actor.parameters())})
        return update()

    alg.update = recording_update
    return calls


def test_the_handover_trains_the_critic_alone_unclipped_then_starts_the_actor_at_its_own_rate():
    runner, _ = _runner(32)
    alg = runner.alg
    assert alg.use_clipped_value_loss and alg.schedule == "adaptive" and alg.learning_rate == 1e-3  # the agent's
    calls = _record_updates(runner)
    actor = [p.detach().clone() for p in alg.actor.parameters()]
    critic = [p.detach().clone() for p in alg.critic.parameters()]
    finetune.handover(runner, critic_iterations=2, actor_learning_rate=1e-4)
    runner.learn(2)
    assert all(torch.equal(a, p) for a, p in zip(actor, alg.actor.parameters(), strict=True))
    assert not all(torch.equal(c, p) for c, p in zip(critic, alg.critic.parameters(), strict=True))
    assert [c["actor_trains"] for c in calls] == [False, False]
    assert [c["clipped"] for c in calls] == [False, False] and [c["schedule"] for c in calls] == ["fixed"] * 2
    assert alg.use_clipped_value_loss and alg.schedule == "adaptive"  # restored for PPO proper
    runner.learn(1)
    assert calls[2] == {"clipped": True, "schedule": "adaptive", "lr": [1e-4], "actor_trains": True}
    assert not all(torch.equal(a, p) for a, p in zip(actor, alg.actor.parameters(), strict=True))


def test_resuming_a_clone_before_the_critics_warm_up_ended_finishes_it_with_the_normalizer_frozen():
    runner, _ = _runner(32)
    calls = _record_updates(runner)
    warm = replace(get_entry(TASK).warm_start, critic_warmup_iterations=3)
    finetune.resume(runner, warm, iteration=1)  # one of the three critic-only iterations was done
    normalizer = runner.alg.actor.obs_normalizer
    mean = normalizer.mean.clone()
    runner.learn(3)
    assert [c["actor_trains"] for c in calls] == [False, False, True]
    assert calls[2]["lr"] == [warm.actor_learning_rate]
    assert torch.equal(mean, normalizer.mean)


def test_the_legacy_handover_is_what_train_py_did_before():
    runner, _ = _runner(32)
    calls = _record_updates(runner)
    finetune.legacy_handover(runner, finetune.legacy_warm_start(get_entry(TASK).warm_start))
    runner.learn(11)
    assert [c["actor_trains"] for c in calls] == [False] * 10 + [True]
    assert all(c["clipped"] for c in calls) and calls[10]["lr"] == [1e-3]


class _ActionRecorder:
    """The env DAgger steps, recording the actions it is given."""

    def __init__(self, env):
        self.env, self.actions, self.expert_actions = env, [], []

    def __getattr__(self, name):
        return getattr(self.env, name)

    def step(self, actions):
        self.expert_actions.append(ReachIKExpert()(self.env.arm_state))
        self.actions.append(actions.clone())
        return self.env.step(actions)


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_dagger_executes_its_actions_with_the_rollout_noise(noise):
    runner, env = _runner(256)
    recorder = _ActionRecorder(env)
    # one round, the expert acting alone: the executed action is the expert's plus the noise
    cfg = DaggerCfg(rounds=1, steps_per_round=8, epochs=1, rollout_noise_std=noise)
    clone_expert(runner, recorder, ReachIKExpert(), cfg, seed=2)
    deviation = torch.cat(recorder.actions) - torch.cat(recorder.expert_actions)
    assert deviation.mean().abs().item() < 0.01
    assert deviation.std().item() == pytest.approx(noise, abs=0.002)


def test_reach_is_the_task_with_a_warm_start():
    entry = get_entry(TASK)
    assert isinstance(entry.make_expert(), ReachIKExpert) and entry.warm_start.dagger.rounds > 0


def test_the_handover_keeps_the_action_std_at_its_floor():
    runner, _ = _runner(32)
    alg = runner.alg
    with torch.no_grad():
        alg.actor.distribution.std_param.fill_(0.01)  # below the floor: PPO had shrunk it
    finetune.handover(runner, critic_iterations=0, min_std=0.05)
    runner.learn(1)
    assert alg.actor.distribution.std_param.min().item() >= 0.05
