"""A recording as a read-only backend (`RecordedBackend`): the sources' `Reader` protocol
(ctrtui/sources/base.py) answered from the recorded world at one sample, with the moves
of a replay: the previous or next sample, a jump to a time, the sample times, the journal's
batches in a time range. What `ls --at`, `tasks --at`, `ctrtui replay` and a host's
recording read. It declares no capability: nothing can be written through it."""

from __future__ import annotations

from bisect import bisect_right

from ctrtui.history.reader import build_snapshot, states_of
from ctrtui.history.records import PID_LIMIT, SAMPLE_KINDS, HistoryError, TaskTable, task_info
from ctrtui.history.stats import RecordedStats
from ctrtui.model.snapshot import HierarchySnapshot, Snapshot, find_hierarchy, is_ancestor
from ctrtui.model.task import CgroupState
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence
    from typing import Any

    from ctrtui.history.reader import MemberState, Recording
    from ctrtui.model.cgstats import Figures
    from ctrtui.model.snapshot import Container, Hierarchy
    from ctrtui.model.task import TaskInfo

__all__ = ["READ_ONLY", "RecordedBackend"]

READ_ONLY = "a recording is read-only: it shows what was, and nothing can be moved, made or frozen in it"
"""The one sentence a write through a recording gets."""


class RecordedBackend:
    """The recorded world at one sample of `rec` (the last at or before `at`; default the
    last sample), read-only. `step`, `jump` move it to another sample: stepping forward in
    the same file applies only the deltas in between, anything else rebuilds from the full
    snapshot before the sample. The cgroups' figures recorded (`S` records) are answered by
    `recorded_figures` (with the rates of the recording's readings, not of when they are
    asked), so `cgroup_stats` (the files' text) is empty; command lines, users and states of
    tasks are not recorded."""

    kind = "history"
    identity = "history"
    capabilities: frozenset[str] = frozenset()
    read_only = READ_ONLY
    pid_max = PID_LIMIT

    def __init__(self, rec: Recording, at: float | None = None) -> None:
        self.rec = rec
        self._samples = _sample_indexes(rec)
        if not self._samples:
            rec.span()  # the sentence for a recording without a sample
        self._times = [rec.index[k][3] for k in self._samples]
        self._pos = -1
        self._states: dict[str, MemberState] = {}
        self._tasks: TaskTable | None = None
        self._snap: Snapshot | None = None
        self._located: dict[int, dict[str, str]] | None = None
        self._base: tuple[int, Snapshot, TaskTable] | None = None
        self._figures = RecordedStats(rec)
        self.jump(self._times[-1] if at is None else at)

    # -- the position

    @property
    def taken_at(self) -> float:
        """The time of the sample shown."""
        return self._times[self._pos]

    def sample_times(self) -> list[float]:
        """Every sample's time, oldest first (one per sample)."""
        return list(self._times)

    def jump(self, at: float) -> float:
        """Show the last sample at or before `at`; its time. HistoryError (one sentence)
        when `at` is before the first sample."""
        pos = bisect_right(self._times, at) - 1
        if pos < 0:
            self.rec.sample_index(at)  # raises the sentence naming what the recording holds
        self._go(pos)
        return self.taken_at

    def step(self, n: int = 1) -> bool:
        """Show the sample `n` after the one shown (`n` < 0: before); False, and nothing
        changed, when there is no such sample."""
        pos = self._pos + n
        if not 0 <= pos < len(self._times):
            return False
        self._go(pos)
        return True

    def next(self) -> bool:
        """Show the next sample; False at the last."""
        return self.step(1)

    def previous(self) -> bool:
        """Show the sample before; False at the first."""
        return self.step(-1)

    def batches(self, since: float | None = None, until: float | None = None) -> list[dict[str, Any]]:
        """The journal's batches (as `J` records keep them) written from `since` to `until`
        (both included; None: no bound), oldest first. A batch without a time is left out."""
        return [b for b in self.rec.batches() if b["time"] is not None
                and (since is None or b["time"] >= since) and (until is None or b["time"] <= until)]

    def _go(self, pos: int) -> None:
        if pos == self._pos:
            return
        k = self._samples[pos]
        here = self._samples[self._pos] if self._pos >= 0 else -1
        start = self.rec.full_before(k)
        if self._tasks is not None and 0 <= start <= here < k:  # forward in the same run of deltas
            for f, i, kind, _ in self.rec.index[here + 1:k + 1]:
                if kind == b"D":
                    self.rec.apply_delta(f, i, self._states, self._tasks)
        else:
            if start < 0:
                raise self.rec.corrupt(self.rec.index[k][0], 0, "it does not start with a full snapshot")
            snap, self._tasks = self._full(start)
            self._states = states_of(snap)
            for f, i, kind, _ in self.rec.index[start + 1:k + 1]:
                if kind == b"D":
                    self.rec.apply_delta(f, i, self._states, self._tasks)
        self._pos = pos
        self._snap = build_snapshot(self._states, self.rec.index[k][3])
        self._located = None

    def _full(self, start: int) -> tuple[Snapshot, TaskTable]:
        """The full snapshot at index `start` and a task table of its own (the deltas
        applied after it add to the table): decoded once, kept for the steps back that
        start from it again."""
        if self._base is None or self._base[0] != start:
            f, i, _, _ = self.rec.index[start]
            snap, table = self.rec.full(f, i)
            self._base = (start, snap, table)
        _, snap, table = self._base
        return snap, TaskTable(table.tids, table.starts, table.tgids, table.comms)

    # -- the Reader protocol

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        return tuple(hs.hierarchy for hs in self._shown().hierarchies)

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None, **_: Any) -> Snapshot:
        snap = self._shown()
        if names is None and subtree is None:
            return snap
        from types import MappingProxyType

        out = []
        for hs in snap.hierarchies:
            if names is not None and hs.name not in names:
                continue
            cs = hs.containers
            if subtree is not None:
                cs = MappingProxyType({p: c for p, c in cs.items() if is_ancestor(subtree, p)})
            out.append(HierarchySnapshot(hs.hierarchy, cs))
        return Snapshot(tuple(out), snap.taken_at, snap.backend)

    def read_cgroups(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Container | None]:
        hs = self._hierarchy(hierarchy)
        return {p: hs.containers.get(p) if hs is not None else None for p in paths}

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        """The cgroup's version when it was there at that time (what was not recorded is
        left unknown, and nothing is writable); None when it was not."""
        hs = self._hierarchy(hierarchy)
        if hs is None or path not in hs:
            return None
        return CgroupState(hs.name, path, hs.hierarchy.version)

    def cgroup_stats(self, hierarchy: str, path: str, names: Collection[str] | None = None) -> dict[str, str]:
        """Nothing: a recording keeps the figures, not the files (`recorded_figures`)."""
        return {}

    def recorded_figures(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Figures]:
        """The figures recorded of `paths` at the sample shown (ctrtui.history.stats.RecordedStats:
        the last `S` record at or before it, rates to the next one); a cgroup without a
        reading is left out."""
        hs = self._hierarchy(hierarchy)
        if hs is None:
            return {}
        return self._figures.figures(self._samples[self._pos], self._states, hs.name, paths)

    def task_state(self, pid: int) -> TaskInfo | None:
        """The task as recorded, when it was in a cgroup at that time."""
        return self._task(pid)

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        """What was recorded of each task there at that time (comm, TGID, start time)."""
        out = {}
        for p in pids:
            info = self._task(p)
            if info is not None:
                out[p] = info
        return out

    def task_cgroups(self, pid: int) -> dict[str, str] | None:
        """Hierarchy name -> the cgroup the task (thread) was in at that time."""
        where = self._where().get(pid)
        return dict(where) if where is not None else None

    def task_cgroup(self, pid: int, hierarchy: str) -> str | None:
        hs = self._hierarchy(hierarchy)
        where = self._where().get(pid)
        if hs is None or where is None:
            return None
        return where.get(hs.name)

    def thread_ids(self, tgid: int) -> tuple[int, ...]:
        """The recorded threads of the thread group that were there at that time."""
        tasks = self._tasks
        if tasks is None:
            return ()
        live = self._where()
        found = [t for t in live if (row := tasks.get(t)) is not None and (row[2] or t) == tgid]
        return tuple(sorted(found)) if tgid in found else ()

    def refuse_write(self, what: str) -> HistoryError:
        """The error for an attempt to change the recorded world (`what`: the action, e.g. `move PID 42`)."""
        return HistoryError(f"cannot {display(what)}: {READ_ONLY}")

    # -- helpers

    def _shown(self) -> Snapshot:
        assert self._snap is not None
        return self._snap

    def _hierarchy(self, word: str) -> HierarchySnapshot | None:
        return find_hierarchy(self._shown().hierarchies, word, key=lambda hs: hs.hierarchy)

    def _where(self) -> dict[int, dict[str, str]]:
        """TID -> {hierarchy: cgroup} of the sample shown, made on first use."""
        if self._located is None:
            located: dict[int, dict[str, str]] = {}
            for hs in self._shown().hierarchies:
                name = hs.name
                for p, c in hs.containers.items():
                    for tid in c.threads:
                        located.setdefault(tid, {})[name] = p
            self._located = located
        return self._located

    def _task(self, pid: int) -> TaskInfo | None:
        if self._tasks is None or pid not in self._where():
            return None
        row = self._tasks.get(pid)
        return task_info(row) if row is not None else None


def _sample_indexes(rec: Recording) -> list[int]:
    """The index (in rec.index) of each sample: one per time, the full snapshot where a
    delta and a full snapshot share it (the same state, decoded without deltas)."""
    out: list[int] = []
    last: float | None = None
    for k, (_, _, kind, t) in enumerate(rec.index):
        if kind not in SAMPLE_KINDS:
            continue
        if t == last and out:
            out[-1] = k
        else:
            out.append(k)
        last = t
    return out
