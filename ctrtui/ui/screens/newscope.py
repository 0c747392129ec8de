"""Ask for a new transient scope (the target picker's "new scope…" on a systemd host): its
name and optional properties, checked as you type with the check `move --scope` runs
(`ctrtui.engine.scopecheck.check_request`)."""

from __future__ import annotations

import shlex

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Static

from ctrtui.engine.scopecheck import check_request
from ctrtui.engine.values import ScopeRequest
from ctrtui.errors import CtrtuiError
from ctrtui.text import display
from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.untrusted import LiteralInput, content, message

#: What the line under the fields says while the request is fine.
READY = "enter: start the scope with the tasks · tab: next field · escape: back to the picker"


def scope_request(name: str, props: str, slice_name: str | None) -> ScopeRequest:
    """The request the fields spell (`props`: PROP=VALUE words, quoted as in a shell), or
    CtrtuiError saying what systemd would refuse, one sentence."""
    try:
        words = tuple(shlex.split(props))
    except ValueError as e:
        raise CtrtuiError(f"The properties cannot be read ({e}): write PROP=VALUE words, quoted as in a shell "
                          "(Description=\"a b\").") from None
    request = ScopeRequest(name.strip(), slice_name, words)
    check_request(request)
    return request


class NewScope(Dialog[ScopeRequest | None]):
    """A new scope's name (`*.scope`) and properties (`CPUWeight=50 MemoryMax=1G`, as
    `move -p` takes them), in the slice `slice_name` (None: systemd's default). What systemd
    would refuse is shown under the fields at every keystroke, and `enter` is refused while
    there is one. `enter` returns the `ScopeRequest`, `escape` None."""

    DEFAULT_CSS = """
    NewScope > #newscope { width: 80%; max-width: 100; }
    NewScope #newscope-title { height: auto; width: 100%; }
    NewScope #newscope-message { height: auto; color: $error; }
    NewScope #newscope-message.ok { color: $success; }
    """

    def __init__(self, count: str, slice_name: str | None, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.count = count
        self.slice_name = slice_name

    def compose(self) -> ComposeResult:
        where = f"in {display(self.slice_name)}" if self.slice_name else "in systemd's default slice (system.slice)"
        with Vertical(id="newscope", classes="dialog"):
            yield Static(content(f"Move {self.count} into a new scope {where}, started by systemd"),
                         id="newscope-title", classes="dialog-title")
            yield LiteralInput(placeholder="scope name, e.g. batch-jobs.scope", id="newscope-name")
            yield LiteralInput(placeholder="properties (optional), e.g. CPUWeight=50 MemoryMax=1G",
                               id="newscope-props")
            yield Static(message("type the scope's name (it ends in .scope) · escape: back"), id="newscope-message")

    def on_mount(self) -> None:
        self.query_one("#newscope-name", Input).focus()

    @property
    def message(self) -> str:
        """The sentence shown under the fields."""
        return str(self.query_one("#newscope-message", Static).content)

    def _check(self) -> ScopeRequest | None:
        """The request, or None with the reason shown under the fields."""
        name = self.query_one("#newscope-name", Input).value
        props = self.query_one("#newscope-props", Input).value
        line = self.query_one("#newscope-message", Static)
        try:
            request = scope_request(name, props, self.slice_name)
        except CtrtuiError as e:
            line.set_class(False, "ok")
            line.update(message(str(e)) if name or props else Content("type the scope's name (it ends in .scope)"))
            return None
        line.set_class(True, "ok")
        line.update(Content(READY))
        return request

    @on(Input.Changed)
    def _changed(self) -> None:
        self._check()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        request = self._check()
        if request is not None:
            self.dismiss(request)
