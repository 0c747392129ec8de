"""The figures the main screen shows besides the snapshot: the tree's cgroup columns and
the machine's meters, each read in a thread worker when the panes refresh.

`StatsFeed.job()` is the one hook of the refresh cycle: the snapshot worker runs it after
its snapshot, so both arrive together and are drawn in one frame. `StatsFeed.refresh()`
reads in a worker of its own when a hierarchy is shown, a node opens or the tree's `c`/`o`
are pressed. Either reads the figures of the tree lines shown (only when the columns are on) with a
`StatsSampler`, which keeps each cgroup's previous reading so rates come out, and the
meters with psutil. One read runs at a time; a refresh asked for meanwhile runs after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from ctrtui.sources.base import Reader
from ctrtui.sources.stats import StatsSampler
from ctrtui.ui.machinemeters import read_meters
from ctrtui.ui.messages import MetersRead, StatsRead

if TYPE_CHECKING:
    from ctrtui.ui.screenside import ScreenSide
    from ctrtui.ui.session import Session

BUSY_LIMIT = 5.0
"""Seconds after which a read that never ended no longer holds the next one back."""

STATS_READ_LIMIT = 1000
"""At most this many cgroups' files are read per refresh (the lines on screen first)."""


class StatsFeed:
    """Reads cgroup figures and system meters off the UI thread and hands them to the
    tree and the meters line."""

    def __init__(self, side: ScreenSide, session: Session, meters: bool = True) -> None:
        self.side = side
        self.session = session
        """What is shown (the hierarchy whose figures are read)."""
        self.sampler = StatsSampler(session.backend)
        self.meters = meters
        """Read the machine's meters (psutil) too."""
        self.read_meters = read_meters
        """How the meters are read (tests give fixed ones)."""
        self._busy = False
        self._busy_since = 0.0
        self._again = False

    def _is_busy(self) -> bool:
        """A read is under way (one handed to a snapshot worker that was replaced before it
        ran never ends: after `BUSY_LIMIT` seconds it no longer counts)."""
        return self._busy and time.monotonic() - self._busy_since < BUSY_LIMIT

    def _start(self) -> None:
        self._busy = True
        self._busy_since = time.monotonic()

    def refresh(self, meters: bool = True) -> None:
        """Read what is shown now, in a worker (or right after the read under way); with
        `meters` (a timed refresh), the meters too (not when a node opened)."""
        if self._is_busy():
            self._again = True
            return
        side = self.side
        tree = side.tree
        hier = self.session.hier
        paths = tree.shown_paths(STATS_READ_LIMIT) if tree.columns and tree.hs is not None else []
        meters = meters and self.meters
        if not paths and not meters:
            return
        self._start()
        sampler = self.sampler
        side.run_named(self._read, hier, paths, meters, sampler, name="cgroup figures", group="stats")

    def job(self) -> Callable[[], None] | None:
        """What a refresh reads, as a function for the snapshot worker to call after its
        snapshot (one thread, one frame for both), or None when a read is under way."""
        if self._is_busy():
            return None
        tree = self.side.tree
        hier = self.session.hier
        paths = tree.shown_paths(STATS_READ_LIMIT) if tree.columns and tree.hs is not None else []
        self._start()
        sampler = self.sampler
        return partial(self._read, hier, paths, self.meters, sampler)

    def _read(self, hier: str, paths: list[str], meters: bool, sampler: StatsSampler | None = None) -> None:
        """Read the meters and the figures of `paths` (thread worker "cgroup figures", or the
        snapshot worker's `job`) and post them as `MetersRead` and `StatsRead`."""
        sampler = sampler or self.sampler
        try:
            if meters:
                self.side.post_message(MetersRead(self.read_meters()))
            if paths:
                self.side.post_message(StatsRead(hier, sampler.sample(hier, paths), source=sampler).to(self.stats_read))
        finally:
            self._busy = False
            if self._again:
                self._again = False
                try:
                    self.side.call_from_thread(self.refresh)
                except RuntimeError:  # the app is closing
                    pass

    def prefetch(self, path: str | None) -> None:
        """The cursor is on `path`: read its children's figures now (those not read yet),
        so that opening it draws them at once instead of in a second frame."""
        side = self.side
        tree = side.tree
        hs = tree.hs
        if not tree.columns or hs is None or path is None:
            return
        c = hs.get(path)
        todo = [p for p in (c.children if c is not None else ()) if p not in tree.figures][:STATS_READ_LIMIT]
        if not todo:
            return
        side.run_named(self._prefetched, self.session.hier, todo, self.sampler, name="cgroup figures",
                       group="stats-prefetch", exclusive=True)

    def _prefetched(self, hier: str, paths: list[str], sampler: StatsSampler) -> None:
        """Read the figures of `paths` (thread worker "cgroup figures" of the prefetch) and
        post them as `StatsRead`."""
        self.side.post_message(StatsRead(hier, sampler.sample(hier, paths), source=sampler).to(self.stats_read))

    def expanded(self, path: str | None) -> None:
        """A node opened: read its children's figures unless the prefetch has them."""
        tree = self.side.tree
        hs = tree.hs
        c = hs.get(path) if hs is not None and path is not None else None
        if tree.columns and c is not None and any(p not in tree.figures for p in c.children):
            self.refresh(meters=False)

    def use(self, backend: Reader) -> None:
        """Read another host's figures from now on (a read under way for the last one is dropped)."""
        self.sampler = StatsSampler(backend)
        self.side.tree.figures = {}

    def stats_read(self, event: StatsRead) -> None:
        if event.source is not None and event.source is not self.sampler:
            return  # read from a host no longer shown
        if event.hierarchy == self.session.hier:
            self.side.tree.set_figures(event.figures)
