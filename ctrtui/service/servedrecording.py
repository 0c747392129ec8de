"""A recording read through a service (`ServedRecording`): a host's recording, the host
opening it and answering one sample at a time (`Service.history_sample`), seen here as the
read-only backend a local recording is (`ctrtui.history.replay.RecordedBackend`): what
`ls --at --host`, `tasks --at --host` and `replay --host` read. Each step of a replay fetches
the sample shown (its snapshot in the wire form, its tasks); the sample times and the
journal's batches come once (`Service.history_timeline`); the cgroups' recorded figures
(`ls --at --stats`, the replay's tree columns) only when asked, those of each cgroup once per
sample shown (`Service.history_figures`)."""

from __future__ import annotations

from bisect import bisect_right

from ctrtui.history.records import HistoryError, TaskTable
from ctrtui.history.replay import RecordedBackend

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from ctrtui.model.cgstats import Figures
    from ctrtui.service.protocol import Service
    from ctrtui.service.values import RecordedSample

__all__ = ["FIGURES_ASKED", "ServedRecording"]

FIGURES_ASKED = 20_000
"""The most cgroups whose figures one `history_figures` request asks for (its answer stays far
below the channel's bound on it)."""


class ServedRecording(RecordedBackend):
    """The recording `source` of `service`'s machine (None: the one `ctrtui record` writes
    there) at the last sample at or before TIME `at` (read there; None: the last sample).
    `identity`: what it is shown as (`ssh://HOST`); `closer`: what `close` calls (the
    connection to the host)."""

    def __init__(self, service: Service, source: str | None = None, at: str | None = None,
                 identity: str = "history", closer: Callable[[], None] | None = None) -> None:
        self.service = service
        self.closer = closer
        self.source = source
        self.identity = identity
        self._pos = -1
        self._tasks: TaskTable | None = None
        self._snap = None
        self._located = None
        self._figs: dict[str, dict[str, Figures]] = {}
        self._asked_figs: dict[str, set[str]] = {}
        self._timeline()
        self._show(service.history_sample(source, at=at) if at is not None else
                   service.history_sample(source, index=len(self._times) - 1))

    def _timeline(self) -> None:
        tl = self.service.history_timeline(self.source)
        if not tl.times:
            raise HistoryError("the recording holds no sample yet")
        self._times = list(tl.times)
        self._all_batches = list(tl.batches)

    def _show(self, sample: RecordedSample) -> None:
        if sample.count != len(self._times):  # the recorder there wrote on: read the time line again
            self._timeline()
        table = TaskTable(*_empty_table())
        table.born = {tid: [tid, start, tgid, comm] for tid, (start, tgid, comm) in sample.tasks.items()}
        self._tasks = table
        self._snap = sample.snapshot
        self._pos = min(sample.index, len(self._times) - 1)
        self._located = None
        self._figs = {}
        self._asked_figs = {}

    def close(self) -> None:
        """Let go of the connection (nothing more is read)."""
        if self.closer is not None:
            self.closer()
            self.closer = None

    def time_of(self, text: str) -> float:
        """The time of the sample TIME `text` names (read there, against its clock and
        recording), which is then shown."""
        self._show(self._asked(lambda: self.service.history_sample(self.source, at=text)))
        return self.taken_at

    def jump(self, at: float) -> float:
        pos = bisect_right(self._times, at) - 1
        if pos < 0:
            raise HistoryError("nothing is recorded that early: the recording starts later")
        self._go(pos)
        return self.taken_at

    def recorded_figures(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Figures]:
        """The figures the host recorded of `paths` at the sample shown (as a local
        recording's `recorded_figures`): asked of the host for the cgroups not asked yet at
        this sample; a cgroup without a reading is left out. A host that goes or answers
        something malformed: its HostError, naming it."""
        hs = self._hierarchy(hierarchy)
        if hs is None:
            return {}
        name = hs.name
        known = self._figs.setdefault(name, {})
        asked = self._asked_figs.setdefault(name, set())
        wanted = list(dict.fromkeys(paths))
        todo = [p for p in wanted if p not in asked]
        for i in range(0, len(todo), FIGURES_ASKED):
            part = todo[i:i + FIGURES_ASKED]
            got = self.service.history_figures(name, part, self._pos, self.source)
            if got.taken_at != self.taken_at:  # the host's recording lost its oldest samples: unknown
                break
            known.update(got.figures)
            asked.update(part)
        return {p: known[p] for p in wanted if p in known}

    def batches(self, since: float | None = None, until: float | None = None) -> list[dict[str, Any]]:
        return [b for b in self._all_batches if b["time"] is not None
                and (since is None or b["time"] >= since) and (until is None or b["time"] <= until)]

    def _go(self, pos: int) -> None:
        if pos != self._pos:
            self._show(self._asked(lambda: self.service.history_sample(self.source, index=pos)))

    def _asked(self, ask: Callable[[], RecordedSample]) -> RecordedSample:
        """A sample asked of the service once the replay runs: whatever stops it (the host
        gone, an answer refused) is a HistoryError with its one sentence, which the replay
        says; nothing moves."""
        from ctrtui.errors import CtrtuiError

        try:
            return ask()
        except CtrtuiError:
            raise
        except Exception as e:  # noqa: BLE001 - a host's failure (remote.HostError): said, not a crash
            raise HistoryError(f"the sample could not be read: {e}") from None


def _empty_table() -> tuple[Any, Any, Any, list[bytes]]:
    from array import array

    return array("i"), array("q"), array("i"), []
