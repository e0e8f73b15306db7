"""The closed loop on the real arm: feedback -> observation -> policy -> safety layer -> `T:102`, at the policy's
control rate on the monotonic clock. The one control loop of the project: ONNX packages and LeRobot checkpoints
alike (:mod:`.policy`).

Each step uses the newest reading no earlier step has used (:class:`FeedbackTracker` over the
:class:`ArmSession`). With stream feedback that is the newest frame of the InfoPrint=2 stream (~50 frames/s at
115200 baud), waiting for the next one when none has come since the last step; the `T:102` is then written without
waiting for anything. With request feedback it is the `T:1051` that came back with the previous command, about one
control period old; training randomizes 0-2 periods of action latency. There the `T:105` goes out just before the
`T:102`, in one write: the reading is taken before the servos respond to the command in either order, and this way
the ~230-byte reply travels while the ~130-byte command still arrives (115200 baud, hardware §1.1), a ~22 ms round
trip instead of ~34 ms, which is what lets 30 Hz (33 ms) fit on the wire. Each step logs the age of its feedback
and the reading's number. The firmware reports no joint velocities (hardware §2.7), so they are the difference of the
last two readings over the time between them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from roarm_lab.driver.errors import RealArmError
from roarm_lab.driver.protocol.commands import MoveJoints
from roarm_lab.driver.safety import SafetyLayer
from roarm_lab.runner.errors import PolicyOutputError
from roarm_lab.runner.feedback_tracker import FeedbackTracker
from roarm_lab.runner.objects import CameraObject, CubeLostError, FixedObject, ObjectPose
from roarm_lab.runner.policy import ArmObservation, Policy
from roarm_lab.runner.run_log import RunLog, StepRecord
from roarm_lab.runner.scheduler import RateScheduler
from roarm_lab.runner.stop_request import StopRequest
from roarm_lab.tasks.timing import CONTROL_HZ

#: Float rounding of tick times: --duration 2 at 30 Hz is 60 steps, not 61.
_CLOCK_SLACK_S = 1e-3


@dataclass(frozen=True)
class LoopConfig:
    rate_hz: float | None = CONTROL_HZ  # None: as fast as the link allows (the benchmark)
    duration_s: float | None = None  # None: until stopped
    max_nonfinite_steps: int = 5  # consecutive non-finite policy targets (each one a hold) that stop the run
    #: `T:102` servo speed and acceleration: 0 = maximum, as the simulated servo; the safety layer's step bound
    #: limits the speed instead.
    spd: int = 0
    acc: int = 0


@dataclass
class LoopStats:
    """Per step, in memory, for the summary and the plot (``None`` where a step sent nothing)."""

    t: list[float] = field(default_factory=list)  # step start, s since the loop started
    round_trip_s: list[float | None] = field(default_factory=list)
    feedback_age_s: list[float | None] = field(default_factory=list)  # of the reading the step used
    feedback_seq: list[int | None] = field(default_factory=list)  # that reading's number: equal = reused
    measured: list[tuple[float, ...] | None] = field(default_factory=list)
    commanded: list[tuple[float, ...] | None] = field(default_factory=list)
    skipped_ticks: int = 0

    @property
    def steps(self) -> int:
        return len(self.t)


class ControlLoop:
    """Run a :class:`Policy` on the arm until ``duration_s`` ends (returns) or something stops it (raises:
    StopRequested, StaleFeedbackError, PolicyOutputError, a transport error)."""

    def __init__(self, link: FeedbackTracker, policy: Policy, command: Sequence[float], safety: SafetyLayer,
                 config: LoopConfig = LoopConfig(), *, log: RunLog | None = None, stop: StopRequest | None = None,
                 objects: FixedObject | CameraObject | None = None, clock: Callable[[], float] = time.monotonic):
        """``objects``: where the cube is for object tasks (:mod:`.objects`)."""
        self.link, self.policy, self.safety, self.config = link, policy, safety, config
        self.command = np.asarray(command, dtype=np.float64)
        self.log, self.stop = log, stop or StopRequest()
        self.objects = objects
        self._clock = clock
        self._nonfinite_streak = 0
        self.stats = LoopStats()

    def run(self) -> LoopStats:
        """Needs a first reading in the link (``link.refresh()``): the safety layer starts from that pose."""
        self.safety.reset(self.link.latest.q_model)
        self.policy.reset()
        scheduler = RateScheduler(self.config.rate_hz, self._clock)
        start = None
        while True:
            now = scheduler.next_tick()
            self.stats.skipped_ticks = scheduler.skipped
            start = now if start is None else start
            self.stop.raise_if_requested()
            if self.config.duration_s is not None and now - start >= self.config.duration_s - _CLOCK_SLACK_S:
                return self.stats
            self.link.check_watchdog(now)
            self._step(now - start)

    def _step(self, t: float) -> None:
        k, link = self.stats.steps, self.link
        try:
            got_feedback = link.refresh()
        except RealArmError:  # lost, or the arm rebooted: nothing was sent this step
            self._record(StepRecord(k, t, "link_failed", (self._clock() - link.latest_t) * 1000))
            raise
        if not got_feedback:
            self._record(StepRecord(k, t, "no_feedback", (self._clock() - link.latest_t) * 1000))
            return
        q = np.asarray(link.latest.q_model)
        vel = link.joint_velocity.copy()
        age_ms = (self._clock() - link.latest_t) * 1000
        obj: ObjectPose | None = None
        if self.objects is not None:
            try:
                obj = self.objects.pose(self._clock(), q)
            except CubeLostError:  # nothing computed or sent on a stale pose: the run holds and stops
                self._record(StepRecord(k, t, "cube_lost", age_ms, q.tolist(), feedback_seq=link.feedback_seq))
                raise
        step = self.policy.step(ArmObservation(q, vel, self.command, None if obj is None else obj.position,
                                               None if obj is None else obj.quat_wxyz))
        proposed = np.asarray(step.targets, dtype=np.float64)
        safe = self.safety.apply(proposed, q)
        record = StepRecord(k, t, "dry_run" if link.dry_run else "commanded", age_ms, q.tolist(), vel.tolist(),
                            step.observation, step.action, proposed.tolist(), list(safe.target), list(safe.clamps),
                            feedback_seq=link.feedback_seq)
        if obj is not None:
            record.object = [*obj.position.tolist(), obj.yaw]
            record.object_age_ms = obj.age_s * 1000
            record.camera_frame = obj.frame_seq
            record.object_source = obj.source
        self._nonfinite_streak = self._nonfinite_streak + 1 if safe.is_hold else 0
        if self._nonfinite_streak >= self.config.max_nonfinite_steps:
            record.status, record.command = "policy_failed", None
            self._record(record)
            raise PolicyOutputError(f"the policy gave non-finite joint targets {self._nonfinite_streak} steps in a "
                                    "row (each earlier one repeated the previous command)")
        try:
            round_trip = link.command(MoveJoints(safe.target, spd=self.config.spd, acc=self.config.acc))
        except BaseException:
            record.status = "link_failed"  # the command may or may not have reached the arm
            self._record(record)
            raise
        record.round_trip_ms = None if round_trip is None else round_trip * 1000
        self._record(record)

    def _record(self, record: StepRecord) -> None:
        stats = self.stats
        stats.t.append(record.t)
        stats.round_trip_s.append(None if record.round_trip_ms is None else record.round_trip_ms / 1000)
        stats.feedback_age_s.append(None if record.q is None else record.feedback_age_ms / 1000)
        stats.feedback_seq.append(record.feedback_seq)
        stats.measured.append(None if record.q is None else tuple(record.q))
        stats.commanded.append(None if record.command is None else tuple(record.command))
        if self.log is not None:
            self.log.write_step(record)
