"""The recorder's loop (`ctrtui record`): sample, record, sleep, until SIGINT or SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from functools import partial

from ctrtui.history.records import batch_record
from ctrtui.history.stats import DEFAULT_STATS_EVERY, read_stats
from ctrtui.history.writer import Recorder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from ctrtui.history.writer import StatsReader
    from ctrtui.sources.base import Backend

__all__ = ["JournalFeed", "record", "take_sample"]


class JournalFeed:
    """The journal's closed batches as `J` records keep them, read again only when the
    journal file changed (size, time or inode)."""

    def __init__(self, path: str | None, limit: int = 200) -> None:
        self.path = path
        self.limit = limit
        self._seen: tuple[int, int, int] | None = None
        self.warnings: list[str] = []

    def batches(self) -> list[dict[str, Any]]:
        if self.path is None:
            return []
        try:
            st = os.stat(self.path)
        except OSError:
            return []
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        if key == self._seen:
            return []
        from ctrtui.engine.journal import Journal
        from ctrtui.errors import CtrtuiError

        try:
            found = Journal(self.path).batches(self.limit)
        except CtrtuiError as e:
            if str(e) not in self.warnings:
                self.warnings.append(str(e))
            return []
        self._seen = key
        out = []
        for b in reversed(found):
            r = batch_record(b)
            if r is not None:
                out.append(r)
        return out


def take_sample(backend: Backend, rec: Recorder, feed: JournalFeed, names: Sequence[str] | None = None,
                subtree: str | None = None, stats: StatsReader | None = None) -> None:
    """One sample of `backend` (the hierarchies `names`, from `subtree` down) written by
    `rec`, with the start times of the tasks new since the last, the journal's new batches
    and, when `rec` is due one, the cgroups' figures read by `stats` (what `record` does each
    time; a host's agent does it once per `recorder_sample`)."""
    snap = backend.snapshot(names, subtree)
    new = rec.new_tasks(snap)
    details = backend.task_details(new) if new else {}
    tasks = {tid: (t.start_time, t.tgid, t.comm[:64]) for tid, t in details.items()}
    rec.sample(snap, tasks, feed.batches(), stats=stats)


_STOP = (signal.SIGINT, signal.SIGTERM)


def record(backend: Backend, directory: str, interval: float, max_size: int, full_every: int,
           names: Sequence[str] | None = None, subtree: str | None = None, journal: str | None = None,
           samples: int | None = None, say: Callable[[str], None] | None = None,
           stats_every: int = DEFAULT_STATS_EVERY) -> Recorder:
    """Record until SIGINT or SIGTERM (or `samples` samples), the cgroups' figures every
    `stats_every` samples (0: never). The signals are blocked while a sample is taken and
    written, and waited for between samples, so a stop never tears a record."""
    feed = JournalFeed(journal)
    rec = Recorder(directory, max_size=max_size, full_every=full_every, stats_every=stats_every)
    stats = partial(read_stats, backend) if stats_every else None
    said: set[str] = set()

    def tell() -> None:  # each warning once, as soon as it is known (opening, a sample, the close)
        for w in rec.warnings + feed.warnings:
            if w not in said:
                said.add(w)
                if say:
                    say(w)

    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP)
    try:
        with rec:
            tell()
            n = 0
            while samples is None or n < samples:
                began = time.monotonic()
                take_sample(backend, rec, feed, names, subtree, stats)
                tell()
                n += 1
                if samples is not None and n >= samples:
                    break
                wait = max(0.0, interval - (time.monotonic() - began))
                if signal.sigtimedwait(_STOP, wait) is not None:
                    break
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
        tell()
    return rec
