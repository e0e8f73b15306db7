"""Incremental reader of the arm's serial output: bytes in, typed messages out.

What arrives on the wire (hardware §1.1-§1.3): `\\r\\n`-terminated lines of JSON, the ESP32 boot banner and the
boot-mission dump, the InfoPrint=2 stream of `T:1051` lines, human text, frames torn or merged by the firmware or
by a reset (two half-frames without a `}\\r\\n{` boundary), and arbitrary noise. The reader never raises on input:
whatever it cannot use is skipped and counted in :attr:`MessageReader.stats`.

Rules:
* A line ends at `\\n`; a trailing `\\r` and surrounding whitespace are dropped. A line longer than
  ``max_line_bytes`` is discarded up to its `\\n` (bounded memory).
* Every `{` in a line is tried as the start of a JSON object. A `T:1051` object is accepted wherever it sits on
  the line (a torn frame before it is skipped); any other object only when it is the whole line, so JSON quoted
  inside text (e.g. the mission dump's ``[StepNum: 1 ] - {...}``) is not mistaken for a message.
* Objects with duplicate keys (two frames spliced at a comma) or undecodable bytes are rejected.
* Lines of the ESP32 reset banner and the firmware's boot servo check become :class:`BootNotice`.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, fields
from typing import Any

from roarm_lab.driver.errors import ProtocolError
from roarm_lab.driver.protocol.feedback import FEEDBACK_T, Feedback

#: Longest line kept. T:1051 is ~230 bytes; file and Wi-Fi dumps are longer but not needed for control.
DEFAULT_MAX_LINE_BYTES = 4096

#: Text that only appears while the arm boots (hardware §1.3): ESP32 ROM banner lines (general ESP32 behaviour; the
#: exact text varies, these two fields do not) and the firmware's boot servo check.
_BOOT_MARKERS = re.compile(
    r"rst:0x[0-9a-fA-F]+|ets \w{3} +\d+ \d{4}|All bus servos status checked\.|Bus servos status check: failed\."
)


@dataclass(frozen=True)
class JsonMessage:
    """A JSON object that is not feedback (e.g. an echo with InfoPrint=1, an `{"info": ...}` reply)."""

    data: dict[str, Any]


@dataclass(frozen=True)
class BootNotice:
    """A line that shows the arm is booting: it was reset (hardware §1.2, §1.3)."""

    text: str


Message = Feedback | JsonMessage | BootNotice


@dataclass
class ReaderStats:
    """Counters of everything the reader saw; for diagnostics and the fuzz script."""

    bytes: int = 0
    lines: int = 0
    feedback: int = 0
    json_messages: int = 0
    boot_notices: int = 0
    text_lines: int = 0
    bad_json: int = 0  # `{` that did not start a valid object: torn or merged frames, garbage
    malformed_feedback: int = 0  # valid JSON with T:1051 but wrong fields
    non_utf8_lines: int = 0
    overlong_lines: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey("duplicate key")
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates)


class MessageReader:
    """Feed it bytes as they arrive; it returns the complete messages in order. Not thread-safe."""

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, keep_text_lines: int = 32):
        self.max_line_bytes = max_line_bytes
        self.stats = ReaderStats()
        #: The last few non-JSON lines (truncated), to show the user what the arm printed.
        self.recent_text: deque[str] = deque(maxlen=keep_text_lines)
        self._partial = bytearray()
        self._discarding = False  # inside an over-long line, dropping bytes until the next `\n`

    def reset(self) -> None:
        """Forget a partial line (after the caller flushed the port's input)."""
        self._partial.clear()
        self._discarding = False

    def feed(self, data: bytes) -> list[Message]:
        self.stats.bytes += len(data)
        out: list[Message] = []
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            piece = data[start:nl]
            start = nl + 1
            if self._discarding:
                self._discarding = False
                continue
            if len(self._partial) + len(piece) > self.max_line_bytes:
                self._partial.clear()
                self.stats.overlong_lines += 1
                continue
            self._partial += piece
            line = bytes(self._partial)
            self._partial.clear()
            self._parse_line(line, out)
        tail = data[start:]
        if self._discarding:
            return out
        if len(self._partial) + len(tail) > self.max_line_bytes:
            self._partial.clear()
            self._discarding = True
            self.stats.overlong_lines += 1
        else:
            self._partial += tail
        return out

    def _parse_line(self, raw: bytes, out: list[Message]) -> None:
        raw = raw.strip()
        if not raw:
            return
        self.stats.lines += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.stats.non_utf8_lines += 1
            text = raw.decode("utf-8", errors="replace")
        if "{" in text and self._parse_objects(text, out):
            return
        if _BOOT_MARKERS.search(text):
            self.stats.boot_notices += 1
            out.append(BootNotice(text))
        else:
            self.stats.text_lines += 1
        self.recent_text.append(text[:200])

    def _parse_objects(self, text: str, out: list[Message]) -> bool:
        """Extract the messages of one line; True when the line held at least one."""
        found = False
        i = text.find("{")
        while i >= 0:
            try:
                obj, end = _DECODER.raw_decode(text, i)
            except (ValueError, RecursionError):
                self.stats.bad_json += 1
                i = text.find("{", i + 1)
                continue
            if "\ufffd" in text[i:end]:  # bytes that were not UTF-8: the object is corrupted
                self.stats.bad_json += 1
            elif obj.get("T") == FEEDBACK_T:
                try:
                    out.append(Feedback.from_json_obj(obj))
                    self.stats.feedback += 1
                    found = True
                except ProtocolError:
                    self.stats.malformed_feedback += 1
            elif i == 0 and end == len(text):
                out.append(JsonMessage(obj))
                self.stats.json_messages += 1
                found = True
            i = text.find("{", end)
        return found
