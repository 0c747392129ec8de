"""The status bar at the top: the host (when there are several), backend, read-only or not,
snapshot age, live or paused.

It is redrawn by a 1 Hz timer, so what it shows changes as seldom as it can: while the
refresh keeps up, the age of what is shown is left out (`● live` says it) and the age of the
tree's counts goes in 10 s steps; a text equal to the one on screen draws nothing."""

from __future__ import annotations

import math
import time

from rich.text import Text
from textual.widgets import Static

from ctrtui.text import display, scrub


class StatusBar(Static):
    """The top line: backend (real/demo), read-only or not, snapshot age, live or paused."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    _shown: object = None

    def show_status(self, *, backend: str, read_only: str | None, taken_at: float | None,
                    paused: bool, busy: bool, hierarchy: str | None, cut: int = 0,
                    read_at: float | None = None, tree_at: float | None = None,
                    interval: float = 0.0, stretched: bool = False, budget: float = 0.0,
                    host: str | None = None, host_state: str | None = None, marked: int = 0,
                    recorded: bool = False) -> None:
        """Redraw from the app's state (`read_only` is the reason, None when moves work).
        `read_at`: when what is shown was last read (default `taken_at`); `tree_at`: when
        the whole tree (its counts) was; `interval`: seconds between two refresh ticks;
        `stretched`: that is longer than asked, to keep the ticks within `budget` (a share
        of one core): the bar then says both. `host`: the host shown, named when there are
        several (`host_state`: when it is not ok; `unreachable: why ...` for a dead host, already
        scrubbed). `marked`: how many tasks are marked. `recorded`: a recording is shown
        (`ctrtui replay`): its age and live or paused are left out (the time bar says them)."""
        text = Text()
        text.append("ctrtui", "bold")
        if host is not None:
            text.append(f"  host {display(host)}", "bold")
            if host_state and host_state.startswith("unreachable"):  # a dead host: why, and what to do
                text.append(f" {scrub(host_state)}", "bold reverse")
            elif host_state:
                text.append(f" ({scrub(host_state)})", "italic")
        text.append(f"  {backend}")
        if hierarchy:
            text.append(f"  [{display(hierarchy)}]")
        if read_only:
            text.append(f"  READ-ONLY ({scrub(read_only)})", "bold reverse")
        else:
            text.append("  moves enabled")
        now = time.time()
        read_at = read_at if read_at is not None else taken_at
        if recorded:
            pass
        elif read_at is None:
            text.append("  no snapshot yet")
        else:
            age = max(0.0, now - read_at)
            if paused or interval <= 0 or age > interval + 1.5:
                text.append(f"  snapshot {age:.0f}s ago")
        if tree_at is not None and read_at is not None and read_at - tree_at >= 10 and not recorded:
            text.append(f"  counts {age_text(now - tree_at)} old")
        if busy:
            text.append("  refreshing…", "italic")
        if marked:
            text.append(f"  {marked} marked", "italic")
        if cut:
            text.append(f"  {cut} cut (p puts)", "italic")
        if not recorded:
            text.append("  ❚❚ paused" if paused else "  ● live", "bold")
        if stretched and not paused and not recorded:
            text.append(f" every {math.ceil(interval)}s (refresh budget {budget * 100:.1f}% CPU)", "italic")
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)  # one line, always: no layout needed


def age_text(seconds: float) -> str:
    """An age in coarse steps: `10s`, `20s` … `50s`, then whole minutes (`3m`)."""
    if seconds < 60:
        return f"{int(max(0.0, seconds) // 10) * 10}s"
    return f"{int(seconds // 60)}m"
