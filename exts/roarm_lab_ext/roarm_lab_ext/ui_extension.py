"""Kit entry point: register the RoArm tasks and offer a button that opens the robot's USD."""

import omni.ext
import omni.ui
import omni.usd


def open_robot_usd() -> None:
    """Open the generated RoArm-M3 Pro USD as the current stage."""
    from roarm_lab.assets.paths import USD_PATH

    omni.usd.get_context().open_stage(str(USD_PATH))


class RoArmLabExtension(omni.ext.IExt):
    def on_startup(self, ext_id):
        import roarm_lab.isaaclab  # noqa: F401 (registers the gymnasium tasks)
        from roarm_lab.tasks.registry import TASKS

        self._window = omni.ui.Window("RoArm-M3 Pro", width=320, height=120)
        with self._window.frame, omni.ui.VStack():
            omni.ui.Label("Tasks: " + ", ".join(TASKS))
            omni.ui.Button("Open roarm_m3_pro.usda", clicked_fn=open_robot_usd)

    def on_shutdown(self):
        self._window = None
