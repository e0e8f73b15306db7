"""Camera sources through OpenCV, read in a thread that keeps the newest frame, and the camera pipeline that finds the
cube in each frame as it arrives.

A source is named by a string: a device index (``0``), a video file, or a URL (``http://host:port/stream.mjpg``,
the MJPEG that phone camera apps, IP cameras and the twin serve; ``rtsp://...``). Each frame is stamped with the
monotonic time it was read; a file is played at its own frame rate (or ``fps``), so it stands in for a live camera.

Why not LeRobot's ``OpenCVCamera``: it keeps a path as ``pathlib.Path`` (which turns ``http://`` into ``http:/``),
forces fps and size settings that a stream or a file refuses, and reads a file as fast as it decodes. The LeRobot
runs that feed images to a policy (``run_lerobot_policy.py --camera``) do use it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from roarm_lab.perception.calibration import CameraCalibration
from roarm_lab.perception.cube import CubeDetector, CubeEstimate, CubeTracker, TrackerConfig
from roarm_lab.perception.errors import PerceptionError

OPEN_TIMEOUT_S = 10.0
REOPEN_PERIOD_S = 0.5


def parse_source(spec: str | int) -> int | str:
    if isinstance(spec, int):
        return spec
    spec = str(spec).strip()
    if spec.isdigit():
        return int(spec)
    if "://" in spec:
        return spec
    if not Path(spec).is_file():
        raise PerceptionError(f"camera {spec!r}: no such file, and not a device index or a URL "
                              "(http://..., rtsp://...)")
    return spec


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR, (H, W, 3)
    time: float  # monotonic time it was read
    seq: int


class FrameSource:
    """Reads frames from ``spec`` in a thread; :meth:`newest` gives the last one. Listeners added with
    :meth:`on_frame` run in the reading thread for every frame (keep them short)."""

    def __init__(self, spec: str | int, fps: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.spec = parse_source(spec)
        self._clock = clock
        self._cap = self._open()
        self.is_file = isinstance(self.spec, str) and "://" not in self.spec
        file_fps = self._cap.get(cv2.CAP_PROP_FPS) if self.is_file else 0.0
        self._period = 1.0 / fps if fps else (1.0 / file_fps if self.is_file and file_fps > 0 else 0.0)
        self._lock = threading.Condition()
        self._newest: Frame | None = None
        self._listeners: list[Callable[[Frame], None]] = []
        self._stop = threading.Event()
        self.ended = False  # a file played to its end, or the stream failed for good
        self.read_failures = 0
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.spec}", daemon=True)
        self._thread.start()

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.spec)
        if not cap.isOpened():
            cap.release()
            raise PerceptionError(f"cannot open camera {self.spec!r}: no device, file or stream answers there")
        return cap

    def on_frame(self, listener: Callable[[Frame], None]) -> None:
        self._listeners.append(listener)

    def _run(self) -> None:
        seq, next_t = 0, self._clock()
        while not self._stop.is_set():
            ok, image = self._cap.read()
            if not ok:
                self.read_failures += 1
                if self.is_file or not self._reopen():
                    break
                continue
            if self._period:
                next_t += self._period
                delay = next_t - self._clock()
                if delay > 0 and self._stop.wait(delay):
                    break
            seq += 1
            frame = Frame(image, self._clock(), seq)
            for listener in self._listeners:
                listener(frame)
            with self._lock:
                self._newest = frame
                self._lock.notify_all()
        self.ended = True
        with self._lock:
            self._lock.notify_all()

    def _reopen(self) -> bool:
        self._cap.release()
        while not self._stop.wait(REOPEN_PERIOD_S):
            cap = cv2.VideoCapture(self.spec)
            if cap.isOpened():
                self._cap = cap
                return True
            cap.release()
        return False

    def newest(self) -> Frame | None:
        with self._lock:
            return self._newest

    def wait_frame(self, after_seq: int = 0, timeout_s: float = OPEN_TIMEOUT_S) -> Frame:
        """The first frame numbered above ``after_seq``; PerceptionError when none comes within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._newest is None or self._newest.seq <= after_seq:
                left = deadline - time.monotonic()
                if self.ended or left <= 0:
                    raise PerceptionError(f"camera {self.spec!r} gave no frame within {timeout_s:.1f} s"
                                          + (" (the file ended)" if self.ended and self.is_file else ""))
                self._lock.wait(min(left, 0.1))
            return self._newest

    def close(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._cap.release()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CubeCamera:
    """A calibrated camera that finds the cube in every frame it reads (in the reading thread).

    Opening checks that frames come and that they are the calibration's size. :meth:`estimate` is the newest cube
    estimate (None until the cube was seen); ``latencies_s`` holds each frame's detection time.
    """

    def __init__(self, spec: str | int, calibration: CameraCalibration, fps: float | None = None,
                 tracker: TrackerConfig | None = None, open_timeout_s: float = OPEN_TIMEOUT_S):
        self.calibration = calibration
        self.detector = CubeDetector(calibration)
        self.tracker = CubeTracker(tracker or TrackerConfig())
        self.latencies_s: list[float] = []
        self.frames = 0
        self.detections = 0
        self.error: Exception | None = None
        self.source = FrameSource(spec, fps)
        try:
            first = self.source.wait_frame(0, open_timeout_s)
            h, w = first.image.shape[:2]
            calibration.check_size(w, h)
        except BaseException:
            self.source.close()
            raise
        self.source.on_frame(self._on_frame)

    def _on_frame(self, frame: Frame) -> None:
        t0 = time.perf_counter()
        try:
            obs = self.detector.detect(frame.image)
        except PerceptionError as e:  # a frame of another size mid-run: stop believing this camera
            self.error = e
            return
        self.latencies_s.append(time.perf_counter() - t0)
        self.frames += 1
        self.detections += obs is not None
        self.tracker.update(obs, frame.time)

    def estimate(self) -> CubeEstimate | None:
        return self.tracker.estimate()

    def newest_frame(self) -> Frame | None:
        return self.source.newest()

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> CubeCamera:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
