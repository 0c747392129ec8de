"""The simulated kernel's rules: what a write may do, checked in the real kernel's order with
its errno (docs/kernel.md). Each `check_*` raises the kernel's OSError or returns; nothing
here changes state (`writing` calls these, then changes it).

Also the parsers of a written PID (today's `kstrtoint` and the 2007 patch's `sscanf("%d")`),
who may open a membership file, the file names a cgroup directory holds, and v2 cpuset's
CPU arithmetic (partitions and effective CPUs).
"""

from __future__ import annotations

import errno
from collections.abc import Sequence

from ctrtui.model import PF_KTHREAD, PF_NO_SETAFFINITY, Creds
from ctrtui.sources.simkernel.objects import (
    THREADED_CONTROLLERS,
    SimCgroup,
    SimHierarchy,
    SimTask,
    descends,
    err,
)

PATH_MAX = 4096
INT_MAX = 2**31 - 1
V1_FILES = ("tasks", "cgroup.procs")
V2_FILES = ("cgroup.procs", "cgroup.threads")
_SPACE = b" \t\n\v\f\r\xa0"
"""What the kernel's isspace() accepts (lib/ctype.c marks 0xa0 as space too)."""


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


def may_open(cg: SimCgroup, creds: Creds) -> bool:
    """Whether `creds` may open `cg`'s membership files for writing (the file's mode and owner)."""
    if creds.euid == 0:
        return True
    if cg.owner == creds.euid:
        return bool(cg.mode & 0o200)
    return bool(cg.mode & 0o002)


# ================================================================ membership writes
def check_task(h: SimHierarchy, task: SimTask, where: str) -> None:
    """Tasks no write may move: kthreadd (`no_cgroup_migration`), a PF_NO_SETAFFINITY task,
    and in v2 any kernel thread: EINVAL."""
    if task.no_migration or task.flags & PF_NO_SETAFFINITY:
        raise err(errno.EINVAL, where)
    if h.v2 and task.flags & PF_KTHREAD:
        raise err(errno.EINVAL, where)


def check_v1_owner(task: SimTask, creds: Creds, where: str) -> None:
    """v1: a writer who is not root moves only a task whose uid or saved uid is its euid (EACCES)."""
    if creds.euid != 0 and creds.euid not in (task.uid, task.suid):
        raise err(errno.EACCES, where)


def check_v2_move(cg: SimCgroup, src: SimCgroup, creds: Creds, threadgroup: bool, where: str) -> None:
    """v2, a task moving from `src` into `cg`: the writer may write the common ancestor's
    membership files (the delegation rule: EACCES); the target is a valid domain or threaded
    (EOPNOTSUPP), holds no controllers for children unless threaded rules allow (EBUSY, the
    no-internal-processes rule); a single thread stays inside its thread domain (EOPNOTSUPP)."""
    com = src
    while not descends(cg, com):
        assert com.parent is not None  # the root is everyone's ancestor
        com = com.parent
    if not may_open(com, creds):
        raise err(errno.EACCES, where)
    if not cg.dom.valid_domain():
        raise err(errno.EOPNOTSUPP, where)
    if not (cg.can_be_thread_root() or cg.threaded()) and cg.subtree_control:
        raise err(errno.EBUSY, where)
    if not threadgroup and src.dom is not cg.dom:
        raise err(errno.EOPNOTSUPP, where)


def check_attach(h: SimHierarchy, cg: SimCgroup, movers: Sequence[SimTask], where: str, ncpus: int,
                 creds: Creds | None = None, setscheduler_check: bool = False) -> None:
    """The controllers' `can_attach`, asked only when something moves: a cpuset without CPUs
    or memory nodes refuses (ENOSPC: v1 empty `cpuset.cpus`/`cpuset.mems`, v2 a partition
    that gave all its CPUs away); before 6.6 cpuset also asked security_task_setscheduler,
    so a writer who is not root could not move a root task (EPERM)."""
    if h.has("cpuset") and (not cg.cpus.strip() or not cg.mems.strip()):
        raise err(errno.ENOSPC, where)
    if h.v2 and cpuset_on(cg) and not effective_cpus(ncpus, cg):
        raise err(errno.ENOSPC, where)
    if (setscheduler_check and creds is not None and creds.euid != 0
            and (h.has("cpuset") or h.v2 and cpuset_on(cg)) and any(t.euid == 0 for t in movers)):
        raise err(errno.EPERM, where)  # before 6.6: security_task_setscheduler, no CAP_SYS_NICE


# ================================================================ cgroup files and mkdir
def check_mkdir(h: SimHierarchy, parent: SimCgroup | None, hierarchy: str, path: str) -> None:
    """mkdir(2) of `path` (absolute, not the root) under `parent` (None: it does not exist),
    `hierarchy` being the word the caller named `h` by: ENAMETOOLONG for a path of PATH_MAX
    bytes or more under the mount, ENOENT for a missing parent, EEXIST for a name a child
    or an interface file already has (`.` and `..` included), EINVAL for a newline in the
    name. Longer names than 255 bytes are taken, as kernfs does."""
    where = f"{hierarchy}:{path}"
    ppath, name = path.rsplit("/", 1)
    if len(h.info.fs_path(path).encode("utf-8", "surrogateescape")) >= PATH_MAX:
        raise err(errno.ENAMETOOLONG, where)
    if parent is None:
        raise err(errno.ENOENT, f"{hierarchy}:{ppath}")
    if name in (".", "..") or name in parent.children or name in interface_files(h, parent.parent is None):
        raise err(errno.EEXIST, where)
    if "\n" in name:
        raise err(errno.EINVAL, f"{where}: a newline in a cgroup name")


def check_threaded(cg: SimCgroup, where: str) -> None:
    """v2 `cgroup.type` = `threaded` of a domain cgroup: it is empty and enables no domain
    controller, and its parent's domain is valid and can become a thread root (EOPNOTSUPP)."""
    assert cg.parent is not None
    dom = cg.parent.dom
    if cg.populated() or (cg.subtree_control - THREADED_CONTROLLERS):
        raise err(errno.EOPNOTSUPP, where)
    if not dom.valid_domain() or not dom.can_be_thread_root():
        raise err(errno.EOPNOTSUPP, where)


def check_subtree_control(cg: SimCgroup, enable: set[str], disable: set[str], where: str) -> None:
    """v2 `cgroup.subtree_control` (`enable` holds only controllers it does not have yet): a
    controller a child still enables cannot go (EBUSY); then cgroup_vet_subtree_control_enable():
    the domain is valid and, below the root, domain controllers need a cgroup that is neither
    threaded nor a thread root (EOPNOTSUPP) and holds no tasks (EBUSY)."""
    if disable & {c for ch in cg.children.values() for c in ch.subtree_control}:
        raise err(errno.EBUSY, f"{where}: a child still enables it")
    if not enable:
        return
    if not cg.dom.valid_domain():
        raise err(errno.EOPNOTSUPP, where)
    if cg.mixable():
        return
    if enable - THREADED_CONTROLLERS:
        if cg.thread_root() or cg.threaded():
            raise err(errno.EOPNOTSUPP, where)
        busy = bool(cg.tids)
    else:  # threaded controllers only: fine inside a (prospective) thread subtree
        busy = not (cg.can_be_thread_root() or cg.threaded()) and bool(cg.tids)
    if busy:
        raise err(errno.EBUSY, f"{where}: no internal processes")


def check_partition(cg: SimCgroup, ncpus: int, where: str) -> None:
    """v2 `cpuset.cpus.partition` = `root`: its CPUs (`cpuset.cpus`) must be ones its parent
    -- the root cgroup or a partition root -- still has, and a parent holding tasks must keep
    one. Unlike the kernel, which then marks the partition `root invalid`, this refuses
    (EINVAL)."""
    parent = cg.parent
    assert parent is not None
    want = cpu_set(cg.cpus)
    left = effective_cpus(ncpus, parent)
    if (parent.parent is not None and parent.partition != "root") or not want or not want <= left:
        raise err(errno.EINVAL, f"{where}: the parent cannot give CPUs {cg.cpus or '(none)'}")
    if want == left and parent.tids:
        raise err(errno.EINVAL, f"{where}: the parent holds tasks and would have no CPU left")


# ================================================================ what a cgroup directory holds
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


def interface_files(h: SimHierarchy, root: bool) -> frozenset[str]:
    """The file names a cgroup directory of `h` holds (a child cannot take one: EEXIST)."""
    names = set(_V2_FILES if h.v2 else _V1_FILES | (_V1_ROOT_FILES if root else frozenset()))
    for c in h.info.controllers:
        names.update(_CONTROLLER_FILES.get(c, ()))
    return frozenset(names)


# ================================================================ v2 cpuset CPUs
def cpuset_on(cg: SimCgroup) -> bool:
    """v2: the cgroup has cpuset files (its parent enables cpuset; the root, when the
    hierarchy has the controller)."""
    if cg.parent is None:
        return "cpuset" in cg.hier.info.controllers
    return "cpuset" in cg.parent.subtree_control


def cpu_set(text: str) -> set[int]:
    """`0-2,5` -> {0, 1, 2, 5}."""
    out: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if part:
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    return out


def cpu_text(cpus: set[int]) -> str:
    """{0, 1, 2, 5} -> `0-2,5` (the kernel's list form; empty: "")."""
    runs: list[str] = []
    for n in sorted(cpus):
        if runs and int(runs[-1].rsplit("-", 1)[-1]) == n - 1:
            runs[-1] = runs[-1].split("-")[0] + f"-{n}"
        else:
            runs.append(str(n))
    return ",".join(runs)


def _available_cpus(ncpus: int, cg: SimCgroup) -> set[int]:
    """The CPUs `cg` may use before it gives any to child partitions (`ncpus`: the machine's)."""
    if cg.parent is None:
        return set(range(ncpus))
    if cg.partition == "root":
        return cpu_set(cg.cpus) & _available_cpus(ncpus, cg.parent)
    parent = effective_cpus(ncpus, cg.parent)
    return (cpu_set(cg.cpus) & parent) or parent


def effective_cpus(ncpus: int, cg: SimCgroup) -> set[int]:
    """v2 `cpuset.cpus.effective`: what it may use, less what its child partitions took."""
    given: set[int] = set()
    for c in cg.children.values():
        if c.partition == "root" and not c.removed:
            given |= cpu_set(c.cpus)
    return _available_cpus(ncpus, cg) - given
