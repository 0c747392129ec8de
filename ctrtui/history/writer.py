"""Writing a recording (`Recorder`): each sample as a full snapshot or a delta from the one
before, the journal's batches as they close, a new file each UTC day or eighth of
`--max-size`, the oldest files dropped beyond it, a torn tail cut on start. The format is
in ctrtui/history/records.py and docs/history.md."""

from __future__ import annotations

import gc
import mmap
import os
import struct
import time
import zlib
from itertools import compress
from operator import is_not

from ctrtui.history.files import check_directory, close_quietly, list_files, open_file, os_error
from ctrtui.history.lock import DirectoryLock
from ctrtui.history.records import (
    DEFAULT_FULL_EVERY,
    DEFAULT_MAX_SIZE,
    FILE_HEADER,
    RECORD,
    SUFFIX,
    U32,
    HistoryError,
    TaskTable,
    check_version,
    dump_json,
    pack_ints,
    scan,
)
from ctrtui.history.stats import DEFAULT_STATS_EVERY, encode_stats
from ctrtui.history.taskindex import INDEX_KIND, IndexBuilder
from ctrtui.model.wire import to_wire
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from ctrtui.model.cgstats import Reading
    from ctrtui.model.snapshot import HierarchySnapshot, Snapshot

    StatsReader = Callable[[Snapshot], Mapping[str, Mapping[str, Reading]]]

__all__ = ["Recorder", "TaskFacts"]

TaskFacts = tuple[int, int, str]
"""What the recorder keeps of a task: its start time, TGID and comm."""


class Changes:
    """One hierarchy's task changes from one sample to the next. `threads`: tid -> its new
    cgroup path (None: gone from the hierarchy; a thread is in one cgroup of a hierarchy).
    `procs`: (tgid, path, listed) -- a process is listed in every cgroup holding one of its
    threads (v1, v2 threaded), so its changes are per cgroup: now listed there, or no longer
    (a removed cgroup's lists go with it)."""

    __slots__ = ("threads", "procs")

    def __init__(self) -> None:
        self.threads: dict[int, str | None] = {}
        self.procs: list[tuple[int, str, bool]] = []


def changes(old: HierarchySnapshot | None, new: HierarchySnapshot) -> Changes:
    """What moved, came or went between two snapshots of a hierarchy: cost follows the
    cgroups whose Container changed (found in bulk: an unchanged cgroup is the same object,
    as every backend shares them from one snapshot to the next); in each, one set and one
    symmetric difference. Where a cgroup lists the same array as threads and processes
    (every task a process: the simulated kernel shares it), its process changes are its
    thread changes."""
    ev = Changes()
    oc = old.containers if old is not None else {}
    nc = new.containers
    out = ev.threads
    procs = ev.procs
    gone: dict[int, str] = {}
    get = oc.get
    for p in compress(nc, map(is_not, map(get, nc), nc.values())):
        c = nc[p]
        o = get(p)
        if o is None:
            out.update(dict.fromkeys(c.threads, p))
            procs.extend((pid, p, True) for pid in c.procs)
            continue
        ct, ot, cp, op = c.threads, o.threads, c.procs, o.procs
        if ct != ot:
            now = set(ct)
            moved = now.symmetric_difference(ot)
            for tid in moved:
                if tid in now:
                    out[tid] = p
                else:
                    gone[tid] = p
            if cp is ct and op is ot:
                procs.extend((pid, p, pid in now) for pid in moved)
                continue
        if cp != op:
            now = set(cp)
            procs.extend((pid, p, pid in now) for pid in now.symmetric_difference(op))
    if len(oc) != len(nc) or oc.keys() != nc.keys():
        for p in oc.keys() - nc.keys():
            gone.update(dict.fromkeys(oc[p].threads, p))
    for tid in gone:
        if tid not in out:
            out[tid] = None
    procs.sort()
    return ev


class Recorder:
    """Writes samples into the recording directory `directory`: a full snapshot first and
    every `full_every` samples, deltas in between, the journal's batches as they close.
    Holds `flock` on `DIRECTORY/lock` for its life (a second recorder is refused); cuts a
    torn tail of the newest file on start; starts a new file each UTC day or when the file
    reaches an eighth of `max_size`, and drops the oldest files while the directory holds
    more than `max_size` bytes. With `stats_every` (> 0) and a `stats` reader given to
    `sample`, the cgroups' figures too (an `S` record, ctrtui/history/stats.py): at a file's
    first sample and every `stats_every` samples."""

    def __init__(self, directory: str, max_size: int = DEFAULT_MAX_SIZE, full_every: int = DEFAULT_FULL_EVERY,
                 fsync: bool = True, stats_every: int = DEFAULT_STATS_EVERY) -> None:
        self.directory = directory
        self.max_size = max_size
        self.full_every = max(1, full_every)
        self.stats_every = max(0, stats_every)
        self._since_stats: int | None = None  # samples since the file's last S record (None: none yet)
        self.fsync = fsync
        self.warnings: list[str] = []
        self._fd: int | None = None
        self._lock = DirectoryLock(directory)
        self._file = ""
        self._file_day = ""
        self._size = 0
        self._prev: Snapshot | None = None
        self._since_full = 0
        self._ids: dict[str, dict[str, int]] = {}
        self._next: dict[str, int] = {}
        self._tasks: dict[int, TaskFacts] = {}  # tid -> (start time, tgid, comm), of the last sample
        self._batches: set[str] = set()
        self._index: IndexBuilder | None = None  # the I record of the file being written
        self._cache: tuple[Snapshot, Snapshot, dict[str, Changes]] | None = None
        self.bytes_written = 0
        self.samples = 0

    # -- life

    def __enter__(self) -> Recorder:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Take the directory (made when missing) and its lock; cut a torn tail of the newest file."""
        check_directory(self.directory, create=True)
        self._lock.acquire()
        try:
            files = list_files(self.directory)
            if files:
                self._cut_torn_tail(files[-1])
        except BaseException:
            self._lock.release()
            raise

    def close(self) -> None:
        """Close the file being written (its task index written first) and let go of the lock."""
        try:
            self._end_file()
        finally:
            close_quietly(self._fd)
            self._fd = None
            self._lock.release()

    def _cut_torn_tail(self, path: str) -> None:
        fd = open_file(path, os.O_RDWR, "repair")
        try:
            size = os.fstat(fd).st_size
            head = os.pread(fd, len(FILE_HEADER), 0)
            if len(head) < len(FILE_HEADER):
                keep = 0
            else:
                check_version(head, path)
                with mmap.mmap(fd, size, prot=mmap.PROT_READ) as m:
                    _, keep = scan(m, size)
            if keep < size:
                os.ftruncate(fd, keep)
                os.fsync(fd)
                self.warnings.append(f"{display(path)}: cut off a torn tail ({size - keep} bytes) left by an "
                                     "interrupted recorder")
        finally:
            os.close(fd)

    # -- files

    def _end_file(self) -> None:
        """The file's `I` record (ctrtui/history/taskindex.py), when it has a full snapshot:
        written last, synced. It is only a shortcut for `where`: when it cannot be written,
        what was written of it is cut off and the file stays as it was, with a warning."""
        builder, self._index = self._index, None
        if self._fd is None or builder is None:
            return
        payload = builder.payload()
        if payload is None:
            return
        size = self._size
        try:
            self._record(INDEX_KIND, builder.last_time, payload)
            if self.fsync:
                os.fdatasync(self._fd)
        except (HistoryError, OSError) as e:
            self.warnings.append(f"{display(self._file)}: its task index was not written ({e}); `where` reads "
                                 "the file without it")
            try:
                os.ftruncate(self._fd, size)
            except OSError:
                pass
            self._size = size

    def _new_file(self, t: float) -> None:
        if self._fd is not None:
            self._end_file()
            os.close(self._fd)
            self._fd = None
        name = time.strftime("%Y%m%d-%H%M%S", time.gmtime(t))
        path = os.path.join(self.directory, name + SUFFIX)
        n = 1
        while os.path.lexists(path):
            path = os.path.join(self.directory, f"{name}_{n:03d}{SUFFIX}")  # sorts after `name.ctrh`
            n += 1
        self._fd = open_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, "create")
        self._file, self._file_day = path, name[:8]
        self._write(FILE_HEADER)
        self._size = len(FILE_HEADER)
        self._prev = None
        self._ids, self._next = {}, {}
        self._since_stats = None
        self._index = IndexBuilder()

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as e:
            self._index = None  # what was written of the record is a torn tail: no index goes after it
            raise os_error(e, "write the recording", self._file) from None
        self._size += len(data)
        self.bytes_written += len(data)

    def _record(self, kind: bytes, t: float, payload: bytes) -> None:
        crc = zlib.crc32(payload)
        self._write(RECORD.pack(kind, len(payload), t, crc) + payload)
        if self._index is not None and kind != INDEX_KIND:
            self._index.record(crc, t)

    def _drop_oldest(self) -> None:
        files = list_files(self.directory)
        sizes = []
        for f in files:
            try:
                sizes.append(os.lstat(f).st_size)
            except OSError:
                sizes.append(0)
        total = sum(sizes)
        for f, s in zip(files, sizes):
            if total <= self.max_size or f == self._file:
                break
            try:
                os.unlink(f)
            except OSError as e:
                raise os_error(e, "remove the oldest recording file", f) from None
            total -= s

    # -- samples

    def sample(self, snap: Snapshot, tasks: Mapping[int, TaskFacts] | None = None,
               batches: Sequence[Mapping[str, Any]] = (), t: float | None = None,
               stats: StatsReader | None = None) -> None:
        """Record `snap` (taken at `t`, default its own `taken_at`). `tasks`: tid -> (start
        time, tgid, comm) of at least the tasks new since the last sample (`new_tasks`
        says which); `batches`: the journal's batches (as `batch_record` makes them),
        of which those not yet recorded are written; `stats`: reads the cgroups' figures
        of `snap` (`ctrtui.history.stats.read_stats`), called only when an `S` record is due."""
        t = snap.taken_at if t is None else t
        day = time.strftime("%Y%m%d", time.gmtime(t))
        if self._fd is None or day != self._file_day or self._size >= max(self.max_size // 8, 4096):
            self._new_file(t)
        fresh = [b for b in batches if b["batch"] not in self._batches]
        if fresh:
            self._batches.update(b["batch"] for b in fresh)
            self._record(b"J", t, dump_json(list(fresh)))
        tasks = tasks or {}
        if self._prev is None:
            self._full(snap, tasks, t)
        else:
            self._delta(snap, tasks, t)
            self._since_full += 1
            if self._since_full >= self.full_every:
                self._full(snap, tasks, t)
        self._stats(snap, t, stats)
        self._prev = snap
        self._cache = None
        self.samples += 1
        if self.fsync and self._fd is not None:
            os.fdatasync(self._fd)
        if self._size >= self.max_size // 8:
            self._drop_oldest()

    def _stats(self, snap: Snapshot, t: float, stats: StatsReader | None) -> None:
        """The `S` record of this sample when one is due (the ids are this sample's)."""
        since = self._since_stats
        if stats is None or not self.stats_every or (since is not None and since + 1 < self.stats_every):
            if since is not None:
                self._since_stats = since + 1
            return
        collecting = gc.isenabled()
        gc.disable()  # 20,000 cgroups make ~40,000 objects, none in a cycle: no collection passes
        try:
            payload = encode_stats(stats(snap), self._ids)
        finally:
            if collecting:
                gc.enable()
        self._record(b"S", t, payload)
        self._since_stats = 0

    def new_tasks(self, snap: Snapshot) -> list[int]:
        """The TIDs of `snap` the recorder has no start time for (new since the last sample)."""
        if self._prev is None or not snap.hierarchies:
            return sorted({t for hs in snap.hierarchies for c in hs.containers.values() for t in c.threads})
        new: set[int] = set()
        for ev in self._events_of(snap).values():
            for tid, where in ev.threads.items():
                if where is not None and tid not in self._tasks:
                    new.add(tid)
        return sorted(new)

    def _events_of(self, snap: Snapshot) -> dict[str, Changes]:
        """Each hierarchy's changes from the last sample to `snap`, worked out once per
        sample (new_tasks asks first, then the delta)."""
        assert self._prev is not None
        cached = self._cache
        if cached is not None and cached[0] is self._prev and cached[1] is snap:
            return cached[2]
        old_by = {hs.name: hs for hs in self._prev.hierarchies}
        evs = {hs.name: changes(old_by.get(hs.name), hs) for hs in snap.hierarchies}
        self._cache = (self._prev, snap, evs)
        return evs

    def _full(self, snap: Snapshot, tasks: Mapping[int, TaskFacts], t: float) -> None:
        wire = to_wire(snap)
        live = {tid for hs in snap.hierarchies for c in hs.containers.values() for tid in c.threads}
        old = self._tasks
        unknown = (0, 0, "")
        self._tasks = {tid: tasks.get(tid) or old.get(tid) or unknown for tid in live}
        order = sorted(live)
        rows = [self._tasks[tid] for tid in order]
        table = TaskTable.encode(order, rows)
        ix = self._index
        number = ix.records if ix is not None and ix.full is None else None
        self._record(b"F", t, U32.pack(len(wire)) + wire + zlib.compress(table, 1))
        if ix is not None and number is not None:  # the file's first: what its task index describes
            ix.first_full(number, snap, order, (r[0] for r in rows))
        self._ids = {hs.name: {p: i for i, p in enumerate(hs.containers)} for hs in snap.hierarchies}
        self._next = {hs.name: len(hs.containers) for hs in snap.hierarchies}
        self._since_full = 0

    def _delta(self, snap: Snapshot, tasks: Mapping[int, TaskFacts], t: float) -> None:
        assert self._prev is not None
        old_by = {hs.name: hs for hs in self._prev.hierarchies}
        evs = self._events_of(snap)
        heads: list[dict[str, Any]] = []
        body: list[bytes] = []
        born: dict[int, list[Any]] = {}
        gone_tids: set[int] = set()
        for hs in snap.hierarchies:
            old = old_by.get(hs.name)
            ids = self._ids.setdefault(hs.name, {})
            nxt = self._next.get(hs.name, 0)
            head: dict[str, Any] = {"name": hs.name}
            if old is None or old.hierarchy != hs.hierarchy:
                h = hs.hierarchy
                head["hierarchy"] = {"version": h.version, "controllers": list(h.controllers), "mount": h.mount,
                                     "root": h.root, "hierarchy_id": h.hierarchy_id}
            if old is None or old.containers.keys() != hs.containers.keys():
                oc = old.containers if old is not None else {}
                add = []
                for p in hs.containers:
                    if p not in oc or p not in ids:
                        ids[p] = nxt
                        add.append([nxt, p])
                        nxt += 1
                dels = [ids.pop(p) for p in oc if p not in hs.containers and p in ids]
                if add:
                    head["add"] = add
                if dels:
                    head["del"] = dels
            self._next[hs.name] = nxt
            ev = evs[hs.name]
            tp = sorted(ev.threads)
            if self._index is not None:
                self._index.mention(tp)
            pp = ev.procs
            body.append(struct.pack(">II", len(tp), len(pp)))
            body.append(pack_ints(tp))
            body.append(pack_ints(-1 if ev.threads[x] is None else ids[ev.threads[x]] for x in tp))  # type: ignore[index]
            body.append(pack_ints(pid for pid, _, _ in pp))
            body.append(pack_ints(ids[p] if listed else -2 - ids.get(p, -1) for _, p, listed in pp))
            for tid in tp:
                if ev.threads[tid] is None:
                    gone_tids.add(tid)
                elif tid not in self._tasks:
                    s, g, c = tasks.get(tid, (0, 0, ""))
                    self._tasks[tid] = (s, g, c)
                    born[tid] = [tid, s, g, c]
            heads.append(head)
        for tid in gone_tids - born.keys():
            self._tasks.pop(tid, None)  # exited: the same PID seen again is a new task
        gone = [name for name in old_by if snap.get(name) is None]
        doc: dict[str, Any] = {"h": heads}
        if gone:
            doc["gone"] = gone
        if born:
            doc["tasks"] = [born[k] for k in sorted(born)]
        js = dump_json(doc)
        if gone and self._index is not None:
            self._index.hierarchy_gone(self._index.records)
        self._record(b"D", t, U32.pack(len(js)) + js + b"".join(body))
