"""The replay's time bar (`TimeBar`, one line above the status bar of `ctrtui replay`): the
time of the sample shown, its place in the recording on a bar between the first and the
last sample's times, the journal's batches as marks on that bar (what ctrtui moved, and
when), and "playing N×" while the replay plays. `timebar_text` draws it for a width."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

BAR_MIN = 8
"""Fewest cells of bar; below that the bar is left out and the times alone are shown."""
BAR_WANTED = 20
"""Below this many cells of bar the count of batches is left out, for the bar's sake."""


@dataclass(frozen=True)
class TimeBarState:
    """What the time bar shows."""

    at: float
    """The time of the sample shown (seconds since the epoch)."""
    start: float
    """The first sample's time."""
    end: float
    """The last sample's time."""
    index: int
    """The sample shown, counted from 0."""
    count: int
    """How many samples the recording holds."""
    batches: tuple[float, ...] = ()
    """The times of the journal's batches in the recording."""
    speed: int | None = None
    """Playing at this speed (1, 2, 4, ...); None: not playing."""


def _clock(t: float, with_day: bool) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S" if with_day else "%H:%M:%S", time.localtime(t))


def _cell(t: float, start: float, end: float, cells: int) -> int:
    if end <= start or cells <= 1:
        return 0
    return max(0, min(cells - 1, round((t - start) / (end - start) * (cells - 1))))


def timebar_text(state: TimeBarState, width: int) -> Text:
    """The bar of `state` in at most `width` cells: `▶ TIME  n/N  START ━━●━┃━ END  batches`
    (the cell of the sample shown is `●`, each cell holding a batch `┃`)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("▶ " if state.speed is not None else "■ ", "bold")
    text.append(_clock(state.at, True), "bold")
    text.append(f"  {state.index + 1}/{state.count}", "dim")
    playing = f"  playing {state.speed}×" if state.speed is not None else ""
    day = time.localtime(state.start)[:3] != time.localtime(state.end)[:3]
    first, last = _clock(state.start, day), _clock(state.end, day)
    marks = f"  {len(state.batches)} batch{'es' if len(state.batches) != 1 else ''}"
    used = text.cell_len + len(first) + len(last) + 4 + len(playing)
    cells = width - used - len(marks)
    if cells < BAR_WANTED:
        marks = ""
        cells = width - used
    if cells >= BAR_MIN:
        text.append(f"  {first} ", "dim")
        bar = ["━"] * cells
        for b in state.batches:
            if state.start <= b <= state.end:
                bar[_cell(b, state.start, state.end, cells)] = "┃"
        here = _cell(state.at, state.start, state.end, cells)
        for i, ch in enumerate(bar):
            text.append("●" if i == here else ch, "bold" if i == here else "yellow" if ch == "┃" else "dim")
        text.append(f" {last}", "dim")
        text.append(marks, "dim")
    if playing:
        text.append(playing, "bold")
    return text


class TimeBar(Widget):
    """The time bar: `show` gives it what to draw; drawn again at each resize."""

    DEFAULT_CSS = """
    TimeBar { height: 1; background: $boost; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.state: TimeBarState | None = None
        """What is shown (None: nothing yet)."""

    def show(self, state: TimeBarState) -> None:
        """Draw `state` (nothing is drawn when it is what is shown)."""
        if state != self.state:
            self.state = state
            self.refresh()

    def render(self) -> Text:
        if self.state is None:
            return Text("reading the recording…", style="dim")
        return timebar_text(self.state, max(1, self.content_region.width))
