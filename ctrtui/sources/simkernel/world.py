"""Building a simulated world: hierarchies, users, delegation, tasks and threads (born, exiting,
reaped, their PIDs recycled), the clock, and churn for benchmarks.

These are the builder calls of `SimKernel` (its docstring lists them): tests, the demo world
and the generator make worlds with them, unchecked where the kernel would not be asked (a
task placed anywhere), with the kernel's errno where it would (a PID taken, no such task).
"""

from __future__ import annotations

import errno
import random
from collections.abc import Callable, Sequence

from ctrtui.model import PF_EXITING, PF_KTHREAD, PF_NO_SETAFFINITY, Creds, Hierarchy
from ctrtui.sources.simkernel.objects import HZ, SimCgroup, SimHierarchy, SimTask, err, norm
from ctrtui.sources.simkernel.state import SimState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypedDict, Unpack

    class SpawnOptions(TypedDict, total=False):
        """What `SimWorld.spawn` takes besides the name and the PID (for `recycle`)."""

        cmdline: str | None
        uid: int
        threads: int
        cgroups: dict[str, str] | None
        state: str
        kthread: bool
        no_setaffinity: bool
        rss: int | None
        parent: int | None
        cpu: float
        euid: int | None
        suid: int | None

RESERVED_PIDS = 300
"""Where PID allocation restarts after wrapping at pid_max (kernel/pid.c)."""


class SimWorld(SimState):
    """The builder calls (see the module docstring)."""

    def add_user(self, uid: int, name: str) -> None:
        self.users[uid] = name

    def add_hierarchy(self, name: str, version: int, controllers: Sequence[str] = (),
                      mount: str | None = None) -> Hierarchy:
        """Mount a hierarchy. v1 `name` is how /proc/PID/cgroup names it (`cpu,cpuacct`,
        `name=systemd`); v2 `controllers` are those in the root's cgroup.controllers."""
        if version not in (1, 2):
            raise ValueError("version is 1 or 2")
        if name in self._hiers:
            raise err(errno.EBUSY, name)
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

    # ---------------------------------------------------------------- tasks
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
        raise err(errno.EAGAIN, "no free PID")

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
            cg = h.by_path.get(norm(path))
            if cg is None:
                raise err(errno.ENOENT, f"{word}:{path}")
            place[h] = cg
        if pid is None:
            pid = self._alloc_pid()
        elif pid in self.tasks or not 0 < pid < self.pid_max:
            raise err(errno.EEXIST, f"pid {pid}")
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
            raise err(errno.ESRCH, f"thread group {tgid}")
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
            raise err(errno.ESRCH, f"pid {pid}")
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
            raise err(errno.ECHILD, f"pid {pid}")
        if not t.dead:
            raise err(errno.EBUSY, f"pid {pid} has not exited")
        self._reap_one(t)

    def set_exiting(self, pid: int) -> None:
        """PF_EXITING (do_exit under way): still listed, but no write moves it. On a TGID
        the whole group is exiting."""
        t = self.tasks[pid]
        for tid in (t.group if pid == t.tgid else [pid]):
            self.tasks[tid].flags |= PF_EXITING

    def recycle(self, pid: int, comm: str = "recycled", same_start_time: bool = False,
                **spawn_args: Unpack[SpawnOptions]) -> int:
        """PID reuse: the task with `pid` (if any) exits and is reaped, and a NEW process
        gets the same PID, with a later start time (or, with `same_start_time`, the same
        tick, which the kernel's tick resolution allows)."""
        old = self.tasks.get(pid)
        start = old.start_time if old else None
        if old is not None:
            self.exit(pid, reap=True)    # a thread's TID: only that thread goes
        if not same_start_time:
            self._uptime += 1.0 / HZ
        new = self.spawn(comm, pid=pid, **spawn_args)
        if same_start_time and start is not None:
            self.tasks[new].start_time = start
        return new

    def place(self, pid: int, hier: str, path: str) -> None:
        """Put one thread into a cgroup with no checks at all (for building worlds)."""
        self._move(self._hier(hier), self.tasks[pid], self._cg(hier, path))

    # ---------------------------------------------------------------- the clock and churn
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
