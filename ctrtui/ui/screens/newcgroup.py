"""Ask for the name of a new child cgroup, with the kernel's name rules checked as you type."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Static

from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.untrusted import LiteralInput, content, message


class NewCgroup(Dialog[str | None]):
    """The name of a new child of a cgroup. `problem(name)` says why a name cannot be used
    (None: it can); it is shown under the field at every keystroke, and `enter` is refused
    while there is one. `enter` returns the name, `escape` None."""

    DEFAULT_CSS = """
    NewCgroup > #newcg { width: 80%; max-width: 90; }
    NewCgroup #newcg-title { height: auto; width: 100%; }
    NewCgroup #newcg-message { height: auto; color: $error; }
    NewCgroup #newcg-message.ok { color: $success; }
    """

    def __init__(self, title: str, problem: Callable[[str], str | None], *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.title_text = title
        self.problem = problem

    def compose(self) -> ComposeResult:
        with Vertical(id="newcg", classes="dialog"):
            yield Static(content(self.title_text), id="newcg-title", classes="dialog-title")  # wraps: nothing is cut
            yield LiteralInput(placeholder="name of the new cgroup", id="newcg-input")
            yield Static(message("enter: create · escape: cancel"), id="newcg-message")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def message(self) -> str:
        """The sentence shown under the field."""
        return str(self.query_one("#newcg-message", Static).content)

    def _say(self, name: str) -> str | None:
        why = self.problem(name) if name else None
        line = self.query_one("#newcg-message", Static)
        line.set_class(why is None, "ok")
        line.update(message(why) if why else (Content("enter: create · escape: cancel")))
        return why

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._say(event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        why = self.problem(event.value)
        if why is not None:
            line = self.query_one("#newcg-message", Static)
            line.set_class(False, "ok")
            line.update(message(why))
            return
        self.dismiss(event.value)
