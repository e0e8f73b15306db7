"""Inside Kit (Isaac Sim): the window opens the robot's stage and a scene, and stepping it moves the link prims to
the forward kinematics of the scene's joints. Runs only where Isaac Sim does (see the repository's README)."""

import numpy as np
import omni.kit.app
import omni.kit.test
import omni.kit.ui_test as ui_test
import omni.usd
from pxr import UsdGeom

from roarm_lab.inspection.usd_pose import link_world_poses

WINDOW = "RoArm-M3 Pro inspection"


class TestRoArmWindow(omni.kit.test.AsyncTestCase):
    async def test_open_scene_and_step_pose_the_arm(self):
        from roarm_lab_ext import ui_extension

        await ui_test.find(f"{WINDOW}//Frame/**/Button[*].text=='Open scene'").click()
        for _ in range(10):
            await omni.kit.app.get_app().next_update_async()
        await ui_test.find(f"{WINDOW}//Frame/**/Button[*].text=='Step'").click()
        await omni.kit.app.get_app().next_update_async()
        controller = ui_extension.instance.controller
        self.assertEqual(controller.mode, "scene")
        q = controller.scene.frame.joint_pos
        stage = omni.usd.get_context().get_stage()
        for link, expected in link_world_poses(q).items():
            prim = stage.GetPrimAtPath(f"/roarm_m3_pro/{link}")
            world = np.array(UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(0)).T
            np.testing.assert_allclose(world[:3, 3], expected[:3, 3], atol=1e-6)
