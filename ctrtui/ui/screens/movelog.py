"""The move log: every outcome of every batch of this run."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Footer, Label

from ctrtui.engine.values import Report
from ctrtui.report import plural
from ctrtui.ui.reportstyle import report_lines
from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.widgets.linelist import LineList


class MoveLog(Dialog[None]):
    """Every outcome of this run, newest batch first, coloured by outcome, with the reason
    and advice for each PID that did not move. `escape`/`q` close it. It fills the terminal;
    being modal, the main screen's keys (m, x, p, u...) do not act behind it."""

    DEFAULT_CSS = """
    MoveLog { background: $background; align: left top; }
    MoveLog #movelog-title {
        height: 1; text-style: bold; background: $primary; color: $text; padding: 0 1; width: 1fr;
    }
    MoveLog #movelog-lines { height: 1fr; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Close", tooltip="Back to the main screen"),
        Binding("q", "cancel", "Close", show=False),
    ]

    def __init__(self, reports: Sequence[Report], *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.reports = list(reports)

    def compose(self) -> ComposeResult:
        n = sum(len(r.outcomes) for r in self.reports)
        title = (f"Move log: {plural(len(self.reports), 'batch')}, {plural(n, 'outcome')}, newest first"
                 if self.reports else "Move log: nothing moved yet in this run")
        yield Label(Content(title), id="movelog-title")
        yield LineList(report_lines(self.reports), hang=16, id="movelog-lines")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(LineList).focus()
