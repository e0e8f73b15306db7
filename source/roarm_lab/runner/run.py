"""One run of a policy on the real arm, from the file to the summary: what ``scripts/play_real.py`` (an ONNX policy
package) and ``scripts/run_lerobot_policy.py`` (a `lerobot-train` checkpoint) do.

1. Load the policy and check the task inputs; refuse before the port is opened (exit 2).
2. Connect (USB serial: the arm may reboot and re-home, hardware §1.2; the feedback comes from the InfoPrint=2
   stream, or from a T:105 request per step with ``--feedback request`` and over HTTP) and check it: a dead servo bus
   (hardware §2.7) or joints far outside the limits refuse the run before anything moves (exit 3).
3. Move slowly to the package's start pose on a checked path (:mod:`.start_pose`).
4. The control loop (:mod:`.control_loop`) until ``--duration`` ends, Ctrl+C, or a fault.
5. On Ctrl+C and faults: hold the pose (a `T:102` to the last measured joints, never `T:0`, hardware §7 item 3);
   a normal end leaves the last (safety-checked) command in place. Then the summary, ``summary.json`` and
   ``joints.png``; ``steps.jsonl`` was flushed step by step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from roarm_lab.deploy import PolicyPackage, PolicyPackageError
from roarm_lab.driver.errors import RealArmError
from roarm_lab.driver.safety import SafetyConfig, SafetyLayer, WorkspaceBox
from roarm_lab.driver.session import STREAM, ArmLinkSettings, ArmSession
from roarm_lab.lerobot_io.dataset_features import REAL_RUN_REPO_ID
from roarm_lab.perception.errors import PerceptionError
from roarm_lab.runner.control_loop import ControlLoop, LoopConfig, LoopStats
from roarm_lab.runner.errors import StopRequested, UnsafeStartError
from roarm_lab.runner.feedback_tracker import FeedbackTracker
from roarm_lab.runner.gc_freeze import frozen_heap
from roarm_lab.runner.objects import CameraObject, CameraOptions, CubeLostError, FixedObject
from roarm_lab.runner.policy import OnnxPolicy, Policy
from roarm_lab.runner.run_log import PLOT_FILE, RunLog, default_log_dir, read_steps
from roarm_lab.runner.start_pose import check_arm_state, move_to_start
from roarm_lab.runner.stop_request import StopRequest
from roarm_lab.runner.summary import final_tcp_error_m, format_summary, loop_timing
from roarm_lab.runner.watchdog import FeedbackWatchdog

#: The Reach command when none is given (m, world): the TCP of (0.38, 0.05, 2.04, 0.31, 0) rad, inside Reach's
#: training target box and 15 cm above the table.
DEFAULT_REACH_TARGET = (0.25, 0.10, 0.15)
DEFAULT_START_SPEED_RAD_S = 0.5  # ~1/10 of the servo's no-load speed (hardware §3.6)
DEFAULT_STALE_PERIODS = 5
#: Serial reply timeout in the loop: a T:102 + T:105 exchange takes ~32 ms of wire time at 115200 baud (130 + 10
#: bytes out, ~230 back, hardware §1.1); one retry, so a read gives up after 80 ms, inside the watchdog's limit. In
#: stream mode a step waits as long (two timeouts) for a new frame; frames come every ~20 ms.
DEFAULT_REPLY_TIMEOUT_S = 0.04
#: The default workspace floor for object tasks (m, TCP height): the trained policies aim the TCP a few mm below the
#: table top when they close on a cube (the table stops the hand; the servo presses at most its torque limit).
OBJECT_TASK_FLOOR_M = -0.01
CAMERA_DIR = "camera"  # the run's camera frames (<seq>.jpg), kept when recording


class ExitCode(enum.IntEnum):
    OK = 0  # --duration ran out, or the user stopped the run (Ctrl+C, SIGTERM); the arm holds its pose
    FAULT = 1  # stopped on a fault once the arm may have moved; it was told to hold where the link allowed
    BAD_INPUT = 2  # refused before the port was opened: the policy package or the arguments
    ARM_REFUSED = 3  # the arm did not answer or was not fit to start; nothing was moved


def run_link_settings(settings: ArmLinkSettings, stale_limit_s: float) -> ArmLinkSettings:
    """``settings`` with reply timeouts fitted to the watchdog, so a read never outlasts it: over serial one retry
    of at most half the watchdog's limit (``play_real.py --reply-timeout``, default :data:`DEFAULT_REPLY_TIMEOUT_S`),
    over HTTP one request of at most the watchdog's limit."""
    if settings.http is not None:
        return dataclasses.replace(settings, reply_timeout_s=min(settings.reply_timeout_s, stale_limit_s), retries=0)
    return dataclasses.replace(settings, reply_timeout_s=min(settings.reply_timeout_s, stale_limit_s / 2), retries=1)


@dataclass(frozen=True)
class PlayOptions:
    policy: Path | Policy  # an ONNX policy package file, or any Policy (a LeRobot checkpoint)
    link: ArmLinkSettings
    dry_run: bool = False
    duration_s: float | None = None  # None: until Ctrl+C
    target: Sequence[float] | None = None  # the task command, m, world
    object_pos: Sequence[float] | None = None  # a fixed object position for object tasks, m, world
    object_yaw_rad: float = 0.0  # ... and its yaw
    camera: CameraOptions | None = None  # ... or a calibrated camera that finds the cube (object tasks)
    log_dir: Path | None = None
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    start_speed_rad_s: float = DEFAULT_START_SPEED_RAD_S
    stale_periods: int = DEFAULT_STALE_PERIODS
    plot: bool = True
    record_dir: Path | None = None  # append the run as one episode of this LeRobot v3 dataset
    record_repo_id: str = REAL_RUN_REPO_ID
    #: An open session to run on, for a caller with several runs in a row (improve.py): play neither opens nor
    #: closes it (opening a USB port may reboot the arm). Its reply timeouts should be :func:`run_link_settings`'.
    session: ArmSession | None = None


@dataclass
class PlayResult:
    exit_code: ExitCode
    summary: dict[str, Any] | None = None
    log_dir: Path | None = None


def task_safety(options: PlayOptions, policy: Policy) -> PlayOptions:
    """``options`` with the default workspace box's floor moved from 3 cm (Reach) to :data:`OBJECT_TASK_FLOOR_M` for
    object tasks: grasping needs the jaws round a cube on the table, and PickPlace targets lie on it. A box the user
    gave is kept."""
    if not policy.observes_object or options.safety.workspace != WorkspaceBox():
        return options
    floor = WorkspaceBox((*WorkspaceBox().lower[:2], OBJECT_TASK_FLOOR_M), WorkspaceBox().upper)
    return dataclasses.replace(options, safety=dataclasses.replace(options.safety, workspace=floor))


def task_inputs(policy: Policy, target: Sequence[float] | None, object_pos: Sequence[float] | None,
                workspace: WorkspaceBox, camera: CameraOptions | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The command and the fixed object position for the package's task; ValueError saying what is missing."""
    if policy.observes_object:
        if object_pos is not None and camera is not None:
            raise ValueError("give the cube either by --camera or by --object, not both")
        if object_pos is None and camera is None:
            raise ValueError(f"{policy.task} observes a cube the arm cannot measure: see it with a calibrated camera "
                             "(--camera SRC --camera-calib FILE, docs/camera.md), or give a fixed position with "
                             "--object X Y Z (m, world), which the policy then sees never move: for trying the "
                             "pipeline, not for grasping")
        if target is None:
            raise ValueError(f"{policy.task} needs its command: --target X Y Z (m, world)")
    elif object_pos is not None or camera is not None:
        raise ValueError(f"{policy.task} has no object: drop --object and --camera")
    command = np.asarray(DEFAULT_REACH_TARGET if target is None else target, dtype=np.float64)
    if command.shape != (3,) or not np.all(np.isfinite(command)):
        raise ValueError(f"--target needs 3 finite numbers, got {target}")
    if not workspace.contains(command):
        raise ValueError(f"--target {command.tolist()} m lies outside the workspace box {workspace.lower}.."
                         f"{workspace.upper} m")
    obj = None if object_pos is None else np.asarray(object_pos, dtype=np.float64)
    if obj is not None and (obj.shape != (3,) or not np.all(np.isfinite(obj))):
        raise ValueError(f"--object needs 3 finite numbers, got {object_pos}")
    return command, obj


def _eprint(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def play(options: PlayOptions, echo: Callable[[str], None] = print,
         warn: Callable[[str], None] = _eprint) -> PlayResult:
    """Run the policy; every outcome is an :class:`ExitCode` (errors are reported through ``warn``)."""
    try:
        policy = options.policy if not isinstance(options.policy, str | Path) else OnnxPolicy(
            PolicyPackage.load(options.policy))
        options = task_safety(options, policy)
        command, object_pos = task_inputs(policy, options.target, options.object_pos, options.safety.workspace,
                                          options.camera)
    except PolicyPackageError as e:
        warn(f"error: refusing the policy package: {e}")
        return PlayResult(ExitCode.BAD_INPUT)
    except ValueError as e:
        warn(f"error: {e}")
        return PlayResult(ExitCode.BAD_INPUT)
    try:
        recorder = _recorder(options, policy, policy.observes_object)
    except (ImportError, ValueError) as e:  # checked before the port is opened: a bad root loses no run
        warn(f"error: cannot record to {options.record_dir}: {e}")
        return PlayResult(ExitCode.BAD_INPUT)
    try:
        log = RunLog(options.log_dir or default_log_dir())
    except OSError as e:
        warn(f"error: cannot create the log directory: {e}")
        return PlayResult(ExitCode.BAD_INPUT)
    objects = FixedObject(object_pos, options.object_yaw_rad) if object_pos is not None else None
    if options.camera is not None:  # opened, checked and seeing the cube before the port is opened
        try:
            objects = CameraObject(options.camera, log.directory / CAMERA_DIR if recorder is not None else None)
        except (PerceptionError, ValueError) as e:
            warn(f"error: camera: {e}")
            log.close()
            return PlayResult(ExitCode.BAD_INPUT)
        try:
            first = objects.wait_for_cube()
        except CubeLostError as e:
            objects.close()
            log.close()
            warn(f"error: {e}")
            return PlayResult(ExitCode.BAD_INPUT)
        echo(f"[roarm-lab] camera {options.camera.source}: cube at {np.round(first.position, 3).tolist()} m, yaw "
             f"{np.degrees(first.yaw):.1f} deg")
    try:
        return _play(options, policy, command, objects, recorder, log, echo, warn)
    finally:
        if objects is not None:
            objects.close()


def _play(options: PlayOptions, policy: Policy, command: np.ndarray, objects, recorder, log: RunLog,
          echo: Callable[[str], None], warn: Callable[[str], None]) -> PlayResult:
    safety = SafetyLayer(options.safety)
    stale_limit_s = options.stale_periods / policy.control_hz
    with log:
        where = options.link.where
        echo(f"[roarm-lab] {policy.task} policy {policy.source} at {policy.control_hz:g} Hz, command "
             f"{np.round(command, 3).tolist()} m, arm on {where}, feedback from "
             + ("the T:1051 stream" if options.link.feedback_mode == STREAM else "T:105 requests")
             + (" (dry run: no motion commands)" if options.dry_run else ""))
        if isinstance(policy, OnnxPolicy):
            echo(f"[roarm-lab] policy trained for {policy.package.trained_for}")
        outcome = None
        if options.session is not None:  # the caller's: neither opened nor closed here
            arm, owned = options.session, contextlib.nullcontext()
            if not arm.is_open:
                code, outcome = ExitCode.ARM_REFUSED, f"the session with {arm.settings.where} is closed"
        else:
            if options.link.port is not None:
                echo("[roarm-lab] opening the serial port; a USB connection may reboot the arm and make it re-home "
                     "(hardware §1.2): keep clear")
            arm = owned = ArmSession(run_link_settings(options.link, stale_limit_s))
            try:
                arm.open()
            except (RealArmError, KeyboardInterrupt) as e:
                user = isinstance(e, KeyboardInterrupt)
                code = ExitCode.OK if user else ExitCode.ARM_REFUSED
                outcome = "interrupted while connecting" if user else f"cannot connect to the arm: {e}"
        if outcome is not None:
            warn(f"[roarm-lab] {outcome}; nothing was moved")
            summary = {"outcome": outcome, "exit_code": int(code), "policy": policy.source,
                       "task": policy.task, "log_dir": str(log.directory)}
            log.write_summary(summary)
            return PlayResult(code, summary, log.directory)
        with owned, StopRequest() as stop:
            before = arm.newest if options.session is not None else None  # a borrowed session's old readings
            link = FeedbackTracker(arm, FeedbackWatchdog(stale_limit_s, options.stale_periods),
                                   dry_run=options.dry_run, echo=echo, after_seq=before.seq if before else 0)
            loop = ControlLoop(link, policy, command, safety,
                               LoopConfig(rate_hz=policy.control_hz, duration_s=options.duration_s),
                               log=log, stop=stop, objects=objects)
            code, outcome, hold_needed = _run(link, loop, policy, safety, options, stop, echo)
            since_feedback_ms = None if link.latest_t is None else (time.monotonic() - link.latest_t) * 1000
            hold = link.hold(safety) if hold_needed else "not needed"
            if code != ExitCode.OK:
                warn(f"[roarm-lab] {outcome}")
            summary = _summary(outcome, code, policy, command, options, safety, link, loop.stats, hold,
                               since_feedback_ms, log)
            if objects is not None:
                summary["cube"] = objects.stats()
            if recorder is not None:
                summary["lerobot_dataset"] = _record(recorder, log, policy, command, warn)
            log.write_summary(summary)
            if options.plot and loop.stats.steps:
                _plot(loop.stats, log, policy, warn)
            echo(format_summary(summary))
    return PlayResult(code, summary, log.directory)


def _recorder(options: PlayOptions, policy: Policy, has_object: bool):
    """The LeRobot episode writer for ``--record`` (None without it)."""
    if options.record_dir is None:
        return None
    from roarm_lab.lerobot_io.real_runs import run_writer  # imports LeRobot: only when recording

    camera = None
    if options.camera is not None:
        from roarm_lab.perception.calibration import CameraCalibration

        try:
            intrinsics = CameraCalibration.load(options.camera.calibration).intrinsics
        except PerceptionError as e:
            raise ValueError(str(e)) from None
        camera = (intrinsics.height, intrinsics.width)
    return run_writer(options.record_dir, policy.control_hz, has_object, options.record_repo_id, camera=camera)


def _record(recorder, log: RunLog, policy: Policy, command: np.ndarray,
            warn: Callable[[str], None]) -> dict[str, Any]:
    """Append the run to the dataset; a failure is reported, the run's log keeps every step either way."""
    from roarm_lab.lerobot_io.real_runs import record_run

    where = {"root": str(recorder.root), "repo_id": recorder.repo_id}
    try:
        episode = record_run(recorder, read_steps(log.directory), policy.task, command, log.directory / CAMERA_DIR)
    except Exception as e:  # the arm is already holding; the episode stays in steps.jsonl
        warn(f"warning: could not write the LeRobot episode: {e!r}")
        return {**where, "episode": None, "error": repr(e)}
    return {**where, "episode": episode}


def _run(link: FeedbackTracker, loop: ControlLoop, policy: Policy, safety: SafetyLayer, options: PlayOptions,
         stop: StopRequest, echo: Callable[[str], None]) -> tuple[ExitCode, str, bool]:
    """The motion phases; returns (exit code, outcome, whether to hold the pose)."""
    try:
        with frozen_heap():
            if not link.refresh():
                raise UnsafeStartError(f"no feedback from the arm ({link.source})")
            check_arm_state(link.latest, safety)
            move_to_start(link, policy.start_pose, safety, speed_rad_s=options.start_speed_rad_s,
                          rate_hz=policy.control_hz, stop=stop, echo=echo)
            loop.run()
        return ExitCode.OK, f"completed (--duration {options.duration_s} s)", False
    except (StopRequested, KeyboardInterrupt) as e:
        return ExitCode.OK, f"stopped by the user ({e or 'Ctrl+C'})", True
    except UnsafeStartError as e:
        return ExitCode.ARM_REFUSED, f"refused to start: {e}", False
    except RealArmError as e:  # the watchdog, the policy output, a lost link, an arm reset, a start move timeout
        return ExitCode.FAULT, f"stopped on a fault: {type(e).__name__}: {e}", True
    except Exception as e:  # a bug: still hold the arm, and show where it happened
        return ExitCode.FAULT, f"stopped on an unexpected error: {e!r}\n{traceback.format_exc()}", True


def _summary(outcome: str, code: ExitCode, policy: Policy, command: np.ndarray, options: PlayOptions,
             safety: SafetyLayer, link: FeedbackTracker, stats: LoopStats, hold: str, since_feedback_ms: float | None,
             log: RunLog) -> dict[str, Any]:
    final_q = None if link.latest is None else list(link.latest.q_model)
    sent = [c for c in stats.commanded if c is not None]
    cfg = safety.config
    return {
        "outcome": outcome.splitlines()[0],
        "exit_code": int(code),
        "policy": policy.source,
        "task": policy.task,
        "dry_run": options.dry_run,
        "command": command.tolist(),
        "object_pos": None if options.object_pos is None else list(options.object_pos),
        "timing": loop_timing(stats, policy.control_hz),
        "clamps": dict(safety.counts),
        "feedback_mode": link.mode,
        "feedback_timeouts": link.feedback_timeouts,
        "frames_unused": link.frames_unused,
        "final_measured_q": final_q,
        "last_command": list(sent[-1]) if sent else None,
        "final_tcp_error_m": final_tcp_error_m(policy.task, final_q, command),
        "stopped_after_last_feedback_ms": since_feedback_ms,
        "hold": hold,
        "safety": {"limits": cfg.limits.name, "margin_rad": cfg.margin_rad, "max_step_rad": cfg.max_step_rad,
                   "max_lead_rad": cfg.max_lead_rad,
                   "workspace_lower_m": list(cfg.workspace.lower), "workspace_upper_m": list(cfg.workspace.upper),
                   "stale_periods": options.stale_periods},
        "log_dir": str(log.directory),
    }


def _plot(stats: LoopStats, log: RunLog, policy: Policy, warn: Callable[[str], None]) -> None:
    from roarm_lab.runner.plot import plot_joints

    try:
        plot_joints(stats, log.directory / PLOT_FILE, f"{policy.task}: {Path(policy.source).name}")
    except Exception as e:  # a plot must not hide the run's outcome
        warn(f"warning: could not write {PLOT_FILE}: {e!r}")
