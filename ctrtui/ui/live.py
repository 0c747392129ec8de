"""The live refresh cycle of the main screen, as an object of its own (`LiveView`).

A snapshot is taken in a thread worker (the first one starts with the app object, see
`FirstSnapshot`) and comes back as a `SnapshotTaken` message; it is merged with the last
known snapshot of the hierarchies not taken, diffed against the shown one, and the tree and
the task list are patched from the diff rather than rebuilt. Tree markers (frozen, limits)
are read in another worker. The next refresh is armed when one finishes (or fails), so
refreshes never overlap; pausing stops the timer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from textual.timer import Timer
from textual.widgets import Select, Tree

from ctrtui.model import Hierarchy, Snapshot, TaskInfo
from ctrtui.model.snapshot import diff_hierarchy
from ctrtui.sources.base import Backend
from ctrtui.text import display
from ctrtui.ui import heap
from ctrtui.ui.messages import MarkersRead, SnapshotTaken
from ctrtui.ui.safe import content
from ctrtui.ui.widgets.tree import Markers, needs_state

if TYPE_CHECKING:
    from ctrtui.ui.app import CtrtuiApp

MARKER_READ_LIMIT = 1000
"""On refresh, cgroup state for markers is re-read for up to this many built nodes; above
it only cgroups that appeared are read (the rest keep their markers)."""


class FirstSnapshot:
    """The first snapshot of every hierarchy, taken in a thread that starts with the app
    object, so it is read while Textual starts up rather than after (with a small world or
    a fast backend it is there by the time the screen is mounted: one paint, with content)."""

    def __init__(self, backend: Backend) -> None:
        self.result: tuple[Snapshot, list[str]] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        threading.Thread(target=self._take, args=(backend,), name="ctrtui first snapshot", daemon=True).start()

    def _take(self, backend: Backend) -> None:
        try:
            names = [h.name for h in backend.hierarchies()]
            self.result = (backend.snapshot(None), names)
        except BaseException as exc:  # noqa: BLE001 - handed to the app, which reports it
            self.error = exc
        finally:
            self.done.set()


def default_hierarchy(hs: Sequence[Hierarchy]) -> str:
    """Of the mounted `hs`: the v2 hierarchy when it carries real controllers, else
    name=systemd, else the first one."""
    for h in hs:
        if h.version == 2 and set(h.controllers) & {"cpu", "memory", "pids", "io"}:
            return h.name
    for h in hs:
        if h.name == "name=systemd":
            return h.name
    return hs[0].name if hs else ""


def best_hierarchy(snap: Snapshot, current_name: str) -> str | None:
    """With the first snapshot: keep a v2 hierarchy with real controllers, else show the
    one with the most cgroups (name=systemd first among equals): a flat hierarchy with
    only a root is the least informative start."""
    current = snap.get(current_name)
    if current is not None and current.hierarchy.version == 2 and len(current.containers) > 1:
        return current_name
    ranked = sorted(snap.hierarchies, key=lambda h: (-len(h.containers), h.name != "name=systemd"))
    return ranked[0].name if ranked else None


def merge(old: Snapshot | None, new: Snapshot, names: list[str]) -> Snapshot:
    """`new`'s hierarchies, plus the last known snapshot of every other mounted one."""
    by_name = {h.name: h for h in old.hierarchies} if old is not None else {}
    by_name.update((h.name, h) for h in new.hierarchies)
    return Snapshot(tuple(by_name[n] for n in names if n in by_name), new.taken_at, new.backend)


class LiveView:
    """Keeps the main screen's snapshot fresh: takes snapshots in a worker, patches the tree
    and the task list from the diff, reads markers, and re-arms the auto-refresh timer.

    It owns the refresh state (`paused`, `refreshing`, the timer); the snapshot itself and
    the view choices (hierarchy, threads, subtree) stay on the app, which every part reads.
    """

    def __init__(self, app: CtrtuiApp, backend: Backend, interval: float) -> None:
        self.app = app
        self.backend = backend
        self.interval = interval
        """Seconds between automatic refreshes (0: none)."""
        self.paused = False
        """Auto-refresh is stopped (`P`)."""
        self.refreshing = False
        """A snapshot worker is running (the status bar says so)."""
        self._timer: Timer | None = None
        self.first: FirstSnapshot | None = FirstSnapshot(backend)
        """The first snapshot, taken while Textual starts (None once used)."""

    # ------------------------------------------------------------------ start, refresh

    def start(self) -> None:
        """On mount: show the first snapshot if it is there already, else wait for it."""
        self.refreshing = True
        first, self.first = self.first, None
        if first is not None and first.done.is_set() and first.error is None and first.result is not None:
            self.snapshot_taken(SnapshotTaken(first.result[0], first.result[1], {}))
        elif first is not None:
            self.app.run_worker(lambda: self._wait_first(first), thread=True, exclusive=True, group="snapshot",
                                exit_on_error=False, name="snapshot")
        else:
            self.refresh()

    def _wait_first(self, first: FirstSnapshot) -> None:
        first.done.wait()
        if first.error is not None:
            raise first.error
        assert first.result is not None
        self.app.post_message(SnapshotTaken(first.result[0], first.result[1], {}))

    def refresh(self) -> None:
        """Take a new snapshot in a worker; the panes are patched when it arrives. Only the
        shown hierarchy is taken (all of them the first time, to pick the one to show and
        for the risk checks); the others are refreshed when they are switched to."""
        self.refreshing = True
        app = self.app
        first = app.snapshot is None
        only = None if first else app.hier
        pids = [] if first else app.tasks.visible_pids()
        stats = None if first else app.stats.job()  # the tree's figures and the meters
        app.run_worker(lambda: self._take(only, pids, stats), thread=True, exclusive=True, group="snapshot",
                       exit_on_error=False, name="snapshot")

    def _take(self, only: str | None, pids: list[int], stats: Callable[[], None] | None = None) -> None:
        try:
            names = [h.name for h in self.backend.hierarchies()]
            snap = self.backend.snapshot([only] if only in names else None)
            infos = self.backend.task_details(pids) if pids else {}
        finally:
            if stats is not None:
                stats()  # posts its figures first: the patch below then draws them in the same frame
        self.app.post_message(SnapshotTaken(snap, names, infos))

    def failed(self) -> None:
        """A snapshot worker failed (the app has said why): try again at the next tick."""
        self.refreshing = False
        self.arm()

    def arm(self) -> None:
        """(Re)start the auto-refresh timer, unless paused."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self.paused and self.interval > 0:
            self._timer = self.app.set_timer(self.interval, self.app.action_refresh)

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused and self._timer is not None:
            self._timer.stop()
            self._timer = None
        elif not self.paused:
            self.arm()

    # ------------------------------------------------------------------ a snapshot arrives

    def snapshot_taken(self, event: SnapshotTaken) -> None:
        """Merge, diff and patch the panes (or load them, for a new hierarchy)."""
        app = self.app
        old = app.snapshot
        new = merge(old, event.snapshot, event.names)
        app.snapshot = new
        self.refreshing = False
        names = new.names()
        if names != app.hierarchy_names:
            app.hierarchy_names = names
            app.query_one("#hierarchy", Select).set_options([(content(n), n) for n in names])
        if old is None and app.auto_hierarchy:
            app.hier = best_hierarchy(new, app.hier) or app.hier
        if app.hier not in names:
            if app.hier:
                app.notify(f"Hierarchy {display(app.hier)} is gone; "
                           f"showing {display(names[0]) if names else 'nothing'}.", severity="warning")
            app.hier = names[0] if names else ""
            old = None
        hs = app.hs
        before = old.get(app.hier) if old is not None else None
        tree = app.tree
        if hs is None:
            app.say("No cgroup hierarchy is mounted (nothing in /proc/self/mountinfo).")
        elif before is None or tree.hs is not before:
            self.load(event.infos)
        elif hs is not before:
            hd = diff_hierarchy(before, hs)
            lost = tree.update(hs, hd.added_cgroups, hd.removed_cgroups, changed=hd.changed_cgroups)
            if lost is not None:
                app.notify(f"{display(app.hier)}:{display(lost)} was removed; showing "
                           f"{display(tree.cursor_path)} instead.", severity="warning")
            app.tasks.show(hs, tree.cursor_path, app.threads, app.recursive, diff=hd, infos=event.infos)
            self.read_markers(self._marker_paths(hd.added_cgroups))
            app.details.refresh()
        app.update_status()
        self.arm()

    def load(self, infos: dict[int, TaskInfo] | None = None) -> None:
        """Show the app's hierarchy from its last snapshot: tree, list, markers, detail."""
        app = self.app
        hs = app.hs
        if hs is None:
            return
        select: Select[str] = app.query_one("#hierarchy", Select)
        if select.value != app.hier:
            with select.prevent(Select.Changed):
                select.value = app.hier
        app.tree.load(hs, app.threads)
        app.tasks.show(hs, app.tree.cursor_path, app.threads, app.recursive, infos=infos)
        self.read_markers(app.tree.built_paths())
        app.details.refresh()
        app.stats.refresh()
        app.call_after_refresh(heap.settle, len(hs.containers))  # after the paint, not before

    # ------------------------------------------------------------------ markers

    def _marker_paths(self, added: Iterable[str]) -> list[str]:
        tree = self.app.tree
        built = tree.built_paths()
        if len(built) <= MARKER_READ_LIMIT:
            return built
        return [p for p in added if p in tree.nodes]

    def read_markers(self, paths: list[str]) -> None:
        """Read the cgroup state of `paths` (in a worker) for the tree's markers."""
        hs = self.app.hs
        if hs is None or not paths or not needs_state(hs.hierarchy.version, hs.hierarchy.controllers):
            return
        hier = self.app.hier
        self.app.run_worker(lambda: self._post_markers(hier, paths), thread=True, group="markers",
                            exit_on_error=False, name="cgroup state")

    def prefetch_markers(self, event: Tree.NodeHighlighted[str]) -> None:
        """Markers of a highlighted node's children before it is expanded, so expanding
        draws them at once."""
        app = self.app
        hs, tree, node = app.hs, app.tree, event.node
        if hs is None or node.data is None:
            return
        if (tree.lazy and node.allow_expand and not node.children
                and needs_state(hs.hierarchy.version, hs.hierarchy.controllers)):
            c = hs.get(node.data)
            todo = [p for p in (c.children if c else ()) if p not in tree.markers][:MARKER_READ_LIMIT]
            if todo:
                hier = app.hier
                app.run_worker(lambda: self._post_markers(hier, todo), thread=True, exclusive=True,
                               group="marker-prefetch", exit_on_error=False, name="cgroup state")

    def expanded(self, event: Tree.NodeExpanded[str]) -> None:
        """A lazy node was expanded: read its children's markers."""
        tree = self.app.tree
        if tree.lazy:
            self.read_markers([c.data for c in event.node.children
                               if c.data is not None and c.data not in tree.markers])

    def _post_markers(self, hier: str, paths: list[str]) -> None:
        out = {}
        for p in paths:
            try:
                out[p] = Markers.from_state(self.backend.cgroup_state(hier, p))
            except OSError:
                continue  # removed or unreadable: no markers, the diff will catch up
        self.app.post_message(MarkersRead(hier, out))

    def markers_read(self, event: MarkersRead) -> None:
        if event.hierarchy == self.app.hier:
            self.app.tree.set_markers(event.markers)
