"""Write a vendor-look USD of the RoArm-M3 Pro from your own Waveshare roarm_ws URDF + STL meshes.

Joints, masses, drives and collisions stay those of roarm_lab.description; only the visuals become the
vendor meshes. We do not ship those meshes: point this at your roarm_ws checkout. Run xacro first if you only
have the .xacro (`xacro roarm_m3.xacro > roarm_m3.urdf`). The generated usd/roarm_m3_pro.usda is never
overwritten.

    python scripts/import_vendor_urdf.py --urdf ~/roarm_ws/src/roarm_description/urdf/roarm_m3.urdf \\
        --out ~/roarm_m3_pro_vendor.usda
    python scripts/import_vendor_urdf.py --urdf roarm_m3.urdf --out vendor.usdc \\
        --package-dir roarm_description=~/roarm_ws/src/roarm_main/roarm_description

Exits 2 with the reason if the URDF is not the RoArm-M3 (e.g. a RoArm-M2) or a file is missing or malformed.
"""

import argparse
import sys
from pathlib import Path

from roarm_lab.assets.vendor_import import check_out_path, load_vendor_visuals, write_vendor_usd
from roarm_lab.description import LINK_NAMES


def _package_dir(text: str) -> tuple[str, Path]:
    name, sep, directory = text.partition("=")
    if not sep or not name or not directory:
        raise argparse.ArgumentTypeError(f"expected NAME=DIR, got {text!r}")
    return name, Path(directory).expanduser()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--urdf", required=True, type=Path, help="the expanded roarm_ws URDF (not .xacro)")
    parser.add_argument("--out", required=True, type=Path, help="USD file to write (.usd, .usda or .usdc)")
    parser.add_argument(
        "--package-dir", action="append", default=[], type=_package_dir, metavar="NAME=DIR",
        help="directory of ROS package NAME for package:// mesh URIs (default: search upward from the URDF)",
    )
    args = parser.parse_args(argv)
    try:
        out = check_out_path(args.out.expanduser())
        visuals = load_vendor_visuals(args.urdf.expanduser(), dict(args.package_dir))
        write_vendor_usd(visuals, out, source_name=args.urdf.name)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    kept = [link for link in LINK_NAMES if link not in visuals]
    print(f"wrote {out}")
    for link, meshes in visuals.items():
        for vis in meshes:
            print(f"  {link}: {vis.source} ({len(vis.points)} points, {len(vis.faces)} triangles)")
    if kept:
        print(f"  primitive visuals kept for: {', '.join(kept)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
