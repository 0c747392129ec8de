"""The one small protocol every backend implements.

A backend is where snapshots come from and where writes go: `cgroupfs.CgroupFS` (the real
`/sys/fs/cgroup`) and `simulated.SimKernel` (an in-memory kernel with the same rules and
errnos). Both pass the same conformance tests (tests/real/test_conformance.py).

Errors from the kernel (or the simulated kernel) surface as `OSError` with `.errno` set to
the kernel's errno; nothing here turns them into text (that is `ctrtui.errors`).
"""

from __future__ import annotations

from typing import Iterable, Protocol, Sequence, runtime_checkable

from ctrtui.model import CgroupState, Creds, Hierarchy, Snapshot, TaskInfo

#: Which membership file a write goes to: (hierarchy version, thread mode) -> file name.
MEMBERSHIP_FILE = {
    (1, False): "cgroup.procs",
    (1, True): "tasks",
    (2, False): "cgroup.procs",
    (2, True): "cgroup.threads",
}


def membership_file(version: int, threads: bool) -> str:
    """The file to write a PID to: process mode -> `cgroup.procs`; thread mode -> v1
    `tasks` / v2 `cgroup.threads`."""
    return MEMBERSHIP_FILE[(version, bool(threads))]


@runtime_checkable
class TaskHandle(Protocol):
    """A stable reference to one task that cannot silently follow a recycled PID
    (a pidfd on the real kernel). Use as a context manager; `close()` is idempotent."""

    pid: int

    def start_time(self) -> int | None:
        """The referenced task's start time (ticks), None if it is gone (reaped)."""

    def alive(self) -> bool:
        """True while the referenced task has not exited (a zombie counts as exited)."""

    def close(self) -> None: ...

    def __enter__(self) -> "TaskHandle": ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class MembershipFile(Protocol):
    """An open membership file (`tasks`, `cgroup.procs`, `cgroup.threads`). Permission was
    judged at open, as the kernel does; the cgroup may be removed while it is open
    (then write and read raise ENODEV)."""

    def write(self, data: bytes) -> int:
        """One unbuffered write; raises OSError with the kernel's errno."""

    def read(self) -> bytes:
        """The whole content, read to EOF."""

    def close(self) -> None: ...


@runtime_checkable
class Backend(Protocol):
    kind: str
    """`real` or `demo`."""

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        """Every mounted hierarchy, v1 and v2, deduplicated, in a stable order."""

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None) -> Snapshot:
        """A new immutable snapshot of the hierarchies named (default: all); with `subtree`,
        only that cgroup path and below in each (its ancestors are not included)."""

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        """Fresh facts about one cgroup for the hooks; None when it does not exist."""

    def cgroup_stats(self, hierarchy: str, path: str) -> dict[str, str]:
        """Stats files that exist for that cgroup, file name -> stripped text (v2
        cgroup.type, cgroup.subtree_control, cgroup.events, pids.current/max,
        memory.current, cpu.stat; v1 freezer.state, cpuset.cpus/mems, pids.current/max,
        cpuacct.usage). Unreadable files are left out. Missing cgroup -> {}."""

    def task_state(self, pid: int) -> TaskInfo | None:
        """Cheap facts of one task (no details); None when no such task exists."""

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        """TaskInfo with details (cmdline, user, cpu_percent, rss) for each PID that
        exists; cached by (pid, start time) so a recycled PID never shows stale details."""

    def task_cgroups(self, pid: int) -> dict[str, str] | None:
        """Hierarchy name -> cgroup path of the task, as in `/proc/PID/cgroup`; None when
        the task does not exist."""

    def thread_ids(self, tgid: int) -> tuple[int, ...]:
        """The TIDs of a thread group (sorted; empty when it is gone)."""

    def open_task(self, pid: int, thread: bool = False) -> TaskHandle:
        """A handle on the task (pidfd). Raises OSError(ESRCH) when there is none."""

    def open_membership(self, hierarchy: str, path: str, filename: str, write: bool = True) -> MembershipFile:
        """Open a membership file like the kernel: ENOENT when the cgroup or file is
        missing, EACCES when the writer may not open it for writing."""

    def write_pid(self, hierarchy: str, path: str, filename: str, data: bytes) -> int:
        """One write of `data` to the membership file `filename` of the cgroup, exactly
        as the kernel takes it: open (EACCES/ENOENT here), one unbuffered write (the
        kernel's errno), close. Returns what write() returned."""

    def writer(self) -> Creds:
        """Credentials the writes are made with."""
