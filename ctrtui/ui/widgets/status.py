"""The status bar at the top: backend, read-only or not, snapshot age, live or paused."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from ctrtui.text import display


class StatusBar(Static):
    """The top line: backend (real/demo), read-only or not, snapshot age, live or paused."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    _shown: object = None

    def show_status(self, *, backend: str, read_only: str | None, taken_at: float | None,
                    paused: bool, busy: bool, hierarchy: str | None, cut: int = 0) -> None:
        """Redraw from the app's state (`read_only` is the reason, None when moves work)."""
        text = Text()
        text.append("ctrtui", "bold")
        text.append(f"  {backend}")
        if hierarchy:
            text.append(f"  [{display(hierarchy)}]")
        if read_only:
            text.append(f"  READ-ONLY ({read_only})", "bold reverse")
        else:
            text.append("  moves enabled")
        if taken_at is None:
            text.append("  no snapshot yet")
        else:
            age = max(0.0, time.time() - taken_at)
            text.append(f"  snapshot {age:.0f}s ago")
        if busy:
            text.append("  refreshing…", "italic")
        if cut:
            text.append(f"  {cut} cut (p puts)", "italic")
        text.append("  ❚❚ paused" if paused else "  ● live", "bold")
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)  # one line, always: no layout needed
