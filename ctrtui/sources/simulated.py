"""An in-memory kernel: cgroup hierarchies, tasks and the attach rules of docs/kernel.md.

`SimKernel` implements the whole `Backend` protocol (kind `demo`) and answers every write
exactly as kernel 6.18 does: same errno, same check order, same silent no-op for a zombie,
same thread-vs-process effect of `tasks` / `cgroup.procs` / `cgroup.threads`, same v1 uid
rule and v2 delegation rule. The conformance suite (tests/real/test_conformance.py) runs the same
scenarios here (tests/unit/test_conformance_sim.py) and on the real kernel.

Builder API (for tests, the demo world and the generator; every call is cheap):

    k = SimKernel()                                    # empty; writer is root (uid 0)
    k.add_hierarchy("freezer", 1, ["freezer"])         # v1; name = comma-joined controllers
    k.add_hierarchy("name=systemd", 1, ["name=systemd"])
    k.add_hierarchy("unified", 2, ["hugetlb", "pids"]) # v2; controllers at its root
    k.mkdir("freezer", "/a")                           # EEXIST / ENOENT like mkdir(2)
    pid = k.spawn("sleep", "sleep 100", uid=1000, threads=3, cgroups={"freezer": "/a"})
    tid = k.add_thread(pid)
    k.exit(pid)            # zombie (state Z) until k.reap(pid) or exit(pid, reap=True)
    k.set_exiting(pid)     # PF_EXITING: still listed, writes succeed but move nothing
    k.recycle(pid, comm="bash")  # old task reaped, a NEW task gets the same PID
    k.set_type("unified", "/p/a", "threaded")
    k.set_subtree_control("unified", "/p", "+pids")
    k.set_cpuset("cpuset", "/a", cpus="", mems="0")
    k.set_freezer("freezer", "/a", "FROZEN")
    k.chown("freezer", "/a", 1000)     # delegate: membership files owned by uid 1000
    k.set_writer(uid=1000, euid=1000, pid=some_pid)   # who writes ('0' means that task)
    k.tick(5.0)                        # advance the clock (start times are in ticks)

`SimKernel(mode_2007=True)` answers v1 writes as the 2007 containers patch (the seed) did,
for teaching: EIO on parse errors, junk after the number ignored, ESRCH for zombies.

Builder calls that the kernel could refuse raise `OSError` with the kernel's errno.
Tasks are kept per hierarchy in `tid -> cgroup` and `cgroup -> set of tids`. Like the kernel,
which keeps its member lists up to date rather than rebuilding them for each read, every
cgroup keeps its snapshot `Container` (sorted arrays) until its members change, and every
hierarchy keeps its last container mapping: a snapshot costs in proportion to the cgroups
whose members changed since the last one (1% of 100,000 tasks moved: ~10 ms), not to the
size of the world. `forget_snapshots()` drops these caches.
"""

from __future__ import annotations

import errno
import itertools
import os
import random
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from types import MappingProxyType

from ctrtui.model import (
    EMPTY,
    PF_EXITING,
    PF_KTHREAD,
    PF_NO_SETAFFINITY,
    CgroupState,
    Container,
    Creds,
    Hierarchy,
    HierarchySnapshot,
    Snapshot,
    TaskInfo,
    find_hierarchy,
    join_path,
)
from ctrtui.sources import CGROUP_ADMIN, WRITE

HZ = 100
"""Clock ticks per second (USER_HZ), the unit of start times."""
PATH_MAX = 4096
INT_MAX = 2**31 - 1
RESERVED_PIDS = 300
"""Where PID allocation restarts after wrapping at pid_max (kernel/pid.c)."""
THREADED_CONTROLLERS = frozenset({"cpu", "cpuset", "perf_event", "pids"})
"""v2 controllers that may be enabled inside a threaded subtree."""
V1_FILES = ("tasks", "cgroup.procs")
V2_FILES = ("cgroup.procs", "cgroup.threads")
_SPACE = b" \t\n\v\f\r\xa0"
"""What the kernel's isspace() accepts (lib/ctype.c marks 0xa0 as space too)."""


def _err(code: int, what: str = "") -> OSError:
    return OSError(code, os.strerror(code), what) if what else OSError(code, os.strerror(code))


def kstrtoint(data: bytes) -> int | None:
    """The kernel's `kstrtoint(strstrip(buf), 0, &pid)`: the int, or None where the kernel
    returns an error. Base 0: `0x1f` hex, `015` octal, else decimal; one `+` or `-` sign;
    surrounding whitespace stripped; the text ends at the first NUL byte."""
    s = data.split(b"\0", 1)[0].strip(_SPACE)
    neg = s[:1] == b"-"
    if neg:
        s = s[1:]
    elif s[:1] == b"+":
        s = s[1:]
    base = 10
    if s[:1] == b"0":
        if s[1:2] in (b"x", b"X") and s[2:3] and s[2:3] in b"0123456789abcdefABCDEF":
            base, s = 16, s[2:]
        else:
            base = 8
    digits = "0123456789abcdef"[:base]
    if not s or any(chr(c).lower() not in digits for c in s):
        return None
    value = int(s, base)
    if neg:
        value = -value
    if not -(2**31) <= value <= INT_MAX:
        return None
    return value


def sscanf_d(data: bytes) -> int | None:
    """The 2007 patch's `sscanf(buf, "%d", &pid)`: leading whitespace, a sign, decimal
    digits, anything after them ignored; None when there is no number (-> EIO). The
    value wraps to 32 bits as simple_strtol did."""
    s = data.split(b"\0", 1)[0].lstrip(_SPACE)
    sign = 1
    if s[:1] in (b"-", b"+"):
        sign, s = (-1 if s[:1] == b"-" else 1), s[1:]
    n = 0
    while n < len(s) and 48 <= s[n] <= 57:
        n += 1
    if n == 0:
        return None
    v = (sign * int(s[:n])) & 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


class SimTask:
    """One task (a thread; the leader's TID is its TGID)."""

    __slots__ = ("pid", "tgid", "comm", "cmdline", "state", "uid", "euid", "suid",
                 "start_time", "flags", "rss", "cpu", "cpu_time", "no_migration",
                 "dead", "reaped", "group", "ppid")

    def __init__(self, pid: int, tgid: int, comm: str, cmdline: str, state: str, uid: int,
                 euid: int, suid: int, start_time: int, flags: int, rss: int, cpu: float):
        self.pid, self.tgid, self.comm, self.cmdline = pid, tgid, comm, cmdline
        self.state, self.uid, self.euid, self.suid = state, uid, euid, suid
        self.start_time, self.flags, self.rss, self.cpu = start_time, flags, rss, cpu
        self.cpu_time = 0.0
        self.no_migration = False
        """kthreadd's `no_cgroup_migration`: every move of it is refused with EINVAL."""
        self.dead = False
        """Exited (a zombie until reaped): in no membership list, writes move nothing."""
        self.reaped = False
        self.group: list[int] = [pid]
        """On the leader: every live TID of the thread group, leader first."""
        self.ppid = 0
        """The parent process (every thread of a process has its leader's)."""

    @property
    def kthread(self) -> bool:
        return bool(self.flags & PF_KTHREAD)


_INODES = itertools.count(2)
"""Inode numbers of simulated cgroup directories, as kernfs hands them out: one counter,
never reused."""


class SimCgroup:
    """One cgroup directory of one hierarchy."""

    __slots__ = ("hier", "path", "parent", "children", "tids", "removed", "owner", "mode",
                 "dom", "nr_threaded_children", "subtree_control", "cpus", "mems", "partition",
                 "freezer", "pids_max", "snap", "agg", "sub", "ino")

    def __init__(self, hier: SimHierarchy, path: str, parent: SimCgroup | None):
        self.hier, self.path, self.parent = hier, path, parent
        self.ino = next(_INODES)
        """Its directory's inode number (kernfs: never reused, so a cgroup made again under
        the same name has another one)."""
        self.children: dict[str, SimCgroup] = {}
        self.tids: set[int] = set()
        """Live TIDs in this cgroup (what `tasks` / `cgroup.threads` list)."""
        self.removed = False
        self.owner = 0
        """Owner uid of the membership files (and the directory)."""
        self.mode = 0o644
        self.dom: SimCgroup = self
        """v2 `dom_cgrp`: self for a domain cgroup, the thread domain for a threaded one."""
        self.nr_threaded_children = 0
        self.subtree_control: set[str] = set()
        self.cpus = ""
        self.mems = ""
        self.partition = "member"
        """v2 `cpuset.cpus.partition`: `member` or `root` (a partition root: its CPUs are its own)."""
        self.freezer = "THAWED"
        self.pids_max = "max"
        self.snap: Container | None = None
        """This cgroup's snapshot Container while its members and children are unchanged."""
        self.agg: tuple[float, int, float, float, int] | None = None
        """Sums over its own tasks for the stats files, while its members are unchanged:
        (uptime when summed, tasks, CPU seconds, CPU share %, resident bytes)."""
        self.sub: tuple[float, int, float, float, int] | None = None
        """The same sums over it and every cgroup below it (None: to be summed again; when
        set, every descendant's is set too)."""

    @property
    def name(self) -> str:
        return "/" if self.path == "/" else self.path.rsplit("/", 1)[1]

    # --- v2 types, as kernel/cgroup/cgroup.c judges them
    def threaded(self) -> bool:
        return self.dom is not self

    def mixable(self) -> bool:
        return self.parent is None

    def thread_root(self) -> bool:
        if self.threaded():
            return False
        if self.nr_threaded_children:
            return True
        # cgroup_is_thread_root(): a domain that holds tasks and enables a threaded
        # controller for its children -- the root, or any cgroup a task was just moved into
        # (its domain children become `domain invalid` then)
        return bool(self.tids) and bool(self.subtree_control & THREADED_CONTROLLERS)

    def valid_domain(self) -> bool:
        if self.threaded():
            return False
        p = self.parent
        while p is not None:
            if not p.mixable() and p.thread_root():
                return False
            if p.threaded():
                return False
            p = p.parent
        return True

    def populated(self) -> bool:
        stack = [self]
        while stack:
            c = stack.pop()
            if c.tids:
                return True
            stack.extend(c.children.values())
        return False

    def can_be_thread_root(self) -> bool:
        if self.mixable():
            return True
        if self.threaded():
            return False
        if any(not c.threaded() and c.populated() for c in self.children.values()):
            return False
        return not (self.subtree_control - THREADED_CONTROLLERS)

    def cgroup_type(self) -> str:
        if self.threaded():
            return "threaded"
        if not self.valid_domain():
            return "domain invalid"
        if self.thread_root():
            return "domain threaded"
        return "domain"

    def frozen(self) -> bool:
        c: SimCgroup | None = self
        while c is not None:
            if c.freezer == "FROZEN":
                return True
            c = c.parent
        return False

    def walk(self) -> Iterable[SimCgroup]:
        """This cgroup and all below it, pre-order, children by name."""
        stack = [self]
        while stack:
            c = stack.pop()
            yield c
            stack.extend(c.children[n] for n in sorted(c.children, reverse=True))


class SimHierarchy:
    """One hierarchy: its `Hierarchy` description, its cgroups and where every task is."""

    __slots__ = ("info", "root", "by_path", "where", "view", "dirty")

    def __init__(self, info: Hierarchy):
        self.info = info
        self.root = SimCgroup(self, "/", None)
        self.by_path: dict[str, SimCgroup] = {"/": self.root}
        self.where: dict[int, SimCgroup] = {}
        """TID -> its cgroup (zombies included, until reaped)."""
        self.view: MappingProxyType[str, Container] | None = None
        """The last snapshot's path -> Container mapping (None: the tree changed since)."""
        self.dirty: set[SimCgroup] = set()
        """Cgroups whose Container changed since `view` was made."""

    @property
    def v2(self) -> bool:
        return self.info.version == 2

    def has(self, controller: str) -> bool:
        return self.info.version == 1 and controller in self.info.controllers


class SimTaskHandle:
    """The simulated pidfd: it holds the very task object, so it never follows a recycled
    PID (after a reap it reports the task gone)."""

    def __init__(self, task: SimTask):
        self.pid = task.pid
        self._task: SimTask | None = task

    def start_time(self) -> int | None:
        t = self._task
        return None if t is None or t.reaped else t.start_time

    def alive(self) -> bool:
        t = self._task
        return t is not None and not t.dead and not t.reaped

    def exited(self) -> bool:
        """Exited (a zombie) or reaped, as a pidfd's POLLIN says."""
        return not self.alive()

    def reaped(self) -> bool:
        t = self._task
        return t is None or t.reaped

    def identity(self) -> tuple[int, int] | None:
        """None: the simulator has no pidfs, so the start time decides (as on kernels before 6.9)."""
        return None

    def close(self) -> None:
        self._task = None

    def __enter__(self) -> SimTaskHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SimMembershipFile:
    """An open membership file: bound to the cgroup object (so a removed cgroup gives ENODEV)
    and to the credentials of whoever opened it (the kernel judges permission with those)."""

    def __init__(self, kernel: SimKernel, cg: SimCgroup, name: str, creds: Creds, write: bool):
        self._k, self.cgroup, self.name, self.creds = kernel, cg, name, creds
        self._write = write
        self.closed = False

    def write(self, data: bytes) -> int:
        if self.closed or not self._write:
            raise _err(errno.EBADF)
        return self._k._attach_write(self, bytes(data))

    def read(self) -> bytes:
        if self.closed:
            raise _err(errno.EBADF)
        return self._k._read_file(self.cgroup, self.name)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> SimMembershipFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SimKernel:
    """The simulated kernel and backend (see the module docstring for the builder API)."""

    kind = "demo"
    capabilities = frozenset({WRITE, CGROUP_ADMIN})
    """It writes (tasks; cgroups: mkdir, rmdir, freeze); it has no batch probes nor one-call
    exit polls (the engine reads each task with `task_state` + `task_cgroup` and asks each
    handle `alive()`)."""

    def __init__(self, pid_max: int = 32768, boot_time: float = 1_700_000_000.0,
                 mode_2007: bool = False, identity: str = "demo"):
        self.pid_max = pid_max
        self.identity = identity
        """The spec that names this world (`demo`, `demo:hostile`): see base.Reader.identity."""
        self.mode_2007 = mode_2007
        """Answer v1 writes as the 2007 containers patch did (see `_attach_write_2007`);
        for teaching only: today's kernel is what docs/kernel.md and the real backend show."""
        self._hiers: dict[str, SimHierarchy] = {}
        self.tasks: dict[int, SimTask] = {}
        """Every unreaped task by TID (zombies included)."""
        self._last_pid = 0
        self._uptime = 0.0
        self.boot_time = boot_time
        self._creds = Creds(0, 0)
        self.writer_pid: int | None = None
        """The task `0` means in a write (the writing process itself)."""
        self.users: dict[int, str] = {0: "root"}
        self.next_hierarchy_id = 1
        self.clock: Callable[[], float] = time.monotonic
        """Seconds on a monotonic clock: CPU time accrues on it between ticks (tests set
        their own; see `cgroup_stats`)."""
        self._clock0 = self.clock()
        self.psi = True
        """Built with pressure stall information: every v2 cgroup has `cpu.pressure`,
        `memory.pressure`, `io.pressure`, and /proc/pressure/* exist (the v1 roots show them)."""
        self.mem_total = 16 << 30
        self.swap_total = 2 << 30
        """The machine's memory and swap (the root's /proc/meminfo)."""
        self._cache_lock = threading.Lock()
        """Guards the snapshot caches (a snapshot may run in a thread while tasks move)."""
        self.ncpus = 2
        self.cpuset_setscheduler_check = False
        """Kernels before 6.6: cpuset's attach check also asks security_task_setscheduler, so a
        non-root writer cannot move a root task (one with capabilities it lacks) into or
        between cpusets: EPERM. Off: today's kernel. No safe probe tells a running kernel's
        rule; the engine's cpuset hook predicts it where a backend sets this."""
        """CPUs of the machine (v2 cpuset: the root's `cpuset.cpus.effective` is 0-(ncpus-1))."""

    # ================================================================ builder
    def add_user(self, uid: int, name: str) -> None:
        self.users[uid] = name

    def add_hierarchy(self, name: str, version: int, controllers: Sequence[str] = (),
                      mount: str | None = None) -> Hierarchy:
        """Mount a hierarchy. v1 `name` is how /proc/PID/cgroup names it (`cpu,cpuacct`,
        `name=systemd`); v2 `controllers` are those in the root's cgroup.controllers."""
        if version not in (1, 2):
            raise ValueError("version is 1 or 2")
        if name in self._hiers:
            raise _err(errno.EBUSY, name)
        ctrl = tuple(controllers) or ((name,) if version == 1 else ())
        if mount is None:
            mount = "/sys/fs/cgroup/" + (name.split("=", 1)[1] if name.startswith("name=") else name)
        hid = 0
        if version == 1:
            hid = self.next_hierarchy_id
            self.next_hierarchy_id += 1
        info = Hierarchy(name, version, ctrl, mount, "/", hid)
        h = SimHierarchy(info)
        if h.has("cpuset"):
            h.root.cpus, h.root.mems = "0-1", "0"
        self._hiers[name] = h
        for t in self.tasks.values():  # a new hierarchy starts with every task in its root
            h.where[t.pid] = h.root
            if not t.dead:
                h.root.tids.add(t.pid)
        return info

    # ---------------------------------------------------------------- snapshot caches
    def _touch(self, cg: SimCgroup) -> None:
        """The members of `cg` changed (call after the change): its Container, and in v2
        that of its thread domain (whose cgroup.procs lists its threaded subtree), is
        rebuilt by the next snapshot."""
        with self._cache_lock:
            cg.snap = None
            cg.agg = None
            self._unsum(cg)
            cg.hier.dirty.add(cg)
            dom = cg.dom
            if dom is not cg:
                dom.snap = None
                cg.hier.dirty.add(dom)

    def _retree(self, h: SimHierarchy, cg: SimCgroup | None = None) -> None:
        """The tree of `h` changed (a cgroup made or removed under `cg`, or v2 types):
        the next snapshot walks it again (unchanged cgroups keep their Containers)."""
        with self._cache_lock:
            h.view = None
            if cg is not None:
                cg.snap = None
                self._unsum(cg)
            else:
                for c in h.root.walk():
                    c.sub = None

    @staticmethod
    def _unsum(cg: SimCgroup | None) -> None:
        """`cg`'s subtree sums and its ancestors' are stale."""
        while cg is not None and cg.sub is not None:
            cg.sub = None
            cg = cg.parent

    def forget_snapshots(self) -> None:
        """Drop every cached Container: the next snapshot builds all member arrays anew
        (for measuring what a snapshot holds)."""
        with self._cache_lock:
            for h in self._hiers.values():
                h.view = None
                h.dirty.clear()
                for c in h.by_path.values():
                    c.snap = None

    def _hier(self, word: str) -> SimHierarchy:
        h = self._hiers.get(word) or find_hierarchy(self._hiers.values(), word, key=lambda h: h.info)
        if h is not None:
            return h
        raise KeyError(f"no hierarchy {word!r}")

    def _cg(self, hier: str, path: str) -> SimCgroup:
        cg = self._hier(hier).by_path.get(_norm(path))
        if cg is None:
            raise _err(errno.ENOENT, f"{hier}:{path}")
        return cg

    def mkdir(self, hier: str, path: str, exist_ok: bool = False) -> str:
        """Create one cgroup (its parent must exist). Returns the normalized path."""
        h = self._hier(hier)
        path = _norm(path)
        if path in h.by_path:
            if exist_ok:
                return path
            raise _err(errno.EEXIST, f"{hier}:{path}")
        ppath, name = path.rsplit("/", 1)
        parent = h.by_path.get(ppath or "/")
        if parent is None:
            raise _err(errno.ENOENT, f"{hier}:{ppath}")
        cg = SimCgroup(h, path, parent)
        parent.children[name] = cg
        h.by_path[path] = cg
        self._retree(h, parent)
        if h.has("cpuset"):
            cg.cpus, cg.mems = "", ""   # a new v1 cpuset starts empty (clone_children off)
        return path

    def makedirs(self, hier: str, path: str) -> str:
        """mkdir -p."""
        cur = "/"
        for part in [p for p in path.split("/") if p]:
            cur = self.mkdir(hier, join_path(cur, part), exist_ok=True)
        return cur

    def rmdir(self, hier: str, path: str) -> None:
        """Remove an empty cgroup: EBUSY while it has live tasks or children."""
        cg = self._cg(hier, path)
        if cg.parent is None or cg.tids or cg.children:
            raise _err(errno.EBUSY, f"{hier}:{path}")
        cg.removed = True
        del cg.parent.children[cg.name]
        del cg.hier.by_path[cg.path]
        if cg.threaded():
            cg.parent.nr_threaded_children -= 1
        self._retree(cg.hier, cg.parent)

    def chown(self, hier: str, path: str, uid: int, mode: int | None = None) -> None:
        """Delegate a cgroup: its directory and membership files now belong to `uid`."""
        cg = self._cg(hier, path)
        cg.owner = uid
        if mode is not None:
            cg.mode = mode

    def set_writer(self, uid: int = 0, euid: int | None = None, pid: int | None = None) -> None:
        """Credentials of later opens, and the task a written `0` means."""
        self._creds = Creds(uid, uid if euid is None else euid)
        if pid is not None:
            self.writer_pid = pid

    def set_last_pid(self, pid: int) -> None:
        """Like writing /proc/sys/kernel/ns_last_pid: the next PID is the next free after it."""
        self._last_pid = pid

    def _alloc_pid(self) -> int:
        pid = self._last_pid
        for _ in range(self.pid_max + 1):
            pid += 1
            if pid >= self.pid_max:
                pid = RESERVED_PIDS
            if pid not in self.tasks:
                self._last_pid = pid
                return pid
        raise _err(errno.EAGAIN, "no free PID")

    def spawn(self, comm: str, cmdline: str | None = None, uid: int = 0, threads: int = 1,
              cgroups: dict[str, str] | None = None, state: str = "S", kthread: bool = False,
              no_setaffinity: bool = False, rss: int | None = None, parent: int | None = None,
              cpu: float = 0.0, euid: int | None = None, suid: int | None = None,
              pid: int | None = None) -> int:
        """Start a process (or kernel thread) of `threads` threads; returns its TGID.

        It sits where `parent` is (fork), else in each root, except for the hierarchies
        named in `cgroups` (hierarchy word -> path). A kernel thread named `kthreadd` is
        marked as the kernel marks it (`no_cgroup_migration`)."""
        place: dict[SimHierarchy, SimCgroup] = {}
        if parent is not None:
            ptask = self.tasks[parent]
            for h in self._hiers.values():
                place[h] = h.where.get(ptask.pid, h.root)
        for word, path in (cgroups or {}).items():
            h = self._hier(word)
            cg = h.by_path.get(_norm(path))
            if cg is None:
                raise _err(errno.ENOENT, f"{word}:{path}")
            place[h] = cg
        if pid is None:
            pid = self._alloc_pid()
        elif pid in self.tasks or not 0 < pid < self.pid_max:
            raise _err(errno.EEXIST, f"pid {pid}")
        flags = (PF_KTHREAD if kthread else 0) | (PF_NO_SETAFFINITY if no_setaffinity else 0)
        if cmdline is None:
            cmdline = "" if kthread else comm
        if rss is None:
            rss = 0 if kthread else 4 << 20
        leader = SimTask(pid, pid, comm[:15], cmdline, state, uid,
                         uid if euid is None else euid, uid if suid is None else suid,
                         self.ticks(), flags, rss, cpu)
        leader.no_migration = kthread and comm == "kthreadd"
        # the kernel's parents: init and kthreadd have none, kernel threads kthreadd, the rest init
        leader.ppid = parent if parent is not None else (0 if pid in (1, 2) else 2 if kthread else 1)
        self._insert(leader, place)
        for _ in range(threads - 1):
            self.add_thread(pid)
        return pid

    def _insert(self, task: SimTask, place: dict[SimHierarchy, SimCgroup]) -> None:
        self.tasks[task.pid] = task
        for h in self._hiers.values():
            cg = place.get(h, h.root)
            h.where[task.pid] = cg
            cg.tids.add(task.pid)
            self._touch(cg)

    def add_thread(self, tgid: int, comm: str | None = None, pid: int | None = None) -> int:
        """A new thread in the group (in the cgroups of the thread that made it: the leader)."""
        leader = self.tasks[tgid]
        if leader.tgid != tgid or leader.dead:
            raise _err(errno.ESRCH, f"thread group {tgid}")
        tid = self._alloc_pid() if pid is None else pid
        t = SimTask(tid, tgid, (comm or leader.comm)[:15], leader.cmdline, leader.state,
                    leader.uid, leader.euid, leader.suid, self.ticks(),
                    leader.flags & ~PF_EXITING, 0, 0.0)
        t.ppid = leader.ppid
        self._insert(t, {h: h.where[tgid] for h in self._hiers.values()})
        leader.group.append(tid)
        return tid

    def _kill_one(self, t: SimTask) -> None:
        if t.dead:
            return
        t.dead = True
        t.state = "Z"
        for h in self._hiers.values():
            cg = h.where.get(t.pid)
            if cg is not None:
                cg.tids.discard(t.pid)
                self._touch(cg)

    def _reap_one(self, t: SimTask) -> None:
        self._kill_one(t)
        t.reaped = True
        t.state = "X"
        self.tasks.pop(t.pid, None)
        for h in self._hiers.values():
            h.where.pop(t.pid, None)
        if t.pid != t.tgid:
            leader = self.tasks.get(t.tgid)
            if leader is not None and t.pid in leader.group:
                leader.group.remove(t.pid)

    def exit(self, pid: int, reap: bool = False) -> None:
        """The task exits. A TGID: the whole group exits and the leader stays a zombie until
        reaped. A non-leader TID: that thread exits and is gone at once (self-reaped)."""
        t = self.tasks.get(pid)
        if t is None:
            raise _err(errno.ESRCH, f"pid {pid}")
        if pid != t.tgid:
            self._reap_one(t)
            return
        for tid in list(t.group[1:]):
            self._reap_one(self.tasks[tid])
        self._kill_one(t)
        if reap:
            self._reap_one(t)

    def reap(self, pid: int) -> None:
        """The parent waits for the zombie: its PID becomes free."""
        t = self.tasks.get(pid)
        if t is None:
            raise _err(errno.ECHILD, f"pid {pid}")
        if not t.dead:
            raise _err(errno.EBUSY, f"pid {pid} has not exited")
        self._reap_one(t)

    def set_exiting(self, pid: int) -> None:
        """PF_EXITING (do_exit under way): still listed, but no write moves it. On a TGID
        the whole group is exiting."""
        t = self.tasks[pid]
        for tid in (t.group if pid == t.tgid else [pid]):
            self.tasks[tid].flags |= PF_EXITING

    def recycle(self, pid: int, comm: str = "recycled", same_start_time: bool = False,
                **spawn_args: object) -> int:
        """PID reuse: the task with `pid` (if any) exits and is reaped, and a NEW process
        gets the same PID, with a later start time (or, with `same_start_time`, the same
        tick, which the kernel's tick resolution allows)."""
        old = self.tasks.get(pid)
        start = old.start_time if old else None
        if old is not None:
            self.exit(pid, reap=True)    # a thread's TID: only that thread goes
        if not same_start_time:
            self._uptime += 1.0 / HZ
        new = self.spawn(comm, pid=pid, **spawn_args)  # type: ignore[arg-type]
        if same_start_time and start is not None:
            self.tasks[new].start_time = start
        return new

    def place(self, pid: int, hier: str, path: str) -> None:
        """Put one thread into a cgroup with no checks at all (for building worlds)."""
        self._move(self._hier(hier), self.tasks[pid], self._cg(hier, path))

    def set_type(self, hier: str, path: str, value: str = "threaded") -> None:
        """Write v2 `cgroup.type` (only `threaded` is accepted), with the kernel's rules:
        the parent becomes `domain threaded`, its other domain children `domain invalid`."""
        cg = self._cg(hier, path)
        if not cg.hier.v2 or cg.parent is None:
            raise _err(errno.ENOENT, f"{hier}:{path}/cgroup.type")
        if value.strip() != "threaded":
            raise _err(errno.EINVAL, f"{hier}:{path}/cgroup.type")
        if cg.threaded():
            return
        dom = cg.parent.dom
        if cg.populated() or (cg.subtree_control - THREADED_CONTROLLERS):
            raise _err(errno.EOPNOTSUPP, f"{hier}:{path}")
        if not dom.valid_domain() or not dom.can_be_thread_root():
            raise _err(errno.EOPNOTSUPP, f"{hier}:{path}")
        for d in cg.walk():
            d.dom = dom
        cg.parent.nr_threaded_children += 1
        with self._cache_lock:   # cgroup.procs of the thread domain now spans the subtree
            dom.snap = None
            for d in cg.walk():
                d.snap = None
            cg.hier.view = None

    def set_subtree_control(self, hier: str, path: str, change: str) -> None:
        """Write v2 `cgroup.subtree_control`, e.g. `+pids -hugetlb`."""
        cg = self._cg(hier, path)
        if not cg.hier.v2:
            raise _err(errno.ENOENT, f"{hier}:{path}/cgroup.subtree_control")
        enable: set[str] = set()
        disable: set[str] = set()
        for word in change.split():
            if word[:1] not in "+-" or len(word) < 2:
                raise _err(errno.EINVAL, word)
            (enable if word[0] == "+" else disable).add(word[1:])
        available = set(cg.hier.info.controllers) if cg.parent is None else cg.parent.subtree_control
        if not enable <= available:
            raise _err(errno.ENOENT, f"{hier}:{path}: {' '.join(sorted(enable - available))}")
        enable -= cg.subtree_control
        if disable & {c for ch in cg.children.values() for c in ch.subtree_control}:
            raise _err(errno.EBUSY, f"{hier}:{path}: a child still enables it")
        if enable:  # cgroup_vet_subtree_control_enable()
            if not cg.dom.valid_domain():
                raise _err(errno.EOPNOTSUPP, f"{hier}:{path}")
            if not cg.mixable():
                if enable - THREADED_CONTROLLERS:
                    if cg.thread_root() or cg.threaded():
                        raise _err(errno.EOPNOTSUPP, f"{hier}:{path}")
                    busy = bool(cg.tids)
                else:  # threaded controllers only: fine inside a (prospective) thread subtree
                    busy = not (cg.can_be_thread_root() or cg.threaded()) and bool(cg.tids)
                if busy:
                    raise _err(errno.EBUSY, f"{hier}:{path}: no internal processes")
        cg.subtree_control = (cg.subtree_control | enable) - disable

    def set_cpuset(self, hier: str, path: str, cpus: str | None = None, mems: str | None = None) -> None:
        """v1 `cpuset.cpus`/`cpuset.mems`; v2 `cpuset.cpus` of a cgroup whose parent enables
        cpuset (the kernel's own checks of what is written are not modelled)."""
        cg = self._cg(hier, path)
        if not (cg.hier.has("cpuset") or cg.hier.v2 and _cpuset_on(cg)):
            raise _err(errno.ENOENT, f"{hier}:{path}/cpuset.cpus")
        if cpus is not None:
            cg.cpus = cpus
        if mems is not None:
            cg.mems = mems

    def set_partition(self, hier: str, path: str, value: str) -> None:
        """v2 `cpuset.cpus.partition` (`root` or `member`). A partition root's CPUs (its
        `cpuset.cpus`, which its parent -- the root cgroup or a partition root -- must have
        left) are its own: its parent's effective CPUs lose them. Unlike the kernel, which
        then marks the partition `root invalid`, this refuses (EINVAL) a partition that
        would leave a parent holding tasks without CPUs, or that its parent cannot give."""
        cg = self._cg(hier, path)
        if not cg.hier.v2 or not _cpuset_on(cg):
            raise _err(errno.ENOENT, f"{hier}:{path}/cpuset.cpus.partition")
        if value not in ("root", "member"):
            raise _err(errno.EINVAL, value)
        if value == "root":
            parent = cg.parent
            assert parent is not None
            want = _cpu_set(cg.cpus)
            left = _effective_cpus(self, parent)
            if (parent.parent is not None and parent.partition != "root") or not want or not want <= left:
                raise _err(errno.EINVAL, f"{hier}:{path}: the parent cannot give CPUs {cg.cpus or '(none)'}")
            if want == left and parent.tids:
                raise _err(errno.EINVAL, f"{hier}:{path}: the parent holds tasks and would have no CPU left")
        cg.partition = value

    def set_freezer(self, hier: str, path: str, state: str) -> None:
        cg = self._cg(hier, path)
        if not cg.hier.has("freezer") or cg.parent is None:
            raise _err(errno.ENOENT, f"{hier}:{path}/freezer.state")
        if state not in ("FROZEN", "THAWED"):
            raise _err(errno.EINVAL, state)
        cg.freezer = state

    def set_freeze(self, hier: str, path: str, frozen: bool) -> None:
        """v2 `cgroup.freeze` (1 or 0): the cgroup and everything below it freeze (the
        root has no such file: ENOENT, like the kernel)."""
        cg = self._cg(hier, path)
        if not cg.hier.v2 or cg.parent is None:
            raise _err(errno.ENOENT, f"{hier}:{path}/cgroup.freeze")
        cg.freezer = "FROZEN" if frozen else "THAWED"

    def set_pids_max(self, hier: str, path: str, value: int | str) -> None:
        self._cg(hier, path).pids_max = str(value)

    def set_clock(self, clock: Callable[[], float]) -> None:
        """Accrue CPU time between ticks on `clock` from now on (tests: a clock they move)."""
        self.clock = clock
        self._clock0 = clock()

    def tick(self, seconds: float) -> None:
        """Advance the clock; running tasks use their share of CPU."""
        self._uptime += seconds
        for t in self.tasks.values():
            if t.cpu and not t.dead:
                t.cpu_time += t.cpu / 100.0 * seconds

    def ticks(self) -> int:
        return int(self._uptime * HZ)

    def churn(self, fraction: float, seed: int = 0, hierarchy: str | None = None) -> int:
        """Move a `fraction` of the live tasks of one hierarchy (default: the first) into
        random other cgroups of it, unchecked: for refresh/diff benchmarks. Returns how many."""
        h = self._hier(hierarchy) if hierarchy else next(iter(self._hiers.values()))
        rng = random.Random(seed)
        cgs = list(h.by_path.values())
        live = [t for t in self.tasks.values() if not t.dead]
        picked = rng.sample(live, int(len(live) * fraction))
        for t in picked:
            self._move(h, t, rng.choice(cgs))
        return len(picked)

    # ================================================================ the write path
    def _move(self, h: SimHierarchy, t: SimTask, cg: SimCgroup) -> None:
        old = h.where.get(t.pid)
        if old is cg:
            return
        if not t.dead:
            if old is not None:
                old.tids.discard(t.pid)
                self._touch(old)
            cg.tids.add(t.pid)
            self._touch(cg)
        h.where[t.pid] = cg

    def _may_open(self, cg: SimCgroup, creds: Creds) -> bool:
        if creds.euid == 0:
            return True
        if cg.owner == creds.euid:
            return bool(cg.mode & 0o200)
        return bool(cg.mode & 0o002)

    def _attach_write(self, f: SimMembershipFile, data: bytes) -> int:
        """One write to a membership file, checked in the kernel's order (docs/kernel.md, section 8)."""
        cg, h, creds = f.cgroup, f.cgroup.hier, f.creds
        where = f"{h.info.name}:{cg.path}/{f.name}"
        if self.mode_2007 and not h.v2:
            return self._attach_write_2007(f, data, where)
        if len(data) > PATH_MAX:
            raise _err(errno.E2BIG, where)
        if cg.removed:
            raise _err(errno.ENODEV, where)   # even for a 0-byte write (seen on 6.18)
        if not data:
            return 0
        pid = kstrtoint(data)
        if pid is None or pid < 0:
            raise _err(errno.EINVAL, where)
        if pid == 0:
            task = self.tasks.get(self.writer_pid) if self.writer_pid is not None else None
        else:
            task = self.tasks.get(pid)
        if task is None:
            raise _err(errno.ESRCH, where)
        threadgroup = f.name == "cgroup.procs"
        if threadgroup:
            task = self.tasks.get(task.tgid, task)
        if task.no_migration or task.flags & PF_NO_SETAFFINITY:
            raise _err(errno.EINVAL, where)
        if h.v2 and task.kthread:
            raise _err(errno.EINVAL, where)
        if not h.v2:
            if creds.euid != 0 and creds.euid not in (task.uid, task.suid):
                raise _err(errno.EACCES, where)
        else:
            src = h.where[task.pid]
            com = src
            while not _descends(cg, com):
                com = com.parent  # type: ignore[assignment]
            if not self._may_open(com, creds):
                raise _err(errno.EACCES, where)
            if not cg.dom.valid_domain():
                raise _err(errno.EOPNOTSUPP, where)
            if not (cg.can_be_thread_root() or cg.threaded()) and cg.subtree_control:
                raise _err(errno.EBUSY, where)
            if not threadgroup and src.dom is not cg.dom:
                raise _err(errno.EOPNOTSUPP, where)
        group = [self.tasks[t] for t in task.group] if threadgroup else [task]
        self._attach(h, cg, [t for t in group if not t.dead and not t.flags & PF_EXITING
                             and h.where.get(t.pid) is not cg], where, creds)
        return len(data)

    def _attach_write_2007(self, f: SimMembershipFile, data: bytes, where: str) -> int:
        """The seed's `container_common_file_write` + `attach_task_by_pid`: E2BIG at
        >= PATH_MAX, ENODEV, `sscanf("%d")` (junk after the number ignored, no number: EIO),
        not found or exiting (zombies too): ESRCH, the euid rule, then the subsystems'
        `can_attach`. No kernel-thread check; `0` is the writer. One thread per write
        (`cgroup.procs` did not exist; here it moves the group)."""
        cg, h, creds = f.cgroup, f.cgroup.hier, f.creds
        if len(data) >= PATH_MAX:
            raise _err(errno.E2BIG, where)
        if cg.removed:
            raise _err(errno.ENODEV, where)
        pid = sscanf_d(data)
        if pid is None:
            raise _err(errno.EIO, where)
        if pid:
            task = self.tasks.get(pid)
            if task is None or task.dead or task.flags & PF_EXITING:
                raise _err(errno.ESRCH, where)
            if creds.euid != 0 and creds.euid not in (task.uid, task.suid):
                raise _err(errno.EACCES, where)
        else:
            task = self.tasks.get(self.writer_pid) if self.writer_pid is not None else None
            if task is None:
                raise _err(errno.ESRCH, where)
        group = [self.tasks[t] for t in self.tasks[task.tgid].group] if f.name == "cgroup.procs" else [task]
        self._attach(h, cg, [t for t in group if h.where.get(t.pid) is not cg], where)
        return len(data)

    def _attach(self, h: SimHierarchy, cg: SimCgroup, movers: list[SimTask], where: str,
                creds: Creds | None = None) -> None:
        """The cpuset check and the move, when anything moves at all: a v1 cpuset without
        cpus or mems refuses with ENOSPC."""
        if not movers:
            return
        if h.has("cpuset") and (not cg.cpus.strip() or not cg.mems.strip()):
            raise _err(errno.ENOSPC, where)
        if h.v2 and _cpuset_on(cg) and not _effective_cpus(self, cg):  # a partition that gave all its CPUs away
            raise _err(errno.ENOSPC, where)
        if (self.cpuset_setscheduler_check and creds is not None and creds.euid != 0
                and (h.has("cpuset") or h.v2 and _cpuset_on(cg)) and any(t.euid == 0 for t in movers)):
            raise _err(errno.EPERM, where)  # before 6.6: security_task_setscheduler, no CAP_SYS_NICE
        for t in movers:
            self._move(h, t, cg)

    def _read_file(self, cg: SimCgroup, name: str) -> bytes:
        if cg.removed:
            raise _err(errno.ENODEV, f"{cg.hier.info.name}:{cg.path}/{name}")
        if name in ("tasks", "cgroup.threads"):
            ids: Iterable[int] = sorted(cg.tids)
        elif cg.hier.v2:
            if cg.threaded():
                raise _err(errno.EOPNOTSUPP, f"{cg.hier.info.name}:{cg.path}/{name}")
            ids = self._v2_procs(cg)   # unsorted, like the kernel's live iteration
        else:
            ids = sorted({self.tasks[t].tgid for t in cg.tids})
        return b"".join(b"%d\n" % i for i in ids)

    def _v2_procs(self, cg: SimCgroup) -> list[int]:
        """TGIDs whose leader is in `cg` or, for a thread root, anywhere in its threaded
        subtree (the kernel iterates the domain's threaded css_sets)."""
        out = [t for t in cg.tids if self.tasks[t].tgid == t]
        if cg.nr_threaded_children:
            for d in cg.walk():
                if d is not cg and d.dom is cg:
                    out.extend(t for t in d.tids if self.tasks[t].tgid == t)
        return out

    # ================================================================ Backend protocol
    def hierarchies(self) -> tuple[Hierarchy, ...]:
        return tuple(h.info for h in self._hiers.values())

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None) -> Snapshot:
        hs = list(self._hiers.values()) if names is None else [self._hier(n) for n in names]
        start = _norm(subtree) if subtree else "/"
        out = []
        with self._cache_lock:
            for h in hs:
                if start == "/":
                    containers = self._view(h)
                else:
                    top = h.by_path.get(start)
                    containers = MappingProxyType(
                        {c.path: c.snap or self._container(c) for c in (top.walk() if top is not None else ())})
                out.append(HierarchySnapshot(h.info, containers))
        return Snapshot(tuple(out), time.time(), "demo")

    def read_cgroups(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Container | None]:
        """Each named cgroup alone (its child list and members), None for one that does
        not exist: what the UI re-reads at each tick instead of a whole snapshot."""
        h = self._hier(hierarchy)
        out: dict[str, Container | None] = {}
        with self._cache_lock:
            for p in paths:
                c = h.by_path.get(_norm(p))
                out[p] = None if c is None else c.snap or self._container(c)
        return out

    def _view(self, h: SimHierarchy) -> MappingProxyType[str, Container]:
        """The path -> Container mapping of the whole of `h` (caller holds the cache lock):
        the last one when nothing changed, else a copy with the changed cgroups rebuilt,
        else (the tree changed) a new pre-order walk reusing every unchanged Container."""
        if h.view is not None and not h.dirty:
            return h.view
        if h.view is None:
            containers = {c.path: c.snap or self._container(c) for c in h.root.walk()}
        else:
            containers = dict(h.view)
            for c in h.dirty:
                if not c.removed:
                    containers[c.path] = c.snap or self._container(c)
        h.dirty.clear()
        h.view = MappingProxyType(containers)
        return h.view

    def _container(self, c: SimCgroup) -> Container:
        """Build (and keep) the snapshot Container of one cgroup from its live members."""
        tids = c.tids
        threads = array("i", sorted(tids)) if tids else EMPTY
        tasks = self.tasks
        if c.hier.v2:
            if c.threaded():   # cgroup.procs unreadable: the TGIDs of its threads
                procs = array("i", sorted({tasks[t].tgid for t in tids})) if tids else EMPTY
            else:
                listed = self._v2_procs(c)
                procs = array("i", sorted(listed)) if listed else EMPTY
        elif not tids:
            procs = EMPTY
        else:
            tgids = {tasks[t].tgid for t in tids}
            procs = threads if tgids == tids else array("i", sorted(tgids))
        kids = tuple(c.children[n].path for n in sorted(c.children))
        c.snap = Container(c.path, kids, threads, procs)
        return c.snap

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        try:
            cg = self._cg(hierarchy, path)
        except OSError:
            return None
        h = cg.hier
        files = V2_FILES if h.v2 else V1_FILES
        writable = frozenset(files) if self._may_open(cg, self._creds) else frozenset()
        return CgroupState(
            hierarchy=h.info.name, path=cg.path, version=h.info.version,
            cgroup_type=cg.cgroup_type() if h.v2 and cg.parent is not None else None,  # no file on the root
            subtree_control=tuple(sorted(cg.subtree_control)) if h.v2 else (),
            cpuset_cpus=(cg.cpus if h.has("cpuset") else  # v2: cpuset.cpus.effective
                         _cpu_text(_effective_cpus(self, cg)) if h.v2 and _cpuset_on(cg) else None),
            cpuset_mems=cg.mems if h.has("cpuset") else None,
            freezer_state=(None if cg.parent is None else str(int(cg.frozen())) if h.v2
                           else self._freezer_state(cg) if h.has("freezer") else None),
            writable=writable,
            self_frozen=None if cg.parent is None or not (h.v2 or h.has("freezer")) else cg.freezer == "FROZEN",
            cgroup_id=cg.ino,
        )

    @staticmethod
    def _freezer_state(cg: SimCgroup) -> str:
        return "FROZEN" if cg.frozen() else "THAWED"

    IO_READ_PER_CPU_SECOND = 3 << 20
    """Simulated IO: bytes a task reads per second of CPU it uses (writes: a third)."""

    def _usage(self, cg: SimCgroup) -> tuple[int, float, int, float]:
        """Tasks, CPU seconds used, resident bytes and CPU share (% of one CPU) of `cg` and
        its descendants. CPU time
        accrues between ticks too, at each task's share, on `clock` (the wall clock by
        default): two readings a second apart show each task's share, as on a machine. The
        sums of each cgroup (own, and with its subtree) are kept until its members or its
        subtree change (or the clock ticks), so a reading costs what changed since the last."""
        since = max(0.0, self.clock() - self._clock0)
        with self._cache_lock:
            _, n, cpu, share, rss = self._sub(cg, self._uptime)
        return n, cpu + share / 100.0 * since, rss, share

    def _sub(self, top: SimCgroup, up: float) -> tuple[float, int, float, float, int]:
        """`top`'s subtree sums, summing again (children first, without recursion: a tree
        may be deep) only where they are stale."""
        tasks = self.tasks
        stack: list[tuple[SimCgroup, bool]] = [(top, False)]
        while stack:
            c, children_done = stack.pop()
            sub = c.sub
            if sub is not None and sub[0] == up:
                continue
            if not children_done:
                stack.append((c, True))
                stack.extend((child, False) for child in c.children.values())
                continue
            agg = c.agg
            if agg is None or agg[0] != up:
                an = arss = 0
                acpu = ashare = 0.0
                for t in c.tids:
                    task = tasks[t]
                    an += 1
                    acpu += task.cpu_time
                    if task.cpu and not task.dead:
                        ashare += task.cpu
                    arss += task.rss
                agg = c.agg = (up, an, acpu, ashare, arss)
            _, n, cpu, share, rss = agg
            for child in c.children.values():
                _, cn, ccpu, cshare, crss = child.sub  # type: ignore[misc]  # summed just before
                n += cn
                cpu += ccpu
                share += cshare
                rss += crss
            c.sub = (up, n, cpu, share, rss)
        assert top.sub is not None
        return top.sub

    def cgroup_stats(self, hierarchy: str, path: str) -> dict[str, str]:
        try:
            cg = self._cg(hierarchy, path)
        except (OSError, KeyError):
            return {}
        h = cg.hier
        counted = h.v2 or any(h.has(c) for c in ("pids", "cpuacct", "memory", "blkio"))
        root = cg.parent is None
        n_tasks, cpu, rss, share = self._usage(cg) if counted or root or h.v2 else (0, 0.0, 0, 0.0)
        io_r = int(cpu * self.IO_READ_PER_CPU_SECOND)
        io_w = io_r // 3
        out: dict[str, str] = {}
        if root:
            self._machine_stats(out, cpu, rss, share, v1=not h.v2)
        if h.v2:
            if self.psi:
                for res, (some, full) in self._pressure(rss, share).items():
                    out[res + ".pressure"] = self._psi_text(some, full, cpu)
            enabled = set(h.info.controllers) if cg.parent is None else cg.parent.subtree_control
            if cg.parent is not None:
                out["cgroup.type"] = cg.cgroup_type()
            out["cgroup.subtree_control"] = " ".join(sorted(cg.subtree_control))
            if cg.parent is not None:
                out["cgroup.events"] = f"populated {int(n_tasks > 0)}\nfrozen {int(cg.frozen())}"
                out["cgroup.freeze"] = str(int(cg.freezer == "FROZEN"))
            usage = int(cpu * 1e6)
            out["cpu.stat"] = f"usage_usec {usage}\nuser_usec {usage // 2}\nsystem_usec {usage - usage // 2}"
            if "pids" in enabled and cg.parent is not None:
                out["pids.current"] = str(n_tasks)
                out["pids.max"] = cg.pids_max
            if "memory" in enabled and cg.parent is not None:
                out["memory.current"] = str(rss)
                out["memory.swap.current"] = str(self._swapped(rss))
            if "io" in enabled and cg.parent is not None:
                out["io.stat"] = f"8:0 rbytes={io_r} wbytes={io_w} rios={io_r >> 12} wios={io_w >> 12} dbytes=0 dios=0"
            return out
        if h.has("freezer") and cg.parent is not None:
            out["freezer.state"] = self._freezer_state(cg)
        if h.has("cpuset"):
            out["cpuset.cpus"], out["cpuset.mems"] = cg.cpus, cg.mems
        if h.has("pids") and cg.parent is not None:
            out["pids.current"] = str(n_tasks)
            out["pids.max"] = cg.pids_max
        if h.has("cpuacct"):
            out["cpuacct.usage"] = str(int(cpu * 1e9))
        if h.has("memory"):
            out["memory.usage_in_bytes"] = str(rss)
        if h.has("blkio"):
            out["blkio.throttle.io_service_bytes"] = (
                f"8:0 Read {io_r}\n8:0 Write {io_w}\n8:0 Sync {io_w}\n8:0 Async {io_r}\n"
                f"8:0 Discard 0\n8:0 Total {io_r + io_w}\nTotal {io_r + io_w}")
        return out

    @staticmethod
    def _swapped(rss: int) -> int:
        """Simulated swap use: a sixteenth of what is resident, in whole pages."""
        return (rss >> 4) & ~4095

    def _pressure(self, rss: int, share: float) -> dict[str, tuple[float, float]]:
        """Simulated PSI avg10 (some, full) per resource, from the CPU share (% of one CPU)
        and resident bytes of the tasks: more of them, more stalls."""
        cpu = min(99.0, share / 4)
        mem = min(99.0, rss / self.mem_total * 10)
        io = min(99.0, share / 20)
        return {"cpu": (cpu, 0.0 if cpu < 1 else cpu / 5), "memory": (mem, mem / 4), "io": (io, io / 2)}

    @staticmethod
    def _psi_text(some: float, full: float, cpu_seconds: float) -> str:
        return "\n".join(f"{kind} avg10={v:.2f} avg60={v:.2f} avg300={v:.2f} total={int(cpu_seconds * v * 1e4)}"
                         for kind, v in (("some", some), ("full", full)))

    def _machine_stats(self, out: dict[str, str], cpu: float, rss: int, share: float, v1: bool) -> None:
        """The root's /proc figures (as `CgroupFS.cgroup_stats` adds them; the v2 root has
        pressure files of its own)."""
        kb = 1 << 10
        used = min(rss, self.mem_total)
        swapped = min(self._swapped(rss), self.swap_total)
        out["/proc/meminfo"] = (f"MemTotal: {self.mem_total // kb} kB\n"
                                f"MemAvailable: {(self.mem_total - used) // kb} kB\n"
                                f"SwapTotal: {self.swap_total // kb} kB\n"
                                f"SwapFree: {(self.swap_total - swapped) // kb} kB")
        live = [t for t in self.tasks.values() if not t.dead]
        running = sum(1 for t in live if t.state == "R") or 1
        out["/proc/loadavg"] = f"0.52 0.58 0.59 {running}/{len(live)} {self._last_pid}"
        ticks = int(cpu * HZ)
        user, system = ticks * 4 // 5, ticks - ticks * 4 // 5
        out["/proc/stat"] = f"cpu  {user} 0 {system} {int(self._uptime * HZ) * 2} 0 0 0 0 0 0"
        if v1 and self.psi:
            for res, (some, full) in self._pressure(rss, share).items():
                out["/proc/pressure/" + res] = self._psi_text(some, full, cpu)

    def _state_letter(self, t: SimTask) -> str:
        if t.dead:
            return t.state
        if not t.kthread:
            for h in self._hiers.values():
                if (h.v2 or h.has("freezer")) and h.where[t.pid].frozen():
                    return "D"
        return t.state

    def _info(self, t: SimTask, details: bool) -> TaskInfo:
        leader = self.tasks.get(t.tgid, t)
        info = TaskInfo(
            pid=t.pid, tgid=t.tgid, comm=t.comm, state=self._state_letter(t), uid=t.uid,
            euid=t.euid, suid=t.suid, start_time=t.start_time, flags=t.flags,
            threads=len(leader.group) if not leader.dead else 1, ppid=t.ppid)
        if not details:
            return info
        life = max(self._uptime - t.start_time / HZ, 1e-9)
        cpu = t.cpu if not t.dead else 0.0
        return info.replace(
            cmdline=t.cmdline, user=self.users.get(t.uid, str(t.uid)),
            cpu_percent=cpu if cpu else round(min(100.0, 100.0 * t.cpu_time / life), 1),
            rss=0 if t.dead else (leader.rss if t.pid != t.tgid else t.rss))

    def task_state(self, pid: int) -> TaskInfo | None:
        t = self.tasks.get(pid)
        return None if t is None else self._info(t, False)

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        out = {}
        for pid in pids:
            t = self.tasks.get(pid)
            if t is not None:
                out[pid] = self._info(t, True)
        return out

    def task_cgroups(self, pid: int) -> dict[str, str] | None:
        if pid not in self.tasks:
            return None
        return {name: h.where[pid].path for name, h in self._hiers.items()}

    def task_cgroup(self, pid: int, hierarchy: str) -> str | None:
        if pid not in self.tasks:
            return None
        return self._hier(hierarchy).where[pid].path

    def thread_ids(self, tgid: int) -> tuple[int, ...]:
        t = self.tasks.get(tgid)
        if t is None or t.tgid != tgid:
            return ()   # a zombie leader still lists itself in /proc/PID/task
        return tuple(sorted(t.group))

    def open_task(self, pid: int, thread: bool = False) -> SimTaskHandle:
        t = self.tasks.get(pid)
        if t is None:
            raise _err(errno.ESRCH, f"pid {pid}")
        return SimTaskHandle(t)

    def open_membership(self, hierarchy: str, path: str, filename: str,
                        write: bool = True) -> SimMembershipFile:
        cg = self._cg(hierarchy, path)
        if filename not in (V2_FILES if cg.hier.v2 else V1_FILES):
            raise _err(errno.ENOENT, f"{hierarchy}:{path}/{filename}")
        if write and not self._may_open(cg, self._creds):
            raise _err(errno.EACCES, f"{hierarchy}:{path}/{filename}")
        return SimMembershipFile(self, cg, filename, self._creds, write)

    def write_pid(self, hierarchy: str, path: str, filename: str, data: bytes) -> int:
        with self.open_membership(hierarchy, path, filename) as f:
            return f.write(data)

    def writer(self) -> Creds:
        return self._creds

    # ---------------------------------------------------------------- cgroup admin (CgroupAdmin)

    def make_cgroup(self, hierarchy: str, path: str) -> None:
        """mkdir(2) as the kernel answers it: EINVAL for a newline in the name, EEXIST for a
        name a cgroup or an interface file of the parent already has (`.` and `..`
        included), ENOENT for a missing parent, ENAMETOOLONG for a path of PATH_MAX (4096)
        bytes or more under the mount. Longer names than 255 bytes are taken, as kernfs does."""
        h = self._hier(hierarchy)
        if not path.startswith("/") or path == "/":
            raise _err(errno.EEXIST, f"{hierarchy}:{path}")
        ppath, name = path.rsplit("/", 1)
        if len(h.info.fs_path(path).encode("utf-8", "surrogateescape")) >= 4096:
            raise _err(errno.ENAMETOOLONG, f"{hierarchy}:{path}")
        parent = h.by_path.get(_norm(ppath or "/"))
        if parent is None:
            raise _err(errno.ENOENT, f"{hierarchy}:{ppath}")
        if name in (".", "..") or name in parent.children or name in _interface_files(h, parent.parent is None):
            raise _err(errno.EEXIST, f"{hierarchy}:{path}")
        if "\n" in name:
            raise _err(errno.EINVAL, f"{hierarchy}:{path}: a newline in a cgroup name")
        self.mkdir(hierarchy, path)

    def remove_cgroup(self, hierarchy: str, path: str) -> None:
        """rmdir(2): EBUSY while it holds tasks or children, and for the root; ENOENT when gone."""
        self.rmdir(hierarchy, path)

    def set_frozen(self, hierarchy: str, path: str, frozen: bool) -> None:
        """v1 `freezer.state` FROZEN/THAWED, v2 `cgroup.freeze` 1/0; ENOENT without the file."""
        if self._hier(hierarchy).v2:
            self.set_freeze(hierarchy, path, frozen)
        else:
            self.set_freezer(hierarchy, path, "FROZEN" if frozen else "THAWED")

    def write_access(self) -> str | None:
        """`not root` unless the simulated writer's effective uid is 0 (as `CgroupFS`)."""
        return None if self._creds.euid == 0 else "not root"


_V1_FILES = frozenset({"tasks", "cgroup.procs", "cgroup.clone_children", "notify_on_release"})
_V1_ROOT_FILES = frozenset({"release_agent", "cgroup.sane_behavior"})
_V2_FILES = frozenset({"cgroup.procs", "cgroup.threads", "cgroup.type", "cgroup.controllers", "cgroup.subtree_control",
                       "cgroup.events", "cgroup.freeze", "cgroup.kill", "cgroup.max.depth", "cgroup.max.descendants",
                       "cgroup.stat", "cgroup.pressure", "cpu.stat", "cpu.pressure", "io.pressure", "memory.pressure"})
_CONTROLLER_FILES = {
    "freezer": ("freezer.state", "freezer.self_freezing", "freezer.parent_freezing"),
    "pids": ("pids.current", "pids.max", "pids.events", "pids.peak"),
    "cpuset": ("cpuset.cpus", "cpuset.mems", "cpuset.effective_cpus", "cpuset.effective_mems", "cpuset.cpu_exclusive",
               "cpuset.mem_exclusive"),
    "cpu": ("cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.stat", "cpu.weight", "cpu.max"),
    "cpuacct": ("cpuacct.usage", "cpuacct.stat", "cpuacct.usage_percpu"),
    "memory": ("memory.current", "memory.max", "memory.usage_in_bytes", "memory.limit_in_bytes", "memory.stat"),
}


def _cpuset_on(cg: SimCgroup) -> bool:
    """v2: the cgroup has cpuset files (its parent enables cpuset; the root, when the
    hierarchy has the controller)."""
    if cg.parent is None:
        return "cpuset" in cg.hier.info.controllers
    return "cpuset" in cg.parent.subtree_control


def _cpu_set(text: str) -> set[int]:
    """`0-2,5` -> {0, 1, 2, 5}."""
    out: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if part:
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    return out


def _cpu_text(cpus: set[int]) -> str:
    """{0, 1, 2, 5} -> `0-2,5` (the kernel's list form; empty: "")."""
    runs: list[str] = []
    for n in sorted(cpus):
        if runs and int(runs[-1].rsplit("-", 1)[-1]) == n - 1:
            runs[-1] = runs[-1].split("-")[0] + f"-{n}"
        else:
            runs.append(str(n))
    return ",".join(runs)


def _available_cpus(k: SimKernel, cg: SimCgroup) -> set[int]:
    """The CPUs `cg` may use before it gives any to child partitions."""
    if cg.parent is None:
        return set(range(k.ncpus))
    if cg.partition == "root":
        return _cpu_set(cg.cpus) & _available_cpus(k, cg.parent)
    parent = _effective_cpus(k, cg.parent)
    return (_cpu_set(cg.cpus) & parent) or parent


def _effective_cpus(k: SimKernel, cg: SimCgroup) -> set[int]:
    """v2 `cpuset.cpus.effective`: what it may use, less what its child partitions took."""
    given: set[int] = set()
    for c in cg.children.values():
        if c.partition == "root" and not c.removed:
            given |= _cpu_set(c.cpus)
    return _available_cpus(k, cg) - given


def _interface_files(h: SimHierarchy, root: bool) -> frozenset[str]:
    """The file names a cgroup directory of `h` holds (a child cannot take one: EEXIST)."""
    names = set(_V2_FILES if h.v2 else _V1_FILES | (_V1_ROOT_FILES if root else frozenset()))
    for c in h.info.controllers:
        names.update(_CONTROLLER_FILES.get(c, ()))
    return frozenset(names)


def _norm(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts)


def _descends(cg: SimCgroup, ancestor: SimCgroup) -> bool:
    c: SimCgroup | None = cg
    while c is not None:
        if c is ancestor:
            return True
        c = c.parent
    return False


TYPE_CHECKING = False
if TYPE_CHECKING:
    from ctrtui.sources.base import Backend, CgroupAdmin

    def _keeps_the_contract(k: SimKernel) -> tuple[Backend, CgroupAdmin]:
        """mypy checks here that SimKernel implements what it declares (see base.py)."""
        return k, k
