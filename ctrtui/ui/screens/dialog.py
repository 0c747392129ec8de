"""The base of every modal screen the app pushes (`Dialog`), and of the two that ask yes or
no (`Question`): the shared look (a box in the middle, its bold title) and the shared keys
(`escape` cancels; `y`/`n` and the two buttons of a question).

A dialog puts its box in a container of class `dialog` and its title in a widget of class
`dialog-title`; a question's buttons sit in a container of class `dialog-buttons`, the yes
button of class `dialog-yes`, the other `dialog-no`. A subclass states only what differs
(the box's size, its own parts).
"""

from __future__ import annotations

from typing import TypeVar

from textual import on
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    """A modal box in the middle of the terminal; `escape` closes it with `cancelled()`."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > .dialog { height: auto; border: round $primary; background: $panel; padding: 0 1; }
    Dialog .dialog-title { text-style: bold; height: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def cancelled(self) -> ResultT | None:
        """What the dialog answers when cancelled (None: no answer)."""
        return None

    def action_cancel(self) -> None:
        self.dismiss(self.cancelled())


class Question(Dialog[bool]):
    """A yes-or-no question before something that changes the machine: `y` (or its button,
    focused first, so `enter`) answers True; `n`, `escape` or the other button False."""

    DEFAULT_CSS = """
    Question > .dialog { width: 80%; max-height: 85%; border: heavy $warning; padding: 1 2; }
    Question .dialog-title { height: auto; }
    Question .dialog-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    Question Button { margin-left: 2; }
    """

    def cancelled(self) -> bool:
        return False

    def on_mount(self) -> None:
        self.query_one(".dialog-yes", Button).focus()

    @on(Button.Pressed, ".dialog-yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, ".dialog-no")
    def _no(self) -> None:
        self.action_cancel()
