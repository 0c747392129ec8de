"""Tasks and cgroup references (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Flags from /proc/PID/stat field 9 (include/linux/sched.h).
PF_EXITING = 0x00000004
PF_KTHREAD = 0x00200000
PF_NO_SETAFFINITY = 0x04000000


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A task's identity: a PID alone is recycled (pid_max is small), PID + start time is not
    (mostly: see the engine's pidfd guard)."""

    pid: int
    start_time: int
    """Clock ticks after boot (`/proc/PID/stat` field 22)."""


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """What is known of one task (thread or process).

    The first group is cheap (`/proc/PID/stat` + `status`) and is what the engine's hooks
    use; the `details` group (cmdline, user, cpu, rss) is filled for rows on screen.
    """

    pid: int
    tgid: int
    comm: str
    state: str
    """One letter as in `/proc/PID/stat`: R S D T t Z X I ..."""
    uid: int
    euid: int
    suid: int
    start_time: int
    flags: int = 0
    threads: int = 1
    # details, filled by task_details()
    cmdline: str | None = None
    user: str | None = None
    cpu_percent: float | None = None
    rss: int | None = None
    """Resident set size in bytes."""

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


@dataclass(frozen=True, slots=True)
class CgroupRef:
    """A cgroup named as `HIERARCHY:/path` (e.g. `freezer:/a/b`, `unified:/x`)."""

    hierarchy: str
    path: str

    def __str__(self) -> str:
        return f"{self.hierarchy}:{self.path}"

    @classmethod
    def parse(cls, text: str) -> "CgroupRef":
        """Parse `HIERARCHY:/path`. Raises ValueError with a sentence for a person."""
        hier, sep, path = text.partition(":")
        if not sep or not hier:
            raise ValueError(f"{text!r} is not a cgroup: write it as HIERARCHY:/path, e.g. freezer:/mygroup")
        if not path:
            path = "/"
        if not path.startswith("/"):
            path = "/" + path
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise ValueError(f"{text!r}: '.' and '..' are not allowed in a cgroup path")
        return cls(hier, "/" + "/".join(parts))


@dataclass(frozen=True, slots=True)
class CgroupState:
    """What the engine's hooks need to know of one cgroup (read fresh, not from a snapshot)."""

    hierarchy: str
    path: str
    version: int
    cgroup_type: str | None = None
    """v2 `cgroup.type`: domain, threaded, domain threaded, domain invalid."""
    subtree_control: tuple[str, ...] = ()
    """v2 controllers enabled for the children."""
    cpuset_cpus: str | None = None
    """v1 cpuset hierarchy: `cpuset.cpus` (empty string when empty)."""
    cpuset_mems: str | None = None
    freezer_state: str | None = None
    """v1 `freezer.state` (THAWED, FREEZING, FROZEN) or v2 `1`/`0` from cgroup.freeze."""
    writable: frozenset[str] = field(default_factory=frozenset)
    """Membership files (`tasks`, `cgroup.procs`, `cgroup.threads`) the writer may open for writing."""


@dataclass(frozen=True, slots=True)
class Creds:
    """Who writes: the engine's process credentials."""

    uid: int
    euid: int
