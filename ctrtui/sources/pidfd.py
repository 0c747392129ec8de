"""Tasks held by pidfds, so that no write or read follows a recycled PID: `PidfdHandle` (a
pidfd of the task, or with PIDFD_THREAD of the thread), `ThreadGuard` (a thread on kernels
before 6.9: its group's pidfd plus its start time), their shared base, and what the kernel
offers (pidfs inodes, PIDFD_THREAD), probed once; `poll_exited` asks many pidfds at once.
"""

from __future__ import annotations

import errno
import os
import select
import signal

from ctrtui.sources.procfs import parse_stat, read_bytes

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Self


_PIDFS: list[bool] = []


def has_pidfs() -> bool:
    """True when pidfds carry a per-task inode (pidfs, Linux 6.9+): checked once, by
    comparing the pidfd inodes of this process and of PID 1."""
    if not _PIDFS:
        ok = False
        if os.getpid() != 1:
            try:
                a, b = os.pidfd_open(os.getpid()), os.pidfd_open(1)
            except OSError:
                pass
            else:
                try:
                    sa, sb = os.fstat(a), os.fstat(b)
                    ok = sa.st_dev == sb.st_dev and sa.st_ino != sb.st_ino
                finally:
                    os.close(a)
                    os.close(b)
        _PIDFS.append(ok)
    return _PIDFS[0]


class _HeldFd:
    """What both handles share: the pidfd they hold (`fd`, None once closed), closed once,
    at the latest when the handle is collected."""

    fd: int | None

    def _fd_reaped(self) -> bool:
        """True once the task the pidfd holds is reaped (closed: True). One
        pidfd_send_signal(2) of signal 0."""
        if self.fd is None:
            return True
        try:
            signal.pidfd_send_signal(self.fd, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # exists, but not ours to signal
        return False

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except OSError:
            pass


class PidfdHandle(_HeldFd):
    """A task held by a pidfd: it cannot follow a recycled PID.

    A PID is freed only when its task is reaped, and a pidfd notices the reap; so a handle
    that still answers `alive()` after a write proves the write hit this very task.
    """

    def __init__(self, pid: int, fd: int, proc: str = "/proc", guard: str = "pidfd") -> None:
        self.pid = pid
        self.fd: int | None = fd
        self._proc = proc
        self.guard = guard
        """How the task is held, as reports name it: `pidfd`, or `pidfd-thread` (PIDFD_THREAD)."""

    def _reaped(self) -> bool:
        """True once the task is reaped (its PID may already belong to another task)."""
        return self._fd_reaped()

    def reaped(self) -> bool:
        """True once the task is reaped: its PID is free (or another task's). One
        pidfd_send_signal(2) of signal 0."""
        return self._reaped()

    def start_time(self) -> int | None:
        """Start time (ticks) of the held task; None once it is reaped. Read first and
        checked after: a task not reaped after the read was not reaped during it, so the
        /proc entry read was its own."""
        try:
            stat = read_bytes(f"{self._proc}/{self.pid}/stat")
        except OSError:
            return None
        if self._reaped():
            return None
        return int(parse_stat(stat)[1][19])

    def alive(self) -> bool:
        """True while the held task has not exited (a zombie has exited)."""
        if self._reaped() or self.exited():
            return False
        try:
            stat = read_bytes(f"{self._proc}/{self.pid}/stat")
        except OSError:
            return False
        return parse_stat(stat)[1][0] not in (b"Z", b"X")

    def exited(self) -> bool:
        """True once the held task has exited (a zombie, or reaped): one poll(2) of the
        pidfd, which reports POLLIN then. A thread-group leader that exited while other
        threads still run is not reported (its group has not exited)."""
        if self.fd is None:
            return True
        p = select.poll()
        p.register(self.fd, select.POLLIN)
        return bool(p.poll(0))

    def identity(self) -> tuple[int, int] | None:
        """(device, inode) of the pidfd when the kernel has pidfs (Linux 6.9+): every pidfd
        of one task shares that inode, and a task started later never gets it again (on
        64-bit the number is unique for the life of the system), so equal identities prove
        two pidfds, opened at different times, hold the same task -- without reading the
        start time from /proc again. None on older kernels (all pidfds share one inode)."""
        if self.fd is None or not has_pidfs():
            return None
        st = os.fstat(self.fd)
        return st.st_dev, st.st_ino


class ThreadGuard(_HeldFd):
    """A non-leader thread held without PIDFD_THREAD (kernels before 6.9): the pidfd of its
    thread group, so the group -- and with it every /proc/TGID/task entry -- cannot be
    another's, plus the thread's start time from /proc/TGID/task/TID/stat, read when opened
    and again at every question. A TID is freed as soon as its thread exits, so another
    thread may get it; one of the same group with the very same start tick would not be
    told apart (a pidfd-thread guard would), which the report says by naming the guard."""

    guard = "tgid-pidfd+starttime"

    def __init__(self, tid: int, tgid: int, fd: int, proc: str = "/proc") -> None:
        self.pid = tid
        self.tgid = tgid
        self.fd: int | None = fd
        self._proc = proc
        self._start: int | None = None
        try:
            fields = self._fields()
        except BaseException:
            self.close()
            raise
        if fields is None:
            self.close()
            raise OSError(errno.ESRCH, f"thread {tid} is not a thread of process {tgid} (it exited)")
        self._start = int(fields[19])

    def _group_reaped(self) -> bool:
        return self._fd_reaped()

    def _fields(self) -> list[bytes] | None:
        """The thread's stat fields, None when it is gone (or the group was reaped meanwhile)."""
        try:
            stat = read_bytes(f"{self._proc}/{self.tgid}/task/{self.pid}/stat")
        except OSError:
            return None
        if self._group_reaped():
            return None
        return parse_stat(stat)[1]

    def _same(self) -> list[bytes] | None:
        f = self._fields()
        return f if f is not None and int(f[19]) == self._start else None

    def start_time(self) -> int | None:
        """The start time of the thread now holding the TID in the group (another than the
        one opened when it differs); None once it is gone."""
        f = self._fields()
        return None if f is None else int(f[19])

    def alive(self) -> bool:
        f = self._same()
        return f is not None and f[0] not in (b"Z", b"X")

    def exited(self) -> bool:
        return not self.alive()

    def reaped(self) -> bool:
        """True once the thread is gone (its TID may already be another's)."""
        return self._same() is None

    _reaped = reaped

    def identity(self) -> tuple[int, int] | None:
        return None


def probe_pidfd_thread() -> bool:
    """Can this kernel open a pidfd on a thread (PIDFD_THREAD, Linux 6.9+)? Asked of a thread
    of our own: EINVAL (an unknown flag) means no."""
    import threading

    ready, done = threading.Event(), threading.Event()
    tids: list[int] = []

    def wait() -> None:
        tids.append(threading.get_native_id())
        ready.set()
        done.wait()

    t = threading.Thread(target=wait, name="ctrtui-pidfd-probe", daemon=True)
    t.start()
    try:
        ready.wait()
        try:
            fd = os.pidfd_open(tids[0], os.O_EXCL)
        except OSError:
            return False  # EINVAL: the kernel does not know the flag
        os.close(fd)
        return True
    finally:
        done.set()
        t.join()


def poll_exited(fds: Sequence[int]) -> set[int]:
    """The pidfds among `fds` whose task has exited (POLLIN), in one poll(2)."""
    if not fds:
        return set()
    p = select.poll()
    for fd in fds:
        p.register(fd, select.POLLIN)
    return {fd for fd, ev in p.poll(0) if ev}
