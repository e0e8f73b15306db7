"""``sysid.py fit``: identify the drive parameters from recordings with :mod:`mujoco.sysid` and write a robot
profile.

1. Each episode is split in time: the first ``1 - holdout_fraction`` is fitted, the rest only validates.
2. The recorded commands are replayed through the MuJoCo arm (:mod:`.replay`); mujoco.sysid's "mujoco" least
   squares fits per joint the stiffness, damping, armature and friction (as scales of the nominal), the encoder
   offset and one command delay to the measured joints. When every episode has the servo loads, they are fitted
   too (a load residual), with the links' mass scales, a payload at the TCP and the shoulder's load bias.
3. :func:`mujoco.sysid.calculate_intervals` gives each parameter's 95 % interval at the optimum; std = half-width /
   1.96. A parameter whose std is above the thresholds of :class:`~.config.FitConfig` is *not identifiable* from
   these data: it is put back to nominal with a wide std, and the rest are refitted with it frozen there.
4. Validation: the joint-replay RMSE on the held-out part, nominal model vs fitted (and the loads' RMSE, with
   loads).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mujoco import sysid

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.description.robot_profile import RobotProfile
from roarm_lab.description.servo import GRIPPER_BOOT_TORQUE_PERMILLE
from roarm_lab.sysid.config import DEFAULT_FIT, FitConfig
from roarm_lab.sysid.data import Episode, RecordingError, load_dataset
from roarm_lab.sysid.replay import Prepared, ReplayModel, param_kind, param_name

Z95 = 1.959964


@dataclass
class FitReport:
    recordings: list[str]
    episodes: list[str]
    fitted_s: float  # seconds of recording fitted (all episodes)
    held_out_s: float
    rmse_nominal_rad: float  # held-out joint-replay RMSE, all joints
    rmse_fitted_rad: float
    rmse_nominal_per_joint: dict[str, float]
    rmse_fitted_per_joint: dict[str, float]
    identifiable: list[str]
    not_identifiable: list[str]
    loose: list[str]  # identified on the stage-1 screen, but with a std above the threshold on all the data
    values: dict[str, float]  # parameter units (scales, rad, s)
    stds: dict[str, float]
    fit_time_s: float
    iterations: int
    timestep_s: float
    loads_used: bool = False
    load_rmse_nominal_permille: dict[str, float] | None = None  # held out, per joint (with loads)
    load_rmse_fitted_permille: dict[str, float] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def provenance(self) -> dict[str, Any]:
        return {
            "tool": "roarm-lab sysid.py fit (mujoco.sysid)",
            "recordings": self.recordings,
            "episodes": self.episodes,
            "fitted_s": round(self.fitted_s, 3),
            "held_out_s": round(self.held_out_s, 3),
            "heldout_rmse_rad": {"nominal": self.rmse_nominal_rad, "fitted": self.rmse_fitted_rad,
                                 "nominal_per_joint": self.rmse_nominal_per_joint,
                                 "fitted_per_joint": self.rmse_fitted_per_joint},
            "identifiable": self.identifiable,
            "not_identifiable_kept_nominal": self.not_identifiable,
            "fitted_but_loose": self.loose,
            "fit_time_s": round(self.fit_time_s, 1),
            "timestep_s": self.timestep_s,
            "loads_used": self.loads_used,
            **({"heldout_load_rmse_permille": {"nominal": self.load_rmse_nominal_permille,
                                               "fitted": self.load_rmse_fitted_permille},
                "load_bias_permille": {n: self.values[n] for n in self.values if param_kind(n) == "bias"}}
               if self.loads_used else {}),
        }

    def summary(self) -> str:
        lines = [f"fitted {self.fitted_s:.1f} s, validated on {self.held_out_s:.1f} s held out, in "
                 f"{self.fit_time_s:.1f} s ({self.iterations} iterations)",
                 f"held-out joint RMSE: nominal {self.rmse_nominal_rad * 1000:.2f} mrad -> fitted "
                 f"{self.rmse_fitted_rad * 1000:.2f} mrad",
                 *(["held-out load RMSE, permille: " + ", ".join(
                     f"{j} {self.load_rmse_nominal_permille[j]:.0f} -> {self.load_rmse_fitted_permille[j]:.0f}"
                     for j in JOINT_NAMES)] if self.loads_used else ["loads: not recorded, joints only"]),
                 "identified: " + (", ".join(self.identifiable) or "none"),
                 "not identifiable (kept nominal, wide std): " + (", ".join(self.not_identifiable) or "none")]
        if self.loose:
            lines.append("fitted, but loose (std above the threshold): " + ", ".join(self.loose))
        return "\n".join(lines)


def load_recordings(paths: Sequence[str | Path], config: FitConfig = DEFAULT_FIT) -> list[Episode]:
    episodes = []
    for path in paths:
        episodes += load_dataset(path, config)
    return episodes


def _threshold(name: str, value: float, config: FitConfig) -> float:
    """The largest std at which a parameter counts as identified."""
    return {"delay": config.max_delay_std_s, "offset": config.max_offset_std_rad,
            "payload": config.max_payload_std_kg, "bias": config.max_load_bias_std_permille,
            "scale": config.max_scale_std * max(abs(value), 1e-3)}[param_kind(name)]


def unloaded_joints(episodes: Sequence[Episode], config: FitConfig = DEFAULT_FIT) -> list[str]:
    """Joints whose servo never holds a steady load below its torque limit, so no static error shows its stiffness
    (``FitConfig.min_static_load_permille``, ``saturated_load_fraction``; the gripper's limit is its boot 300)."""
    loads = np.median(np.concatenate([np.abs(e.loads) for e in episodes]), axis=0)
    limits = [1000.0] * (len(JOINT_NAMES) - 1) + [float(GRIPPER_BOOT_TORQUE_PERMILLE)]
    return [j for j, m, limit in zip(JOINT_NAMES, loads, limits, strict=True)
            if m < config.min_static_load_permille or m > config.saturated_load_fraction * limit]


def _identifiable(name: str, value: float, std: float, config: FitConfig) -> bool:
    return bool(np.isfinite(std)) and std <= _threshold(name, value, config)


def _wide_std(name: str, config: FitConfig) -> float:
    return {"delay": config.wide_delay_std_s, "offset": config.wide_offset_std_rad,
            "payload": config.wide_payload_std_kg, "bias": config.wide_load_bias_std_permille,
            "scale": config.wide_scale_std}[param_kind(name)]


def _optimize(params: sysid.ParameterDict, residual_fn, model: ReplayModel, max_iters: int):
    return sysid.optimize(initial_params=params, residual_fn=residual_fn, optimizer="mujoco", verbose=False,
                          max_iters=max_iters, x_scale=model.x_scale(params), eps=model.config.fd_eps)


def _screen(params: sysid.ParameterDict, residual_fn, result, config: FitConfig,
            x_scale: np.ndarray) -> tuple[dict[str, float], list[str]]:
    """Stds from :func:`mujoco.sysid.calculate_intervals` at the optimum, and the parameters the data do not
    identify, by backward elimination: while some std is over its threshold (or infinite), drop the worst parameter
    (an infinite one with the smallest scaled Jacobian column first) and recompute the intervals of the rest. One
    unidentifiable direction would otherwise make the intervals of every parameter it leaks into infinite."""
    residuals, _, _ = residual_fn(result.x, params)
    names = [p.name for p in params.values() if not p.frozen]
    values = {n: float(params[n].value[0]) for n in names}
    jac = np.asarray(result.jac)
    column = np.linalg.norm(jac, axis=0) * x_scale
    keep, weak, stds = list(range(len(names))), [], {}
    while keep:
        _, intervals = sysid.calculate_intervals(residuals, jac[:, keep])
        stds = {names[k]: float(w) / Z95 for k, w in zip(keep, intervals, strict=True)}

        def badness(k: int, stds: dict[str, float] = stds) -> float:
            n = names[k]
            std = stds[n]
            if not np.isfinite(std):
                return 1e30 / (1e-300 + column[k])
            return std / _threshold(n, values[n], config)

        worst = max(keep, key=badness)
        if badness(worst) <= 1.0:
            break
        weak.append(names[worst])
        keep.remove(worst)
    return stds, weak


def _rmse(model: ReplayModel, prepared: Sequence[Prepared], params: sysid.ParameterDict,
          from_s: Sequence[float]) -> tuple[np.ndarray, np.ndarray | None, list[tuple[np.ndarray, np.ndarray,
                                                                                      np.ndarray]]]:
    """Per-joint RMSE over the readings after ``from_s`` of each episode (joints, rad; loads, permille, None
    without); and (times, measured, simulated) joints of each."""
    n = len(JOINT_NAMES)
    squares, load_squares, count, traces = np.zeros(n), np.zeros(n), 0, []
    for p, start in zip(prepared, from_s, strict=True):
        sim, loads = model.simulate_all(p, params)
        t = p.measured.times
        measured = p.measured.data[:, :n]
        keep = t - t[0] >= start
        squares += np.sum((measured[keep] - sim[keep]) ** 2, axis=0)
        if loads is not None:
            load_squares += np.sum((p.episode.loads[:len(t)][keep] - loads[keep]) ** 2, axis=0)
        count += int(keep.sum())
        traces.append((t - t[0], measured, sim))
    load_rmse = np.sqrt(load_squares / max(count, 1)) if model.loads else None
    return np.sqrt(squares / max(count, 1)), load_rmse, traces


def fit(recordings: Sequence[str | Path] | Sequence[Episode], config: FitConfig = DEFAULT_FIT,
        base: RobotProfile | None = None, name: str = "fitted", report_dir: str | Path | None = None,
        log=print) -> tuple[RobotProfile, FitReport]:
    """Fit the profile to ``recordings`` (dataset folders, or :class:`Episode` objects); RecordingError for data
    the fit cannot use. With ``report_dir``: mujoco.sysid's results and HTML report, and ``heldout_joints.png``."""
    started = time.monotonic()
    if recordings and all(isinstance(r, Episode) for r in recordings):
        episodes, sources = list(recordings), [e.name for e in recordings]
    else:
        episodes, sources = load_recordings(recordings, config), [str(r) for r in recordings]
    if not episodes:
        raise RecordingError("no recordings given")
    loads = all(e.loads is not None for e in episodes)
    model = ReplayModel(config, base, loads=loads)
    if not loads:
        log("[sysid] " + ("no" if not any(e.loads is not None for e in episodes) else "not every")
            + " episode has the servo loads (observation.load): fitting the joints alone")
    splits = [(1.0 - config.holdout_fraction) * e.duration_s for e in episodes]
    train = [model.prepare(e, until_s=s) for e, s in zip(episodes, splits, strict=True)]
    screen = [model.prepare(e, until_s=min(s, config.screen_s)) for e, s in zip(episodes, splits, strict=True)]
    full = [model.prepare(e) for e in episodes]
    _, screen_fn = model.residual_fn(screen)
    sequences, residual_fn = model.residual_fn(train)

    nominal = model.parameters()
    logging.getLogger("absl").setLevel(logging.ERROR)
    log(f"[sysid] stage 1: {len(nominal.as_vector())} parameters on the first {min(config.screen_s, max(splits)):g} s "
        f"of {len(episodes)} episode(s) (timestep {config.timestep_s * 1000:g} ms)")
    opt, result = _optimize(nominal, screen_fn, model, config.max_iters)
    stds, weak = _screen(opt, screen_fn, result, config, model.x_scale(opt))
    values = {n: float(opt[n].value[0]) for n in opt.keys()}
    iterations = len(result.extras.get("objective", []) or [])
    if loads:
        unloaded = unloaded_joints(episodes, config)
        weak += [n for n in (param_name(j, "stiffness") for j in unloaded) if n in values and n not in weak]
        if unloaded:
            log(f"[sysid] no steady load on {', '.join(unloaded)} (median |load| < "
                f"{config.min_static_load_permille:g} permille): their stiffness cannot show as a static error")
    log("[sysid] not identifiable from these data (kept nominal): " + (", ".join(weak) or "none"))
    log(f"[sysid] stage 2: {len(values) - len(weak)} parameters on all {sum(splits):.1f} s fitted")
    refit = model.parameters()
    for n in refit.keys():
        if n in weak:
            refit[n].frozen = True  # value stays nominal; build_model still applies it
        else:
            refit[n].value[:] = values[n]
    opt, result = _optimize(refit, residual_fn, model, config.refit_iters)
    iterations += len(result.extras.get("objective", []) or [])
    residuals, _, _ = residual_fn(result.x, opt)
    _, intervals = sysid.calculate_intervals(residuals, result.jac)
    stds.update({p.name: float(w) / Z95 for p, w in zip([p for p in opt.values() if not p.frozen], intervals,
                                                         strict=True)})
    values = {n: float(opt[n].value[0]) for n in opt.keys()}
    for n in weak:
        stds[n] = _wide_std(n, config)
    frozen_in_refit = list(weak)
    if not config.fit_encoder_offsets:
        # the offsets were free in the fit (nuisance parameters that soak up model error), but joint data do not
        # identify them: the profile keeps the base's (e.g. from sysid.py touch, with its std) or 0 with a wide std
        for n in [p.name for p in opt.values() if param_kind(p.name) == "offset"]:
            base = model.base.joints[n.split(".")[0]].encoder_offset
            opt[n].value[:] = base.value
            values[n], stds[n] = base.value, base.std if base.std > 0 else _wide_std(n, config)
            if n not in weak:
                weak.append(n)
    # identified on the screen but loose on all the data (rare): the fitted value stays, with its std
    loose = [n for n in values if n not in weak and not _identifiable(n, values[n], stds[n], config)]
    fit_time = time.monotonic() - started

    holdout_from = list(splits)
    rmse_nominal, load_nominal, traces_nominal = _rmse(model, full, model.parameters(), holdout_from)
    rmse_fitted, load_fitted, traces_fitted = _rmse(model, full, opt, holdout_from)
    total = lambda r: float(np.sqrt(np.mean(r**2)))  # noqa: E731
    per_joint = lambda r: None if r is None else dict(zip(JOINT_NAMES, map(float, r), strict=True))  # noqa: E731
    report = FitReport(
        recordings=sources, episodes=[e.name for e in episodes], fitted_s=sum(splits),
        held_out_s=sum(e.duration_s for e in episodes) - sum(splits),
        rmse_nominal_rad=total(rmse_nominal), rmse_fitted_rad=total(rmse_fitted),
        rmse_nominal_per_joint=dict(zip(JOINT_NAMES, map(float, rmse_nominal), strict=True)),
        rmse_fitted_per_joint=dict(zip(JOINT_NAMES, map(float, rmse_fitted), strict=True)),
        identifiable=[n for n in values if n not in weak and n not in loose], not_identifiable=weak, loose=loose,
        values=values, stds=stds, fit_time_s=fit_time, iterations=iterations, timestep_s=config.timestep_s,
        loads_used=loads, load_rmse_nominal_permille=per_joint(load_nominal),
        load_rmse_fitted_permille=per_joint(load_fitted))
    profile = model.to_profile(values, stds, name, report.provenance())
    if report_dir is not None:
        start = model.parameters()  # the nominal start, with the same parameters frozen as the final fit
        for n in frozen_in_refit:
            start[n].frozen = True
        _write_report(Path(report_dir), sequences, start, opt, result, residual_fn, model, traces_nominal,
                      traces_fitted, holdout_from, report)
    return profile, report


def _write_report(directory: Path, sequences, initial, opt, result, residual_fn, model: ReplayModel,
                  traces_nominal, traces_fitted, holdout_from, report: FitReport) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    sysid.save_results(directory, [sequences], initial, opt, result, residual_fn)
    sysid.default_report([sequences], initial, opt, residual_fn, result, title="RoArm-M3 Pro drive identification",
                         save_path=directory, build_model=model.build_model, generate_videos=False)
    plot_heldout(directory / "heldout_joints.png", traces_nominal, traces_fitted, holdout_from, report)


def plot_heldout(path: Path, traces_nominal, traces_fitted, holdout_from, report: FitReport) -> None:
    """Measured vs simulated joints (nominal and fitted) on the held-out part of the first episode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t, measured, nominal = traces_nominal[0]
    fitted = traces_fitted[0][2]
    keep = t >= holdout_from[0]
    fig, axes = plt.subplots(len(JOINT_NAMES), 1, figsize=(11, 2.0 * len(JOINT_NAMES)), sharex=True)
    for j, ax in enumerate(axes):
        ax.plot(t[keep], measured[keep, j], "k-", lw=1.2, label="measured")
        ax.plot(t[keep], nominal[keep, j], "r--", lw=0.9,
                label=f"nominal ({report.rmse_nominal_per_joint[JOINT_NAMES[j]] * 1000:.1f} mrad)")
        ax.plot(t[keep], fitted[keep, j], "b-", lw=0.9,
                label=f"fitted ({report.rmse_fitted_per_joint[JOINT_NAMES[j]] * 1000:.1f} mrad)")
        ax.set_ylabel(f"{JOINT_NAMES[j]} [rad]")
        ax.legend(loc="upper right", fontsize=7)
    axes[-1].set_xlabel("time [s] (held-out part)")
    fig.suptitle(f"{report.episodes[0]}: held-out joint replay, RMSE nominal {report.rmse_nominal_rad * 1000:.2f} "
                 f"-> fitted {report.rmse_fitted_rad * 1000:.2f} mrad")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
