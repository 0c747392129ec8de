"""How the terminal UI moves tasks and changes cgroups on a host, whatever kind it is: the
`Mover` and `CgroupOpsLike` interfaces `Moves` and `CgroupActions` call, and this machine's
`LocalMover` and `ServiceOps` (its `LocalService` behind them). A remote host's mover is in `ctrtui.ui.hosts`.
No Textual here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from ctrtui.engine.opvalues import OpRefusal, OpResult
from ctrtui.engine.values import Plan, Report, ScopeRequest, Via
from ctrtui.model import CgroupRef
from ctrtui.service.local import LocalService

__all__ = ["CgroupOpsLike", "LocalMover", "Mover", "ServiceOps"]


class Mover(Protocol):
    """What the UI moves tasks with: `plan` (a preview, nothing written), `apply` (writes,
    journaled where the tasks live), `undo` (the newest batch of the host's journal, a move or
    a cgroup op: its `Report` or `OpResult`, None when nothing is left). This machine's is a
    `LocalMover`; a remote host's a `RemoteMover`. The UI calls these and nothing else.
    `via="kernel"` asks for the membership-file write where systemd would refuse the move;
    `plan_scope` plans a new transient scope systemd starts holding the tasks (CtrtuiError,
    one sentence, where it cannot: not a systemd host, a name systemd would not take)."""

    @property
    def pid_max(self) -> int: ...

    @property
    def systemd_host(self) -> bool:
        """systemd is PID 1 there and manages a hierarchy: the systemd route and new scopes apply."""
        ...

    def plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan: ...

    def plan_scope(self, pids: Iterable[int | str], scope: ScopeRequest) -> Plan: ...

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report: ...

    def undo(self) -> Report | OpResult | None: ...


class CgroupOpsLike(Protocol):
    """What the UI makes, removes, freezes and thaws cgroups with (`ServiceOps` here,
    `RemoteOps` on a remote host): a predicted refusal, the freezer state, the op itself."""

    def check(self, op: str, ref: CgroupRef) -> OpRefusal | None: ...

    def frozen(self, ref: CgroupRef) -> bool | None: ...

    def run(self, op: str, ref: CgroupRef, undo_of: str | None = None) -> OpResult: ...


class LocalMover:
    """This machine's moves for the UI: its `LocalService` behind the methods a remote host's
    mover has (`Mover`), so the UI never asks which kind it holds, and reaches the engine
    only through the service, as the command line and the agent do. `undo` is the service's:
    the newest batch, a move or a cgroup op."""

    def __init__(self, service: LocalService) -> None:
        self.service = service
        self._nothing_left = ""

    @property
    def pid_max(self) -> int:
        return self.service.pid_max

    @property
    def nothing_left(self) -> str:
        """Why the last `undo` found nothing to undo (empty: it did not say)."""
        return self._nothing_left

    @property
    def systemd_host(self) -> bool:
        from ctrtui.sources.base import systemd_units

        return systemd_units(self.service.backend) is not None

    def plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan:
        return self.service.plan(list(pids), target, threads=threads, expected_start=expected_start, via=via)

    def plan_scope(self, pids: Iterable[int | str], scope: ScopeRequest) -> Plan:
        return self.service.plan_scope(list(pids), scope)

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        return self.service.apply(plan, all_or_nothing=all_or_nothing)

    def undo(self) -> Report | OpResult | None:
        undone = self.service.undo()
        self._nothing_left = undone.nothing_left
        return undone.op if undone.op is not None else undone.report


class ServiceOps:
    """This machine's cgroup ops for the UI (`CgroupOpsLike`) through its `LocalService`: the
    predicted refusal, the freezer state and the op itself (checked, journaled, undoable).
    As a remote host's `RemoteOps`, never an undo: `undo_of` is not taken (the UI undoes
    through `Mover.undo`)."""

    def __init__(self, service: LocalService) -> None:
        self.service = service

    def check(self, op: str, ref: CgroupRef) -> OpRefusal | None:
        return self.service.cgroup_check(op, ref)

    def frozen(self, ref: CgroupRef) -> bool | None:
        return self.service.frozen(ref)

    def run(self, op: str, ref: CgroupRef, undo_of: str | None = None) -> OpResult:
        if undo_of is not None:
            raise ValueError("the UI undoes a cgroup op through its mover's undo")
        return self.service.cgroup_op(op, ref)
