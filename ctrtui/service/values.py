"""The values the service returns beyond the engine's own (`Plan`, `Report`, `OpResult`):
what an undo did (`Undone`) and the journal's batches as `ctrtui log` shows them
(`BatchLog`). Plain immutable values, no I/O.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    from typing import Any

    from ctrtui.engine import Report
    from ctrtui.engine.journal import Batch
    from ctrtui.engine.opvalues import OpResult

__all__ = ["BatchLog", "Undone"]


class Undone:
    """What `Service.undo` did: `report` (an undone move) or `op` (an undone cgroup op), or
    neither, and then `nothing_left` says why; `warnings` of the engine and the journal."""

    __slots__ = ("report", "op", "nothing_left", "warnings")

    def __init__(self, report: Report | None = None, op: OpResult | None = None, nothing_left: str = "",
                 warnings: tuple[str, ...] = ()) -> None:
        self.report = report
        self.op = op
        self.nothing_left = nothing_left
        self.warnings = warnings

    def __repr__(self) -> str:
        return f"Undone(report={self.report!r}, op={self.op!r}, nothing_left={self.nothing_left!r})"


class BatchLog:
    """The journal's batches, newest first (`batches`), the journal's `path` (None: kept in
    memory), the PID of the writer holding its lock now (`holder`: None when none does, 0
    when the holder is in another PID namespace) and the warnings reading it gave."""

    __slots__ = ("batches", "path", "holder", "warnings", "_rows")

    def __init__(self, batches: tuple[Batch, ...], path: str | None, holder: int | None,
                 warnings: tuple[str, ...] = ()) -> None:
        self.batches = batches
        self.path = path
        self.holder = holder
        self.warnings = warnings
        self._rows: list[dict[str, Any]] | None = None

    @classmethod
    def of_rows(cls, rows: list[dict[str, Any]], path: str | None, warnings: tuple[str, ...] = ()) -> BatchLog:
        """The log of another host's journal, as its `rows()` came over the protocol
        (ctrtui/service/codec.py): no `Batch` objects, the rows as they were."""
        log = cls((), path, None, warnings)
        log._rows = rows
        return log

    def rows(self) -> list[dict[str, Any]]:
        """The batches as `ctrtui log --json` prints them: each batch's record, plus
        `writer_pid`; the newest batch, open while a writer holds the lock, is that writer's
        (`running`), not one cut by a crash."""
        if self._rows is not None:
            return [dict(r) for r in self._rows]
        rows = [{**b.as_dict(), "writer_pid": None} for b in self.batches]
        if rows and rows[0]["state"] == "open" and self.holder is not None:
            rows[0]["state"], rows[0]["writer_pid"] = "running", self.holder or None
        return rows
