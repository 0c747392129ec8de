"""Reading a recording's records: its files mapped read-only, every record indexed by its
17-byte header alone (a seek from one to the next), and one record decoded on demand (a full
snapshot with its task table, a delta's header and member arrays as views into the mapped
file, the journal batches), every length checked first (docs/history.md, "Reading rules")."""

from __future__ import annotations

import mmap
import os
import stat
import struct
import time
import zlib

from ctrtui.history.files import check_directory, list_files, open_file
from ctrtui.history.records import (
    FILE_HEADER,
    MAX_TASKS_TABLE,
    PID_LIMIT,
    SAMPLE_KINDS,
    U32,
    Damaged,
    HistoryError,
    Record,
    TaskTable,
    check_batch,
    check_delta_doc,
    check_version,
    crc_ok,
    int32_view,
    load_json,
    scan,
)
from ctrtui.history.taskindex import INDEX_KIND, TaskIndex
from ctrtui.model.wire import WireError, find_in_wire, from_wire
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ctrtui.model.snapshot import Snapshot
    from ctrtui.model.wire import Placement

__all__ = ["IndexEntry", "Members", "RecordFile", "RecordIndex", "when"]

Members = tuple[memoryview, memoryview, memoryview, memoryview]
"""One hierarchy's member changes in a delta: TIDs, their cgroup ids, TGIDs, their cgroup ids."""


class RecordFile:
    """One recording file, mapped read-only: its records' index."""

    def __init__(self, path: str) -> None:
        self.path = path
        fd = open_file(path, os.O_RDONLY, "read the recording")
        try:
            size = os.fstat(fd).st_size
            head = os.pread(fd, len(FILE_HEADER), 0)
            self.buf: Any = b""
            if size:
                check_version(head, path)
                self.buf = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        self.size = size
        self.records: list[Record] = []
        end = 0
        if size:
            self.records, end = scan(self.buf, size)
        self.torn = size - end if size else 0

    def payload(self, i: int, verify: bool = True) -> memoryview:
        """Record `i`'s payload, its checksum checked (`Damaged` when wrong) unless not
        `verify` (`where`'s bisecting, whose every read is bounds-checked anyway)."""
        start, _, _, n = self.records[i]
        if verify and not crc_ok(self.buf, self.records[i]):
            raise Damaged("its checksum is wrong (the bytes changed after they were written)")
        return memoryview(self.buf)[start:start + n]


IndexEntry = tuple[RecordFile, int, bytes, float]
"""A record of a recording: its file, its number there, its kind, its time."""


def when(t: float) -> str:
    """A time as the sentences about a recording show it (local time)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


class RecordIndex:
    """A recording (a directory, or one file of it), read-only, indexed by its records'
    headers; decodes one record when asked."""

    def __init__(self, place: str, use_index: bool = True) -> None:
        """`use_index`: read the files' `I` records (False: read every file as one without,
        the way to check that both give the same answers)."""
        self.place = place
        self.use_index = use_index
        self._task_indexes: dict[str, TaskIndex | None] = {}
        try:
            st = os.lstat(place)
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):
            paths = [place]
        else:
            check_directory(place, create=False)
            paths = list_files(place)
        self.files = [RecordFile(p) for p in paths]
        self.warnings = [f"{display(f.path)}: ignored a torn tail of {f.torn} bytes (an interrupted write)"
                         for f in self.files if f.torn]
        self.index: list[IndexEntry] = [(f, i, kind, t) for f in self.files
                                        for i, (_, kind, t, _) in enumerate(f.records)]
        self._batches: list[dict[str, Any]] | None = None

    def corrupt(self, f: RecordFile, i: int, why: str) -> HistoryError:
        """The sentence for a record that breaks a rule."""
        return HistoryError(f"recording {display(f.path)} is damaged at record {i + 1}: {why}; move the file away "
                            "to read the rest")

    @property
    def times(self) -> list[float]:
        """The samples' times, oldest first (a sample written as a delta and a full snapshot counts twice)."""
        return [t for _, _, kind, t in self.index if kind in SAMPLE_KINDS]

    def span(self) -> tuple[float, float]:
        """The first and the last sample's time; HistoryError when there is none."""
        ts = self.times
        if not ts:
            raise HistoryError(f"the recording at {display(self.place)} holds no sample yet")
        return ts[0], ts[-1]

    def batches(self) -> list[dict[str, Any]]:
        """Every journal batch the recording holds, oldest first, each checked."""
        if self._batches is None:
            out: dict[str, dict[str, Any]] = {}
            for f, i, kind, _ in self.index:
                if kind != b"J":
                    continue
                try:
                    doc = load_json(f.payload(i), "the batch list")
                    for b in doc if isinstance(doc, list) else ():
                        b = check_batch(b)
                        out.setdefault(b["batch"], b)
                except Damaged as e:
                    raise self.corrupt(f, i, str(e)) from None
            self._batches = sorted(out.values(), key=lambda b: b["time"] or 0.0)
        return self._batches

    def task_index(self, f: RecordFile) -> TaskIndex | None:
        """The file's task index (its `I` record, ctrtui/history/taskindex.py), checked
        against the records before it; None when it has none (an older file, the one being
        written, one cut short) or when not `use_index`. HistoryError when it breaks a rule."""
        if not self.use_index:
            return None
        if f.path not in self._task_indexes:
            self._task_indexes[f.path] = self._read_task_index(f)
        return self._task_indexes[f.path]

    def _read_task_index(self, f: RecordFile) -> TaskIndex | None:
        recs = f.records
        at = [k for k, r in enumerate(recs) if r[1] == INDEX_KIND]
        if not at:
            return None
        k = at[0]
        try:
            if k != len(recs) - 1:
                raise Damaged("a task index that is not the file's last record")
            fulls = [j for j, r in enumerate(recs) if r[1] == b"F"]
            crcs = [U32.unpack_from(f.buf, start - 4)[0] for start, _, _, _ in recs[:k]]
            ix = TaskIndex(f.payload(k), k, crcs, fulls[0] if fulls else -1)
        except Damaged as e:
            raise self.corrupt(f, k, str(e)) from None
        if len(ix.tids) != self._table_count(f, ix.full):
            raise self.corrupt(f, k, "its task index does not list the tasks of the file's first full snapshot")
        return ix

    def _table_count(self, f: RecordFile, i: int) -> int:
        """How many tasks a full snapshot's table holds: its first 4 bytes unpacked, no more."""
        try:
            rest = self._wire_part(f, i)[1]
            head = zlib.decompressobj().decompress(bytes(rest[:4096]), 4)
        except (Damaged, zlib.error) as e:
            raise self.corrupt(f, i, str(e)) from None
        if len(head) < 4:
            raise self.corrupt(f, i, "its task table has no count")
        return int(U32.unpack_from(head, 0)[0])

    def full(self, f: RecordFile, i: int) -> tuple[Snapshot, TaskTable]:
        """A full snapshot record: the snapshot and its task table."""
        snap, tasks = self._full(f, i, snapshot=True, table=True)
        assert snap is not None and tasks is not None
        return snap, tasks

    def full_tasks(self, f: RecordFile, i: int) -> TaskTable:
        """A full snapshot record's task table alone (its snapshot left encoded): every TID
        of the snapshot, so a TID not in it is in no cgroup there."""
        tasks = self._full(f, i, snapshot=False, table=True)[1]
        assert tasks is not None
        return tasks

    def full_find(self, f: RecordFile, i: int, tid: int) -> list[Placement]:
        """Where `tid` is in a full snapshot record, its snapshot not built: per hierarchy its
        description, its cgroup paths (a cgroup's id is its position) and the cgroup whose
        threads list `tid` (None: none); ctrtui.model.wire.find_in_wire."""
        try:
            return find_in_wire(self._wire_part(f, i)[0], tid)
        except (WireError, Damaged) as e:
            raise self.corrupt(f, i, str(e)) from None

    def _wire_part(self, f: RecordFile, i: int) -> tuple[bytes, memoryview]:
        """A full snapshot record's wire form, and the rest of it (the packed task table)."""
        data = f.payload(i)
        if len(data) < 4:
            raise Damaged("a full snapshot without its length")
        n = U32.unpack_from(data, 0)[0]
        if n > len(data) - 4:
            raise Damaged("a full snapshot longer than its record")
        return bytes(data[4:4 + n]), data[4 + n:]

    def _full(self, f: RecordFile, i: int, snapshot: bool, table: bool) -> tuple[Snapshot | None, TaskTable | None]:
        snap = tasks = None
        try:
            wire, rest = self._wire_part(f, i)
            if snapshot:
                snap = from_wire(wire)
            if table:
                z = zlib.decompressobj()
                raw = z.decompress(bytes(rest), MAX_TASKS_TABLE)
                if z.unconsumed_tail:
                    raise Damaged(f"its task table unpacks to more than {MAX_TASKS_TABLE} bytes")
                if not z.eof:
                    raise Damaged("its task table ends early")
                tasks = TaskTable.decode(raw)
        except (WireError, zlib.error, Damaged) as e:
            raise self.corrupt(f, i, str(e)) from None
        return snap, tasks

    def delta(self, f: RecordFile, i: int, parsed: dict[str, Any] | None = None, verify: bool = True,
              procs: bool = True) -> tuple[dict[str, Any], list[Members]]:
        """A delta's header and, per hierarchy in it, (tids, tid cgroups, pids, pid cgroups)
        as int views into the mapped file (nothing copied). `parsed`: its header, already
        read and checked (the same bytes as the delta before: the steady state). Not
        `procs`: the process arrays are skipped (their lengths checked, their views empty)."""
        try:
            data = f.payload(i, verify)
            if len(data) < 4:
                raise Damaged("a delta without its header length")
            n = U32.unpack_from(data, 0)[0]
            if n > len(data) - 4:
                raise Damaged("a delta header longer than its record")
            doc = parsed if parsed is not None else check_delta_doc(load_json(data[4:4 + n], "the delta header"))
            views, pos = _members(data, 4 + n, len(doc["h"]), procs)
            if pos != len(data):
                raise Damaged(f"{len(data) - pos} bytes left over after its member changes")
        except (Damaged, TypeError) as e:
            raise self.corrupt(f, i, str(e)) from None
        return doc, views

    def sample_index(self, at: float) -> int:
        """The index (in self.index) of the last sample at or before `at`."""
        best = -1
        for k, (_, _, kind, t) in enumerate(self.index):
            if kind not in SAMPLE_KINDS:
                continue
            if t > at:
                break
            best = k
        if best < 0:
            first, last = self.span()
            raise HistoryError(f"the recording starts at {when(first)}: nothing is recorded at {when(at)} "
                               f"(it holds {when(first)} to {when(last)})")
        return best

    def full_before(self, k: int) -> int:
        """The index of the full snapshot a sample's state starts from: the last `F` at or
        before index `k` in the same file; -1 when that file has none before it."""
        f0 = self.index[k][0]
        start = k
        while start >= 0 and not (self.index[start][0] is f0 and self.index[start][2] == b"F"):
            start -= 1
        return start if start >= 0 and self.index[start][0] is f0 else -1


_NONE = memoryview(b"").cast("i")


def _members(data: memoryview, pos: int, count: int, procs: bool = True) -> tuple[list[Members], int]:
    """`count` hierarchies' member arrays from `pos` on, and where they end (not `procs`:
    the process arrays left out, as empty views)."""
    views: list[Members] = []
    for _ in range(count):
        if pos + 8 > len(data):
            raise Damaged("its member changes end early")
        nt, np_ = struct.unpack_from(">II", data, pos)
        pos += 8
        need = 8 * (nt + np_)
        if nt > PID_LIMIT or np_ > PID_LIMIT or pos + need > len(data):
            raise Damaged("its member changes are longer than the record")
        if not procs:
            tids, cgs = data[pos:pos + 4 * nt], data[pos + 4 * nt:pos + 8 * nt]
            views.append((int32_view(tids), int32_view(cgs), _NONE, _NONE))
            pos += need
            continue
        parts = []
        for k in (nt, nt, np_, np_):
            parts.append(int32_view(data[pos:pos + 4 * k]))
            pos += 4 * k
        views.append((parts[0], parts[1], parts[2], parts[3]))
    return views, pos
