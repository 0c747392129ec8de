"""What the terminal UI's helpers (`LiveView`, `Moves`, `Navigator`, `DetailFeed`,
`StatsFeed`, `CgroupActions`, `HostFeed`) may ask of the screen side, as typed interfaces
(`typing.Protocol`): they hold a `ScreenSide` and the `Session`, never the App. The app
(`ctrtui.ui.app.CtrtuiApp`) is the one implementation; a test may hand a helper anything
that has these members.

The interface has four parts, one `Protocol` each:
- `Telling`: reaching the person (a notification, the detail line, a dialog, the status bar);
- `Threads`: running a named method in a thread worker (`run_named`: every worker of the UI
  is started there, by name and group, never an anonymous lambda) and coming back to the
  event loop (a message, a call from the thread, a call after the next paint, a timer);
- `Panes`: the main screen and its panes;
- `Peers`: the other helpers and the host shown, for the jobs that span two of them (a new
  cgroup's move goes through `Moves`, a refresh after a move through `LiveView`), each typed
  by the small protocol of `ctrtui.ui.peers` that names only what is asked of it, never by
  its class: so this module imports no helper's module, and no helper another's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.text import Text
    from textual.message import Message
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.timer import Timer
    from textual.widget import Widget
    from textual.worker import Worker

    from ctrtui.ui.hostviews import HostView
    from ctrtui.ui.peers import (
        CgroupOpsPeer,
        DetailsPeer,
        HostsPeer,
        LivePeer,
        MainPeer,
        MovesPeer,
        NavigatorPeer,
        StatsPeer,
    )
    from ctrtui.ui.widgets.detail import DetailLine
    from ctrtui.ui.widgets.tasklist import TaskList
    from ctrtui.ui.widgets.tree import CgroupTree

__all__ = ["Panes", "Peers", "ScreenSide", "Telling", "Threads"]


class Telling(Protocol):
    """Reaching the person."""

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False, escaped: bool = False) -> None:
        """A notification (plain text, escaped; `escaped`: display text already)."""

    def say(self, text: str | Text) -> None:
        """`text` on the detail line."""

    def show_screen(self, screen: Screen[Any], then: Callable[[Any], None] | None = None) -> None:
        """Open the dialog `screen`; `then` gets what it answers."""

    @property
    def screen(self) -> Screen[object]:
        """The screen on top."""

    def update_status(self) -> None:
        """Redraw the status bar."""

    def refresh_bindings(self) -> None:
        """Redraw the keys (which are enabled changed)."""

    def closing(self) -> bool:
        """No screen is left (the app is closing)."""

    def focused_widget(self) -> Widget | None:
        """The focused widget (None while closing)."""


class Threads(Protocol):
    """Working in threads, and coming back."""

    def run_named(self, job: Callable[..., object], *args: Any, name: str, group: str,
                  exclusive: bool = False) -> Worker[object]:
        """`job(*args)` in a thread worker called `name` in `group` (`exclusive`: the group's
        running worker is cancelled); an error it raises becomes a notification."""

    def post_message(self, message: Message) -> bool:
        """`message` to the app's queue (from any thread)."""

    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`callback(*args)` on the event loop, from a worker's thread (blocks until done)."""

    def call_after_refresh(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """`callback(*args)` after the next paint."""

    def set_timer(self, delay: float, callback: Callable[[], Any] | None = None, *, name: str | None = None,
                  pause: bool = False) -> Timer:
        """`callback()` once, `delay` seconds from now."""

    def set_interval(self, interval: float, callback: Callable[[], Any] | None = None, *,
                     name: str | None = None, repeat: int = 0, pause: bool = False) -> Timer:
        """`callback()` every `interval` seconds."""


class Panes(Protocol):
    """The main screen and its panes (those of the main screen, whatever screen is on top)."""

    @property
    def main(self) -> MainPeer:
        """The main screen."""

    @property
    def tree(self) -> CgroupTree:
        """The cgroup tree."""

    @property
    def tasks(self) -> TaskList:
        """The task list."""

    @property
    def detail_line(self) -> DetailLine | None:
        """The detail line (None before the main screen is mounted)."""


class Peers(Protocol):
    """The other helpers, and the hosts."""

    @property
    def live(self) -> LivePeer:
        """The snapshots (`LiveView`)."""

    @property
    def moves(self) -> MovesPeer:
        """The moves of tasks (`Moves`)."""

    @property
    def details(self) -> DetailsPeer:
        """The detail line (`DetailFeed`)."""

    @property
    def navigator(self) -> NavigatorPeer:
        """Hierarchies, cgroups, PIDs (`Navigator`)."""

    @property
    def stats(self) -> StatsPeer:
        """The tree's figures and the meters (`StatsFeed`)."""

    @property
    def cgroup_ops(self) -> CgroupOpsPeer:
        """New, removed, frozen cgroups (`CgroupActions`)."""

    @property
    def hostfeed(self) -> HostsPeer:
        """The hosts (`HostFeed`)."""

    asked_hierarchy: str | None
    """`--hierarchy`: where a host reached later opens too."""
    start_path: str | None
    """A cgroup to select once the first snapshot is shown (`--cgroup`)."""
    remember_start: bool
    """Remember the hierarchy shown, for the next start (`ctrtui.ui.start`)."""

    @property
    def host(self) -> HostView | None:
        """The host shown (None until one is reached)."""

    @property
    def pid_max(self) -> int | None:
        """The shown host's pid_max (None: not known yet)."""

    def use_host(self, view: HostView, then: Callable[[], None] | None = None) -> None:
        """Show the host `view`; `then` once its snapshot is on screen."""

    def action_refresh(self) -> None:
        """Take a new snapshot now (or reach dead hosts again)."""


class ScreenSide(Telling, Threads, Panes, Peers, Protocol):
    """Everything a helper may ask of the screen side (`ctrtui.ui.app.CtrtuiApp` has it)."""
