"""Go to a cgroup by fuzzy search over its path."""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList

from ctrtui.ui.fuzzy import FuzzyMatcher, RefMatcher
from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.untrusted import content
from ctrtui.ui.widgets.fuzzypaths import LIST_BINDINGS, FuzzyPaths


class GoToCgroup(Dialog[str | None]):
    """Fuzzy search over cgroup paths (of one hierarchy, or `HIER:/path` of every one with a
    `RefMatcher`); `enter` returns the highlighted item, `escape` None."""

    DEFAULT_CSS = """
    GoToCgroup > #goto { width: 80%; height: 80%; }
    """
    BINDINGS = [
        Binding("enter", "choose", "Go", show=False),
        *LIST_BINDINGS,
    ]

    def __init__(self, paths: Iterable[str] | FuzzyMatcher | RefMatcher, title: str = "Go to cgroup",
                 *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.matcher = paths if isinstance(paths, FuzzyMatcher | RefMatcher) else FuzzyMatcher(paths)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="goto", classes="dialog"):
            yield Label(content(self.title_text), id="goto-title", classes="dialog-title")
            yield FuzzyPaths(self.matcher)  # type: ignore[arg-type]  # RefMatcher: the same interface

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
