"""Journal batches as the engine and the cgroup ops both write and recover them.

New batch ids (`new_batch_id`), the check that a batch was made on this backend
(`ensure_ours`), the write-ahead intent of a move (`write_intent`) and its outcomes and close
record (`record`), and the recovery of batches a dead process left open (`recover_open`,
for moves and cgroup ops alike: what is found is said in the notes it returns).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from ctrtui.engine.journal import Journal, JournalError
from ctrtui.engine.journalerrors import JournalMismatch
from ctrtui.engine.records import Batch
from ctrtui.engine.values import ARRIVED, Plan, Report
from ctrtui.errors import errno_name
from ctrtui.model import find_hierarchy
from ctrtui.text import display

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ctrtui.engine.records import Record

__all__ = ["FROZEN_STATES", "ensure_ours", "nameable", "new_batch_id", "record", "recover_op", "recover_open",
           "write_intent"]

FROZEN_STATES = ("FROZEN", "FREEZING", "1")
"""A cgroup's freezer state that counts as frozen (v1 FROZEN or FREEZING, v2 1)."""


def new_batch_id() -> str:
    """A new batch id: the local time and six random hex digits."""
    return time.strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()


def ensure_ours(journal: Journal, batch: Batch, backend: Any, action: str) -> None:
    """`JournalMismatch` (nothing moved) unless `batch` was made on `backend` (a batch of an
    earlier version, which names none, is taken as this backend's)."""
    if batch.backend is not None and batch.backend != backend.identity:
        raise JournalMismatch(journal.path, batch, backend.identity, action)


def nameable(path: str | None) -> str | None:
    """A cgroup path the journal can record, or None: a task outside the writer's cgroup
    namespace reads `/../x`, which names no cgroup here (undo then has no origin for it)."""
    return None if path is None or path == "/.." or path.startswith("/../") else path


def write_intent(journal: Journal, backend: Any, batch_id: str, plans: Sequence[Plan], undo_of: str | None) -> None:
    """The write-ahead record: every PID about to be written, with its identity (start
    time, pidfs device and inode when the plan had them) and its source. Each task once:
    a PID given twice is written once (the repeat is reported `already-there`)."""
    tasks = []
    seen: set[tuple[str, int]] = set()  # (hierarchy, pid), as the batch itself judges repeats
    for p in plans:
        for v in p.verdicts:
            if v.kind == "move" and v.pid is not None and (p.hierarchy.name, v.pid) not in seen:
                seen.add((p.hierarchy.name, v.pid))
                dev, ino = v.identity[:2] if v.identity and len(v.identity) >= 2 else (None, None)
                pidfs = [int(dev), int(ino)] if isinstance(dev, int) and isinstance(ino, int) else None
                tasks.append({"pid": v.pid, "start_time": v.start_time, "pidfs": pidfs, "from": nameable(v.source),
                              "to": p.target.path})
    p0 = plans[0]
    journal.write_intent(batch_id, p0.hierarchy.name, p0.threads, undo_of, p0.target.path, tasks,
                         backend=backend.identity, route=p0.route)


def record(journal: Journal, report: Report, notes: list[str]) -> Report:
    """Outcomes and the close record, one write and one fsync. If that fails the batch
    stays open in the journal, and the next writer recovers it from /proc. `notes` (what
    recovery found) and what reading the journal forgave go to the report's warnings, and
    are cleared: told once."""
    rows = [{
        "pid": o.pid, "start_time": o.start_time, "from": nameable(o.source), "to": o.target, "outcome": o.outcome,
        "errno": o.errno, **({"input": o.text} if o.pid is None else {}),
    } for o in report.outcomes]
    warnings = list(notes)
    notes.clear()
    nothing = not any(o.outcome in ARRIVED for o in report.outcomes)
    refused = nothing and any(o.outcome == "refused" for o in report.outcomes)
    state = "interrupted" if report.interrupted else "refused" if refused else "done"
    try:
        journal.write_close(report.batch_id, rows, state)
    except JournalError as e:
        why = f"{errno_name(e.errno)}: {os.strerror(e.errno)}" if e.errno else "error"
        warnings.append(f"the outcomes of batch {report.batch_id} could not be written to {e.path} ({why}); "
                        "its intent is there, so `ctrtui undo` finds the moved tasks through /proc")
    else:
        journal.maybe_rotate()
    warnings.extend(journal.warnings)  # what reading it forgave (a torn line): told once
    journal.warnings.clear()
    if warnings:
        report = report.replace(warnings=report.warnings + tuple(dict.fromkeys(warnings)))
    return report


def recover_open(journal: Journal, backend: Any) -> list[str]:
    """Close every batch a dead process left open (no close record), and say what was found.
    A move: read from /proc which of its tasks sit in their `to` and are the same task (start
    time, pidfs inode), record those as moved (state `recovered`), so that undo moves exactly
    those back. A cgroup op: look whether the change was made (`recover_op`)."""
    notes = []
    for b in journal.open_batches():
        ensure_ours(journal, b, backend, "recover")
        if b.op is not None:
            closed, note = recover_op(backend, b)
            journal.write_op_close(b.id, closed)
            notes.append(note)
        else:
            notes.append(_recover_move(journal, backend, b))
    return notes


def _recover_move(journal: Journal, backend: Any, b: Batch) -> str:
    """Close the open move batch `b` as `recovered`; the note that says what was found."""
    rows = []
    h = find_hierarchy(backend.hierarchies(), b.hierarchy)
    there = 0
    tasks = list({t["pid"]: t for t in b.tasks[::-1]}.values())  # each PID once (older intents repeat)
    for t in tasks:
        pid, start = t["pid"], t["start_time"]
        state = backend.task_state(pid) if h is not None else None
        same = state is not None and not state.zombie and (start is None or state.start_time == start)
        if same and t["pidfs"] is not None:
            same = _same_pidfs(backend, pid, b.threads, t["pidfs"])
        where = backend.task_cgroup(pid, h.name) if same and h is not None else None
        moved = same and where == t["to"]
        there += moved
        rows.append(_recovered_row(t, "moved" if moved else "not-moved"))
    journal.write_close(b.id, rows, "recovered")
    what = (f"an undo of batch {b.undo_of}" if b.undo_of
            else f"moving to {display(b.hierarchy)}:{display(b.target)}")
    return (f"batch {b.id} ({what}) was interrupted before its end (no close record): {there} of its "
            f"{len(tasks)} tasks are where it put them" + (
                f"; `ctrtui undo {b.id}` moves them back" if there and not b.undo_of else ""))


def _recovered_row(t: Record, outcome: str) -> Record:
    return {"pid": t["pid"], "start_time": t["start_time"], "from": t["from"], "to": t["to"], "outcome": outcome,
            "errno": None}


def _same_pidfs(backend: Any, pid: int, thread: bool, pidfs: Sequence[int]) -> bool:
    """False only when a pidfd on `pid` now has another pidfs inode than the one recorded
    (another task); True when it matches or cannot be told (no pidfd, no pidfs)."""
    try:
        with backend.open_task(pid, thread=thread) as handle:
            got = handle.identity()
    except OSError:
        return True  # e.g. a thread's TID in process mode: the start time decided
    return got is None or tuple(got) == tuple(pidfs)


def recover_op(backend: Any, batch: Batch) -> tuple[str, str]:
    """(close state, note) for an op batch its process left open: `recovered` when the
    change is found made (the directory there or gone, the freezer as asked), else
    `interrupted`."""
    state = backend.cgroup_state(batch.hierarchy, batch.target)
    if batch.op == "mkdir":
        made = state is not None
    elif batch.op == "rmdir":
        made = state is None
    else:
        frozen = state is not None and state.freezer_state in FROZEN_STATES
        made = frozen == (batch.op == "freeze")
    where = f"{display(batch.hierarchy)}:{display(batch.target)}"
    verdict = "was made" if made else "was not made"
    return ("recovered" if made else "interrupted",
            f"batch {batch.id} ({batch.op} {where}) was interrupted before its end (no close record); the change "
            f"{verdict}" + (f"; `ctrtui undo {batch.id}` reverses it" if made and not batch.undo_of else ""))
