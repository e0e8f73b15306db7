#!/usr/bin/env python3
"""The reality gap, visible: one Reach policy's median final TCP error over the same held-out targets in MuJoCo
(the training simulator, no randomization), on the kinematic emulator, on the physics twin with the nominal truth
and on the twin with drawn truths (``--truth-seeds``).

    python benchmarks/twin_gap.py --policy reach.onnx [--targets 20] [--truth-seeds 0 1 2] [--duration 4]
                                  [--arms mujoco kinematic nominal seeds] [--truth FILE ...]

On the emulators each target is one ``play_real`` run (the runner's checked start move to home, then
``--duration`` s of policy control at 30 Hz over a real pseudo-terminal, then hold); the error is measured on the
arm's true joints (the emulator's state, as a tape measure would on a real arm), never on what the encoders say.
The twin runs in real time, so each target takes ``duration`` + a few seconds. Prints one table row per arm and,
last, ``gap_twin_over_mujoco=<x>`` (median over the truth seeds / MuJoCo).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from roarm_lab import kinematics
from roarm_lab.deploy import PolicyPackage
from roarm_lab.driver.session import ArmLinkSettings
from roarm_lab.emulator import Emulator, EmulatorConfig
from roarm_lab.emulator.twin.settings import TwinConfig
from roarm_lab.emulator.twin.truth import draw_truth, load_truth, nominal_truth
from roarm_lab.evaluation import EVAL_SEED_OFFSET
from roarm_lab.runner.run import ExitCode, PlayOptions, play
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks.mdp import rewards

TASK = "RoArm-Reach"
ARMS = ("mujoco", "kinematic", "nominal", "seeds")


def held_out_env(n: int, seed: int) -> MujocoTaskEnv:
    """n Reach episodes from home (no initial joint noise), no randomization: the targets and the MuJoCo row."""
    env_cfg = MujocoTaskEnv(TASK, 1).spec.make_cfg()
    env_cfg.randomization.enabled = False
    env_cfg.init_joint_noise = 0.0
    return MujocoTaskEnv(TASK, n, cfg=env_cfg, seed=seed, nthread=1)


def mujoco_errors(package: PolicyPackage, env: MujocoTaskEnv) -> list[float]:
    obs = env.get_observations()["policy"]
    for _ in range(env.max_episode_length - 1):  # the last step would time out and reset
        obs = env.step(torch.from_numpy(package.act(obs.numpy())))[0]["policy"]
    return rewards.tcp_distance(env.read_state()).tolist()


def emulator_errors(policy: Path, targets: np.ndarray, config: EmulatorConfig, duration: float,
                    workdir: Path) -> tuple[list[float], dict | None]:
    errors = []
    with Emulator(config) as emu:
        link = ArmLinkSettings(port=emu.port, settle_s=0.1, boot_timeout_s=20.0)
        for i, target in enumerate(targets):
            result = play(PlayOptions(policy=policy, link=link, target=target.tolist(), duration_s=duration,
                                      log_dir=workdir / f"run_{i:02d}", plot=False, stale_periods=30),
                          echo=lambda _: None)
            if result.exit_code != ExitCode.OK:
                raise SystemExit(f"run {i} ended with {result.exit_code.name}")
            q = np.array(emu.snapshot().q_model)  # the truth, not the encoders
            errors.append(float(np.linalg.norm(kinematics.tcp_position(q) - target)))
        stats = emu.core.plant.stats() if config.twin is not None else None
    return errors, stats


def row(name: str, errors: list[float], extra: str = "") -> str:
    e = np.array(errors) * 1000
    return (f"| {name} | {np.median(e):.1f} | {np.percentile(e, 90):.1f} | {np.mean(e <= 10) * 100:.0f} % |"
            f" {extra} |")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policy", type=Path, required=True, help="a Reach .onnx package (scripts/export_onnx.py)")
    p.add_argument("--targets", type=int, default=20)
    p.add_argument("--truth-seeds", type=int, nargs="*", default=[0, 1, 2])
    p.add_argument("--duration", type=float, default=4.0, help="seconds of policy control per target (the task's "
                                                                "episode is 4 s)")
    p.add_argument("--seed", type=int, default=EVAL_SEED_OFFSET + 7, help="the held-out targets' seed")
    p.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS), help="which rows to measure")
    p.add_argument("--truth", type=Path, nargs="*", default=[], help="also these truth files (twin rows)")
    a = p.parse_args()
    package = PolicyPackage.load(a.policy, expect_task=TASK)
    env = held_out_env(a.targets, a.seed)
    targets = env.command.double().numpy().copy()
    print(f"{a.targets} held-out Reach targets (seed {a.seed}), policy {a.policy}", flush=True)
    print("| arm | median final TCP error, mm | p90, mm | within 1 cm | notes |\n|---|---|---|---|---|")
    mj = None
    if "mujoco" in a.arms:
        mj = mujoco_errors(package, env)
        print(row("MuJoCo (training sim, nominal, no randomization)", mj), flush=True)
    arms = [("kinematic emulator", None)] if "kinematic" in a.arms else []
    arms += [("twin, nominal truth", nominal_truth())] if "nominal" in a.arms else []
    arms += [(f"twin, truth seed {s}", draw_truth(s)) for s in a.truth_seeds] if "seeds" in a.arms else []
    arms += [(f"twin, truth {t.name}", t) for t in map(load_truth, a.truth)]
    medians = []
    with tempfile.TemporaryDirectory(prefix="twin_gap_") as tmp:
        for k, (name, truth) in enumerate(arms):
            twin = None if truth is None else TwinConfig(truth=truth, cube=(0.25, 0.2, 0.0))
            config = EmulatorConfig(boot_duration_s=0.5, reset_on_open=False, twin=twin)
            errors, stats = emulator_errors(a.policy, targets, config, a.duration, Path(tmp) / f"arm_{k}")
            note = "" if stats is None else f"real-time factor {stats['rtf']:.3f}"
            if truth is not None and truth.name.startswith("seed"):
                medians.append(float(np.median(errors)))
                note += f"; delay {truth.command_delay_s * 1000:.0f} ms"
            print(row(name, errors, note), flush=True)
    if medians and mj is not None:
        print(f"gap_twin_over_mujoco={statistics.median(medians) / max(float(np.median(mj)), 1e-9):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
