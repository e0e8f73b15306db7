"""Sim-to-sim: the MuJoCo backend against Isaac Lab kit-less on its two physics engines, Newton (MuJoCo-Warp) and
PhysX (OvPhysX, PhysX without Isaac Sim): three ways, MuJoCo the reference.

* Open loop (:func:`compare_open_loop`): the same raw-action sequence (:func:`open_loop_actions`: sinusoids, then
  two steps, on all six joints) from the same initial state (home) through every backend, with randomization off
  (nominal physics) or on (every backend draws the same physics values and action latency per environment for a
  seed). Gives the joint trajectories, their TCP trajectories (FK), the RMS deviation per joint and the largest
  TCP deviation from MuJoCo's.
* Closed loop (:func:`compare_policy`): a policy evaluated on the same held-out episodes in every backend
  (:func:`roarm_lab.evaluation.evaluate`), success and final-error ratios to MuJoCo's.

Limits: 0.02 rad RMS per joint and 5 mm of TCP for Newton, which integrates the same MJCF-equivalent model as
MuJoCo. PhysX keeps the RMS limit (it stays within 0.012 rad), but its TCP limit is 15 mm: its reduced-coordinate
TGS solver integrates the servo's back-EMF damping and friction its own way (PhysX reads joint friction as a
coefficient of the joint's constraint force, not N*m), which leaves its saturated steps 6.9 mm (nominal) to 10.5 mm
(randomized friction and latency) of TCP off MuJoCo's (measured; docs/sim-to-sim.md).

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

#: The Isaac Lab engines compared with MuJoCo, and the physics preset each one runs.
ISAACLAB_PHYSICS = {"newton": "newton_mjwarp", "physx": "physx"}
ENGINES = tuple(ISAACLAB_PHYSICS)
#: Issue 4's thresholds; PhysX's TCP limit is its measured solver difference with margin (module docstring).
MAX_JOINT_RMS_RAD = 0.02
MAX_TCP_DEVIATION_M = {"newton": 0.005, "physx": 0.015}
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
                 task: str = OPEN_LOOP_TASK, device: str = "cpu", physics: str = "newton_mjwarp") -> torch.Tensor:
    """As :func:`run_mujoco`, in Isaac Lab kit-less with the ``physics`` preset."""
    from roarm_lab.isaaclab.vec_env import make_vec_env

    env, _ = make_vec_env(task, num_envs, seed, device=device, physics=physics, task_cfg=cfg)
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
    """Every backend's trajectories of one open-loop run and their deviation from MuJoCo's."""

    actions: torch.Tensor  # (T, 6)
    joint_pos: dict[str, torch.Tensor]  # backend ("mujoco", "newton", "physx") -> (T+1, N, 6)

    @property
    def engines(self) -> list[str]:
        """The backends compared with MuJoCo."""
        return [name for name in self.joint_pos if name != "mujoco"]

    def joint_error(self, engine: str) -> torch.Tensor:
        return (self.joint_pos[engine] - self.joint_pos["mujoco"]).double()

    def joint_rms_rad(self, engine: str) -> torch.Tensor:
        """(6,) RMS over time and environments, per joint."""
        return self.joint_error(engine).pow(2).mean(dim=(0, 1)).sqrt()

    def joint_max_abs_rad(self, engine: str) -> torch.Tensor:
        return self.joint_error(engine).abs().amax(dim=(0, 1))

    def tcp_deviation_m(self, engine: str) -> torch.Tensor:
        """(T+1, N) distance between the engine's TCP trajectory and MuJoCo's."""
        tcp = {name: kinematics.tcp_position(self.joint_pos[name].double()) for name in ("mujoco", engine)}
        return (tcp[engine] - tcp["mujoco"]).norm(dim=-1)

    def engine_passed(self, engine: str) -> bool:
        return bool((self.joint_rms_rad(engine) <= MAX_JOINT_RMS_RAD).all()) and (
            self.tcp_deviation_m(engine).max().item() <= MAX_TCP_DEVIATION_M[engine])

    @property
    def passed(self) -> bool:
        return all(self.engine_passed(engine) for engine in self.engines)

    def lines(self) -> list[str]:
        steps, envs = len(self.actions), self.joint_pos["mujoco"].shape[1]
        out = [f"open_loop steps={steps} envs={envs} reference=mujoco"]
        for engine in self.engines:
            rms = " ".join(f"{j}={v:.2e}" for j, v in zip(JOINT_NAMES, self.joint_rms_rad(engine).tolist(),
                                                          strict=True))
            peak = " ".join(f"{j}={v:.2e}" for j, v in zip(JOINT_NAMES, self.joint_max_abs_rad(engine).tolist(),
                                                           strict=True))
            tcp = self.tcp_deviation_m(engine)
            out += [f"{engine} joint_rms_rad: {rms} (limit {MAX_JOINT_RMS_RAD})",
                    f"{engine} joint_max_abs_rad: {peak}",
                    f"{engine} tcp_deviation_mm: max={tcp.max().item() * 1e3:.4f} "
                    f"rms={tcp.pow(2).mean().sqrt().item() * 1e3:.4f} (limit {MAX_TCP_DEVIATION_M[engine] * 1e3:.1f})",
                    f"{engine} open_loop {'PASS' if self.engine_passed(engine) else 'FAIL'}"]
        return out + [f"open_loop {'PASS' if self.passed else 'FAIL'}"]


def _check_engines(engines) -> tuple[str, ...]:
    engines = tuple(engines)
    unknown = [e for e in engines if e not in ISAACLAB_PHYSICS]
    if unknown or not engines:
        raise ValueError(f"engines must be some of {ENGINES}, got {engines}")
    return engines


def compare_open_loop(duration_s: float = OPEN_LOOP_DURATION_S, randomized: bool = False, num_envs: int = 1,
                      seed: int = 0, device: str = "cpu", engines=ENGINES) -> OpenLoopComparison:
    """Drive :func:`open_loop_actions` through MuJoCo and the Isaac Lab ``engines`` (``num_envs`` copies, the
    same seed)."""
    engines = _check_engines(engines)
    actions = open_loop_actions(duration_s)
    cfg = open_loop_cfg(len(actions), randomized)
    joint_pos = {"mujoco": run_mujoco(actions, cfg, num_envs, seed)}
    for engine in engines:
        joint_pos[engine] = run_isaaclab(actions, cfg, num_envs, seed, device=device,
                                         physics=ISAACLAB_PHYSICS[engine])
    return OpenLoopComparison(actions=actions, joint_pos=joint_pos)


@dataclass
class PolicyComparison:
    """One policy on the same held-out episodes in MuJoCo and the Isaac Lab engines."""

    results: dict[str, EvalResult]  # backend ("mujoco", "newton", "physx") -> its evaluation

    @property
    def engines(self) -> list[str]:
        return [name for name in self.results if name != "mujoco"]

    def success_ratio(self, engine: str) -> float:
        """The engine's success rate over MuJoCo's (nan when MuJoCo never succeeded)."""
        mujoco = self.results["mujoco"].success_rate
        return self.results[engine].success_rate / mujoco if mujoco > 0 else math.nan

    def median_ratio(self, engine: str, metric: str) -> float:
        """The engine's median of an episode metric (an error: lower is better) over MuJoCo's."""
        return self.results[engine].metrics[metric]["median"] / self.results["mujoco"].metrics[metric]["median"]

    @property
    def passed(self) -> bool:
        return all(self.success_ratio(engine) >= MIN_SUCCESS_RATIO for engine in self.engines)

    def lines(self) -> list[str]:
        out = [f"{name:<7} {line}" for name, result in self.results.items() for line in result.lines()]
        for engine in self.engines:
            ratios = [f"success_ratio={self.success_ratio(engine):.3f} (min {MIN_SUCCESS_RATIO})"]
            ratios += [f"{name}_median_ratio={self.median_ratio(engine, name):.3f}"
                       for name in self.results["mujoco"].metrics]
            out.append(f"{engine} policy " + " ".join(ratios))
        return out + [f"policy {'PASS' if self.passed else 'FAIL'}"]


def compare_policy(task: str, policy: Callable[[torch.Tensor], torch.Tensor], episodes: int = 128, seed: int = 0,
                   nthread: int = 1, device: str = "cpu", engines=ENGINES) -> PolicyComparison:
    """Evaluate ``policy`` (obs -> actions) on the same held-out episodes in MuJoCo and the Isaac Lab ``engines``."""
    engines = _check_engines(engines)
    results = {"mujoco": evaluate(task, policy, episodes=episodes, seed=seed, nthread=nthread)}
    for engine in engines:
        results[engine] = evaluate(task, policy, episodes=episodes, seed=seed, backend="isaaclab", device=device,
                                   physics=ISAACLAB_PHYSICS[engine])
    return PolicyComparison(results)
