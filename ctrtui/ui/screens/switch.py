"""Choose the hierarchy to show by name (the command palette's "Switch hierarchy…")."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.untrusted import content


class SwitchHierarchy(Dialog[str | None]):
    """Choose a hierarchy by name (for the command palette); `escape` returns None."""

    DEFAULT_CSS = """
    SwitchHierarchy > #switch { width: 60; max-height: 80%; }
    SwitchHierarchy OptionList { height: auto; max-height: 20; border: none; }
    """

    def __init__(self, names: Sequence[str], current: str | None = None,
                 labels: dict[str, str] | None = None, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.names = list(names)
        self.current = current
        self.labels = labels or {}

    def compose(self) -> ComposeResult:
        with Vertical(id="switch", classes="dialog"):
            yield Label("Switch hierarchy", id="switch-title", classes="dialog-title")
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
