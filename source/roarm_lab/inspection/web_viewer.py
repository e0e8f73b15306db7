"""A browser viewer of the arm that needs no GPU: Viser (a maintained 3D web library, the one mjlab uses) serves a
three.js page; the server side runs the inspection core on the CPU.

Why Viser rather than Rerun: Viser is a live, two-way scene (sliders, buttons, a draggable target, pose updates
pushed as they happen) driven from Python, which is what stepping a policy, moving joints by hand and mirroring an
arm need; Rerun is a recorder and timeline viewer of logged data, strong for replaying, weaker for driving.

Modes (:class:`WebViewer` ``show_*`` methods, ``scripts/view.py``):

* rollout - a task scene (:class:`~roarm_lab.inspection.scene.TaskScene`) stepped live at 30 Hz by a policy, or by
  joint sliders (the hardware-safe ranges), or holding; a draggable Reach target;
* replay - a recorded run: the measured arm solid, the commanded arm translucent, a time slider;
* mirror - the live arm from its feedback (:class:`~roarm_lab.inspection.mirror.LiveMirror`), read-only unless the
  mirror was made with commanding switched on, then the sliders command it through the safety layer.

The arm, the table and the cube are drawn from the MuJoCo model the tasks use (the generated MJCF's primitive
visual geoms): every geom is a scene node whose world pose is set from MuJoCo's forward kinematics.
:attr:`WebViewer.state` is what is on screen (mode, joints, time, frames drawn, frame rate), for tests and tools.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import mujoco
import numpy as np

from roarm_lab.description import JOINT_NAMES
from roarm_lab.inspection.errors import InspectionError
from roarm_lab.inspection.replay import Replay
from roarm_lab.inspection.scene import TaskScene, joint_slider_ranges

VISUAL_GROUPS = (0, 2)  # the MJCF's world geoms (table, cube) and the arm's visuals; group 3 is collision
DRAW_HZ = 30.0
CAMERA_POSITION = (0.62, -0.62, 0.48)
CAMERA_LOOK_AT = (0.2, -0.12, 0.14)  # the arm left of centre, clear of the control panel on the right
COMMANDED_OPACITY = 0.35


def _rgb(rgba: np.ndarray) -> tuple[int, int, int]:
    return tuple(int(round(255 * float(c))) for c in rgba[:3])


class ModelDrawing:
    """The visual geoms of a MuJoCo model as scene nodes under ``prefix``, posed by :meth:`update`."""

    def __init__(self, server, model: mujoco.MjModel, prefix: str, opacity: float | None = None,
                 skip_world: bool = False):
        self.model = model
        self.data = mujoco.MjData(model)
        self.handles: list[tuple[int, object]] = []
        for g in range(model.ngeom):
            if model.geom_group[g] not in VISUAL_GROUPS or (skip_world and model.geom_bodyid[g] == 0):
                continue
            if skip_world and model.body(model.geom_bodyid[g]).name == "cube":
                continue
            mat = model.geom_matid[g]
            color = _rgb(model.mat_rgba[mat] if mat >= 0 else model.geom_rgba[g])
            size = model.geom_size[g]
            name = f"{prefix}/{model.geom(g).name or f'geom{g}'}"
            kind = model.geom_type[g]
            if kind == mujoco.mjtGeom.mjGEOM_BOX:
                handle = server.scene.add_box(name, color=color, dimensions=tuple(2 * size), opacity=opacity)
            elif kind == mujoco.mjtGeom.mjGEOM_CYLINDER:
                handle = server.scene.add_cylinder(name, radius=float(size[0]), height=float(2 * size[1]),
                                                   color=color, opacity=opacity)
            elif kind == mujoco.mjtGeom.mjGEOM_SPHERE:
                handle = server.scene.add_icosphere(name, radius=float(size[0]), color=color, opacity=opacity)
            else:
                continue  # the generated MJCF uses boxes and cylinders only
            self.handles.append((g, handle))

    def update(self, qpos: np.ndarray) -> None:
        """Pose every node from the model's forward kinematics at ``qpos`` (nq,)."""
        self.data.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self.data)
        quat = np.zeros(4)
        for g, handle in self.handles:
            mujoco.mju_mat2Quat(quat, self.data.geom_xmat[g])
            handle.position = tuple(self.data.geom_xpos[g])
            handle.wxyz = tuple(quat)

    def set_visible(self, visible: bool) -> None:
        for _, handle in self.handles:
            handle.visible = visible


class WebViewer:
    """One Viser server on ``host:port`` (port 0: a free one). Call one ``show_*`` method, then :meth:`run` (blocks,
    drawing at 30 Hz until :meth:`stop`) or :meth:`start` (a background thread)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8080):
        import viser

        if port == 0:
            import socket

            with socket.socket() as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
        self.server = viser.ViserServer(host=host, port=port, verbose=False)
        # the panel floats over the full-window canvas, so the camera (75 deg vertical fov) frames the whole page
        self.server.gui.configure_theme(dark_mode=True, control_layout="floating", show_share_button=False)
        self.server.scene.set_up_direction("+z")
        self.server.initial_camera.position = CAMERA_POSITION
        self.server.initial_camera.look_at = CAMERA_LOOK_AT
        self.host, self.port = host, port
        self.state: dict = {"mode": None, "frames": 0, "fps": 0.0}
        self._tick = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    # ------------------------------------------------------------------ modes
    def show_rollout(self, scene: TaskScene, playing: bool = True) -> None:
        """A live task scene: play/pause, step, reset, joint sliders (take over from the policy), a Reach target."""
        model, _ = scene.mj_state()
        drawing = ModelDrawing(self.server, model, "/scene")
        gui = self.server.gui
        gui.add_markdown(f"**{scene.task}** - policy: "
                         + (f"`{scene.policy.path.name}` ({scene.policy.kind})" if scene.policy else "none"))
        play = gui.add_checkbox("Play", initial_value=playing)
        step_button = gui.add_button("Step")
        reset_button = gui.add_button("Reset episode")
        hand = gui.add_checkbox("Move joints by hand", initial_value=scene.policy is None)
        sliders = self._joint_sliders(scene.frame.joint_pos)
        status = gui.add_markdown("")
        pending = {"step": False, "reset": False}
        step_button.on_click(lambda _: pending.__setitem__("step", True))
        reset_button.on_click(lambda _: pending.__setitem__("reset", True))
        target = None
        if scene.task == "RoArm-Reach":
            target = self.server.scene.add_transform_controls("/target", scale=0.08, disable_rotations=True,
                                                              position=scene.frame.command)
            self.server.scene.add_icosphere("/target/ball", radius=0.01, color=(230, 60, 60))

            @target.on_update
            def _(_event) -> None:
                with self._lock:
                    try:
                        scene.set_reach_target(target.position)
                    except InspectionError as err:
                        status.content = f"target refused: {err}"
                        target.position = scene.frame.command

        def tick() -> None:
            if pending["reset"]:
                pending["reset"] = False
                scene.reset()
                if target is not None:
                    target.position = scene.frame.command
            if hand.value:
                scene.set_joint_targets([s.value for s in sliders])
            else:
                scene.release_joints()
            if play.value or pending["step"]:
                pending["step"] = False
                frame = scene.step()
                if frame.episode_ended and target is not None:
                    target.position = scene.frame.command
            else:
                frame = scene.frame
            model_now, state = scene.mj_state()
            qpos = state[1:1 + model_now.nq]
            drawing.update(qpos)
            if not hand.value:  # the sliders follow the arm, so taking over by hand starts from where it is
                for slider, q in zip(sliders, frame.joint_pos, strict=True):
                    slider.value = float(np.clip(q, slider.min, slider.max))
            reward = "-" if frame.reward is None else f"{frame.reward:.4f}"
            status.content = (f"step {frame.step} (episode step {frame.episode_step}), reward {reward}, "
                              f"driven by {frame.source}")
            self.state.update(joint_pos=frame.joint_pos, joint_targets=frame.joint_targets, reward=frame.reward,
                              command=frame.command, step=frame.step, source=frame.source)

        self._set_mode("rollout", tick)

    def show_replay(self, replay: Replay, has_object: bool = False, t: float = 0.0, playing: bool = False) -> None:
        """A recorded run: measured joints solid, commanded translucent, a time slider."""
        from roarm_lab.sim_mujoco.scene import build_scene

        model = build_scene(has_object, None)
        measured = ModelDrawing(self.server, model, "/measured")
        commanded = ModelDrawing(self.server, model, "/commanded", opacity=COMMANDED_OPACITY, skip_world=True)
        gui = self.server.gui
        gui.add_markdown(f"**Replay** {replay.source}: {len(replay)} samples, {replay.duration_s:.2f} s. Solid: "
                         "measured; translucent: commanded.")
        slider = gui.add_slider("Time (s)", min=0.0, max=max(replay.duration_s, 1e-3), step=1e-3, initial_value=t)
        play = gui.add_checkbox("Play", initial_value=playing)
        show_commanded = gui.add_checkbox("Show commanded", initial_value=True)
        status = gui.add_markdown("")
        qpos0 = model.qpos0.copy()
        started = [time.monotonic(), slider.value]

        @play.on_update
        def _(_event) -> None:
            started[:] = [time.monotonic(), slider.value]

        def tick() -> None:
            if play.value:
                now = started[1] + time.monotonic() - started[0]
                if now > replay.duration_s:
                    started[:] = [time.monotonic(), 0.0]
                    now = 0.0
                slider.value = now
            sample = replay.at(slider.value)
            for drawing, q in ((measured, sample.measured), (commanded, sample.commanded)):
                if np.isfinite(q).all():
                    qpos = qpos0.copy()
                    qpos[:len(JOINT_NAMES)] = q
                    drawing.update(qpos)
            commanded.set_visible(show_commanded.value and bool(np.isfinite(sample.commanded).all()))
            status.content = f"sample {sample.index} at {sample.t:.3f} s"
            self.state.update(t=float(slider.value), sample=sample.index, measured=tuple(sample.measured.tolist()),
                              commanded=tuple(sample.commanded.tolist()))

        self._set_mode("replay", tick)

    def show_mirror(self, mirror) -> None:
        """The live arm (a started :class:`~roarm_lab.inspection.mirror.LiveMirror`); its sliders command it only
        when the mirror allows commands."""
        from roarm_lab.sim_mujoco.scene import build_scene

        model = build_scene(False, None)
        drawing = ModelDrawing(self.server, model, "/arm")
        gui = self.server.gui
        mode = "commanding through the safety layer" if mirror.allow_commands else "read-only"
        gui.add_markdown(f"**Live mirror** of {mirror.settings.where} ({mode})")
        status = gui.add_markdown("")
        send = None
        sliders: list = []
        if mirror.allow_commands:
            send = gui.add_checkbox("Command the sliders' pose", initial_value=False)
            first = mirror.newest.q if mirror.newest is not None else (0.0,) * len(JOINT_NAMES)
            sliders = self._joint_sliders(first)
        qpos0 = model.qpos0.copy()

        def tick() -> None:
            reading = mirror.newest
            if mirror.error is not None:
                status.content = f"link lost: {mirror.error}"
            if reading is None:
                return
            if send is not None and send.value:
                try:
                    mirror.command([s.value for s in sliders])
                except InspectionError as err:
                    status.content = str(err)
            qpos = qpos0.copy()
            qpos[:len(JOINT_NAMES)] = reading.q
            drawing.update(qpos)
            if mirror.error is None:
                status.content = f"reading #{reading.seq}"
            self.state.update(joint_pos=reading.q, seq=reading.seq)

        self._set_mode("mirror", tick)

    # ------------------------------------------------------------------ running
    def draw_once(self) -> None:
        """Run the mode's update once (what the 30 Hz loop does each frame)."""
        with self._lock:
            self._tick()
            self.state["frames"] += 1

    def run(self) -> None:
        """Draw at 30 Hz until :meth:`stop` (or Ctrl+C)."""
        if self._tick is None:
            raise InspectionError("nothing to show: call show_rollout, show_replay or show_mirror first")
        period = 1.0 / DRAW_HZ
        window: list[float] = []
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.draw_once()
            now = time.monotonic()
            window = [t for t in window if now - t < 2.0] + [now]
            if len(window) > 1:
                self.state["fps"] = (len(window) - 1) / (window[-1] - window[0])
            next_at = max(next_at + period, now)
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> WebViewer:
        self._thread = threading.Thread(target=self.run, name="roarm-web-viewer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self.server.stop()

    def wait_frames(self, n: int, timeout_s: float = 30.0) -> bool:
        """Wait until ``n`` more frames have been drawn (tests wait on this, not on time)."""
        target = self.state["frames"] + n
        deadline = time.monotonic() + timeout_s
        while self.state["frames"] < target:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _set_mode(self, mode: str, tick) -> None:
        if self._tick is not None:
            raise InspectionError(f"this viewer already shows {self.state['mode']}; one mode per viewer")
        self._tick = tick
        self.state["mode"] = mode
        self.draw_once()

    def _joint_sliders(self, initial: Sequence[float]) -> list:
        folder = self.server.gui.add_folder("Joints (hardware-safe ranges)")
        sliders = []
        with folder:
            for (name, (lo, hi)), q in zip(joint_slider_ranges().items(), initial, strict=True):
                sliders.append(self.server.gui.add_slider(name, min=lo, max=hi, step=1e-3,
                                                          initial_value=float(np.clip(q, lo, hi))))
        return sliders
