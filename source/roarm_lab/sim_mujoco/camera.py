"""Offscreen RGB frames of one environment of a :class:`~roarm_lab.sim_mujoco.env.MujocoTaskEnv`.

A camera is a camera defined in the model or one of :data:`VIEWS` (free cameras around the table; the task scenes
define none). The task's command (lift goal, place target) is not a body, so it is drawn as a translucent sphere:
a policy that learns from the images sees where to go.

MuJoCo renders through the OpenGL backend named by ``MUJOCO_GL`` (read when ``mujoco`` is first imported): ``egl``
(headless, a GPU or Mesa's software EGL), ``osmesa`` (software) or ``glfw`` (a display). :class:`SceneCamera` draws
one probe frame when it is made, so a machine that cannot render fails with :class:`RenderingUnavailableError`
before anything is recorded.
"""

from __future__ import annotations

import copy
import os

import mujoco
import numpy as np

#: name -> (look-at point (m), distance (m), azimuth (deg), elevation (deg)); the arm's base is at the origin
VIEWS: dict[str, tuple[tuple[float, float, float], float, float, float]] = {
    "front": ((0.15, 0.0, 0.12), 0.95, 180.0, -25.0),  # facing the arm across the table
    "side": ((0.18, 0.0, 0.12), 0.9, 90.0, -20.0),
    "top": ((0.18, 0.0, 0.0), 1.0, 180.0, -89.0),
}
TARGET_RADIUS = 0.012
TARGET_RGBA = (0.1, 0.8, 0.2, 0.5)


class RenderingUnavailableError(RuntimeError):
    """This process cannot render offscreen with the current ``MUJOCO_GL``."""


def camera_names(model: mujoco.MjModel) -> list[str]:
    return sorted(VIEWS) + [model.camera(i).name for i in range(model.ncam)]


class SceneCamera:
    """Renders ``(height, width, 3)`` ``uint8`` frames of a scene state from camera ``name``."""

    def __init__(self, model: mujoco.MjModel, name: str, height: int, width: int):
        if name not in camera_names(model):
            raise ValueError(f"unknown camera {name!r}; choose one of {', '.join(camera_names(model))}")
        self.name = name
        self._model = copy.copy(model)  # the offscreen buffer and light are set on a copy: the physics' is untouched
        glob = self._model.vis.global_
        glob.offheight, glob.offwidth = max(glob.offheight, height), max(glob.offwidth, width)
        self._model.vis.headlight.ambient[:] = (0.4, 0.4, 0.4)  # the scene has no lights of its own
        self._model.vis.headlight.diffuse[:] = (0.6, 0.6, 0.6)
        self._data = mujoco.MjData(self._model)
        self._camera = self._make_camera(name)
        try:
            self._renderer = mujoco.Renderer(self._model, height, width)
            mujoco.mj_forward(self._model, self._data)
            self._renderer.update_scene(self._data, self._camera)
            self._renderer.render()
        except Exception as error:
            raise RenderingUnavailableError(
                f"MuJoCo cannot render offscreen here (MUJOCO_GL={os.environ.get('MUJOCO_GL', '<unset>')}): "
                f"{type(error).__name__}: {error}. Set MUJOCO_GL=egl (a GPU, or Mesa's software EGL) or "
                "MUJOCO_GL=osmesa (libOSMesa) before starting, or record without a camera.") from error

    def _make_camera(self, name: str) -> mujoco.MjvCamera | str:
        if name not in VIEWS:
            return name  # a camera of the model
        lookat, distance, azimuth, elevation = VIEWS[name]
        camera = mujoco.MjvCamera()
        camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        camera.lookat[:] = lookat
        camera.distance, camera.azimuth, camera.elevation = distance, azimuth, elevation
        return camera

    def render(self, state: np.ndarray, target: np.ndarray | None = None) -> np.ndarray:
        """One frame of the FULLPHYSICS ``state`` (``MujocoTaskEnv.mj_state``), the ``target`` drawn in."""
        mujoco.mj_setState(self._model, self._data, state, mujoco.mjtState.mjSTATE_FULLPHYSICS)
        mujoco.mj_kinematics(self._model, self._data)
        mujoco.mj_camlight(self._model, self._data)
        self._renderer.update_scene(self._data, self._camera)
        if target is not None:
            self._add_marker(np.asarray(target, dtype=np.float64))
        return self._renderer.render().copy()

    def _add_marker(self, position: np.ndarray) -> None:
        scene = self._renderer.scene
        if scene.ngeom >= scene.maxgeom:
            return
        mujoco.mjv_initGeom(scene.geoms[scene.ngeom], mujoco.mjtGeom.mjGEOM_SPHERE, np.full(3, TARGET_RADIUS),
                            position, np.eye(3).flatten(), np.asarray(TARGET_RGBA, dtype=np.float32))
        scene.ngeom += 1

    def close(self) -> None:
        renderer = getattr(self, "_renderer", None)
        if renderer is not None:
            renderer.close()
            self._renderer = None
