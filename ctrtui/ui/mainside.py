"""What the main screen (`ctrtui.ui.mainscreen.MainScreen`) asks of the app, as a typed
interface (`MainSide`, a `typing.Protocol`): the state it shows (the session's fields, the
host, the moves-off reasons) and the helpers its keys hand over to, by their classes. The app
(`ctrtui.ui.app.CtrtuiApp`) is the one implementation; the main screen never imports the app's
module (the app imports the main screen's: no circle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ctrtui.ui.screenside import ScreenSide

if TYPE_CHECKING:
    from textual.binding import Binding

    from ctrtui.model import HierarchySnapshot, Snapshot
    from ctrtui.sources.base import Reader
    from ctrtui.ui.cgroupactions import CgroupActions
    from ctrtui.ui.detailfeed import DetailFeed
    from ctrtui.ui.hostfeed import HostFeed
    from ctrtui.ui.live import LiveView
    from ctrtui.ui.moves import Moves
    from ctrtui.ui.navigate import Navigator
    from ctrtui.ui.statsfeed import StatsFeed

__all__ = ["MainSide"]


class MainSide(ScreenSide, Protocol):
    """Everything the main screen asks of the app (what a helper may ask, and more)."""

    threads: bool
    """Threads view (TIDs), or processes view (TGIDs)."""
    recursive: bool
    """The task list holds the tasks of the whole subtree."""

    @property
    def live(self) -> LiveView:
        """The snapshots."""

    @property
    def moves(self) -> Moves:
        """The moves of tasks."""

    @property
    def details(self) -> DetailFeed:
        """The detail line."""

    @property
    def navigator(self) -> Navigator:
        """Hierarchies, cgroups, PIDs."""

    @property
    def stats(self) -> StatsFeed:
        """The tree's figures and the meters."""

    @property
    def cgroup_ops(self) -> CgroupActions:
        """New, removed, frozen cgroups."""

    @property
    def hostfeed(self) -> HostFeed:
        """The hosts."""

    @property
    def backend(self) -> Reader:
        """The shown host's reader."""

    @property
    def hier(self) -> str:
        """The hierarchy shown."""

    @property
    def hierarchy_names(self) -> list[str]:
        """The shown host's hierarchies."""

    @property
    def snapshot(self) -> Snapshot | None:
        """The last snapshot (None before the first)."""

    @property
    def hs(self) -> HierarchySnapshot | None:
        """The shown hierarchy's last snapshot."""

    @property
    def read_only_reason(self) -> str | None:
        """Why moves are off (None: they are on, as far as reading goes)."""

    @property
    def policy_error(self) -> str | None:
        """Why the policy file cannot be used (None: it can, or there is none)."""

    @property
    def dispatching(self) -> bool:
        """A key is being handled, not the footer being drawn."""

    def main_mounted(self) -> None:
        """The main screen's panes are there."""

    def switch_hierarchy(self, name: str) -> None:
        """Show the hierarchy `name`."""

    def get_key_display(self, binding: Binding) -> str:
        """A bound key as the footer shows it."""
