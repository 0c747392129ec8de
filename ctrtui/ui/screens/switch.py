"""Choose the hierarchy to show by name (the command palette's "Switch hierarchy…")."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ctrtui.ui.safe import content


class SwitchHierarchy(ModalScreen[str | None]):
    """Choose a hierarchy by name (for the command palette); `escape` returns None."""

    DEFAULT_CSS = """
    SwitchHierarchy { align: center middle; }
    SwitchHierarchy > #switch {
        width: 60; height: auto; max-height: 80%; border: round $primary; background: $panel; padding: 0 1;
    }
    SwitchHierarchy #switch-title { text-style: bold; height: 1; }
    SwitchHierarchy OptionList { height: auto; max-height: 20; border: none; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, names: Sequence[str], current: str | None = None,
                 labels: dict[str, str] | None = None, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.names = list(names)
        self.current = current
        self.labels = labels or {}

    def compose(self) -> ComposeResult:
        with Vertical(id="switch"):
            yield Label("Switch hierarchy", id="switch-title")
            yield OptionList(*[Option(Content(self.labels[n]) if n in self.labels else content(n), id=f"h{i}")
                               for i, n in enumerate(self.names)])

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.focus()
        if self.current in self.names:
            ol.highlighted = self.names.index(self.current)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.names[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
