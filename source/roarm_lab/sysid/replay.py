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
* With loads (every episode has ``observation.load``): an actuatorfrc sensor per joint (``f_<joint>``), the
  position actuator's force ``kp (ctrl - q)`` clipped to its force range, which is what the servo's load register
  reports as ``1000 x force / (servos x stall torque)`` permille. The measured loads are turned into N*m the same
  way (:func:`load_to_torque`); the load residual is the torque error over the joint's nominal kp (the loop error it
  stands for, rad) times ``FitConfig.load_weight``, after a fitted constant bias on ``load_bias_joints``. The links'
  mass scales (``mass_joints``) and a payload body at the TCP are fitted with it.

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
from roarm_lab.description.kinematic_chain import JOINT_NAMES, JOINTS
from roarm_lab.description.robot_profile import Estimate, JointProfile, RobotProfile, nominal_profile
from roarm_lab.description.servo import SERVOS_PER_JOINT, STALL_TORQUE_NM
from roarm_lab.description.servo_motion import TrapezoidProfile, accel_limit_steps, speed_limit_steps
from roarm_lab.sim_mujoco.scene import PAYLOAD_BODY, add_payload, build_scene_spec, scale_body_mass, set_payload_mass
from roarm_lab.sysid.config import (
    DEFAULT_FIT,
    DELAY_PARAM,
    LOAD_BIAS_FIELD,
    MASS_FIELD,
    OFFSET_FIELD,
    PAYLOAD_PARAM,
    SCALED_FIELDS,
    FitConfig,
)
from roarm_lab.sysid.data import Episode

SENSOR_PREFIX = "q_"
LOAD_SENSOR_PREFIX = "f_"
#: Stall torque of each joint's servos together (N*m): 1000 permille of load.
FULL_LOAD_NM = np.array([SERVOS_PER_JOINT[j] * STALL_TORQUE_NM for j in JOINT_NAMES])
CHILD_BODY = {j.name: j.child for j in JOINTS}


def sensor_names(loads: bool = False) -> list[str]:
    return [SENSOR_PREFIX + j for j in JOINT_NAMES] + ([LOAD_SENSOR_PREFIX + j for j in JOINT_NAMES] if loads else [])


def param_name(joint: str, field: str) -> str:
    return f"{joint}.{field}" + ("_scale" if field in SCALED_FIELDS else "")


def param_kind(name: str) -> str:
    """``scale`` (relative, 1 = base), ``offset`` (rad), ``delay`` (s), ``payload`` (kg) or ``bias`` (permille)."""
    if name == DELAY_PARAM:
        return "delay"
    if name == PAYLOAD_PARAM:
        return "payload"
    if name.endswith(OFFSET_FIELD):
        return "offset"
    if name.endswith(LOAD_BIAS_FIELD):
        return "bias"
    return "scale"


#: The optimizer's per-component scale of each kind (about the size of a meaningful change).
X_SCALE = {"scale": 1.0, "offset": 0.02, "delay": 0.02, "payload": 0.02, "bias": 30.0}


def smooth(values: np.ndarray, times: np.ndarray, window_s: float) -> np.ndarray:
    """Centred moving average over ``window_s`` (in samples at the mean rate of ``times``; shorter at the ends)."""
    width = int(round(window_s * (len(times) - 1) / max(times[-1] - times[0], 1e-9))) if len(times) > 1 else 1
    if width <= 1:
        return values
    kernel = np.ones(width)
    norm = np.convolve(np.ones(len(values)), kernel, mode="same")
    return np.column_stack([np.convolve(values[:, j], kernel, mode="same") / norm for j in range(values.shape[1])])


def load_to_torque(permille: np.ndarray) -> np.ndarray:
    """Servo loads (n, 6, permille of the joint's stall torque) as joint torques (N*m)."""
    return np.asarray(permille) / 1000.0 * FULL_LOAD_NM


def torque_to_load(torque: np.ndarray) -> np.ndarray:
    return np.asarray(torque) / FULL_LOAD_NM * 1000.0


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

    def __init__(self, config: FitConfig = DEFAULT_FIT, base: RobotProfile | None = None, loads: bool = False):
        self.config = config
        self.base = base or nominal_profile()
        self.loads = loads
        self.kp_nominal = np.array(self.base.values("stiffness"))
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
        if self.loads:
            for joint in JOINT_NAMES:
                spec.add_sensor(name=LOAD_SENSOR_PREFIX + joint, type=mujoco.mjtSensor.mjSENS_ACTUATORFRC,
                                objtype=mujoco.mjtObj.mjOBJ_ACTUATOR, objname=joint)
            if self.config.fit_payload and self.base.payload_kg.value == 0.0:
                add_payload(spec, 0.0)  # the base has none: a massless one for the fit to weigh
        # the base profile's link masses, which the mass scales multiply
        self._link_inertials = {j: (spec.body(CHILD_BODY[j]).mass, list(spec.body(CHILD_BODY[j]).inertia),
                                    list(spec.body(CHILD_BODY[j]).fullinertia)) for j in JOINT_NAMES}
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
        if self.loads:
            for joint in cfg.mass_joints:
                params.add(sysid.Parameter(param_name(joint, MASS_FIELD), 1.0, *cfg.mass_scale_bounds,
                                           modifier=_mass_modifier(CHILD_BODY[joint], *self._link_inertials[joint])))
            if cfg.fit_payload:
                payload = self.base.payload_kg.value
                params.add(sysid.Parameter(PAYLOAD_PARAM, payload, *cfg.payload_bounds_kg, modifier=_set_payload))
            for joint in cfg.load_bias_joints:
                bound = cfg.load_bias_bound_permille
                params.add(sysid.Parameter(param_name(joint, LOAD_BIAS_FIELD), 0.0, -bound, bound))
        return params

    @staticmethod
    def build_model(params: sysid.ParameterDict, spec: mujoco.MjSpec) -> mujoco.MjModel:
        """Every parameter's modifier, frozen ones included (they hold their value, usually nominal)."""
        for p in params.values():
            p.apply_modifier(spec)
        return spec.compile()

    def x_scale(self, params: sysid.ParameterDict) -> np.ndarray:
        """The optimizer's per-component scale (:data:`X_SCALE`): 1 for scales, 0.02 rad for offsets, 0.02 s for
        the delay, 0.02 kg for the payload, 30 permille (one step of loop error) for a load bias."""
        return np.concatenate([np.full(p.size, X_SCALE[param_kind(p.name)])
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
        readings = episode.q[keep]
        if self.loads:
            if episode.loads is None:
                raise ValueError(f"{episode.name}: no loads recorded (observation.load) for a fit with loads")
            readings = np.hstack([readings, load_to_torque(episode.loads[keep])])
        measured = sysid.TimeSeries.from_names(episode.t_obs[keep], readings, self.model)
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
            first = sensor[i][:1].copy()
            first[0, :self.nq] = q0
            readings = np.vstack([first, sensor[i]])
            readings[:, :self.nq] += offsets
            out.append(sysid.SystemTrajectory(
                model=models[i], control=control_signal[i],
                sensordata=sysid.TimeSeries.from_names(times, readings, models[i]),
                initial_state=initial_states[i],
                state=sysid.TimeSeries(times, np.vstack([starts[i], state[i]]))))
        return out

    def load_bias(self, params: sysid.ParameterDict) -> np.ndarray:
        """The load biases (6, permille; 0 where none is fitted)."""
        return np.array([float(params[param_name(j, LOAD_BIAS_FIELD)].value[0])
                         if param_name(j, LOAD_BIAS_FIELD) in params else 0.0 for j in JOINT_NAMES])

    def residual(self, params, predicted: sysid.TimeSeries, measured: sysid.TimeSeries, model, return_pred_all,
                 **_ignored):
        """mujoco.sysid's modify_residual: measured - simulated readings at the reading times, rad; with loads also
        (measured torque less the bias - simulated) / nominal kp x load_weight, rad of loop error."""
        at = predicted.resample(measured.times)
        res = measured.data - at.data
        if self.loads:
            n = len(JOINT_NAMES)
            res[:, n:] -= load_to_torque(self.load_bias(params))
            res[:, n:] = smooth(res[:, n:], measured.times, self.config.load_smoothing_s)
            res[:, n:] *= self.config.load_weight / self.kp_nominal
        return res, at, measured

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
        return self.simulate_all(prepared, params)[0]

    def simulate_all(self, prepared: Prepared, params: sysid.ParameterDict) -> tuple[np.ndarray, np.ndarray | None]:
        """Simulated readings and, with loads, the loads (permille, the fitted bias added) at the reading times."""
        model = self.build_model(params, self.spec)
        traj = self.rollout([model], [mujoco.MjData(model)], [sysid.TimeSeries(prepared.grid, prepared.setpoints)],
                            [prepared.initial_state], [params])[0]
        data = traj.sensordata.resample(prepared.measured.times).data
        n = len(JOINT_NAMES)
        loads = torque_to_load(data[:, n:]) + self.load_bias(params) if self.loads else None
        return data[:, :n], loads

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
            if param_name(joint, MASS_FIELD) in params:
                params[param_name(joint, MASS_FIELD)].value[:] = (profile.joints[joint].link_mass_scale.value
                                                                  / self.base.joints[joint].link_mass_scale.value)
        params[DELAY_PARAM].value[:] = profile.command_delay_s.value
        if PAYLOAD_PARAM in params:
            params[PAYLOAD_PARAM].value[:] = profile.payload_kg.value
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
            base_mass = self.base.joints[joint].link_mass_scale
            key = param_name(joint, MASS_FIELD)
            fields[MASS_FIELD] = (Estimate(values[key] * base_mass.value, stds[key] * base_mass.value)
                                  if key in values else base_mass)
            joints[joint] = JointProfile(**fields)
        # the optimizer may end a rounding error below a bound of 0 (the model already clamps both there)
        payload = (Estimate(max(values[PAYLOAD_PARAM], 0.0), stds[PAYLOAD_PARAM]) if PAYLOAD_PARAM in values
                   else self.base.payload_kg)
        delay = Estimate(max(values[DELAY_PARAM], 0.0), stds[DELAY_PARAM])
        return RobotProfile(joints=joints, command_delay_s=delay, name=name, payload_kg=payload,
                            provenance=provenance or {})


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


def _mass_modifier(body: str, mass: float, inertia: list, fullinertia: list):
    def modify(spec: mujoco.MjSpec, p: sysid.Parameter) -> None:
        scale_body_mass(spec.body(body), float(p.value[0]), mass, inertia, fullinertia)

    return modify


def _set_payload(spec: mujoco.MjSpec, p: sysid.Parameter) -> None:
    set_payload_mass(spec.body(PAYLOAD_BODY), max(float(p.value[0]), 0.0))
