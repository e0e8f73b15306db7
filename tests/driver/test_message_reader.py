"""The serial stream reader on what the arm prints: boot text, the feedback stream, torn frames, garbage."""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roarm_lab.driver import Feedback
from roarm_lab.driver.protocol.reader import BootNotice, JsonMessage, MessageReader

KEYS = "T, x, y, z, tit, b, s, e, t, r, g, tB, tS, tE, tT, tR, tG".split(", ")  # hardware §2.7


def frame(base: float = 0.0, eol: bytes = b"\r\n") -> bytes:
    values = (1051, 346.16, 0, 223.13, 0, base, 0, 1.570796327, 0, 0, 3.141592654, 0, -115, -188, -51, 0, 0)
    return json.dumps(dict(zip(KEYS, values, strict=True)), separators=(",", ":")).encode() + eol


# hardware §1.3, in order: ROM banner, servo check, server, MAC, boot-mission dump, then the stream
BOOT = (b"ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
        b"entry 0x400805e4\r\nAll bus servos status checked.\r\nServer Starts.\r\nCC:DB:A7:5B:E4:1C\r\n"
        b"---=== File Content ===---\r\nreading file: [boot] starts:\r\n\r\n"
        b'{"name":"boot","intro":"these cmds run automatically at boot."}\r\n'
        b'[StepNum: 1 ] - {"T":104,"x":235,"y":0,"z":234,"t":0,"r":0,"g":3.14,"spd":0.25}\r\n'
        b"^^^ ^^^ ^^^ reading file: boot.mission ends. ^^^ ^^^ ^^^\r\n")


def kinds(messages) -> list[str]:
    return [type(m).__name__ for m in messages]


def test_boot_banner_mission_dump_and_stream():
    reader = MessageReader()
    out = reader.feed(BOOT + frame(0.1) + frame(0.2))
    assert kinds(out) == ["BootNotice"] * 3 + ["JsonMessage", "Feedback", "Feedback"]
    assert out[0].text.startswith("ets Jun") and out[2].text == "All bus servos status checked."
    assert out[3] == JsonMessage({"name": "boot", "intro": "these cmds run automatically at boot."})
    assert [m.firmware_rad[0] for m in out[4:]] == [0.1, 0.2]
    assert reader.stats.text_lines == 7  # incl. the mission step: JSON quoted in text is not a message
    assert "Server Starts." in reader.recent_text
    assert kinds(MessageReader().feed(b"Bus servos status check: failed.\r\n")) == ["BootNotice"]


def test_crlf_lf_and_partial_lines_across_reads():
    data = frame(0.1) + frame(0.2, eol=b"\n") + frame(0.3, eol=b"\r\r\n")
    reader = MessageReader()
    out = [m for i in range(len(data)) for m in reader.feed(data[i:i + 1])]
    assert [m.firmware_rad[0] for m in out] == [0.1, 0.2, 0.3]
    assert reader.feed(b"") == [] and reader.feed(frame()[:50]) == []  # silence, then half a line: nothing yet


def test_torn_and_merged_frames():
    a, b = frame(0.1), frame(0.2)
    # hardware §1.1: two half-frames without a `}\r\n{` boundary
    out = MessageReader().feed(a[:80] + b)
    assert kinds(out) == ["Feedback"] and out[0].firmware_rad[0] == 0.2
    two = MessageReader().feed(a.rstrip() + b)  # two whole frames on one line
    assert [m.firmware_rad[0] for m in two] == [0.1, 0.2]
    # spliced at a comma: valid JSON, but keys repeat -> rejected rather than mixing two readings
    cut = a.index(b',"s"')
    reader = MessageReader()
    assert reader.feed(a[:cut + 1] + b[1:]) == [] and reader.stats.bad_json >= 1
    # a frame cut by a reset, then the banner
    assert kinds(MessageReader().feed(a[:40] + BOOT)) == ["BootNotice"] * 3 + ["JsonMessage"]
    # T:405 prints JSON without a newline (hardware §1.1): the next line is still read
    assert kinds(MessageReader().feed(b'{"ip":"192.168.4.1","rssi":-40}' + b)) == ["Feedback"]


def test_garbage_non_utf8_and_overlong_lines_are_skipped_with_bounded_memory():
    reader = MessageReader(max_line_bytes=4096)
    corrupted = frame().replace(b'"s":0', b'"s":\xff0')
    out = reader.feed(b"\x00\xff\xfe garbage {not json}\r\n" + corrupted + b"x" * 10_000)
    assert out == [] and reader.stats.non_utf8_lines == 2 and reader.stats.overlong_lines == 1
    assert len(reader._partial) <= 4096
    for _ in range(100):  # an endless line keeps memory bounded
        assert reader.feed(b"y" * 1000) == []
        assert len(reader._partial) <= 4096
    out = reader.feed(b"tail of the long line\n" + frame(0.4))
    assert [m.firmware_rad[0] for m in out] == [0.4]
    assert MessageReader().feed(b"[" * 3000 + b"{" * 1000 + b"\n") == []  # deep nesting: no RecursionError


def test_malformed_feedback_is_counted_not_raised():
    reader = MessageReader()
    assert reader.feed(b'{"T":1051,"x":1}\r\n{"T":1051' + frame()[9:].replace(b"0.0", b"NaN")) == []
    assert reader.stats.malformed_feedback >= 1
    assert reader.feed(b'{"T":1051,"x":1e999,"y":0}\n') == []
    huge = frame().replace(b'"x":346.16', b'"x":1' + b"0" * 400)  # an int beyond float range
    assert reader.feed(huge) == [] and reader.stats.malformed_feedback >= 2


# ---------------------------------------------------------------- property tests

FRAMES = st.floats(-math.pi, math.pi, allow_nan=False).map(lambda v: frame(round(v, 9)))
GARBAGE = st.binary(max_size=300)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def feed_in_chunks(data: bytes, cuts: list[int]) -> list:
    reader, out, last = MessageReader(), [], 0
    for c in sorted({min(c, len(data)) for c in cuts}) + [len(data)]:
        out += reader.feed(data[last:c])
        last = c
    return out


@SETTINGS
@given(st.binary(max_size=2000), st.lists(st.integers(0, 2000), max_size=20))
def test_random_bytes_never_raise_and_chunking_does_not_matter(data, cuts):
    whole = MessageReader().feed(data)
    assert feed_in_chunks(data, cuts) == whole
    assert all(isinstance(m, Feedback | JsonMessage | BootNotice) for m in whole)


@SETTINGS
@given(st.lists(st.one_of(FRAMES, GARBAGE), max_size=15), st.lists(st.integers(0, 5000), max_size=10))
def test_every_frame_on_its_own_line_survives_garbage_lines(items, cuts):
    data = b"".join(x if x.endswith(b"\r\n") and x.startswith(b'{"T":1051') else x + b"\r\n" for x in items)
    expected = [json.loads(x)["b"] for x in items if x.startswith(b'{"T":1051')]
    got = [m.firmware_rad[0] for m in feed_in_chunks(data, cuts) if isinstance(m, Feedback)]
    assert got == expected


@SETTINGS
@given(FRAMES, FRAMES, st.integers(1, 200), GARBAGE.filter(lambda g: b"\n" not in g))
def test_a_torn_frame_never_hides_the_next_one(a, b, cut, noise):
    out = MessageReader().feed(noise + a[: min(cut, len(a) - 3)] + b)
    assert [m for m in out if isinstance(m, Feedback)] == [Feedback.from_json_obj(json.loads(b))]
