"""HTTP to the arm's web server (hardware §1.4): `GET http://<ip>/js?json=<JSON>`, reply body = JSON.

No reset on connect and no stream to read past; every command is one request, so :meth:`HttpTransport.exchange`
costs two round trips (users measure ~3 Hz over Wi-Fi, hardware §1.5). Proxies from the environment are bypassed:
the arm is on the local network. The arm has no authentication (hardware §1.4).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

from roarm_lab.driver.errors import (
    DisconnectedError,
    MalformedFeedbackError,
    MalformedReplyError,
    TransportError,
    TransportTimeoutError,
)
from roarm_lab.driver.protocol.commands import Command, InfoPrint, RequestFeedback, SetInfoPrint, encode
from roarm_lab.driver.protocol.feedback import Feedback
from roarm_lab.driver.transports.base import ArmTransport


class HttpTransport(ArmTransport):
    """``host`` is an IP or name, optionally ``:port`` (default 80) or a full ``http://`` base URL.

    On open it turns the InfoPrint=2 stream off (it also slows the web handling, hardware §1.1) and reads one feedback
    to check the arm answers (``check=False`` skips both).
    """

    def __init__(self, host: str, *, timeout_s: float = 2.0, retries: int = 1, disable_stream: bool = True,
                 check: bool = True):
        base = host if host.startswith(("http://", "https://")) else f"http://{host}"
        self.base_url = base.rstrip("/")
        self.timeout_s, self.retries = timeout_s, retries
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._lock = threading.Lock()
        self._closed = False
        self.initial_feedback: Feedback | None = None
        if check:
            if disable_stream:
                self.send(SetInfoPrint(InfoPrint.QUIET))
            self.initial_feedback = self.feedback()

    def request(self, command: Command, *, allow_dangerous: bool = False) -> Any:
        """Send one command; returns the decoded JSON body (``None`` for the firmware's `null`)."""
        line = encode(command, allow_dangerous=allow_dangerous).decode("ascii").rstrip("\n")
        url = f"{self.base_url}/js?json={quote(line, safe='')}"
        with self._lock:
            if self._closed:
                raise DisconnectedError(f"HTTP transport to {self.base_url} is closed")
            body = self._get(url)
        try:
            return json.loads(body)
        except ValueError as e:
            raise MalformedReplyError(f"{self.base_url} answered T:{command.code} with non-JSON: {body[:80]!r}") from e

    def send(self, command: Command, *, allow_dangerous: bool = False) -> None:
        self.request(command, allow_dangerous=allow_dangerous)

    def feedback(self) -> Feedback:
        last: Exception | None = None
        for _ in range(1 + self.retries):
            try:
                reply = self.request(RequestFeedback())
            except TransportTimeoutError as e:
                last = e
                continue
            if not isinstance(reply, dict):
                raise MalformedFeedbackError(f"{self.base_url} answered T:105 with {reply!r}, not a T:1051 object")
            return Feedback.from_json_obj(reply)
        raise TransportTimeoutError(f"no T:1051 from {self.base_url} after {1 + self.retries} tries") from last

    def exchange(self, command: Command, *, allow_dangerous: bool = False, feedback_first: bool = False) -> Feedback:
        if feedback_first:
            fb = self.feedback()
            self.send(command, allow_dangerous=allow_dangerous)
            return fb
        self.send(command, allow_dangerous=allow_dangerous)
        return self.feedback()

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def _get(self, url: str) -> bytes:
        try:
            with self._opener.open(url, timeout=self.timeout_s) as response:
                return response.read()
        except urllib.error.HTTPError as e:
            raise TransportError(f"{self.base_url} answered HTTP {e.code} {e.reason}") from e
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError | socket.timeout):
                raise TransportTimeoutError(f"{self.base_url} did not answer within {self.timeout_s} s") from e
            raise DisconnectedError(f"cannot reach {self.base_url}: {e.reason}") from e
        except TimeoutError as e:
            raise TransportTimeoutError(f"{self.base_url} did not answer within {self.timeout_s} s") from e
        except (OSError, http.client.HTTPException) as e:
            raise DisconnectedError(f"connection to {self.base_url} failed: {e}") from e
