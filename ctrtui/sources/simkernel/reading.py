"""The simulated kernel's Reader side: its hierarchies, snapshots and single cgroups (built from
the live member sets, kept until they change: see `state`), the facts of one cgroup, the
membership files as a read of them returns them, and the facts of tasks."""

from __future__ import annotations

import errno
from array import array
from collections.abc import Iterable, Sequence
from types import MappingProxyType

from ctrtui.model import EMPTY, CgroupState, Container, Hierarchy, HierarchySnapshot, Snapshot, TaskInfo
from ctrtui.sources.simkernel.objects import HZ, SimCgroup, SimHierarchy, SimTask, err, freezer_state, norm
from ctrtui.sources.simkernel.rules import V1_FILES, V2_FILES, cpu_text, cpuset_on, effective_cpus, may_open
from ctrtui.sources.simkernel.state import SimState


class SimReading(SimState):
    """The Reader protocol of `SimKernel`, stats aside (`usage`)."""

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        return tuple(h.info for h in self._hiers.values())

    # ---------------------------------------------------------------- snapshots
    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None) -> Snapshot:
        hs = list(self._hiers.values()) if names is None else [self._hier(n) for n in names]
        start = norm(subtree) if subtree else "/"
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
        return Snapshot(tuple(out), self.wall(), "demo")

    def read_cgroups(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Container | None]:
        """Each named cgroup alone (its child list and members), None for one that does
        not exist: what the UI re-reads at each tick instead of a whole snapshot."""
        h = self._hier(hierarchy)
        out: dict[str, Container | None] = {}
        with self._cache_lock:
            for p in paths:
                c = h.by_path.get(norm(p))
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
        """Build (and keep) the snapshot Container of one cgroup from its live members. A
        cgroup whose tasks are all thread group leaders lists the same array as its threads
        and its processes (the common case; a snapshot rebuilds thousands of these when 1 %
        of 100,000 tasks moved)."""
        tids = c.tids
        threads = array("i", sorted(tids)) if tids else EMPTY
        tasks = self.tasks
        if c.hier.info.version == 2:
            if c.dom is not c:   # threaded: cgroup.procs unreadable, the TGIDs of its threads
                procs = array("i", sorted({tasks[t].tgid for t in tids})) if tids else EMPTY
            else:
                listed = self._v2_procs(c)
                procs = (threads if len(listed) == len(tids) and not c.nr_threaded_children
                         else array("i", sorted(listed)) if listed else EMPTY)
        elif not tids:
            procs = EMPTY
        else:
            tgids = {tasks[t].tgid for t in tids}
            procs = threads if tgids == tids else array("i", sorted(tgids))
        kids = tuple([c.children[n].path for n in sorted(c.children)]) if c.children else ()
        c.snap = Container(c.path, kids, threads, procs)
        return c.snap

    def _v2_procs(self, cg: SimCgroup) -> list[int]:
        """TGIDs whose leader is in `cg` or, for a thread root, anywhere in its threaded
        subtree (the kernel iterates the domain's threaded css_sets)."""
        out = [t for t in cg.tids if self.tasks[t].tgid == t]
        if cg.nr_threaded_children:
            for d in cg.walk():
                if d is not cg and d.dom is cg:
                    out.extend(t for t in d.tids if self.tasks[t].tgid == t)
        return out

    def _read_file(self, cg: SimCgroup, name: str) -> bytes:
        """A read of membership file `name` of `cg`: v1 and `*.threads` sorted, v2
        `cgroup.procs` in the kernel's live order (EOPNOTSUPP in a threaded cgroup)."""
        if cg.removed:
            raise err(errno.ENODEV, f"{cg.hier.info.name}:{cg.path}/{name}")
        if name in ("tasks", "cgroup.threads"):
            ids: Iterable[int] = sorted(cg.tids)
        elif cg.hier.v2:
            if cg.threaded():
                raise err(errno.EOPNOTSUPP, f"{cg.hier.info.name}:{cg.path}/{name}")
            ids = self._v2_procs(cg)   # unsorted, like the kernel's live iteration
        else:
            ids = sorted({self.tasks[t].tgid for t in cg.tids})
        return b"".join(b"%d\n" % i for i in ids)

    # ---------------------------------------------------------------- one cgroup
    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        try:
            cg = self._cg(hierarchy, path)
        except OSError:
            return None
        h = cg.hier
        files = V2_FILES if h.v2 else V1_FILES
        writable = frozenset(files) if may_open(cg, self._creds) else frozenset()
        return CgroupState(
            hierarchy=h.info.name, path=cg.path, version=h.info.version,
            cgroup_type=cg.cgroup_type() if h.v2 and cg.parent is not None else None,  # no file on the root
            subtree_control=tuple(sorted(cg.subtree_control)) if h.v2 else (),
            cpuset_cpus=(cg.cpus if h.has("cpuset") else  # v2: cpuset.cpus.effective
                         cpu_text(effective_cpus(self.ncpus, cg)) if h.v2 and cpuset_on(cg) else None),
            cpuset_mems=cg.mems if h.has("cpuset") else None,
            freezer_state=(None if cg.parent is None else str(int(cg.frozen())) if h.v2
                           else freezer_state(cg) if h.has("freezer") else None),
            writable=writable,
            self_frozen=None if cg.parent is None or not (h.v2 or h.has("freezer")) else cg.freezer == "FROZEN",
            cgroup_id=cg.ino,
        )

    # ---------------------------------------------------------------- tasks
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
