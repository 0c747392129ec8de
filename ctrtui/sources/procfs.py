"""Task facts from `/proc`: cheap state for the engine's hooks, details for rows on screen.

Direct reads of `/proc/PID/stat`, `status` and `cmdline` (bytes, split at the last `)` of
stat because `comm` may hold spaces and parentheses). psutil is not used: measured on this
project's machine (2 cores, kernel 6.18), best of 7, same fields (comm, cmdline, state,
uids, user, start, threads, cpu times, rss) --
  all 76 processes:        direct 2.8 ms   psutil `oneshot()` 12.0 ms
  2,001 threads of one:    direct 206 ms   psutil 690 ms

Details are cached by (pid, start time): a recycled PID has another start time, so it never
shows the previous owner's command line or user. What a task can change while it lives
(state, uids, cpu, rss, comm) is read fresh on every call; the command line is read again
only when `comm` changed (an exec).
"""

from __future__ import annotations

import errno
import os
import pwd
import time

from ctrtui.model import TaskInfo

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    from collections.abc import Iterable

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_O_RDONLY = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def read_rest(fd: int, first: bytes = b"") -> bytes:
    """`first` plus everything after it, read from `fd` to EOF with unbuffered reads."""
    chunks = [first] if first else []
    while True:
        b = os.read(fd, 65536)
        if not b:
            return b"".join(chunks)  # one chunk: returned as is, not copied
        chunks.append(b)


def read_bytes(path: str) -> bytes:
    """The whole file, read to EOF with unbuffered reads (raises OSError)."""
    fd = os.open(path, _O_RDONLY)
    try:
        return read_rest(fd)
    finally:
        os.close(fd)


def read_single(path: str) -> bytes:
    """A `/proc/PID/*` file that the kernel generates as one record (`stat`, `status`,
    `cgroup`: seq_file `single_open`): the whole record is produced at the first read(), so a
    read that returns less than was asked for has reached EOF and the extra read() that
    would return b"" is skipped (one syscall of three per file). Raises OSError."""
    fd = os.open(path, _O_RDONLY)
    try:
        data = os.read(fd, _SINGLE_READ)
        if len(data) == _SINGLE_READ:
            data = read_rest(fd, data)
    finally:
        os.close(fd)
    return data


_SINGLE_READ = 16384

# PIDFD_GET_INFO (kernel 6.13+): _IOWR(0xFF, 11, struct pidfd_info), the 64-byte version 0:
# u64 mask, u64 cgroupid, u32 pid, tgid, ppid, ruid, rgid, euid, egid, suid, ...
_PIDFD_GET_INFO = (3 << 30) | (64 << 16) | (0xFF << 8) | 11
_PIDFD_INFO_CREDS = 1 << 1
_pidfd_info_works: bool | None = None


def pidfd_creds(fd: int) -> tuple[int, int, int, int] | None:
    """(tgid, uid, euid, suid) of the task behind a pidfd with one ioctl (PIDFD_GET_INFO,
    kernel 6.13+) instead of reading and parsing `/proc/PID/status` (~1.5 us against ~14 us
    on this project's machine). None when the kernel cannot tell (older kernel: then it is
    not asked again; or the task is gone)."""
    global _pidfd_info_works
    if _pidfd_info_works is False:
        return None
    import fcntl

    buf = bytearray(64)
    buf[0] = _PIDFD_INFO_CREDS
    try:
        fcntl.ioctl(fd, _PIDFD_GET_INFO, buf)
    except OSError as e:
        if e.errno in (errno.ENOTTY, errno.EINVAL, errno.EOPNOTSUPP):
            _pidfd_info_works = False
        return None
    _pidfd_info_works = True
    view = memoryview(buf)
    if not view.cast("Q")[0] & _PIDFD_INFO_CREDS:
        return None
    u32 = view.cast("I")  # from index 4: pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid
    return u32[5], u32[7], u32[9], u32[11]


def parse_stat(data: bytes) -> tuple[str, list[bytes]]:
    """Split `/proc/PID/stat` into (comm, fields) where fields[0] is field 3 (state), so
    field N of proc(5) is fields[N - 3]. Split at the LAST `)`: comm may contain `) (`."""
    open_ = data.index(b"(")
    close = data.rindex(b")")
    comm = data[open_ + 1:close].decode("utf-8", "surrogateescape")
    return comm, data[close + 2:].split()


def parse_status(data: bytes) -> tuple[int, int, int, int]:
    """(tgid, uid, euid, suid) from `/proc/PID/status`."""
    tgid = uid = euid = suid = -1
    for line in data.split(b"\n"):
        if line.startswith(b"Tgid:"):
            tgid = int(line[5:])
        elif line.startswith(b"Uid:"):
            uid, euid, suid = (int(x) for x in line[4:].split()[:3])
            break  # Uid comes after Tgid
    return tgid, uid, euid, suid


def read_task(pid: int, proc: str = "/proc") -> tuple[TaskInfo, list[bytes]] | None:
    """The cheap facts of one task (thread or process) and its raw stat fields; None when
    there is no such task (or it vanished between the two reads)."""
    base = f"{proc}/{pid}/"
    try:
        stat = read_single(base + "stat")
        status = read_single(base + "status")
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return None
    return task_info(pid, stat, parse_status(status))


def task_info(pid: int, stat: bytes, ids: tuple[int, int, int, int]) -> tuple[TaskInfo, list[bytes]]:
    """TaskInfo from the bytes of `/proc/PID/stat` and (tgid, uid, euid, suid), with the raw
    stat fields."""
    comm, f = parse_stat(stat)
    tgid, uid, euid, suid = ids
    info = TaskInfo(pid, tgid, comm, f[0].decode(), uid, euid, suid, int(f[19]), int(f[6]), int(f[17]))
    return info, f


def uptime_ticks(proc: str = "/proc") -> float:
    """Seconds since boot, in clock ticks."""
    with open(f"{proc}/uptime", "rb") as fh:
        return float(fh.read().split()[0]) * CLK_TCK


class ProcReader:
    """Task details for batches of PIDs, cached by (pid, start time).

    `cpu_percent` is the share of one CPU used since the previous call that saw the same
    (pid, start time) -- like top; on first sight it is the average over the task's
    lifetime -- like ps. `rss` is in bytes.
    """

    def __init__(self, proc: str = "/proc") -> None:
        self.proc = proc
        # pid -> (start time, comm, cmdline, cpu ticks, monotonic time): an entry whose
        # start time differs from the task's is another (recycled) task and is replaced.
        self._cache: dict[int, tuple[int, str, str, int, float]] = {}
        self._users: dict[int, str] = {}

    def user_name(self, uid: int) -> str:
        """The user name of `uid` (cached), or the number when it has no name."""
        name = self._users.get(uid)
        if name is None:
            try:
                name = pwd.getpwuid(uid).pw_name
            except KeyError:
                name = str(uid)
            self._users[uid] = name
        return name

    def details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        """TaskInfo with details for each PID that exists (missing ones are left out)."""
        out: dict[int, TaskInfo] = {}
        now = time.monotonic()
        up: float | None = None
        cache = self._cache
        for pid in pids:
            got = read_task(pid, self.proc)
            if got is None:
                cache.pop(pid, None)
                continue
            info, f = got
            ticks = int(f[11]) + int(f[12])  # utime + stime
            old = cache.get(pid)
            if old is not None and old[0] != info.start_time:
                old = None  # a recycled PID: nothing of the old entry applies
            if old is not None and old[1] == info.comm:
                cmdline = old[2]
            else:
                try:
                    raw = read_bytes(f"{self.proc}/{pid}/cmdline")
                except OSError:
                    raw = b""
                cmdline = raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "surrogateescape")
            if old is not None and now > old[4]:
                cpu = 100.0 * (ticks - old[3]) / CLK_TCK / (now - old[4])
            else:
                if up is None:
                    up = uptime_ticks(self.proc)
                age = up - info.start_time
                cpu = 100.0 * ticks / age if age > 0 else 0.0
            cache[pid] = (info.start_time, info.comm, cmdline, ticks, now)
            out[pid] = info.replace(
                cmdline=cmdline,
                user=self.user_name(info.uid),
                cpu_percent=round(max(cpu, 0.0), 1),
                rss=int(f[21]) * PAGE_SIZE,
            )
        return out
