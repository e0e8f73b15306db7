#!/usr/bin/env python3
"""Frame rates of the browser viewer on this machine, and its screenshots for docs/ (headless Chromium).

    python benchmarks/viewer_rates.py [--seconds 10] [--policy reach.onnx] [--screenshots docs/images]

Rollout: a Reach scene stepped and drawn at the viewer's 30 Hz target (with --policy, an ONNX package, else the
joints by hand). Mirror: the firmware emulator on a pseudo-terminal, its feedback stream drawn as it comes. Each
runs with a headless Chromium connected (the page's WebGL in software), as a user's browser would be. Prints
``mode=... fps=... frames=...``; with --screenshots writes viewer_<mode>.png of each mode there.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the emulator helper and the browser helper of the tests

from browser import CHROMIUM_FLAGS, screenshot  # noqa: E402
from emulated_arm import FAST, emulator  # noqa: E402

from roarm_lab.inspection.web_viewer import WebViewer  # noqa: E402


def measure(viewer: WebViewer, mode: str, seconds: float, shots: Path | None, work: Path) -> None:
    browser = subprocess.Popen([shutil.which("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={work / mode}",
                                "--remote-debugging-port=0", viewer.url], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        viewer.start()
        time.sleep(2.0)  # the page connects
        start_frames, start = viewer.state["frames"], time.monotonic()
        time.sleep(seconds)
        frames = viewer.state["frames"] - start_frames
        print(f"mode={mode} fps={frames / (time.monotonic() - start):.1f} frames={frames} "
              f"(loop's own estimate {viewer.state['fps']:.1f})", flush=True)
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            screenshot(viewer.url, shots / f"viewer_{mode}.png", work / f"{mode}-shot")
    finally:
        browser.terminate()
        browser.wait(timeout=10)
        viewer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--policy", help="an ONNX Reach policy package for the rollout")
    parser.add_argument("--screenshots", type=Path, help="write viewer_<mode>.png here")
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        print("error: needs Chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    from roarm_lab.driver.session import ArmLinkSettings
    from roarm_lab.inspection.mirror import LiveMirror
    from roarm_lab.inspection.replay import Replay
    from roarm_lab.inspection.scene import TaskScene
    from roarm_lab.runner.run_log import RunLog, StepRecord

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scene = TaskScene("RoArm-Reach", seed=0)
        if args.policy:
            scene.load_policy(args.policy)
        viewer = WebViewer(port=0)
        viewer.show_rollout(scene)
        measure(viewer, "rollout", args.seconds, args.screenshots, work)

        emu = emulator(baud=0)
        mirror = LiveMirror(ArmLinkSettings(port=emu.port, feedback="stream", **FAST))
        try:
            mirror.start()
            viewer = WebViewer(port=0)
            viewer.show_mirror(mirror)
            seq = mirror.newest.seq
            measure(viewer, "mirror", args.seconds, args.screenshots, work)
            print(f"mirror feedback frames/s={(mirror.newest.seq - seq) / (args.seconds + 2):.1f}")
        finally:
            mirror.stop()
            emu.stop()

        if args.screenshots is not None:  # the replay of a short run of the rollout
            with RunLog(work / "run") as log:
                scene = TaskScene("RoArm-Reach", seed=1)
                if args.policy:
                    scene.load_policy(args.policy)
                for i in range(90):
                    frame = scene.step()
                    log.write_step(StepRecord(step=i, t=i / 30, status="commanded", feedback_age_ms=0.0,
                                              q=list(frame.joint_pos), command=list(frame.joint_targets)))
            viewer = WebViewer(port=0)
            viewer.show_replay(Replay.from_run(work / "run"), t=0.5)
            viewer.start()
            screenshot(viewer.url, args.screenshots / "viewer_replay.png", work / "replay-shot")
            viewer.stop()
            scene = TaskScene("RoArm-Lift", seed=0)
            scene.set_joint_targets((0.6, 0.3, 1.3, 0.4, 0.0, 0.5))
            for _ in range(60):
                scene.step()
            viewer = WebViewer(port=0)
            viewer.show_rollout(scene, playing=False)
            screenshot(viewer.url, args.screenshots / "viewer_sliders.png", work / "sliders-shot")
            viewer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
