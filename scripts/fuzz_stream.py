"""Fuzz the serial stream reader: random mixes of feedback frames, boot text, torn frames and noise, in random
chunkings. Prints counts; exits 0 when nothing but the project's own errors was raised and every intact frame
(one on its own line) came out.

    bash scripts/env.sh python scripts/fuzz_stream.py --n 100000
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
import traceback
from collections import Counter

from roarm_lab.description.firmware_units import FEEDBACK_KEYS
from roarm_lab.driver.errors import RealArmError
from roarm_lab.driver.protocol.feedback import Feedback
from roarm_lab.driver.protocol.reader import DEFAULT_MAX_LINE_BYTES, BootNotice, JsonMessage, MessageReader

BOOT_TEXT = [
    b"ets Jun  8 2016 00:22:57", b"rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)", b"entry 0x400805e4",
    b"All bus servos status checked.", b"Bus servos status check: failed.", b"Server Starts.", b"CC:DB:A7:5B:E4:1C",
    b"---=== File Content ===---", b'{"name":"boot","intro":"these cmds run automatically at boot."}',
    b'[StepNum: 1 ] - {"T":104,"x":235,"y":0,"z":234,"t":0,"r":0,"g":3.14,"spd":0.25}', b"Sent with success",
]
NOISE_ALPHABET = b'{}[]":,.-0123456789Tetrue\r\n \x00\xff\xfe\xc3'


def random_frame(rng: random.Random) -> tuple[bytes, tuple[float, ...]]:
    joints = tuple(round(rng.uniform(-math.pi, math.pi), rng.choice((3, 6, 9))) for _ in range(6))
    values = [1051, *(round(rng.uniform(-600, 600), 4) for _ in range(3)), round(rng.uniform(-3, 3), 6), *joints,
              *(rng.randint(-1000, 1000) for _ in range(6))]
    return json.dumps(dict(zip(FEEDBACK_KEYS, values, strict=True)), separators=(",", ":")).encode(), joints


def random_noise(rng: random.Random) -> bytes:
    n = rng.choice((1, 8, 64, 300, 5000))
    if rng.random() < 0.5:
        return rng.randbytes(rng.randint(0, n))
    return bytes(rng.choice(NOISE_ALPHABET) for _ in range(rng.randint(0, n)))


def odd_frame(rng: random.Random) -> bytes:
    """Valid JSON with a field the reader must refuse: beyond float range, NaN, a string, a bool, missing."""
    frame = json.loads(random_frame(rng)[0])
    key = rng.choice(FEEDBACK_KEYS[1:])
    choice = rng.randrange(5)
    if choice == 4:
        del frame[key]
        return json.dumps(frame).encode()
    frame[key] = ("HUGE", float("nan"), "1.0", True)[choice]
    return json.dumps(frame).encode().replace(b'"HUGE"', b"1" + b"0" * rng.randint(309, 4000))


def mutate(rng: random.Random, frame: bytes) -> bytes:
    b = bytearray(frame)
    for _ in range(rng.randint(1, 4)):
        op, i = rng.random(), rng.randrange(len(b) + 1)
        if op < 0.4:
            del b[i:]  # torn
        elif op < 0.7 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        else:
            b[i:i] = rng.randbytes(rng.randint(1, 4))
    return bytes(b)


def one_case(rng: random.Random) -> tuple[bytes, list[tuple[float, ...]]]:
    """A byte stream and the joint vectors of the intact frames in it, in order."""
    parts, expected = [], []
    eol = rng.choice((b"\r\n", b"\n"))
    for _ in range(rng.randint(1, 12)):
        kind = rng.random()
        if kind < 0.35:
            frame, joints = random_frame(rng)
            line_so_far = b"".join(parts).rsplit(b"\n", 1)[-1]
            parts.append(frame + eol)
            if len(line_so_far) + len(frame) + 1 < DEFAULT_MAX_LINE_BYTES:
                expected.append(joints)  # else it is glued into an over-long line, which is dropped whole
        elif kind < 0.55:
            parts.append(mutate(rng, random_frame(rng)[0]))  # no eol: merges with what follows
        elif kind < 0.6:
            parts.append(odd_frame(rng) + eol)
        elif kind < 0.65:
            parts.append(rng.choice((b"x", b"{", b"0", b"[")) * rng.randint(4000, 9000) + rng.choice((eol, b"")))
        elif kind < 0.75:
            parts.append(rng.choice(BOOT_TEXT) + eol)
        else:
            parts.append(random_noise(rng) + eol)
    return b"".join(parts), expected


def chunked(rng: random.Random, data: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        n = rng.choice((1, 2, 7, 64, 256, 4096))
        out.append(data[i : i + n])
        i += n
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="number of random streams")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    counts: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    started = time.perf_counter()
    for i in range(args.n):
        data, expected = one_case(rng)
        reader = MessageReader()
        got: list[tuple[float, ...]] = []
        try:
            for chunk in chunked(rng, data):
                for m in reader.feed(chunk):
                    counts[type(m).__name__] += 1
                    if isinstance(m, Feedback):
                        got.append(m.firmware_rad)
                    elif not isinstance(m, JsonMessage | BootNotice):
                        counts["unknown_message_type"] += 1
            reader.feed(b"\n")  # end of stream
        except RealArmError:
            counts["project_errors"] += 1
        except Exception:
            counts["foreign_exceptions"] += 1
            if counts["foreign_exceptions"] <= 3:
                print(f"case {i}: foreign exception on {data[:120]!r}...", file=sys.stderr)
                traceback.print_exc()
            continue
        # Frames on their own line must all come out, in order (mutated frames may add recovered ones between).
        it = iter(got)
        if not all(any(g == e for g in it) for e in expected):
            counts["lost_intact_frames"] += 1
        totals.update(reader.stats.as_dict())
        counts["bytes"] += len(data)
        counts["intact_frames"] += len(expected)
    elapsed = time.perf_counter() - started
    print(f"streams: {args.n}  seed: {args.seed}  time: {elapsed:.1f} s")
    for k in ("bytes", "intact_frames", "Feedback", "JsonMessage", "BootNotice", "unknown_message_type",
              "lost_intact_frames", "project_errors", "foreign_exceptions"):
        print(f"  {k:<22}{counts[k]}")
    print("reader stats (summed):")
    for k, v in totals.items():
        print(f"  {k:<22}{v}")
    ok = counts["foreign_exceptions"] == 0 and counts["lost_intact_frames"] == 0 and counts["unknown_message_type"] == 0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
