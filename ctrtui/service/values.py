"""The values the service returns beyond the engine's own (`Plan`, `Report`, `OpResult`):
what an undo did (`Undone`), the journal's batches as `ctrtui log` shows them
(`BatchLog`), and a recording's (`RecordedSample`, `RecordedFigures`, `Timeline`,
`RecorderState`). Plain immutable values, no I/O.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    from typing import Any

    from ctrtui.engine import Report
    from ctrtui.engine.journal import Batch
    from ctrtui.engine.opvalues import OpResult
    from ctrtui.model import Snapshot
    from ctrtui.model.cgstats import Figures

__all__ = ["BatchLog", "RecordedFigures", "RecordedSample", "RecorderState", "Timeline", "Undone"]


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


class RecordedSample:
    """One sample of a recording (`Service.history_sample`): its place among the recording's
    samples (`index` of `count`), its time, the recorded world (`snapshot`) and what was
    recorded of its tasks (`tasks`: tid -> (start time, tgid, comm))."""

    __slots__ = ("index", "count", "taken_at", "snapshot", "tasks")

    def __init__(self, index: int, count: int, taken_at: float, snapshot: Snapshot,
                 tasks: dict[int, tuple[int, int, str]]) -> None:
        self.index = index
        self.count = count
        self.taken_at = taken_at
        self.snapshot = snapshot
        self.tasks = tasks


class Timeline:
    """A recording's samples (`times`, oldest first, one per sample) and the journal's
    batches it holds (`batches`, as `J` records keep them: docs/history.md)."""

    __slots__ = ("times", "batches")

    def __init__(self, times: tuple[float, ...], batches: tuple[dict[str, Any], ...]) -> None:
        self.times = times
        self.batches = batches


class RecordedFigures:
    """The cgroups' figures a recording kept at one sample (`Service.history_figures`): the
    sample (`index`, `taken_at`) and path -> `Figures` of the cgroups asked that had a
    reading (`S` records: gauges of the last one at or before the sample, rates to the next)."""

    __slots__ = ("index", "taken_at", "figures")

    def __init__(self, index: int, taken_at: float, figures: dict[str, Figures]) -> None:
        self.index = index
        self.taken_at = taken_at
        self.figures = figures


class RecorderState:
    """A recorder of the service (`Service.recorder_open` ...): where it writes
    (`directory`), the samples and bytes it wrote, and its warnings (a torn tail cut, a
    journal that could not be read)."""

    __slots__ = ("directory", "samples", "bytes_written", "warnings")

    def __init__(self, directory: str, samples: int, bytes_written: int, warnings: tuple[str, ...] = ()) -> None:
        self.directory = directory
        self.samples = samples
        self.bytes_written = bytes_written
        self.warnings = warnings
