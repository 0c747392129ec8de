"""What one helper of the terminal UI asks of another, and what a hosts dialog asks of the
hosts, as small typed interfaces (`typing.Protocol`) that name only the members used across:
`ScreenSide.live` is a `LivePeer`, not the `LiveView` class, so no helper's module imports
another helper's, nor the main screen's (the type-level imports make no circle).

The classes (`LiveView`, `Moves`, `DetailFeed`, `Navigator`, `StatsFeed`, `CgroupActions`,
`HostFeed`, `MainScreen`) have these members; mypy checks it where the app hands itself to
its helpers as their `ScreenSide`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from textual.widget import Widget

    from ctrtui.engine.opvalues import OpResult
    from ctrtui.model import CgroupRef, TaskInfo
    from ctrtui.ui.hostviews import Hit, HostView
    from ctrtui.ui.messages import DetailKey

__all__ = ["CgroupOpsPeer", "DetailsPeer", "HostsPeer", "LivePeer", "MainPeer", "MovesPeer",
           "NavigatorPeer", "StatsPeer"]

W = TypeVar("W", bound="Widget")


class LivePeer(Protocol):
    """What is asked of `LiveView` (the snapshots)."""

    @property
    def refreshing(self) -> bool:
        """A snapshot is being taken."""

    def load(self, infos: dict[int, TaskInfo] | None = None) -> None:
        """Show the last snapshot of the hierarchy shown."""

    def read_markers(self, paths: list[str]) -> None:
        """Read the tree's markers (state, figures) of `paths` again."""


class MovesPeer(Protocol):
    """What is asked of `Moves` (the moves of tasks)."""

    @property
    def drag_target(self) -> str | None:
        """The cgroup a drag is over (None: no drag)."""

    def refused(self, doing: str = "move") -> bool:
        """Moves are off: say why (True) or not (False)."""

    def selection(self) -> list[int]:
        """The PIDs selected in the task list (none: it says so)."""

    def start_times(self, pids: Iterable[int]) -> dict[int, int]:
        """Start times the UI saw for `pids` (the PID-reuse guard compares against them)."""

    def plan(self, pids: list[int], target: CgroupRef, threads: bool, starts: dict[int, int],
             purpose: str) -> None:
        """Plan the move of `pids` into `target`, then confirm and apply it."""


class DetailsPeer(Protocol):
    """What is asked of `DetailFeed` (the detail line)."""

    key: DetailKey | None
    """What the detail line tells of (None: read it again at the next refresh)."""

    def refresh(self) -> None:
        """Tell of the cursor's task or cgroup."""


class NavigatorPeer(Protocol):
    """What is asked of `Navigator` (hierarchies, cgroups, PIDs)."""

    def switch(self, name: str) -> None:
        """Show the hierarchy `name`."""

    def go_to(self, path: str | None) -> None:
        """Put the tree's cursor on the cgroup `path`."""

    def find_pid(self, pid: int | None) -> None:
        """Show the cgroup and the row of `pid`."""


class StatsPeer(Protocol):
    """What is asked of `StatsFeed` (the tree's figures and the meters)."""

    def job(self) -> Callable[[], None] | None:
        """The reading a snapshot's worker does too (None: nothing to read)."""

    def refresh(self, meters: bool = True) -> None:
        """Read the figures (and the meters) again."""


class CgroupOpsPeer(Protocol):
    """What is asked of `CgroupActions` (new, removed, frozen cgroups)."""

    def done(self, result: OpResult, then: Callable[[], None] | None = None) -> None:
        """Tell of `result`; `then` after a success."""


class HostsPeer(Protocol):
    """What the hosts dialogs ask of `HostFeed`."""

    @property
    def views(self) -> list[HostView]:
        """Every host, in the order given."""

    @property
    def current(self) -> HostView | None:
        """The host shown (None until one is reached)."""

    def reconnect(self, view: HostView) -> None:
        """Let go of `view`'s connection and reach it again."""

    def find(self, query: str) -> tuple[list[Hit], list[str]]:
        """The tasks matching `query` on every usable host, and the hosts' problems."""


class MainPeer(Protocol):
    """What is asked of `MainScreen` (the main screen's panes)."""

    @overload
    def query_one(self, selector: str) -> Widget: ...

    @overload
    def query_one(self, selector: type[W]) -> W: ...

    @overload
    def query_one(self, selector: str, expect_type: type[W]) -> W: ...

    def show_tasks(self) -> None:
        """Show the tasks of the cursor's cgroup."""
