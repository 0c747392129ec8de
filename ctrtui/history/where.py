"""`where PID`: every cgroup one task was in, read from a recording's records without
rebuilding the world (the full snapshots looked up once per file, the deltas' sorted TID
arrays bisected in place), and the ctrtui batch behind each change."""

from __future__ import annotations

from bisect import bisect_left

from ctrtui.history.records import SAMPLE_KINDS, U32, Damaged
from ctrtui.model.snapshot import find_hierarchy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ctrtui.history.index import Members, RecordFile, RecordIndex
    from ctrtui.history.taskindex import TaskIndex
    from ctrtui.model.snapshot import Hierarchy
    from ctrtui.model.wire import Placement

__all__ = ["task_trail", "which_batch"]


def task_trail(rec: RecordIndex, pid: int, since: float | None = None,
               until: float | None = None) -> list[dict[str, Any]]:
    """Every cgroup (per hierarchy) the task with `pid` was in from `since` to `until`:
    rows {hierarchy, cgroup, pid, start_time, entered, left, batch (the ctrtui batch that
    moved it there, or None), left_batch}. A PID whose start time changes is another task:
    its rows carry the other start time. Reads only the headers and bisects the deltas' PID
    arrays."""
    first, last = rec.span()
    lo = first if since is None else since
    hi = last if until is None else until
    k0 = rec.sample_index(max(lo, first))
    start = rec.full_before(k0)
    if start < 0:
        raise rec.corrupt(rec.index[k0][0], 0, "it does not start with a full snapshot")
    trail = _Trail(rec, pid)
    for f, i, kind, t in rec.index[start:]:
        if t > hi:
            break
        if f is trail.skip or (kind == b"D" and f is trail.quiet and i not in trail.quiet_gone):
            if kind in SAMPLE_KINDS:  # the file's index says this record does not concern the task
                trail.prev_t = t
        elif kind == b"F":
            trail.full(f, i, t)
        elif kind == b"D":
            trail.delta(f, i, t)
    return [r for r in trail.rows if r["left"] is None or r["left"] >= lo]


class _Trail:
    """The rows of one PID as the records are read in order: those still open (the task's
    cgroup now, per hierarchy), the cgroup ids of the file being read, the task's start time."""

    def __init__(self, rec: RecordIndex, pid: int) -> None:
        self.rec = rec
        self.pid = pid
        self.rows: list[dict[str, Any]] = []
        self.open_rows: dict[str, dict[str, Any]] = {}
        self.prev_t: float | None = None
        self.batches = rec.batches()
        self.paths: dict[str, dict[int, str]] = {}
        self.start_time: int | None = None
        self.file: RecordFile | None = None
        self.header: tuple[bytes, dict[str, Any]] | None = None
        self.pending: tuple[RecordFile, int] | TaskIndex | None = None
        """The file's first full snapshot (or its file's task index), not decoded yet: the
        task was in none of its cgroups, and `paths` is made from it (and `edits`) only if a
        delta lists the task."""
        self.skip: RecordFile | None = None
        """A file whose task index says it never mentions the task: its records change nothing."""
        self.quiet: RecordFile | None = None
        self.quiet_gone: frozenset[int] = frozenset()
        """A file whose deltas never list the task (its task index says): only those of them
        where a hierarchy went (`quiet_gone`, their numbers) are read."""
        self.edits: list[tuple[str, str, int, str]] = []
        """What the deltas read since `pending` did to `paths`: (op, hierarchy, id, path)."""

    def enter(self, hier: str, path: str | None, t: float, start: int | None, attributed: bool) -> None:
        """The task is in `path` of `hier` from `t` on (None: in none); `attributed`: the
        change was seen between two samples (not the first look at the task)."""
        old = self.open_rows.pop(hier, None)
        batch = None
        if attributed and path is not None:
            batch = which_batch(self.batches, hier, self.pid, path, self.prev_t, t)
        if old is not None:
            old["left"] = t
            old["left_batch"] = batch
        if path is not None:
            row = {"hierarchy": hier, "cgroup": path, "pid": self.pid, "start_time": start,
                   "entered": t if attributed else None, "left": None, "batch": batch, "left_batch": None}
            self.rows.append(row)
            self.open_rows[hier] = row

    def full(self, f: RecordFile, i: int, t: float) -> None:
        """A full snapshot: read only as the first record of a file (the cgroup ids start
        again there); later ones repeat what the deltas said. With the file's task index
        (its `I` record) the snapshot is not read at all."""
        if self.file is f:
            self.prev_t = t
            return
        self.file = f
        self.pending, self.edits = None, []
        ix = self.rec.task_index(f)
        at = ix.find(self.pid) if ix is not None else None
        if ix is not None and at is None:  # never in this file: none of its records matter
            self._absent(t, None)
            self.skip = f
            return
        if ix is not None and at is not None and not at[1]:
            self.quiet, self.quiet_gone = f, ix.gone
        if ix is not None and at is not None and ix.full == i:
            j = at[0]
            if j < 0:  # only its deltas list the task
                self._absent(t, ix)
                return
            found, st = self._index_found(f, ix, j)
        else:
            tasks = self.rec.full_tasks(f, i)
            task = tasks.get(self.pid)
            if task is None:  # in no cgroup there: the snapshot can wait
                self._absent(t, (f, i))
                return
            found, st = self._found(f, i), task[1]
        self.paths = {h.name: dict(enumerate(paths)) for h, paths, _ in found}
        if st != self.start_time and self.start_time is not None:  # reborn
            for h in list(self.open_rows):
                self.enter(h, None, t, None, True)
        self.start_time = st
        for hier, _, path in found:
            cur = self.open_rows.get(hier.name)
            if (cur["cgroup"] if cur else None) != path:
                self.enter(hier.name, path, t, self.start_time, self.prev_t is not None)
        for h in [h for h in self.open_rows if find_hierarchy(found, h, key=_hierarchy) is None]:
            self.enter(h, None, t, None, True)
        self.prev_t = t

    def _absent(self, t: float, pending: tuple[RecordFile, int] | TaskIndex | None) -> None:
        """The task is in no cgroup of the file's first full snapshot: its rows end there."""
        for h in list(self.open_rows):
            self.enter(h, None, t, None, True)
        self.start_time = None
        self.pending, self.paths = pending, {}
        self.prev_t = t

    def _index_found(self, f: RecordFile, ix: TaskIndex, j: int) -> tuple[list[Placement], int | None]:
        """From the file's task index: where the task at position `j` of its full snapshot
        was (-1: not there), and its start time."""
        try:
            return ix.placements(j), (ix.start(j) if j >= 0 else None)
        except Damaged as e:
            raise self.rec.corrupt(f, len(f.records) - 1, str(e)) from None

    def _found(self, f: RecordFile, i: int) -> list[Placement]:
        return self.rec.full_find(f, i, self.pid)

    def delta(self, f: RecordFile, i: int, t: float) -> None:
        """A delta: the task's new cgroup in each hierarchy where its TID is listed."""
        doc, views = self._read_delta(f, i)
        for name in doc.get("gone", ()):
            self._edit("gone", name, 0, "")
            if name in self.open_rows:
                self.enter(name, None, t, None, True)
        for row in doc.get("tasks", ()):
            if row[0] == self.pid:
                if self.start_time is not None and row[1] != self.start_time:
                    for h in list(self.open_rows):
                        if self.open_rows[h]["start_time"] == self.start_time:
                            self.enter(h, None, t, None, True)
                self.start_time = row[1]
        for head, (tids, tcg, _, _) in zip(doc["h"], views):
            name = head["name"]
            for cid, path in head.get("add", ()):
                self._edit("add", name, cid, path)
            j = bisect_left(tids, self.pid)
            if j < len(tids) and tids[j] == self.pid:
                cid = tcg[j]
                if self.pending is not None:
                    self._decode_pending()
                path = self.paths.get(name, {}).get(cid) if cid >= 0 else None
                self.enter(name, path, t, self.start_time, True)
            for cid in head.get("del", ()):
                self._edit("del", name, cid, "")
        self.prev_t = t

    def _edit(self, op: str, name: str, cid: int, path: str) -> None:
        """A delta's change to the cgroup ids: made, or kept for when `pending` is decoded."""
        if self.pending is not None:
            self.edits.append((op, name, cid, path))
        elif op == "gone":
            self.paths.pop(name, None)
        elif op == "add":
            self.paths.setdefault(name, {})[cid] = path
        else:
            self.paths.setdefault(name, {}).pop(cid, None)

    def _decode_pending(self) -> None:
        """The file's first full snapshot decoded after all (a delta lists the task), and
        the deltas' changes to its cgroup ids since then made, in order."""
        pending = self.pending
        assert pending is not None
        if isinstance(pending, tuple):
            found = self._found(*pending)
        else:
            assert self.file is not None
            found = self._index_found(self.file, pending, -1)[0]
        self.paths = {h.name: dict(enumerate(paths)) for h, paths, _ in found}
        self.pending, edits, self.edits = None, self.edits, []
        for op, name, cid, path in edits:
            self._edit(op, name, cid, path)

    def _read_delta(self, f: RecordFile, i: int) -> tuple[dict[str, Any], list[Members]]:
        """The delta, its JSON header parsed again only when its bytes differ from the one
        before (the steady state repeats it)."""
        raw = f.payload(i, verify=False)
        n = U32.unpack_from(raw, 0)[0] if len(raw) >= 4 else 0
        jb = bytes(raw[4:4 + n])
        cached = self.header
        doc, views = self.rec.delta(f, i, cached[1] if cached is not None and cached[0] == jb else None,
                                    verify=False, procs=False)
        self.header = (jb, doc)
        return doc, views


def _hierarchy(place: Placement) -> Hierarchy:
    return place[0]


def which_batch(batches: list[dict[str, Any]], hier: str, pid: int, path: str | None, t0: float | None,
                t1: float) -> str | None:
    """The ctrtui batch that moved `pid` into `path` of `hier` between the samples at `t0`
    and `t1` (a second of slack each side for the clocks), or None."""
    lo = (t0 if t0 is not None else t1) - 1.0
    found = None
    for b in batches:
        when = b["time"]
        if when is None or when < lo or when > t1 + 1.0 or b["hierarchy"] != hier:
            continue
        for row in b["pids"]:
            if row[0] == pid and row[3] == path:
                found = b["batch"]
    return found
