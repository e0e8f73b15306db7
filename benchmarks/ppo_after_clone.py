#!/usr/bin/env python3
"""What PPO does to a cloned policy, iteration by iteration: the evidence behind the fine-tuning recipe.

    python benchmarks/ppo_after_clone.py --task RoArm-Lift [--num_envs 1024] [--iterations 30] \
        [--eval_every 10] [--eval_episodes 300] [--clone PATH] [--recipe default|legacy]

It clones the task's expert (DAgger, as train.py does; ``--clone PATH`` reuses a saved clone and ``--save_clone PATH``
keeps one), then runs PPO and prints, per iteration, from the rollout PPO is about to learn from:

* ``ev``: the critic's explained variance on that rollout's returns (1 = it predicts them, <= 0 = no better than
  their mean) and ``|V-R|``, the mean absolute value error, next to the returns' scale;
* ``adv+``/``adv-``: the mean raw advantage (before normalization) of the steps in each stage (reaching, holding
  the cube) — whether PPO is told that what the clone does is better or worse than expected;
* ``std``: the actor's action std, arm joints and gripper (the entropy PPO explores with);
* the stages the stochastic rollouts reach (share of steps with the cube in the jaws, lifted, placed);

and every ``--eval_every`` iterations the deterministic policy's held-out success over ``--eval_episodes`` episodes,
with the share of episodes that reached each stage (grasped, lifted, at the goal, success): the stage that breaks
first is the one whose share falls first. ``--recipe legacy`` hands over as the project did before issue 20
(clipped value loss from the first update, a fresh Adam); ``default`` is :mod:`roarm_lab.training.finetune`.
Last line: one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from roarm_lab.evaluation import stage_flags


def evaluate_stages(task: str, policy, episodes: int, seed: int) -> dict[str, float]:
    """Held-out success of ``policy`` and the share of episodes that reached each stage before ending."""
    from roarm_lab.evaluation import eval_env, run_episodes

    env = eval_env(task, episodes, seed=seed, nthread=torch.get_num_threads())
    reached: dict[str, torch.Tensor] = {}
    finished = torch.zeros(episodes, dtype=torch.bool)

    def on_step(e) -> None:
        for name, flag in stage_flags(task, e.arm_state).items():
            reached[name] = reached.get(name, torch.zeros(episodes, dtype=torch.bool)) | (flag.cpu() & ~finished)
        finished.copy_(finished | (e.episode_length_buf.cpu() == 0))

    result = run_episodes(task, env, policy, on_step)
    medians = {f"{name}_median": st["median"] for name, st in result.metrics.items()}
    return {"success": result.success_rate, **{k: v.float().mean().item() for k, v in reached.items()}, **medians}


class RolloutProbe:
    """Wraps the env given to the runner: records each step's stage flags so the update can split advantages."""

    def __init__(self, env, task: str):
        self.env, self.task, self.flags = env, task, []

    def __getattr__(self, name):
        return getattr(self.env, name)

    # rsl-rl's learn(init_at_random_ep_len=True) assigns this: it must reach the env, or every episode runs in step
    # and each PPO iteration learns from one phase of the task only (train.py hands rsl-rl the env itself)
    @property
    def episode_length_buf(self):
        return self.env.episode_length_buf

    @episode_length_buf.setter
    def episode_length_buf(self, value):
        self.env.episode_length_buf = value

    def step(self, actions):
        self.flags.append(stage_flags(self.task, self.env.arm_state))
        return self.env.step(actions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="RoArm-Lift", choices=("RoArm-Lift", "RoArm-PickPlace", "RoArm-Reach"))
    parser.add_argument("--num_envs", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--eval_every", type=int, default=10)
    parser.add_argument("--eval_episodes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clone", default=None, help="a saved clone (--save_clone) instead of cloning anew")
    parser.add_argument("--save_clone", default=None)
    parser.add_argument("--recipe", choices=("default", "legacy"), default="default")
    args = parser.parse_args()

    from rsl_rl.runners import OnPolicyRunner

    from roarm_lab import threads
    from roarm_lab.sim_mujoco.env import MujocoTaskEnv
    from roarm_lab.tasks.registry import get_entry
    from roarm_lab.training import finetune
    from roarm_lab.training.dagger import action_std, freeze_obs_normalizer, set_action_std
    from roarm_lab.training.policy import obs_policy, runner_cfg
    from roarm_lab.training.warm_start import warm_start

    plan = threads.plan_and_apply()
    print(f"[ppo_after_clone] {plan.line()}", flush=True)
    torch.manual_seed(args.seed)
    entry = get_entry(args.task)
    env = RolloutProbe(MujocoTaskEnv(args.task, args.num_envs, seed=args.seed, nthread=plan.mujoco), args.task)
    cfg = runner_cfg(args.task)
    cfg.seed = args.seed
    runner = OnPolicyRunner(env, cfg.to_dict(), log_dir=None, device="cpu")
    started = time.perf_counter()
    if args.clone:
        runner.load(args.clone)
        warm = entry.warm_start if args.recipe == "default" else finetune.legacy_warm_start(entry.warm_start)
        set_action_std(runner.alg.actor, warm.dagger.exploration_std)
        freeze_obs_normalizer(runner.alg.actor)
        (finetune.prepare if args.recipe == "default" else finetune.legacy_handover)(runner, warm)
    else:
        warm_start(args.task, runner, env, seed=args.seed, recipe=args.recipe)
    clone_s = time.perf_counter() - started
    if args.save_clone:
        runner.save(args.save_clone)
    print(f"[ppo_after_clone] clone ready in {clone_s:.0f} s", flush=True)

    alg = runner.alg
    actor = alg.actor
    record: dict = {"task": args.task, "recipe": args.recipe, "num_envs": args.num_envs, "iterations": [],
                    "evals": []}

    def evaluate(iteration: int) -> None:
        actor.eval()
        with torch.inference_mode():
            det = evaluate_stages(args.task, obs_policy(actor), args.eval_episodes, args.seed)
        actor.train()
        det["iteration"] = iteration
        record["evals"].append(det)
        print(f"[eval] it {iteration:3d} "
              + " ".join(f"{k}={v:.3f}" for k, v in det.items() if k != "iteration"), flush=True)

    evaluate(0)
    update = alg.update
    counter = [0]

    def probed_update() -> dict[str, float]:
        st = alg.storage
        returns, values = st.returns.flatten(), st.values.flatten()
        raw_adv = (st.returns - st.values).squeeze(-1)  # (steps, envs), before rsl-rl normalized them
        ev = 1.0 - torch.var(returns - values) / torch.var(returns).clamp_min(1e-8)
        steps = min(len(env.flags), raw_adv.shape[0])
        flags = {k: torch.stack([f[k] for f in env.flags[-steps:]]) for k in env.flags[-1]}
        env.flags.clear()
        holding = flags.get("grasped", flags.get("within_1cm"))
        row = {"iteration": counter[0] + 1, "explained_variance": ev.item(),
               "value_abs_error": (returns - values).abs().mean().item(), "return_mean": returns.mean().item(),
               "adv_reaching": raw_adv[~holding].mean().item() if (~holding).any() else float("nan"),
               "adv_holding": raw_adv[holding].mean().item() if holding.any() else float("nan"),
               **{f"rollout_{k}": v.float().mean().item() for k, v in flags.items()}}
        out = update()
        row.update({"value_loss": out["value"], "surrogate": out["surrogate"], "learning_rate": alg.learning_rate})
        row["std"] = [round(x, 3) for x in action_std(actor).tolist()]
        counter[0] += 1
        record["iterations"].append(row)
        print("[ppo] it {iteration:3d} ev={explained_variance:+.2f} |V-R|={value_abs_error:.2f} "
              "R={return_mean:.1f} adv(reach)={adv_reaching:+.2f} adv(hold)={adv_holding:+.2f} ".format(**row)
              + f"std={row['std']} lr={alg.learning_rate:.1e} "
              + " ".join(f"{k[8:]}={v:.2f}" for k, v in row.items() if k.startswith("rollout_")), flush=True)
        if counter[0] % args.eval_every == 0:
            evaluate(counter[0])
        return out

    alg.update = probed_update
    ppo_started = time.perf_counter()
    runner.learn(num_learning_iterations=args.iterations, init_at_random_ep_len=True)
    record["clone_s"] = clone_s
    record["ppo_s"] = time.perf_counter() - ppo_started
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "source"))
    sys.exit(main())
