"""Journal records, read newest first, assembled into `Batch`es.

`assemble_batches` yields each batch once it is complete (its intent, outcomes, close record
and every later undo of it accounted for), so a reader stops as soon as it has what it needs;
`open_batches_in` finds the batches a dead process left without their close record.
"""

from __future__ import annotations

from ctrtui.engine.records import Batch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from ctrtui.engine.records import Record

__all__ = ["assemble_batches", "open_batches_in"]


def assemble_batches(records: Iterable[tuple[int, Record]]) -> Iterator[Batch]:
    """Batches newest first from (offset, record) newest first, each complete (its intent,
    outcomes, close and every undo after it accounted for) when yielded. Takes only as many
    records as it is iterated for."""
    assembly = _Assembly()
    for offset, rec in records:
        yield from assembly.take(offset, rec)
    yield from assembly.rest()


class _Assembly:
    """The batches `assemble_batches` is putting together from records read backwards."""

    def __init__(self) -> None:
        self.building: dict[str, Batch] = {}
        self.pending: dict[str, list[Batch]] = {}  # undo_of -> undo batches seen (newer)
        self.legacy: Batch | None = None
        self.unknown: set[str] = set()  # batches a record of a newer version was met for

    def finish(self, b: Batch) -> Batch:
        """`b` complete: its outcomes in order, what the newer undos of it settled."""
        self.building.pop(b.id, None)
        b.outcomes.reverse()
        for u in self.pending.get(b.id, ()) if b.op is not None else ():
            if u.op is not None and u.state in ("done", "recovered"):
                b.op_undone = True
        seen: set[tuple[int, int | None]] = set()
        for u in self.pending.pop(b.id, ()):  # newest first
            for o in u.outcomes:
                if o["pid"] is None:
                    continue
                key = (o["pid"], o["start_time"])
                what = _settles(o)
                if what == "origin-gone":
                    if key not in seen:  # what the newest attempt found
                        b.origin_gone.add(key)
                elif what:
                    b.settled.add(key)
                    if what == "undone":
                        b.undone.add(key)
                seen.add(key)
        if b.undo_of is not None:
            self.pending.setdefault(b.undo_of, []).append(b)
        return b

    def take(self, offset: int, rec: Record) -> Iterator[Batch]:
        """Add one record; yield the batches it completes."""
        kind = rec["kind"]
        if kind == "header":
            return
        bid = rec["batch"]
        if self.legacy is not None and (kind != "legacy" or bid != self.legacy.id):
            yield self.finish(self.legacy)
            self.legacy = None
        if kind == "unknown" or bid in self.unknown:
            if kind == "unknown" and bid is not None and bid not in self.unknown:
                self.unknown.add(bid)  # shown where its newest record is; its other records are its own
                u = self.building.pop(bid, None) or Batch(bid)
                u.unknown, u.offset = rec["version"], offset
                yield u
            return
        if kind == "legacy":
            legacy = self.legacy
            if legacy is None:
                legacy = self.legacy = self.building.get(bid) or Batch(bid)
                legacy.legacy, legacy.state = True, "done"
                legacy.hierarchy, legacy.threads, legacy.undo_of = rec["hierarchy"], rec["threads"], rec["undo_of"]
                legacy.time, legacy.target = rec["time"], rec["to"]
            legacy.offset = offset
            legacy.outcomes.append(rec)
            return
        b = self.building.get(bid)
        if b is None:
            b = self.building[bid] = Batch(bid)
        b.offset = offset
        if kind == "close":
            b.state = rec["state"]
            b.errno = rec.get("errno")
            b.cgroup_id = rec.get("cgroup_id")
            b.time = b.time or rec["time"]
        elif kind == "op":
            _op_fields(b, rec)
            yield self.finish(b)
        elif kind == "outcome":
            b.outcomes.append(rec)
        else:  # intent: the batch is complete
            _intent_fields(b, rec)
            yield self.finish(b)

    def rest(self) -> Iterator[Batch]:
        """What is left when the records end: a legacy batch, outcomes whose intent is missing
        (shown as they are)."""
        if self.legacy is not None:
            yield self.finish(self.legacy)
        for b in sorted(self.building.values(), key=lambda b: -b.offset):
            yield self.finish(b)


def _intent_fields(b: Batch, rec: Record) -> None:
    b.time, b.hierarchy, b.threads = rec["time"], rec["hierarchy"], rec["threads"]
    b.undo_of, b.target, b.tasks, b.backend = rec["undo_of"], rec["target"], rec["tasks"], rec["backend"]


def _op_fields(b: Batch, rec: Record) -> None:
    """An op record's fields; its `cgroup_id` unless the close record (a mkdir's, read first
    when reading backwards) gave one."""
    b.time, b.hierarchy, b.op, b.target = rec["time"], rec["hierarchy"], rec["op"], rec["path"]
    b.undo_of, b.backend = rec["undo_of"], rec["backend"]
    if b.cgroup_id is None:
        b.cgroup_id = rec["cgroup_id"]


def open_batches_in(records: Iterable[tuple[int, Record]]) -> list[Batch]:
    """Batches whose process died before their close record, oldest first, from (offset,
    record) newest first. Every writer closes the open batches before it writes, so they all
    lie after the last close record: the scan stops there, and at a record of a newer ctrtui
    (which closed what was open before it wrote; its own open batches are not this version's
    to recover)."""
    found: dict[str, Batch] = {}
    for _, rec in records:
        kind = rec["kind"]
        if kind in ("close", "legacy", "header", "unknown"):
            break
        if kind == "intent":
            b = Batch(rec["batch"])
            _intent_fields(b, rec)
            found[b.id] = b
        elif kind == "op":
            b = Batch(rec["batch"])
            _op_fields(b, rec)
            found[b.id] = b
    return list(reversed(found.values()))


def _settles(outcome: Mapping[str, object]) -> str | None:
    """What an undo's outcome row means for the PID it undoes: 'undone' or 'gone' (the task
    exited) settle it; 'origin-gone' (ENOENT: the cgroup it came from, the undo's target, was
    gone) and None (refused otherwise) leave it undoable, to be retried once fixed."""
    if outcome["outcome"] in ("moved", "already-there"):
        return "undone"
    if outcome["outcome"] == "vanished" or outcome["errno"] == "ESRCH":
        return "gone"
    if outcome["outcome"] == "refused" and outcome["errno"] == "ENOENT":
        return "origin-gone"
    return None

