"""The task list's details of its rows (user, state, cpu, rss, command line), kept apart
from the widget that draws them (`ctrtui/ui/widgets/tasklist.py`): `TaskDetails` caches
them, says which rows want fresh ones (those painted, and one screen above and below so the
next page finds them ready), reads them from the backend, and takes in what a fetch or a
refresh tick brings, saying which rows changed. No Textual here: the widget runs the reads
in its thread workers and draws the rows that changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ctrtui.model import TaskInfo
from ctrtui.sources.base import Reader

DETAIL_CHUNK = 5000
"""PIDs per `task_details` call when a sort or filter needs every row's details."""


class TaskDetails:
    """Details of the task list's rows: the cache (`known`), the rows read in this
    generation of the list (`fresh`), those being read (`inflight`) and those wanted at the
    next fetch (`want`)."""

    def __init__(self) -> None:
        self.known: dict[int, TaskInfo] = {}
        """PID -> details (possibly from an earlier refresh)."""
        self.fresh: set[int] = set()
        """PIDs whose details were read since the list last changed (not asked again)."""
        self.inflight: set[int] = set()
        """PIDs whose details a worker is reading."""
        self.want: set[int] = set()
        """PIDs painted without fresh details: read at the next fetch."""
        self.scheduled = False
        """A fetch is due (`to_fetch` clears it)."""
        self.generation = 0
        """Counts the lists shown: a read of an older list does not make its rows fresh."""

    def new_list(self) -> None:
        """The list changed (a refresh, another cgroup): every row may be read again."""
        self.generation += 1
        self.fresh.clear()

    def schedule(self) -> bool:
        """A fetch is wanted: True when the caller must start one (none is due yet)."""
        if self.scheduled:
            return False
        self.scheduled = True
        return True

    def need(self, pid: int) -> bool:
        """Row `pid` is painted: wanted unless fresh or being read. True when the caller
        must start a fetch (see `schedule`)."""
        if pid in self.fresh or pid in self.inflight:
            return False
        self.want.add(pid)
        return self.schedule()

    def to_fetch(self, around: Iterable[int], absent: set[int]) -> tuple[int, ...]:
        """The PIDs to read now: those wanted, and those of `around` (the rows on screen and
        one screen on each side) that have no details at all and are not known `absent`
        (gone before their details were read); they are in flight from now."""
        self.scheduled = False
        known = self.known
        self.want.update(p for p in around if p not in absent and p not in known)
        pids = tuple(sorted(self.want - self.inflight - self.fresh))
        self.want.clear()
        self.inflight.update(pids)
        return pids

    @staticmethod
    def read(backend: Reader, pids: Sequence[int]) -> dict[int, TaskInfo]:
        """The details of `pids` from `backend`, `DETAIL_CHUNK` at a time (a thread worker's)."""
        got: dict[int, TaskInfo] = {}
        for i in range(0, len(pids), DETAIL_CHUNK):
            got.update(backend.task_details(pids[i:i + DETAIL_CHUNK]))
        return got

    def changed(self, infos: dict[int, TaskInfo]) -> dict[int, TaskInfo]:
        """Those of `infos` that differ from the cached ones."""
        known = self.known
        return {p: i for p, i in infos.items() if known.get(p) != i}

    def loaded(self, pids: tuple[int, ...], infos: dict[int, TaskInfo], generation: int,
               fading: Iterable[int], absent: set[int]) -> set[int]:
        """A fetch of `pids` came back with `infos` (the caller takes in `changed(infos)`
        first). Rows read in the current generation are fresh; a row without details is
        dropped from the cache (not one still `fading` out) and, in the current generation,
        added to `absent`. Returns the PIDs whose cached details were dropped."""
        self.inflight.difference_update(pids)
        current = generation == self.generation
        if current:
            self.fresh.update(pids)
        leaving = set(fading)
        dropped = set()
        for pid in pids:
            if pid not in infos and pid not in leaving:
                if self.known.pop(pid, None) is not None:
                    dropped.add(pid)
                if current:
                    absent.add(pid)
        return dropped

    def forget(self, keep: Iterable[int] | None = None) -> None:
        """Drop cached details (all, or all but `keep`), e.g. after a move."""
        if keep is None:
            self.known.clear()
        else:
            k = set(keep)
            self.known = {p: i for p, i in self.known.items() if p in k}
        self.fresh.clear()
