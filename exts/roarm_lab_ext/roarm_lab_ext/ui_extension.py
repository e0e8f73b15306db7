"""Kit entry point: the RoArm inspection window over :class:`.controller.InspectorController`.

Task dropdown, open scene, policy picker, play/pause/step, joint sliders (hardware-safe ranges), the Reach target
(a prim on the stage: move it with Kit's transform gizmo), replay of a recorded run with a time slider, and the live
mirror of the arm (read-only unless "allow commands" is ticked before connecting). The arm on the stage is the
generated USD, posed kinematically from the scene's joints every app update; nothing is simulated by PhysX here
(the scene steps in MuJoCo on the CPU, as ``play.py`` does).
"""

from __future__ import annotations

import omni.ext
import omni.kit.app
import omni.ui as ui
import omni.usd

from .controller import InspectorController, Shown

WINDOW_TITLE = "RoArm-M3 Pro inspection"
#: the running extension (Kit's tests reach its controller through it)
instance = None


def open_robot_stage() -> None:
    """Open the generated RoArm-M3 Pro USD as the current stage."""
    from roarm_lab.assets.paths import USD_PATH

    omni.usd.get_context().open_stage(str(USD_PATH))


def publish_to_stage(shown: Shown) -> None:
    """Pose the robot prims and the markers on the current stage."""
    from roarm_lab.inspection.usd_pose import write_link_poses, write_markers

    stage = omni.usd.get_context().get_stage()
    if stage is None or not stage.GetPrimAtPath("/roarm_m3_pro").IsValid():
        return
    write_link_poses(stage, shown.joint_pos)
    write_markers(stage, shown.cube_pos, shown.cube_quat, shown.target)


class RoArmLabExtension(omni.ext.IExt):
    def on_startup(self, ext_id):
        import roarm_lab.isaaclab  # noqa: F401 (registers the gymnasium tasks for Isaac Lab's own tools)

        global instance
        instance = self

        self.controller = InspectorController(publish_to_stage)
        self._last_target = None
        self._window = ui.Window(WINDOW_TITLE, width=420, height=640)
        c = self.controller
        with self._window.frame, ui.VStack(spacing=4):
            self._task_combo = ui.ComboBox(0, *c.tasks)
            self._task_combo.model.add_item_changed_fn(
                lambda model, _item: c.select_task(c.tasks[model.get_item_value_model().as_int]))
            ui.Button("Open scene", clicked_fn=self._open_scene)
            with ui.HStack():
                self._policy_path = ui.StringField()
                ui.Button("Load policy", clicked_fn=lambda: self._act(c.load_policy,
                                                                    self._policy_path.model.as_string))
            with ui.HStack():
                self._play = ui.CheckBox()
                self._play.model.add_value_changed_fn(lambda m: c.set_playing(m.as_bool))
                ui.Label("Play")
                ui.Button("Step", clicked_fn=lambda: self._act(c.step))
                ui.Button("Joints back to the policy", clicked_fn=lambda: self._act(c.release_joints))
            ui.Label("Joints (hardware-safe ranges)")
            self._sliders = []
            for i, (name, (lo, hi)) in enumerate(c.slider_ranges.items()):
                with ui.HStack():
                    ui.Label(name, width=70)
                    slider = ui.FloatSlider(min=lo, max=hi)
                    slider.model.add_value_changed_fn(lambda m, i=i: c.set_joint(i, m.as_float))
                    self._sliders.append(slider)
            ui.Label("Replay: a play_real.py log folder or a LeRobot dataset root")
            with ui.HStack():
                self._replay_path = ui.StringField()
                ui.Button("Open replay", clicked_fn=lambda: self._act(c.open_replay, self._replay_path.model.as_string))
            self._replay_time = ui.FloatSlider(min=0.0, max=60.0)
            self._replay_time.model.add_value_changed_fn(lambda m: c.set_replay_time(m.as_float))
            ui.Label("Live mirror: the arm's serial port")
            with ui.HStack():
                self._mirror_port = ui.StringField()
                self._allow_commands = ui.CheckBox()
                ui.Label("allow commands", width=110)
                ui.Button("Connect", clicked_fn=lambda: self._act(c.connect_mirror, self._mirror_port.model.as_string,
                                                                  self._allow_commands.model.as_bool))
            self._status = ui.Label("")
        self._update = omni.kit.app.get_app().get_update_event_stream().create_subscription_to_pop(
            self._on_update, name="roarm_lab_ext update")

    def _open_scene(self) -> None:
        open_robot_stage()
        self._act(self.controller.open_scene)

    def _act(self, fn, *args) -> None:
        fn(*args)
        self._status.text = self.controller.message

    def _on_update(self, event) -> None:
        from roarm_lab.inspection.usd_pose import read_target

        dt = float(event.payload.get("dt", 1.0 / 60.0)) if hasattr(event, "payload") else 1.0 / 60.0
        stage = omni.usd.get_context().get_stage()
        c = self.controller
        if stage is not None and c.scene is not None and c.task == "RoArm-Reach":
            dragged = read_target(stage)
            if dragged is not None and dragged != self._last_target and self._last_target is not None:
                c.move_target(dragged)
            self._last_target = read_target(stage)
        c.tick(dt)
        self._status.text = c.message

    def on_shutdown(self):
        global instance
        instance = None
        self._update = None
        if getattr(self, "controller", None) is not None:
            self.controller.shutdown()
        self._window = None
