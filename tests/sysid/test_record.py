"""sysid record against the kinematic firmware emulator over a pty: a valid dataset that fit accepts; refusals
before anything moves; Ctrl+C holds the arm and keeps what was recorded."""

from __future__ import annotations

import signal
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from emulated_arm import emulator, wait_until

from roarm_lab.cli.sysid import main as sysid_main
from roarm_lab.description import HARDWARE_SAFE
from roarm_lab.description.firmware_units import T102_FIELDS, model_to_firmware_rad
from roarm_lab.description.kinematic_chain import HOME_POSE
from roarm_lab.driver.session import HOLD_SPD
from roarm_lab.sysid.config import FitConfig
from roarm_lab.sysid.data import RecordingError, load_dataset
from roarm_lab.sysid.fit import fit
from roarm_lab.sysid.recording import RecordRefused, check_ready

MARGIN = 0.02  # the safety layer's default


@pytest.fixture
def emu():
    e = emulator(baud=0)
    yield e
    e.stop()
    assert e.crash is None


def t102s(emu) -> list[dict]:
    return [c for c in emu.snapshot().executed if c["T"] == 102]


def record_argv(emu, out, *extra: str) -> list[str]:
    return ["record", "--port", emu.port, "--out", str(out), "--settle", "0.1", "--boot-timeout", "5",
            "--feedback", "request", *extra]


@pytest.mark.slow
@pytest.mark.pty
def test_record_makes_a_dataset_that_fit_accepts(emu, tmp_path, capsys):
    out = tmp_path / "rec"
    assert sysid_main(record_argv(emu, out, "--duration_s", "4")) == 0
    assert "completed" in capsys.readouterr().out
    [episode] = load_dataset(out)  # checked: no gaps, no NaN, the robot type, enough motion
    assert 100 <= len(episode) <= 121
    lo, hi = np.array(HARDWARE_SAFE.lower) + MARGIN - 1e-5, np.array(HARDWARE_SAFE.upper) - MARGIN + 1e-5
    assert np.all((episode.target >= lo) & (episode.target <= hi))
    assert episode.loads is not None and np.all(np.diff(episode.t_cmd) > 0)
    assert np.all(episode.t_obs <= episode.t_cmd + 1e-4)  # each command follows the reading it used
    # the kinematic emulator's joints follow the commands
    assert np.abs(episode.q[-1] - episode.target[-5]).max() < 0.1
    # the commands on the wire are the recorded ones, with the recorded spd/acc (the emulator keeps the newest)
    last = t102s(emu)[-1]
    assert [last[f] for f in T102_FIELDS] == pytest.approx(model_to_firmware_rad(episode.target[-1]), abs=1e-4)
    assert (last["spd"], last["acc"]) == (int(episode.spd[-1]), int(episode.acc[-1]))
    profile, report = fit([out], FitConfig(max_iters=2, refit_iters=1), log=lambda _: None)
    assert report.episodes == [f"{out.name}/episode_0"] and profile.provenance["recordings"] == [str(out)]


@pytest.mark.slow
@pytest.mark.pty
def test_ctrl_c_holds_the_arm_and_keeps_the_recording(emu, tmp_path, capsys):
    out = tmp_path / "rec"
    before = signal.getsignal(signal.SIGINT)
    main_thread = threading.main_thread().ident

    def interrupt():
        if wait_until(lambda: len(t102s(emu)) >= 20):
            time.sleep(2.5)  # enough for an episode the fit accepts (2 s)
            signal.pthread_kill(main_thread, signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    assert sysid_main(record_argv(emu, out, "--duration_s", "60")) == 0
    text = capsys.readouterr().out
    assert "stopped" in text and "hold: sent" in text
    assert t102s(emu)[-1]["spd"] == HOLD_SPD  # the last command is the hold
    [episode] = load_dataset(out)
    assert 60 <= len(episode) < 60 * 30
    assert signal.getsignal(signal.SIGINT) is before


def _reading(q, dead=False):
    return SimpleNamespace(feedback=SimpleNamespace(q_model=tuple(q), is_dead_bus=dead))


class _Arm:
    def __init__(self, *readings):
        self.readings = list(readings)

    def fresh(self):
        return self.readings.pop(0)


def test_an_arm_that_keeps_moving_is_refused_one_that_comes_to_rest_is_not():
    creeping = [np.array(HOME_POSE) + [0, 0.02 * k, 0, 0, 0, 0] for k in range(20)]
    with pytest.raises(RecordRefused, match="not at rest"):
        check_ready(_Arm(*map(_reading, creeping)), sleep=lambda s: None)
    settling = creeping[:3] + [creeping[2]] * 2  # moves for two readings, then rests
    assert np.allclose(check_ready(_Arm(*map(_reading, settling)), sleep=lambda s: None).feedback.q_model,
                       creeping[2])


def test_a_pose_outside_the_limits_or_a_dead_bus_is_refused():
    outside = np.array(HOME_POSE)
    outside[1] = HARDWARE_SAFE.upper[1] + 0.2
    with pytest.raises(RecordRefused, match="outside HARDWARE_SAFE"):
        check_ready(_Arm(_reading(outside), _reading(outside)), sleep=lambda s: None)
    with pytest.raises(RecordRefused, match="servo bus"):
        check_ready(_Arm(_reading(HOME_POSE, dead=True)), sleep=lambda s: None)
    check_ready(_Arm(_reading(HOME_POSE), _reading(HOME_POSE)), sleep=lambda s: None)  # at rest: fine
    closed = np.array(HOME_POSE)
    closed[5] = -1e-6  # a closed gripper reads a hair below its limit: not a reason to refuse
    check_ready(_Arm(_reading(closed), _reading(closed)), sleep=lambda s: None)


def test_another_robots_dataset_is_refused(tmp_path):
    from roarm_lab.lerobot_io.episode_writer import EpisodeWriter
    from roarm_lab.sysid.data import sysid_features

    writer = EpisodeWriter(tmp_path / "so100", "local/x", 30, sysid_features(), robot_type="so100_follower")
    for k in range(90):
        q = np.array(HOME_POSE, np.float32) + 0.01 * k
        writer.add_frame({"observation.state": q, "action": q, "observation.load": np.zeros(6, np.float32),
                          "observation.time_s": np.array([k / 30], np.float32),
                          "action.time_s": np.array([k / 30], np.float32),
                          "action.servo_profile": np.zeros(2, np.float32)})
    writer.save_episode("x")
    with pytest.raises(RecordingError, match="robot type 'so100_follower'"):
        load_dataset(tmp_path / "so100")
