"""How the terminal UI moves tasks and changes cgroups on a host, whatever kind it is: the
`Mover` and `CgroupOpsLike` interfaces `Moves` and `CgroupActions` call, and this machine's
`LocalMover` (its `AttachEngine` behind them). A remote host's mover is in `ctrtui.ui.hosts`.
No Textual here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from ctrtui.engine import AttachEngine, Plan, Report
from ctrtui.engine.cgroupops import OpRefusal, OpResult
from ctrtui.engine.values import ScopeRequest, Via
from ctrtui.model import CgroupRef

__all__ = ["CgroupOpsLike", "LocalMover", "Mover"]


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
    """What the UI makes, removes, freezes and thaws cgroups with (`CgroupOps` here,
    `RemoteOps` on a remote host): a predicted refusal, the freezer state, the op itself."""

    def check(self, op: str, ref: CgroupRef) -> OpRefusal | None: ...

    def frozen(self, ref: CgroupRef) -> bool | None: ...

    def run(self, op: str, ref: CgroupRef, undo_of: str | None = None) -> OpResult: ...


class LocalMover:
    """This machine's moves for the UI: its `AttachEngine` behind the methods a remote host's
    mover has (`Mover`), so the UI never asks which kind it holds. `undo` is
    `ctrtui.engine.cgroupops.undo_any`: the newest batch, a move or a cgroup op."""

    def __init__(self, engine: AttachEngine) -> None:
        self.engine = engine

    @property
    def pid_max(self) -> int:
        return self.engine.pid_max

    @property
    def nothing_left(self) -> str:
        """Why the last `undo` found nothing to undo (empty: it did not say)."""
        return self.engine.nothing_left

    @property
    def systemd_host(self) -> bool:
        from ctrtui.sources.base import systemd_units

        return systemd_units(self.engine.backend) is not None

    def plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan:
        return self.engine.plan(list(pids), target, threads=threads, expected_start=expected_start, via=via)

    def plan_scope(self, pids: Iterable[int | str], scope: ScopeRequest) -> Plan:
        return self.engine.plan_scope(list(pids), scope)

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        return self.engine.apply(plan, all_or_nothing=all_or_nothing)

    def undo(self) -> Report | OpResult | None:
        from ctrtui.engine.cgroupops import undo_any

        result: Report | OpResult | None = undo_any(self.engine)
        return result

