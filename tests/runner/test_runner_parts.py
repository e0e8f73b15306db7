"""The policy runner's pure parts on hand-built inputs with known answers: the watchdog, the scheduler, the heap
freeze, the start-pose checks and path, the summary timing, the default Reach target."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest

from roarm_lab import kinematics
from roarm_lab.description import HARDWARE_SAFE, HOME_POSE
from roarm_lab.description.firmware_units import DEAD_BUS_FIRMWARE_RAD, model_to_firmware_rad
from roarm_lab.driver import Feedback, SafetyLayer
from roarm_lab.runner.control_loop import LoopStats
from roarm_lab.runner.errors import StaleFeedbackError, UnsafeStartError
from roarm_lab.runner.gc_freeze import frozen_heap
from roarm_lab.runner.run import DEFAULT_REACH_TARGET
from roarm_lab.runner.scheduler import RateScheduler
from roarm_lab.runner.start_pose import check_arm_state, check_start_path, plan_start_path
from roarm_lab.runner.summary import loop_timing
from roarm_lab.runner.watchdog import FeedbackWatchdog
from roarm_lab.tasks.reach import ReachCfg

HOME = np.array(HOME_POSE[:5] + (0.75,))  # firmware home, gripper half open: the policies' start pose
#: hardware §3.3: at (0, 0, pi/2, 0, 0) the TCP is at (343.7, 0, 343.7) mm in `world`.
HOME_TCP = (0.3437, 0.0, 0.3437)

def test_watchdog_fires_after_its_limit():
    w = FeedbackWatchdog(0.1, stale_periods=3)
    w.check(5.0)  # nothing fed yet: the caller feeds the first reading before the loop
    w.feed(10.0)
    w.check(10.1)
    with pytest.raises(StaleFeedbackError, match=r"no fresh feedback for 150 ms \(limit 3 control periods = 100 ms"):
        w.check(10.15)
    w.feed(10.15)
    w.check(10.2)


def test_the_motion_loops_run_with_the_heap_frozen():
    before = gc.get_freeze_count()
    with pytest.raises(RuntimeError), frozen_heap():
        assert gc.get_freeze_count() > before  # a full collection would skip these objects
        raise RuntimeError("a fault")
    assert gc.get_freeze_count() == 0  # unfrozen on the way out, fault or not


class FakeClock:
    def __init__(self) -> None:
        self.now, self.sleeps = 100.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


def test_scheduler_sleeps_to_the_grid_and_skips_missed_ticks():
    clock = FakeClock()
    sched = RateScheduler(10.0, clock, clock.sleep)
    assert sched.next_tick() == 100.0
    clock.now += 0.03  # a 30 ms step
    assert sched.next_tick() == pytest.approx(100.1) and clock.sleeps == [pytest.approx(0.07)]
    clock.now += 0.25  # this step overran: due 100.2 and 100.3 have passed
    assert sched.next_tick() == pytest.approx(100.35) and len(clock.sleeps) == 1  # at once, late, for 100.3
    assert sched.skipped == 1  # 100.2 is skipped, not run in a burst
    clock.now += 0.01
    assert sched.next_tick() == pytest.approx(100.4)  # back on the grid
    free = RateScheduler(None, clock, clock.sleep)
    n = len(clock.sleeps)
    free.next_tick()
    free.next_tick()
    assert len(clock.sleeps) == n


def feedback(q_model) -> Feedback:
    return Feedback(tcp_mm=(0.0, 0.0, 0.0), tool_pitch=0.0, firmware_rad=tuple(model_to_firmware_rad(q_model)),
                    loads=(0.0,) * 6)


def test_arm_state_check_refuses_a_dead_bus_and_joints_far_outside():
    s = SafetyLayer()
    check_arm_state(feedback(HOME_POSE), s)  # the boot pose: gripper closed, at its limit
    slightly = np.array(HOME_POSE)
    slightly[5] = -0.05
    check_arm_state(feedback(slightly), s)
    dead = Feedback(tcp_mm=(0.0, 0.0, 0.0), tool_pitch=0.0, firmware_rad=DEAD_BUS_FIRMWARE_RAD, loads=(0.0,) * 6)
    with pytest.raises(UnsafeStartError, match="servo bus is not answering"):
        check_arm_state(dead, s)
    far = np.array(HOME_POSE)
    far[1] = 1.3  # shoulder, limit 1.1
    with pytest.raises(UnsafeStartError, match=r"far outside hardware_safe: shoulder \+1.300"):
        check_arm_state(feedback(far), s)


def test_start_path_is_a_straight_line_at_the_given_speed():
    start = np.array(HOME_POSE)  # gripper closed
    path = plan_start_path(start, HOME, speed_rad_s=0.5, rate_hz=30.0)
    assert len(path) == math.ceil(0.75 / (0.5 / 30))
    assert path[-1] == pytest.approx(HOME)
    steps = np.abs(np.diff(np.vstack([start, path]), axis=0))
    assert steps.max() <= 0.5 / 30 + 1e-12 and steps[:, :5].max() == 0.0
    check_start_path(path, start, SafetyLayer())


def test_start_path_refuses_to_leave_the_workspace_or_the_limits():
    low = np.array([0.0, 1.0, 2.5, 0.0, 0.0, 0.75])  # TCP below the table
    assert kinematics.tcp_position(low)[2] < 0.03
    with pytest.raises(UnsafeStartError, match="the arm's current pose"):
        check_start_path(plan_start_path(low, HOME, 0.5, 30.0), low, SafetyLayer())
    outside_goal = HOME.copy()
    outside_goal[1] = 1.2
    with pytest.raises(UnsafeStartError, match="outside the limits"):
        check_start_path(plan_start_path(HOME, outside_goal, 0.5, 30.0), HOME, SafetyLayer())


def test_loop_timing_from_step_start_times():
    stats = LoopStats(t=[0.0, 0.033, 0.070, 0.100], round_trip_s=[0.020, None, 0.024, 0.022], skipped_ticks=1)
    timing = loop_timing(stats, rate_hz=30.0)
    assert timing["steps"] == 4 and timing["rate_hz"] == pytest.approx(30.0)
    jitter = sorted(abs(d - 1 / 30) * 1000 for d in (0.033, 0.037, 0.030))
    assert timing["jitter_ms"]["p50"] == pytest.approx(jitter[1]) and timing["jitter_ms"]["max"] == pytest.approx(
        jitter[2])
    assert timing["round_trip_ms"]["p50"] == pytest.approx(22.0) and timing["skipped_ticks"] == 1


def test_default_reach_target_is_reachable_and_inside_the_training_targets():
    cfg = ReachCfg()
    ik = kinematics.inverse_kinematics(np.array(DEFAULT_REACH_TARGET), q_ref=HOME[:5])
    assert bool(ik.converged) and ik.position_error < 1e-6
    q = np.asarray(ik.q)
    assert np.all(q >= cfg.target_joint_low) and np.all(q <= cfg.target_joint_high)
    assert DEFAULT_REACH_TARGET[2] >= cfg.target_min_height
    assert HARDWARE_SAFE.contains(list(q) + [0.75])
