"""The confirm screen: the risks of a move (from `ctrtui.engine.risk`), one sentence each."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from ctrtui.engine.values import Plan
from ctrtui.report import plural
from ctrtui.ui.reportstyle import KIND_STYLE, KIND_WORDS, counts_content
from ctrtui.ui.screens.dialog import Question
from ctrtui.ui.untrusted import content, message
from ctrtui.ui.widgets.linelist import LineList


class ConfirmMove(Question):
    """Ask before a risky move: the risks, one sentence each, and the plan's counts.
    `y`/`enter` confirm, `n`/`escape` cancel."""

    DEFAULT_CSS = """
    ConfirmMove > #confirm { max-width: 110; }
    ConfirmMove #confirm-counts { height: auto; margin-bottom: 1; }
    ConfirmMove #confirm-risks { height: auto; max-height: 20; background: $panel; }
    """
    BINDINGS = [
        Binding("y", "confirm", "Move", tooltip="Go ahead with the move"),
        Binding("n", "cancel", "Cancel", tooltip="Do not move anything"),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, plan: Plan, risks: Sequence[str], *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.plan = plan
        self.risks = list(risks)

    def compose(self) -> ComposeResult:
        counts = self.plan.summary()
        with Vertical(id="confirm", classes="dialog"):
            yield Static(Content.assemble(
                f"Move {plural(counts.get('move', 0), 'task')} to ",
                content(str(self.plan.target), "bold $accent"), "?"), id="confirm-title", classes="dialog-title")
            yield Static(counts_content(counts, KIND_WORDS, KIND_STYLE), id="confirm-counts")
            risks = self.risks or ["Nothing risky was found."]
            yield LineList([Content.assemble(Content.styled("! ", "bold $warning"), message(r)) for r in risks],
                           hang=2, id="confirm-risks")
            with Horizontal(id="confirm-buttons", classes="dialog-buttons"):
                yield Button("Move (y)", variant="warning", id="confirm-yes", classes="dialog-yes")
                yield Button("Cancel (n)", id="confirm-no", classes="dialog-no")

    def on_mount(self) -> None:  # Question's on_mount (run too, by Textual) focuses the yes button
        risks = self.query_one(LineList)
        risks.styles.height = min(20, max(1, sum(1 + len(r) // 90 for r in self.risks)))
