"""The undo step: choose the batch to undo, plan its tasks' way back, say what cannot go back.

`undo` moves back, through the same engine (plan, hooks, apply, journal), what the newest
undoable batch (or a named one) moved and is not undone yet; `choose_undoable` skips, and
records once, a batch none of whose tasks can go back because every cgroup they came from is
gone. The engine is reached through `UndoSide` (what `AttachEngine` offers), so this module
imports no engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ctrtui.engine.batches import ensure_ours, recover_open
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef, parent_path
from ctrtui.text import display

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ctrtui.engine.journal import Journal
    from ctrtui.engine.records import Batch, Record
    from ctrtui.engine.values import Plan, Report, Verdict, Via
    from ctrtui.model import Hierarchy

__all__ = ["UndoSide", "choose_undoable", "undo"]


class UndoSide(Protocol):
    """What undo needs of the engine (`AttachEngine` has it)."""

    backend: Any
    journal: Journal
    notes: list[str]
    warnings: list[str]
    skipped: list[str]
    nothing_left: str

    def hierarchy(self, word: str) -> Hierarchy: ...

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan: ...

    def run_plans(self, plans: Sequence[Plan], all_or_nothing: bool, undo_of: str | None) -> Report: ...


def undo(eng: UndoSide, batch: str | None = None) -> Report | None:
    """Move back what the newest undoable batch (or the batch named `batch`) moved and is
    not undone yet; None when there is nothing left to undo (then `eng.nothing_left` says
    why). See `AttachEngine.undo`."""
    eng.nothing_left = ""
    with eng.journal.locked():
        eng.notes.extend(recover_open(eng.journal, eng.backend))
        found = choose_undoable(eng, batch)
        if found is not None and found.op is None and found.origin_lost() and _lost(eng, found):
            eng.nothing_left = (  # told already, and recorded once: not written again
                f"batch {found.id} cannot be undone: the cgroups its tasks came from are gone "
                f"({_origins_shown(found)}); `ctrtui log` says `cannot be undone: origin gone`, and "
                "`ctrtui move` places its tasks elsewhere")
            found = None
        elif found is None:
            where = display(eng.journal.path or "(memory)")
            eng.nothing_left = (f"batch {batch} has nothing left to undo" if batch else
                                f"the journal {where} has no batch left to undo")
            if eng.skipped:  # said here, not again among the warnings
                eng.nothing_left += "; " + "; ".join(eng.skipped)
                eng.notes[:] = [n for n in eng.notes if n not in eng.skipped]
        if found is None:
            if eng.notes:
                eng.warnings.extend(eng.notes)
                eng.notes.clear()
            return None
        ensure_ours(eng.journal, found, eng.backend, "undo")
        if found.op is not None:
            raise CtrtuiError(f"batch {found.id} is a cgroup {found.op}, not a move: undo it with `ctrtui undo` "
                              "(ctrtui.engine.cgroupops.undo_any)")
        try:
            eng.hierarchy(found.hierarchy)
        except CtrtuiError:
            raise CtrtuiError(f"batch {found.id} of the journal {display(eng.journal.path or '(memory)')} "
                              "moved tasks in "
                              f"the hierarchy '{display(found.hierarchy)}', which is not mounted now; mount it, or "
                              "undo another batch (`ctrtui log` lists them)") from None
        plans = _undo_plans(eng, found)
        if not plans:
            eng.nothing_left = f"batch {found.id} has no task whose cgroup before the move is known"
            return None
        return eng.run_plans(plans, False, found.id)


def choose_undoable(eng: UndoSide, batch: str | None = None) -> Batch | None:
    """The batch an undo takes: the one named, else the newest with something left to
    undo -- skipping, and saying which (in the next report's warnings), each batch none of
    whose tasks can go back because every cgroup they came from is gone. Such a batch is
    recorded once as a refused undo (`ctrtui log`: cannot be undone: origin gone)."""
    eng.skipped = []
    if batch is not None:
        return eng.journal.find_undoable(batch)
    skipped: set[str] = set()
    while True:
        b = next((c for c in eng.journal.undoable_batches() if c.id not in skipped), None)
        if b is None or b.op is not None or not _lost(eng, b):
            return b
        skipped.add(b.id)
        _skip_lost(eng, b)


def _origins(b: Batch) -> set[str]:
    return {r["from"] for r in b.remaining() if r["from"] is not None}


def _origins_shown(b: Batch) -> str:
    origins = sorted(_origins(b))
    more = f" and {len(origins) - 3} more" if len(origins) > 3 else ""
    return ", ".join(f"{display(b.hierarchy)}:{display(o)}" for o in origins[:3]) + more


def _lost(eng: UndoSide, b: Batch) -> bool:
    """Every cgroup the batch's remaining tasks came from is gone (a batch of this
    backend, in a hierarchy mounted now)."""
    if b.backend is not None and b.backend != eng.backend.identity:
        return False
    try:
        eng.hierarchy(b.hierarchy)
    except CtrtuiError:
        return False
    origins = _origins(b)
    return bool(origins) and all(eng.backend.cgroup_state(b.hierarchy, o) is None for o in origins)


def _skip_lost(eng: UndoSide, b: Batch) -> None:
    """Record (once) that `b` cannot be undone, and say so in the next report."""
    earlier = list(eng.notes)  # what recovery said goes to the undo that is made
    eng.notes.clear()
    if not b.origin_lost():
        eng.run_plans(_undo_plans(eng, b), False, b.id)
    h = eng.hierarchy(b.hierarchy)
    alive = [(r, where) for r in b.remaining() if (where := eng.backend.task_cgroup(r["pid"], h.name)) is not None]
    if alive:
        r, where = alive[0]
        why = (f"; PID {r['pid']} stays in {display(b.hierarchy)}:{display(where)}. "
               + _place_elsewhere(eng, r["pid"], CgroupRef(b.hierarchy, r["from"] or "/"))
               + (f" ({len(alive) - 1} more such PIDs: `ctrtui undo {b.id}` lists them)" if len(alive) > 1 else ""))
    else:
        why = "; its tasks have exited"
    note = (f"batch {b.id} was skipped: it cannot be undone, the cgroups its tasks came from are gone "
            f"({_origins_shown(b)}){why}")
    eng.notes[:0] = earlier
    eng.skipped.append(note)
    if not any(n.startswith(f"batch {b.id} was skipped") for n in eng.notes):
        eng.notes.append(note)


def _undo_plans(eng: UndoSide, found: Batch) -> list[Plan]:
    """One plan per cgroup the batch's remaining tasks came from, worded for an undo. The
    tasks are written back by the kernel whatever route brought them (`via="kernel"`):
    systemd has no "detach", and the cgroup they came from is where they were before."""
    groups: dict[str, list[Record]] = {}
    for r in found.remaining():
        if r["from"] is not None:
            groups.setdefault(r["from"], []).append(r)
    plans = []
    for back, group in groups.items():
        expected = {r["pid"]: r["start_time"] for r in group if r["start_time"] is not None}
        target = CgroupRef(found.hierarchy, back)
        plan = eng.plan([r["pid"] for r in group], target, found.threads, expected, via="kernel")
        verdicts = []
        for v, r in zip(plan.verdicts, group):
            if v.kind == "move" and v.source is not None and v.source != r["to"]:
                v = v.replace(warnings=v.warnings + (
                    f"PID {v.pid} is no longer where batch {found.id} put it ({display(r['to'])}) but in "
                    f"{display(v.source)}; it is moved back to {display(back)} anyway.",))
            elif v.kind == "refused" and v.hook == "target-exists":
                v = _origin_gone(eng, found, v, target)
            verdicts.append(v)
        plans.append(plan.replace(verdicts=tuple(verdicts)))
    return plans


def _origin_gone(eng: UndoSide, found: Batch, v: Verdict, origin: CgroupRef) -> Verdict:
    """An undo whose target -- the cgroup the task came from -- is gone (systemd removes a
    unit's cgroup when the unit stops, logind a session's scope when it ends): a task that
    has exited is `vanished` whatever else is wrong; a live one is told where it is and
    how to place it elsewhere, in undo's words."""
    pid, t = v.pid, v.task
    shown = f"{display(origin.hierarchy)}:{display(origin.path)}"
    if t is None or t.zombie:
        return v.replace(kind="vanished", errno="ESRCH", hook="alive", reason=(
            f"PID {pid} has exited: there is nothing to move back to {shown} (which is gone too)."),
            advice="Nothing to undo for it.")
    now = f"{display(origin.hierarchy)}:{display(v.source)}" if v.source else "its cgroup"
    who = f"PID {pid}" + (f" ({display(t.comm)})" if t.comm else "")
    return v.replace(reason=(
        f"{who} cannot go back: {shown}, where batch {found.id} took it from, is gone (systemd or logind "
        f"removes a unit's or session's cgroup when it ends). It stays in {now}."),
        advice=_place_elsewhere(eng, pid, origin))


def _place_elsewhere(eng: UndoSide, pid: int | None, origin: CgroupRef) -> str:
    """The `ctrtui move` that places a task whose origin is gone in the origin's nearest
    ancestor that still exists."""
    near = parent_path(origin.path)
    while near is not None and near != "/" and eng.backend.cgroup_state(origin.hierarchy, near) is None:
        near = parent_path(near)
    return (f"To place it elsewhere: ctrtui move {pid} --to '{display(origin.hierarchy)}:{display(near or '/')}' "
            "(or another cgroup).")
