"""The messages the app's thread workers post back to the UI thread (attributes go down,
messages come up). Most are a `WorkerResult`: the helper that started the worker names its
own method that handles it (`.to(handler)`), and the app's one `@on(WorkerResult)` handler
calls it on the UI thread, so the app does not forward each kind to its helper. Two are the
app's own: `SnapshotTaken` (it also readies the dialogs after the first) and `MetersRead`
(its meters line).

Reads carry their `source` (the backend they were read from): after a switch to another host
(`ctrtui.ui.hostviews`) a late read of the host left behind is dropped, never drawn."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from rich.text import Text
from textual.message import Message

from ctrtui.engine.values import Plan, Report
from ctrtui.model import Container, Snapshot, TaskInfo

if TYPE_CHECKING:
    from ctrtui.model.cgstats import Figures
    from ctrtui.ui.machinemeters import Meters
    from ctrtui.ui.treelabels import Markers

DetailKey = tuple[object, ...]
"""What the detail line shows: `("task", pid, taken_at, known)` or
`("cgroup", hierarchy, path, taken_at)`."""


class WorkerResult(Message):
    """What a thread worker read or did, for the helper that started it: `handler` (set by
    `to`) is called with it on the UI thread (`CtrtuiApp._worker_result`); None: dropped."""

    handler: Callable[[Any], None] | None = None

    def to(self, handler: Callable[[Self], None]) -> Self:
        """This message, to be handled by `handler`."""
        self.handler = handler
        return self


class SnapshotTaken(Message):
    """A snapshot worker finished: `snapshot` holds the hierarchies it took (the shown one, or
    all), `names` every mounted hierarchy, `infos` fresh details of the rows that were on
    screen."""

    def __init__(self, snapshot: Snapshot, names: list[str], infos: dict[int, TaskInfo],
                 cost: float = 0.0, source: object = None) -> None:
        self.snapshot = snapshot
        self.source = source
        """The backend it was read from (a message from a host no longer shown is dropped)."""
        self.names = names
        self.infos = infos
        self.cost = cost
        """CPU seconds the worker spent taking it (for the whole-tree period)."""
        super().__init__()


class ShownRead(WorkerResult):
    """A tick's cheap read came back (ui/live.py): the cgroups on screen in `hierarchy`,
    path -> Container (None: gone), and fresh details of the rows on screen; `taken_at`:
    `time.time()` when it was read; `cost`: CPU seconds the worker spent."""

    def __init__(self, hierarchy: str, containers: dict[str, Container | None],
                 infos: dict[int, TaskInfo], taken_at: float, cost: float = 0.0,
                 source: object = None) -> None:
        self.hierarchy = hierarchy
        self.source = source
        self.containers = containers
        self.infos = infos
        self.taken_at = taken_at
        self.cost = cost
        super().__init__()


class MarkersRead(WorkerResult):
    """Cgroup state for tree markers was read."""

    def __init__(self, hierarchy: str, markers: dict[str, Markers], source: object = None) -> None:
        self.hierarchy = hierarchy
        self.source = source
        self.markers = markers
        super().__init__()


class StatsRead(WorkerResult):
    """Figures of the cgroups shown in the tree were read (`ui/statsfeed.py`)."""

    def __init__(self, hierarchy: str, figures: dict[str, Figures], source: object = None) -> None:
        self.hierarchy = hierarchy
        self.source = source
        self.figures = figures
        super().__init__()


class MetersRead(Message):
    """The machine's meters were read (`ui/statsfeed.py`)."""

    def __init__(self, meters: Meters) -> None:
        self.meters = meters
        super().__init__()


class DetailRead(WorkerResult):
    """What the detail line needed was read: a task's text, or a cgroup's stats."""

    def __init__(self, key: DetailKey, text: Text | None, stats: dict[str, str] | None = None,
                 source: object = None) -> None:
        self.key = key
        self.source = source
        self.text = text
        self.stats = stats
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        """A newer read of the same line makes an older one that is still queued useless."""
        return isinstance(message, DetailRead) and message.key == self.key


class Planned(WorkerResult):
    """The engine planned a put, a drop or a drag hover; `purpose` says which."""

    def __init__(self, plan: Plan, target: str, purpose: str) -> None:
        self.plan = plan
        self.target = target
        self.purpose = purpose
        super().__init__()


class BatchDone(WorkerResult):
    """A move or undo batch finished (`report` None: nothing to undo)."""

    def __init__(self, report: Report | None, what: str) -> None:
        self.report = report
        self.what = what
        super().__init__()


class HostChanged(WorkerResult):
    """A host was reached, answered a probe, or failed (`ctrtui.ui.hostfeed`): `view` is the
    host (`ctrtui.ui.hostviews.HostView`); `link` the connection made (a connect), `rtt_ms` the
    round trip measured, `error` why it failed."""

    def __init__(self, view: object, link: object = None, rtt_ms: float | None = None,
                 error: BaseException | None = None) -> None:
        self.view = view
        self.link = link
        self.rtt_ms = rtt_ms
        self.error = error
        super().__init__()
