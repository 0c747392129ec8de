"""The simulated kernel's objects: a task, a cgroup (with the v2 type rules of
kernel/cgroup/cgroup.c it answers for itself), a hierarchy, and the small helpers every part
of the simulator shares (the kernel's OSError, path normalising, the tick rate)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from types import MappingProxyType

from ctrtui.model import PF_KTHREAD, Container, Hierarchy

HZ = 100
"""Clock ticks per second (USER_HZ), the unit of start times."""
THREADED_CONTROLLERS = frozenset({"cpu", "cpuset", "perf_event", "pids"})
"""v2 controllers that may be enabled inside a threaded subtree."""


def err(code: int, what: str = "") -> OSError:
    """The OSError the kernel's `code` raises, naming `what` (a cgroup, a file, a PID)."""
    return OSError(code, os.strerror(code), what) if what else OSError(code, os.strerror(code))


def norm(path: str) -> str:
    """`a//b/` -> `/a/b`: the cgroup path as the simulator keys it."""
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts)


def descends(cg: SimCgroup, ancestor: SimCgroup) -> bool:
    """Whether `cg` is `ancestor` or below it."""
    c: SimCgroup | None = cg
    while c is not None:
        if c is ancestor:
            return True
        c = c.parent
    return False


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


def freezer_state(cg: SimCgroup) -> str:
    """v1 `freezer.state`: FROZEN when it or an ancestor is frozen, else THAWED."""
    return "FROZEN" if cg.frozen() else "THAWED"
