"""The physics twin: the project's MuJoCo scene (arm, table, cube) stepped in real time behind the firmware layer,
each servo closing its own position loop on encoder steps the way an ST3235 does, with a hidden truth.

Per physics step (default 1 kHz), per servo:

* the servo's goal moves along its trapezoidal `spd`/`acc` profile (:mod:`roarm_lab.description.servo_motion`);
* the encoder reads the link angle plus the truth's offset and the backlash's slack, quantized to 4096 steps a turn;
* the position loop's output (duty, fraction of maximum) is ``stiffness * error / stall torque``, zero inside a
  deadband of one step, clipped to the torque limit the firmware set (the gripper's 300 permille at boot); the
  motor gives ``duty * stall torque`` minus its back-EMF ``damping * speed`` (the joint damping in MuJoCo). Under
  load the servo therefore settles short of its goal, as a real one does;
* writes from the firmware (goals, torque on/off, holds, limits) reach the servo after the truth's command delay.

The loads the firmware reports are these duties. A background thread steps the physics to keep up with the wall
clock; when it cannot (a loaded machine) it drops the backlog and counts it, so :meth:`PhysicsTwin.stats` gives the
real-time factor actually achieved. ``truth_log`` writes the ground truth (joints, goals, encoders, cube) as JSON
lines for tests and benchmarks; the host side never reads it.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import deque

import mujoco
import numpy as np

from roarm_lab.description.firmware_units import STEPS_PER_TURN
from roarm_lab.description.kinematic_chain import JOINT_NAMES, JOINTS, TCP_ORIGIN, TCP_PARENT
from roarm_lab.description.servo import STALL_TORQUE_NM
from roarm_lab.description.servo_motion import (
    NOMINAL_MAX_SPEED_STEPS,
    TrapezoidProfile,
    accel_limit_steps,
    speed_limit_steps,
)
from roarm_lab.emulator.config import EmulatorConfig
from roarm_lab.emulator.errors import EmulatorError
from roarm_lab.emulator.plant import SERVOS, steps_to_model_rad
from roarm_lab.emulator.twin.camera import CameraTruth, TwinCamera, add_camera_scene
from roarm_lab.emulator.twin.mjpeg import FrameBoard
from roarm_lab.emulator.twin.settings import TwinConfig
from roarm_lab.emulator.twin.truth import TwinTruth
from roarm_lab.sim_mujoco.scene import OBJECT_BODY, build_scene_spec
from roarm_lab.tasks import scene as task_scene

#: model rad = STEP_GAIN * steps + STEP_ZERO, per joint (hardware §3.1 via firmware_units).
STEP_ZERO = steps_to_model_rad(np.zeros(6))
STEP_GAIN = steps_to_model_rad(np.ones(6)) - STEP_ZERO
STALL_NM = SERVOS * STALL_TORQUE_NM
DEADBAND_STEPS = 1  # the ST3235's default insensitive zone (about one step)
#: The backlash takes up its play as the output torque passes this fraction of stall (smooth, so no chatter).
BACKLASH_TORQUE_SCALE = 0.02
#: A servo counts as settled (for blocking firmware moves) below this speed with its profile at the goal.
SETTLED_SPEED_RAD_S = 0.02
HAND_STIFFNESS, HAND_DAMPING, HAND_MAX_NM = 5.0, 0.5, 1.5  # a hand moving torque-off joints (leader arm)
MAX_BACKLOG_S = 0.25  # more lag than this (a starved core) is dropped and counted, not caught up
WAKE_PERIOD_S = 0.002


def random_cube(seed: int) -> tuple[float, float, float]:
    rng = random.Random(seed)
    r, a = rng.uniform(*task_scene.OBJECT_RADIUS_RANGE), rng.uniform(*task_scene.OBJECT_AZIMUTH_RANGE)
    return r * math.cos(a), r * math.sin(a), rng.uniform(-math.pi / 4, math.pi / 4)


def build_twin_model(truth: TwinTruth, physics_hz: float, camera: CameraTruth | None = None,
                     charuco: bool = False, table_board: bool = False) -> mujoco.MjModel:
    """The task scene with the cube, the truth's drive and mass values, a payload at the TCP, and torque motors in
    place of the position actuators (the servo loop runs in :class:`PhysicsTwin`). With ``camera``: the markers,
    boards and the camera of :mod:`.camera` (massless, touching nothing: the physics is the same)."""
    spec = build_scene_spec(with_object=True)
    if camera is not None:
        add_camera_scene(spec, camera, OBJECT_BODY, charuco, table_board, link=TCP_PARENT)
    spec.option.timestep = 1.0 / physics_hz
    for i, name in enumerate(JOINT_NAMES):
        j = spec.joint(name)
        j.damping[0] = truth.damping[i]
        j.armature, j.frictionloss = truth.armature[i], truth.friction[i]
        act = spec.actuator(name)
        act.set_to_motor()
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_FALSE
    for i, joint in enumerate(JOINTS):
        body = spec.body(joint.child)
        body.mass *= truth.link_mass_scale[i]
        body.fullinertia = [x * truth.link_mass_scale[i] for x in body.fullinertia]
        body.inertia = [x * truth.link_mass_scale[i] for x in body.inertia]
    if truth.payload_kg > 0:
        payload = spec.body(TCP_PARENT).add_body(name="payload", pos=list(TCP_ORIGIN.xyz))
        r = 0.01  # a 1 cm sphere's inertia
        payload.mass, payload.inertia = truth.payload_kg, [0.4 * truth.payload_kg * r * r] * 3
        payload.explicitinertial = True
    return spec.compile()


class PhysicsTwin:
    """A :class:`~roarm_lab.emulator.plant.ServoPlant` on MuJoCo in real time. Thread-safe (one lock)."""

    def __init__(self, config: EmulatorConfig, twin: TwinConfig, now: float,
                 clock=time.monotonic, realtime: bool = True):
        """``realtime=False``: no thread; the caller moves the physics on with :meth:`step_for` (tests, offline
        benchmarks), and commands are due ``command_delay_s`` after the physics time they were written at."""
        self.config, self.twin, self.truth = config, twin, twin.truth
        self._clock = clock
        self.model = build_twin_model(self.truth, twin.physics_hz, twin.camera, twin.charuco, twin.table_board)
        self.data = mujoco.MjData(self.model)
        self._qadr = np.array([self.model.joint(n).qposadr[0] for n in JOINT_NAMES])
        self._dadr = np.array([self.model.joint(n).dofadr[0] for n in JOINT_NAMES])
        self._act = np.array([self.model.actuator(n).id for n in JOINT_NAMES])
        cube_joint = self.model.body(OBJECT_BODY).jntadr[0]
        self._cube_q = self.model.jnt_qposadr[cube_joint]
        self.cube_start = twin.cube if twin.cube is not None else random_cube(twin.seed)
        x, y, yaw = self.cube_start
        self.data.qpos[self._cube_q:self._cube_q + 7] = [x, y, task_scene.CUBE_REST_Z,
                                                         math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]
        self.data.qpos[self._qadr] = config.initial_pose
        mujoco.mj_forward(self.model, self.data)
        self._stiffness = np.asarray(self.truth.stiffness)
        self._duty_per_step = self._stiffness * STEP_GAIN / STALL_NM  # the position loop's gain, duty per step
        # views of the arm's joints in MjData (contiguous: the arm comes first in the scene)
        q0, d0 = int(self._qadr[0]), int(self._dadr[0])
        if not (np.array_equal(self._qadr, np.arange(q0, q0 + 6)) and np.array_equal(self._dadr, np.arange(d0, d0 + 6))
                and np.array_equal(self._act, np.arange(6))):
            raise EmulatorError("the twin expects the arm's six joints and motors first in the scene")
        self._q = self.data.qpos[q0:q0 + 6]
        self._qd = self.data.qvel[d0:d0 + 6]
        self._ctrl = self.data.ctrl[:6]
        self._offset = np.asarray(self.truth.encoder_offset_rad)
        self._half_play = np.asarray(self.truth.backlash_rad) / 2
        self._slack = np.zeros(6)
        self._duty = np.zeros(6)
        self._limit = np.ones(6)
        self._torque_on = np.ones(6, dtype=bool)
        self._enc = self._encoder_steps().astype(np.int64)
        self._goal = self._enc.copy()
        self._profiles = [TrapezoidProfile(float(s)) for s in self._enc]
        self._vmax = np.full(6, NOMINAL_MAX_SPEED_STEPS)
        self._amax = np.full(6, math.inf)
        self._pending: deque[tuple[float, str, int, tuple]] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._t0 = now  # physics time 0 on the clock (moves on when a backlog is dropped)
        self._wall0 = now
        self._sim_t = 0.0  # physics time since _t0
        self._dropped_s = 0.0
        self._busy_s = 0.0
        self._steps = 0
        self._log = open(twin.truth_log, "w") if twin.truth_log is not None else None
        self._log_every = max(1, round(twin.physics_hz / twin.truth_log_hz))
        self.realtime = realtime
        self._thread = threading.Thread(target=self._run, name="roarm-twin-physics", daemon=True)
        if realtime:
            self._thread.start()
        #: the camera's newest JPEG (serve it with :class:`~.mjpeg.MjpegServer`); None without a camera
        self.frames: FrameBoard | None = None
        self.camera: TwinCamera | None = None
        if twin.camera is not None:
            self.frames = FrameBoard()
            self.camera = TwinCamera(self.model, twin.camera, self.snapshot_qpos, self.frames.publish,
                                     charuco=twin.charuco, seed=twin.seed)
            try:
                self.camera.start()
            except BaseException:
                self.close()
                raise

    # ------------------------------------------------------------------ the ServoPlant interface (firmware side)

    def advance(self, now: float) -> None:
        """The physics runs in its own thread, in real time."""

    def command(self, index: int, step: int, spd: int, acc: int) -> None:
        self._write("goal", index, (int(step), int(spd), int(acc)))

    def hold(self, index: int) -> None:
        self._write("hold", index, ())

    def set_torque(self, index: int, on: bool) -> None:
        self._write("torque", index, (bool(on),))

    def torque_on(self, index: int) -> bool:
        with self._lock:
            for _, kind, i, args in reversed(self._pending):  # what the firmware last wrote
                if kind == "torque" and i == index:
                    return args[0]
            return bool(self._torque_on[index])

    def set_torque_limits(self, permille) -> None:
        for i, p in enumerate(permille):
            self._write("limit", i, (p / 1000.0,))

    @property
    def any_moving(self) -> bool:
        with self._lock:
            if self._pending:
                return True
            qd = self._qd
            return any(self._torque_on[i] and (not self._profiles[i].at_rest_on(self._goal[i])
                                               or abs(qd[i]) > SETTLED_SPEED_RAD_S) for i in range(6))

    def encoder_steps(self) -> np.ndarray:
        with self._lock:
            return self._enc.copy()

    def targets(self) -> np.ndarray:
        with self._lock:
            goal = self._goal.copy()
            for _, kind, i, args in self._pending:
                if kind == "goal":
                    goal[i] = args[0]
            return goal

    def true_q_model(self) -> np.ndarray:
        with self._lock:
            return self._q.copy()

    def duties(self) -> np.ndarray:
        with self._lock:
            return self._duty.copy()

    def cube_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """The cube's true position (m) and quaternion (wxyz), world frame."""
        with self._lock:
            q = self.data.qpos[self._cube_q:self._cube_q + 7].copy()
        return q[:3], q[3:]

    def snapshot_qpos(self) -> np.ndarray:
        """The whole scene's joint positions now (what the camera draws)."""
        with self._lock:
            return self.data.qpos.copy()

    def stats(self) -> dict[str, float]:
        """Simulated vs wall time since start: ``rtf`` < 1 when the physics could not keep up."""
        with self._lock:
            wall = self._clock() - self._wall0
            return {"sim_time_s": self._sim_t, "wall_time_s": wall, "rtf": self._sim_t / wall if wall > 0 else 1.0,
                    "dropped_s": self._dropped_s, "busy_fraction": self._busy_s / wall if wall > 0 else 0.0,
                    "physics_steps": self._steps, "physics_hz": self.twin.physics_hz}

    def step_for(self, duration_s: float) -> None:
        """Advance the physics by ``duration_s`` now, whatever the clock says (only without the real-time thread)."""
        if self.realtime:
            raise EmulatorError("step_for is for a twin made with realtime=False")
        with self._lock:
            for _ in range(round(duration_s / self.model.opt.timestep)):
                self._step_once()

    def close(self) -> None:
        if getattr(self, "camera", None) is not None:
            self.camera.stop()
            self.frames.close()
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        if self._log is not None:
            self._log.close()
            self._log = None

    # ------------------------------------------------------------------ physics

    def _write(self, kind: str, index: int, args: tuple) -> None:
        with self._lock:
            now = self._clock() - self._t0 if self.realtime else self._sim_t
            due = now + self.truth.command_delay_s
            self._pending.append((due, kind, index, args))

    def _apply(self, kind: str, i: int, args: tuple) -> None:
        if kind == "goal":
            if self.config.faults.stuck_joint == JOINT_NAMES[i]:
                return  # this servo ignores position commands
            step, spd, acc = args
            self._goal[i] = min(STEPS_PER_TURN - 1, max(0, step))
            self._vmax[i] = speed_limit_steps(spd)
            self._amax[i] = accel_limit_steps(acc)
        elif kind == "hold":
            self._goal[i] = self._enc[i]
            self._profiles[i] = TrapezoidProfile(float(self._enc[i]))
        elif kind == "torque":
            on = args[0]
            if on and not self._torque_on[i]:  # back on: hold where it is
                self._goal[i] = self._enc[i]
                self._profiles[i] = TrapezoidProfile(float(self._enc[i]))
            self._torque_on[i] = on
        elif kind == "limit":
            self._limit[i] = args[0]

    def _encoder_steps(self) -> np.ndarray:
        """What the encoders read now (steps, as floats): the link plus offset and slack, quantized and clipped."""
        steps = np.rint((self._q + self._offset + self._slack - STEP_ZERO) / STEP_GAIN)
        return np.minimum(np.maximum(steps, 0), STEPS_PER_TURN - 1)

    def _step_once(self) -> None:
        t = self._sim_t
        while self._pending and self._pending[0][0] <= t:
            _, kind, i, args = self._pending.popleft()
            self._apply(kind, i, args)
        dt = self.model.opt.timestep
        setpoint = np.empty(6)
        for i, p in enumerate(self._profiles):
            goal = float(self._goal[i])
            if self._torque_on[i] and not p.at_rest_on(goal):
                p.advance(dt, goal, self._vmax[i], self._amax[i])
            setpoint[i] = p.position
        enc = self._encoder_steps()
        self._enc = enc.astype(np.int64)
        err = np.rint(setpoint) - enc
        err[np.abs(err) <= DEADBAND_STEPS] = 0.0
        duty = np.minimum(np.maximum(self._duty_per_step * err, -self._limit), self._limit)
        duty[~self._torque_on] = 0.0
        tau = duty * STALL_NM
        hand = self.config.hand_pose
        if hand is not None and not self._torque_on.all():
            pull = HAND_STIFFNESS * (np.asarray(hand) - self._q) - HAND_DAMPING * self._qd
            tau = np.where(self._torque_on, tau, np.minimum(np.maximum(pull, -HAND_MAX_NM), HAND_MAX_NM))
        self._duty = duty
        # the play is taken up on the side the servo pushes: the encoder leads the link by up to half of it
        self._slack = self._half_play * np.tanh(tau / (BACKLASH_TORQUE_SCALE * STALL_NM))
        self._ctrl[:] = tau
        mujoco.mj_step(self.model, self.data)
        self._sim_t += dt
        self._steps += 1
        if self._log is not None and self._steps % self._log_every == 0:
            self._write_log(setpoint)

    def _write_log(self, setpoint: np.ndarray) -> None:
        cube = self.data.qpos[self._cube_q:self._cube_q + 7]
        rec = {"t": round(self._sim_t, 6), "wall": round(self._clock() - self._wall0, 6), "unix": round(time.time(), 4),
               "q": [round(float(x), 6) for x in self._q],
               "qd": [round(float(x), 5) for x in self._qd],
               "goal": [round(float(x), 6) for x in steps_to_model_rad(setpoint)],
               "encoder": [int(x) for x in self._enc],
               "duty": [round(float(x), 4) for x in self._duty],
               "cube_pos": [round(float(x), 6) for x in cube[:3]], "cube_quat": [round(float(x), 6) for x in cube[3:]]}
        self._log.write(json.dumps(rec) + "\n")

    def _run(self) -> None:
        dt = self.model.opt.timestep
        try:
            while not self._stop.is_set():
                start = self._clock()
                with self._lock:
                    behind = start - self._t0 - self._sim_t
                    if behind > MAX_BACKLOG_S:  # cannot keep up: drop the backlog instead of running ever later
                        self._dropped_s += behind - MAX_BACKLOG_S
                        self._t0 += behind - MAX_BACKLOG_S
                        behind = MAX_BACKLOG_S
                    for _ in range(int(behind / dt)):
                        self._step_once()
                    self._busy_s += self._clock() - start
                self._stop.wait(WAKE_PERIOD_S)
        finally:
            if self._log is not None:
                self._log.flush()

