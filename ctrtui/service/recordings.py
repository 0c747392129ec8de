"""The service's history operations (`HistoryOps`, a part of `LocalService`): a recording of
the served machine read (`history_sample`, `history_figures`, `history_timeline`,
`history_where`, `history_diff`) and written (`recorder_open`, `recorder_sample`, `recorder_close`).

TIME words are parsed here, against this machine's clock and this recording
(`ctrtui.history.query.parse_time`: `3m ago` and a batch id mean this machine's). `source`
names a recording (a directory or one file) on this machine; None is the one `ctrtui record`
writes for the backend (`default_history_dir`). A recording is read only when its owner is
this user or root, and never through a symbolic link (ctrtui/history/files.py). A host's agent
answers these for the local side (ctrtui/agent/historycalls.py).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ctrtui.history.replay import RecordedBackend
    from ctrtui.history.run import JournalFeed
    from ctrtui.history.writer import Recorder, StatsReader
    from ctrtui.service.values import RecordedFigures, RecordedSample, RecorderState, Timeline
    from ctrtui.sources.base import Backend

__all__ = ["HistoryOps"]


class HistoryOps:
    """What `LocalService` answers of recordings. It needs `backend` and `journal_path` of
    the service; it keeps one recording open for `history_sample` by index (a replay's
    steps: forward in the same file, only the deltas between are read) and at most one
    recorder."""

    journal_path: str | None
    _replayed: tuple[str, RecordedBackend] | None = None
    _read_warnings: tuple[str, ...] = ()  # what reading the last recording passed over
    _recorder: tuple[Recorder, JournalFeed, Sequence[str] | None, str | None, StatsReader | None] | None = None

    @property
    def backend(self) -> Backend:
        raise NotImplementedError  # the service's (LocalService.backend)

    def history_place(self, source: str | None) -> str:
        """The recording `source` names, or the default one of this backend."""
        if source:
            return source
        from ctrtui.history import default_history_dir

        return default_history_dir(self.backend.identity)

    def _recording(self, source: str | None) -> Any:
        from ctrtui.history import Recording

        rec = Recording(self.history_place(source))
        self._read_warnings = tuple(rec.warnings)
        return rec

    def history_warnings(self) -> tuple[str, ...]:
        """What reading the recording of the last history call met and passed over (a torn
        tail ignored), each a sentence."""
        return self._read_warnings

    def _replay(self, source: str | None, fresh: bool) -> RecordedBackend:
        place = self.history_place(source)
        if fresh or self._replayed is None or self._replayed[0] != place:
            from ctrtui.history.replay import RecordedBackend

            self._replayed = (place, RecordedBackend(self._recording(source)))
        return self._replayed[1]

    def history_timeline(self, source: str | None = None) -> Timeline:
        """Every sample's time and the journal's batches of the recording (opened afresh:
        the samples `history_sample` then steps through by index)."""
        from ctrtui.service.values import Timeline

        shown = self._replay(source, fresh=True)
        return Timeline(tuple(shown.sample_times()), tuple(shown.batches()))

    def history_sample(self, source: str | None = None, at: str | None = None,
                       index: int | None = None) -> RecordedSample:
        """The recorded world at the sample `index`, or at the last sample at or before TIME
        `at`, or at the last sample, of the recording as `history_timeline` opened it last
        (opened now when it did not); HistoryError (one sentence) when there is none such."""
        from ctrtui.history.query import parse_time
        from ctrtui.history.records import HistoryError
        from ctrtui.service.values import RecordedSample

        shown = self._replay(source, fresh=False)
        times = shown.sample_times()
        if index is not None:
            if not 0 <= index < len(times):
                raise HistoryError(f"the recording holds {len(times)} samples: there is no sample {index}")
            shown.jump(times[index])
        elif at is not None:
            shown.jump(parse_time(at, shown.rec))
        else:
            shown.jump(times[-1])
        snap = shown.snapshot()
        tids = sorted({t for hs in snap.hierarchies for c in hs.containers.values() for t in c.threads})
        tasks = {tid: (t.start_time, t.tgid, t.comm) for tid, t in shown.task_details(tids).items()}
        pos = times.index(shown.taken_at)
        return RecordedSample(pos, len(times), shown.taken_at, snap, tasks)

    def history_figures(self, hierarchy: str, paths: Sequence[str], index: int,
                        source: str | None = None) -> RecordedFigures:
        """The cgroups' figures recorded at the sample `index` (of the recording as
        `history_timeline` opened it last) of the cgroups `paths` of `hierarchy`
        (`RecordedBackend.recorded_figures`: a cgroup without a reading is left out);
        HistoryError when there is no such sample."""
        from ctrtui.history.records import HistoryError
        from ctrtui.service.values import RecordedFigures

        shown = self._replay(source, fresh=False)
        times = shown.sample_times()
        if not 0 <= index < len(times):
            raise HistoryError(f"the recording holds {len(times)} samples: there is no sample {index}")
        shown.jump(times[index])
        return RecordedFigures(index, shown.taken_at, shown.recorded_figures(hierarchy, paths))

    def history_where(self, pid: int, since: str | None = None, until: str | None = None,
                      source: str | None = None) -> list[dict[str, Any]]:
        """`ctrtui where PID`'s rows (ctrtui.history.where.task_trail), TIMEs parsed here."""
        from ctrtui.history.query import parse_time

        rec = self._recording(source)
        return list(rec.where(pid, parse_time(since, rec) if since else None,
                              parse_time(until, rec) if until else None))

    def history_diff(self, t1: str, t2: str, source: str | None = None) -> list[dict[str, Any]]:
        """`ctrtui diff T1 T2`'s rows (ctrtui.history.query.diff_rows), TIMEs parsed here."""
        from ctrtui.history.query import diff_rows, parse_time

        rec = self._recording(source)
        return diff_rows(rec, parse_time(t1, rec), parse_time(t2, rec))

    # ------------------------------------------------------------------ recording

    def recorder_open(self, directory: str | None, max_size: int, full_every: int,
                      names: Sequence[str] | None = None, subtree: str | None = None,
                      stats_every: int | None = None) -> RecorderState:
        """Start a recorder into `directory` (None: the default): the directory made and
        locked, a torn tail cut (HistoryError when another recorder holds it). It samples
        once per `recorder_sample`, until `recorder_close`, and reads the cgroups' figures
        (`S` records, `ctrtui.history.stats.read_stats`) every `stats_every` samples (0:
        never; None: `DEFAULT_STATS_EVERY`), as the local `record` does."""
        from functools import partial

        from ctrtui.engine.journal import default_journal_path
        from ctrtui.history.records import HistoryError
        from ctrtui.history.run import JournalFeed
        from ctrtui.history.stats import DEFAULT_STATS_EVERY, read_stats
        from ctrtui.history.writer import Recorder

        if self._recorder is not None:
            raise HistoryError("a recorder is running already: close it first")
        every = DEFAULT_STATS_EVERY if stats_every is None else stats_every
        place = self.history_place(directory)
        rec = Recorder(place, max_size=max_size, full_every=full_every, stats_every=every)
        rec.open()
        journal = self.journal_path or default_journal_path(self.backend.identity)
        stats = partial(read_stats, self.backend) if every else None
        self._recorder = (rec, JournalFeed(journal), names, subtree, stats)
        return self._recorder_state()

    def recorder_sample(self) -> RecorderState:
        """One sample written by the running recorder."""
        from ctrtui.history.records import HistoryError
        from ctrtui.history.run import take_sample

        if self._recorder is None:
            raise HistoryError("no recorder is running: open one first")
        rec, feed, names, subtree, stats = self._recorder
        take_sample(self.backend, rec, feed, names, subtree, stats)
        return self._recorder_state()

    def recorder_close(self) -> RecorderState | None:
        """Close the running recorder's file and let go of its lock (None: none ran). A
        sample is written whole or not at all, so nothing torn is left."""
        if self._recorder is None:
            return None
        state = self._recorder_state()
        self._recorder[0].close()
        self._recorder = None
        return state

    def _recorder_state(self) -> RecorderState:
        from ctrtui.service.values import RecorderState

        assert self._recorder is not None
        rec, feed = self._recorder[0], self._recorder[1]
        return RecorderState(rec.directory, rec.samples, rec.bytes_written, tuple(rec.warnings + feed.warnings))
