"""Tasks and cgroup references (no I/O)."""

from __future__ import annotations

from ctrtui.model.value import Value, set_field

# Flags from /proc/PID/stat field 9 (include/linux/sched.h).
PF_EXITING = 0x00000004
PF_KTHREAD = 0x00200000
PF_NO_SETAFFINITY = 0x04000000


class TaskRef(Value):
    """A task's identity: a PID alone is recycled (pid_max is small), PID + start time is not
    (mostly: see the engine's pidfd guard). `start_time`: clock ticks after boot
    (`/proc/PID/stat` field 22)."""

    __slots__ = ("pid", "start_time")
    pid: int
    start_time: int

    def __init__(self, pid: int, start_time: int) -> None:
        set_field(self, "pid", pid)
        set_field(self, "start_time", start_time)


class TaskInfo(Value):
    """What is known of one task (thread or process).

    The first group is cheap (`/proc/PID/stat` + `status`) and is what the engine's hooks
    use; `state` is one letter as in `/proc/PID/stat` (R S D T t Z X I ...). The details
    (cmdline, user, cpu_percent, rss: resident set size in bytes) are filled by
    `task_details()` for rows on screen. `ppid`: the parent process (`/proc/PID/stat` field
    4; 0 for PID 1 and kthreadd), the same for every thread of a process.
    """

    __slots__ = ("pid", "tgid", "comm", "state", "uid", "euid", "suid", "start_time", "flags",
                 "threads", "cmdline", "user", "cpu_percent", "rss", "ppid")
    pid: int
    tgid: int
    comm: str
    state: str
    uid: int
    euid: int
    suid: int
    start_time: int
    flags: int
    threads: int
    cmdline: str | None
    user: str | None
    cpu_percent: float | None
    rss: int | None
    ppid: int

    def __init__(self, pid: int, tgid: int, comm: str, state: str, uid: int, euid: int, suid: int,
                 start_time: int, flags: int = 0, threads: int = 1, cmdline: str | None = None,
                 user: str | None = None, cpu_percent: float | None = None, rss: int | None = None,
                 ppid: int = 0) -> None:
        set_field(self, "pid", pid)
        set_field(self, "tgid", tgid)
        set_field(self, "comm", comm)
        set_field(self, "state", state)
        set_field(self, "uid", uid)
        set_field(self, "euid", euid)
        set_field(self, "suid", suid)
        set_field(self, "start_time", start_time)
        set_field(self, "flags", flags)
        set_field(self, "threads", threads)
        set_field(self, "cmdline", cmdline)
        set_field(self, "user", user)
        set_field(self, "cpu_percent", cpu_percent)
        set_field(self, "rss", rss)
        set_field(self, "ppid", ppid)

    @property
    def ref(self) -> TaskRef:
        return TaskRef(self.pid, self.start_time)

    @property
    def is_thread(self) -> bool:
        """A non-leader thread (its TID is not its TGID)."""
        return self.pid != self.tgid

    @property
    def kthread(self) -> bool:
        return bool(self.flags & PF_KTHREAD)

    @property
    def no_setaffinity(self) -> bool:
        return bool(self.flags & PF_NO_SETAFFINITY)

    @property
    def zombie(self) -> bool:
        return self.state in ("Z", "X")

    @property
    def exiting(self) -> bool:
        return bool(self.flags & PF_EXITING) or self.zombie


class CgroupRef(Value):
    """A cgroup named as `HIERARCHY:/path` (e.g. `freezer:/a/b`, `unified:/x`)."""

    __slots__ = ("hierarchy", "path")
    hierarchy: str
    path: str

    def __init__(self, hierarchy: str, path: str) -> None:
        set_field(self, "hierarchy", hierarchy)
        set_field(self, "path", path)

    def __str__(self) -> str:
        return f"{self.hierarchy}:{self.path}"

    @classmethod
    def parse(cls, text: str) -> CgroupRef:
        """Parse `HIERARCHY:/path`. Raises ValueError with a sentence for a person."""
        hier, sep, path = text.partition(":")
        if not sep or not hier:
            raise ValueError(f"'{text}' is not a cgroup: write it as HIERARCHY:/path, e.g. freezer:/mygroup")
        parts = [p for p in path.split("/") if p]  # "" and "a/b" are made absolute below
        if any(p in (".", "..") for p in parts):
            raise ValueError(f"'{text}': '.' and '..' are not allowed in a cgroup path")
        return cls(hier, "/" + "/".join(parts))


class CgroupState(Value):
    """What the engine's hooks need to know of one cgroup (read fresh, not from a snapshot).

    `cgroup_type`: v2 `cgroup.type` (domain, threaded, domain threaded, domain invalid);
    `subtree_control`: v2 controllers enabled for the children; `cpuset_cpus`/`cpuset_mems`:
    v1 cpuset hierarchy (empty string when empty), and `cpuset_cpus` in v2 the
    `cpuset.cpus.effective` of a cgroup with the cpuset controller; `freezer_state`: v1 `freezer.state`
    (THAWED, FREEZING, FROZEN) or v2 `1`/`0` from cgroup.freeze; `writable`: membership files
    (`tasks`, `cgroup.procs`, `cgroup.threads`) the writer may open for writing.
    `freezer_state` says whether the cgroup is frozen, by itself or by an ancestor;
    `self_frozen` whether it is frozen by its own setting (v2 `cgroup.freeze` 1, v1
    `freezer.self_freezing` 1), None without a freezer; `cgroup_id`: its identity, the
    inode number of its directory (on v2 the cgroup id the kernel gives it; never reused
    while the machine runs), None when the backend cannot tell: a cgroup removed and made
    again under the same name has another one.
    """

    __slots__ = ("hierarchy", "path", "version", "cgroup_type", "subtree_control", "cpuset_cpus",
                 "cpuset_mems", "freezer_state", "writable", "self_frozen", "cgroup_id")
    hierarchy: str
    path: str
    version: int
    cgroup_type: str | None
    subtree_control: tuple[str, ...]
    cpuset_cpus: str | None
    cpuset_mems: str | None
    freezer_state: str | None
    writable: frozenset[str]
    self_frozen: bool | None
    cgroup_id: int | None

    def __init__(self, hierarchy: str, path: str, version: int, cgroup_type: str | None = None,
                 subtree_control: tuple[str, ...] = (), cpuset_cpus: str | None = None,
                 cpuset_mems: str | None = None, freezer_state: str | None = None,
                 writable: frozenset[str] = frozenset(), self_frozen: bool | None = None,
                 cgroup_id: int | None = None) -> None:
        set_field(self, "hierarchy", hierarchy)
        set_field(self, "path", path)
        set_field(self, "version", version)
        set_field(self, "cgroup_type", cgroup_type)
        set_field(self, "subtree_control", subtree_control)
        set_field(self, "cpuset_cpus", cpuset_cpus)
        set_field(self, "cpuset_mems", cpuset_mems)
        set_field(self, "freezer_state", freezer_state)
        set_field(self, "writable", writable)
        set_field(self, "self_frozen", self_frozen)
        set_field(self, "cgroup_id", cgroup_id)


class Creds(Value):
    """Who writes: the engine's process credentials."""

    __slots__ = ("uid", "euid")
    uid: int
    euid: int

    def __init__(self, uid: int, euid: int) -> None:
        set_field(self, "uid", uid)
        set_field(self, "euid", euid)
