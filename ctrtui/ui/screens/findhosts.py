"""Find a PID or a command on every connected host (`F`): the query is asked of every host
at once (`HostFeed.find`, in a thread worker, each host bounded by its timeout); the hits
are listed as `host  PID  command  hierarchy:/path`, and `enter` jumps to the highlighted one
(switching host). A host that could not be asked is one line under the list, saying why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ctrtui.text import display, fit
from ctrtui.ui.hostviews import Hit
from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.untrusted import LiteralInput, message

if TYPE_CHECKING:
    from ctrtui.ui.peers import HostsPeer


def hit_line(hit: Hit, host_width: int = 16) -> str:
    """One hit as display text: `host  PID  command  hierarchy:/path` (every name escaped)."""
    return (f"{fit(display(hit.host), host_width):<{host_width}}  {hit.pid:>7}  {fit(display(hit.comm), 30):<30}  "
            f"{display(hit.hierarchy)}:{display(hit.path)}")


class FindOnHosts(Dialog[Hit | None]):
    """Ask for a PID or a piece of a command line; `enter` in the field searches every
    connected host, `enter` in the list jumps to the hit; `escape` closes."""

    DEFAULT_CSS = """
    FindOnHosts > #findhosts { width: 90%; max-width: 130; max-height: 85%; }
    FindOnHosts #findhosts-status { height: auto; color: $text-muted; }
    FindOnHosts #findhosts-problems { height: auto; color: $warning; }
    FindOnHosts OptionList { height: auto; max-height: 20; border: none; }
    """

    class Found(Message):
        """The hosts answered a query (`hits`; `problems`: one sentence per host not asked)."""

        def __init__(self, query: str, hits: list[Hit], problems: list[str]) -> None:
            self.query = query
            self.hits = hits
            self.problems = problems
            super().__init__()

    def __init__(self, feed: HostsPeer, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.feed = feed
        self.hits: list[Hit] = []
        """The hits listed (in the list's order)."""
        self.problems: list[str] = []
        """Hosts that could not be asked, one sentence each."""
        self.searching: str | None = None
        """The query being asked (None: none)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="findhosts", classes="dialog"):
            yield Label("Find a PID or a command on every host", id="findhosts-title", classes="dialog-title")
            yield LiteralInput(placeholder="PID (e.g. 1234) or part of a command line (e.g. nginx)",
                               id="findhosts-input")
            yield Static("", id="findhosts-status")
            yield OptionList(id="findhosts-list")
            yield Static("", id="findhosts-problems")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        query = event.value.strip()
        if not query:
            self.query_one("#findhosts-status", Static).update(Content("Type a PID or a piece of a command line."))
            return
        n = sum(1 for v in self.feed.views if v.usable)
        self.searching = query
        self.query_one("#findhosts-status", Static).update(message(
            f"Asking {n} host{'s' if n != 1 else ''} for {display(query)}…"))
        self._find(query)

    @work(thread=True, exclusive=True, group="find-hosts", name="find on hosts", exit_on_error=False)
    def _find(self, query: str) -> None:
        hits, problems = self.feed.find(query)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Found(query, hits, problems))

    @on(Found)
    def _found(self, event: Found) -> None:
        if event.query != self.searching:
            return
        self.searching = None
        self.hits, self.problems = event.hits, event.problems
        width = max((len(display(h.host)) for h in event.hits), default=8)
        ol = self.query_one(OptionList)
        ol.set_options([Option(message(hit_line(h, min(24, width)))) for h in event.hits])
        n = len(event.hits)
        self.query_one("#findhosts-status", Static).update(message(
            f"{n} hit{'s' if n != 1 else ''} for {display(event.query)}" + (": enter jumps to the highlighted one"
                                                                          if n else "")))
        self.query_one("#findhosts-problems", Static).update(message("\n".join(
            f"not asked: {p}" for p in event.problems)))
        if n:
            ol.highlighted = 0
            ol.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.hits):
            self.dismiss(self.hits[event.option_index])
