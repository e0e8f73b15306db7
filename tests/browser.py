"""A real headless browser for the viewer tests: Debian's Chromium taking a screenshot of a page, and the pinhole
projection of the viewer's camera to find where a world point appears in it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

WINDOW = (1280, 800)
#: headless Chromium drawing WebGL in software (no GPU), with nothing fetched in the background
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
                  "--enable-unsafe-swiftshader", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run")


def chromium() -> str:
    """The Chromium executable, or the test is skipped with the reason (.ci/run installs it)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("needs Chromium (Debian: apt-get install chromium; .ci/run installs it)")
    return path


def screenshot(url: str, out: Path, profile: Path, budget_ms: int = 8000) -> np.ndarray:
    """Load ``url`` in headless Chromium (software WebGL), let it run ``budget_ms`` of virtual time, and return the
    window's pixels (H, W, 3) uint8 once the page has drawn the scene (``scene_drawn``: the table covers part of the
    window). ``profile``: a fresh user-data directory per attempt under it. On a loaded machine the page may not have
    connected and drawn within its virtual time (the websocket and the meshes arrive in real time), or the virtual
    time never runs out (the page's websocket keeps it waiting): such an attempt is repeated afresh with twice the
    budget, four attempts at most."""
    import imageio.v3 as iio

    errors = []
    for attempt in range(4):
        out.unlink(missing_ok=True)
        cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile / str(attempt)}",
               f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--virtual-time-budget={budget_ms << attempt}",
               f"--screenshot={out}", url]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            errors.append(f"attempt {attempt}: no screenshot within 120 s")
            continue
        if result.returncode != 0 or not out.is_file():
            errors.append(f"attempt {attempt}: exit {result.returncode}: {result.stderr[-500:]}")
            continue
        image = np.asarray(iio.imread(out))[..., :3]
        if scene_drawn(image):
            return image
        errors.append(f"attempt {attempt}: the page had not drawn the scene after {budget_ms << attempt} ms")
    raise AssertionError("Chromium took no screenshot of the scene: " + "; ".join(errors))


def scene_drawn(image: np.ndarray) -> bool:
    """Whether the viewer's scene is on screen: the table's light brown (~(183, 156, 135) lit; r > g > b) covers
    more than 2 % of the window (about 17 % from the viewer's camera). An unconnected page is dark grey."""
    im = image.astype(int)
    r, g, b = im[..., 0], im[..., 1], im[..., 2]
    return bool(((r > 60) & (r - b > 15) & (r >= g) & (g >= b)).mean() > 0.02)


def project(points, position, look_at, fov_rad: float, size=WINDOW) -> np.ndarray:
    """Pixel coordinates (N, 2: column, row) of world points seen by a camera at ``position`` looking at
    ``look_at`` with +z up and a vertical field of view ``fov_rad`` over a canvas of ``size``."""
    p, target = np.asarray(position, float), np.asarray(look_at, float)
    f = (target - p) / np.linalg.norm(target - p)
    r = np.cross(f, [0.0, 0.0, 1.0])
    r /= np.linalg.norm(r)
    u = np.cross(r, f)
    d = np.atleast_2d(np.asarray(points, float)) - p
    x, y, z = d @ r, d @ u, d @ f
    t = np.tan(fov_rad / 2)
    w, h = size
    return np.stack([(x / (z * t * w / h) + 1) / 2 * w, (1 - y / (z * t)) / 2 * h], axis=1)


def light_grey(image: np.ndarray) -> np.ndarray:
    """(H, W) bool: the arm's body colour (light grey, shaded; ~(88, 88, 92) under the dark theme's lights) - not the
    dark background (~20 grey), not the light-brown table (~(183, 156, 135))."""
    im = image.astype(int)
    return (im.min(axis=2) > 60) & (im.max(axis=2) - im.min(axis=2) < 12)


def drawn_near(mask: np.ndarray, pixel, radius: int = 6) -> bool:
    c, r = (int(round(v)) for v in pixel)
    window = mask[max(r - radius, 0):r + radius + 1, max(c - radius, 0):c + radius + 1]
    return bool(window.any())
