"""The simulated kernel's write entry points: membership files (opened with the writer's
credentials, written as the kernel answers each write), pidfd-like task handles, cgroup files
(`cgroup.type`, `cgroup.subtree_control`, cpuset, freezer, pids), and mkdir/rmdir as
CgroupAdmin. Each asks `rules` in the kernel's order, then changes the state.
"""

from __future__ import annotations

import errno

from ctrtui.model import PF_EXITING, Creds
from ctrtui.sources.simkernel.objects import SimCgroup, SimHierarchy, SimTask, err, norm
from ctrtui.sources.simkernel.reading import SimReading
from ctrtui.sources.simkernel.rules import (
    PATH_MAX,
    V1_FILES,
    V2_FILES,
    check_attach,
    check_mkdir,
    check_partition,
    check_subtree_control,
    check_task,
    check_threaded,
    check_v1_owner,
    check_v2_move,
    cpuset_on,
    kstrtoint,
    may_open,
    sscanf_d,
)


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

    def __init__(self, kernel: SimWriting, cg: SimCgroup, name: str, creds: Creds, write: bool):
        self._k, self.cgroup, self.name, self.creds = kernel, cg, name, creds
        self._write = write
        self.closed = False

    def write(self, data: bytes) -> int:
        if self.closed or not self._write:
            raise err(errno.EBADF)
        return self._k._attach_write(self, bytes(data))

    def read(self) -> bytes:
        if self.closed:
            raise err(errno.EBADF)
        return self._k._read_file(self.cgroup, self.name)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> SimMembershipFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SimWriting(SimReading):
    """The Writer and CgroupAdmin protocols of `SimKernel`, and its cgroup-file writes."""

    # ---------------------------------------------------------------- Writer
    def open_task(self, pid: int, thread: bool = False) -> SimTaskHandle:
        t = self.tasks.get(pid)
        if t is None:
            raise err(errno.ESRCH, f"pid {pid}")
        return SimTaskHandle(t)

    def open_membership(self, hierarchy: str, path: str, filename: str,
                        write: bool = True) -> SimMembershipFile:
        cg = self._cg(hierarchy, path)
        if filename not in (V2_FILES if cg.hier.v2 else V1_FILES):
            raise err(errno.ENOENT, f"{hierarchy}:{path}/{filename}")
        if write and not may_open(cg, self._creds):
            raise err(errno.EACCES, f"{hierarchy}:{path}/{filename}")
        return SimMembershipFile(self, cg, filename, self._creds, write)

    def write_pid(self, hierarchy: str, path: str, filename: str, data: bytes) -> int:
        with self.open_membership(hierarchy, path, filename) as f:
            return f.write(data)

    def writer(self) -> Creds:
        return self._creds

    def write_access(self) -> str | None:
        """`not root` unless the simulated writer's effective uid is 0 (as `CgroupFS`)."""
        return None if self._creds.euid == 0 else "not root"

    # ---------------------------------------------------------------- a membership write
    def _attach_write(self, f: SimMembershipFile, data: bytes) -> int:
        """One write to a membership file, checked in the kernel's order (docs/kernel.md, section 8)."""
        cg, h, creds = f.cgroup, f.cgroup.hier, f.creds
        where = f"{h.info.name}:{cg.path}/{f.name}"
        if self.mode_2007 and not h.v2:
            return self._attach_write_2007(f, data, where)
        if len(data) > PATH_MAX:
            raise err(errno.E2BIG, where)
        if cg.removed:
            raise err(errno.ENODEV, where)   # even for a 0-byte write (seen on 6.18)
        if not data:
            return 0
        pid = kstrtoint(data)
        if pid is None or pid < 0:
            raise err(errno.EINVAL, where)
        if pid == 0:
            task = self.tasks.get(self.writer_pid) if self.writer_pid is not None else None
        else:
            task = self.tasks.get(pid)
        if task is None:
            raise err(errno.ESRCH, where)
        threadgroup = f.name == "cgroup.procs"
        if threadgroup:
            task = self.tasks.get(task.tgid, task)
        check_task(h, task, where)
        if not h.v2:
            check_v1_owner(task, creds, where)
        else:
            check_v2_move(cg, h.where[task.pid], creds, threadgroup, where)
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
            raise err(errno.E2BIG, where)
        if cg.removed:
            raise err(errno.ENODEV, where)
        pid = sscanf_d(data)
        if pid is None:
            raise err(errno.EIO, where)
        if pid:
            task = self.tasks.get(pid)
            if task is None or task.dead or task.flags & PF_EXITING:
                raise err(errno.ESRCH, where)
            check_v1_owner(task, creds, where)
        else:
            task = self.tasks.get(self.writer_pid) if self.writer_pid is not None else None
            if task is None:
                raise err(errno.ESRCH, where)
        group = [self.tasks[t] for t in self.tasks[task.tgid].group] if f.name == "cgroup.procs" else [task]
        self._attach(h, cg, [t for t in group if h.where.get(t.pid) is not cg], where)
        return len(data)

    def _attach(self, h: SimHierarchy, cg: SimCgroup, movers: list[SimTask], where: str,
                creds: Creds | None = None) -> None:
        """The controllers' checks and the move, when anything moves at all."""
        if not movers:
            return
        check_attach(h, cg, movers, where, self.ncpus, creds, self.cpuset_setscheduler_check)
        for t in movers:
            self._move(h, t, cg)

    # ---------------------------------------------------------------- cgroup files
    def set_type(self, hier: str, path: str, value: str = "threaded") -> None:
        """Write v2 `cgroup.type` (only `threaded` is accepted), with the kernel's rules:
        the parent becomes `domain threaded`, its other domain children `domain invalid`."""
        cg = self._cg(hier, path)
        if not cg.hier.v2 or cg.parent is None:
            raise err(errno.ENOENT, f"{hier}:{path}/cgroup.type")
        if value.strip() != "threaded":
            raise err(errno.EINVAL, f"{hier}:{path}/cgroup.type")
        if cg.threaded():
            return
        check_threaded(cg, f"{hier}:{path}")
        dom = cg.parent.dom
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
            raise err(errno.ENOENT, f"{hier}:{path}/cgroup.subtree_control")
        enable: set[str] = set()
        disable: set[str] = set()
        for word in change.split():
            if word[:1] not in "+-" or len(word) < 2:
                raise err(errno.EINVAL, word)
            (enable if word[0] == "+" else disable).add(word[1:])
        available = set(cg.hier.info.controllers) if cg.parent is None else cg.parent.subtree_control
        if not enable <= available:
            raise err(errno.ENOENT, f"{hier}:{path}: {' '.join(sorted(enable - available))}")
        enable -= cg.subtree_control
        check_subtree_control(cg, enable, disable, f"{hier}:{path}")
        cg.subtree_control = (cg.subtree_control | enable) - disable

    def set_cpuset(self, hier: str, path: str, cpus: str | None = None, mems: str | None = None) -> None:
        """v1 `cpuset.cpus`/`cpuset.mems`; v2 `cpuset.cpus` of a cgroup whose parent enables
        cpuset (the kernel's own checks of what is written are not modelled)."""
        cg = self._cg(hier, path)
        if not (cg.hier.has("cpuset") or cg.hier.v2 and cpuset_on(cg)):
            raise err(errno.ENOENT, f"{hier}:{path}/cpuset.cpus")
        if cpus is not None:
            cg.cpus = cpus
        if mems is not None:
            cg.mems = mems

    def set_partition(self, hier: str, path: str, value: str) -> None:
        """v2 `cpuset.cpus.partition` (`root` or `member`). A partition root's CPUs (its
        `cpuset.cpus`, which its parent -- the root cgroup or a partition root -- must have
        left) are its own: its parent's effective CPUs lose them (`rules.check_partition`)."""
        cg = self._cg(hier, path)
        if not cg.hier.v2 or not cpuset_on(cg):
            raise err(errno.ENOENT, f"{hier}:{path}/cpuset.cpus.partition")
        if value not in ("root", "member"):
            raise err(errno.EINVAL, value)
        if value == "root":
            check_partition(cg, self.ncpus, f"{hier}:{path}")
        cg.partition = value

    def set_freezer(self, hier: str, path: str, state: str) -> None:
        """v1 `freezer.state` (FROZEN or THAWED; the root has no such file: ENOENT)."""
        cg = self._cg(hier, path)
        if not cg.hier.has("freezer") or cg.parent is None:
            raise err(errno.ENOENT, f"{hier}:{path}/freezer.state")
        if state not in ("FROZEN", "THAWED"):
            raise err(errno.EINVAL, state)
        cg.freezer = state

    def set_freeze(self, hier: str, path: str, frozen: bool) -> None:
        """v2 `cgroup.freeze` (1 or 0): the cgroup and everything below it freeze (the
        root has no such file: ENOENT, like the kernel)."""
        cg = self._cg(hier, path)
        if not cg.hier.v2 or cg.parent is None:
            raise err(errno.ENOENT, f"{hier}:{path}/cgroup.freeze")
        cg.freezer = "FROZEN" if frozen else "THAWED"

    def set_pids_max(self, hier: str, path: str, value: int | str) -> None:
        self._cg(hier, path).pids_max = str(value)

    # ---------------------------------------------------------------- cgroup admin (CgroupAdmin)
    def make_cgroup(self, hierarchy: str, path: str) -> None:
        """mkdir(2) as the kernel answers it (`rules.check_mkdir`); EEXIST for the root or a
        relative path."""
        h = self._hier(hierarchy)
        if not path.startswith("/") or path == "/":
            raise err(errno.EEXIST, f"{hierarchy}:{path}")
        ppath = path.rsplit("/", 1)[0]
        check_mkdir(h, h.by_path.get(norm(ppath or "/")), hierarchy, path)
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
