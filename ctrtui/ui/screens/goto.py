"""Go to a cgroup by fuzzy search over its path."""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList

from ctrtui.ui.fuzzy import FuzzyMatcher
from ctrtui.ui.safe import content
from ctrtui.ui.widgets.fuzzypaths import LIST_BINDINGS, FuzzyPaths


class GoToCgroup(ModalScreen[str | None]):
    """Fuzzy search over cgroup paths; `enter` returns the highlighted path, `escape` None."""

    DEFAULT_CSS = """
    GoToCgroup { align: center middle; }
    GoToCgroup > #goto {
        width: 80%; height: 80%; border: round $primary; background: $panel; padding: 0 1;
    }
    GoToCgroup #goto-title { text-style: bold; height: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "choose", "Go", show=False),
        *LIST_BINDINGS,
    ]

    def __init__(self, paths: Iterable[str] | FuzzyMatcher, title: str = "Go to cgroup",
                 *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.matcher = paths if isinstance(paths, FuzzyMatcher) else FuzzyMatcher(paths)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="goto"):
            yield Label(content(self.title_text), id="goto-title")
            yield FuzzyPaths(self.matcher)

    def on_mount(self) -> None:
        self.query_one("#fuzzy-input", Input).focus()

    def action_list(self, action: str) -> None:
        self.query_one(FuzzyPaths).move(action)

    @on(Input.Submitted)
    @on(OptionList.OptionSelected)
    def action_choose(self) -> None:
        path = self.query_one(FuzzyPaths).highlighted
        if path is not None:
            self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
