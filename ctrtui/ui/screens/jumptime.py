"""Ask for a time to jump to in a replay (`JumpTime`): the TIME words of `--at` (ISO 8601,
HH:MM[:SS] today, -5m, '3m ago', a batch id), read by the caller's `parse` into seconds
since the epoch."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, Static

from ctrtui.history.records import HistoryError
from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.untrusted import LiteralInput, message


class JumpTime(Dialog[float | None]):
    """Ask for a time. What `parse` refuses (a HistoryError's sentence) is said under the
    field; `enter` returns the time, `escape` None."""

    DEFAULT_CSS = """
    JumpTime > #jumptime { width: 76; max-width: 95%; }
    JumpTime #jumptime-message { height: auto; color: $error; }
    """

    def __init__(self, parse: Callable[[str], float], *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.parse = parse

    def compose(self) -> ComposeResult:
        with Vertical(id="jumptime", classes="dialog"):
            yield Label("Jump to a time", id="jumptime-title", classes="dialog-title")
            yield LiteralInput(placeholder="2026-12-07T03:12, 03:12[:30], -5m (before the sample shown), a batch id",
                               id="jumptime-input")
            yield Static("", id="jumptime-message")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def message(self) -> str:
        """The sentence shown under the field (empty when none)."""
        return str(self.query_one("#jumptime-message", Static).content)

    @on(Input.Changed)
    def _clear(self) -> None:
        self.query_one("#jumptime-message", Static).update(Content(""))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            at = self.parse(event.value)
        except HistoryError as exc:
            self.query_one("#jumptime-message", Static).update(message(str(exc)))
            return
        self.dismiss(at)
