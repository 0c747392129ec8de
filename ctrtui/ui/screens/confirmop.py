"""Ask before a cgroup op (remove, freeze, thaw): one question and what it means."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from ctrtui.ui.screens.dialog import Question
from ctrtui.ui.untrusted import message


class ConfirmOp(Question):
    """`question` (display text) and `detail` (what follows, how to undo); `y`/`enter`
    confirm, `n`/`escape` cancel. The text wraps: nothing is cut at any width."""

    DEFAULT_CSS = """
    ConfirmOp > #confirmop { max-width: 90; }
    ConfirmOp #confirmop-detail { height: auto; margin-top: 1; }
    """
    BINDINGS = [
        Binding("y", "confirm", "Yes"),
        Binding("n", "cancel", "Cancel"),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, question: str, detail: str, yes: str = "Yes", *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.question, self.detail, self.yes = question, detail, yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirmop", classes="dialog"):
            yield Static(message(self.question), id="confirmop-question", classes="dialog-title")
            yield Static(message(self.detail), id="confirmop-detail")
            with Horizontal(id="confirmop-buttons", classes="dialog-buttons"):
                yield Button(message(f"{self.yes} (y)"), variant="warning", id="confirmop-yes", classes="dialog-yes")
                yield Button("Cancel (n)", id="confirmop-no", classes="dialog-no")
