"""Sim-to-sim: the MuJoCo backend against Isaac Lab kit-less (Newton / MuJoCo-Warp), issue 4's acceptance checks.

* Open loop (:func:`compare_open_loop`): the same raw-action sequence (:func:`open_loop_actions`: sinusoids, then
  two steps, on all six joints) from the same initial state (home) through both backends, with randomization off
  (nominal physics) or on (both backends draw the same physics values and action latency per environment for a
  seed). Gives the joint trajectories, their TCP trajectories (FK), the RMS deviation per joint and the largest
  TCP deviation.
* Closed loop (:func:`compare_policy`): a policy evaluated on the same held-out episodes in both backends
  (:func:`roarm_lab.evaluation.evaluate`), success and final-error ratios.

Isaac Lab runs one simulation per process: each Isaac Lab run here builds its env and closes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from roarm_lab import kinematics
from roarm_lab.description import JOINT_NAMES
from roarm_lab.evaluation import EvalResult, evaluate
from roarm_lab.tasks.mdp.actions import DEFAULT_POSE, actions_for_targets
from roarm_lab.tasks.registry import get_task
from roarm_lab.tasks.spec import TaskCfg
from roarm_lab.tasks.timing import CONTROL_HZ

#: Issue 4's thresholds.
MAX_JOINT_RMS_RAD = 0.02
MAX_TCP_DEVIATION_M = 0.005
MIN_SUCCESS_RATIO = 0.8

OPEN_LOOP_TASK = "RoArm-Reach"  # the arm on the table, nothing to touch
OPEN_LOOP_DURATION_S = 4.0
#: Sinusoids around the action default pose (rad, Hz per joint), then two held steps (offsets from the default).
#: All targets lie inside the hardware-safe limits and keep the TCP >= 4 cm above the table.
SINE_AMPLITUDE = (0.8, 0.4, 0.5, 0.6, 0.8, 0.5)
SINE_FREQUENCY_HZ = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
STEP_OFFSETS = ((0.6, 0.3, -0.4, 0.5, -0.6, 0.4), (-0.6, -0.3, 0.4, -0.5, 0.6, -0.5))
SINE_FRACTION = 0.6  # of the duration; the steps share the rest


def open_loop_targets(duration_s: float = OPEN_LOOP_DURATION_S) -> torch.Tensor:
    """(T, 6) joint targets at the control rate: sinusoids on every joint, then steps that saturate the servos."""
    steps = int(round(duration_s * CONTROL_HZ))
    if steps < 3:
        raise ValueError(f"duration_s={duration_s} is shorter than 3 control steps")
    n_sine = int(round(steps * SINE_FRACTION))
    n_first_step = (steps - n_sine) // 2
    default = torch.tensor(DEFAULT_POSE)
    t = torch.arange(n_sine)[:, None] / CONTROL_HZ
    sine = default + torch.tensor(SINE_AMPLITUDE) * torch.sin(2 * math.pi * torch.tensor(SINE_FREQUENCY_HZ) * t)
    first, second = (default + torch.tensor(offset) for offset in STEP_OFFSETS)
    return torch.cat([sine, first.expand(n_first_step, 6), second.expand(steps - n_sine - n_first_step, 6)])


def open_loop_actions(duration_s: float = OPEN_LOOP_DURATION_S) -> torch.Tensor:
    """(T, 6) raw actions that command :func:`open_loop_targets` (through the shared action mapping)."""
    return actions_for_targets(open_loop_targets(duration_s))


def open_loop_cfg(steps: int, randomized: bool = False, task: str = OPEN_LOOP_TASK) -> TaskCfg:
    """The task config of an open-loop run: start at home, no time-out within ``steps`` control steps, and
    randomization (physics, latency, observation noise) off unless ``randomized``."""
    cfg = get_task(task).make_cfg()
    cfg.init_joint_noise = 0.0
    cfg.randomization.enabled = randomized
    cfg.episode_length_s = (steps + 2) / CONTROL_HZ
    return cfg


def run_mujoco(actions: torch.Tensor, cfg: TaskCfg, num_envs: int = 1, seed: int = 0,
               task: str = OPEN_LOOP_TASK) -> torch.Tensor:
    """Joint positions (T+1, num_envs, 6), the initial state first, after each of the (T, 6) actions."""
    from roarm_lab.sim_mujoco.env import MujocoTaskEnv

    env = MujocoTaskEnv(task, num_envs, cfg=cfg, seed=seed, nthread=1)
    _check_horizon(actions, env.max_episode_length)
    joint_pos = [env.read_state().joint_pos]
    for action in actions:
        env.step(action.expand(num_envs, -1))
        joint_pos.append(env.read_state().joint_pos)
    return torch.stack(joint_pos)


def run_isaaclab(actions: torch.Tensor, cfg: TaskCfg, num_envs: int = 1, seed: int = 0,
                 task: str = OPEN_LOOP_TASK, device: str = "cpu") -> torch.Tensor:
    """As :func:`run_mujoco`, in Isaac Lab kit-less."""
    from roarm_lab.isaaclab.vec_env import make_vec_env

    env, _ = make_vec_env(task, num_envs, seed, device=device, task_cfg=cfg)
    try:
        _check_horizon(actions, env.max_episode_length)
        joint_pos = [env.task.arm_state().joint_pos.cpu()]
        for action in actions:
            env.step(action.expand(num_envs, -1).to(device))
            joint_pos.append(env.task.arm_state().joint_pos.cpu())
    finally:
        env.close()
    return torch.stack(joint_pos)


def _check_horizon(actions: torch.Tensor, max_episode_length: int) -> None:
    if len(actions) >= max_episode_length:
        raise ValueError(f"{len(actions)} actions do not fit in one episode ({max_episode_length} steps)")


@dataclass
class OpenLoopComparison:
    """Both backends' trajectories of one open-loop run and their deviation (Isaac Lab minus MuJoCo)."""

    actions: torch.Tensor  # (T, 6)
    mujoco_joint_pos: torch.Tensor  # (T+1, N, 6)
    isaaclab_joint_pos: torch.Tensor  # (T+1, N, 6)

    @property
    def joint_error(self) -> torch.Tensor:
        return (self.isaaclab_joint_pos - self.mujoco_joint_pos).double()

    @property
    def joint_rms_rad(self) -> torch.Tensor:
        """(6,) RMS over time and environments, per joint."""
        return self.joint_error.pow(2).mean(dim=(0, 1)).sqrt()

    @property
    def joint_max_abs_rad(self) -> torch.Tensor:
        return self.joint_error.abs().amax(dim=(0, 1))

    @property
    def mujoco_tcp(self) -> torch.Tensor:
        return kinematics.tcp_position(self.mujoco_joint_pos.double())

    @property
    def tcp_deviation_m(self) -> torch.Tensor:
        """(T+1, N) distance between the two TCP trajectories."""
        return (kinematics.tcp_position(self.isaaclab_joint_pos.double()) - self.mujoco_tcp).norm(dim=-1)

    @property
    def passed(self) -> bool:
        return bool((self.joint_rms_rad <= MAX_JOINT_RMS_RAD).all()) and (
            self.tcp_deviation_m.max().item() <= MAX_TCP_DEVIATION_M)

    def lines(self) -> list[str]:
        steps, envs = len(self.actions), self.mujoco_joint_pos.shape[1]
        rms = " ".join(f"{j}={v:.2e}" for j, v in zip(JOINT_NAMES, self.joint_rms_rad.tolist(), strict=True))
        peak = " ".join(f"{j}={v:.2e}" for j, v in zip(JOINT_NAMES, self.joint_max_abs_rad.tolist(), strict=True))
        tcp = self.tcp_deviation_m
        return [f"open_loop steps={steps} envs={envs}",
                f"joint_rms_rad: {rms} (limit {MAX_JOINT_RMS_RAD})",
                f"joint_max_abs_rad: {peak}",
                f"tcp_deviation_mm: max={tcp.max().item() * 1e3:.4f} rms={tcp.pow(2).mean().sqrt().item() * 1e3:.4f} "
                f"(limit {MAX_TCP_DEVIATION_M * 1e3:.1f})",
                f"open_loop {'PASS' if self.passed else 'FAIL'}"]


def compare_open_loop(duration_s: float = OPEN_LOOP_DURATION_S, randomized: bool = False, num_envs: int = 1,
                      seed: int = 0, device: str = "cpu") -> OpenLoopComparison:
    """Drive :func:`open_loop_actions` through both backends (``num_envs`` copies, the same seed)."""
    actions = open_loop_actions(duration_s)
    cfg = open_loop_cfg(len(actions), randomized)
    return OpenLoopComparison(actions=actions, mujoco_joint_pos=run_mujoco(actions, cfg, num_envs, seed),
                              isaaclab_joint_pos=run_isaaclab(actions, cfg, num_envs, seed, device=device))


@dataclass
class PolicyComparison:
    """One policy on the same held-out episodes in both backends."""

    mujoco: EvalResult
    isaaclab: EvalResult

    @property
    def success_ratio(self) -> float:
        """Isaac Lab's success rate over MuJoCo's (nan when MuJoCo never succeeded)."""
        return self.isaaclab.success_rate / self.mujoco.success_rate if self.mujoco.success_rate > 0 else math.nan

    def median_ratio(self, metric: str) -> float:
        """Isaac Lab's median of an episode metric (an error: lower is better) over MuJoCo's."""
        return self.isaaclab.metrics[metric]["median"] / self.mujoco.metrics[metric]["median"]

    @property
    def passed(self) -> bool:
        return self.success_ratio >= MIN_SUCCESS_RATIO

    def lines(self) -> list[str]:
        out = [f"mujoco   {line}" for line in self.mujoco.lines()]
        out += [f"isaaclab {line}" for line in self.isaaclab.lines()]
        ratios = [f"success_ratio={self.success_ratio:.3f} (min {MIN_SUCCESS_RATIO})"]
        ratios += [f"{name}_median_ratio={self.median_ratio(name):.3f}" for name in self.mujoco.metrics]
        return out + ["policy " + " ".join(ratios), f"policy {'PASS' if self.passed else 'FAIL'}"]


def compare_policy(task: str, policy: Callable[[torch.Tensor], torch.Tensor], episodes: int = 128, seed: int = 0,
                   nthread: int = 1, device: str = "cpu") -> PolicyComparison:
    """Evaluate ``policy`` (obs -> actions) on the same held-out episodes in MuJoCo and in Isaac Lab."""
    return PolicyComparison(
        mujoco=evaluate(task, policy, episodes=episodes, seed=seed, nthread=nthread),
        isaaclab=evaluate(task, policy, episodes=episodes, seed=seed, backend="isaaclab", device=device))
