"""The loop's simulation stages: fine-tune a checkpoint in MuJoCo on a robot profile's arm (``train.py --init_from
CKPT --robot_profile FILE --max_iterations K``, but continuing the run's optimizer; into a run directory of the same
layout), export the candidate package, and the held-out MuJoCo success of a package on a profile's arm
(:mod:`roarm_lab.evaluation`)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from roarm_lab.description.robot_profile import RobotProfile


@dataclass
class FinetuneResult:
    run_dir: Path
    checkpoint: Path
    policy: Path
    iterations: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "checkpoint": str(self.checkpoint), "policy": str(self.policy),
                "iterations": self.iterations, "seconds": round(self.seconds, 1)}


def export_checkpoint(task: str, checkpoint: Path, out: Path, profile: RobotProfile | None) -> Path:
    """``checkpoint`` as a policy package recording ``profile`` (export_onnx.py's steps)."""
    from roarm_lab.deploy.checkpoint import training_info
    from roarm_lab.deploy.export import export_policy_package
    from roarm_lab.training.policy import load_actor

    actor = load_actor(task, str(checkpoint))
    return export_policy_package(actor, task, out, training=training_info(checkpoint), robot_profile=profile)


def finetune(task: str, init_from: Path, profile: RobotProfile | None, run_dir: Path, policy_out: Path,
             iterations: int, num_envs: int, seed: int, threads: int = 2, log=print) -> FinetuneResult:
    """Continue training ``init_from`` (weights, normalizers, and the optimizer at the learning rate it ended with; a
    fresh iteration count, no warm start) for ``iterations`` PPO iterations on ``profile``'s arm (the randomization
    centred on it); the run goes to ``run_dir`` (params/, robot_profile.yaml, model_<iterations>.pt) and the
    candidate to ``policy_out``."""
    from rsl_rl.runners import OnPolicyRunner

    from roarm_lab.deploy.checkpoint import git_head
    from roarm_lab.sim_mujoco.env import MujocoTaskEnv
    from roarm_lab.tasks.registry import get_task
    from roarm_lab.training import run as runs
    from roarm_lab.training.dagger import freeze_obs_normalizer
    from roarm_lab.training.policy import runner_cfg
    from roarm_lab.training.progress import attach_progress_bar

    started = time.monotonic()
    torch.manual_seed(seed)
    agent_cfg = runner_cfg(task)
    agent_cfg.seed = seed
    agent_cfg.max_iterations = iterations
    task_cfg = get_task(task).make_cfg().with_robot_profile(profile)
    env = MujocoTaskEnv(task, num_envs, cfg=task_cfg, seed=seed, nthread=threads)
    (run_dir / runs.PARAMS_DIR).mkdir(parents=True, exist_ok=True)
    runs.write_agent_params(run_dir, agent_cfg.to_dict())
    if profile is not None and not runs.robot_profile_path(run_dir).is_file():
        runs.write_robot_profile(run_dir, profile)
    runs.write_env_params(run_dir, {"task": task, "backend": "mujoco", "num_envs": num_envs, "commit": git_head(),
                                    **asdict(task_cfg), "robot_profile": runs.profile_summary(profile),
                                    "init_from": str(init_from)})
    runner = OnPolicyRunner(env, agent_cfg.to_dict(), log_dir=str(run_dir), device="cpu")
    # The optimizer continues too, at the learning rate the run ended with: a converged policy (action std ~0.01)
    # under a fresh Adam at the configured 1e-3 lost its Reach success within 10 iterations (1.0 -> 0.2 held out,
    # nominal arm). The actor's normalizer stays as trained (``until`` is not kept in checkpoints).
    runner.load(str(init_from), load_cfg={"actor": True, "critic": True, "optimizer": True}, map_location="cpu")
    freeze_obs_normalizer(runner.alg.actor)
    log(f"[improve] fine-tune: {iterations} PPO iterations, {num_envs} envs, from {init_from}")
    if iterations:
        attach_progress_bar(runner)
        runner.learn(num_learning_iterations=iterations, init_at_random_ep_len=True)
    checkpoint = runs.checkpoint_path(run_dir, iterations)
    runner.save(str(checkpoint))
    policy = export_checkpoint(task, checkpoint, policy_out, profile)
    return FinetuneResult(run_dir, checkpoint, policy, iterations, time.monotonic() - started)


def sim_success(task: str, policy: Path, profile: RobotProfile | None, episodes: int, seed: int,
                threads: int = 2) -> dict[str, Any]:
    """Held-out MuJoCo success of the package ``policy`` on ``profile``'s arm (evaluation seeds, randomization on):
    the same episodes for every policy given the same seed and profile."""
    from roarm_lab.deploy import PolicyPackage
    from roarm_lab.evaluation import eval_cfg, evaluate

    package = PolicyPackage.load(policy, expect_task=task)

    def act(obs: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(package.act(obs.cpu().numpy())))

    result = evaluate(task, act, episodes=episodes, seed=seed, nthread=threads, cfg=eval_cfg(task, profile))
    return {"success_rate": result.success_rate, "episodes": result.episodes, "metrics": result.metrics}
