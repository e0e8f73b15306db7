"""Held-out evaluation of a policy on the MuJoCo backend or Isaac Lab: one episode per environment, success and
error stats.

Evaluation seeds are offset from training seeds (:data:`EVAL_SEED_OFFSET`), object tasks start every episode from
home (no pre-grasp starts), and domain randomization stays on, so the numbers are what a new episode sees. Both
backends draw the same episodes (targets, initial joints, physics values, action latency) for the same seed; only
the observation noise comes from each backend's own generator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from roarm_lab.description.robot_profile import RobotProfile
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks.registry import get_task
from roarm_lab.tasks.spec import TaskCfg

EVAL_SEED_OFFSET = 1_000_000
BACKENDS = ("mujoco", "isaaclab")


@dataclass
class EvalResult:
    task: str
    episodes: int
    success_rate: float
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # name -> {median, mean, p90, max}
    episode_length_mean: float = 0.0
    return_mean: float = 0.0
    #: (episodes,) per episode: ``success``, ``length``, ``return``, the task's metrics and what ``run_episodes``'s
    #: ``observe`` returned before the episode's last step
    per_episode: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    def lines(self) -> list[str]:
        out = [f"task={self.task} episodes={self.episodes} success_rate={self.success_rate:.3f} "
               f"episode_length_mean={self.episode_length_mean:.1f} return_mean={self.return_mean:.3f}"]
        for name, st in self.metrics.items():
            out.append(f"{name}: " + " ".join(f"{k}={v:.4f}" for k, v in st.items()))
        return out


def eval_cfg(task: str, robot_profile: RobotProfile | None = None) -> TaskCfg:
    """The task's evaluation config: object tasks start from home; the arm is ``robot_profile``'s (the domain
    randomization centred on it), the description's without one."""
    cfg = get_task(task).make_cfg().with_robot_profile(robot_profile)
    if hasattr(cfg, "pregrasp_fraction"):
        cfg.pregrasp_fraction = 0.0
    return cfg


def stage_flags(task: str, s) -> dict[str, torch.Tensor]:
    """(N,) bool per stage of the task that state ``s`` is in: Reach ``within_1cm``; Lift and PickPlace ``grasped``
    (the cube between the jaws, jaws closed past 0.9 rad) and ``lifted`` (held 3 cm up); PickPlace ``placed``
    (resting at the target). The stage an episode reached last is where it failed."""
    from roarm_lab.tasks import pick_place
    from roarm_lab.tasks.lift import HELD_RADIUS_M
    from roarm_lab.tasks.mdp import rewards as rew

    if task == "RoArm-Reach":
        return {"within_1cm": rew.tcp_distance(s) <= 0.01}
    grasped = rew.object_in_jaws(s, HELD_RADIUS_M) & (s.joint_pos[:, 5] < 0.9)
    flags = {"grasped": grasped, "lifted": rew.object_lifted_in_jaws(s, 0.03, HELD_RADIUS_M) > 0}
    if task == "RoArm-PickPlace":
        flags["placed"] = pick_place.placed(s)
    return flags


def _stats(x: torch.Tensor) -> dict[str, float]:
    x = x.double()
    return {"median": x.median().item(), "mean": x.mean().item(), "p90": x.quantile(0.9).item(),
            "max": x.max().item()}


def eval_env(task: str, episodes: int, seed: int = 0, nthread: int = 1,
             cfg: TaskCfg | None = None) -> MujocoTaskEnv:
    """The MuJoCo env of :func:`evaluate`: ``episodes`` environments on the held-out seeds (``seed`` offset from the
    training seeds), the task's evaluation config unless ``cfg``. The inspection core steps the same one."""
    return MujocoTaskEnv(get_task(task), episodes, cfg=cfg or eval_cfg(task), seed=EVAL_SEED_OFFSET + seed,
                         nthread=nthread)


def evaluate(task: str, policy: Callable[[torch.Tensor], torch.Tensor], episodes: int = 1000, seed: int = 0,
             nthread: int = 2, cfg: TaskCfg | None = None,
             on_step: Callable[[object], None] | None = None, backend: str = "mujoco",
             device: str = "cpu", physics: str = "newton_mjwarp") -> EvalResult:
    """Run ``episodes`` environments until each finished its first episode; ``policy`` maps the policy
    observation (N, k) to actions (N, 6). ``backend="isaaclab"`` runs Isaac Lab kit-less on ``device`` with the
    ``physics`` preset (``newton_mjwarp`` or ``physx``: :mod:`roarm_lab.isaaclab.physics`); ``nthread`` is MuJoCo's.
    ``on_step`` is called with the env after every step (viewers)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    cfg = cfg or eval_cfg(task)
    if backend == "mujoco":
        return run_episodes(task, eval_env(task, episodes, seed, nthread, cfg), policy, on_step)
    from roarm_lab.isaaclab.vec_env import make_vec_env

    env, _ = make_vec_env(task, episodes, EVAL_SEED_OFFSET + seed, device=device, physics=physics, task_cfg=cfg)
    try:
        return run_episodes(task, env, policy, on_step)
    finally:
        env.close()


def run_episodes(task: str, env, policy: Callable[[torch.Tensor], torch.Tensor],
                 on_step: Callable[[object], None] | None = None,
                 observe: Callable[[object], dict[str, torch.Tensor]] | None = None) -> EvalResult:
    """The first episode of every environment of ``env``, a VecEnv that records its ended episodes in
    ``last_episode`` (env_ids, success, the task's metrics), as both backends do. ``on_step`` is called with the
    env after every step; ``observe`` with the env before every step, returning (N,) values per name: each
    episode's values from before its last step (the state it ended in) come back in ``per_episode``."""
    spec = get_task(task)
    episodes = env.num_envs
    done = torch.zeros(episodes, dtype=torch.bool)
    per_episode = {"success": torch.zeros(episodes, dtype=torch.bool), "length": torch.zeros(episodes),
                   "return": torch.zeros(episodes)}
    per_episode.update({name: torch.zeros(episodes) for name, _ in spec.metrics})
    reserved = set(per_episode)
    running = torch.zeros(episodes)
    obs = env.get_observations()["policy"]
    with torch.inference_mode():
        for _ in range(env.max_episode_length):
            lengths_now = env.episode_length_buf.cpu() + 1
            observed = {} if observe is None else {k: v.cpu() for k, v in observe(env).items()}
            if clash := reserved & observed.keys():
                raise ValueError(f"observe() names {sorted(clash)} are run_episodes' own per-episode results")
            obs_td, reward, dones, _ = env.step(policy(obs))
            obs = obs_td["policy"]
            running += reward.cpu()
            if on_step is not None:
                on_step(env)
            if dones.any():
                ended = {k: v.cpu() for k, v in env.last_episode.items()}
                first = ended["env_ids"]
                new = ~done[first]
                ids = first[new]
                per_episode["success"][ids] = ended["success"][new]
                per_episode["length"][ids] = lengths_now[ids].float()
                per_episode["return"][ids] = running[ids]
                for name, _ in spec.metrics:
                    per_episode[name][ids] = ended[name][new]
                for name, value in observed.items():
                    if name not in per_episode:
                        per_episode[name] = torch.zeros(episodes, dtype=value.dtype)
                    per_episode[name][ids] = value[ids]
                done[ids] = True
                running[first] = 0.0
            if done.all():
                break
    return EvalResult(task=task, episodes=episodes, success_rate=per_episode["success"].float().mean().item(),
                      metrics={name: _stats(per_episode[name]) for name, _ in spec.metrics},
                      episode_length_mean=per_episode["length"].mean().item(),
                      return_mean=per_episode["return"].mean().item(), per_episode=per_episode)
