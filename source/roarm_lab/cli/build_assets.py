"""Generate the RoArm-M3 Pro URDF, MJCF and USD from the robot description.

    python scripts/build_assets.py            # write source/roarm_lab/assets/generated/*, usd/roarm_m3_pro.usda
    python scripts/build_assets.py --check    # exit 1 if a committed file differs from what would be written
"""

from __future__ import annotations

import argparse
import sys

from roarm_lab.assets import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed asset is not what would be written")
    args = parser.parse_args(argv)
    if args.check:
        stale = build.stale_assets()
        for path, diff in stale:
            print(f"STALE: {path}\n{diff}\n", file=sys.stderr)
        if stale:
            print("run `python scripts/build_assets.py` and commit the result", file=sys.stderr)
            return 1
        print(f"assets up to date: {', '.join(p.name for p in build.GENERATORS)}")
        return 0
    for path in build.write_assets():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
