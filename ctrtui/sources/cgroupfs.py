"""The real backend: cgroup hierarchies under /sys/fs/cgroup (v1, v2 and hybrid).

`CgroupFS` is made of `mounts.Mounts` (finding the hierarchies), `treewalk.TreeWalk`
(snapshots, single cgroups, where a task is) and what this module holds: the facts and stats
of one cgroup, the facts of tasks read under a pidfd (`pidfd`), the membership writes and
the cgroup admin calls (mkdir, rmdir, freeze). Every write is one unbuffered write(2), and
its OSError carries the kernel's errno.
"""

from __future__ import annotations

import errno
import os
import stat

from ctrtui.model import CgroupState, Creds, Hierarchy, TaskInfo, is_ancestor
from ctrtui.sources import CGROUP_ADMIN, POLL_EXITS, TASK_PROBES, WRITE
from ctrtui.sources.mounts import read_text
from ctrtui.sources.pidfd import PidfdHandle, ThreadGuard, poll_exited, probe_pidfd_thread
from ctrtui.sources.probes import probe_many, probe_one
from ctrtui.sources.procfs import (
    ProcReader,
    parse_status,
    read_bytes,
    read_rest,
    read_single,
    read_task,
)
from ctrtui.sources.treewalk import TreeWalk, reachable

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence

    from ctrtui.sources.base import Backend, CgroupAdmin, ExitPoller, Probe, ProbeHeld, TaskHandle, TaskProber


MEMBERSHIP_FILES = ("tasks", "cgroup.procs", "cgroup.threads")

_O_RDONLY = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_O_WRONLY = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)


class FdMembership:
    """An open membership file (a raw fd: permission was judged at open by the kernel)."""

    def __init__(self, path: str, write: bool) -> None:
        self.path = path
        self.fd: int | None = os.open(path, _O_WRONLY if write else _O_RDONLY)

    def _fd(self) -> int:
        if self.fd is None:
            raise OSError(errno.EBADF, "membership file is closed", self.path)
        return self.fd

    def write(self, data: bytes) -> int:
        """One unbuffered write; OSError carries the kernel's errno."""
        return os.write(self._fd(), data)

    def read(self) -> bytes:
        """Everything from the current position to EOF."""
        return read_rest(self._fd())

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)

    def __enter__(self) -> FdMembership:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CgroupFS(TreeWalk):
    """The Backend over the real cgroup filesystems (see the module docstring).

    Paths are injectable for tests: `mountinfo` is read for discovery and `proc` is the
    procfs root for task facts. Hierarchy names accepted by every method are the names
    of `hierarchies()` or any one controller of them (`Hierarchy.matches`); an unknown
    name raises KeyError.
    """

    kind = "real"
    identity = "local"
    capabilities = frozenset({WRITE, TASK_PROBES, POLL_EXITS, CGROUP_ADMIN})

    def __init__(self, mountinfo: str = "/proc/self/mountinfo", proc: str = "/proc") -> None:
        super().__init__(mountinfo, proc)
        self._details = ProcReader(proc)
        self._stats_for: dict[tuple[Hierarchy, frozenset[str] | None], tuple[str, ...]] = {}

    @property
    def pid_max(self) -> int:
        """`/proc/sys/kernel/pid_max` (32768 when it cannot be read: the kernel's default)."""
        try:
            value = int(read_bytes(f"{self.proc}/sys/kernel/pid_max"))
        except (OSError, ValueError):
            return 32768
        return value if value > 0 else 32768

    # ---------------------------------------------------------------- cgroups

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        """Fresh facts about one cgroup; None when it does not exist. `writable` is judged
        with access(2) on the EFFECTIVE ids (`effective_ids=True`), as the kernel judges
        the open; a v2 threaded cgroup's `cgroup.procs` counts as writable when its mode
        allows (the kernel still refuses to read it)."""
        h, d = self._dir(hierarchy, path)
        if not is_ancestor(h.root, path):
            return None
        with reachable(d) as at:
            if at is None:
                return None
            try:
                return self._state(h, path, at, os.stat(at))
            except OSError:
                return None

    @staticmethod
    def _state(h: Hierarchy, path: str, d: str, st: os.stat_result) -> CgroupState | None:
        if not stat.S_ISDIR(st.st_mode):
            return None
        writable = frozenset(
            f for f in MEMBERSHIP_FILES
            if os.path.exists(d + "/" + f) and os.access(d + "/" + f, os.W_OK, effective_ids=True))
        if h.version == 2:
            sub = read_text(d + "/cgroup.subtree_control")
            return CgroupState(
                h.name, path, 2,
                cgroup_type=read_text(d + "/cgroup.type"),
                cpuset_cpus=read_text(d + "/cpuset.cpus.effective"),  # None without the cpuset controller
                subtree_control=tuple(sub.split()) if sub else (),
                freezer_state=_v2_frozen(d),
                writable=writable,
                self_frozen=_flag(d + "/cgroup.freeze"),
                cgroup_id=st.st_ino,
            )
        cpus = mems = freezer = None
        if "cpuset" in h.controllers:
            cpus = _first(d, ("cpuset.cpus", "cpus"))
            mems = _first(d, ("cpuset.mems", "mems"))
        self_frozen = None
        if "freezer" in h.controllers:
            freezer = read_text(d + "/freezer.state")
            self_frozen = _flag(d + "/freezer.self_freezing")
        return CgroupState(h.name, path, 1, cpuset_cpus=cpus, cpuset_mems=mems,
                           freezer_state=freezer, writable=writable, self_frozen=self_frozen, cgroup_id=st.st_ino)

    _STATS_V2 = ("cgroup.type", "cgroup.subtree_control", "cgroup.events", "cgroup.freeze",
                 "pids.current", "pids.max", "memory.current", "cpu.stat", "io.stat",
                 "memory.swap.current", "cpu.pressure", "memory.pressure", "io.pressure")
    _STATS_V1 = ("freezer.state", "cpuset.cpus", "cpuset.mems", "pids.current", "pids.max",
                 "cpuacct.usage", "memory.usage_in_bytes", "blkio.throttle.io_service_bytes")
    """Only ever read (opened O_RDONLY by `read_single`): the memory hierarchy included."""
    _STATS_CORE = frozenset({"cgroup.type", "cgroup.subtree_control", "cgroup.events", "cgroup.freeze", "cpu.stat",
                             "cpu.pressure", "memory.pressure", "io.pressure"})
    """The v2 files every cgroup has whichever controllers are on (PSI where the kernel has it)."""

    def cgroup_stats(self, hierarchy: str, path: str, names: Collection[str] | None = None) -> dict[str, str]:
        """The stats files that exist and can be read, name -> stripped text (with `names`:
        only those of them); {} when the cgroup does not exist. The root's have the
        machine's /proc figures too (those `names` has)."""
        h, d = self._dir(hierarchy, path)
        out: dict[str, str] = {}
        if not is_ancestor(h.root, path):
            return out
        files = self._stats_files(h, names)
        with reachable(d) as at:
            if at is None:
                return out
            at += "/"
            for name in files:  # one record each (cgroup's seq_show): a short read is the end
                try:
                    out[name] = read_single(at + name).decode("utf-8", "replace").strip()
                except OSError:
                    pass
        if path == "/" and os.path.isdir(d):
            self._machine_stats(out, names)
        return out

    def _stats_files(self, h: Hierarchy, names: Collection[str] | None) -> tuple[str, ...]:
        """The stats files of `h` to open (those of `names`), kept for the next cgroup: only
        those of its controllers (`pids.max` of a freezer hierarchy cannot exist, and a failed
        open costs about what a read does); v2: the controllers of its root's
        `cgroup.controllers` as the mounts were last read (every snapshot), the core files
        (cgroup.*, cpu.stat, the pressure files) always."""
        key = (h, names if names is None or isinstance(names, frozenset) else frozenset(names))
        got = self._stats_for.get(key)
        if got is None:
            ctrls = h.controllers
            got = tuple(n for n in (self._STATS_V2 if h.version == 2 else self._STATS_V1)
                        if n in self._STATS_CORE or n.split(".", 1)[0] in ctrls)
            if key[1] is not None:
                got = tuple(n for n in got if n in key[1])
            if len(self._stats_for) > 64:
                self._stats_for.clear()
            self._stats_for[key] = got
        return got

    _MEMINFO = ("MemTotal:", "MemAvailable:", "SwapTotal:", "SwapFree:")

    def _machine_stats(self, out: dict[str, str], names: Collection[str] | None = None) -> None:
        """The root's figures as systemd-cgtop takes them, from the machine's /proc files
        (named as in `model.cgstats.PROC_FILES`, those of `names`; only the lines used are kept)."""
        meminfo = read_text(self.proc + "/meminfo") if names is None or "/proc/meminfo" in names else None
        if meminfo is not None:
            out["/proc/meminfo"] = "\n".join(
                line for line in meminfo.splitlines() if line.startswith(self._MEMINFO))
        loadavg = read_text(self.proc + "/loadavg") if names is None or "/proc/loadavg" in names else None
        if loadavg is not None:
            out["/proc/loadavg"] = loadavg
        stat = read_text(self.proc + "/stat") if names is None or "/proc/stat" in names else None
        if stat is not None:
            out["/proc/stat"] = stat.split("\n", 1)[0]
        for res in ("cpu", "memory", "io"):
            if res + ".pressure" not in out and (names is None or "/proc/pressure/" + res in names):
                text = read_text(f"{self.proc}/pressure/{res}")
                if text is not None:
                    out["/proc/pressure/" + res] = text

    # ---------------------------------------------------------------- tasks

    def task_state(self, pid: int) -> TaskInfo | None:
        """Cheap facts from /proc/PID/stat and status; None when there is no such task."""
        got = read_task(pid, self.proc)
        return None if got is None else got[0]

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        """Details (cmdline, user, cpu%, rss) for the PIDs that exist (procfs.ProcReader)."""
        return self._details.details(pids)

    def task_probe(self, pid: int, hierarchy: str) -> Probe | None:
        """What the engine's plan needs of one task, read consistently: `(facts, its cgroup
        in `hierarchy`, identity)`; None when there is no such task (`probes.probe_one`).

        A pidfd is opened first and checked after the reads. `identity` is `(pidfd device,
        inode, start time)` on pidfs kernels, else None: the engine's apply compares it with
        the pidfd it opens for the write instead of reading the start time again. The uids
        and TGID come from one PIDFD_GET_INFO ioctl where the kernel has it (6.13+), else
        from `/proc/PID/status`."""
        return probe_one(self, pid, hierarchy)

    def task_probes(self, pids: Iterable[int], hierarchy: str, keep: bool = False) -> dict[int, ProbeHeld | None]:
        """`task_probe` for many PIDs at once: pid -> `(facts, cgroup in hierarchy,
        identity, handle)`, or None for a task that does not exist (`probes.probe_many`).

        Each task is held by a pidfd while its files are read, and the pidfds are checked
        once for the whole batch afterwards (one poll(2)): a task that has not exited then
        was not reaped during its reads, so they were its own; one that has exited is
        looked at again alone. A big batch reads a cgroup's thread list once instead of
        each task's /proc/PID/cgroup (`probes.Sources`). With `keep`, `handle` is the open
        `PidfdHandle` of the task the facts belong to, for the caller to close (the engine
        writes under it: no second pidfd_open); else None."""
        return probe_many(self, pids, hierarchy, keep)

    def tasks_exited(self, handles: Sequence[TaskHandle]) -> list[bool]:
        """For each handle: has its task exited (a zombie, or reaped)? One poll(2) of all
        the pidfds (`PidfdHandle.exited` for each, in one system call); a handle that is
        not this backend's pidfd answers for itself (`exited()`)."""
        fds = [hd.fd for hd in handles if type(hd) is PidfdHandle and hd.fd is not None]
        exited = poll_exited(fds)
        return [(hd.fd is None or hd.fd in exited) if type(hd) is PidfdHandle else hd.exited() for hd in handles]

    def open_task(self, pid: int, thread: bool = False) -> PidfdHandle | ThreadGuard:
        """A pidfd on the task; `thread` asks for PIDFD_THREAD (`os.O_EXCL`, kernel 6.9+),
        needed for a non-leader TID (tried automatically when a plain pidfd_open of a TID
        is refused: EINVAL on older kernels, ENOENT on 6.x). A kernel without PIDFD_THREAD
        (probed once: `thread_pidfds`) holds a thread by a `ThreadGuard` instead. Raises
        OSError(ESRCH) when there is no such task."""
        if pid <= 0:
            raise OSError(errno.ESRCH, f"no task with PID {pid}")
        if thread and not self.thread_pidfds():
            return self._open_thread(pid)
        try:
            fd = os.pidfd_open(pid, os.O_EXCL if thread else 0)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOENT) or thread:
                raise
            if not self.thread_pidfds():
                return self._open_thread(pid)
            fd = os.pidfd_open(pid, os.O_EXCL)
            thread = True
        return PidfdHandle(pid, fd, self.proc, "pidfd-thread" if thread else "pidfd")

    cpuset_setscheduler_check: bool | None = None
    """Whether cpuset's attach check also asks security_task_setscheduler (kernels before 6.6:
    EPERM for a root task moved by a writer without CAP_SYS_NICE). None: unknown -- no safe
    probe exists (it would take moving a privileged task as an unprivileged writer), so the
    engine does not predict it here and the kernel's answer stands."""

    pidfd_thread: bool | None = None
    """Whether the kernel opens pidfds on threads (PIDFD_THREAD): probed once, on first need
    (`thread_pidfds`); tests set it to force either guard."""

    def thread_pidfds(self) -> bool:
        if self.pidfd_thread is None:
            self.pidfd_thread = probe_pidfd_thread()
        return self.pidfd_thread

    def _open_thread(self, tid: int) -> PidfdHandle | ThreadGuard:
        """Hold thread `tid` without PIDFD_THREAD: its group's pidfd and its start time
        (a leader gets its own plain pidfd). ESRCH when there is no such thread."""
        try:
            tgid = parse_status(read_bytes(f"{self.proc}/{tid}/status"))[0]
        except (OSError, ValueError):
            raise OSError(errno.ESRCH, f"no task with PID {tid}") from None
        if tgid == tid or tgid <= 0:
            return PidfdHandle(tid, os.pidfd_open(tid, 0), self.proc)
        return ThreadGuard(tid, tgid, os.pidfd_open(tgid, 0), self.proc)

    # ---------------------------------------------------------------- writes

    def _member_path(self, hierarchy: str, path: str, filename: str) -> str:
        if filename not in MEMBERSHIP_FILES:
            raise ValueError(f"{filename!r} is not a membership file ({', '.join(MEMBERSHIP_FILES)})")
        h, d = self._dir(hierarchy, path)
        if not is_ancestor(h.root, path):
            raise FileNotFoundError(errno.ENOENT, f"{h.name}:{path} lies outside the mounted part of the hierarchy")
        return d + "/" + filename

    def open_membership(self, hierarchy: str, path: str, filename: str, write: bool = True) -> FdMembership:
        """Open `tasks`/`cgroup.procs`/`cgroup.threads` of the cgroup (ENOENT, EACCES at open)."""
        return FdMembership(self._member_path(hierarchy, path, filename), write)

    def write_pid(self, hierarchy: str, path: str, filename: str, data: bytes) -> int:
        """Open, one unbuffered os.write of `data`, close; OSError carries the kernel's errno."""
        fd = os.open(self._member_path(hierarchy, path, filename), _O_WRONLY)
        try:
            return os.write(fd, data)
        finally:
            os.close(fd)

    def _admin_dir(self, hierarchy: str, path: str) -> str:
        h, d = self._dir(hierarchy, path)
        if not is_ancestor(h.root, path):
            raise FileNotFoundError(errno.ENOENT, f"{h.name}:{path} lies outside the mounted part of the hierarchy")
        return d

    def make_cgroup(self, hierarchy: str, path: str) -> None:
        """mkdir(2): the kernel's errnos (EEXIST, EINVAL for a newline, ENOENT, ENAMETOOLONG)."""
        os.mkdir(self._admin_dir(hierarchy, path))

    def remove_cgroup(self, hierarchy: str, path: str) -> None:
        """rmdir(2): EBUSY while the cgroup holds tasks or children (and for the root)."""
        if path == "/":
            raise OSError(errno.EBUSY, "the root cgroup cannot be removed")
        os.rmdir(self._admin_dir(hierarchy, path))

    def set_frozen(self, hierarchy: str, path: str, frozen: bool) -> None:
        """One write to v1 `freezer.state` (FROZEN/THAWED) or v2 `cgroup.freeze` (1/0);
        ENOENT where there is no such file (the root, a v1 hierarchy without freezer)."""
        h = self.hierarchy(hierarchy)
        d = self._admin_dir(hierarchy, path)
        if h.version == 2:
            name, data = "cgroup.freeze", b"1" if frozen else b"0"
        else:
            name, data = "freezer.state", b"FROZEN" if frozen else b"THAWED"
        if h.version == 1 and "freezer" not in h.controllers:
            raise FileNotFoundError(errno.ENOENT, f"{h.name} has no freezer controller: no {name}")
        fd = os.open(d + "/" + name, _O_WRONLY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def writer(self) -> Creds:
        """The process's own credentials (writes are made by this process)."""
        return Creds(os.getuid(), os.geteuid())

    def write_access(self) -> str | None:
        """`not root` unless this process's effective uid is 0: ctrtui moves tasks as root
        (a delegated subtree a user owns is still moved with `ctrtui move`, where the
        kernel judges each write)."""
        return None if self.writer().euid == 0 else "not root"


def _flag(path: str) -> bool | None:
    """A file holding 0 or 1 (`cgroup.freeze`, `freezer.self_freezing`): True for 1; None
    when it cannot be read (the root has no such file)."""
    text = read_text(path)
    return None if text is None else text == "1"


def _v2_frozen(d: str) -> str | None:
    """v2 freezer state of cgroup directory `d`: "1" when it is frozen -- its own
    `cgroup.freeze` is 1, or `cgroup.events` says `frozen 1` (an ancestor froze it) --, else
    its `cgroup.freeze` ("0"); None when there is no such file (the root)."""
    own = read_text(d + "/cgroup.freeze")
    if own is None or own == "1":
        return own
    events = read_text(d + "/cgroup.events") or ""
    return "1" if "\nfrozen 1" in "\n" + events else own


def _first(d: str, names: tuple[str, ...]) -> str | None:
    for name in names:
        text = read_text(d + "/" + name)
        if text is not None:
            return text
    return None


if TYPE_CHECKING:
    def _keeps_the_contract(fs: CgroupFS) -> tuple[Backend, TaskProber, ExitPoller, CgroupAdmin]:
        """mypy checks here that CgroupFS implements what it declares (see base.py)."""
        return fs, fs, fs, fs
