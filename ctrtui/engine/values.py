"""The engine's values: what a plan says of each input item (`Verdict`, `Plan`) and what
happened to it when applied (`Outcome`, `Report`), with their kinds.

Immutable (`ctrtui.model.value.Value`); `.replace(**changes)` makes a changed copy. The
engine's steps (`planning`, `judge`, `apply`, `undo`) make them; the front ends read them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal, get_args

from ctrtui.model import CgroupRef, Hierarchy, TaskInfo
from ctrtui.model.value import Value, set_field

if TYPE_CHECKING:  # `X | None` at run time needs Python 3.10; the engine runs on 3.9 hosts too
    Identity = tuple[object, ...]
    """What identifies the task a probe read (on the real kernel: pidfs device, inode, start time)."""
    Facts = tuple[TaskInfo | None, str | None, Identity | None]
    """(a task's facts, its cgroup in the plan's hierarchy, its identity); all None: no such task."""

__all__ = ["ARRIVED", "OUTCOMES", "ROUTES", "VERDICT_KINDS", "VIAS", "Outcome", "OutcomeKind", "Plan", "Report",
           "Route", "ScopeRequest", "Verdict", "VerdictKind", "Via"]

Route = Literal["kernel", "systemd", "scope"]
"""How a plan's tasks reach the target: a `kernel` write of the membership file, through
`systemd` (AttachProcessesToUnit), for a target in a delegated unit of a systemd host, or in
a new transient `scope` systemd starts for them (StartTransientUnit: `Plan.scope`)."""
ROUTES: tuple[Route, ...] = get_args(Route)
Via = Literal["auto", "kernel", "scope"]
"""The route a person asked for: `auto` (systemd's where systemd takes the tasks, and a move
systemd would refuse is refused), `kernel` (`--via kernel`: the write, whoever owns the
target, with its risk said) or `scope` (`move --scope NAME`: a new transient scope)."""
VIAS: tuple[Via, ...] = get_args(Via)

VerdictKind = Literal["move", "already-there", "refused", "vanished"]
"""What the plan says of one input item: it would `move`; it is `already-there` (nothing to
do); it is `refused` (a hook, the parser or the policy says no; `errno` says why); it
`vanished` (the task is gone: it does not exist, has exited, or its PID now names another
task; errno ESRCH)."""

OutcomeKind = Literal["moved", "already-there", "refused", "vanished", "not-moved", "rolled-back"]
"""What happened to one input item: `moved` (verified in the target); `already-there`;
`refused` (by the plan, or the kernel's errno: hook `kernel`); `vanished` (the task was gone
when the plan or the write looked, or exited during the move; errno ESRCH); `not-moved` (the
kernel accepted the write and the task is still elsewhere, or an all-or-nothing batch did not
try it); `rolled-back` (moved, then moved back by a failed all-or-nothing batch)."""

VERDICT_KINDS: tuple[VerdictKind, ...] = get_args(VerdictKind)
OUTCOMES: tuple[OutcomeKind, ...] = get_args(OutcomeKind)
ARRIVED: tuple[OutcomeKind, ...] = ("moved", "already-there")
"""The outcomes of an item that ended in the target."""


class Verdict(Value):
    """What the plan says of one input item. `kind`: a `VerdictKind`; for a
    refusal `errno` (name, or None when the kernel would not refuse but ctrtui does), `hook`
    (who decided), `reason` and `advice` are for people. `source`: the task's cgroup in the
    target's hierarchy when planned. `identity`: what the backend's `task_probe` said
    identifies the task it read (on the real kernel: pidfd device, inode and start time), or
    None; `apply` compares it with the pidfd it opens instead of reading the start time again.
    Immutable; `.replace(**changes)` makes a changed copy."""

    __slots__ = ("text", "pid", "kind", "errno", "hook", "reason", "advice", "warnings", "start_time",
                 "source", "task", "identity")
    text: str
    pid: int | None
    kind: VerdictKind
    errno: str | None
    hook: str | None
    reason: str
    advice: str
    warnings: tuple[str, ...]
    start_time: int | None
    source: str | None
    task: TaskInfo | None
    identity: Identity | None

    def __init__(self, text: str, pid: int | None, kind: VerdictKind, errno: str | None = None, hook: str | None = None,
                 reason: str = "", advice: str = "", warnings: tuple[str, ...] = (), start_time: int | None = None,
                 source: str | None = None, task: TaskInfo | None = None, identity: Identity | None = None) -> None:
        set_field(self, "text", text)
        set_field(self, "pid", pid)
        set_field(self, "kind", kind)
        set_field(self, "errno", errno)
        set_field(self, "hook", hook)
        set_field(self, "reason", reason)
        set_field(self, "advice", advice)
        set_field(self, "warnings", warnings)
        set_field(self, "start_time", start_time)
        set_field(self, "source", source)
        set_field(self, "task", task)
        set_field(self, "identity", identity)


class ScopeRequest(Value):
    """A new transient scope for running tasks (`move --scope NAME [--slice SLICE] [-p P=V]`):
    its unit `name` (`*.scope`), its `slice` (None: systemd's default, system.slice for root)
    and `properties` as `systemd-run -p` takes them (checked by systemd_props.parse_properties)."""

    __slots__ = ("name", "slice", "properties")
    name: str
    slice: str | None
    properties: tuple[str, ...]

    def __init__(self, name: str, slice: str | None = None, properties: tuple[str, ...] = ()) -> None:
        set_field(self, "name", name)
        set_field(self, "slice", slice)
        set_field(self, "properties", tuple(properties))


class Plan(Value):
    """One verdict per input item, same order, for moving into `target`. `created`:
    `time.time()` when planned. `route`: how the accepted PIDs go there, `kernel` (a write
    to the membership file) or `systemd` (AttachProcessesToUnit: the target lies in a
    delegated unit of a systemd host, see ctrtui.engine.systemdroute)."""

    __slots__ = ("target", "threads", "verdicts", "hierarchy", "created", "route", "scope")
    target: CgroupRef
    threads: bool
    verdicts: tuple[Verdict, ...]
    hierarchy: Hierarchy
    created: float
    route: Route
    scope: ScopeRequest | None

    def __init__(self, target: CgroupRef, threads: bool, verdicts: tuple[Verdict, ...], hierarchy: Hierarchy,
                 created: float | None = None, route: Route = "kernel", scope: ScopeRequest | None = None) -> None:
        set_field(self, "target", target)
        set_field(self, "threads", threads)
        set_field(self, "verdicts", verdicts)
        set_field(self, "hierarchy", hierarchy)
        set_field(self, "created", time.time() if created is None else created)
        set_field(self, "route", route)
        set_field(self, "scope", scope)

    @property
    def accepted(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.kind == "move")

    @property
    def ok(self) -> bool:
        """Every item would end in the target (no verdict is refused or vanished)."""
        return all(v.kind == "move" or v.kind == "already-there" for v in self.verdicts)

    def summary(self) -> dict[VerdictKind, int]:
        counts = dict.fromkeys(VERDICT_KINDS, 0)
        for v in self.verdicts:
            counts[v.kind] += 1
        return counts


class Outcome(Value):
    """What happened to one input item. `outcome`: an `OutcomeKind` (moved, already-there,
    refused, vanished, not-moved, rolled-back; see there). `target`: the target cgroup path (in the
    report's hierarchy)."""

    __slots__ = ("text", "pid", "outcome", "errno", "hook", "reason", "advice", "warnings", "source",
                 "target", "start_time")
    text: str
    pid: int | None
    outcome: OutcomeKind
    errno: str | None
    hook: str | None
    reason: str
    advice: str
    warnings: tuple[str, ...]
    source: str | None
    target: str | None
    start_time: int | None

    def __init__(self, text: str, pid: int | None, outcome: OutcomeKind, errno: str | None = None,
                 hook: str | None = None, reason: str = "", advice: str = "", warnings: tuple[str, ...] = (),
                 source: str | None = None, target: str | None = None, start_time: int | None = None) -> None:
        set_field(self, "text", text)
        set_field(self, "pid", pid)
        set_field(self, "outcome", outcome)
        set_field(self, "errno", errno)
        set_field(self, "hook", hook)
        set_field(self, "reason", reason)
        set_field(self, "advice", advice)
        set_field(self, "warnings", warnings)
        set_field(self, "source", source)
        set_field(self, "target", target)
        set_field(self, "start_time", start_time)


class Report(Value):
    """The outcome of one applied batch, one `Outcome` per verdict in order. `warnings`:
    problems of the batch as a whole (an interrupted batch recovered, outcomes that could not
    be recorded). `journaled`: the batch's intent was written and synced to a journal file
    before anything moved (False: `--no-journal`, or a journal kept in memory).
    `interrupted`: the signal (e.g. "SIGINT") that stopped the batch between two PIDs."""

    __slots__ = ("batch_id", "target", "threads", "outcomes", "rolled_back", "undo_of", "warnings", "journaled",
                 "interrupted")
    batch_id: str
    target: CgroupRef
    threads: bool
    outcomes: tuple[Outcome, ...]
    rolled_back: bool
    undo_of: str | None
    warnings: tuple[str, ...]
    journaled: bool
    interrupted: str | None

    def __init__(self, batch_id: str, target: CgroupRef, threads: bool, outcomes: tuple[Outcome, ...],
                 rolled_back: bool = False, undo_of: str | None = None, warnings: tuple[str, ...] = (),
                 journaled: bool = False, interrupted: str | None = None) -> None:
        set_field(self, "batch_id", batch_id)
        set_field(self, "target", target)
        set_field(self, "threads", threads)
        set_field(self, "outcomes", outcomes)
        set_field(self, "rolled_back", rolled_back)
        set_field(self, "undo_of", undo_of)
        set_field(self, "warnings", warnings)
        set_field(self, "journaled", journaled)
        set_field(self, "interrupted", interrupted)

    def counts(self) -> dict[OutcomeKind, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for o in self.outcomes:
            counts[o.outcome] += 1
        return counts

    @property
    def ok(self) -> bool:
        """Every PID ended in the target."""
        return all(o.outcome in ARRIVED for o in self.outcomes)
