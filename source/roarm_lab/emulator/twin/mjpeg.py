"""The twin camera's frames over HTTP, as phone camera apps and IP cameras serve them: ``GET /stream.mjpg`` is
MJPEG (``multipart/x-mixed-replace``, one JPEG part per frame, each sent once to each client as it is drawn);
``GET /frame.jpg`` is the newest frame. OpenCV's ``VideoCapture("http://host:port/stream.mjpg")`` reads it.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOUNDARY = "roarmframe"
STREAM_PATH, FRAME_PATH = "/stream.mjpg", "/frame.jpg"


class FrameBoard:
    """The newest JPEG and its number; writers publish, client threads wait for a newer one."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.jpeg: bytes | None = None
        self.seq = 0
        self.closed = False

    def publish(self, jpeg: bytes, capture_time: float = 0.0) -> None:
        with self._cond:
            self.jpeg, self.seq = jpeg, self.seq + 1
            self._cond.notify_all()

    def wait_newer(self, seq: int, timeout_s: float = 1.0) -> tuple[bytes | None, int]:
        with self._cond:
            self._cond.wait_for(lambda: self.seq > seq or self.closed, timeout_s)
            return (self.jpeg, self.seq) if self.seq > seq else (None, seq)

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class MjpegServer:
    def __init__(self, board: FrameBoard, host: str = "127.0.0.1", port: int = 0):
        self.board = board
        handler = type("_Handler", (_MjpegHandler,), {"board": board})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{STREAM_PATH}"

    def start(self) -> MjpegServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="roarm-twin-mjpeg", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.board.close()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5.0)
            self._thread = None
        self._server.server_close()


class _MjpegHandler(BaseHTTPRequestHandler):
    board: FrameBoard

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet, as a camera is
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0]
        if path == FRAME_PATH:
            jpeg, _ = self.board.wait_newer(0, 5.0)
            if jpeg is None:
                self.send_error(503, "no frame yet")
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(jpeg)))
            self.end_headers()
            self.wfile.write(jpeg)
            return
        if path != STREAM_PATH:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        seq = 0
        try:
            while not self.board.closed:
                jpeg, seq = self.board.wait_newer(seq)
                if jpeg is None:
                    continue
                self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                                 .encode() + jpeg + b"\r\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away
