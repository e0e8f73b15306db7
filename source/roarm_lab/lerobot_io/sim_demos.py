"""Expert demonstrations in MuJoCo as LeRobot frames: the reactive picker drives Lift or PickPlace.

:class:`SimDemoSource` steps a small batch of :class:`~roarm_lab.sim_mujoco.env.MujocoTaskEnv` environments with
:class:`~roarm_lab.tasks.pick_expert.ReactivePicker` and yields each environment's episode, complete, when the env
ends it (timeout or a dropped cube; the env then resets itself). A frame is what the robot saw and did at one
control step, in the units of :mod:`.dataset_features`:

* ``observation.state``: the measured joint positions before the step (model rad; the sim's clean values, the
  observation noise is the policy's alone);
* ``action``: the joint targets the expert commanded at that step, ``joint_targets(raw action)`` (default pose +
  0.5 rad x action, clipped to the hardware-safe limits), which the env applies after its randomized latency;
* ``observation.environment_state``: cube centre and task target (Lift goal / place target), world frame, m, and
  the cube's yaw as (sin 4 yaw, cos 4 yaw);
* ``observation.images.<camera>``: optional RGB frames (:class:`~roarm_lab.sim_mujoco.camera.SceneCamera`).

Episodes start from home as in evaluation (no pre-grasp starts) with domain randomization on, from training seeds.
With ``action_noise`` > 0 the env executes the expert's raw action plus Gaussian noise of that std (DART, Laskey
et al., 2017) while the frame records the expert's own target: the demos then show how the expert recovers from
the deviations an imitating policy makes, which clean demos never visit.
:func:`record_demos` writes them one by one with an :class:`~.episode_writer.EpisodeWriter`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from roarm_lab.description.robot_profile import RobotProfile
from roarm_lab.evaluation import eval_cfg
from roarm_lab.sim_mujoco.env import MujocoTaskEnv
from roarm_lab.tasks.mdp.actions import joint_targets
from roarm_lab.tasks.mdp.observations import object_yaw_cube_symmetric
from roarm_lab.tasks.pick_expert import ReactivePicker
from roarm_lab.tasks.timing import CONTROL_DT, CONTROL_HZ

from .dataset_features import ACTION, ENVIRONMENT_STATE, STATE, TASK_PROMPTS, camera_key
from .episode_writer import EpisodeWriter

#: The tasks with a scripted picker.
EXPERT_TASKS = ("RoArm-Lift", "RoArm-PickPlace")


def environment_state_of(state) -> torch.Tensor:
    """(N, 8) ``observation.environment_state`` of a batch :class:`ArmState`: cube, target, cube yaw features."""
    return torch.cat([state.object_pos, state.command, object_yaw_cube_symmetric(state)], dim=-1)


def demo_fps(frame_stride: int = 1) -> int:
    """The dataset's fps when every ``frame_stride``-th control step is recorded."""
    fps = CONTROL_HZ / frame_stride
    if frame_stride < 1 or fps != int(fps):
        raise ValueError(f"the control rate {CONTROL_HZ:g} Hz is not a whole multiple of {fps:g} fps")
    return int(fps)


def frame_stride_for(fps: float) -> int:
    """The control steps per recorded frame for ``fps`` (a divisor of the control rate)."""
    stride = round(CONTROL_HZ / fps) if fps > 0 else 0
    if stride < 1 or abs(CONTROL_HZ / stride - fps) > 1e-9:
        raise ValueError(f"--fps must divide the control rate {CONTROL_HZ:g} Hz (e.g. 30, 15, 10), got {fps:g}")
    return stride


@dataclass
class DemoEpisode:
    frames: list[dict[str, np.ndarray]]
    success: bool


class SimDemoSource:
    """``num_envs`` environments of ``task`` run by the expert; :meth:`episodes` yields finished episodes.

    ``cameras``: ``{name: (height, width)}`` (see :data:`roarm_lab.sim_mujoco.camera.VIEWS`); a camera that cannot
    render raises ``RenderingUnavailableError`` here, before any step. ``realtime`` paces the steps at the control
    rate (a recording you can watch or interrupt like a real one). ``robot_profile``: the arm simulated (default:
    the description's). ``action_noise``: std of the Gaussian noise, in raw action units (0.5 rad each), added to
    the executed actions but not to the recorded ones (see the module's docstring).
    """

    def __init__(self, task: str, num_envs: int = 8, seed: int = 0, cameras: dict[str, tuple[int, int]] | None = None,
                 frame_stride: int = 1, nthread: int = 2, realtime: bool = False,
                 robot_profile: RobotProfile | None = None, action_noise: float = 0.0):
        if not action_noise >= 0.0:
            raise ValueError(f"action noise must be >= 0, got {action_noise}")
        if task not in EXPERT_TASKS:
            raise ValueError(f"no expert for {task!r}; choose one of {', '.join(EXPERT_TASKS)}")
        self.task = task
        self.prompt = TASK_PROMPTS[task]
        self.frame_stride = frame_stride
        self.fps = demo_fps(frame_stride)
        self.realtime = realtime
        self.action_noise = action_noise
        self._noise = torch.Generator().manual_seed(seed)
        self.env = MujocoTaskEnv(task, num_envs, cfg=eval_cfg(task, robot_profile), seed=seed, nthread=nthread)
        self.expert = ReactivePicker(place=task == "RoArm-PickPlace")
        self.cameras = {}
        if cameras:
            from roarm_lab.sim_mujoco.camera import SceneCamera

            try:
                for name, (height, width) in cameras.items():
                    self.cameras[name] = SceneCamera(self.env.model, name, height, width)
            except BaseException:
                self.close()
                raise

    def episodes(self) -> Iterator[DemoEpisode]:
        """Endless: every episode of every environment, in the order they end."""
        env = self.env
        buffers: list[list[dict]] = [[] for _ in range(env.num_envs)]
        next_tick = time.monotonic()
        with torch.inference_mode():
            while True:
                state = env.arm_state
                raw = self.expert(state)
                recording = (env.episode_length_buf % self.frame_stride == 0).tolist()
                frames = self._frames(state, joint_targets(raw), recording)
                for i, frame in frames.items():
                    buffers[i].append(frame)
                if self.action_noise > 0.0:
                    raw = raw + self.action_noise * torch.randn(raw.shape, generator=self._noise)
                env.step(raw)
                if env.last_episode is not None:
                    ended = env.last_episode
                    for i, success in zip(ended["env_ids"].tolist(), ended["success"].tolist(), strict=True):
                        episode, buffers[i] = DemoEpisode(buffers[i], bool(success)), []
                        yield episode
                if self.realtime:  # after a stall (an episode being written) go on from now, as a robot would
                    next_tick = max(next_tick + CONTROL_DT, time.monotonic())
                    time.sleep(max(0.0, next_tick - time.monotonic()))  # (the clock moves on meanwhile)

    def _frames(self, state, targets: torch.Tensor, recording: list[bool]) -> dict[int, dict[str, np.ndarray]]:
        joints = state.joint_pos.numpy().astype(np.float32)
        actions = targets.numpy().astype(np.float32)
        scene = environment_state_of(state).numpy().astype(np.float32)
        out = {}
        for i in (i for i, on in enumerate(recording) if on):
            frame = {STATE: joints[i], ACTION: actions[i], ENVIRONMENT_STATE: scene[i]}
            for name, camera in self.cameras.items():
                frame[camera_key(name)] = camera.render(self.env.mj_state(i), target=scene[i, 3:6])
            out[i] = frame
        return out

    def close(self) -> None:
        for camera in self.cameras.values():
            camera.close()
        self.cameras = {}


@dataclass
class DemoSummary:
    written: int = 0
    frames: int = 0
    attempted: int = 0
    successes: int = 0
    seconds: float = 0.0
    episode_indices: list[int] = field(default_factory=list)

    @property
    def success_rate(self) -> float:
        return self.successes / self.attempted if self.attempted else 0.0


def record_demos(source: SimDemoSource, writer: EpisodeWriter, episodes: int, only_successful: bool = False,
                 max_attempts: int | None = None,
                 on_episode: Callable[[DemoEpisode, int | None], None] | None = None) -> DemoSummary:
    """Write ``episodes`` episodes of ``source`` one at a time (only successful ones if asked; then at most
    ``max_attempts`` episodes are run, default 3 x episodes + 10). ``on_episode(episode, index or None)`` is
    called after each episode (None: not written)."""
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    max_attempts = max_attempts or 3 * episodes + 10
    summary = DemoSummary()
    start = time.monotonic()
    for episode in source.episodes():
        summary.attempted += 1
        summary.successes += episode.success
        index = None
        if episode.success or not only_successful:
            for frame in episode.frames:
                writer.add_frame(frame)
            index = writer.save_episode(source.prompt)
            summary.written += 1
            summary.frames += len(episode.frames)
            summary.episode_indices.append(index)
        if on_episode is not None:
            on_episode(episode, index)
        if summary.written >= episodes:
            break
        if only_successful and summary.attempted >= max_attempts:
            raise RuntimeError(f"only {summary.written} of {summary.attempted} episodes succeeded; gave up after "
                               f"{max_attempts} (wanted {episodes})")
    summary.seconds = time.monotonic() - start
    return summary
