#!/usr/bin/env python3
"""How well ``sysid.py touch`` finds the encoder offsets: the probe against the physics twin with known truths, the
fitted shoulder, elbow and wrist offsets against the truth's, and how deep the tool really was at each contact.

    python benchmarks/touch_twin.py [--truth-seeds 0 2 3] [--nominal] [--points 8]

The twin runs in this process (its truth is the yardstick; the probe sees only the port). Per truth one row: the
errors (mrad) of the three offsets, the fit's residual RMS, the contacts left out, and the true height of the tool's
lowest point at the contacts (negative: into the table). ~70 s per truth (the twin runs in real time).
"""

from __future__ import annotations

import argparse

import numpy as np

from roarm_lab.description.kinematic_chain import JOINT_NAMES
from roarm_lab.driver.session import ArmLinkSettings, ArmSession
from roarm_lab.emulator import Emulator, EmulatorConfig
from roarm_lab.emulator.twin.settings import TwinConfig
from roarm_lab.emulator.twin.truth import draw_truth, nominal_truth
from roarm_lab.sysid.touch import DEFAULT_POINTS, FITTED_INDEX, FITTED_JOINTS, fit_offsets, lowest_z, probe

CUBE = (0.25, 0.2, 0.0)  # clear of the points


def measure(truth, points: int) -> dict:
    depths: list[float] = []
    with Emulator(EmulatorConfig(twin=TwinConfig(truth=truth, cube=CUBE))) as emu:
        def contact_depth(text: str) -> None:  # the probe reports each contact while the tool is on the table
            if "contact (" in text:
                depths.append(float(lowest_z(np.array(emu.snapshot().q_model))))

        with ArmSession(ArmLinkSettings(port=emu.port, settle_s=0.1, boot_timeout_s=20.0)) as arm:
            result = probe(arm, DEFAULT_POINTS[:points], echo=contact_depth)
    if result.outcome != "completed":
        raise SystemExit(f"the probe ended: {result.outcome}")
    true = np.array(truth.encoder_offset_rad)
    known = true.copy()
    known[list(FITTED_INDEX)] = 0.0  # the joints a touch cannot see are given their truth
    fit = fit_offsets([np.subtract(c.q_measured, known) for c in result.contacts])
    errors = {j: fit.offsets[j] - true[JOINT_NAMES.index(j)] for j in FITTED_JOINTS}
    return {"errors_rad": errors, "rms_mm": fit.rms_m * 1000, "dropped": fit.dropped, "depths_m": depths,
            "reasons": [c.reason for c in result.contacts]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--truth-seeds", type=int, nargs="*", default=[0, 2, 3])
    p.add_argument("--nominal", action="store_true", help="also the nominal truth (no offsets, no backlash)")
    p.add_argument("--points", type=int, default=len(DEFAULT_POINTS))
    a = p.parse_args()
    truths = ([("nominal", nominal_truth())] if a.nominal else []) + [(f"seed {s}", draw_truth(s))
                                                                       for s in a.truth_seeds]
    print("| truth | shoulder / elbow / wrist offset error, mrad | residual RMS, mm | left out | true contact depth, "
          "mm (min .. max) |\n|---|---|---|---|---|")
    for name, truth in truths:
        r = measure(truth, a.points)
        e = " / ".join(f"{r['errors_rad'][j] * 1000:+.1f}" for j in FITTED_JOINTS)
        d = np.array(r["depths_m"]) * 1000
        print(f"| {name} | {e} | {r['rms_mm']:.2f} | {r['dropped']} | {d.min():+.2f} .. {d.max():+.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
