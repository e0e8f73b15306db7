"""A rollback journal that makes appending one episode to a LeRobot v3 dataset all-or-nothing.

Appending (``LeRobotDataset.resume`` ... ``finalize``) adds new parquet (and video) files and rewrites
``meta/info.json``, ``meta/stats.json`` and ``meta/tasks.parquet``; ``info.json`` already counts the new episode
before ``finalize()`` writes the parquet footers. A process killed in between leaves a dataset LeRobot cannot load.
So before an append, :meth:`AppendJournal.begin` records which files the dataset holds and copies the files directly
under ``meta/``; :meth:`AppendJournal.commit` drops that record. If the record is still there when the dataset is
next opened for writing (:func:`recover`), the append never finished: every file it added is deleted and the meta
files are restored, which leaves the dataset exactly as it was before that episode.

Protects against the process dying (SIGKILL, an exception), not against power loss (nothing is fsync'ed).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

JOURNAL = ".append_journal"  # a complete journal: an append is in progress, or died
_JOURNAL_TMP = ".append_journal.tmp"  # a journal being written: nothing was changed yet
_JOURNAL_DONE = ".append_journal.done"  # a committed journal being deleted
_LISTING = "entries.json"
_META_COPY = "meta"
_JOURNAL_NAMES = {JOURNAL, _JOURNAL_TMP, _JOURNAL_DONE}


def _entries(root: Path) -> list[str]:
    """Every file and folder under ``root`` (relative, POSIX), the journals left out."""
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if rel.parts[0] not in _JOURNAL_NAMES:
            out.append(rel.as_posix())
    return sorted(out)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _drop_journal(root: Path) -> None:
    """Rename first: the rename is the atomic step, so a half-deleted journal is never read as a live one."""
    if (root / JOURNAL).exists():
        os.replace(root / JOURNAL, root / _JOURNAL_DONE)
    _remove(root / _JOURNAL_DONE)


class AppendJournal:
    """``begin`` before LeRobot touches the dataset; ``commit`` after ``finalize()``; ``rollback`` on an error."""

    def __init__(self, root: Path):
        self.root = root

    @classmethod
    def begin(cls, root: str | Path) -> AppendJournal:
        root = Path(root)
        if (root / JOURNAL).exists():
            raise RuntimeError(f"{root} has an unfinished append; call recover() first")
        tmp = root / _JOURNAL_TMP
        _remove(tmp)
        (tmp / _META_COPY).mkdir(parents=True)
        (tmp / _LISTING).write_text(json.dumps(_entries(root)))
        for path in (root / "meta").iterdir():
            if path.is_file():
                shutil.copy2(path, tmp / _META_COPY / path.name)
        os.replace(tmp, root / JOURNAL)  # from here on, a crash is rolled back
        return cls(root)

    def commit(self) -> None:
        _drop_journal(self.root)

    def rollback(self) -> None:
        _roll_back(self.root)


def _roll_back(root: Path) -> None:
    journal = root / JOURNAL
    before = set(json.loads((journal / _LISTING).read_text()))
    # deepest first, so a new folder is removed with its files and an old folder keeps its old files
    for rel in sorted(set(_entries(root)) - before, key=lambda r: r.count("/"), reverse=True):
        _remove(root / rel)
    for saved in (journal / _META_COPY).iterdir():
        tmp = root / "meta" / f".{saved.name}.restore"
        shutil.copy2(saved, tmp)
        os.replace(tmp, root / "meta" / saved.name)
    _drop_journal(root)  # only now: a crash while rolling back rolls back again


def recover(root: str | Path) -> bool:
    """Undo an append that did not finish (True if there was one); clear leftovers of journal bookkeeping."""
    root = Path(root)
    _remove(root / _JOURNAL_TMP)
    _remove(root / _JOURNAL_DONE)
    if not (root / JOURNAL).exists():
        return False
    _roll_back(root)
    return True
