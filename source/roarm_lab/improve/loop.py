"""One command that improves a policy on one arm, round by round (docs/improve.md). A round k:

1. **deploy** the current policy through the runner (:func:`roarm_lab.runner.run.play`: safety layer, watchdog,
   hold, checked start move) on the loop's fixed episodes, each recorded into ``DIR/dataset``; the round's real
   metric comes from the arm's own feedback (the runner's summary);
2. **identify** a robot profile (:func:`roarm_lab.sysid.fit.fit`) from every recording so far, adding a short
   ``sysid record`` excitation when the deployments alone leave a drive parameter unidentifiable;
3. **fine-tune** the current checkpoint in MuJoCo on that profile's arm and export the candidate;
4. **gate** the candidate: its held-out MuJoCo success no more than ``max_success_drop`` below the current policy's
   and its safety clamps in dry runs on the arm within ``clamp_factor`` x the current policy's (+ an allowance);
5. the next round deploys the winner (the candidate, or the current policy kept, with the reason).

Each step is written to ``round_<k>/state.json`` as soon as it is done, so a round resumes after Ctrl+C or a crash
without deploying an episode twice. The loop sees the arm only through the port.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roarm_lab.deploy import PolicyPackage, PolicyPackageError
from roarm_lab.description.robot_profile import RobotProfile, RobotProfileError, load_profile, save_profile
from roarm_lab.driver.safety import SafetyConfig
from roarm_lab.driver.session import ArmLinkSettings
from roarm_lab.improve.layout import (
    METRICS_FILE,
    POLICY_FILE,
    PROFILE_FILE,
    STAGES,
    Layout,
    plot_rounds,
    read_json,
    write_json,
    write_rounds_csv,
)
from roarm_lab.improve.tasks import LoopTask, loop_task
from roarm_lab.runner.objects import CameraOptions
from roarm_lab.runner.run import DEFAULT_STALE_PERIODS, DEFAULT_START_SPEED_RAD_S, ExitCode, PlayOptions, play
from roarm_lab.sysid.config import DEFAULT_FIT, DEFAULT_RECORD, FitConfig

#: The drive parameters the fine-tune depends on most: unidentifiable from the deployments, they ask for an
#: excitation (friction and encoder offsets are not identifiable from joint readings anyway, docs/sysid.md).
DRIVE_PARAMS = tuple(f"{j}.{f}_scale" for j in ("base", "shoulder", "elbow", "wrist")
                     for f in ("stiffness", "damping")) + ("command_delay_s",)
USER_STOP = "stopped by the user"
TOUCH_FILE = "touch.json"


@dataclass(frozen=True)
class LoopOptions:
    task: str
    link: ArmLinkSettings
    workdir: Path
    rounds: int = 1  # 0: until Ctrl+C
    policy: Path | None = None  # the starting package (default: exported from ``checkpoint``)
    checkpoint: Path | None = None  # a run directory or model_*.pt: what the fine-tune continues
    episodes: int = 10
    episode_s: float | None = None  # default: the task's simulated episode length
    seed: int = 0  # the episodes' draw, the fine-tune and the held-out evaluation
    dry_run: bool = False
    finetune_iterations: int = 50
    num_envs: int = 256
    eval_episodes: int = 200
    max_success_drop: float = 0.02  # the gate: held-out success may fall by at most 2 points
    clamp_factor: float = 2.0  # the gate: dry-run clamps <= factor x the current policy's + clamp_allowance
    clamp_allowance: int = 10
    excitation_s: float = 20.0  # a sysid excitation when the deployments do not identify the drive; 0: never
    touch_points: int = 8  # the table touches that give the encoder offsets (once per loop); 0: never
    fit: FitConfig = DEFAULT_FIT
    threads: int = 2
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    start_speed_rad_s: float = DEFAULT_START_SPEED_RAD_S
    stale_periods: int = DEFAULT_STALE_PERIODS
    camera: CameraOptions | None = None  # the cube camera of object tasks (PickPlace)


class LoopStopped(Exception):
    """The loop ends here; ``code`` is the exit code, the message says why and what was kept."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


PlayFn = Callable[[PlayOptions], Any]


class ImprovementLoop:
    def __init__(self, options: LoopOptions, echo: Callable[[str], None] = print,
                 warn: Callable[[str], None] | None = None, play_fn: PlayFn | None = None):
        self.o = options
        self.echo = echo
        self.warn = warn or (lambda s: print(s, file=sys.stderr, flush=True))
        self.task: LoopTask = loop_task(options.task)
        if getattr(self.task, "needs_camera", False):
            if options.camera is None:
                raise ValueError(f"{options.task} sees the cube with a calibrated camera: give --camera SRC "
                                 "--camera-calib FILE (docs/camera.md)")
            if options.touch_points:
                raise ValueError(f"{options.task}: no table touches (--touch-points 0): the cube may stand where the "
                                 "probe touches")
        elif options.camera is not None:
            raise ValueError(f"{options.task} has no cube: drop --camera")
        self.layout = Layout(options.workdir)
        self.play_fn = play_fn or (lambda opts: play(opts, echo=self._runner_echo, warn=self.warn))
        self.episodes: list[dict[str, Any]] = []

    def _runner_echo(self, text: str) -> None:
        self.echo("    " + text.replace("\n", "\n    "))

    # ------------------------------------------------------------------------------------------------- set-up
    def _setup(self) -> None:
        """The loop file (settings, the start policy) and the episodes, made once; a resumed loop checks them."""
        o, lay = self.o, self.layout
        lay.root.mkdir(parents=True, exist_ok=True)
        loop = read_json(lay.loop_file)
        if loop is None:
            start = self._start_policy()
            loop = {"schema": "roarm-improve/1", "task": o.task, "seed": o.seed, "episodes": o.episodes,
                    "dry_run": o.dry_run, "start": start, "created": time.strftime("%Y-%m-%d %H:%M:%S")}
            self.episodes = self.task.draw_episodes(o.episodes, o.seed, o.safety.workspace)
            write_json(lay.episodes_file, self.episodes)
            write_json(lay.loop_file, loop)
        else:
            if loop["task"] != o.task:
                raise LoopStopped(2, f"{lay.root} is a loop of {loop['task']}, not {o.task}")
            if loop["dry_run"] != o.dry_run:
                raise LoopStopped(2, f"{lay.root} is a {'dry-run ' if loop['dry_run'] else ''}loop: "
                                     f"{'give' if loop['dry_run'] else 'drop'} --dry-run, or use a new --workdir")
            self.episodes = read_json(lay.episodes_file)
            self.echo(f"[improve] resuming the loop in {lay.root} ({len(self.episodes)} episodes; the start policy "
                      "and the episodes are the loop's own, given options for them are ignored)")
        self.start = loop["start"]

    def _start_policy(self) -> dict[str, Any]:
        o = self.o
        checkpoint = None
        if o.checkpoint is not None:
            from roarm_lab.deploy.checkpoint import resolve_checkpoint

            try:
                checkpoint = resolve_checkpoint(o.checkpoint)
            except FileNotFoundError as e:
                raise LoopStopped(2, str(e)) from e
        profile_path = None
        if checkpoint is not None:
            from roarm_lab.training.run import robot_profile_path

            if robot_profile_path(checkpoint.parent).is_file():
                self.layout.start.mkdir(parents=True, exist_ok=True)
                profile_path = self.layout.start / PROFILE_FILE
                shutil.copyfile(robot_profile_path(checkpoint.parent), profile_path)
        if o.policy is not None:
            policy = Path(o.policy)
        elif checkpoint is not None:
            from roarm_lab.improve.simulation import export_checkpoint

            policy = self.layout.start / POLICY_FILE
            profile = load_profile(profile_path) if profile_path else None
            self.echo(f"[improve] exporting the start policy from {checkpoint}")
            export_checkpoint(o.task, checkpoint, policy, profile)
        else:
            raise LoopStopped(2, "give the start policy: --policy START.onnx and/or --checkpoint RUN (the fine-tune "
                                 "needs a checkpoint)")
        try:
            PolicyPackage.load(policy, expect_task=o.task)
        except PolicyPackageError as e:
            raise LoopStopped(2, f"refusing the policy package: {e}") from e
        return {"policy": str(policy), "checkpoint": None if checkpoint is None else str(checkpoint),
                "profile": None if profile_path is None else str(profile_path)}

    # ------------------------------------------------------------------------------------------------- rounds
    def _round_state(self, k: int) -> dict[str, Any]:
        state = read_json(self.layout.state_file(k))
        if state is not None:
            return state
        if k == 0:
            current = dict(self.start)
        else:
            prev = read_json(self.layout.state_file(k - 1))
            gate = prev["stages"]["gate"]
            if gate.get("accepted"):
                current = {"policy": prev["stages"]["finetune"]["policy"],
                           "checkpoint": prev["stages"]["finetune"]["checkpoint"],
                           "profile": prev["stages"]["identify"].get("profile")}
            else:
                current = {k2: prev[k2] for k2 in ("policy", "checkpoint", "profile")}
        state = {"round": k, **current, "status": "running", "stages": {s: {"done": False} for s in STAGES},
                 "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        state["stages"]["deploy"]["episodes"] = {}
        write_json(self.layout.state_file(k), state)
        return state

    def _save(self, k: int, state: dict[str, Any]) -> None:
        write_json(self.layout.state_file(k), state)
        write_json(self.layout.round(k) / METRICS_FILE, self._metrics(state))
        rows = [self._row(read_json(self.layout.state_file(j))) for j in self.layout.rounds()]
        write_rounds_csv(self.layout, rows)
        try:
            plot_rounds(self.layout, rows, self.task.metric_name)
        except Exception as e:  # a plot must not stop the loop
            self.warn(f"warning: could not plot the rounds: {e!r}")

    def _first_unfinished(self) -> int:
        k = 0
        while (s := read_json(self.layout.state_file(k))) is not None and s["status"] == "done":
            k += 1
        return k

    def run(self) -> int:
        """Every outcome is an exit code: 0 rounds done or stopped by the user, 1 a fault (the arm held) or a
        failed stage, 2 bad input, 3 the arm refused to start."""
        try:
            self._setup()
            k = self._first_unfinished()
            done = 0
            while self.o.rounds == 0 or done < self.o.rounds:
                self._round(k)
                k, done = k + 1, done + 1
            self._final_deploy(k)
            self.echo(f"[improve] {done} round(s) done, the policy they left deployed and measured as round {k}; "
                      f"{self.layout.root / 'rounds.csv'}")
            return 0
        except LoopStopped as e:
            (self.echo if e.code == 0 else self.warn)(f"[improve] {e}")
            return e.code
        except KeyboardInterrupt:
            self.echo("[improve] stopped by the user (Ctrl+C) between runs on the arm: every recorded episode is "
                      "kept; run the same command to resume")
            return 0

    def _final_deploy(self, k: int) -> None:
        """Round ``k``'s deployment alone: the outcome of the rounds run, measured on the same episodes. The round
        stays unfinished (status ``deployed``): the next run of the loop resumes it at identify."""
        state = self._round_state(k)
        if state["stages"]["deploy"]["done"]:
            return
        self.echo(f"[improve] deploying the outcome as round {k}: {Path(state['policy']).name}")
        self._run_stages(k, state, ("deploy",))
        state["status"] = "deployed"
        self._save(k, state)

    def _round(self, k: int) -> None:
        state = self._round_state(k)
        self.echo(f"[improve] round {k}: deploying {Path(state['policy']).name} "
                  f"({'dry run, ' if self.o.dry_run else ''}{len(self.episodes)} episodes)")
        self._run_stages(k, state, STAGES)
        state["status"] = "done"
        state.pop("message", None)
        state["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        self._save(k, state)
        gate = state["stages"]["gate"]
        self.echo(f"[improve] round {k} done: {self.task.metric_name} {_fmt(state['stages']['deploy'].get('metric'))}"
                  f"; candidate {'accepted' if gate.get('accepted') else 'not accepted'}: {gate.get('reason')}")

    def _run_stages(self, k: int, state: dict[str, Any], names: tuple[str, ...]) -> None:
        """The round's ``names`` stages not done yet, in order, each saved when done (with its wall time); a stop
        or a failure is saved in the round's state and raised as :class:`LoopStopped`."""
        stages = state["stages"]
        try:
            for name in names:
                if not stages[name]["done"]:
                    started = time.monotonic()
                    getattr(self, f"_{name}")(k, state)
                    stages[name]["done"] = True
                    stages[name]["seconds"] = round(time.monotonic() - started, 1)
                    self._save(k, state)
        except LoopStopped as e:
            state["status"] = "stopped" if e.code == 0 else "failed"
            state["message"] = str(e)
            self._save(k, state)
            raise
        except KeyboardInterrupt:
            state["status"] = "stopped"
            state["message"] = USER_STOP
            self._save(k, state)
            raise
        except Exception as e:  # a bug or a failed library call: keep what the round has, say where
            state["status"], state["message"] = "failed", f"{e!r}"
            self._save(k, state)
            raise LoopStopped(1, f"round {k} failed: {e!r}; the round's data are kept in {self.layout.round(k)}\n"
                                 + traceback.format_exc()) from e

    # ------------------------------------------------------------------------------------------------- deploy
    def _play_options(self, policy: str, episode: dict[str, Any], log_dir: Path, record: bool,
                      dry_run: bool, session) -> PlayOptions:
        o = self.o
        return PlayOptions(policy=Path(policy), link=o.link, dry_run=dry_run, duration_s=self._episode_s(),
                           target=episode.get("target"), object_pos=episode.get("object_pos"), camera=o.camera,
                           log_dir=log_dir,
                           safety=o.safety, start_speed_rad_s=o.start_speed_rad_s, stale_periods=o.stale_periods,
                           plot=False, record_dir=self.layout.dataset(o.dry_run) if record else None,
                           session=session)

    def _open(self, what: str, settings: ArmLinkSettings | None = None):
        """An open session with the arm (``settings``: the loop's link); LoopStopped(3) when it cannot connect."""
        from roarm_lab.driver.errors import RealArmError
        from roarm_lab.driver.session import ArmSession

        arm = ArmSession(settings or self.o.link)
        try:
            arm.open()
        except RealArmError as e:
            raise LoopStopped(3, f"{what}: cannot connect to the arm: {e}; nothing was moved; the recorded episodes "
                                 f"are kept in {self.layout.root}; run the same command to resume") from e
        return arm

    @contextlib.contextmanager
    def _one_session(self, policy: str, what: str):
        """One session with the arm for a stage's runs, as the runner would open it for ``policy``: opening a USB
        port may reboot the arm and make it re-home (hardware §1.2), so the episodes share it."""
        from roarm_lab.runner.run import run_link_settings

        stale_limit_s = self.o.stale_periods / PolicyPackage.load(policy).control_hz
        with self._open(what, run_link_settings(self.o.link, stale_limit_s)) as arm:
            yield arm

    def _episode_s(self) -> float:
        if self.o.episode_s is not None:
            return self.o.episode_s
        from roarm_lab.tasks.registry import get_task

        return get_task(self.o.task).make_cfg().episode_length_s

    def _run_episode(self, policy: str, episode: dict[str, Any], log_dir: Path, record: bool,
                     dry_run: bool, what: str, session) -> dict[str, Any]:
        """One run on the arm over the stage's open ``session``; the runner's summary, or LoopStopped for a fault
        or a stop (the arm held)."""
        if log_dir.exists():  # an attempt that did not finish (a crash, Ctrl+C, a fault): keep it aside
            n = 1
            while log_dir.with_name(f"{log_dir.name}.attempt_{n}").exists():
                n += 1
            log_dir.rename(log_dir.with_name(f"{log_dir.name}.attempt_{n}"))
        result = self.play_fn(self._play_options(policy, episode, log_dir, record, dry_run, session))
        summary = result.summary or {}
        outcome = summary.get("outcome", "no summary")
        kept = f"the recorded episodes are kept in {self.layout.root}; run the same command to resume"
        if result.exit_code == ExitCode.OK and outcome.startswith(USER_STOP):
            raise LoopStopped(0, f"{what}: {outcome}; the arm holds its pose ({summary.get('hold')}); {kept}")
        if result.exit_code == ExitCode.FAULT:
            raise LoopStopped(1, f"{what}: the arm {outcome}; it was told to hold ({summary.get('hold')}); {kept} "
                                 "once the arm is fixed")
        if result.exit_code == ExitCode.ARM_REFUSED:
            raise LoopStopped(3, f"{what}: the arm refused the run ({outcome}); nothing was moved; {kept}")
        if result.exit_code != ExitCode.OK:
            raise LoopStopped(2, f"{what}: the runner refused its inputs (see above); nothing was moved")
        return summary

    def _offsets(self, policy: str):
        return PolicyPackage.load(policy).encoder_offsets

    def _deploy(self, k: int, state: dict[str, Any]) -> None:
        stage = state["stages"]["deploy"]
        done = stage["episodes"]
        offsets = self._offsets(state["policy"])
        todo = [i for i in range(len(self.episodes)) if str(i) not in done]
        with self._one_session(state["policy"], f"round {k} deploy") if todo else contextlib.nullcontext() as arm:
            for i in todo:
                self._deploy_episode(k, state, i, offsets, arm)
        metrics = [done[str(i)]["metric"] for i in range(len(self.episodes))]
        stage["metric"] = self.task.round_metric(metrics)
        stage["success_rate"] = sum(done[str(i)]["success"] for i in range(len(self.episodes))) / len(self.episodes)
        stage["clamps"] = sum(done[str(i)]["clamps"] for i in range(len(self.episodes)))
        self.echo(f"[improve] round {k} deployed: {self.task.metric_name} {_fmt(stage['metric'])}, real success "
                  f"{stage['success_rate']:.2f}, {stage['clamps']} safety clamps")

    def _deploy_episode(self, k: int, state: dict[str, Any], i: int, offsets, session) -> None:
        episode, log_dir = self.episodes[i], self.layout.episode_log(k, i)
        summary = read_json(log_dir / "summary.json")
        if not (summary and summary.get("exit_code") == 0 and not summary["outcome"].startswith(USER_STOP)):
            self.echo(f"[improve] round {k} episode {i + 1}/{len(self.episodes)}: target {episode['target']}")
            summary = self._run_episode(state["policy"], episode, log_dir, True, self.o.dry_run,
                                        f"round {k} deploy episode {i}", session)
        metric = self.task.episode_metric(episode, summary, offsets)
        state["stages"]["deploy"]["episodes"][str(i)] = {
            "metric": metric, "success": self.task.episode_success(metric),
            "clamps": sum(summary.get("clamps", {}).values()),
            "lerobot_episode": (summary.get("lerobot_dataset") or {}).get("episode"),
            "outcome": summary.get("outcome"), "log": str(log_dir)}
        self._save(k, state)

    # ----------------------------------------------------------------------------------------------- identify
    def _identify(self, k: int, state: dict[str, Any]) -> None:
        stage = state["stages"]["identify"]
        out = self.layout.round(k) / PROFILE_FILE
        if self.o.dry_run:  # the arm did not move: nothing to identify
            current = state.get("profile")
            if current:
                shutil.copyfile(current, out)
            stage.update(profile=str(out) if current else None, skipped="dry run: the arm did not move, the "
                         "current profile is kept" + ("" if current else " (the nominal description)"))
            self.echo(f"[improve] round {k} identify: {stage['skipped']}")
            return
        from roarm_lab.sysid.data import RecordingError
        from roarm_lab.sysid.fit import fit

        sysid_dir = self.layout.round(k) / "sysid"
        excitation = sysid_dir / "excitation"
        touch = self._touch(k, stage, sysid_dir)
        try:
            episodes, skipped = self._recordings()
        except RecordingError as e:
            episodes, skipped = [], [("all", str(e))]
        stage["skipped_episodes"] = [f"{n}: {why}" for n, why in skipped]
        need = None
        if not episodes:
            need = "no usable recording yet"
        report = None
        if need is None:
            self.echo(f"[improve] round {k} identify: fitting {len(episodes)} episode(s)")
            profile, report = self._fit(fit, episodes, k, sysid_dir)
            weak = [p for p in report.not_identifiable if p in DRIVE_PARAMS]
            if weak:
                need = "the deployments alone do not identify " + ", ".join(weak)
        if need is not None:
            if self.o.excitation_s <= 0 or excitation.exists():
                if report is None:
                    raise LoopStopped(1, f"round {k} identify: the fit failed: {need}"
                                         + (f" ({'; '.join(stage['skipped_episodes'])})" if skipped else "")
                                         + "; the round's data are kept; record longer episodes (--episode-s) or "
                                         "allow an excitation (--excitation-s), then rerun to resume")
                stage["note"] = need + " (no excitation: kept as fitted)"
            else:
                self.echo(f"[improve] round {k} identify: {need}: recording a {self.o.excitation_s:g} s excitation")
                stage["excitation"] = self._excite(excitation)
                episodes, _ = self._recordings()
                profile, report = self._fit(fit, episodes, k, sysid_dir)
        if touch is not None:
            from roarm_lab.sysid.touch import TouchFitError, fit_contact_offsets, profile_with_offsets

            try:
                offsets = fit_contact_offsets(touch["q_contacts"], profile)
            except TouchFitError as e:
                raise LoopStopped(1, f"round {k} identify: the touches do not give the encoder offsets: {e}; the "
                                     f"contacts are kept in {touch['file']}") from e
            profile = profile_with_offsets(profile, offsets, profile.name, {"touch_file": touch["file"]})
            stage["touch"] = {"file": touch["file"], "round": touch["round"], **offsets.as_dict()}
            self.echo(offsets.summary().replace("[sysid]", "[improve]"))
        try:
            save_profile(profile, out, force=True)
        except (RobotProfileError, OSError) as e:
            raise LoopStopped(1, f"round {k} identify: cannot write {out}: {e}") from e
        stage.update(profile=str(out), hash=profile.hash, report=report.provenance(), summary=report.summary())
        self.echo("[improve] " + report.summary().replace("\n", "\n[improve] "))
        # the deployment's metric again, with the offsets just identified: the round-0 deployment of a policy
        # without offsets reads its own error from the encoders, which are off by them
        done = state["stages"]["deploy"]["episodes"]
        remeasured = [self.task.episode_metric(episode, read_json(Path(done[str(i)]["log"]) / "summary.json") or {},
                                               profile.encoder_offsets) for i, episode in enumerate(self.episodes)]
        stage["deploy_metric_identified_offsets"] = self.task.round_metric(remeasured)

    def _touch(self, k: int, stage: dict[str, Any], sysid_dir: Path) -> dict[str, Any] | None:
        """The table touches of this loop (``sysid.py touch``'s probe), made once: the newest earlier round's, or
        made now into ``round_<k>/sysid/touch.json``. None when the loop does not touch."""
        if self.o.touch_points <= 0:
            stage["touch"] = {"skipped": "--touch-points 0: the encoder offsets stay those of the fitted profile"}
            return None
        for j in range(k, -1, -1):
            path = self.layout.round(j) / "sysid" / TOUCH_FILE
            if (made := read_json(path)) is not None:
                return {"file": str(path), "round": j, "q_contacts": made["q_contacts"]}
        from roarm_lab.driver.errors import RealArmError
        from roarm_lab.runner.stop_request import StopRequest
        from roarm_lab.sysid.touch import DEFAULT_POINTS, TouchRefused, probe

        self.echo(f"[improve] round {k} identify: touching the table at {self.o.touch_points} points for the "
                  "encoder offsets (once per loop)")
        with self._open(f"round {k} touch") as arm, StopRequest() as stop:
            try:
                result = probe(arm, DEFAULT_POINTS[:self.o.touch_points], stop=stop, echo=self.echo)
            except TouchRefused as e:
                raise LoopStopped(3, f"round {k} touch refused: {e}; nothing was moved") from e
            except RealArmError as e:
                raise LoopStopped(1, f"round {k} touch: {type(e).__name__}: {e}; nothing was moved") from e
        if result.outcome == "stopped":
            raise LoopStopped(0, f"round {k} touch stopped by the user; hold: {result.hold}; rerun to resume")
        if not result.ok:
            raise LoopStopped(1, f"round {k} touch: {result.outcome}; hold: {result.hold}; rerun to resume once "
                                 "the table under the points is clear")
        path = sysid_dir / TOUCH_FILE
        q_contacts = [list(c.q_measured) for c in result.contacts]
        write_json(path, {"q_contacts": q_contacts, "contacts": [c.as_dict() for c in result.contacts],
                          "clamps": result.clamps})
        return {"file": str(path), "round": k, "q_contacts": q_contacts}

    def _recordings(self):
        from roarm_lab.sysid.data import load_dataset

        skipped: list[tuple[str, str]] = []
        roots = [self.layout.dataset(False)] + sorted(self.layout.root.glob("round_*/sysid/excitation"))
        episodes = []
        for root in roots:
            if (root / "meta" / "info.json").is_file():
                try:
                    episodes += load_dataset(root, self.o.fit, skipped)
                except Exception as e:  # noqa: BLE001 - one unreadable dataset must not hide the others
                    skipped.append((str(root), str(e)))
        return episodes, skipped

    def _fit(self, fit, episodes, k: int, sysid_dir: Path):
        from roarm_lab.sysid.data import RecordingError

        try:
            return fit(episodes, self.o.fit, name=f"{self.layout.root.name}-round{k}", report_dir=sysid_dir / "report",
                       log=self.echo)
        except RecordingError as e:
            raise LoopStopped(1, f"round {k} identify: the fit refused the recordings: {e}; the round's data are "
                                 "kept; rerun to resume") from e

    def _excite(self, out: Path) -> dict[str, Any]:
        """A short ``sysid record`` on the arm into ``out``; LoopStopped on a fault (the arm held)."""
        from roarm_lab.driver.errors import RealArmError
        from roarm_lab.lerobot_io.episode_writer import EpisodeWriter
        from roarm_lab.runner.stop_request import StopRequest
        from roarm_lab.sysid.data import SYSID_REPO_ID, sysid_features
        from roarm_lab.sysid.recording import record

        config = dataclasses.replace(DEFAULT_RECORD, duration_s=self.o.excitation_s)
        writer = EpisodeWriter(out, SYSID_REPO_ID, int(config.rate_hz), sysid_features())
        with self._open("excitation") as arm, StopRequest() as stop:
            try:
                result = record(arm, writer, config, stop=stop, echo=self.echo)
            except RealArmError as e:
                raise LoopStopped(3, f"excitation refused: {e}; nothing was moved") from e
        if not result.ok:
            raise LoopStopped(1, f"excitation: {result.outcome}; hold: {result.hold}; what was recorded is kept")
        if result.outcome == "stopped":
            raise LoopStopped(0, f"excitation stopped by the user; hold: {result.hold}; rerun to resume")
        return result.as_dict()

    # ----------------------------------------------------------------------------------------------- fine-tune
    def _profile(self, state: dict[str, Any]) -> RobotProfile | None:
        path = state["stages"]["identify"].get("profile")
        return load_profile(path) if path else None

    def _finetune(self, k: int, state: dict[str, Any]) -> None:
        stage = state["stages"]["finetune"]
        if not state.get("checkpoint"):
            stage["skipped"] = "no checkpoint to fine-tune (started from --policy alone: give --checkpoint RUN)"
            self.echo(f"[improve] round {k} fine-tune skipped: {stage['skipped']}")
            return
        from roarm_lab.improve.simulation import finetune

        o = self.o
        run_dir = self.layout.round(k) / "checkpoint"
        if run_dir.exists():  # an unfinished fine-tune starts over
            shutil.rmtree(run_dir)
        result = finetune(o.task, Path(state["checkpoint"]), self._profile(state), run_dir,
                          self.layout.round(k) / POLICY_FILE, o.finetune_iterations, o.num_envs, o.seed + k,
                          o.threads, log=self.echo)
        stage.update(result.as_dict())

    # ---------------------------------------------------------------------------------------------------- gate
    def _gate(self, k: int, state: dict[str, Any]) -> None:
        stage = state["stages"]["gate"]
        finetuned = state["stages"]["finetune"]
        if finetuned.get("skipped"):
            stage.update(accepted=False, reason=f"no candidate: {finetuned['skipped']}")
            return
        from roarm_lab.improve.simulation import sim_success

        o, profile = self.o, self._profile(state)
        self.echo(f"[improve] round {k} gate: held-out MuJoCo success on {o.eval_episodes} episodes")
        current = sim_success(o.task, Path(state["policy"]), profile, o.eval_episodes, o.seed, o.threads)
        candidate = sim_success(o.task, Path(finetuned["policy"]), profile, o.eval_episodes, o.seed, o.threads)
        stage.update(current_sim_success=current["success_rate"], candidate_sim_success=candidate["success_rate"],
                     current_sim=current, candidate_sim=candidate)
        self._save(k, state)
        # A dry run leaves the arm where it is, so the policy's targets run ahead of it and the safety layer clamps
        # far more than on a moving arm: the candidate's dry-run clamps are compared with the current policy's in
        # the same dry runs, not with the deployment's.
        self.echo(f"[improve] round {k} gate: dry runs of the current policy and the candidate on the arm")
        if "current_clamps" not in stage:
            stage["current_clamps"] = self._dry_run_clamps(k, state["policy"], "current")
            self._save(k, state)
        clamps = self._dry_run_clamps(k, finetuned["policy"], "candidate")
        reference = stage["current_clamps"]
        allowed = o.clamp_factor * reference + o.clamp_allowance
        stage.update(candidate_clamps=clamps, deployed_clamps=state["stages"]["deploy"]["clamps"],
                     allowed_clamps=allowed)
        reasons = []
        drop = current["success_rate"] - candidate["success_rate"]
        if drop > o.max_success_drop:
            reasons.append(f"held-out success {candidate['success_rate']:.3f} is {drop * 100:.1f} points below the "
                           f"current policy's {current['success_rate']:.3f} (at most {o.max_success_drop * 100:g})")
        if clamps > allowed:
            reasons.append(f"{clamps} safety clamps in the dry runs, over {o.clamp_factor:g} x the current policy's "
                           f"{reference} + {o.clamp_allowance}")
        accepted = not reasons
        stage.update(accepted=accepted, reason="; ".join(reasons) if reasons else (
            f"held-out success {candidate['success_rate']:.3f} vs {current['success_rate']:.3f}, {clamps} dry-run "
            f"clamps (allowed {allowed:g}): deployed next round"))
        if not accepted:
            self.warn(f"[improve] round {k} gate: the candidate is not deployed, the current policy stays: "
                      f"{stage['reason']}")

    def _dry_run_clamps(self, k: int, policy: str, which: str) -> int:
        clamps = 0
        with self._one_session(policy, f"round {k} gate") as arm:
            for i, episode in enumerate(self.episodes):
                summary = self._run_episode(policy, episode, self.layout.gate_log(k, i, which), False, True,
                                            f"round {k} gate dry run {i} of the {which} policy", arm)
                clamps += sum(summary.get("clamps", {}).values())
        return clamps

    # ------------------------------------------------------------------------------------------------- metrics
    def _metrics(self, state: dict[str, Any]) -> dict[str, Any]:
        s = state["stages"]
        return {"round": state["round"], "status": state["status"], "message": state.get("message"),
                "task": self.o.task, "dry_run": self.o.dry_run,
                "deployed": {"policy": state["policy"], "checkpoint": state.get("checkpoint"),
                             "profile": state.get("profile")},
                "metric_name": self.task.metric_name, "metric": s["deploy"].get("metric"),
                "real_success_rate": s["deploy"].get("success_rate"), "clamps": s["deploy"].get("clamps"),
                "episodes": s["deploy"].get("episodes"), "identify": {k: v for k, v in s["identify"].items()},
                "finetune": s["finetune"], "gate": {k: v for k, v in s["gate"].items()
                                                    if k not in ("current_sim", "candidate_sim")}}

    def _row(self, state: dict[str, Any]) -> dict[str, Any]:
        s = state["stages"]
        report = s["identify"].get("report") or {}
        rmse = report.get("heldout_rmse_rad") or {}
        return {"round": state["round"], "policy": state["policy"], "dry_run": self.o.dry_run,
                "episodes": len(s["deploy"].get("episodes", {})), "metric_name": self.task.metric_name,
                "metric": s["deploy"].get("metric"), "real_success_rate": s["deploy"].get("success_rate"),
                "metric_identified_offsets": s["identify"].get("deploy_metric_identified_offsets"),
                "clamps": s["deploy"].get("clamps"), "fit_rmse_nominal_rad": rmse.get("nominal"),
                "fit_rmse_fitted_rad": rmse.get("fitted"),
                "current_sim_success": s["gate"].get("current_sim_success"),
                "candidate_sim_success": s["gate"].get("candidate_sim_success"),
                "candidate_clamps": s["gate"].get("candidate_clamps"), "accepted": s["gate"].get("accepted"),
                **{f"{name}_s": s[name].get("seconds") for name in STAGES},
                "reason": s["gate"].get("reason") or state.get("message")}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
