"""What the extension's window does, without omni: the Kit UI (:mod:`.ui_extension`) calls these methods, and the
poses reach the stage through ``publish``. Everything here is the inspection core of roarm_lab
(:mod:`roarm_lab.inspection`): task scenes stepped in MuJoCo, policies, joints by hand, the Reach target, replay of
recorded runs, and the live mirror of the arm (read-only unless switched on).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from roarm_lab.inspection.errors import InspectionError
from roarm_lab.inspection.scene import TaskScene, joint_slider_ranges, list_tasks

CONTROL_DT = 1.0 / 30.0


@dataclass
class Shown:
    """What the stage shows: the arm's joints and, where there are any, the cube and the Reach target."""

    joint_pos: tuple[float, ...]
    cube_pos: tuple[float, ...] | None = None
    cube_quat: tuple[float, ...] | None = None
    target: tuple[float, ...] | None = None


class InspectorController:
    """One source at a time: a task scene, a replay or the mirror. ``publish(shown)`` draws; ``message`` is the last
    status or error for the window's status line (bad input never raises into the UI)."""

    def __init__(self, publish: Callable[[Shown], None]):
        self.publish = publish
        self.tasks = list_tasks()
        self.task = self.tasks[0]
        self.slider_ranges = joint_slider_ranges()
        self.scene: TaskScene | None = None
        self.replay = None
        self.replay_time = 0.0
        self.mirror = None
        self.playing = False
        self.message = ""
        self._accumulated = 0.0

    @property
    def mode(self) -> str | None:
        return "scene" if self.scene else "replay" if self.replay else "mirror" if self.mirror else None

    # ------------------------------------------------------------------ scene
    def select_task(self, task: str) -> None:
        if task not in self.tasks:
            self.message = f"unknown task {task!r}"
            return
        self.task = task

    def open_scene(self, seed: int = 0) -> None:
        self._close()
        self.scene = TaskScene(self.task, seed=seed)
        self.message = f"{self.task}: held-out episode seed {seed}"
        self._publish_scene()

    def load_policy(self, path: str) -> None:
        if self.scene is None:
            self.message = "open a scene first"
            return
        try:
            policy = self.scene.load_policy(path.strip())
        except InspectionError as err:
            self.message = str(err)
            return
        self.scene.release_joints()
        self.message = f"policy {policy.path.name} ({policy.kind})"

    def set_playing(self, on: bool) -> None:
        self.playing = bool(on)

    def step(self) -> None:
        if self.scene is not None:
            self.scene.step()
            self._publish_scene()

    def set_joint(self, index: int, value: float) -> None:
        """A joint slider moved: the scene's joints follow the sliders (by hand) from now on, or the mirrored arm
        is commanded (only when the mirror allows commands)."""
        if self.scene is not None:
            current = list(self.scene.hand_targets.tolist() if self.scene.hand_targets is not None
                           else self.scene.frame.joint_pos)
            current[index] = value
            self.scene.set_joint_targets(current)
        elif self.mirror is not None and self.mirror.newest is not None:
            target = list(self.mirror.newest.q)
            target[index] = value
            try:
                self.mirror.command(target)
            except InspectionError as err:
                self.message = str(err)

    def release_joints(self) -> None:
        if self.scene is not None:
            self.scene.release_joints()

    def move_target(self, xyz: Sequence[float]) -> None:
        if self.scene is None:
            return
        try:
            self.scene.set_reach_target(xyz)
        except InspectionError as err:
            self.message = str(err)
        self._publish_scene()

    # ------------------------------------------------------------------ replay and mirror
    def open_replay(self, path: str, episode: int = 0) -> None:
        from pathlib import Path

        from roarm_lab.inspection.replay import Replay

        path = Path(path.strip())
        try:
            replay = Replay.from_run(path) if (path / "steps.jsonl").is_file() else Replay.from_lerobot(path, episode)
        except InspectionError as err:
            self.message = str(err)
            return
        self._close()
        self.replay, self.replay_time = replay, 0.0
        self.message = f"replay of {replay.source}: {replay.duration_s:.1f} s"
        self.set_replay_time(0.0)

    def set_replay_time(self, t: float) -> None:
        if self.replay is None:
            return
        self.replay_time = min(max(float(t), 0.0), self.replay.duration_s)
        sample = self.replay.at(self.replay_time)
        if all(v == v for v in sample.measured):  # no NaN: the step had a reading
            self.publish(Shown(tuple(float(v) for v in sample.measured)))

    def connect_mirror(self, port: str, allow_commands: bool = False) -> None:
        from roarm_lab.driver.errors import RealArmError
        from roarm_lab.driver.session import ArmLinkSettings
        from roarm_lab.inspection.mirror import LiveMirror

        self._close()
        mirror = LiveMirror(ArmLinkSettings(port=port.strip()), allow_commands=allow_commands)
        try:
            mirror.start()
        except (RealArmError, ValueError) as err:
            self.message = f"cannot read the arm on {port}: {err}"
            return
        self.mirror = mirror
        self.message = f"mirroring {port} ({'commanding' if allow_commands else 'read-only'})"

    # ------------------------------------------------------------------ every app update
    def tick(self, dt: float) -> None:
        if self.scene is not None and self.playing:
            self._accumulated += dt
            while self._accumulated >= CONTROL_DT:
                self._accumulated -= CONTROL_DT
                self.scene.step()
            self._publish_scene()
        elif self.replay is not None and self.playing:
            t = self.replay_time + dt
            self.set_replay_time(0.0 if t > self.replay.duration_s else t)
        elif self.mirror is not None and self.mirror.newest is not None:
            if self.mirror.error is not None:
                self.message = f"link lost: {self.mirror.error}"
            self.publish(Shown(self.mirror.newest.q))

    def shutdown(self) -> None:
        self._close()

    def _publish_scene(self) -> None:
        f = self.scene.frame
        target = f.command if self.scene.task == "RoArm-Reach" else None
        self.publish(Shown(f.joint_pos, f.object_pos, f.object_quat, target))

    def _close(self) -> None:
        if self.mirror is not None:
            self.mirror.stop()
        self.scene = self.replay = self.mirror = None
        self.playing = False
