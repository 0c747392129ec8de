"""The confirm screen: the risks of a move (from `ctrtui.engine.risk`), one sentence each."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ctrtui.engine import Plan
from ctrtui.report import plural
from ctrtui.ui.safe import content, message
from ctrtui.ui.widgets.linelist import LineList
from ctrtui.ui.words import KIND_STYLE, KIND_WORDS, counts_content


class ConfirmMove(ModalScreen[bool]):
    """Ask before a risky move: the risks, one sentence each, and the plan's counts.
    `y`/`enter` confirm, `n`/`escape` cancel."""

    DEFAULT_CSS = """
    ConfirmMove { align: center middle; }
    ConfirmMove > #confirm {
        width: 80%; max-width: 110; height: auto; max-height: 85%;
        border: heavy $warning; background: $panel; padding: 1 2;
    }
    ConfirmMove #confirm-title { text-style: bold; height: auto; }
    ConfirmMove #confirm-counts { height: auto; margin-bottom: 1; }
    ConfirmMove #confirm-risks { height: auto; max-height: 20; background: $panel; }
    ConfirmMove #confirm-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmMove Button { margin-left: 2; }
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
        with Vertical(id="confirm"):
            yield Static(Content.assemble(
                f"Move {plural(counts.get('move', 0), 'task')} to ",
                content(str(self.plan.target), "bold $accent"), "?"), id="confirm-title")
            yield Static(counts_content(counts, KIND_WORDS, KIND_STYLE), id="confirm-counts")
            risks = self.risks or ["Nothing risky was found."]
            yield LineList([Content.assemble(Content.styled("! ", "bold $warning"), message(r)) for r in risks],
                           hang=2, id="confirm-risks")
            with Horizontal(id="confirm-buttons"):
                yield Button("Move (y)", variant="warning", id="confirm-yes")
                yield Button("Cancel (n)", id="confirm-no")

    def on_mount(self) -> None:
        risks = self.query_one(LineList)
        risks.styles.height = min(20, max(1, sum(1 + len(r) // 90 for r in self.risks)))
        self.query_one("#confirm-yes", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        self.dismiss(False)
