"""The journal: one JSON line per PID of every applied batch, for undo and for the record.

Each line: `time` (UTC, ISO 8601), `batch`, `pid`, `start_time`, `hierarchy`, `from`, `to`,
`outcome`, `errno`, `threads`, `undo_of` (the batch this one undid, or null). A batch is
written with one write, then flushed and fsync'd. A crash mid-write leaves a torn last line:
it is ignored with a warning (and cut off before the next append); any other line that is
not a journal entry is an error naming the file and line.
"""

from __future__ import annotations

import json
import os
from typing import Iterable, Mapping

from ctrtui.errors import CtrtuiError, os_error_text
from ctrtui.text import display

__all__ = ["Journal", "default_journal_path", "REQUIRED"]

REQUIRED = ("batch", "pid", "hierarchy", "from", "to", "outcome")
"""Keys every journal line must have."""


def default_journal_path(kind: str = "real") -> str:
    """`$XDG_STATE_HOME/ctrtui/journal.jsonl` for the real backend; the demo (simulated)
    backend gets its own file, `demo-journal.jsonl`, so it never undoes real moves."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    name = "journal.jsonl" if kind == "real" else f"{kind}-journal.jsonl"
    return os.path.join(base, "ctrtui", name)


class Journal:
    """An append-only JSON-lines journal at `path`, or kept in memory when `path` is None
    (then undo works for the life of the object). `warnings` collects what was forgiven
    (a torn last line)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self.warnings: list[str] = []
        self._memory: list[dict] = []

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    # ------------------------------------------------------------------ writing

    def append(self, entries: Iterable[Mapping]) -> None:
        """Append entries (one line each) in one write, then flush and fsync."""
        rows = [dict(e) for e in entries]
        if not rows:
            return
        if self.path is None:
            self._memory.extend(rows)
            return
        data = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode()
        directory = os.path.dirname(self.path) or "."
        os.makedirs(directory, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        try:
            self._cut_torn_tail(fd)
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)

    def _cut_torn_tail(self, fd: int) -> None:
        """A last line without its newline is a torn write: cut it off (or, when it is a
        whole entry that only lost its newline, add the newline)."""
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return
        start = max(0, size - 65536)
        tail = os.pread(fd, size - start, start)
        cut = tail.rfind(b"\n") + 1  # 0 when the whole tail is one line
        line = tail[cut:]
        if self._parse(line) is not None:
            os.write(fd, b"\n")
            return
        os.ftruncate(fd, start + cut)
        self.warnings.append(f"{self.path}: cut off a torn last line ({len(line)} bytes) left by an "
                             "interrupted write")

    # ------------------------------------------------------------------ reading

    @staticmethod
    def _parse(line: bytes) -> dict | None:
        try:
            row = json.loads(line)
        except ValueError:
            return None
        if not isinstance(row, dict) or any(k not in row for k in REQUIRED):
            return None
        return row

    def entries(self) -> list[dict]:
        """Every entry, oldest first. A missing file is an empty journal."""
        if self.path is None:
            return list(self._memory)
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        except OSError as e:
            raise CtrtuiError(f"cannot read journal {self.path}: {os_error_text(e)}; fix its permissions, or give "
                              "another file with --journal FILE") from None
        lines = data.split(b"\n")
        torn_possible = not data.endswith(b"\n")
        out = []
        for no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            row = self._parse(line)
            if row is None:
                if torn_possible and no == len(lines):
                    msg = f"{self.path}: ignored a torn last line {no} (an interrupted write)"
                    if msg not in self.warnings:
                        self.warnings.append(msg)
                    continue
                raise CtrtuiError(f"journal {self.path} is corrupt at line {no}: not a journal entry "
                                  f"('{display(line[:60])}'); move the file away to start a new one")
            out.append(row)
        return out

    def batches(self) -> dict[str, list[dict]]:
        """Entries grouped by batch id, batches in the order they were written."""
        out: dict[str, list[dict]] = {}
        for row in self.entries():
            out.setdefault(str(row["batch"]), []).append(row)
        return out

    def last_undoable(self) -> tuple[str, list[dict]] | None:
        """The newest batch that moved something, is not itself an undo, and was not undone."""
        batches = self.batches()
        undone = {row.get("undo_of") for rows in batches.values() for row in rows} - {None}
        for batch_id in reversed(list(batches)):
            rows = batches[batch_id]
            if batch_id in undone or any(r.get("undo_of") for r in rows):
                continue
            if any(r["outcome"] == "moved" for r in rows):
                return batch_id, rows
        return None
