"""Questions asked of a recording: TIME as typed and `diff T1 T2` (the recorded world as
a read-only backend is ctrtui/history/replay.py; `where PID` ctrtui/history/where.py)."""

from __future__ import annotations

import re
import time

from ctrtui.history.reader import Recording
from ctrtui.history.records import HistoryError
from ctrtui.model.snapshot import diff
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


__all__ = ["diff_rows", "parse_time", "seconds_back"]

_AGO = re.compile(r"(?:-\s*(\d{1,9}(?:\.\d+)?)\s*([smhd])|(\d{1,9}(?:\.\d+)?)\s*([smhd])\s+ago)\Z")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\Z")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


_BATCH_ID = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}\Z")
"""The form of the batch ids ctrtui writes (ctrtui.engine.batches.new_batch_id)."""


def seconds_back(text: str) -> float | None:
    """How far before "now" a relative TIME lies (`now` 0, `-5m` and `3m ago` 300), or None
    when `text` is not relative: the one part of TIME that needs no clock and no recording."""
    s = text.strip()
    if s == "now":
        return 0.0
    m = _AGO.match(s)
    if m is None:
        return None
    n, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return float(n) * _UNIT[unit]


def parse_time(text: str, rec: Recording | None = None, now: float | None = None) -> float:
    """TIME as typed: ISO 8601 (`2026-12-07T03:12`, a zone or local time), `HH:MM[:SS]`
    today (local time), `now`, `-5m` / `3m ago` (s, m, h, d), or a batch id of the journal (the
    time it was written); HistoryError otherwise."""
    from datetime import datetime

    now = time.time() if now is None else now
    s = text.strip()
    back = seconds_back(s)
    if back is not None:
        return now - back
    m = _CLOCK.match(s)
    if m:
        h, mi = int(m.group(1)), int(m.group(2))
        sec = float(m.group(3) or 0)
        if h > 23 or mi > 59 or sec >= 60:
            raise HistoryError(f"time {display(text)}: not a time of day")
        day = time.localtime(now)
        return time.mktime((day.tm_year, day.tm_mon, day.tm_mday, h, mi, 0, 0, 0, -1)) + sec
    # A batch id first: ctrtui's ids (20261207T203514-a1b2c3) whose random part is all digits
    # also read as an ISO time with a zone offset (-22:30:90).
    if rec is not None and len(s) <= 80:
        for b in rec.batches():
            if b["batch"] == s and b["time"] is not None:
                return float(b["time"]) + 1.0  # the first sample after the batch shows what it did
    if _BATCH_ID.match(s):
        raise HistoryError(f"time {display(text)}: no batch of that id in the recording (`ctrtui log` lists "
                           "the journal's batches)")
    try:
        return datetime.fromisoformat(s).timestamp()
    except ValueError:
        pass
    raise HistoryError(f"time {display(text)}: give an ISO 8601 time (2026-12-07T03:12), HH:MM[:SS] today, "
                       "-5m or '3m ago', or a batch id the recording holds")


def diff_rows(rec: Recording, t1: float, t2: float) -> list[dict[str, Any]]:
    """What changed from the sample at `t1` to the one at `t2`, in the live diff's words
    (ctrtui.model.snapshot.diff): per hierarchy, cgroups added and removed, tasks added,
    removed and moved (TIDs)."""
    a, _ = rec.snapshot_at(t1)
    b, _ = rec.snapshot_at(t2)
    d = diff(a, b)
    rows: list[dict[str, Any]] = []
    for name in d.added_hierarchies:
        rows.append({"hierarchy": name, "change": "hierarchy-added"})
    for name in d.removed_hierarchies:
        rows.append({"hierarchy": name, "change": "hierarchy-removed"})
    for name, hd in d.hierarchies.items():
        rows += [{"hierarchy": name, "change": "cgroup-added", "cgroup": p} for p in hd.added_cgroups]
        rows += [{"hierarchy": name, "change": "cgroup-removed", "cgroup": p} for p in hd.removed_cgroups]
        rows += [{"hierarchy": name, "change": "task-added", "pid": t, "cgroup": p} for t, p in hd.added_tasks]
        rows += [{"hierarchy": name, "change": "task-removed", "pid": t, "cgroup": p} for t, p in hd.removed_tasks]
        rows += [{"hierarchy": name, "change": "task-moved", "pid": t, "from": o, "to": n}
                 for t, o, n in hd.moved_tasks]
    return rows
