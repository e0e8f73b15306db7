#!/usr/bin/env python3
"""Point citations of the old hardware facts sheet at docs/hardware.md, or check that every citation resolves.

The code used to cite a facts sheet outside the repository by section ("<sheet> §1.1", "(<sheet> §2.2, §3.1)",
"<sheet> §7 item 3") and by path (``../shared/hardware/<sheet file>``). docs/hardware.md keeps the same section
numbers, so a rewrite is mechanical:

    python scripts/dev/repoint_citations.py source scripts tests benchmarks exts README.md
    python scripts/dev/repoint_citations.py --check source scripts tests benchmarks exts README.md docs

Without ``--check`` it rewrites the files in place and prints what it changed. With ``--check`` it changes
nothing and exits 1, listing each problem, when a citation of the old sheet remains, or when a
"hardware §X[.Y]" citation (or "docs/hardware.md §X") names a section that is not a heading of docs/hardware.md,
or "§7 item N" goes past the numbered list of §7. Stdlib only.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HARDWARE_MD = REPO / "docs" / "hardware.md"
SUFFIXES = {".py", ".md", ".toml", ".sh", ".yaml", ".yml"}
SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "node_modules", ".ruff_cache", ".pytest_cache", "build", "dist"}
SELF = Path(__file__).resolve()
MAX_LINE = 120  # ruff line-length (pyproject.toml)

SECT = "\u00a7"  # the section sign, spelled out so this file never reads as a citation itself
OLD_WORD = "fac" + "ts"
OLD_FILE = "roarm-m3-" + OLD_WORD + ".md"

#: Section numbers that changed when the old sheet was reorganised: its leader/follower section was once §9,
#: and a few citations still say so. It is §5.2 (PC-mediated leader/follower) now.
RENUMBER = {"9": "5.2"}

# One reference inside a citation chain: "1.1", "7 item 3", "7 items 1-2", optionally followed by "T:107".
_REF = r"(?P<num>\d+(?:\.\d+)?)(?:\s+items?\s+(?P<item>\d+)(?:\s*[-\u2013]\s*(?P<item2>\d+))?)?(?:\s+T:\d+)?"
# What may join two references: whitespace, commas, slashes, dashes, "(", "and"/"or", a comment marker.
_JOIN = r"(?:[\s,/(\u2013-]|#:?|\band\b|\bor\b)*" + SECT
_CHAIN = _REF + r"(?:" + _JOIN + r"\s*" + _REF.replace("?P<num>", "").replace("?P<item>", "").replace(
    "?P<item2>", "") + r")*"

# "facts §", "Facts §§", "facts sheet §" (also across a line break).
OLD_CITE = re.compile(r"\b([Ff])" + OLD_WORD[1:] + r"(?:\s+sheet)?(\s*)" + SECT + SECT + r"?\s*(" + _CHAIN + ")")
# "the facts sheet (../shared/hardware/roarm-m3-facts.md)" and the bare path, with or without "../".
OLD_SHEET_WITH_PATH = re.compile(r"\bthe " + OLD_WORD + r" sheet \((?:\.\./)?shared/hardware/" + re.escape(OLD_FILE)
                                 + r"\)")
OLD_PATH = re.compile(r"(?:\.\./)?shared/hardware/" + re.escape(OLD_FILE))
OLD_SHEET = re.compile(r"\bthe " + OLD_WORD + r" sheet\b")
OLD_SECTIONS = re.compile(r"\(" + OLD_WORD + r" sections\)")
# Anything that still cites the old sheet, for --check.
REMAINING = re.compile(r"\b[Ff]" + OLD_WORD[1:] + r"(?:\s+sheet)?\s*" + SECT + r"|\b" + OLD_WORD + r" sheet\b|"
                       + re.escape(OLD_FILE))

# New citations: "hardware §..." or "docs/hardware.md`` §..." / "docs/hardware.md §...".
NEW_CITE = re.compile(r"\b[Hh]ardware(?:\.md`{0,2})?\s*" + SECT + SECT + r"?\s*(" + _CHAIN + ")")
_ONE_REF = re.compile(SECT + r"?\s*" + _REF)


def iter_files(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        p = Path(name)
        if not p.is_absolute():
            p = (Path.cwd() / p) if (Path.cwd() / p).exists() else REPO / p
        if p.is_file():
            if p.suffix in SUFFIXES and p.resolve() != SELF:
                yield p
        elif p.is_dir():
            for f in sorted(p.rglob("*")):
                if (f.is_file() and f.suffix in SUFFIXES and f.resolve() != SELF
                        and not any(part in SKIP_DIRS or part.endswith(".egg-info") for part in f.parts)):
                    yield f
        else:
            print(f"warning: {name} does not exist", file=sys.stderr)


def _renumber_chain(chain: str) -> str:
    def one(m: re.Match[str]) -> str:
        num = m.group("num")
        return m.group(0).replace(num, RENUMBER[num], 1) if num in RENUMBER and not m.group("item") else m.group(0)

    return _ONE_REF.sub(one, chain)


def rewrite(text: str) -> str:
    def cite(m: re.Match[str]) -> str:
        head = "Hardware" if m.group(1) == "F" else "hardware"
        return f"{head}{m.group(2) or ' '}{SECT}{_renumber_chain(m.group(3))}"

    text = OLD_CITE.sub(cite, text)
    text = OLD_SHEET_WITH_PATH.sub("docs/hardware.md", text)
    text = OLD_PATH.sub("docs/hardware.md", text)
    text = OLD_SHEET.sub("docs/hardware.md", text)
    return OLD_SECTIONS.sub("(hardware sections)", text)


def hardware_sections(path: Path = HARDWARE_MD) -> tuple[set[str], int]:
    """Section numbers that are headings of docs/hardware.md, and the length of §7's numbered list."""
    sections: set[str] = set()
    items, in_seven = 0, False
    for line in path.read_text(encoding="utf-8").splitlines():
        h = re.match(r"#{2,4}\s+(\d+(?:\.\d+)?)\.?\s", line)
        if h:
            sections.add(h.group(1))
            in_seven = h.group(1) == "7"
            continue
        if line.startswith("#"):
            in_seven = False
        elif in_seven and (i := re.match(r"(\d+)\.\s", line)):
            items = max(items, int(i.group(1)))
    return sections, items


def check_text(text: str, sections: set[str], items: int) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    for m in REMAINING.finditer(text):
        problems.append((text.count("\n", 0, m.start()) + 1, f"cites the old facts sheet: {m.group(0)!r}"))
    for m in NEW_CITE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        for r in _ONE_REF.finditer(m.group(1)):
            num, item, item2 = r.group("num"), r.group("item"), r.group("item2")
            if num not in sections:
                problems.append((line, f"{SECT}{num} is not a heading of docs/hardware.md"))
            elif item is not None:
                if num != "7":
                    problems.append((line, f"{SECT}{num} has no numbered items"))
                elif max(int(item), int(item2 or item)) > items or int(item) < 1:
                    problems.append((line, f"{SECT}7 has {items} items, not item {item2 or item}"))
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="files or folders (*.py, *.md, *.toml, *.sh, *.yaml)")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 on any unresolved citation")
    args = ap.parse_args(argv)
    files = list(iter_files(args.paths))
    if args.check:
        sections, items = hardware_sections()
        bad = 0
        for f in files:
            for line, msg in check_text(f.read_text(encoding="utf-8", errors="replace"), sections, items):
                print(f"{f.relative_to(REPO) if f.is_relative_to(REPO) else f}:{line}: {msg}")
                bad += 1
        print(f"{len(files)} files checked, {bad} problem(s)", file=sys.stderr)
        return 1 if bad else 0
    changed = 0
    for f in files:
        old = f.read_text(encoding="utf-8")
        new = rewrite(old)
        if new != old:
            f.write_text(new, encoding="utf-8")
            changed += 1
            rel = f.relative_to(REPO) if f.is_relative_to(REPO) else f
            print(f"rewrote {rel}")
            old_lines = set(old.splitlines())
            for n, line in enumerate(new.splitlines(), 1):
                if f.suffix == ".py" and len(line) > MAX_LINE and line not in old_lines:
                    print(f"  {rel}:{n}: now {len(line)} characters, over ruff's {MAX_LINE}: rewrap it")
    print(f"{changed} of {len(files)} files rewritten", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
