"""The recording files (format: docs/history.md): writing them (`Recorder`) and reading them
back (`Recording`): the snapshot at any recorded time, every cgroup a task was in, and the
journal's batches that moved it.

A recording is a directory of files `YYYYMMDD-HHMMSS.ctrh` (UTC of their first sample), each
starting with the 8-byte file header and then records: a full snapshot (`F`, the wire form
of docs/wire.md plus the tasks' start times), a delta (`D`: the task moves since the sample
before, as sorted PID arrays a reader bisects without copying) or journal batches (`J`).
"""

from __future__ import annotations

import errno as _errno
import json
import mmap
import os
import stat
import struct
import sys
import time
import zlib
from array import array
from bisect import bisect_left
from types import MappingProxyType

from ctrtui.engine.owned import NotOwned, check_dir, make_dir
from ctrtui.errors import CtrtuiError, errno_name
from ctrtui.model.snapshot import Container, Hierarchy, HierarchySnapshot, Snapshot, parent_path
from ctrtui.model.task import TaskInfo
from ctrtui.model.wire import WireError, from_wire, to_wire
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

__all__ = ["DEFAULT_FULL_EVERY", "DEFAULT_MAX_SIZE", "VERSION", "HistoryError", "Recorder", "Recording",
           "default_history_dir"]

MAGIC = b"CTRH"
VERSION = 1
FILE_HEADER = MAGIC + VERSION.to_bytes(2, "big") + b"\0\0"
_REC = struct.Struct(">cIdI")  # kind, payload length, time (seconds since the epoch), crc32 of the payload
KINDS = (b"F", b"D", b"J")
MAX_RECORD = 256 * 1024 * 1024
"""The longest record payload a reader accepts (a 100,000-task full snapshot is ~1 MB)."""
MAX_JSON = 16 * 1024 * 1024
"""The longest JSON part of a record (unpacked)."""
MAX_TASKS_TABLE = 64 * 1024 * 1024
"""The most bytes a full snapshot's task table unpacks to."""
PID_LIMIT = 4194304
SUFFIX = ".ctrh"
DEFAULT_MAX_SIZE = 1 << 30
DEFAULT_FULL_EVERY = 60
"""A full snapshot every this many samples (5 minutes at 5 s): the most deltas a reader
applies to answer `--at`."""
_SWAP = sys.byteorder != "little"
_U32 = struct.Struct(">I")
_JSON_KW: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": True, "allow_nan": False}


class HistoryError(CtrtuiError):
    """A recording cannot be written or read: the message is the one sentence to show."""


def default_history_dir(identity: str = "local") -> str:
    """`$XDG_STATE_HOME/ctrtui/history/` for the real machine, `IDENTITY-history/` for
    another backend (`demo-history/`), beside the journal of the same backend."""
    from ctrtui.engine.journal import default_journal_path

    journal = default_journal_path(identity)
    name = os.path.basename(journal)[:-len("journal.jsonl")]
    return os.path.join(os.path.dirname(journal), name + "history")


def _oserror(e: OSError, what: str, path: str) -> HistoryError:
    return HistoryError(f"cannot {what} {display(path)}: {errno_name(e.errno or 0)} ({e.strerror}); fix its "
                        "permissions or give another place with --to/--from")


def _ints(values: Iterable[int]) -> bytes:
    a = array("i", values)
    if _SWAP:
        a.byteswap()
    return a.tobytes()


def _longs(values: Iterable[int]) -> bytes:
    a = array("q", values)
    if _SWAP:
        a.byteswap()
    return a.tobytes()


def _json(doc: object) -> bytes:
    return json.dumps(doc, **_JSON_KW).encode()


# ---------------------------------------------------------------------------- files: safe opening


def _check_dir(path: str, create: bool) -> None:
    """The recording directory: made 0700 when missing (`create`); refused when it is a
    symbolic link, not a directory, not owned by this user (or root), or when it or a
    directory above it could be changed by someone else (ctrtui/engine/owned.py, the rule of
    the journal's directory)."""
    if create:
        try:
            make_dir(path)
        except OSError as e:
            raise _oserror(e, "create the recording directory", path) from None
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise HistoryError(f"no recording at {display(path)}: start one with `ctrtui record`, or give "
                           "its place with --from") from None
    except OSError as e:
        raise _oserror(e, "read the recording directory", path) from None
    if stat.S_ISLNK(st.st_mode):
        raise HistoryError(f"{display(path)} is a symbolic link: a recording directory must be the directory "
                           "itself; give its real path")
    if not stat.S_ISDIR(st.st_mode):
        raise HistoryError(f"{display(path)} is not a directory")
    if st.st_uid not in (os.geteuid(), 0):
        raise HistoryError(f"{display(path)} belongs to uid {st.st_uid}, not to you: a recording is read and "
                           "written only in your own directory")
    try:
        check_dir(path, "recording directory", path, "--from DIR")
    except NotOwned as e:
        raise HistoryError(str(e)) from None


def _open_file(path: str, flags: int, what: str) -> int:
    """Open without following a symbolic link and without blocking; refuse what is not a
    regular file owned by this user (or root)."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as e:
        if e.errno == _errno.ELOOP:
            raise HistoryError(f"{display(path)} is a symbolic link: refused (a recording is never read or "
                               "written through a link)") from None
        raise _oserror(e, what, path) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise HistoryError(f"cannot {what} {display(path)}: it is not a regular file")
        if st.st_uid not in (os.geteuid(), 0):
            raise HistoryError(f"cannot {what} {display(path)}: it belongs to uid {st.st_uid}, not to you")
        if st.st_mode & 0o022:
            raise HistoryError(f"cannot {what} {display(path)}: group or others may write it (mode "
                               f"{stat.S_IMODE(st.st_mode):04o}); chmod go-w it")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_version(head: bytes, path: str) -> None:
    if len(head) < len(FILE_HEADER) or head[:4] != MAGIC:
        raise HistoryError(f"{display(path)} is not a ctrtui recording (it does not start with CTRH)")
    version = int.from_bytes(head[4:6], "big")
    if version != VERSION:
        raise HistoryError(f"{display(path)} is a recording of format version {version}, and this ctrtui reads "
                           f"version {VERSION}: upgrade ctrtui to read it")


def _scan(buf: Any, size: int) -> tuple[list[tuple[int, bytes, float, int]], int]:
    """Every whole record of a file (offset of its payload, kind, time, payload length) and
    where the good part ends: the first record that is cut short, of an unknown kind or too
    long ends it, and so does a last record whose checksum is wrong (a torn tail: a write cut
    by a crash). Only the 17-byte record headers are read, and the last record's checksum;
    the others' are checked when a reader decodes them (`_File.payload`)."""
    out = []
    pos = len(FILE_HEADER)
    while pos + _REC.size <= size:
        kind, n, t, _ = _REC.unpack_from(buf, pos)
        start = pos + _REC.size
        if kind not in KINDS or n > MAX_RECORD or start + n > size or t != t:
            break
        out.append((start, kind, t, n))
        pos = start + n
    while out and not _crc_ok(buf, out[-1]):
        pos = out.pop()[0] - _REC.size
    return out, pos


def _crc_ok(buf: Any, record: tuple[int, bytes, float, int]) -> bool:
    start, _, _, n = record
    return bool(zlib.crc32(buf[start:start + n]) == _U32.unpack_from(buf, start - 4)[0])


# ---------------------------------------------------------------------------- writing


class _Events:
    """One hierarchy's task changes from one sample to the next. `threads`: tid -> its new
    cgroup path (None: gone from the hierarchy; a thread is in one cgroup of a hierarchy).
    `procs`: (tgid, path, listed) -- a process is listed in every cgroup holding one of its
    threads (v1, v2 threaded), so its changes are per cgroup: now listed there, or no longer
    (a removed cgroup's lists go with it)."""

    __slots__ = ("threads", "procs")

    def __init__(self) -> None:
        self.threads: dict[int, str | None] = {}
        self.procs: list[tuple[int, str, bool]] = []


def _events(old: HierarchySnapshot | None, new: HierarchySnapshot) -> _Events:
    """What moved, came or went between two snapshots of a hierarchy: cost follows the
    cgroups whose member lists changed (unchanged ones are one C-level comparison)."""
    ev = _Events()
    oc = old.containers if old is not None else {}
    out = ev.threads
    procs = ev.procs
    gone: dict[int, str] = {}
    get = oc.get
    for p, c in new.containers.items():
        o = get(p)
        if o is c:
            continue
        if o is None:
            out.update(dict.fromkeys(c.threads, p))
            procs.extend((pid, p, True) for pid in c.procs)
            continue
        ct, ot = c.threads, o.threads
        if ct != ot:
            sa, sb = set(ct), set(ot)
            for tid in sa - sb:
                out[tid] = p
            for tid in sb - sa:
                gone[tid] = p
        cp, op = c.procs, o.procs
        if cp != op:
            sa, sb = set(cp), set(op)
            for pid in sa - sb:
                procs.append((pid, p, True))
            for pid in sb - sa:
                procs.append((pid, p, False))
    for p, o in oc.items():
        if p not in new.containers:
            gone.update(dict.fromkeys(o.threads, p))
    for tid in gone:
        if tid not in out:
            out[tid] = None
    ev.procs.sort()
    return ev


class Recorder:
    """Writes samples into the recording directory `directory`: a full snapshot first and
    every `full_every` samples, deltas in between, the journal's batches as they close.
    Holds `flock` on `DIRECTORY/lock` for its life (a second recorder is refused); cuts a
    torn tail of the newest file on start; starts a new file each UTC day or when the file
    reaches an eighth of `max_size`, and drops the oldest files while the directory holds
    more than `max_size` bytes."""

    def __init__(self, directory: str, max_size: int = DEFAULT_MAX_SIZE, full_every: int = DEFAULT_FULL_EVERY,
                 fsync: bool = True) -> None:
        self.directory = directory
        self.max_size = max_size
        self.full_every = max(1, full_every)
        self.fsync = fsync
        self.warnings: list[str] = []
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._file = ""
        self._file_day = ""
        self._size = 0
        self._prev: Snapshot | None = None
        self._since_full = 0
        self._ids: dict[str, dict[str, int]] = {}
        self._next: dict[str, int] = {}
        self._tasks: dict[int, tuple[int, int, str]] = {}  # tid -> (start time, tgid, comm), of the last sample
        self._batches: set[str] = set()
        self._cache: tuple[Snapshot, Snapshot, dict[str, _Events]] | None = None
        self.bytes_written = 0
        self.samples = 0

    # -- life

    def __enter__(self) -> Recorder:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        import fcntl

        _check_dir(self.directory, create=True)
        lock = os.path.join(self.directory, "lock")
        self._lock_fd = _open_file(lock, os.O_RDWR | os.O_CREAT, "lock")
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(self._lock_fd)
            self._lock_fd = None
            if e.errno in (_errno.EWOULDBLOCK, _errno.EAGAIN):
                raise HistoryError(f"another `ctrtui record` is writing to {display(self.directory)} (it holds "
                                   f"{display(lock)}); stop it first, or record elsewhere with --to DIR") from None
            raise _oserror(e, "lock", lock) from None
        files = _files(self.directory)
        if files:
            self._cut_torn_tail(files[-1])

    def close(self) -> None:
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._fd = self._lock_fd = None

    def _cut_torn_tail(self, path: str) -> None:
        fd = _open_file(path, os.O_RDWR, "repair")
        try:
            size = os.fstat(fd).st_size
            head = os.pread(fd, len(FILE_HEADER), 0)
            if len(head) < len(FILE_HEADER):
                keep = 0
            else:
                _check_version(head, path)
                with mmap.mmap(fd, size, prot=mmap.PROT_READ) as m:
                    _, keep = _scan(m, size)
            if keep < size:
                os.ftruncate(fd, keep)
                os.fsync(fd)
                self.warnings.append(f"{display(path)}: cut off a torn tail ({size - keep} bytes) left by an "
                                     "interrupted recorder")
        finally:
            os.close(fd)

    # -- files

    def _new_file(self, t: float) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        name = time.strftime("%Y%m%d-%H%M%S", time.gmtime(t))
        path = os.path.join(self.directory, name + SUFFIX)
        n = 1
        while os.path.lexists(path):
            path = os.path.join(self.directory, f"{name}.{n}{SUFFIX}")
            n += 1
        self._fd = _open_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, "create")
        self._file, self._file_day = path, name[:8]
        self._write(FILE_HEADER)
        self._size = len(FILE_HEADER)
        self._prev = None
        self._ids, self._next = {}, {}

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as e:
            raise _oserror(e, "write the recording", self._file) from None
        self._size += len(data)
        self.bytes_written += len(data)

    def _record(self, kind: bytes, t: float, payload: bytes) -> None:
        self._write(_REC.pack(kind, len(payload), t, zlib.crc32(payload)) + payload)

    def _drop_oldest(self) -> None:
        files = _files(self.directory)
        sizes = []
        for f in files:
            try:
                sizes.append(os.lstat(f).st_size)
            except OSError:
                sizes.append(0)
        total = sum(sizes)
        for f, s in zip(files, sizes, strict=True):
            if total <= self.max_size or f == self._file:
                break
            try:
                os.unlink(f)
            except OSError as e:
                raise _oserror(e, "remove the oldest recording file", f) from None
            total -= s

    # -- samples

    def sample(self, snap: Snapshot, tasks: Mapping[int, tuple[int, int, str]] | None = None,
               batches: Sequence[Mapping[str, Any]] = (), t: float | None = None) -> None:
        """Record `snap` (taken at `t`, default its own `taken_at`). `tasks`: tid -> (start
        time, tgid, comm) of at least the tasks new since the last sample (`new_tasks`
        says which); `batches`: the journal's batches (as `batch_record` makes them),
        of which those not yet recorded are written."""
        t = snap.taken_at if t is None else t
        day = time.strftime("%Y%m%d", time.gmtime(t))
        if self._fd is None or day != self._file_day or self._size >= max(self.max_size // 8, 4096):
            self._new_file(t)
        fresh = [b for b in batches if b["batch"] not in self._batches]
        if fresh:
            self._batches.update(b["batch"] for b in fresh)
            self._record(b"J", t, _json(list(fresh)))
        tasks = tasks or {}
        if self._prev is None:
            self._full(snap, tasks, t)
        else:
            self._delta(snap, tasks, t)
            self._since_full += 1
            if self._since_full >= self.full_every:
                self._full(snap, tasks, t)
        self._prev = snap
        self._cache = None
        self.samples += 1
        if self.fsync and self._fd is not None:
            os.fdatasync(self._fd)
        if self._size >= self.max_size // 8:
            self._drop_oldest()

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

    def _events_of(self, snap: Snapshot) -> dict[str, _Events]:
        """Each hierarchy's changes from the last sample to `snap`, worked out once per
        sample (new_tasks asks first, then the delta)."""
        assert self._prev is not None
        cached = self._cache
        if cached is not None and cached[0] is self._prev and cached[1] is snap:
            return cached[2]
        old_by = {hs.name: hs for hs in self._prev.hierarchies}
        evs = {hs.name: _events(old_by.get(hs.name), hs) for hs in snap.hierarchies}
        self._cache = (self._prev, snap, evs)
        return evs

    def _full(self, snap: Snapshot, tasks: Mapping[int, tuple[int, int, str]], t: float) -> None:
        wire = to_wire(snap)
        live = {tid for hs in snap.hierarchies for c in hs.containers.values() for tid in c.threads}
        old = self._tasks
        unknown = (0, 0, "")
        self._tasks = {tid: tasks.get(tid) or old.get(tid) or unknown for tid in live}
        order = sorted(live)
        rows = [self._tasks[tid] for tid in order]
        table = (_U32.pack(len(order)) + _ints(order) + _longs(r[0] for r in rows) + _ints(r[1] for r in rows)
                 + b"\0".join(r[2].encode("utf-8", "surrogateescape").replace(b"\0", b"") for r in rows))
        self._record(b"F", t, _U32.pack(len(wire)) + wire + zlib.compress(table, 1))
        self._ids = {hs.name: {p: i for i, p in enumerate(hs.containers)} for hs in snap.hierarchies}
        self._next = {hs.name: len(hs.containers) for hs in snap.hierarchies}
        self._since_full = 0

    def _delta(self, snap: Snapshot, tasks: Mapping[int, tuple[int, int, str]], t: float) -> None:
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
            pp = ev.procs
            body.append(struct.pack(">II", len(tp), len(pp)))
            body.append(_ints(tp))
            body.append(_ints(-1 if ev.threads[x] is None else ids[ev.threads[x]] for x in tp))  # type: ignore[index]
            body.append(_ints(pid for pid, _, _ in pp))
            body.append(_ints(ids[p] if listed else -2 - ids.get(p, -1) for _, p, listed in pp))
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
        js = _json(doc)
        self._record(b"D", t, _U32.pack(len(js)) + js + b"".join(body))


def batch_record(b: Any) -> dict[str, Any] | None:
    """A closed journal batch (ctrtui.engine.journal.Batch) as a `J` record keeps it, or
    None for an open one."""
    if b.state is None:
        return None
    when = _iso_seconds(b.time)
    return {"batch": b.id, "time": when, "hierarchy": b.hierarchy, "target": b.target, "undo_of": b.undo_of,
            "op": b.op, "state": b.state,
            "pids": [[o["pid"], o.get("start_time"), o.get("from"), o.get("to")] for o in b.moved()]}


def _iso_seconds(text: str) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text).timestamp()
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------- reading


def _files(directory: str) -> list[str]:
    try:
        names = os.listdir(directory)
    except OSError as e:
        raise _oserror(e, "list the recording directory", directory) from None
    return [os.path.join(directory, n) for n in sorted(names) if n.endswith(SUFFIX)]


class _File:
    """One recording file, mapped read-only: its records' index."""

    def __init__(self, path: str) -> None:
        self.path = path
        fd = _open_file(path, os.O_RDONLY, "read the recording")
        try:
            size = os.fstat(fd).st_size
            head = os.pread(fd, len(FILE_HEADER), 0)
            if size == 0:
                self.buf: Any = b""
            else:
                _check_version(head, path)
                self.buf = mmap.mmap(fd, size, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        self.size = size
        self.records, end = _scan(self.buf, size) if size else ([], 0)
        self.torn = size - end if size else 0

    def payload(self, i: int, verify: bool = True) -> memoryview:
        """Record `i`'s payload, its checksum checked (`_Bad` when wrong) unless not
        `verify` (`where`'s bisecting, whose every read is bounds-checked anyway)."""
        start, _, _, n = self.records[i]
        if verify and not _crc_ok(self.buf, self.records[i]):
            raise _Bad("its checksum is wrong (the bytes changed after they were written)")
        return memoryview(self.buf)[start:start + n]


class _Bad(Exception):
    pass


def _load_json(data: bytes | memoryview, what: str) -> Any:
    if len(data) > MAX_JSON:
        raise _Bad(f"{what} is longer than {MAX_JSON} bytes")
    try:
        return json.loads(bytes(data))
    except (ValueError, RecursionError) as e:
        raise _Bad(f"{what} is not JSON ({e})") from None


class _Tasks:
    """A full snapshot's task table (tid -> [tid, start time, tgid, comm]): sorted arrays
    looked up by bisection, and the tasks the deltas after it added."""

    def __init__(self, tids: array[int], starts: array[int], tgids: array[int], comms: list[bytes]) -> None:
        self.tids, self.starts, self.tgids, self.comms = tids, starts, tgids, comms
        self.born: dict[int, list[Any]] = {}

    @classmethod
    def decode(cls, raw: bytes) -> _Tasks:
        if len(raw) < 4:
            raise _Bad("its task table has no count")
        n = _U32.unpack_from(raw, 0)[0]
        end = 4 + 16 * n
        if n > PID_LIMIT or len(raw) < end:
            raise _Bad("its task table is shorter than its count")
        tids, starts, tgids = array("i"), array("q"), array("i")
        tids.frombytes(raw[4:4 + 4 * n])
        starts.frombytes(raw[4 + 4 * n:4 + 12 * n])
        tgids.frombytes(raw[4 + 12 * n:end])
        if _SWAP:
            for a in (tids, starts, tgids):
                a.byteswap()
        comms = raw[end:].split(b"\0") if n else []
        if len(comms) != n:
            raise _Bad("its task table's names do not match its count")
        if n and (min(tids) <= 0 or any(b <= a for a, b in zip(tids, tids[1:], strict=False)) or min(starts) < 0):
            raise _Bad("its task table is not ascending positive TIDs with their start times")
        return cls(tids, starts, tgids, comms)

    def get(self, tid: int) -> list[Any] | None:
        row = self.born.get(tid)
        if row is not None:
            return row
        j = bisect_left(self.tids, tid)
        if j < len(self.tids) and self.tids[j] == tid:
            comm = self.comms[j][:64].decode("utf-8", "surrogateescape")
            return [tid, self.starts[j], self.tgids[j], comm]
        return None

    def __contains__(self, tid: int) -> bool:
        return self.get(tid) is not None


class _State:
    """A hierarchy's members as a reader rebuilds them: cgroup id -> path, tid -> cgroup
    id, and cgroup id -> the TGIDs it lists (filled from `base` when a delta first touches
    the cgroup). `base`: the full snapshot's Containers by id, reused for every cgroup no
    delta touched (`dirty`) while no cgroup came or went (`reshaped`)."""

    __slots__ = ("hierarchy", "paths", "tids", "procs", "base", "dirty", "reshaped")

    def __init__(self, hierarchy: Hierarchy) -> None:
        self.hierarchy = hierarchy
        self.paths: dict[int, str] = {}
        self.tids: dict[int, int] = {}
        self.procs: dict[int, set[int]] = {}
        self.base: dict[int, Container] = {}
        self.dirty: set[int] = set()
        self.reshaped = False

    def procs_of(self, cid: int) -> set[int]:
        s = self.procs.get(cid)
        if s is None:
            c = self.base.get(cid)
            s = self.procs[cid] = set(c.procs) if c is not None else set()
            self.dirty.add(cid)
        return s


class Recording:
    """A recording (a directory, or one file of it), read-only. Records are indexed by their
    headers only (a seek from one to the next); a snapshot at a time decodes the last full
    snapshot before it and applies the deltas after it."""

    def __init__(self, place: str) -> None:
        self.place = place
        try:
            st = os.lstat(place)
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):
            paths = [place]
        else:
            _check_dir(place, create=False)
            paths = _files(place)
        self.files = [_File(p) for p in paths]
        self.warnings = [f"{display(f.path)}: ignored a torn tail of {f.torn} bytes (an interrupted write)"
                         for f in self.files if f.torn]
        self.index = [(f, i, kind, t) for f in self.files for i, (_, kind, t, _) in enumerate(f.records)]
        self._batches: list[dict[str, Any]] | None = None

    def _corrupt(self, f: _File, i: int, why: str) -> HistoryError:
        return HistoryError(f"recording {display(f.path)} is damaged at record {i + 1}: {why}; move the file away "
                            "to read the rest")

    @property
    def times(self) -> list[float]:
        return [t for _, _, kind, t in self.index if kind != b"J"]

    def span(self) -> tuple[float, float]:
        ts = self.times
        if not ts:
            raise HistoryError(f"the recording at {display(self.place)} holds no sample yet")
        return ts[0], ts[-1]

    # -- journal batches

    def batches(self) -> list[dict[str, Any]]:
        """Every journal batch the recording holds, oldest first, each checked."""
        if self._batches is None:
            out: dict[str, dict[str, Any]] = {}
            for f, i, kind, _ in self.index:
                if kind != b"J":
                    continue
                try:
                    doc = _load_json(f.payload(i), "the batch list")
                    for b in doc if isinstance(doc, list) else ():
                        b = _check_batch(b)
                        out.setdefault(b["batch"], b)
                except _Bad as e:
                    raise self._corrupt(f, i, str(e)) from None
            self._batches = sorted(out.values(), key=lambda b: b["time"] or 0.0)
        return self._batches

    # -- snapshots

    def _full(self, f: _File, i: int) -> tuple[Snapshot, _Tasks]:
        try:
            data = f.payload(i)
            if len(data) < 4:
                raise _Bad("a full snapshot without its length")
            n = _U32.unpack_from(data, 0)[0]
            if n > len(data) - 4:
                raise _Bad("a full snapshot longer than its record")
            snap = from_wire(bytes(data[4:4 + n]))
            z = zlib.decompressobj()
            raw = z.decompress(bytes(data[4 + n:]), MAX_TASKS_TABLE)
            if z.unconsumed_tail:
                raise _Bad(f"its task table unpacks to more than {MAX_TASKS_TABLE} bytes")
            if not z.eof:
                raise _Bad("its task table ends early")
            tasks = _Tasks.decode(raw)
        except (WireError, zlib.error, _Bad) as e:
            raise self._corrupt(f, i, str(e)) from None
        return snap, tasks

    def _delta(self, f: _File, i: int, parsed: dict[str, Any] | None = None, verify: bool = True
               ) -> tuple[dict[str, Any], list[tuple[memoryview, ...]]]:
        """A delta's header and, per hierarchy in it, (tids, tid cgroups, pids, pid cgroups)
        as int views into the mapped file (nothing copied). `parsed`: its header, already
        read and checked (the same bytes as the delta before: the steady state)."""
        try:
            data = f.payload(i, verify)
            if len(data) < 4:
                raise _Bad("a delta without its header length")
            n = _U32.unpack_from(data, 0)[0]
            if n > len(data) - 4:
                raise _Bad("a delta header longer than its record")
            doc = parsed if parsed is not None else _check_delta_doc(_load_json(data[4:4 + n], "the delta header"))
            pos = 4 + n
            views = []
            for _ in doc["h"]:
                if pos + 8 > len(data):
                    raise _Bad("its member changes end early")
                nt, np_ = struct.unpack_from(">II", data, pos)
                pos += 8
                need = 8 * (nt + np_)
                if nt > PID_LIMIT or np_ > PID_LIMIT or pos + need > len(data):
                    raise _Bad("its member changes are longer than the record")
                parts = []
                for k in (nt, nt, np_, np_):
                    parts.append(data[pos:pos + 4 * k].cast("i") if not _SWAP else
                                 memoryview(_swapped(data[pos:pos + 4 * k])))
                    pos += 4 * k
                views.append(tuple(parts))
            if pos != len(data):
                raise _Bad(f"{len(data) - pos} bytes left over after its member changes")
        except (_Bad, TypeError) as e:
            raise self._corrupt(f, i, str(e)) from None
        return doc, views

    def _sample_index(self, at: float) -> int:
        """The index (in self.index) of the last sample at or before `at`."""
        best = -1
        for k, (_, _, kind, t) in enumerate(self.index):
            if kind == b"J":
                continue
            if t > at:
                break
            best = k
        if best < 0:
            first, last = self.span()
            raise HistoryError(f"the recording starts at {_fmt(first)}: nothing is recorded at {_fmt(at)} "
                               f"(it holds {_fmt(first)} to {_fmt(last)})")
        return best

    def state_at(self, at: float) -> tuple[dict[str, _State], _Tasks, float]:
        """Every hierarchy's members at the last sample at or before `at`, the tasks' table
        (tid -> [tid, start, tgid, comm]) and the sample's time."""
        k = self._sample_index(at)
        f0 = self.index[k][0]
        start = k
        while start >= 0 and not (self.index[start][0] is f0 and self.index[start][2] == b"F"):
            start -= 1
        if start < 0 or self.index[start][0] is not f0:
            raise self._corrupt(f0, 0, "it does not start with a full snapshot")
        f, i, _, t = self.index[start]
        snap, tasks = self._full(f, i)
        states = _states_of(snap)
        for f, i, kind, _t in self.index[start + 1:k + 1]:
            if kind == b"D":
                self._apply(f, i, states, tasks)
        return states, tasks, self.index[k][3]

    def _apply(self, f: _File, i: int, states: dict[str, _State], tasks: _Tasks) -> None:
        doc, views = self._delta(f, i)
        for name in doc.get("gone", ()):
            states.pop(name, None)
        for head, (tids, tcg, pids, pcg) in zip(doc["h"], views, strict=True):
            st = states.get(head["name"])
            if st is None or "hierarchy" in head:
                hd = head.get("hierarchy") or {}
                if st is None and not hd:
                    raise self._corrupt(f, i, f"hierarchy {head['name']!r} appears without its description")
                h = Hierarchy(head["name"], hd["version"], tuple(hd["controllers"]), hd["mount"], hd["root"],
                              hd["hierarchy_id"]) if hd else st.hierarchy  # type: ignore[union-attr]
                old = st
                st = _State(h)
                if old is not None:
                    st.paths, st.tids, st.procs, st.base = old.paths, old.tids, old.procs, old.base
                    st.dirty = old.dirty
                st.reshaped = True
                states[head["name"]] = st
            for cid, path in head.get("add", ()):
                st.paths[cid] = path
                st.reshaped = True
            for cid in head.get("del", ()):
                st.paths.pop(cid, None)
                st.procs.pop(cid, None)
                st.reshaped = True
            where = st.tids
            st.dirty.update(map(where.get, tids))  # type: ignore[arg-type]  # the cgroups the tasks left (None: new)
            st.dirty.update(tcg)  # and those they entered
            if len(tcg) and min(tcg) >= 0:  # moves and new tasks only (the common case): at C speed
                where.update(zip(tids, tcg, strict=True))
            else:
                for tid, cid in zip(tids, tcg, strict=True):
                    if cid < 0:
                        where.pop(tid, None)
                    else:
                        where[tid] = cid
            procs_of = st.procs_of
            for pid, cid in zip(pids, pcg, strict=True):
                if cid >= 0:
                    procs_of(cid).add(pid)
                elif cid <= -2:
                    procs_of(-2 - cid).discard(pid)
        for row in doc.get("tasks", ()):
            tasks.born[row[0]] = row

    def snapshot_at(self, at: float) -> tuple[Snapshot, _Tasks]:
        """The recorded snapshot at the last sample at or before `at`, and its task table."""
        states, tasks, t = self.state_at(at)
        return _build(states, t), tasks

    # -- where

    def where(self, pid: int, since: float | None = None, until: float | None = None) -> list[dict[str, Any]]:
        """Every cgroup (per hierarchy) the task with `pid` was in from `since` to `until`:
        rows {hierarchy, cgroup, start_time, entered, left, batch (the ctrtui batch that moved
        it there, or None), left_batch}. A PID whose start time changes is another task: its
        rows carry the other start time. Reads only the headers and bisects the deltas' PID
        arrays."""
        first, last = self.span()
        lo = first if since is None else since
        hi = last if until is None else until
        k0 = self._sample_index(max(lo, first))
        f0 = self.index[k0][0]
        start = k0
        while start >= 0 and not (self.index[start][0] is f0 and self.index[start][2] == b"F"):
            start -= 1
        rows: list[dict[str, Any]] = []
        open_rows: dict[str, dict[str, Any]] = {}
        prev_t: float | None = None
        batches = self.batches()
        paths: dict[str, dict[int, str]] = {}
        start_time: int | None = None
        cache: tuple[bytes, Any] | None = None

        def enter(hier: str, path: str | None, t: float, start: int | None, attributed: bool) -> None:
            old = open_rows.pop(hier, None)
            batch = _which_batch(batches, hier, pid, path, prev_t, t) if attributed and path is not None else None
            if old is not None:
                old["left"] = t
                old["left_batch"] = batch
            if path is not None:
                row = {"hierarchy": hier, "cgroup": path, "pid": pid, "start_time": start,
                       "entered": t if attributed else None, "left": None, "batch": batch, "left_batch": None}
                rows.append(row)
                open_rows[hier] = row

        k = start
        current_file = None
        while k < len(self.index):
            f, i, kind, t = self.index[k]
            k += 1
            if t > hi:
                break
            if kind == b"J":
                continue
            if kind == b"F" and (current_file is not f):
                current_file = f
                snap, tasks = self._full(f, i)
                paths = {hs.name: dict(enumerate(hs.containers)) for hs in snap.hierarchies}
                task = tasks.get(pid)
                st = task[1] if task is not None else None
                reborn = st != start_time and start_time is not None and st is not None
                if reborn:
                    for h in list(open_rows):
                        enter(h, None, t, None, True)
                start_time = st
                for hs in snap.hierarchies:
                    places = hs.find(pid, threads=True)
                    path = places[0] if places else None
                    cur = open_rows.get(hs.name)
                    if (cur["cgroup"] if cur else None) != path:
                        enter(hs.name, path, t, start_time, prev_t is not None)
                for h in [h for h in open_rows if snap.get(h) is None]:
                    enter(h, None, t, None, True)
                prev_t = t
                continue
            if kind == b"F":
                prev_t = t
                continue
            raw = f.payload(i, verify=False)
            doc_bytes_len = _U32.unpack_from(raw, 0)[0] if len(raw) >= 4 else 0
            jb = bytes(raw[4:4 + doc_bytes_len])
            doc, views = self._delta(f, i, cache[1] if cache is not None and cache[0] == jb else None, verify=False)
            cache = (jb, doc)
            for name in doc.get("gone", ()):
                paths.pop(name, None)
                if name in open_rows:
                    enter(name, None, t, None, True)
            for row in doc.get("tasks", ()):
                if row[0] == pid:
                    if start_time is not None and row[1] != start_time:
                        for h in list(open_rows):
                            if open_rows[h]["start_time"] == start_time:
                                enter(h, None, t, None, True)
                    start_time = row[1]
            for head, (tids, tcg, _, _) in zip(doc["h"], views, strict=True):
                table = paths.setdefault(head["name"], {})
                for cid, path in head.get("add", ()):
                    table[cid] = path
                j = bisect_left(tids, pid)
                if j < len(tids) and tids[j] == pid:
                    cid = tcg[j]
                    path = table.get(cid) if cid >= 0 else None
                    enter(head["name"], path, t, start_time, True)
                for cid in head.get("del", ()):
                    table.pop(cid, None)
            prev_t = t
        return [r for r in rows if r["left"] is None or r["left"] >= lo]


def _swapped(data: memoryview) -> array[int]:
    a = array("i")
    a.frombytes(bytes(data))
    a.byteswap()
    return a


def _which_batch(batches: list[dict[str, Any]], hier: str, pid: int, path: str | None, t0: float | None,
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


def _states_of(snap: Snapshot) -> dict[str, _State]:
    states = {}
    for hs in snap.hierarchies:
        st = _State(hs.hierarchy)
        for cid, (p, c) in enumerate(hs.containers.items()):
            st.paths[cid] = p
            st.tids.update(dict.fromkeys(c.threads, cid))
            st.base[cid] = c
        states[hs.name] = st
    return states


def _build(states: Mapping[str, _State], t: float) -> Snapshot:
    """The Snapshot of rebuilt states: cgroups in pre-order, children sorted by name."""
    out = []
    for st in states.values():
        if not st.reshaped:  # the full snapshot's cgroups: only those a delta touched are new
            out.append(_rebuilt(st))
            continue
        members_t: dict[int, list[int]] = {cid: [] for cid in st.paths}
        for tid, cid in st.tids.items():
            if cid in members_t:
                members_t[cid].append(tid)
        by_path = {p: cid for cid, p in st.paths.items()}
        kids: dict[str, list[str]] = {p: [] for p in by_path}
        roots = []
        for p in by_path:
            parent = parent_path(p)
            if parent is not None and parent in kids:
                kids[parent].append(p)
            else:
                roots.append(p)
        containers: dict[str, Container] = {}
        stack = sorted(roots, reverse=True)
        while stack:
            p = stack.pop()
            cid = by_path[p]
            children = tuple(sorted(kids[p]))
            procs = st.procs.get(cid)
            if procs is None:
                base = st.base.get(cid)
                procs = set(base.procs) if base is not None else set()
            containers[p] = Container(p, children, array("i", sorted(members_t[cid])), array("i", sorted(procs)))
            stack.extend(reversed(children))
        out.append(HierarchySnapshot(st.hierarchy, MappingProxyType(containers)))
    return Snapshot(tuple(out), t, "history")


def _rebuilt(st: _State) -> HierarchySnapshot:
    """A hierarchy whose cgroups are the full snapshot's: its Containers, except those a
    delta touched, rebuilt from the members."""
    dirty = st.dirty
    dirty.discard(None)  # a task new to the hierarchy left no cgroup (map(get) gave None)
    members: dict[int, list[int]] = {cid: [] for cid in dirty}
    if dirty:
        for tid, cid in st.tids.items():
            if cid in members:
                members[cid].append(tid)
    containers: dict[str, Container] = {}
    for cid, c in st.base.items():
        if cid in dirty:
            c = Container(c.path, c.children, array("i", sorted(members[cid])), array("i", sorted(st.procs_of(cid))))
        containers[c.path] = c
    return HierarchySnapshot(st.hierarchy, MappingProxyType(containers))


def _check_tasks(table: object) -> dict[int, list[Any]]:
    """The tasks a delta adds: [[tid, start time, tgid, comm], ...]."""
    if not isinstance(table, list):
        raise _Bad("the task table is not a list")
    out = {}
    for row in table:
        if not (isinstance(row, list) and len(row) == 4 and type(row[0]) is int and 0 < row[0] <= PID_LIMIT
                and type(row[1]) is int and 0 <= row[1] < 2 ** 63 and type(row[2]) is int
                and 0 <= row[2] <= PID_LIMIT and isinstance(row[3], str) and len(row[3]) <= 64):
            raise _Bad("a task table row is not [tid, start time, tgid, comm]")
        out[row[0]] = row
    return out


def _check_delta_doc(doc: object) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("h"), list):
        raise _Bad("the delta header is not an object with its hierarchies")
    for head in doc["h"]:
        if not isinstance(head, dict) or not isinstance(head.get("name"), str):
            raise _Bad("a hierarchy of the delta has no name")
        hd = head.get("hierarchy")
        if hd is not None and not (isinstance(hd, dict) and hd.get("version") in (1, 2)
                                   and isinstance(hd.get("controllers"), list)
                                   and all(isinstance(c, str) for c in hd["controllers"])
                                   and isinstance(hd.get("mount"), str) and isinstance(hd.get("root"), str)
                                   and type(hd.get("hierarchy_id")) is int):
            raise _Bad(f"hierarchy {head['name']!r} is described wrongly")
        add = head.get("add", [])
        if not (isinstance(add, list) and all(isinstance(a, list) and len(a) == 2 and type(a[0]) is int
                                              and isinstance(a[1], str) and a[1].startswith("/") for a in add)):
            raise _Bad(f"the cgroups added to {head['name']!r} are not [id, absolute path] pairs")
        dels = head.get("del", [])
        if not (isinstance(dels, list) and all(type(d) is int for d in dels)):
            raise _Bad(f"the cgroups removed from {head['name']!r} are not ids")
    gone = doc.get("gone", [])
    if not (isinstance(gone, list) and all(isinstance(g, str) for g in gone)):
        raise _Bad("the hierarchies gone are not names")
    _check_tasks(doc.get("tasks", []))
    return doc


def _check_batch(b: object) -> dict[str, Any]:
    if not (isinstance(b, dict) and isinstance(b.get("batch"), str) and len(b["batch"]) <= 80
            and (b.get("time") is None or isinstance(b.get("time"), (int, float)))
            and isinstance(b.get("hierarchy"), str) and isinstance(b.get("pids"), list)):
        raise _Bad("a journal batch is not {batch, time, hierarchy, pids}")
    for row in b["pids"]:
        if not (isinstance(row, list) and len(row) == 4 and type(row[0]) is int
                and (row[3] is None or isinstance(row[3], str))):
            raise _Bad(f"batch {b['batch']!r}: a moved PID is not [pid, start time, from, to]")
    return b


def _fmt(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def task_info(row: Sequence[Any]) -> TaskInfo:
    """A task of the recording's table as the TaskInfo `ctrtui tasks` shows (what was
    recorded: comm, TGID, start time; the rest unknown)."""
    tid, start, tgid, comm = row
    return TaskInfo(tid, tgid or tid, comm, "-", 0, 0, 0, start, user="-")

