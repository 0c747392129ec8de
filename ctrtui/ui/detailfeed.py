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
    from ctrtui.ui.screenside import ScreenSide
    from ctrtui.ui.session import Session

STATS_KEPT = 256
"""Cgroup stats remembered (shown until fresh ones come)."""


class DetailFeed:
    """Facts about the focused task (task list focused) or cgroup (otherwise) for the detail
    line; a drag owns the line while it lasts (`Moves` says so with `hold`)."""

    def __init__(self, side: ScreenSide, session: Session) -> None:
        self.side = side
        self.session = session
        """What is shown (`ctrtui.ui.session`): the backend read, the hierarchy, the snapshot."""
        self.key: DetailKey | None = None
        """What the line shows now (None: to be drawn again)."""
        self._stats: dict[tuple[str, str], dict[str, str]] = {}
        """(hierarchy, path) -> the cgroup stats read last."""

    def _held(self) -> bool:
        """A drag owns the line."""
        return self.side.moves.drag_target is not None or bool(self.side.tasks.dragging)

    def refresh(self) -> None:
        """Draw the line for what has the focus (at once from caches; reads in a worker)."""
        side = self.side
        hs = self.session.hs
        if hs is None or self.session.snapshot is None or self._held() or side.closing():
            return  # nothing shown, a drag owns the line, or closing (no screen left)
        tasks = side.tasks
        if side.focused_widget() is tasks and tasks.cursor_pid is not None:
            pid = tasks.cursor_pid
            info = tasks.details.get(pid)
            key: DetailKey = ("task", pid, self.session.snapshot.taken_at, info is not None)
            if key != self.key:
                self.key = key
                if info is not None:
                    side.say(task_summary(pid, info, self.session.backend.task_cgroups(pid), self.width()))
                else:
                    side.say(Text.assemble((f"PID {pid}", "bold"), ("  reading…", "dim")))
                    self._read(key)
            return
        path = side.tree.cursor_path
        if path is None:
            return
        key = ("cgroup", self.session.hier, path, self.session.snapshot.taken_at)
        if key != self.key:
            self.key = key
            side.say(self.cgroup_text(self.session.hier, path, self._stats.get((self.session.hier, path), {})))
            self._read(key)

    def cgroup_text(self, hier: str, path: str, stats: dict[str, str]) -> Text:
        side = self.side
        hs = self.session.snapshot.get(hier) if self.session.snapshot else None
        c = hs.get(path) if hs else None
        subtree = side.tree.recursive_count(path) if hs is side.tree.hs else 0
        return cgroup_summary(hier, path, hs.hierarchy.controllers if hs else (), stats,
                              len(c.procs) if c else 0, len(c.threads) if c else 0, subtree, self.width())

    def width(self) -> int | None:
        """Cells of one line of the detail line (None before it is laid out)."""
        line = self.side.detail_line
        width = line.content_region.width if line is not None else 0
        return width if width > 0 else None

    def _read(self, key: DetailKey) -> None:
        backend = self.session.backend
        self.side.run_named(self._post, key, backend, name="details", group="detail", exclusive=True)

    def _post(self, key: DetailKey, backend: Reader) -> None:
        """Read what `key` names (thread worker "details") and post it as `DetailRead`."""
        if key[0] == "task":
            pid = key[1]
            assert isinstance(pid, int)
            info = backend.task_details([pid]).get(pid)
            text = task_summary(pid, info, backend.task_cgroups(pid), self.width())
            self.side.post_message(DetailRead(key, text, source=backend).to(self.read))
        else:
            _, hier, path, _ = key
            assert isinstance(hier, str) and isinstance(path, str)
            stats = backend.cgroup_stats(hier, path)
            self.side.post_message(DetailRead(key, None, stats, source=backend).to(self.read))

    def read(self, event: DetailRead) -> None:
        """A worker read what the line needed: remember stats, draw if still wanted (not
        what was read of a host left behind)."""
        if self.session.stale(event.source):
            return
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
                self.side.say(self.cgroup_text(hier, path, event.stats))
            elif event.text is not None:
                self.side.say(event.text)
