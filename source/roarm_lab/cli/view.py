"""A browser viewer of the RoArm-M3 Pro that needs no GPU (Viser): open the printed URL in any browser.

    python scripts/view.py --task RoArm-Reach [--policy PATH] [--seed 0]      # a live MuJoCo rollout / sliders
    python scripts/view.py --replay logs/real/<run>                           # a play_real.py log (steps.jsonl)
    python scripts/view.py --replay <lerobot dataset root> [--episode 0]      # a LeRobot episode of the arm
    python scripts/view.py --mirror /dev/ttyUSB0 [--allow-commands]          # the live arm, read-only by default

--task: the task's scene (arm, table, cube), stepped live at 30 Hz by --policy (an ONNX policy package or an
rsl-rl checkpoint / run directory) or by the joint sliders (the hardware-safe ranges); Reach has a draggable
target. --replay: the measured arm solid, the commanded arm translucent, a time slider. --mirror: the arm's
feedback over serial (or --http HOST); --allow-commands lets the sliders command it, through the safety layer.
--port 0 picks a free port. Ctrl+C stops. Exit status 2 on bad arguments or input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from roarm_lab.tasks.registry import TASK_IDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--task", choices=sorted(TASK_IDS))
    what.add_argument("--replay", metavar="PATH", help="a runner log directory or a LeRobot dataset root")
    what.add_argument("--mirror", metavar="PORT", help="the arm's serial port (or pyserial URL)")
    what.add_argument("--http", metavar="HOST", help="mirror the arm over its Wi-Fi HTTP API")
    parser.add_argument("--policy", help="ONNX policy package or rsl-rl checkpoint (--task)")
    parser.add_argument("--seed", type=int, default=0, help="held-out episode seed (--task), as play.py's")
    parser.add_argument("--episode", type=int, default=0, help="episode of a LeRobot dataset (--replay)")
    parser.add_argument("--allow-commands", action="store_true",
                        help="let the sliders command the mirrored arm (through the safety layer)")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (0.0.0.0: the whole network)")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    if args.policy and not args.task:
        parser.error("--policy is for --task")
    if args.allow_commands and not (args.mirror or args.http):
        parser.error("--allow-commands is for --mirror / --http")

    from roarm_lab.inspection.errors import InspectionError
    from roarm_lab.inspection.web_viewer import WebViewer

    mirror = None
    try:
        if args.task:
            from roarm_lab.inspection.scene import TaskScene

            scene = TaskScene(args.task, seed=args.seed)
            if args.policy:
                scene.load_policy(args.policy)
        elif args.replay:
            from roarm_lab.inspection.replay import Replay

            path = Path(args.replay)
            replay = Replay.from_run(path) if (path / "steps.jsonl").is_file() else Replay.from_lerobot(
                path, args.episode)
        else:
            from roarm_lab.driver.errors import RealArmError
            from roarm_lab.driver.session import ArmLinkSettings
            from roarm_lab.inspection.mirror import LiveMirror

            mirror = LiveMirror(ArmLinkSettings(port=args.mirror, http=args.http), allow_commands=args.allow_commands)
            try:
                mirror.start()
            except RealArmError as err:
                print(f"error: cannot read the arm: {err}", file=sys.stderr)
                return 2
    except InspectionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    viewer = WebViewer(args.host, args.port)
    if args.task:
        viewer.show_rollout(scene)
    elif args.replay:
        viewer.show_replay(replay)
    else:
        viewer.show_mirror(mirror)
    print(f"[roarm-lab] viewer ({viewer.state['mode']}) at {viewer.url} - Ctrl+C stops", flush=True)
    try:
        viewer.run()
    except KeyboardInterrupt:
        pass
    finally:
        viewer.stop()
        if mirror is not None:
            mirror.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
