"""`ctrtui replay`: the terminal UI on a recording (ctrtui/history/replay.py's
`RecordedBackend`), read-only, with a time bar and the keys that move in time.

`ReplayApp` is the app on one host, the recording, whose moves, cgroup ops and undo are
refused with one sentence (`RECORDING`); its main screen (`ReplayScreen`) adds the time bar
(ctrtui/ui/widgets/timebar.py) above the status bar and the replay's keys; `Replay` moves the
recording from sample to sample and has the live view (`LiveView.refresh`) read the new
sample, so the panes are patched with the live diff highlight. The recording is read by the
refresh workers while the keys move it on the main thread: `RecordingReader` holds a lock
around both.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widget import Widget

from ctrtui.history.records import HistoryError
from ctrtui.text import display
from ctrtui.ui.app import CtrtuiApp
from ctrtui.ui.commands import CtrtuiCommands
from ctrtui.ui.hostviews import HostView, Link
from ctrtui.ui.mainscreen import MainScreen
from ctrtui.ui.widgets.status import StatusBar
from ctrtui.ui.widgets.timebar import TimeBar, TimeBarState

if TYPE_CHECKING:
    from ctrtui.engine.opvalues import OpResult
    from ctrtui.engine.values import Plan, Report, ScopeRequest, Via
    from ctrtui.history.replay import RecordedBackend
    from ctrtui.model import CgroupRef, Container, Hierarchy, Snapshot, TaskInfo
    from ctrtui.model.cgstats import Figures
    from ctrtui.model.task import CgroupState

__all__ = ["RECORDING", "SPEEDS", "RecordingMover", "RecordingReader", "Replay", "ReplayApp", "ReplayCommands",
           "ReplayScreen", "run"]

RECORDING = "this is a recording"
"""Why nothing can be changed (the status bar's READ-ONLY and every refusal say it)."""

SPEEDS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
"""The play speeds `+` and `-` step through."""

PLAY_MIN = 0.1
"""Seconds a played sample is shown at least (samples closer than that, at that speed)."""
PLAY_MAX = 10.0
"""...and at most (a gap in the recording is not waited out)."""


class RecordingReader:
    """The recording as the UI's `Reader`: each read, and each move in time (`moving`),
    holds one lock, so a refresh worker never reads a sample half applied."""

    kind = "history"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, recorded: RecordedBackend) -> None:
        self.recorded = recorded
        self.identity = recorded.identity
        self.lock = threading.RLock()

    @property
    def pid_max(self) -> int:
        return self.recorded.pid_max

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        with self.lock:
            return self.recorded.hierarchies()

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None, **_: Any) -> Snapshot:
        with self.lock:
            return self.recorded.snapshot(names, subtree)

    def read_cgroups(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Container | None]:
        with self.lock:
            return self.recorded.read_cgroups(hierarchy, paths)

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        with self.lock:
            return self.recorded.cgroup_state(hierarchy, path)

    def cgroup_stats(self, hierarchy: str, path: str, names: Collection[str] | None = None) -> dict[str, str]:
        return {}  # a recording keeps the figures, not the files: recorded_figures

    def recorded_figures(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Figures]:
        """The figures recorded at the sample shown (the tree's columns: `StatsSampler` asks)."""
        with self.lock:
            return self.recorded.recorded_figures(hierarchy, list(paths))

    def task_state(self, pid: int) -> TaskInfo | None:
        with self.lock:
            return self.recorded.task_state(pid)

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        with self.lock:
            return self.recorded.task_details(list(pids))

    def task_cgroups(self, pid: int) -> dict[str, str] | None:
        with self.lock:
            return self.recorded.task_cgroups(pid)

    def task_cgroup(self, pid: int, hierarchy: str) -> str | None:
        with self.lock:
            return self.recorded.task_cgroup(pid, hierarchy)

    def thread_ids(self, tgid: int) -> tuple[int, ...]:
        with self.lock:
            return self.recorded.thread_ids(tgid)


class RecordingMover:
    """The mover of a recording: every call is refused with the recording's sentence (the
    UI refuses before, `RECORDING` being its read-only reason; this is the backstop)."""

    def __init__(self, reader: RecordingReader) -> None:
        self.reader = reader

    @property
    def pid_max(self) -> int:
        return self.reader.pid_max

    systemd_host = False
    """A recording moves nothing, by any route."""

    def plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan:
        raise self.reader.recorded.refuse_write(f"move into {target.hierarchy}:{target.path}")

    def plan_scope(self, pids: Iterable[int | str], scope: ScopeRequest) -> Plan:
        raise self.reader.recorded.refuse_write(f"start the scope {scope.name}")

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        raise self.reader.recorded.refuse_write("move tasks")

    def undo(self) -> Report | OpResult | None:
        raise self.reader.recorded.refuse_write("undo")


class Replay:
    """Where the replay is (the recording's sample), whether it plays and how fast; each key
    of the time bar is a method. After each move in time the panes read the new sample."""

    def __init__(self, app: CtrtuiApp, reader: RecordingReader) -> None:
        self.app = app
        self.reader = reader
        recorded = reader.recorded
        self.times = recorded.sample_times()
        """Every sample's time, oldest first."""
        self.batches = recorded.batches()
        """The journal's batches the recording holds (with a time), oldest first."""
        self.speed = 1
        """The play speed (one of `SPEEDS`)."""
        self.playing = False
        self._timer: Timer | None = None

    @property
    def at(self) -> float:
        """The time of the sample shown."""
        return self.reader.recorded.taken_at

    @property
    def index(self) -> int:
        """The sample shown, counted from 0."""
        return bisect_right(self.times, self.at) - 1

    def state(self) -> TimeBarState:
        return TimeBarState(self.at, self.times[0], self.times[-1], self.index, len(self.times),
                            tuple(float(b["time"]) for b in self.batches), self.speed if self.playing else None)

    def show(self) -> None:
        """Draw the time bar and the status bar."""
        try:
            self.app.main.query_one(TimeBar).show(self.state())
        except NoMatches:  # not composed yet, or closing: nothing to draw into
            return
        self.app.update_status()

    # ------------------------------------------------------------------ moving in time

    def step(self, n: int) -> bool:
        """Show the sample `n` after the shown one (< 0: before); at either end say so."""
        before = self.at
        try:
            with self.reader.lock:
                moved = self.reader.recorded.step(n)
        except HistoryError as exc:  # a host's recording whose host went: said, nothing moves
            self.stop()
            self.app.notify(str(exc), severity="warning", title="Step")
            return False
        if not moved:
            self.stop()
            self.app.notify("The first sample of the recording is shown." if n < 0
                            else "The last sample of the recording is shown.", timeout=3)
            self.show()
            return False
        self._moved(before)
        return True

    def jump(self, at: float) -> None:
        """Show the last sample at or before `at` (a time before the first: said, nothing moves)."""
        before = self.at
        try:
            with self.reader.lock:
                self.reader.recorded.jump(at)
        except HistoryError as exc:
            self.app.notify(str(exc), severity="warning", title="Jump")
            return
        self._moved(before)

    def batch(self, step: int) -> None:
        """Show the first sample after the next (`step` 1) or previous (-1) batch of the journal."""
        here = self.index
        at = [bisect_left(self.times, float(b["time"])) for b in self.batches]
        found = ([i for i in at if i > here and i < len(self.times)] if step > 0
                 else [i for i in at if i < here])
        if not found:
            self.app.notify("No batch of the journal comes " + ("after" if step > 0 else "before")
                            + " this sample." if self.batches else "The recording holds no batch of the journal.",
                            timeout=3)
            return
        target = found[0] if step > 0 else found[-1]
        self.jump(self.times[target])

    def _moved(self, before: float) -> None:
        self.app.live.refresh()
        self.show()
        came = [b for b in self.batches if min(before, self.at) < float(b["time"]) <= max(before, self.at)]
        if came:
            b = came[-1]
            more = f" (and {len(came) - 1} more)" if len(came) > 1 else ""
            self.app.notify(f"ctrtui's batch {display(b['batch'])} moved {len(b['pids'])} task(s) in "
                            f"{display(b['hierarchy'])} between these samples{more}.", timeout=4)

    # ------------------------------------------------------------------ playing

    def toggle_play(self) -> None:
        if self.playing:
            self.stop()
        else:
            if self.index >= len(self.times) - 1:
                self.jump(self.times[0])  # at the end: play from the start
            self.playing = True
            self.app.live.paused = False
            self._arm()
        self.show()

    def stop(self) -> None:
        self.playing = False
        self.app.live.paused = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def faster(self, step: int) -> None:
        """The next speed up (`step` 1) or down (-1)."""
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, i + step))]
        if self.playing:
            self._arm()
        self.show()
        self.app.notify(f"Replay speed {self.speed}×", timeout=2)

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        i = self.index
        gap = self.times[i + 1] - self.times[i] if i + 1 < len(self.times) else 0.0
        self._timer = self.app.set_timer(max(PLAY_MIN, min(PLAY_MAX, gap / self.speed)), self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.playing and self.step(1):
            self._arm()

    # ------------------------------------------------------------------ asking for a time

    def ask_time(self) -> None:
        """Ask for a time (`JumpTime`) and show the sample at it."""
        from ctrtui.history.query import parse_time, seconds_back
        from ctrtui.service.servedrecording import ServedRecording
        from ctrtui.ui.screens.jumptime import JumpTime

        recorded, shown = self.reader.recorded, self.at
        if isinstance(recorded, ServedRecording):
            # `-5m` is before the sample shown, as in a local replay; a clock time or a batch id
            # is read on the host (its clock, its journal)
            served = recorded

            def parse(text: str) -> float:
                back = seconds_back(text)
                return shown - back if back is not None else served.time_of(text)
        else:
            rec = recorded.rec

            # `-5m` is before the sample shown, `HH:MM` on its day: where the replay is, not the wall clock
            def parse(text: str) -> float:
                return parse_time(text, rec, now=shown)
        self.app.push_screen(JumpTime(parse), lambda at: self.jump(at) if at is not None else None)


class ReplayScreen(MainScreen):
    """The main screen of a replay: the time bar above the status bar (the meters, which are
    this machine's now, are left out) and the replay's keys."""

    BINDINGS = [
        Binding("comma", "replay_step(-1)", "Back", tooltip="Show the sample before", id="replay-back"),
        Binding("full_stop", "replay_step(1)", "Forward", tooltip="Show the next sample", id="replay-forward"),
        Binding("less_than_sign", "replay_batch(-1)", "Prev batch", show=False,
                tooltip="Show the sample after the journal's previous batch", id="replay-prev-batch"),
        Binding("greater_than_sign", "replay_batch(1)", "Next batch", show=False,
                tooltip="Show the sample after the journal's next batch", id="replay-next-batch"),
        Binding("T", "replay_jump", "Jump to time", show=False,
                tooltip="Show the sample at a time (ISO, HH:MM[:SS], -5m, a batch id)", id="replay-jump"),
        Binding("p", "replay_play", "Play", tooltip="Play or pause the replay", id="replay-play"),
        Binding("plus", "replay_speed(1)", "Faster", show=False, tooltip="Play faster (1×, 2×, 4×, …)",
                id="replay-faster"),
        Binding("minus", "replay_speed(-1)", "Slower", show=False, tooltip="Play slower", id="replay-slower"),
        Binding("P", "replay_play", "Play/pause", show=False, tooltip="Play or pause the replay", id="replay-pause"),
    ]

    RECORDED = True

    def __init__(self, app: CtrtuiApp, replay: Replay) -> None:
        super().__init__(app)
        self.replay = replay

    def compose(self) -> ComposeResult:
        yield from _with_timebar(super().compose())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The keys that write are left out of the footer (room for the replay's keys at 80
        columns); pressed, they still run, to say that this is a recording."""
        if action in self.MOVING_ACTIONS and not self.ctrtui.dispatching:
            return False
        return super().check_action(action, parameters)

    def on_mount(self) -> None:
        self.query_one("#meters").display = False
        self.replay.show()

    def key_groups(self) -> list[tuple[str, list[Binding]]]:
        """The main screen's groups, the replay's keys second (those it takes over, `p` and
        `P`, left out of the first)."""
        mine = [b for b in ReplayScreen.BINDINGS if isinstance(b, Binding)]
        taken = {k for b in mine for k in b.key.split(",")}
        groups = super().key_groups()
        title, everywhere = groups[0]
        kept = [b for b in everywhere if not taken & set(b.key.split(","))]
        return [(title, kept), ("Replay (time bar)", mine), *groups[1:]]

    def action_replay_step(self, n: int) -> None:
        self.replay.step(n)

    def action_replay_batch(self, step: int) -> None:
        self.replay.batch(step)

    def action_replay_jump(self) -> None:
        self.replay.ask_time()

    def action_replay_play(self) -> None:
        self.replay.toggle_play()

    def action_replay_speed(self, step: int) -> None:
        self.replay.faster(step)


def _with_timebar(widgets: Iterable[Widget]) -> Iterator[Widget]:
    """`widgets` with the time bar just before the status bar."""
    for widget in widgets:
        if isinstance(widget, StatusBar):
            yield TimeBar(id="timebar")
        yield widget


class ReplayCommands(CtrtuiCommands):
    """The replay's entries in the command palette (ctrl+p), beside the app's."""

    ENTRIES: tuple[tuple[str, str, str], ...] = (
        ("Replay: previous sample", "replay_step(-1)", "Show the sample before (,)"),
        ("Replay: next sample", "replay_step(1)", "Show the next sample (.)"),
        ("Replay: previous batch", "replay_batch(-1)", "Show the sample after the journal's previous batch (<)"),
        ("Replay: next batch", "replay_batch(1)", "Show the sample after the journal's next batch (>)"),
        ("Replay: jump to a time…", "replay_jump", "ISO 8601, HH:MM[:SS] today, -5m, '3m ago' or a batch id (T)"),
        ("Replay: play or pause", "replay_play", "Play the recording at the speed shown, or stop (p)"),
        ("Replay: faster", "replay_speed(1)", "Double the play speed (+)"),
        ("Replay: slower", "replay_speed(-1)", "Halve the play speed (-)"),
    )


class ReplayApp(CtrtuiApp):
    """The terminal UI on a recording: one host, the recording, read-only."""

    COMMANDS = CtrtuiApp.COMMANDS | {ReplayCommands}

    def __init__(self, recorded: RecordedBackend, hierarchy: str | None = None, cgroup: str | None = None) -> None:
        reader = RecordingReader(recorded)
        view = HostView("recording", local=True)
        view.connected(Link(reader, RecordingMover(reader), read_only=RECORDING, pid_max=reader.pid_max))
        super().__init__(None, interval=0, hierarchy=hierarchy, cgroup=cgroup, hosts=[view])
        self.replay = Replay(self, reader)
        """The time: the sample shown, playing or not (`Replay`)."""
        self.main = ReplayScreen(self, self.replay)
        self.live.paused = True  # nothing is read again unless the time moves (or `r`)


def run(recorded: RecordedBackend, hierarchy: str | None = None, cgroup: str | None = None) -> None:
    """Entry used by the command line (`ctrtui replay`): the UI on `recorded` at its sample."""
    ReplayApp(recorded, hierarchy, cgroup).run()
