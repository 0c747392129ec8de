"""Questions asked of a recording: TIME as typed, the recorded world as a read-only backend
(for `ls --at`, `tasks --at`), `where PID`, `diff T1 T2`."""

from __future__ import annotations

import re
import time

from ctrtui.history.reader import Recording
from ctrtui.history.records import HistoryError, task_info
from ctrtui.model.snapshot import Hierarchy, Snapshot, diff
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    from ctrtui.model.task import TaskInfo

__all__ = ["RecordedWorld", "diff_rows", "parse_time"]

_AGO = re.compile(r"(?:-\s*(\d{1,9}(?:\.\d+)?)\s*([smhd])|(\d{1,9}(?:\.\d+)?)\s*([smhd])\s+ago)\Z")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\Z")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_time(text: str, rec: Recording | None = None, now: float | None = None) -> float:
    """TIME as typed: ISO 8601 (`2026-12-07T03:12`, a zone or local time), `HH:MM[:SS]`
    today (local time), `now`, `-5m` / `3m ago` (s, m, h, d), or a batch id of the journal (the
    time it was written); HistoryError otherwise."""
    from datetime import datetime

    now = time.time() if now is None else now
    s = text.strip()
    if s == "now":
        return now
    m = _AGO.match(s)
    if m:
        n, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return now - float(n) * _UNIT[unit]
    m = _CLOCK.match(s)
    if m:
        h, mi = int(m.group(1)), int(m.group(2))
        sec = float(m.group(3) or 0)
        if h > 23 or mi > 59 or sec >= 60:
            raise HistoryError(f"time {display(text)}: not a time of day")
        day = time.localtime(now)
        return time.mktime((day.tm_year, day.tm_mon, day.tm_mday, h, mi, 0, 0, 0, -1)) + sec
    try:
        return datetime.fromisoformat(s).timestamp()
    except ValueError:
        pass
    if rec is not None and len(s) <= 80:
        for b in rec.batches():
            if b["batch"] == s and b["time"] is not None:
                return float(b["time"]) + 1.0  # the first sample after the batch shows what it did
    raise HistoryError(f"time {display(text)}: give an ISO 8601 time (2026-12-07T03:12), HH:MM[:SS] today, "
                       "-5m or '3m ago', or a batch id the recording holds")


class RecordedWorld:
    """The recorded world at one time as a read-only backend: what `ls` and `tasks` read
    (hierarchies, snapshot, task details). Nothing can be written."""

    kind = "history"
    identity = "history"
    read_only = True

    def __init__(self, rec: Recording, at: float) -> None:
        self._snap, self._tasks = rec.snapshot_at(at)
        self.pid_max = 4194304

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        return tuple(hs.hierarchy for hs in self._snap.hierarchies)

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None, **_: Any) -> Snapshot:
        snap = self._snap
        if names is None and subtree is None:
            return snap
        from types import MappingProxyType

        from ctrtui.model.snapshot import HierarchySnapshot, is_ancestor

        out = []
        for hs in snap.hierarchies:
            if names is not None and hs.name not in names:
                continue
            cs = hs.containers
            if subtree is not None:
                cs = MappingProxyType({p: c for p, c in cs.items() if is_ancestor(subtree, p)})
            out.append(HierarchySnapshot(hs.hierarchy, cs))
        return Snapshot(tuple(out), snap.taken_at, snap.backend)

    def cgroup_state(self, hierarchy: str, path: str) -> object | None:
        """Something (not None) when the cgroup was there at that time: what `_resolve` asks."""
        hs = self._snap.get(hierarchy)
        return True if hs is not None and path in hs else None

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        rows = {p: self._tasks.get(p) for p in pids}
        return {p: task_info(row) for p, row in rows.items() if row is not None}

    def task_state(self, pid: int) -> TaskInfo | None:
        row = self._tasks.get(pid)
        return task_info(row) if row is not None else None

    @property
    def taken_at(self) -> float:
        return self._snap.taken_at


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
