"""What the engine's plan reads of tasks on the real kernel, each under a pidfd (`CgroupFS`'s
`task_probe` and `task_probes`): the facts (`/proc/PID/stat`, the uids by PIDFD_GET_INFO or
`/proc/PID/status`), the task's cgroup, and its pidfs identity.

A batch's cgroups (`Sources`): each task's `/proc/PID/cgroup` says where it is, one read of
~6 us per task. When a batch of at least `LIST_FROM` PIDs has met the same cgroup twice, that
cgroup's thread list (v1 `tasks`, v2 `cgroup.threads`) is read once and answers for every
later PID of the batch it holds; a PID not in a list read so far is read alone, as before.
The lists are read only after every pidfd of the batch is open and before the one poll that
proves no task was reaped meanwhile, so a PID in a list names the very task its pidfd holds:
what the list says is where that task was at a moment of the plan, as its own file would
have said a moment later. The lists read cover disjoint tasks (a task is in one cgroup of a
hierarchy), so a batch never reads more than the hierarchy's threads in them.
"""

from __future__ import annotations

import errno
import os

from ctrtui.sources.mounts import cgroup_line
from ctrtui.sources.pidfd import PidfdHandle, has_pidfs, poll_exited
from ctrtui.sources.procfs import parse_status, pidfd_creds, read_single, task_info

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Protocol

    from ctrtui.model import Hierarchy, TaskInfo
    from ctrtui.sources.base import MembershipFile, Probe, ProbeHeld
    from ctrtui.sources.pidfd import ThreadGuard

    class CgroupFS(Protocol):
        """What the probes use of `ctrtui.sources.cgroupfs.CgroupFS` (which calls them: named
        here, not imported, so the two modules do not import each other)."""

        proc: str

        def hierarchy(self, word: str) -> Hierarchy: ...

        def open_membership(self, hierarchy: str, path: str, filename: str,
                            write: bool = True) -> MembershipFile: ...

        def open_task(self, pid: int, thread: bool = False) -> PidfdHandle | ThreadGuard: ...

        def task_cgroup(self, pid: int, hierarchy: str) -> str | None: ...

        def task_state(self, pid: int) -> TaskInfo | None: ...

__all__ = ["LIST_FROM", "Sources", "probe_one", "probe_many"]

LIST_FROM = 32
"""From this many PIDs in a batch on, a cgroup met twice is listed once (see the module
docstring); the engine's apply verifies by the target's list from the same size on."""

_GONE = (FileNotFoundError, ProcessLookupError, NotADirectoryError)


class Sources:
    """The cgroups of one batch's tasks in hierarchy `h` (see the module docstring): `of(pid)`
    reads `/proc/PID/cgroup` unless a thread list read for the batch holds the PID."""

    def __init__(self, fs: CgroupFS, h: Hierarchy, size: int) -> None:
        self.fs, self.h = fs, h
        self.big = size >= LIST_FROM
        self.listed: dict[int, str] = {}  # TID -> its cgroup, from the lists read
        self._met: dict[str, int] = {}  # cgroup -> PIDs found there by their own file
        self._list_file = "cgroup.threads" if h.version == 2 else "tasks"
        self.lists = 0  # thread lists read (for tests and benchmarks)

    def of(self, pid: int, base: str) -> str | None:
        """The cgroup of the task `pid` (`base`: its /proc/PID/ directory). Raises what reading
        `/proc/PID/cgroup` raises (the task is gone: FileNotFoundError, ProcessLookupError)."""
        where = self.listed.get(pid)
        if where is not None:
            return where
        where = cgroup_line(read_single(base + "cgroup"), self.h)
        if where is not None and self.big:
            met = self._met[where] = self._met.get(where, 0) + 1
            if met == 2:
                self._list(where)
        return where

    def _list(self, path: str) -> None:
        """Read the thread list of `path` once; nothing when it cannot be read (each PID is
        then read alone)."""
        try:
            f = self.fs.open_membership(self.h.name, path, self._list_file, write=False)
        except (OSError, ValueError):
            return
        try:
            data = f.read()
        except OSError:
            return
        finally:
            f.close()
        self.lists += 1
        listed = self.listed
        for tid in map(int, data.split()):
            listed[tid] = path


def probe_one(fs: CgroupFS, pid: int, hierarchy: str) -> Probe | None:
    """`CgroupFS.task_probe`: one task's (facts, its cgroup in `hierarchy`, identity), read under
    a pidfd opened first and checked after the reads (a task not reaped then was not reaped
    during them, so every read was its own; a PID recycled meanwhile is read afresh); None
    when there is no such task."""
    h = fs.hierarchy(hierarchy)
    base = f"{fs.proc}/{pid}/"
    for _ in range(3):
        try:
            handle = fs.open_task(pid)
        except OSError as e:
            if e.errno == errno.ESRCH:
                return None
            break  # cannot hold it: read without the guard below
        try:
            try:
                stat = read_single(base + "stat")
                ids = pidfd_creds(handle.fd) if type(handle) is PidfdHandle and handle.fd is not None else None
                if ids is None or ids[0] <= 0:
                    ids = parse_status(read_single(base + "status"))
                where = cgroup_line(read_single(base + "cgroup"), h)
            except _GONE:
                if handle._reaped():
                    continue  # it is gone: try the PID again (a newcomer may hold it)
                break
            if handle._reaped():
                continue  # reaped during the reads: they may belong to a newcomer
            ident = handle.identity()
        finally:
            handle.close()
        info, _ = task_info(pid, stat, ids)
        return info, where, (None if ident is None else (*ident, info.start_time))
    plain = fs.task_state(pid)
    if plain is None:
        return None
    return plain, fs.task_cgroup(pid, h.name), None


def probe_many(fs: CgroupFS, pids: Iterable[int], hierarchy: str, keep: bool) -> dict[int, ProbeHeld | None]:
    """`CgroupFS.task_probes`: each task held by a pidfd while its files are read (its stat and
    uids first, for every PID; then the cgroups, `Sources`), the pidfds checked once for the
    whole batch afterwards (one poll(2)): a task that has not exited then was not reaped
    during its reads, so they were its own; one that has exited is looked at again alone."""
    h = fs.hierarchy(hierarchy)
    proc, pidfd_open, creds = fs.proc, os.pidfd_open, pidfd_creds
    got: dict[int, ProbeHeld | None] = {}
    held: list[tuple[int, int, bytes, tuple[int, int, int, int]]] = []
    info_works = True
    try:
        for pid in pids:
            if pid in got or pid <= 0:
                got.setdefault(pid, None)
                continue
            try:
                fd = pidfd_open(pid)
            except OSError as e:
                got[pid] = None if e.errno == errno.ESRCH else _alone(fs, pid, h.name, keep)  # e.g. a non-leader TID
                continue
            try:
                stat = read_single(f"{proc}/{pid}/stat")
                ids = creds(fd) if info_works else None
                if ids is None or ids[0] <= 0:
                    info_works = False
                    ids = parse_status(read_single(f"{proc}/{pid}/status"))
            except _GONE:
                os.close(fd)
                got[pid] = _alone(fs, pid, h.name, keep)  # it went: look again, alone
                continue
            except BaseException:
                os.close(fd)
                raise
            got[pid] = None  # keeps the order of first sight; filled below
            held.append((pid, fd, stat, ids))
        wheres = _cgroups_of(fs, h, held, got, keep)
        _finish(fs, h, held, wheres, got, keep)
    finally:
        for _, fd, _, _ in held:
            os.close(fd)
    return got


def _cgroups_of(fs: CgroupFS, h: Hierarchy, held: list[tuple[int, int, bytes, tuple[int, int, int, int]]],
                got: dict[int, ProbeHeld | None], keep: bool) -> list[str | None]:
    """The cgroup of each held task, in order; a task whose file is gone is closed, taken out
    of `held` and looked at again alone (its place in the answer is `None`, unused)."""
    sources = Sources(fs, h, len(held))
    proc = fs.proc
    wheres: list[str | None] = []
    gone: list[int] = []
    for i, (pid, _, _, _) in enumerate(held):
        try:
            wheres.append(sources.of(pid, f"{proc}/{pid}/"))
        except _GONE:
            wheres.append(None)
            gone.append(i)
    for i in reversed(gone):
        pid, fd, _, _ = held.pop(i)
        del wheres[i]
        os.close(fd)
        got[pid] = _alone(fs, pid, h.name, keep)
    return wheres


def _finish(fs: CgroupFS, h: Hierarchy, held: list[tuple[int, int, bytes, tuple[int, int, int, int]]],
            wheres: list[str | None], got: dict[int, ProbeHeld | None], keep: bool) -> None:
    """One poll of every held pidfd, then each task's answer (its handle kept with `keep`)."""
    exited = poll_exited([fd for _, fd, _, _ in held])
    pidfs = has_pidfs()
    proc, fstat = fs.proc, os.fstat
    while held:
        pid, fd, stat, ids = held.pop()
        where = wheres.pop()
        handle = PidfdHandle(pid, fd, proc)
        if fd in exited and handle._reaped():
            handle.close()  # reaped during the reads: they may belong to a newcomer
            got[pid] = _alone(fs, pid, h.name, keep)
            continue
        info, _ = task_info(pid, stat, ids)
        ident = None
        if pidfs:
            st = fstat(fd)
            ident = (st.st_dev, st.st_ino, info.start_time)
        if not keep:
            handle.close()
        got[pid] = (info, where, ident, handle if keep else None)


def _alone(fs: CgroupFS, pid: int, hierarchy: str, keep: bool) -> ProbeHeld | None:
    got = probe_one(fs, pid, hierarchy)
    return None if got is None else (*got, None)
