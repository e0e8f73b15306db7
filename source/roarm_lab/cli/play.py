"""Evaluate a trained RoArm policy on held-out seeds (MuJoCo or Isaac Lab), optionally in the MuJoCo viewer.

    python scripts/play.py --task RoArm-Reach --checkpoint logs/rsl_rl/RoArm-Reach/<run>/model_299.pt
                           [--backend mujoco|isaaclab [--physics newton_mjwarp|physx]] [--episodes 1000]
                           [--seed 0] [--viewer]
                           [--export policy.onnx] [--robot_profile FILE]

Prints the success rate, the task's error statistics (median/mean/p90/max) and episode stats. ``--backend
isaaclab`` evaluates in Isaac Lab kit-less (``--physics newton_mjwarp``, the default, or ``physx``: OvPhysX without
Isaac Sim; ``--device cuda:0`` on a GPU), on the same held-out episodes as MuJoCo for the same seed.
``--viewer`` (MuJoCo only) shows environment 0 in MuJoCo's passive viewer where a display exists. ``--export``
then writes the evaluated checkpoint as an ONNX policy package (``scripts/export_onnx.py``), its metadata holding
the success rate.
The simulated arm is the run's robot profile (``robot_profile.yaml`` next to the checkpoint, written by ``train.py
--robot_profile``), or the nominal description for runs without one; ``--robot_profile FILE`` evaluates a run of
the nominal description on a profile's arm, and must match the run's profile where it has one.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from roarm_lab.tasks.registry import TASK_IDS


def _viewer_hook():
    if sys.platform != "darwin" and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        print("[roarm-lab] no display found: running without the viewer", file=sys.stderr)
        return None, None
    import time

    import mujoco
    import mujoco.viewer

    state = {}

    def on_step(env):
        if "viewer" not in state:
            state["model"] = env.env_model(0)
            state["data"] = mujoco.MjData(state["model"])
            state["viewer"] = mujoco.viewer.launch_passive(state["model"], state["data"])
        mujoco.mj_setState(state["model"], state["data"], env.mj_state(0), mujoco.mjtState.mjSTATE_FULLPHYSICS)
        mujoco.mj_forward(state["model"], state["data"])
        state["viewer"].sync()
        time.sleep(1 / 30)

    return on_step, state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True, choices=sorted(TASK_IDS))
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--backend", default="mujoco", choices=("mujoco", "isaaclab"))
    parser.add_argument("--device", default="cpu", help="Isaac Lab's simulation device")
    parser.add_argument("--physics", choices=("newton_mjwarp", "physx"), default=None,
                        help="Isaac Lab's physics preset (default newton_mjwarp; physx: OvPhysX kit-less)")
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="evaluation seed (offset from training seeds)")
    parser.add_argument("--threads", type=int, default=None,
                        help="MuJoCo and torch threads (default: one per free core, measured at start)")
    parser.add_argument("--viewer", action="store_true")
    parser.add_argument("--export", metavar="PATH", help="write the checkpoint's ONNX policy package here")
    parser.add_argument("--robot_profile", metavar="FILE",
                        help="simulate this robot profile's arm (default: the run's robot_profile.yaml, if any)")
    args = parser.parse_args(argv)
    if not Path(args.checkpoint).is_file():
        print(f"error: checkpoint {args.checkpoint} does not exist", file=sys.stderr)
        return 2
    if args.episodes < 1:
        print("error: --episodes must be >= 1", file=sys.stderr)
        return 2
    if args.viewer and args.backend != "mujoco":
        print("error: --viewer shows the MuJoCo backend only", file=sys.stderr)
        return 2
    if (args.device != "cpu" or args.physics) and args.backend != "isaaclab":
        print("error: --device and --physics are for --backend isaaclab (MuJoCo runs on the CPU)", file=sys.stderr)
        return 2
    physics = args.physics or "newton_mjwarp"
    if args.backend == "isaaclab":
        from roarm_lab.isaaclab.physics import check_physics

        try:
            check_physics(physics)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2

    from roarm_lab.description.robot_profile import RobotProfileError
    from roarm_lab.evaluation import eval_cfg, evaluate
    from roarm_lab.training.policy import load_actor, obs_policy
    from roarm_lab.training.run import resolve_robot_profile

    try:
        profile = resolve_robot_profile(args.robot_profile, Path(args.checkpoint).parent)
    except RobotProfileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("[roarm-lab] simulating " + ("the nominal description" if profile is None else
                                       f"robot profile {profile.name} (hash {profile.hash})"))

    from roarm_lab import threads

    try:
        plan = threads.plan_and_apply(args.threads)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    actor = load_actor(args.task, args.checkpoint)  # on the CPU (as the ONNX export wants it)
    cpu_policy = obs_policy(actor)

    def policy(obs):
        return cpu_policy(obs.cpu())  # (Isaac Lab on a GPU: its step moves the actions back)
    on_step, viewer_state = _viewer_hook() if args.viewer else (None, None)
    episodes = 1 if on_step is not None and args.episodes == 1000 else args.episodes
    result = evaluate(args.task, policy, episodes=episodes, seed=args.seed, nthread=plan.mujoco,
                      cfg=eval_cfg(args.task, profile), on_step=on_step, backend=args.backend, device=args.device,
                      physics=physics)
    for line in result.lines():
        print(line)
    if viewer_state and "viewer" in viewer_state:
        viewer_state["viewer"].close()
    if args.export:
        from roarm_lab.deploy.checkpoint import training_info
        from roarm_lab.deploy.export import export_policy_package

        backend = args.backend if args.backend == "mujoco" else f"isaaclab/{physics}"
        evaluation = {"backend": backend, "episodes": result.episodes, "seed": args.seed,
                      "success_rate": result.success_rate}
        out = export_policy_package(actor, args.task, args.export, training=training_info(Path(args.checkpoint)),
                                    evaluation=evaluation, robot_profile=profile)
        print(f"[roarm-lab] policy package: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
