"""Every setting of the identification in one place: the recording (rate, rest check), the fit (model timestep,
parameter bounds, hold-out, identifiability thresholds, optimizer budget) and what a usable recording must have.

The fitted parameters (docs/sysid.md): per joint the stiffness, damping, armature and friction as *scales* of the
description's nominal value (1 = nominal; well conditioned for the optimizer whatever the units), the encoder offset
(rad) and one command delay (s). With the servo loads recorded (``observation.load``) also the mass scale of the links
that carry gravity torque, a payload at the TCP (kg) and a constant load bias (permille) where the firmware has one
(the shoulder's ``tS`` subtracts a stale reading of its second servo). :class:`FitConfig` carries their bounds, the
weight of the load residual and the std given to a parameter the data do not identify.

Why the loads: joint readings alone see a servo's stiffness only through ``sag = torque / kp``; a heavier link and a
weaker servo give the same sag. The load is the loop's output, ``kp x (set-point - encoder)`` in permille of stall,
so it measures the torque itself: with both, the mass (gravity torque) and the stiffness separate.
"""

from __future__ import annotations

from dataclasses import dataclass

from roarm_lab.tasks.timing import CONTROL_HZ

#: Per-joint drive fields fitted as a scale of the nominal value (robot_profile.JOINT_FIELDS less encoder_offset).
SCALED_FIELDS: tuple[str, ...] = ("stiffness", "damping", "armature", "friction")
OFFSET_FIELD = "encoder_offset"
DELAY_PARAM = "command_delay_s"
MASS_FIELD = "link_mass_scale"  # per joint: its child link's mass and inertia, a scale of the base profile's
PAYLOAD_PARAM = "payload_kg"
LOAD_BIAS_FIELD = "load_bias"  # per joint, permille: measured load = true load + bias


@dataclass(frozen=True)
class RecordConfig:
    rate_hz: float = CONTROL_HZ  # the control rate of play_real: the same writer, the same fps
    duration_s: float = 120.0
    #: The arm is at rest when two readings this far apart differ by at most rest_tolerance_rad on every joint.
    rest_gap_s: float = 0.3
    rest_tolerance_rad: float = 0.01
    rest_wait_s: float = 3.0  # how long to wait for a creeping arm to come to rest before refusing
    #: A joint this far outside HARDWARE_SAFE refuses the start (a closed gripper reads a hair below 0); the plan
    #: begins at the pose clamped inside the limits less the safety margin.
    limit_slack_rad: float = 0.03
    #: How fast the plan's first move may bring the arm from where it stands to the first excitation pose.
    approach_speed_rad_s: float = 0.5


@dataclass(frozen=True)
class FitConfig:
    #: Simulation step of the replay (s). The servo's loop is ~11 Hz (kp 59 N*m/rad on ~0.012 kg*m^2); 4 ms resolves
    #: it and keeps a 2-minute recording at 30 000 steps per rollout.
    timestep_s: float = 0.004
    holdout_fraction: float = 0.25  # the last quarter of every episode is only used for validation
    #: Two stages keep a 2-minute recording under ~5 min on 2 cores: every parameter is fitted to the first
    #: ``screen_s`` of each episode's fitted part (the first pose's whole excitation), which also decides what is
    #: identifiable; then the identifiable ones are refitted to all of it from there, the rest frozen at nominal.
    screen_s: float = 40.0
    max_iters: int = 20  # stage 1
    refit_iters: int = 8  # stage 2
    threads: int = 2  # MuJoCo rollout threads (the finite-difference columns run in parallel)
    fd_eps: float = 1e-6  # finite-difference step, in the (scaled) parameter units
    # bounds of the fitted values
    scale_bounds: tuple[float, float] = (0.2, 5.0)
    friction_scale_bounds: tuple[float, float] = (0.0, 20.0)
    offset_bound_rad: float = 0.15
    delay_bounds_s: tuple[float, float] = (0.0, 0.25)
    #: A parameter is identified when its std (from mujoco.sysid's 95 % interval) is below these; otherwise it
    #: stays nominal with the "wide" std.
    max_scale_std: float = 0.15  # relative: 15 % of the value
    max_offset_std_rad: float = 0.005  # ~3 servo steps
    max_delay_std_s: float = 0.005
    wide_scale_std: float = 0.5  # x nominal
    wide_offset_std_rad: float = 0.05
    wide_delay_std_s: float = 0.05
    # ---- the loads (only when every episode has observation.load; otherwise the fit is the joints' alone)
    #: The load residual is the torque error expressed as the position-loop error it stands for at the nominal
    #: stiffness: (measured - bias - simulated torque) / kp_nominal, rad, times ``load_weight``. One encoder step of
    #: loop error is ~31 permille on every joint (kp = servos x stall / 0.05 rad), and both signals are quantized by
    #: that step (the load is computed from the integer step error), so weight 1 treats a step of load as a step of
    #: position: equal noise, equal weight. The joint residual stays in rad, as without loads.
    load_weight: float = 3.0
    #: A servo's stiffness shows as its static error under a steady load (error = load / stiffness). A joint whose
    #: median |load| stays below this (about one encoder step of loop error, ~31 permille, inside the deadband) never
    #: shows it: base (vertical axis), roll (tool axis) and often the gripper carry no gravity load, and their
    #: stiffness trades off against armature and damping in the dynamics alone. Their stiffness is kept nominal
    #: with the wide std (only with loads in the data).
    min_static_load_permille: float = 40.0
    #: ... and a servo pushing at its torque limit (median |load| above this fraction of it: the gripper squeezing its
    #: own stop at 300 permille) has an error no longer proportional to its load: no stiffness either.
    saturated_load_fraction: float = 0.9
    #: Fit the encoder offsets from joint data? They are not identifiable that way (the servo drives its own encoder
    #: to the goal, docs/sysid.md), and a local interval can look tight around a wrong value; off by default, so the
    #: offsets stay those of the base profile (e.g. from ``sysid.py touch``) or 0, with a wide std.
    fit_encoder_offsets: bool = False
    #: The load residual is a centred moving average over this window. A load is the loop's error times kp, so its
    #: transients are as fast as the servo's step response (~11 Hz) and, read at 30 Hz with readings stamped on
    #: arrival, a few ms of timing jitter makes them noisy; least squares then shrinks the transients by lowering kp.
    #: The slow part (gravity and the mean tracking torque) is what tells mass from stiffness.
    load_smoothing_s: float = 0.5
    #: Links whose mass scale is fitted: those whose weight loads a joint. The base link turns about a vertical axis
    #: (no gravity torque) and the gripper jaw weighs 3 g: their scales are not fitted (kept at the base profile's).
    mass_joints: tuple[str, ...] = ("shoulder", "elbow", "wrist", "roll")
    mass_scale_bounds: tuple[float, float] = (0.5, 2.0)
    fit_payload: bool = True
    payload_bounds_kg: tuple[float, float] = (0.0, 0.3)
    #: Joints with a constant load bias: the shoulder's tS = load(12) - load(13 at boot) (hardware §2.7).
    load_bias_joints: tuple[str, ...] = ("shoulder",)
    load_bias_bound_permille: float = 500.0
    max_payload_std_kg: float = 0.01
    max_load_bias_std_permille: float = 15.0  # half an encoder step of loop error
    wide_payload_std_kg: float = 0.05
    wide_load_bias_std_permille: float = 200.0
    # what a recording must have
    min_duration_s: float = 2.0
    min_motion_rad: float = 0.05  # the commanded joints must span at least this (the largest joint span)
    #: A frame later than this many periods after the previous one is a gap (lost data). A late tick of a loaded
    #: host (one or two periods) is not: the commands and readings carry their own times, which the replay follows.
    max_gap_periods: float = 6.0


DEFAULT_RECORD = RecordConfig()
DEFAULT_FIT = FitConfig()
