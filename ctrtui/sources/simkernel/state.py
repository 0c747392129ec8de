"""The simulated kernel's state: its hierarchies, tasks, the writer's credentials and the
machine's figures; the cgroup tree's primitive changes (mkdir, rmdir, a task placed); and the
snapshot caches those changes keep up to date.

Like the kernel, which keeps its member lists up to date rather than rebuilding them for each
read, every cgroup keeps its snapshot `Container` until its members change, and every
hierarchy keeps its last container mapping (`reading` builds them): a change marks what it
touched (`_touch`, `_retree`) and the next snapshot rebuilds only that.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable

from ctrtui.model import Creds, find_hierarchy, join_path
from ctrtui.sources.simkernel.objects import SimCgroup, SimHierarchy, SimTask, err, norm


class SimState:
    """What every part of the simulated kernel reads and changes (see the module docstring)."""

    def __init__(self, pid_max: int, boot_time: float, mode_2007: bool, identity: str,
                 clock: Callable[[], float], wall: Callable[[], float]) -> None:
        self.pid_max = pid_max
        self.identity = identity
        """The spec that names this world (`demo`, `demo:hostile`): see base.Reader.identity."""
        self.mode_2007 = mode_2007
        """Answer v1 writes as the 2007 containers patch did (see `writing`); for teaching
        only: today's kernel is what docs/kernel.md and the real backend show."""
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
        self.clock = clock
        """Seconds on a monotonic clock: CPU time accrues on it between ticks (tests set
        their own; see `cgroup_stats`)."""
        self._clock0 = clock()
        self.wall = wall
        """The wall clock (seconds since the epoch) a snapshot is stamped with."""
        self.psi = True
        """Built with pressure stall information: every v2 cgroup has `cpu.pressure`,
        `memory.pressure`, `io.pressure`, and /proc/pressure/* exist (the v1 roots show them)."""
        self.mem_total = 16 << 30
        self.swap_total = 2 << 30
        """The machine's memory and swap (the root's /proc/meminfo)."""
        self._cache_lock = threading.Lock()
        """Guards the snapshot caches (a snapshot may run in a thread while tasks move)."""
        self.ncpus = 2
        """CPUs of the machine (v2 cpuset: the root's `cpuset.cpus.effective` is 0-(ncpus-1))."""
        self.cpuset_setscheduler_check = False
        """Kernels before 6.6: cpuset's attach check also asks security_task_setscheduler, so a
        non-root writer cannot move a root task (one with capabilities it lacks) into or
        between cpusets: EPERM. Off: today's kernel. No safe probe tells a running kernel's
        rule; the engine's cpuset hook predicts it where a backend sets this."""

    # ---------------------------------------------------------------- lookup
    def _hier(self, word: str) -> SimHierarchy:
        h = self._hiers.get(word) or find_hierarchy(self._hiers.values(), word, key=lambda h: h.info)
        if h is not None:
            return h
        raise KeyError(f"no hierarchy {word!r}")

    def _cg(self, hier: str, path: str) -> SimCgroup:
        cg = self._hier(hier).by_path.get(norm(path))
        if cg is None:
            raise err(errno.ENOENT, f"{hier}:{path}")
        return cg

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

    # ---------------------------------------------------------------- the tree and placement
    def mkdir(self, hier: str, path: str, exist_ok: bool = False) -> str:
        """Create one cgroup (its parent must exist). Returns the normalized path."""
        h = self._hier(hier)
        path = norm(path)
        if path in h.by_path:
            if exist_ok:
                return path
            raise err(errno.EEXIST, f"{hier}:{path}")
        ppath, name = path.rsplit("/", 1)
        parent = h.by_path.get(ppath or "/")
        if parent is None:
            raise err(errno.ENOENT, f"{hier}:{ppath}")
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
            raise err(errno.EBUSY, f"{hier}:{path}")
        cg.removed = True
        del cg.parent.children[cg.name]
        del cg.hier.by_path[cg.path]
        if cg.threaded():
            cg.parent.nr_threaded_children -= 1
        self._retree(cg.hier, cg.parent)

    def _move(self, h: SimHierarchy, t: SimTask, cg: SimCgroup) -> None:
        """Put task `t` into `cg` of `h`, no questions asked (the rules were asked before)."""
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
