"""Record expert demonstrations in MuJoCo as a LeRobot v3 dataset (one episode per simulated episode).

    python scripts/record_sim_demos.py --task RoArm-PickPlace|RoArm-Lift --episodes N --root DIR
        [--repo-id local/roarm_pickplace] [--seed 0] [--fps 30] [--num-envs 8] [--only-successful]
        [--camera front|side|top ... --camera-size H W] [--realtime] [--threads 2] [--robot_profile FILE]
        [--action-noise STD]

The reactive top-down picker (the expert Lift and PickPlace training clones) drives the arm; each frame holds the
measured joints (``observation.state``), the joint targets commanded (``action``, model rad, the follower plugin's
``base.pos`` ... ``gripper.pos``), the cube and target positions (``observation.environment_state``, world frame, m)
and optional camera videos. Episodes are written one at a time as each ends, so a crash or Ctrl+C loses only the
episodes still being simulated (at most ``--num-envs``). An existing dataset at ``--root`` is appended to (same
features and fps); the simulation seed is then ``--seed`` plus the episodes already there, so appended demos differ.
``--fps`` must divide the 30 Hz control rate (every k-th step is recorded). ``--camera`` renders offscreen with
``MUJOCO_GL`` (``egl`` unless set); where that is impossible the script stops before recording. Nothing uses the
Hugging Face Hub. ``--robot_profile FILE`` simulates that robot profile's arm (its drives; the domain randomization
centred on it) instead of the nominal description. Exit status: 0 done, 2 bad arguments, robot profile, root,
features or rendering (nothing written).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

TASKS = ("RoArm-Lift", "RoArm-PickPlace")  # the tasks with an expert (roarm_lab.lerobot_io.sim_demos)


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, choices=TASKS)
    parser.add_argument("--episodes", type=int, required=True, help="episodes to write")
    parser.add_argument("--root", required=True, type=Path, help="dataset folder (new, empty, or a dataset)")
    parser.add_argument("--repo-id", help="LeRobot repo id (default local/roarm_<task>)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fps", type=float, default=None, help="default: the control rate, 30")
    parser.add_argument("--num-envs", type=int, default=8, help="environments simulated at once")
    parser.add_argument("--threads", type=int, default=None,
                        help="MuJoCo threads (default: the free cores, roarm_lab.threads)")
    parser.add_argument("--only-successful", action="store_true", help="drop the expert's failed episodes")
    parser.add_argument("--camera", action="append", default=[], metavar="NAME",
                        help="record this camera (front, side, top); repeatable")
    parser.add_argument("--camera-size", type=int, nargs=2, default=(240, 320), metavar=("H", "W"))
    parser.add_argument("--realtime", action="store_true", help="step at the control rate (wall clock)")
    parser.add_argument("--action-noise", type=float, default=0.0, metavar="STD",
                        help="Gaussian noise (raw action units, 0.5 rad each) added to the executed actions, not to "
                             "the recorded ones (DART demos that show recoveries; e.g. 0.05)")
    parser.add_argument("--robot_profile", type=Path, metavar="FILE",
                        help="simulate this robot profile's arm (default: the nominal description)")
    args = parser.parse_args(argv)
    if args.episodes < 1:
        parser.error("--episodes must be >= 1")
    if args.num_envs < 1:
        parser.error("--num-envs must be >= 1")
    from roarm_lab import threads

    try:
        args.threads = threads.plan_threads(args.threads).mujoco
    except ValueError as err:
        parser.error(str(err))
    if len(set(args.camera)) != len(args.camera):
        parser.error("a --camera was given twice")
    args.repo_id = args.repo_id or f"local/roarm_{args.task.removeprefix('RoArm-').lower()}"
    return args


def _dir_size_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # recording never needs the Hub
    if args.camera:
        os.environ.setdefault("MUJOCO_GL", "egl")  # headless offscreen rendering (read when mujoco is imported)

    try:
        import mujoco  # noqa: F401 - it loads the OpenGL backend MUJOCO_GL names, and fails here if it cannot
    except Exception as error:
        print(f"error: MuJoCo does not start with MUJOCO_GL={os.environ.get('MUJOCO_GL')}: "
              f"{type(error).__name__}: {error}", file=sys.stderr)
        return 2
    import torch

    from roarm_lab.description.robot_profile import RobotProfileError, load_profile

    try:
        profile = load_profile(args.robot_profile) if args.robot_profile is not None else None
    except RobotProfileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from roarm_lab.lerobot_io.dataset_features import sim_demo_features
    from roarm_lab.lerobot_io.episode_writer import DatasetRootError, EpisodeWriter, FeatureMismatchError
    from roarm_lab.lerobot_io.sim_demos import SimDemoSource, demo_fps, frame_stride_for, record_demos
    from roarm_lab.sim_mujoco.camera import RenderingUnavailableError

    torch.set_num_threads(1)  # tiny batches: one thread is fastest
    try:
        stride = frame_stride_for(args.fps) if args.fps is not None else 1
        cameras = {name: tuple(args.camera_size) for name in args.camera}
        writer = EpisodeWriter(args.root, args.repo_id, demo_fps(stride), sim_demo_features(cameras))
        existing = writer.episodes_on_disk
        source = SimDemoSource(args.task, num_envs=args.num_envs, seed=args.seed + existing, cameras=cameras,
                               frame_stride=stride, nthread=args.threads, realtime=args.realtime,
                               robot_profile=profile, action_noise=args.action_noise)
    except (ValueError, DatasetRootError, FeatureMismatchError, RenderingUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if writer.recovered_append:
        print(f"[roarm-lab] rolled back an episode whose write was interrupted in {args.root}")
    print(f"[roarm-lab] recording {args.episodes} {args.task} episodes at {source.fps} fps into {args.root} "
          f"({existing} there already; simulation seed {args.seed + existing}; "
          + ("the nominal description" if profile is None else f"robot profile {profile.name} (hash {profile.hash})")
          + ")", flush=True)

    def report(episode, index):
        outcome = "success" if episode.success else "failure"
        where = f"episode {index}" if index is not None else "not written"
        print(f"  {where}: {len(episode.frames)} frames, {outcome}", flush=True)

    try:
        summary = record_demos(source, writer, args.episodes, only_successful=args.only_successful,
                               on_episode=report)
    except KeyboardInterrupt:
        print(f"[roarm-lab] interrupted: {writer.episodes_on_disk} episodes in {args.root}", file=sys.stderr)
        return 130
    finally:
        source.close()
    minutes = summary.seconds / 60
    print(f"episodes_written={summary.written} frames={summary.frames} attempted={summary.attempted} "
          f"success_rate={summary.success_rate:.3f} seconds={summary.seconds:.1f} "
          f"episodes_per_min={summary.written / minutes if minutes else 0:.1f} "
          f"dataset_episodes={writer.episodes_on_disk} dataset_mb={_dir_size_mb(args.root):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
