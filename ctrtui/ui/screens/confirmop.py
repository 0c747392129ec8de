"""Ask before a cgroup op (remove, freeze, thaw): one question and what it means."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ctrtui.ui.safe import message


class ConfirmOp(ModalScreen[bool]):
    """`question` (display text) and `detail` (what follows, how to undo); `y`/`enter`
    confirm, `n`/`escape` cancel. The text wraps: nothing is cut at any width."""

    DEFAULT_CSS = """
    ConfirmOp { align: center middle; }
    ConfirmOp > #confirmop {
        width: 80%; max-width: 90; height: auto; max-height: 85%;
        border: heavy $warning; background: $panel; padding: 1 2;
    }
    ConfirmOp #confirmop-question { text-style: bold; height: auto; }
    ConfirmOp #confirmop-detail { height: auto; margin-top: 1; }
    ConfirmOp #confirmop-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmOp Button { margin-left: 2; }
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
        with Vertical(id="confirmop"):
            yield Static(message(self.question), id="confirmop-question")
            yield Static(message(self.detail), id="confirmop-detail")
            with Horizontal(id="confirmop-buttons"):
                yield Button(message(f"{self.yes} (y)"), variant="warning", id="confirmop-yes")
                yield Button("Cancel (n)", id="confirmop-no")

    def on_mount(self) -> None:
        self.query_one("#confirmop-yes", Button).focus()

    @on(Button.Pressed, "#confirmop-yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirmop-no")
    def action_cancel(self) -> None:
        self.dismiss(False)
