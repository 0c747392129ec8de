"""Ask for a PID to jump to."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, Static

from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.untrusted import LiteralInput, message


class FindPid(Dialog[int | None]):
    """Ask for a PID. Input that is not a PID (or, with `exists`, not a known task) is
    answered with a sentence under the field; `enter` returns the PID, `escape` None."""

    DEFAULT_CSS = """
    FindPid > #findpid { width: 70; }
    FindPid #findpid-message { height: auto; color: $error; }
    """

    def __init__(self, exists: Callable[[int], bool] | None = None, pid_max: int | None = None,
                 *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.exists = exists
        self.pid_max = pid_max

    def compose(self) -> ComposeResult:
        with Vertical(id="findpid", classes="dialog"):
            yield Label("Find PID", id="findpid-title", classes="dialog-title")
            yield LiteralInput(placeholder="PID, e.g. 1234", id="findpid-input")
            yield Static("", id="findpid-message")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def message(self) -> str:
        """The sentence shown under the field (empty when none)."""
        return str(self.query_one("#findpid-message", Static).content)

    @on(Input.Changed)
    def _clear(self) -> None:
        self.query_one("#findpid-message", Static).update(Content(""))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        from ctrtui.engine.parse import PidParseError, parse_pid

        try:
            pid = parse_pid(event.value, self.pid_max)
        except PidParseError as exc:
            self.query_one("#findpid-message", Static).update(message(f"{exc.reason} {exc.advice}"))
            return
        if self.exists is not None and not self.exists(pid):
            self.query_one("#findpid-message", Static).update(Content(
                f"PID {pid} is not in the current snapshot: it may have exited. Refresh (r) or check the number."))
            return
        self.dismiss(pid)
