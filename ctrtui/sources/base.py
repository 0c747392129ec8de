"""The backend contract: what every backend reads, what a writing one writes, and the
optional capabilities a backend declares.

A backend is where snapshots come from and where writes go: `cgroupfs.CgroupFS` (the real
`/sys/fs/cgroup`) and `simulated.SimKernel` (an in-memory kernel with the same rules and
errnos; the demo and hostile worlds are SimKernels). Both pass the same conformance tests
(tests/real/test_conformance.py) and the contract tests (tests/unit/test_backend_contract.py).
`ctrtui.sources.open_backend(spec)` opens one by name; docs/backends.md tells the whole story.

The contract has three parts:

- `Reader`: what every backend answers (hierarchies, snapshots, facts of tasks and cgroups,
  `pid_max`), and who it is (`identity`, `kind`, `capabilities`).
- `Writer`: membership writes (`open_membership`, `write_pid`), the pidfd guard
  (`open_task`), the writer's credentials (`writer()`) and whether it may write at all
  (`write_access()`). A backend that writes declares `WRITE`; `Backend` is both.
- Optional capabilities, each a small Protocol of its own (`TaskProber`, `ExitPoller`):
  faster or stronger ways to do what the Reader and Writer already allow, which the engine
  uses when a backend declares them and does without otherwise.

Why declared, and why as a set of names (`capabilities: frozenset[str]`) rather than found
with `getattr`/`hasattr` or with `isinstance` on runtime-checkable Protocols: a probe finds
whatever happens to carry the name (a wrapper that forwards every attribute, a helper method
named alike) and says nothing about its signature; `isinstance` on a Protocol only checks that
the names exist and costs a scan of the members on each call. A declared set is what the
backend promises: the conformance test holds it to that promise (every declared capability's
members exist, are callable and take the protocol's parameters; no undeclared capability's
members are present), the engine asks one set membership once, and the set is plain strings,
so a backend on another host can send its own in a handshake and a recording can say it has
none. Each capability is a separate Protocol, so that code using one is typed against exactly
what it needs (`prober(backend)` returns a `TaskProber` or None).

Errors from the kernel (or the simulated kernel) surface as `OSError` with `.errno` set to
the kernel's errno; nothing here turns them into text (that is `ctrtui.errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from ctrtui.model import CgroupState, Container, Creds, Hierarchy, Snapshot, TaskInfo
from ctrtui.sources import CAPABILITIES, CGROUP_ADMIN, POLL_EXITS, SYSTEMD_UNITS, TASK_PROBES, WRITE, read_only_reason

if TYPE_CHECKING:  # typing.TypeAlias is Python 3.10+; this module travels to 3.9 hosts (docs/remote.md)
    from typing import TypeAlias

    from ctrtui.sources.systemd import Placement

__all__ = [
    "Backend", "CAPABILITIES", "CGROUP_ADMIN", "CgroupAdmin", "ExitPoller", "MembershipFile", "POLL_EXITS",
    "PROTOCOLS", "Probe", "ProbeHeld", "Reader", "SYSTEMD_UNITS", "SystemdUnits", "TASK_PROBES", "TaskHandle",
    "TaskProber", "WRITE", "Writer", "admin_of", "contract_problems", "declared", "exit_poller", "membership_file",
    "prober", "protocol_problems", "protocols_of", "read_only_reason", "systemd_units", "writer_of",
]

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

    def exited(self) -> bool:
        """True once the task has exited (a zombie, or reaped), as a pidfd's POLLIN says."""

    def reaped(self) -> bool:
        """True once the task is reaped: its PID is free (or already another task's)."""

    def identity(self) -> tuple[int, int] | None:
        """(device, inode) naming the task for the life of the system where the backend
        has such a name (pidfs, Linux 6.9+), else None: then the start time decides."""

    def close(self) -> None: ...

    def __enter__(self) -> TaskHandle: ...

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
class Reader(Protocol):
    """What every backend answers."""

    kind: str
    """What sort of backend it is: `real` or `demo` (snapshots carry it as `backend`)."""

    identity: str
    """Which system it is, as its spec names it (`local`, `demo`, `demo:hostile`, later
    `ssh:user@host:port`): the journal is chosen by it and its records carry it, so one
    backend never undoes another's batch."""

    capabilities: frozenset[str]
    """The optional capabilities it implements (`WRITE`, `TASK_PROBES`, `POLL_EXITS`)."""

    @property
    def pid_max(self) -> int:
        """The system's pid_max: every PID is below it."""

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        """Every mounted hierarchy, v1 and v2, deduplicated, in a stable order."""

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None) -> Snapshot:
        """A new immutable snapshot of the hierarchies named (default: all); with `subtree`,
        only that cgroup path and below in each (its ancestors are not included)."""

    def read_cgroups(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Container | None]:
        """Each named cgroup of `hierarchy` alone, without walking below it: its child
        list and members, as a snapshot would hold them; None for one that does not exist.
        The UI's cheap per-tick read of what is on screen."""

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        """Fresh facts about one cgroup for the hooks; None when it does not exist."""

    def cgroup_stats(self, hierarchy: str, path: str, names: Collection[str] | None = None) -> dict[str, str]:
        """Stats files that exist for that cgroup, file name -> stripped text (v2
        cgroup.type, cgroup.subtree_control, cgroup.events, pids.current/max,
        memory.current, cpu.stat, io.stat; v1 freezer.state, cpuset.cpus/mems,
        pids.current/max, cpuacct.usage, memory.usage_in_bytes,
        blkio.throttle.io_service_bytes; v2 memory.swap.current, cpu/memory/io.pressure).
        The root ("/") also has the machine's figures under `model.cgstats.PROC_FILES`
        names (/proc/meminfo, /proc/loadavg, /proc/stat, /proc/pressure/*: those its own
        files lack). Only read, never written. Unreadable files are left out. Missing
        cgroup -> {}. With `names`, only those of these files are read (the rest, and any
        name not among them, are not: `model.cgstats.FIGURE_FILES` reads the figures alone)."""

    def task_state(self, pid: int) -> TaskInfo | None:
        """Cheap facts of one task (no details); None when no such task exists."""

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        """TaskInfo with details (cmdline, user, cpu_percent, rss) for each PID that
        exists; cached by (pid, start time) so a recycled PID never shows stale details."""

    def task_cgroups(self, pid: int) -> dict[str, str] | None:
        """Hierarchy name -> cgroup path of the task, as in `/proc/PID/cgroup`; None when
        the task does not exist."""

    def task_cgroup(self, pid: int, hierarchy: str) -> str | None:
        """`task_cgroups(pid)[hierarchy]` (the hierarchy by name or controller), reading
        only what that needs; None when the task does not exist."""

    def thread_ids(self, tgid: int) -> tuple[int, ...]:
        """The TIDs of a thread group (sorted; empty when it is gone)."""


@runtime_checkable
class Writer(Protocol):
    """What a backend that writes (declares `WRITE`) does."""

    def write_access(self) -> str | None:
        """Why moves must not be made through this backend (a few words, shown as
        `READ-ONLY (...)`: e.g. `not root`), or None when they may."""

    def writer(self) -> Creds:
        """Credentials the writes are made with."""

    def open_task(self, pid: int, thread: bool = False) -> TaskHandle:
        """A handle on the task (pidfd). Raises OSError(ESRCH) when there is none."""

    def open_membership(self, hierarchy: str, path: str, filename: str, write: bool = True) -> MembershipFile:
        """Open a membership file like the kernel: ENOENT when the cgroup or file is
        missing, EACCES when the writer may not open it for writing."""

    def write_pid(self, hierarchy: str, path: str, filename: str, data: bytes) -> int:
        """One write of `data` to the membership file `filename` of the cgroup, exactly
        as the kernel takes it: open (EACCES/ENOENT here), one unbuffered write (the
        kernel's errno), close. Returns what write() returned."""


@runtime_checkable
class Backend(Reader, Writer, Protocol):
    """A backend that reads and writes: what the engine works on."""


# The aliases are strings: `str | None` is not a runtime expression on Python 3.9.
Probe: TypeAlias = "tuple[TaskInfo, str | None, tuple[int, int, int] | None]"
"""(facts, cgroup in the hierarchy asked, identity: pidfs device, inode, start time)."""
ProbeHeld: TypeAlias = "tuple[TaskInfo, str | None, tuple[int, int, int] | None, TaskHandle | None]"
"""A `Probe` plus the handle the facts were read under (kept only when asked)."""


@runtime_checkable
class TaskProber(Protocol):
    """Capability `TASK_PROBES`: the facts the engine's plan needs of a task, read under
    a handle on it so that they are provably its own (the real kernel: a pidfd around
    three /proc reads), one task or a batch at a time."""

    def task_probe(self, pid: int, hierarchy: str) -> Probe | None:
        """(facts, cgroup in `hierarchy`, identity) of one task; None when there is none."""

    def task_probes(self, pids: Iterable[int], hierarchy: str, keep: bool = False) -> dict[int, ProbeHeld | None]:
        """`task_probe` for many PIDs: pid -> (facts, cgroup, identity, handle) or None.
        With `keep`, `handle` is the open handle the facts were read under (the caller
        closes it); else None."""


@runtime_checkable
class ExitPoller(Protocol):
    """Capability `POLL_EXITS`: which of many held tasks have exited, in one call (the
    real kernel: one poll(2) of all the pidfds) instead of one `alive()` per handle."""

    def tasks_exited(self, handles: Sequence[TaskHandle]) -> list[bool]:
        """For each handle: has its task exited (a zombie, or reaped)?"""


@runtime_checkable
class CgroupAdmin(Protocol):
    """Capability `CGROUP_ADMIN`: create, remove, freeze and thaw cgroups, with the kernel's
    errnos (mkdir: EEXIST for a name taken by a cgroup or an interface file, `.` and `..`
    included; EINVAL for a name holding a newline; ENOENT for a missing parent; ENAMETOOLONG
    for a path of PATH_MAX bytes or more. rmdir: EBUSY while it holds tasks or children;
    ENOENT when it is gone; EBUSY for the root. Freezing: ENOENT where the cgroup has no
    freezer file: the root, or a v1 hierarchy without the freezer controller). What ctrtui
    allows on top of the kernel (a name of at most 255 bytes) is the engine's (engine/ops.py)."""

    def make_cgroup(self, hierarchy: str, path: str) -> None:
        """mkdir(2) of the cgroup `path` (its parent must exist)."""

    def remove_cgroup(self, hierarchy: str, path: str) -> None:
        """rmdir(2) of the cgroup `path`."""

    def set_frozen(self, hierarchy: str, path: str, frozen: bool) -> None:
        """Freeze (True) or thaw (False): v1 `freezer.state` FROZEN/THAWED, v2 `cgroup.freeze` 1/0."""


@runtime_checkable
class SystemdUnits(Protocol):
    """Capability `SYSTEMD_UNITS`: systemd is PID 1 and manages a hierarchy (v2, or
    `name=systemd` on v1). It says which unit owns a cgroup there and whether the unit is
    delegated, and moves running processes into a delegated unit (or a cgroup below it) the
    way systemd expects (`AttachProcessesToUnit`), so that systemd knows they are there."""

    def unit_placement(self, hierarchy: str, path: str) -> Placement | None:
        """The unit owning the cgroup `path` of `hierarchy`, its kind, the subcgroup below its
        own cgroup and whether it is delegated; None where systemd does not manage
        `hierarchy` or no unit owns `path`."""

    def attach_to_unit(self, hierarchy: str, path: str, pids: Sequence[int]) -> None:
        """systemd moves the processes `pids` into the cgroup `path` (a delegated unit's or
        one below it). systemd's refusal raises `ctrtui.sources.systemd.SystemdError`."""

    def systemd_hierarchy(self) -> str:
        """The name of the hierarchy systemd manages (`unified` or `name=systemd`)."""

    def start_scope(self, name: str, pids: Sequence[int], slice: str | None, properties: Sequence[str]) -> str:
        """systemd starts the transient scope `name` holding the running processes `pids`, in
        `slice` (None: its default), with `properties` (`PROP=VALUE`); its cgroup path in
        `systemd_hierarchy()`. A refusal raises SystemdError (PropertyError for a property)."""


PROTOCOLS: dict[str, type] = {WRITE: Writer, TASK_PROBES: TaskProber, POLL_EXITS: ExitPoller,
                              CGROUP_ADMIN: CgroupAdmin, SYSTEMD_UNITS: SystemdUnits}
"""Capability name -> the Protocol a backend declaring it implements."""
assert set(PROTOCOLS) == CAPABILITIES


def protocols_of(backend: Reader) -> list[type]:
    """The Protocols `backend` says it implements: `Reader`, then one per declared capability."""
    return [Reader] + [PROTOCOLS[c] for c in sorted(backend.capabilities) if c in PROTOCOLS]


def declared(backend: Reader, capability: str) -> bool:
    """True when `backend` declares `capability` (one of `CAPABILITIES`)."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown backend capability {capability!r}; known: {', '.join(sorted(CAPABILITIES))}")
    return capability in backend.capabilities


def writer_of(backend: Reader) -> Writer | None:
    """The backend as a `Writer` when it declares `WRITE`, else None."""
    return cast(Writer, backend) if WRITE in backend.capabilities else None


def prober(backend: Reader) -> TaskProber | None:
    """The backend as a `TaskProber` when it declares `TASK_PROBES`, else None."""
    return cast(TaskProber, backend) if TASK_PROBES in backend.capabilities else None


def exit_poller(backend: Reader) -> ExitPoller | None:
    """The backend as an `ExitPoller` when it declares `POLL_EXITS`, else None."""
    return cast(ExitPoller, backend) if POLL_EXITS in backend.capabilities else None


def admin_of(backend: Reader) -> CgroupAdmin | None:
    """The backend as a `CgroupAdmin` when it declares `CGROUP_ADMIN`, else None."""
    return cast(CgroupAdmin, backend) if CGROUP_ADMIN in backend.capabilities else None


def systemd_units(backend: Reader) -> SystemdUnits | None:
    """The backend as `SystemdUnits` when it declares `SYSTEMD_UNITS`, else None."""
    return cast(SystemdUnits, backend) if SYSTEMD_UNITS in backend.capabilities else None


def _members(protocol: type) -> dict[str, Callable[..., object] | property | None]:
    """Name -> the protocol's own definition (a function, a property, or None for a data
    member) of every member `protocol` and its protocol bases declare."""
    out: dict[str, Callable[..., object] | property | None] = {}
    for klass in reversed(protocol.__mro__):
        if klass is object or klass is Protocol or not getattr(klass, "_is_protocol", False):
            continue
        for name in getattr(klass, "__annotations__", {}):
            out.setdefault(name, None)
        for name, value in vars(klass).items():
            if not name.startswith("_") or name in ("__enter__", "__exit__"):
                if callable(value) or isinstance(value, property):
                    out[name] = value
    return out


def protocol_problems(obj: object, protocol: type, label: str = "") -> list[str]:
    """What keeps `obj` from implementing `protocol`, one sentence each: every member is
    there; methods are callable and take the protocol's parameters (same names and kinds, in
    order, same defaults; extra ones only with defaults)."""
    import inspect

    label = label or protocol.__name__
    problems: list[str] = []
    for name, spec in _members(protocol).items():
        if not hasattr(obj, name):
            problems.append(f"{label}: {name} is missing")
            continue
        if spec is None or isinstance(spec, property):
            continue
        got = getattr(obj, name)
        if not callable(got):
            problems.append(f"{label}: {name} is not callable")
            continue
        want = list(inspect.signature(spec).parameters.values())[1:]  # without self
        have = list(inspect.signature(got).parameters.values())
        for i, p in enumerate(want):
            if p.kind is p.VAR_POSITIONAL:
                continue
            if i >= len(have) or have[i].name != p.name or have[i].kind != p.kind:
                problems.append(f"{label}: {name}{inspect.signature(got)} does not take the parameters "
                                f"{name}{inspect.signature(spec)} (without self)")
                break
            if p.default is not p.empty and have[i].default != p.default:
                problems.append(f"{label}: {name}'s {p.name} must default to {p.default!r}")
        else:
            extra = [q.name for q in have[len(want):] if q.default is q.empty
                     and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD)]
            if extra and not any(p.kind is p.VAR_POSITIONAL for p in want):
                problems.append(f"{label}: {name} has required parameters the protocol does not pass: "
                                f"{', '.join(extra)}")
    return problems


def contract_problems(backend: object) -> list[str]:
    """What keeps `backend` from keeping the contract it declares, one sentence each (empty:
    it keeps it). Checked: `kind` and `identity` are non-empty strings; `capabilities` is a
    frozenset of known names; every member of `Reader` and of each declared capability's
    Protocol is there, methods callable with the protocol's parameters (same names and
    kinds, in order; extra ones only with defaults); `pid_max` an int above 300; no method of
    an undeclared capability is present (it would go unused: the engine asks the set)."""
    problems: list[str] = []
    for name in ("kind", "identity"):
        value = getattr(backend, name, None)
        if not isinstance(value, str) or not value:
            problems.append(f"{name} must be a non-empty string, not {value!r}")
    caps = getattr(backend, "capabilities", None)
    if not isinstance(caps, frozenset):
        return problems + [f"capabilities must be a frozenset of {sorted(CAPABILITIES)}, not {caps!r}"]
    problems += [f"unknown capability {c!r} declared" for c in sorted(caps - CAPABILITIES)]
    wanted: list[tuple[str, type]] = [("Reader", Reader)] + [(c, PROTOCOLS[c]) for c in sorted(caps & CAPABILITIES)]
    for label, protocol in wanted:
        problems += protocol_problems(backend, protocol, label)
    pid_max = getattr(backend, "pid_max", None)
    if type(pid_max) is not int or pid_max <= 300:
        problems.append(f"pid_max must be an int above 300, not {pid_max!r}")
    for cap in sorted(CAPABILITIES - caps):
        present = [n for n, spec in _members(PROTOCOLS[cap]).items() if spec is not None and hasattr(backend, n)]
        if present:
            problems.append(f"{', '.join(present)} present but capability {cap!r} not declared: declare it, or the "
                            "engine never uses it")
    return problems
