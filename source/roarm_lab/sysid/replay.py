"""The replay model: the MuJoCo arm of the tasks (:func:`roarm_lab.sim_mujoco.scene.build_scene_spec`) driven by
what was sent, the way the servos would have seen it.

* Each recorded `T:102` (target, spd, acc), at its write time plus the command delay, becomes the goal of the
  servo's trapezoidal set-point profile (:class:`~roarm_lab.description.servo_motion.TrapezoidProfile`, in servo
  steps, goals rounded to steps as the firmware does); the profile's position is the position actuator's ctrl. The
  profile is causal and time-invariant, so a delay ``d`` is the undelayed profile shifted by ``d``: it is computed
  once per episode (:func:`servo_setpoints`) and shifted per candidate.
* The servo closes its loop on its own encoder, which reads ``q_true + offset``: the actuator's ctrl (true frame) is
  the set-point less the offset, and the simulated reading is ``q + offset``; the episode starts at rest at the first
  reading less the offset.
* Contacts are off (the excitation keeps clear of the table and the arm of itself); a jointpos sensor per joint
  (``q_<joint>``) is the measured signal.

:class:`ReplayModel` holds the spec, the parameters (mujoco.sysid :class:`Parameter` with spec modifiers) and the
rollout / residual callbacks :func:`mujoco.sysid.build_residual_fn` takes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import mujoco.rollout
import numpy as np
from mujoco import sysid

from roarm_lab.description.firmware_units import (
    RAD_PER_STEP,
    firmware_rad_to_steps,
    firmware_to_model_rad,
    model_to_firmware_rad,
    steps_to_firmware_rad,
)
from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.description.robot_profile import Estimate, JointProfile, RobotProfile, nominal_profile
from roarm_lab.description.servo_motion import TrapezoidProfile, accel_limit_steps, speed_limit_steps
from roarm_lab.sim_mujoco.scene import build_scene_spec
from roarm_lab.sysid.config import DEFAULT_FIT, DELAY_PARAM, OFFSET_FIELD, SCALED_FIELDS, FitConfig
from roarm_lab.sysid.data import Episode

SENSOR_PREFIX = "q_"


def sensor_names() -> list[str]:
    return [SENSOR_PREFIX + j for j in JOINT_NAMES]


def param_name(joint: str, field: str) -> str:
    return f"{joint}.{field}" + ("_scale" if field in SCALED_FIELDS else "")


def quantized_goals(targets: np.ndarray) -> np.ndarray:
    """Joint targets (n, 6, model rad) rounded to the servo steps the firmware sends, back in model rad."""
    steps = firmware_rad_to_steps(model_to_firmware_rad(targets))
    return firmware_to_model_rad(steps_to_firmware_rad(steps))


def servo_setpoints(episode: Episode, times: np.ndarray) -> np.ndarray:
    """The servos' set-points (len(times), 6), model rad, for the episode's commands without delay: the profile
    starts at rest on the first reading and takes each command's goal, speed and acceleration at its write time."""
    goals = quantized_goals(episode.target) / RAD_PER_STEP  # continuous step units (sign and zero do not matter)
    profiles = [TrapezoidProfile(float(x)) for x in episode.q[0] / RAD_PER_STEP]
    out = np.empty((len(times), len(JOINT_NAMES)))
    k, n = -1, len(episode.t_cmd)
    goal = vmax = amax = None
    now = times[0]

    def advance(until: float) -> None:
        if goal is not None:
            for j, p in enumerate(profiles):
                p.advance(until - now, goal[j], vmax, amax)

    for i, t in enumerate(times):
        while k + 1 < n and episode.t_cmd[k + 1] <= t:
            k += 1
            at = max(episode.t_cmd[k], now)
            advance(at)  # the previous goal until this command arrives
            now = at
            goal = goals[k]
            vmax, amax = speed_limit_steps(int(episode.spd[k])), accel_limit_steps(int(episode.acc[k]))
        advance(t)
        now = t
        out[i] = [p.position for p in profiles]
    return out * RAD_PER_STEP


@dataclass
class Prepared:
    """One episode ready for replay: the simulation grid (start at the first reading), the undelayed set-points
    on it, the initial state (encoder frame) and the readings."""

    episode: Episode
    grid: np.ndarray
    setpoints: np.ndarray
    initial_state: np.ndarray
    measured: sysid.TimeSeries


class ReplayModel:
    """The spec, the parameters and the callbacks of the fit. ``base`` supplies the nominal values (the
    description's by default)."""

    def __init__(self, config: FitConfig = DEFAULT_FIT, base: RobotProfile | None = None):
        self.config = config
        self.base = base or nominal_profile()
        self.spec = self._build_spec()
        self.model = self.spec.compile()
        self.nq = self.model.nq
        if self.nq != len(JOINT_NAMES) or self.model.nu != len(JOINT_NAMES):
            raise RuntimeError("the replay model must have exactly the six arm joints and actuators")

    # ------------------------------------------------------------------ model
    def _build_spec(self) -> mujoco.MjSpec:
        spec = build_scene_spec(False, self.base)
        spec.option.timestep = self.config.timestep_s
        spec.option.disableflags |= mujoco.mjtDisableBit.mjDSBL_CONTACT
        for joint, sensor in zip(JOINT_NAMES, sensor_names(), strict=True):
            spec.add_sensor(name=sensor, type=mujoco.mjtSensor.mjSENS_JOINTPOS, objtype=mujoco.mjtObj.mjOBJ_JOINT,
                            objname=joint)
        return spec

    def parameters(self) -> sysid.ParameterDict:
        """Per joint: stiffness, damping, armature and friction scales (1 = the base profile), the encoder offset
        (rad); one command delay (s)."""
        cfg, params = self.config, sysid.ParameterDict()
        for joint in JOINT_NAMES:
            for field in SCALED_FIELDS:
                lo, hi = cfg.friction_scale_bounds if field == "friction" else cfg.scale_bounds
                nominal = getattr(self.base.joints[joint], field).value
                params.add(sysid.Parameter(param_name(joint, field), 1.0, lo, hi,
                                           modifier=_modifier(joint, field, nominal)))
            offset = self.base.joints[joint].encoder_offset.value
            params.add(sysid.Parameter(param_name(joint, OFFSET_FIELD), offset, offset - cfg.offset_bound_rad,
                                       offset + cfg.offset_bound_rad))
        delay = self.base.command_delay_s.value
        params.add(sysid.Parameter(DELAY_PARAM, delay, *cfg.delay_bounds_s))
        return params

    @staticmethod
    def build_model(params: sysid.ParameterDict, spec: mujoco.MjSpec) -> mujoco.MjModel:
        """Every parameter's modifier, frozen ones included (they hold their value, usually nominal)."""
        for p in params.values():
            p.apply_modifier(spec)
        return spec.compile()

    def x_scale(self, params: sysid.ParameterDict) -> np.ndarray:
        """The optimizer's per-component scale: 1 for scales, 0.02 rad for offsets, 0.02 s for the delay."""
        return np.concatenate([np.full(p.size, 1.0 if p.name.endswith("_scale") else 0.02)
                               for p in params.values() if not p.frozen])

    # ------------------------------------------------------------------ data
    def prepare(self, episode: Episode, until_s: float | None = None) -> Prepared:
        """The episode on the simulation grid; readings up to ``until_s`` (s from the first one, None: all)."""
        t0 = episode.t_obs[0]
        end = episode.t_obs[-1] if until_s is None else t0 + until_s
        dt = self.config.timestep_s
        grid = t0 + dt * np.arange(int(math.floor((end - t0) / dt)) + 2)
        setpoints = servo_setpoints(episode, grid)
        data = mujoco.MjData(self.model)
        data.qpos[:] = episode.q[0]
        data.qvel[:] = 0.0
        data.time = t0
        state = np.empty(mujoco.mj_stateSize(self.model, mujoco.mjtState.mjSTATE_FULLPHYSICS))
        mujoco.mj_getState(self.model, data, state, mujoco.mjtState.mjSTATE_FULLPHYSICS)
        keep = episode.t_obs <= min(end, grid[-2])
        measured = sysid.TimeSeries.from_names(episode.t_obs[keep], episode.q[keep], self.model)
        return Prepared(episode, grid, setpoints, state, measured)

    # ------------------------------------------------------------------ simulation
    def offsets(self, params: sysid.ParameterDict) -> np.ndarray:
        return np.array([params[param_name(j, OFFSET_FIELD)].value[0] for j in JOINT_NAMES])

    def controls(self, grid: np.ndarray, setpoints: np.ndarray, params: sysid.ParameterDict) -> np.ndarray:
        """The actuators' ctrl on ``grid`` (true frame): set-points shifted by the delay, less the offsets."""
        delay = float(params[DELAY_PARAM].value[0])
        shifted = np.column_stack([np.interp(grid - delay, grid, setpoints[:, j]) for j in range(setpoints.shape[1])])
        return shifted - self.offsets(params)

    def rollout(self, models: Sequence[mujoco.MjModel], datas, control_signal, initial_states, param_dicts,
                **_ignored) -> list[sysid.SystemTrajectory]:
        """mujoco.sysid's custom rollout: per candidate the delayed, offset ctrl and the start in the true frame;
        the sensor columns come back in the encoder frame (+ offset), starting with the initial reading."""
        batch = len(models)
        per_params = batch // len(param_dicts)
        ctrls, starts = [], []
        for i in range(batch):
            params = param_dicts[i // per_params]
            ctrl_ts = control_signal[i]
            ctrls.append(self.controls(ctrl_ts.times, ctrl_ts.data, params)[:-1])
            start = np.array(initial_states[i], dtype=np.float64)
            start[1:1 + self.nq] -= self.offsets(params)
            starts.append(start)
        state, sensor = mujoco.rollout.rollout(list(models), list(datas), np.stack(starts), np.stack(ctrls))
        out = []
        for i in range(batch):
            offsets = self.offsets(param_dicts[i // per_params])
            times = np.concatenate([[starts[i][0]], state[i, :, 0]])
            q0 = starts[i][1:1 + self.nq]
            readings = np.vstack([q0, sensor[i]]) + offsets
            out.append(sysid.SystemTrajectory(
                model=models[i], control=control_signal[i],
                sensordata=sysid.TimeSeries.from_names(times, readings, models[i]),
                initial_state=initial_states[i],
                state=sysid.TimeSeries(times, np.vstack([starts[i], state[i]]))))
        return out

    @staticmethod
    def residual(params, predicted: sysid.TimeSeries, measured: sysid.TimeSeries, model, return_pred_all,
                 **_ignored):
        """mujoco.sysid's modify_residual: measured - simulated readings at the reading times, rad."""
        at = predicted.resample(measured.times)
        return measured.data - at.data, at, measured

    def residual_fn(self, prepared: Sequence[Prepared], name: str = "roarm"):
        """(ModelSequences, residual_fn) for :func:`mujoco.sysid.optimize` over ``prepared`` episodes."""
        sequences = sysid.ModelSequences(
            name, self.spec, [p.episode.name for p in prepared], [p.initial_state for p in prepared],
            [sysid.TimeSeries(p.grid, p.setpoints) for p in prepared], [p.measured for p in prepared])
        fn = sysid.build_residual_fn(models_sequences=[sequences], build_model=self.build_model,
                                     custom_rollout=self.rollout, modify_residual=self.residual,
                                     resample_true=False, n_threads=self.config.threads)
        return sequences, fn

    def simulate(self, prepared: Prepared, params: sysid.ParameterDict) -> np.ndarray:
        """Simulated readings (encoder frame) at the episode's reading times in ``prepared.measured``."""
        model = self.build_model(params, self.spec)
        traj = self.rollout([model], [mujoco.MjData(model)], [sysid.TimeSeries(prepared.grid, prepared.setpoints)],
                            [prepared.initial_state], [params])[0]
        return traj.sensordata.resample(prepared.measured.times).data

    # ------------------------------------------------------------------ profiles
    def profile_params(self, profile: RobotProfile) -> sysid.ParameterDict:
        """The parameters that reproduce ``profile`` on this model's base (for synthetic data and comparisons)."""
        params = self.parameters()
        for joint in JOINT_NAMES:
            for field in SCALED_FIELDS:
                nominal = getattr(self.base.joints[joint], field).value
                value = getattr(profile.joints[joint], field).value
                params[param_name(joint, field)].value[:] = value / nominal if nominal else 1.0
            params[param_name(joint, OFFSET_FIELD)].value[:] = profile.joints[joint].encoder_offset.value
        params[DELAY_PARAM].value[:] = profile.command_delay_s.value
        return params

    def to_profile(self, values: dict[str, float], stds: dict[str, float], name: str,
                   provenance: dict | None = None) -> RobotProfile:
        """A profile from parameter values and stds (in parameter units: scales become absolute here)."""
        joints = {}
        for joint in JOINT_NAMES:
            fields = {}
            for field in SCALED_FIELDS:
                nominal = getattr(self.base.joints[joint], field).value
                key = param_name(joint, field)
                fields[field] = Estimate(values[key] * nominal, stds[key] * nominal)
            key = param_name(joint, OFFSET_FIELD)
            fields[OFFSET_FIELD] = Estimate(values[key], stds[key])
            joints[joint] = JointProfile(**fields)
        return RobotProfile(joints=joints, command_delay_s=Estimate(values[DELAY_PARAM], stds[DELAY_PARAM]),
                            name=name, provenance=provenance or {})


def _modifier(joint: str, field: str, nominal: float):
    def modify(spec: mujoco.MjSpec, p: sysid.Parameter) -> None:
        value = float(p.value[0]) * nominal
        j = spec.joint(joint)
        if field == "stiffness":
            act = spec.actuator(joint)
            act.gainprm[0] = value
            act.biasprm[1] = -value
        elif field == "damping":
            j.damping[0] = value
        elif field == "armature":
            j.armature = value
        else:
            j.frictionloss = value

    return modify
