"""The host switcher (`H`): every host with its state (connecting; ok with the round trip;
slow; dead with the one-sentence reason; read-only with why); `enter` shows the highlighted
host, `r` reconnects it, `escape` closes. It is redrawn as hosts change state, so a host that
answers (or dies) while it is open shows at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ctrtui.ui.hostviews import CONNECTING, DEAD, SLOW, HostView, host_line
from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.untrusted import message

if TYPE_CHECKING:
    from ctrtui.ui.peers import HostsPeer

_STYLE = {DEAD: "$error", SLOW: "$warning", CONNECTING: "$text-muted"}


class HostSwitcher(Dialog[HostView | None]):
    """Choose the host to show; `r` reconnects the highlighted one; `escape` returns None."""

    DEFAULT_CSS = """
    HostSwitcher > #hosts { width: 90%; max-width: 120; max-height: 80%; }
    HostSwitcher #hosts-help { height: 1; color: $text-muted; }
    HostSwitcher OptionList { height: auto; max-height: 30; border: none; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Back to the host shown"),
        Binding("r", "reconnect", "Reconnect", tooltip="Connect to the highlighted host again"),
    ]

    def __init__(self, feed: HostsPeer, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.feed = feed

    def compose(self) -> ComposeResult:
        with Vertical(id="hosts", classes="dialog"):
            yield Label("Hosts", id="hosts-title", classes="dialog-title")
            yield OptionList(*self._options(), id="hosts-list")
            yield Label("enter show  r reconnect  esc close", id="hosts-help")

    def _options(self) -> list[Option]:
        out = []
        current = self.feed.current
        for i, view in enumerate(self.feed.views):
            mark = "▶ " if view is current else "  "
            line = message(mark + host_line(view), _STYLE.get(view.state, ""))
            out.append(Option(line, id=f"host{i}"))
        return out

    @property
    def lines(self) -> list[str]:
        """What each host's line says (plain text), for tests and people alike."""
        ol = self.query_one(OptionList)
        return [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.focus()
        if self.feed.current in self.feed.views:
            ol.highlighted = self.feed.views.index(self.feed.current)

    def show_hosts(self) -> None:
        """Draw every host's line again (a state changed), keeping the highlight."""
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        ol.set_options(self._options())
        if keep is not None and keep < ol.option_count:
            ol.highlighted = keep

    def _highlighted(self) -> HostView | None:
        index = self.query_one(OptionList).highlighted
        return self.feed.views[index] if index is not None and index < len(self.feed.views) else None

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.feed.views[event.option_index])

    def action_reconnect(self) -> None:
        view = self._highlighted()
        if view is not None:
            self.feed.reconnect(view)
            self.show_hosts()
