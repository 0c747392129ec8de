"""Reading cgroup trees from the real filesystems: snapshots (every cgroup of a hierarchy
from a start down), single cgroups, and where a task is (`/proc/PID/cgroup`), including
cgroups whose path is longer than PATH_MAX (through directory fds).

Snapshots walk each hierarchy with `os.scandir` and read every membership file to EOF with
raw `os.open`/`os.read`/`os.close`, parsing bytes straight into `array('i')`. Kernel facts
this relies on (kernel/cgroup/cgroup-v1.c, fs/seq_file.c):
- v1 `tasks` and `cgroup.procs` are sorted and unique even across several read() calls
  (the pidlist is resumed by PID value), so they are not sorted again;
- v2 `cgroup.procs`/`cgroup.threads` are unsorted and may repeat a task that moved out and
  back during the read, so they are sorted and deduplicated;
- a seq_file read fills one page-sized buffer and stops early only at EOF or when the next
  record does not fit, so a first read() returning much less than a page has reached EOF
  and the extra read() that would return b"" is skipped (one syscall fewer per file).

`TreeWalk` is the reading half of the real backend (`cgroupfs.CgroupFS` is one).
"""

from __future__ import annotations

import errno
import os
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from types import MappingProxyType

from ctrtui.model import (
    EMPTY,
    Container,
    Hierarchy,
    HierarchySnapshot,
    Snapshot,
    contains,
    is_ancestor,
    sorted_pids,
)
from ctrtui.sources.mounts import Mounts, cgroup_line, parse_proc_cgroup
from ctrtui.sources.procfs import parse_status, read_rest, read_single

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

_O_RDONLY = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)

# A first read() shorter than this has met EOF (see the module docstring); longer ones
# are followed by more reads until one returns b"".
_SHORT_READ = 2048
_READ_SIZE = 65536

_GONE = (errno.ENOENT, errno.ENODEV, errno.ESRCH)


class TreeWalk(Mounts):
    """Snapshots, single cgroups and where tasks are (see the module docstring)."""

    kind = "real"

    # ---------------------------------------------------------------- snapshot

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None, *,
                 procs: bool = True) -> Snapshot:
        """A new snapshot of the hierarchies named (default: all), optionally only the
        cgroup `subtree` and below in each. A hierarchy without that subtree is included
        with no cgroups. `procs=False` (not in the Backend protocol) leaves `cgroup.procs`
        unread and every Container's `procs` empty: half the files, for callers that show
        only threads (`ctrtui ls` without --json)."""
        all_h = self.hierarchies()
        if names is None:
            chosen = list(all_h)
        else:
            chosen = []
            for word in names:
                h = self.hierarchy(word)
                if h not in chosen:
                    chosen.append(h)
        if subtree is not None:
            self._check_path(subtree)
        taken = time.time()
        snaps = tuple(self._walk(h, subtree if subtree is not None else h.root, procs) for h in chosen)
        return Snapshot(snaps, taken, self.kind)

    def _walk(self, h: Hierarchy, start: str, want_procs: bool = True) -> HierarchySnapshot:
        """Read one hierarchy's tree from `start` down (the hot loop: kept flat on purpose,
        no helper calls per file; see benchmarks and the module docstring)."""
        v1 = h.version == 1
        tname = "/tasks" if v1 else "/cgroup.threads"
        out: dict[str, Container] = {}  # filled in depth-first pre-order
        derived: set[str] = set()  # v2 threaded cgroups whose procs were derived
        vanished: set[str] = set()
        # a path outside the mount's root is not on disk
        stack = [(start, h.fs_path(start))] if is_ancestor(h.root, start) else []
        scandir, osopen, osread, osclose = os.scandir, os.open, os.read, os.close
        rd, size, short, empty = _O_RDONLY, _READ_SIZE, _SHORT_READ, EMPTY
        pop, push = stack.pop, stack.extend
        while stack:
            path, d = pop()
            try:
                with scandir(d) as it:
                    kids = [e.name for e in it if e.is_dir(follow_symlinks=False)]
                fd = osopen(d + tname, rd)
                try:
                    tdata = osread(fd, size)
                    if len(tdata) >= short:
                        tdata = read_rest(fd, tdata)
                finally:
                    osclose(fd)
                if want_procs:
                    fd = osopen(d + "/cgroup.procs", rd)
                    try:
                        pdata = osread(fd, size)
                        if len(pdata) >= short:
                            pdata = read_rest(fd, pdata)
                    except OSError as e:
                        if e.errno != errno.EOPNOTSUPP:
                            raise
                        pdata = None  # a v2 threaded cgroup: derived below
                    finally:
                        osclose(fd)
                else:
                    pdata = b""
            except OSError as e:
                if e.errno != errno.ENAMETOOLONG:
                    if e.errno in _GONE:
                        vanished.add(path)  # removed during the walk
                        continue
                    raise
                deep = _read_deep(d, tname, want_procs)  # deeper than PATH_MAX: through directory fds
                if deep is None:
                    vanished.add(path)
                    continue
                kids, tdata, pdata = deep
            if v1:
                threads = array("i", map(int, tdata.split())) if tdata else empty
                procs = array("i", map(int, pdata.split())) if pdata else empty
            else:
                threads = array("i", sorted(set(map(int, tdata.split())))) if tdata else empty
                if pdata is None:
                    procs = self._tgids(threads)
                    derived.add(path)
                else:
                    procs = array("i", sorted(set(map(int, pdata.split())))) if pdata else empty
            if kids:
                kids.sort()
                prefix = path if path != "/" else ""
                children = tuple([prefix + "/" + k for k in kids])
                push(zip(reversed(children), [d + "/" + k for k in reversed(kids)]))
            else:
                children = ()
            out[path] = Container(path, children, threads, procs)
        if vanished:
            # Children that vanished during the walk are dropped from their parent's list.
            for p, c in out.items():
                if not vanished.isdisjoint(c.children):
                    out[p] = c.replace(children=tuple(ch for ch in c.children if ch not in vanished))
        self._reconcile(h, out, derived)
        return HierarchySnapshot(h, MappingProxyType(out))

    def read_cgroups(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Container | None]:
        """Each named cgroup alone: its child list (one scandir) and its members (`tasks`
        or `cgroup.threads`, and `cgroup.procs`), None for one that is gone. Two or three
        files per cgroup, however big the tree below it: what the UI re-reads at each tick
        for the cgroups on screen, instead of walking the whole hierarchy."""
        h = self.hierarchy(hierarchy)
        v1 = h.version == 1
        tname = "/tasks" if v1 else "/cgroup.threads"
        out: dict[str, Container | None] = {}
        for path in paths:
            self._check_path(path)
            if not is_ancestor(h.root, path):
                out[path] = None
                continue
            d = h.fs_path(path)
            try:
                with os.scandir(d) as it:
                    kids = sorted(e.name for e in it if e.is_dir(follow_symlinks=False))
                tdata = _read_members(d + tname)
                try:
                    pdata: bytes | None = _read_members(d + "/cgroup.procs")
                except OSError as e:
                    if e.errno != errno.EOPNOTSUPP:
                        raise
                    pdata = None  # a v2 threaded cgroup: derived from its threads
            except OSError as e:
                if e.errno != errno.ENAMETOOLONG:
                    if e.errno in _GONE:
                        out[path] = None
                        continue
                    raise
                deep = _read_deep(d, tname, True)  # deeper than PATH_MAX: through directory fds
                if deep is None:
                    out[path] = None
                    continue
                kids, tdata, pdata = deep
                kids.sort()
            if v1:
                threads = array("i", map(int, tdata.split())) if tdata else EMPTY
                procs = array("i", map(int, pdata.split())) if pdata else EMPTY
            else:
                threads = array("i", sorted(set(map(int, tdata.split())))) if tdata else EMPTY
                procs = (self._tgids(threads) if pdata is None
                         else array("i", sorted(set(map(int, pdata.split())))) if pdata else EMPTY)
            prefix = path if path != "/" else ""
            out[path] = Container(path, tuple(prefix + "/" + k for k in kids), threads, procs)
        return out

    def _tgid(self, tid: int) -> int | None:
        try:
            tgid = parse_status(read_single(f"{self.proc}/{tid}/status"))[0]
        except OSError:
            return None
        return tgid if tgid >= 0 else None

    def _tgids(self, threads: array[int]) -> array[int]:
        """Processes of a v2 threaded cgroup (whose cgroup.procs cannot be read): the
        TGIDs of its threads, as v1 would list them (a TGID is listed where any of its
        threads is)."""
        return sorted_pids({tgid for tgid in map(self._tgid, threads) if tgid is not None})

    def _reconcile(self, h: Hierarchy, out: dict[str, Container], derived: set[str]) -> None:
        """A TID listed in two cgroups moved during the walk: keep it only where
        /proc/TID/cgroup says it is now (drop it when it is gone). Same for a v2 TGID
        listed in two `cgroup.procs`. v1 procs (and the derived procs of v2 threaded
        cgroups) legitimately repeat a TGID whose threads are spread, so there only the
        TGIDs left without any of their threads are dropped. Updates `out` in place.

        A task that moved from a cgroup not yet read into one already read is in neither
        list; it shows up in the next snapshot (finding it would need every task of the
        machine listed, which costs more than the walk)."""
        containers = list(out.values())
        dup_t = _duplicates([c.threads for c in containers])
        dup_p = (_duplicates([c.procs for c in containers if c.path not in derived])
                 if h.version == 2 else set())
        if not dup_t and not dup_p:
            return
        where = {pid: self._where(h, pid) for pid in dup_t | dup_p}
        for c in containers:
            threads, procs = c.threads, c.procs
            drop_t = {t for t in dup_t if where[t] != c.path and contains(threads, t)}
            if drop_t:
                threads = array("i", (t for t in threads if t not in drop_t))
                if h.version == 1 or c.path in derived:
                    procs = self._procs_left(procs, threads, drop_t)
            drop_p = {p for p in dup_p if where[p] != c.path and contains(procs, p)
                      and c.path not in derived}
            if drop_p:
                procs = array("i", (p for p in procs if p not in drop_p))
            if threads is not c.threads or procs is not c.procs:
                out[c.path] = Container(c.path, c.children, threads, procs)

    def _where(self, h: Hierarchy, pid: int) -> str | None:
        cg = self.task_cgroups(pid)
        return None if cg is None else cg.get(h.name)

    def _procs_left(self, procs: array[int], threads: array[int], dropped: set[int]) -> array[int]:
        """v1: drop the TGID of each dropped thread unless another of its threads is still here."""
        gone = set()
        for t in dropped:
            g = self._tgid(t)
            if g is None or not contains(procs, g):
                continue
            if not any(contains(threads, x) for x in self.thread_ids(g)):
                gone.add(g)
        return array("i", (p for p in procs if p not in gone)) if gone else procs

    # ---------------------------------------------------------------- where tasks are

    def task_cgroups(self, pid: int) -> dict[str, str] | None:
        """Hierarchy name -> path from /proc/PID/cgroup (v1 matched by hierarchy ID, so
        the names are those of `hierarchies()`; v2 is `unified`). None when there is no
        such task."""
        data = self._proc_cgroup(pid)
        if data is None:
            return None
        by_id = {h.hierarchy_id: h.name for h in self._known() if h.version == 1}
        out: dict[str, str] = {}
        for ctrls, (hid, path) in parse_proc_cgroup(data.decode("utf-8", "surrogateescape")).items():
            if hid == 0 and ctrls == "":
                out["unified"] = path
            else:
                out[by_id.get(hid, ctrls)] = path
        return out

    def task_cgroup(self, pid: int, hierarchy: str) -> str | None:
        """The task's cgroup in one hierarchy (`task_cgroups(pid)[hierarchy]`, parsing only
        that line); None when there is no such task."""
        data = self._proc_cgroup(pid)
        return None if data is None else cgroup_line(data, self.hierarchy(hierarchy))

    def _proc_cgroup(self, pid: int) -> bytes | None:
        """The bytes of /proc/PID/cgroup; None when there is no such task."""
        try:
            return read_single(f"{self.proc}/{pid}/cgroup")
        except OSError as e:
            if e.errno in _GONE or e.errno == errno.ENOTDIR:
                return None
            raise

    def thread_ids(self, tgid: int) -> tuple[int, ...]:
        """TIDs of the thread group, sorted; () when it is gone."""
        try:
            return tuple(sorted(int(x) for x in os.listdir(f"{self.proc}/{tgid}/task")))
        except OSError:
            return ()


def _too_long(d: str) -> bool:
    """Whether a path to a file in directory `d` may exceed PATH_MAX (4096 bytes with its
    NUL; the longest file name read there has 31 bytes)."""
    return len(os.fsencode(d)) + 33 >= 4096


_DEEP_CHUNK = 3072
"""Bytes of path `_open_deep` resolves per openat(2): well below PATH_MAX (4096)."""


@contextmanager
def reachable(d: str) -> Iterator[str | None]:
    """A path by which the files of directory `d` can be opened: `d` itself, or, for a
    cgroup deeper than PATH_MAX, `/proc/self/fd/N` of a directory fd opened on it (closed
    on leaving); None when that directory cannot be opened (it is gone)."""
    if not _too_long(d):
        yield d
        return
    try:
        dfd = _open_deep(d)
    except OSError:
        yield None
        return
    try:
        yield f"/proc/self/fd/{dfd}"
    finally:
        os.close(dfd)


def _open_deep(d: str) -> int:
    """A read-only fd of the directory `d`, whose path may be longer than PATH_MAX (anyone
    with a delegated subtree can make one with mkdirat): opened a few components at a time,
    each relative to the last (O_PATH on the way)."""
    parts = [p for p in d.split("/") if p]
    fd = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        i = 0
        while i < len(parts):
            chunk, size = [parts[i]], len(os.fsencode(parts[i]))
            i += 1
            while i < len(parts) and size + 1 + len(os.fsencode(parts[i])) <= _DEEP_CHUNK:
                chunk.append(parts[i])
                size += 1 + len(os.fsencode(parts[i]))
                i += 1
            nfd = os.open("/".join(chunk), os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nfd
        nfd = os.open(".", _O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    finally:
        os.close(fd)
    return nfd


def _read_deep(d: str, tname: str, want_procs: bool) -> tuple[list[str], bytes, bytes | None] | None:
    """What the walk reads of one cgroup (child names, threads file, `cgroup.procs` or None
    where it cannot be read: a v2 threaded cgroup; b"" when not wanted), for a directory
    whose path is longer than PATH_MAX: through a directory fd. None when it is gone."""
    try:
        dfd = _open_deep(d)
        try:
            with os.scandir(dfd) as it:
                kids = [e.name for e in it if e.is_dir(follow_symlinks=False)]
            tdata = _read_members(tname.lstrip("/"), dfd)
            pdata: bytes | None = b""
            if want_procs:
                try:
                    pdata = _read_members("cgroup.procs", dfd)
                except OSError as e:
                    if e.errno != errno.EOPNOTSUPP:
                        raise
                    pdata = None
        finally:
            os.close(dfd)
    except OSError as e:
        if e.errno in _GONE:
            return None
        raise
    return kids, tdata, pdata


def _read_members(path: str, dir_fd: int | None = None) -> bytes:
    """A membership file, read as the walk reads it (a first read shorter than
    `_SHORT_READ` has met EOF); `path` relative to `dir_fd` when given."""
    fd = os.open(path, _O_RDONLY, dir_fd=dir_fd)
    try:
        data = os.read(fd, _READ_SIZE)
        if len(data) >= _SHORT_READ:
            data = read_rest(fd, data)
    finally:
        os.close(fd)
    return data


def _duplicates(lists: list[array[int]]) -> set[int]:
    """The PIDs found in more than one of `lists` (first a cheap count: usually none)."""
    seen: set[int] = set()
    for a in lists:
        seen.update(a)
    if len(seen) == sum(map(len, lists)):
        return set()
    seen.clear()
    dup: set[int] = set()
    for a in lists:
        dup.update(seen.intersection(a))
        seen.update(a)
    return dup

