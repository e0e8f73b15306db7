"""The arm's HTTP endpoint (hardware §1.4) served in-process for an :class:`Emulator`: `GET /js?json=<JSON>`.

As in FW-250108: the *first* query argument is the command whatever its name, the reply is 200 with the
content type literally ``text/plane``, the body is the firmware's `jsonInfoHttp` document; other paths are 404.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from roarm_lab.emulator.config import EmulatorError
from roarm_lab.emulator.emulated_arm import Emulator


class EmulatorHttpServer:
    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0):
        self.emulator = emulator
        handler = type("_Handler", (_JsHandler,), {"emulator": emulator})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """``host:port``, what :class:`roarm_lab.driver.HttpTransport` takes."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> EmulatorHttpServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="roarm-emulator-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5.0)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> EmulatorHttpServer:
        return self if self._thread is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _JsHandler(BaseHTTPRequestHandler):
    emulator: Emulator

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        if url.path != "/js":
            self.send_error(404)
            return
        args = parse_qsl(url.query, keep_blank_values=True)
        try:
            body = self.emulator.http_request(args[0][1] if args else "").encode("utf-8")
        except EmulatorError:
            self.send_error(503)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plane")  # sic, hardware §1.4
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass
