"""What the detail line at the bottom shows, and when it is read (`DetailFeed`).

Drawn at once from what is cached (the task's details, the cgroup's counts and the stats
read last time), so a cursor step costs one frame; what must be read (a task's details not
fetched yet, a cgroup's stats) comes from a worker as a `DetailRead` and redraws the line
only if it is still the one wanted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from ctrtui.sources.base import Reader
from ctrtui.ui.messages import DetailKey, DetailRead
from ctrtui.ui.widgets.detail import cgroup_summary, task_summary

if TYPE_CHECKING:
    from ctrtui.ui.app import CtrtuiApp
    from ctrtui.ui.session import Session

STATS_KEPT = 256
"""Cgroup stats remembered (shown until fresh ones come)."""


class DetailFeed:
    """Facts about the focused task (task list focused) or cgroup (otherwise) for the detail
    line; a drag owns the line while it lasts (`Moves` says so with `hold`)."""

    def __init__(self, app: CtrtuiApp, session: Session) -> None:
        self.app = app
        self.session = session
        """What is shown (`ctrtui.ui.session`): the backend read, the hierarchy, the snapshot."""
        self.key: DetailKey | None = None
        """What the line shows now (None: to be drawn again)."""
        self._stats: dict[tuple[str, str], dict[str, str]] = {}
        """(hierarchy, path) -> the cgroup stats read last."""

    def _held(self) -> bool:
        """A drag owns the line."""
        return self.app.moves.drag_target is not None or bool(self.app.tasks.dragging)

    def refresh(self) -> None:
        """Draw the line for what has the focus (at once from caches; reads in a worker)."""
        app = self.app
        hs = self.session.hs
        if hs is None or self.session.snapshot is None or self._held() or app.closing():
            return  # nothing shown, a drag owns the line, or closing (no screen left)
        tasks = app.tasks
        if app.focused_widget() is tasks and tasks.cursor_pid is not None:
            pid = tasks.cursor_pid
            info = tasks.details.get(pid)
            key: DetailKey = ("task", pid, self.session.snapshot.taken_at, info is not None)
            if key != self.key:
                self.key = key
                if info is not None:
                    app.say(task_summary(pid, info, self.session.backend.task_cgroups(pid), self.width()))
                else:
                    app.say(Text.assemble((f"PID {pid}", "bold"), ("  reading…", "dim")))
                    self._read(key)
            return
        path = app.tree.cursor_path
        if path is None:
            return
        key = ("cgroup", self.session.hier, path, self.session.snapshot.taken_at)
        if key != self.key:
            self.key = key
            app.say(self.cgroup_text(self.session.hier, path, self._stats.get((self.session.hier, path), {})))
            self._read(key)

    def cgroup_text(self, hier: str, path: str, stats: dict[str, str]) -> Text:
        app = self.app
        hs = self.session.snapshot.get(hier) if self.session.snapshot else None
        c = hs.get(path) if hs else None
        subtree = app.tree.recursive_count(path) if hs is app.tree.hs else 0
        return cgroup_summary(hier, path, hs.hierarchy.controllers if hs else (), stats,
                              len(c.procs) if c else 0, len(c.threads) if c else 0, subtree, self.width())

    def width(self) -> int | None:
        """Cells of one line of the detail line (None before it is laid out)."""
        line = self.app.detail_line
        width = line.content_region.width if line is not None else 0
        return width if width > 0 else None

    def _read(self, key: DetailKey) -> None:
        backend = self.session.backend
        self.app.run_worker(lambda: self._post(key, backend), thread=True, exclusive=True, group="detail",
                            exit_on_error=False, name="details")

    def _post(self, key: DetailKey, backend: Reader) -> None:
        if key[0] == "task":
            pid = key[1]
            assert isinstance(pid, int)
            info = backend.task_details([pid]).get(pid)
            self.app.post_message(DetailRead(key, task_summary(pid, info, backend.task_cgroups(pid),
                                                               self.width()), source=backend))
        else:
            _, hier, path, _ = key
            assert isinstance(hier, str) and isinstance(path, str)
            self.app.post_message(DetailRead(key, None, backend.cgroup_stats(hier, path), source=backend))

    def read(self, event: DetailRead) -> None:
        """A worker read what the line needed: remember stats, draw if still wanted."""
        hier = path = ""
        if event.stats is not None:
            _, h, p, _ = event.key
            assert isinstance(h, str) and isinstance(p, str)
            hier, path = h, p
            self._stats[(hier, path)] = event.stats
            if len(self._stats) > STATS_KEPT:
                self._stats.pop(next(iter(self._stats)))
        if event.key == self.key and not self._held():
            if event.stats is not None:
                self.app.say(self.cgroup_text(hier, path, event.stats))
            elif event.text is not None:
                self.app.say(event.text)
