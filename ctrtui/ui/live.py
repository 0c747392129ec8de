"""The live refresh cycle of the main screen, as an object of its own (`LiveView`).

The refresh rule (issue 12: a TUI left open must cost what is shown and what changed, not
a walk of the whole tree every tick):

- At each tick (`interval`, default 2 s) only what is on screen is read, in a worker: the
  tree's cursor cgroup and the tree rows in view, each alone (`Reader.read_cgroups`: its
  child list and its members, two or three files whatever lies below it), the cursor's
  whole subtree only when the task list shows the subtree, and the details of the task
  rows in view. The cursor cgroup's task list is therefore never older than one interval.
  Cgroups whose members did not change keep their Container; when nothing changed nothing
  is drawn. The tree's own counts of the rows in view are patched at once; recursive
  counts and the rows out of view lag until the next whole-tree read.
- When a cgroup on screen got other children, the tick reads the new children's
  subtrees (only those) and drops the removed ones' from the snapshot: the shape on screen
  is right at the next tick, at the cost of what changed. Only a read that cannot be
  patched in (the cursor's cgroup gone, say) makes the whole hierarchy read at once.
- The whole shown hierarchy is read again every `full_period()` seconds: at least
  `FULL_TICKS` intervals, and longer when a whole read costs more, so that whole reads
  stay within `FULL_BUDGET` of one core (a 10,000-cgroup tree whose read costs 0.3 s of
  CPU is read every 60 s). `r`, a move and switching hierarchy read it at once.
  The status bar says how old the tree's counts are (in 10 s steps, so the 1 Hz status tick
  redraws nothing most seconds).
- What a tick draws is what changed on screen: the task list draws the lines whose row, look
  or details changed (`TaskList._repaint`), the title line alone when only the count did,
  and the scrollbar only when its drawing changed; the tree draws the lines whose counts
  changed. On a busy machine the cgroup shown (a root holding every process) changes at
  nearly every tick, so this, not the reading, is most of what an idle UI costs.
- The ticks keep within a CPU budget: each one measures what it cost (the worker's CPU
  time, then `time.process_time()` from the patch until its frame is drawn) into a running
  mean, and the next tick comes after `paced()` seconds: the interval, or longer when a tick
  costs more than `TICK_BUDGET` (0.3 % of a core) over the interval, at most `STRETCH_MAX`
  intervals (10 s by default); it comes back down once the cost falls below `EASE` of it,
  so a cost hovering at the budget does not flip it (and the status bar) at every tick.
  The shown cgroup's changes appear within that stretched
  interval, and the status bar says it whenever it is longer than the interval asked for
  (`● live every 3s (refresh budget 0.3% CPU)`). Whole reads are not counted: they have
  their own budget (`FULL_BUDGET`).

A snapshot is taken in a thread worker (the first one starts with the app object, see
`FirstSnapshot` in ctrtui/ui/snapshotpatch.py, beside `merge` and `reshape`) and comes back
as a `SnapshotTaken` message; it is merged with the last known snapshot of the hierarchies
not taken, diffed against the shown one, and the tree and the task list are patched from the
diff rather than rebuilt. Tree markers (frozen, limits) are read in another worker. The next
refresh is armed when one finishes (or fails), so refreshes never overlap; pausing stops the
timer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import TYPE_CHECKING

from textual.timer import Timer
from textual.widgets import Select, Tree

from ctrtui.model import HierarchySnapshot, Snapshot, TaskInfo
from ctrtui.model.snapshot import diff_hierarchy, is_ancestor
from ctrtui.sources.base import Reader
from ctrtui.text import display
from ctrtui.ui import gcfreeze
from ctrtui.ui.messages import MarkersRead, ShownRead, SnapshotTaken
from ctrtui.ui.snapshotpatch import FirstSnapshot, merge, reshape
from ctrtui.ui.treelabels import Markers, needs_state
from ctrtui.ui.untrusted import content

if TYPE_CHECKING:
    from ctrtui.ui.screenside import ScreenSide
    from ctrtui.ui.session import Session

MARKER_READ_LIMIT = 1000
"""On refresh, cgroup state for markers is re-read for up to this many built nodes; above
it only cgroups that appeared are read (the rest keep their markers)."""

FULL_TICKS = 15
"""The whole shown hierarchy is read at most every this many intervals (30 s by default)."""
FULL_BUDGET = 0.005
"""...and at most this share of one core goes to whole reads (the last one's CPU time
divided by this is the shortest period between two)."""
FULL_MAX = 300.0
"""...but never less often than this (seconds)."""
SHOWN_LIMIT = 200
"""At most this many tree rows are re-read per tick (a very tall terminal)."""
TICK_BUDGET = 0.003
"""Share of one core the refresh ticks may take: their reads, the patch and the frame it
draws (see `LiveView.paced`). Past it the interval stretches."""
STRETCH_MAX = 5.0
"""...but never beyond this many intervals (10 s by default)."""
COST_WEIGHT = 0.25
"""Weight of the newest tick in the running mean of a tick's cost."""
EASE = 0.8
"""A stretched interval comes back down only when the budget allows this share of it (so
a cost hovering at the budget does not flip the interval, and the status bar, every tick)."""


class LiveView:
    """Keeps the main screen's snapshot fresh: takes snapshots in a worker, patches the tree
    and the task list from the diff, reads markers, and re-arms the auto-refresh timer.

    It owns the refresh state (`paused`, `refreshing`, the timer); the snapshot itself and
    the view choices (hierarchy, threads, subtree) stay on the app, which every part reads.
    """

    def __init__(self, side: ScreenSide, session: Session, interval: float, take_first: bool = True) -> None:
        self.side = side
        self.session = session
        """What is shown (`ctrtui.ui.session`): the backend read, the hierarchy, the snapshot."""
        self.interval = interval
        """Seconds between automatic refreshes (0: none)."""
        self.paused = False
        """Auto-refresh is stopped (`P`)."""
        self.refreshing = False
        """A snapshot worker is running (the status bar says so)."""
        self._timer: Timer | None = None
        self.tree_at: float | None = None
        """`time.time()` of the last whole read of the shown hierarchy (tree counts' age)."""
        self.read_at: float | None = None
        """`time.time()` of the last read of what is shown (a tick or a whole read)."""
        self.full_cost = 0.0
        """CPU seconds the last whole read took (worker and patch)."""
        self.full_ticks = FULL_TICKS
        self.tick_cost: float | None = None
        """Running mean of the CPU seconds one tick costs (None: none measured yet)."""
        self._pace = interval  # see paced()
        self._full_due = 0.0  # time.monotonic() when the next whole read is due
        self._full_hier: str | None = None  # the hierarchy the last whole read was of
        self.first: FirstSnapshot | None = FirstSnapshot(session.backend) if take_first else None
        """The first snapshot, taken while Textual starts (None once used)."""
        self.after_load: Callable[[], None] | None = None
        """Run once, when the next hierarchy is loaded (after a switch of host)."""

    # ------------------------------------------------------------------ start, refresh

    def start(self) -> None:
        """On mount: show the first snapshot if it is there already, else wait for it."""
        self.refreshing = True
        first, self.first = self.first, None
        if first is not None and first.done.is_set() and first.error is None and first.result is not None:
            self.snapshot_taken(SnapshotTaken(first.result[0], first.result[1], {}, source=first.backend))
        elif first is not None:
            self.side.run_named(self._wait_first, first, name="snapshot", group="snapshot", exclusive=True)
        else:
            self.refresh()

    def _wait_first(self, first: FirstSnapshot) -> None:
        """Wait for the first snapshot taken while Textual started (thread worker "snapshot")."""
        first.done.wait()
        if first.error is not None:
            raise first.error
        assert first.result is not None
        self.side.post_message(SnapshotTaken(first.result[0], first.result[1], {}, source=first.backend))

    def paced(self) -> float:
        """Seconds from one tick to the next: the interval, stretched when the ticks would
        take more than `TICK_BUDGET` of a core (a busy machine, where the cgroup on screen
        changes at every tick), at most `STRETCH_MAX` times. The shown cgroup's changes
        appear within this; the status bar says when it is longer than the interval."""
        return self._pace if self.interval > 0 else self.interval

    def paid(self, cost: float) -> None:
        """A tick cost `cost` CPU seconds: into the running mean, and the pace from it (up
        at once, down only below `EASE` of it)."""
        mean = self.tick_cost
        self.tick_cost = mean = cost if mean is None else mean + (cost - mean) * COST_WEIGHT
        wanted = mean / TICK_BUDGET
        if wanted > self._pace or wanted < self._pace * EASE:
            self._pace = min(self.interval * STRETCH_MAX, max(self.interval, wanted))

    def _paid(self, worker: float, start: float) -> None:
        """After the tick's frame: what it cost since its patch began, plus its worker."""
        self.paid(worker + max(0.0, time.process_time() - start))

    def full_period(self) -> float:
        """Seconds between two whole reads of the shown hierarchy (see the module doc)."""
        return max(self.interval, min(FULL_MAX, max(self.full_ticks * self.interval,
                                                    self.full_cost / FULL_BUDGET)))

    def refresh(self) -> None:
        """Take a new snapshot of the whole shown hierarchy in a worker (`r`, moves, a new
        hierarchy); the panes are patched when it arrives. All hierarchies are taken the
        first time, to pick the one to show and for the risk checks; the others are
        refreshed when they are switched to."""
        self.refreshing = True
        side = self.side
        first = self.session.snapshot is None
        only = None if first else self.session.hier
        pids = [] if first else side.tasks.visible_pids()
        stats = None if first else side.stats.job()  # the tree's figures and the meters
        backend = self.session.backend
        side.run_named(self._take, only, pids, stats, backend, name="snapshot", group="snapshot", exclusive=True)

    def _take(self, only: str | None, pids: list[int], stats: Callable[[], None] | None = None,
              backend: Reader | None = None) -> None:
        """Take the snapshot (thread worker "snapshot") and post it as `SnapshotTaken`."""
        backend = backend or self.session.backend
        t0 = time.thread_time()
        try:
            names = [h.name for h in backend.hierarchies()]
            snap = backend.snapshot([only] if only in names else None)
            infos = backend.task_details(pids) if pids else {}
        finally:
            if stats is not None:
                stats()  # posts its figures first: the patch below then draws them in the same frame
        self.side.post_message(SnapshotTaken(snap, names, infos, time.thread_time() - t0, source=backend))

    def tick(self) -> None:
        """The auto-refresh timer fired: read what is on screen, or the whole hierarchy
        when that is due (or nothing is shown yet)."""
        side = self.side
        if (self.session.snapshot is None or self.session.hs is None or self._full_hier != self.session.hier
                or time.monotonic() >= self._full_due):
            self.refresh()
            return
        paths = self.shown_paths()
        subtree = side.tree.cursor_path if self.session.recursive else None
        pids = side.tasks.visible_pids()
        hier, hs = self.session.hier, self.session.hs
        stats = side.stats.job()  # the tree's figures and the meters, read by the same worker
        backend = self.session.backend
        side.run_named(self._read_shown, hier, hs, paths, subtree, pids, stats, backend, name="snapshot",
                       group="snapshot", exclusive=True)

    def shown_paths(self) -> list[str]:
        """The cgroups a tick re-reads: the tree's cursor and the rows in view."""
        tree = self.side.tree
        out: dict[str, None] = {}
        if tree.cursor_path is not None:
            out[tree.cursor_path] = None
        top = int(tree.scroll_y)
        for line in range(top, top + min(SHOWN_LIMIT, max(1, tree.scrollable_content_region.height))):
            node = tree.get_node_at_line(line)
            if node is None:
                break
            if node.data is not None:
                out[node.data] = None
        return list(out)

    def _read_shown(self, hier: str, before: HierarchySnapshot, paths: list[str], subtree: str | None,
                    pids: list[int], stats: Callable[[], None] | None = None,
                    backend: Reader | None = None) -> None:
        """Read the cgroups on screen (thread worker "snapshot") and post them as `ShownRead`."""
        t0 = time.thread_time()
        taken = time.time()
        backend = backend or self.session.backend
        read = backend.read_cgroups(hier, paths)
        if subtree is not None:  # the task list shows the subtree: all of it is on screen
            for hs in backend.snapshot([hier], subtree=subtree).hierarchies[:1]:
                read.update(hs.containers)
        # a cgroup on screen got a new child: read the new child's subtree (only that)
        new = [ch for p, c in read.items() if c is not None and p in before
               for ch in c.children if ch not in before and ch not in read]
        for child in new:
            for hs in backend.snapshot([hier], subtree=child).hierarchies[:1]:
                read.update(hs.containers)
        infos = backend.task_details(pids) if pids else {}
        if stats is not None:  # its messages go just before ours: both are drawn in one frame
            stats()
        self.side.post_message(ShownRead(hier, read, infos, taken, time.thread_time() - t0, source=backend)
                               .to(self.shown_read))

    def failed(self) -> None:
        """A snapshot worker failed (the app has said why): try again at the next tick."""
        self.refreshing = False
        self.arm()

    def arm(self) -> None:
        """(Re)start the auto-refresh timer, unless paused."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        live = not self.paused and self.interval > 0
        pace = self.paced()
        self.side.tasks.highlight_grace = pace if live else 0.0
        if live:
            self._timer = self.side.set_timer(pace, self.tick)

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self.side.tasks.highlight_grace = 0.0
        if self.paused and self._timer is not None:
            self._timer.stop()
            self._timer = None
        elif not self.paused:
            self.arm()

    # ------------------------------------------------------------------ a snapshot arrives

    def snapshot_taken(self, event: SnapshotTaken) -> None:
        """Merge, diff and patch the panes (or load them, for a new hierarchy)."""
        t0 = time.thread_time()
        side = self.side
        old = self.session.snapshot
        new = merge(old, event.snapshot, event.names)
        self.session.snapshot = new
        self.refreshing = False
        names = new.names()
        if names != self.session.hierarchy_names:
            self.session.hierarchy_names = names
            select: Select[str] = side.main.query_one("#hierarchy", Select)
            with select.prevent(Select.Changed):  # the app chooses what is shown, not the new options
                select.set_options([(content(n), n) for n in names])
        if not self.session.hier and names:  # a host shown for the first time: `ctrtui.ui.start`'s rule
            from ctrtui.ui.start import start_hierarchy

            self.session.hier = start_hierarchy([h.hierarchy for h in new.hierarchies], side.asked_hierarchy)
        if self.session.hier not in names:
            if self.session.hier:
                side.notify(f"Hierarchy {display(self.session.hier)} is gone; "
                           f"showing {display(names[0]) if names else 'nothing'}.", severity="warning")
            self.session.hier = names[0] if names else ""
            old = None
        hs = self.session.hs
        before = old.get(self.session.hier) if old is not None else None
        tree = side.tree
        if hs is None:
            side.say("No cgroup hierarchy is mounted (nothing in /proc/self/mountinfo).")
        elif before is None or tree.hs is not before:
            self.load(event.infos)
            if side.start_path is not None:  # --cgroup HIER:/path: once, on the first load
                path, side.start_path = side.start_path, None
                side.navigator.go_to(path)
            self.loaded()
        elif hs is not before:
            hd = diff_hierarchy(before, hs)
            lost = tree.update(hs, hd.added_cgroups, hd.removed_cgroups, changed=hd.changed_cgroups)
            if lost is not None:
                side.notify(f"{display(self.session.hier)}:{display(lost)} was removed; showing "
                           f"{display(tree.cursor_path)} instead.", severity="warning")
            side.tasks.show(hs, tree.cursor_path, self.session.threads, self.session.recursive, diff=hd,
                           infos=event.infos)
            self.read_markers(self._marker_paths(hd.added_cgroups))
            side.details.refresh()
        if self.session.hier in event.snapshot.names():
            self._full_hier = self.session.hier
            self.tree_at = self.read_at = event.snapshot.taken_at
            self.full_cost = event.cost + time.thread_time() - t0
            self._full_due = time.monotonic() + self.full_period()
        side.update_status()
        self.arm()

    def shown_read(self, event: ShownRead) -> None:
        """A tick's read of what is on screen: patch the cgroups whose members changed into
        the snapshot and the panes, with new and removed cgroups (`reshape`); draw nothing
        when nothing changed. A read that cannot be patched in makes the whole hierarchy
        read now. What the tick cost (its worker, this patch and the frame it draws) is
        measured once the frame is drawn (`paced`)."""
        if self.session.stale(event.source):
            return
        side = self.side
        side.call_after_refresh(self._paid, event.cost, time.process_time())
        hs, snap = self.session.hs, self.session.snapshot
        if hs is None or snap is None or event.hierarchy != self.session.hier:
            self.arm()
            return
        shape = reshape(hs, event.containers)
        if shape is None:
            self.refresh()  # not a shape the read can patch (a cgroup on screen is gone): read it all
            return
        changed, added, removed = shape
        self.read_at = event.taken_at
        if changed or added or removed:
            if added or removed:  # a new mapping, in pre-order (as long as the tree, but rare)
                merged = {p: c for p, c in hs.containers.items() if p not in removed}
                merged.update(changed)
                merged.update(added)
                new_hs = HierarchySnapshot.build(hs.hierarchy, merged.values())
            else:
                containers = dict(hs.containers)
                containers.update(changed)
                new_hs = HierarchySnapshot(hs.hierarchy, MappingProxyType(containers))
            self.session.snapshot = Snapshot(tuple(new_hs if h is hs else h for h in snap.hierarchies),
                                    event.taken_at, snap.backend)
            # the diff of the cgroups read alone: the rest are the same objects
            hd = diff_hierarchy(HierarchySnapshot(hs.hierarchy, {p: hs[p] for p in [*changed, *removed] if p in hs}),
                                HierarchySnapshot(hs.hierarchy, {**changed, **added}))
            tree = side.tree
            lost = tree.update(new_hs, hd.added_cgroups, hd.removed_cgroups, changed=hd.changed_cgroups)
            if lost is not None:
                side.notify(f"{display(self.session.hier)}:{display(lost)} was removed; showing "
                           f"{display(tree.cursor_path)} instead.", severity="warning")
            side.tasks.show(new_hs, tree.cursor_path, self.session.threads, self.session.recursive, diff=hd,
                           infos=event.infos)
            if hd.added_cgroups:
                self.read_markers([p for p in hd.added_cgroups if p in tree.nodes])
            cursor = tree.cursor_path
            if cursor is not None and any(is_ancestor(cursor, p) for p in (*changed, *added, *removed)):
                side.details.refresh()  # the detail line tells of the cursor's cgroup and subtree
        else:
            side.tasks.expire_highlights()
            if event.infos:
                side.tasks.take_details(event.infos)
        side.update_status()
        self.arm()

    def load(self, infos: dict[int, TaskInfo] | None = None) -> None:
        """Show the app's hierarchy from its last snapshot: tree, list, markers, detail."""
        side = self.side
        hs = self.session.hs
        if hs is None:
            return
        side.main.query_one("#main").display = True
        select: Select[str] = side.main.query_one("#hierarchy", Select)
        if select.value != self.session.hier:
            with select.prevent(Select.Changed):
                select.value = self.session.hier
        side.tree.load(hs, self.session.threads)
        side.tasks.show(hs, side.tree.cursor_path, self.session.threads, self.session.recursive, infos=infos)
        self.read_markers(side.tree.built_paths())
        side.details.refresh()
        side.stats.refresh()
        side.call_after_refresh(gcfreeze.settle, len(hs.containers))  # after the paint, not before

    def loaded(self) -> None:
        """A hierarchy was loaded: run what waited for it (`after_load`), once."""
        then, self.after_load = self.after_load, None
        if then is not None:
            then()

    # ------------------------------------------------------------------ markers

    def _marker_paths(self, added: Iterable[str]) -> list[str]:
        tree = self.side.tree
        built = tree.built_paths()
        if len(built) <= MARKER_READ_LIMIT:
            return built
        return [p for p in added if p in tree.nodes]

    def read_markers(self, paths: list[str]) -> None:
        """Read the cgroup state of `paths` (in a worker) for the tree's markers."""
        hs = self.session.hs
        if hs is None or not paths or not needs_state(hs.hierarchy.version, hs.hierarchy.controllers):
            return
        hier, backend = self.session.hier, self.session.backend
        self.side.run_named(self._post_markers, hier, paths, backend, name="cgroup state", group="markers")

    def prefetch_markers(self, event: Tree.NodeHighlighted[str]) -> None:
        """Markers of a highlighted node's children before it is expanded, so expanding
        draws them at once."""
        side = self.side
        hs, tree, node = self.session.hs, side.tree, event.node
        if hs is None or node.data is None:
            return
        if (tree.lazy and node.allow_expand and not node.children
                and needs_state(hs.hierarchy.version, hs.hierarchy.controllers)):
            c = hs.get(node.data)
            todo = [p for p in (c.children if c else ()) if p not in tree.markers][:MARKER_READ_LIMIT]
            if todo:
                hier, backend = self.session.hier, self.session.backend
                side.run_named(self._post_markers, hier, todo, backend, name="cgroup state", group="marker-prefetch",
                               exclusive=True)

    def expanded(self, event: Tree.NodeExpanded[str]) -> None:
        """A lazy node was expanded: read its children's markers."""
        tree = self.side.tree
        if tree.lazy:
            self.read_markers([c.data for c in event.node.children
                               if c.data is not None and c.data not in tree.markers])

    def _post_markers(self, hier: str, paths: list[str], backend: Reader | None = None) -> None:
        """Read the cgroup state of `paths` (thread worker "cgroup state") and post it as `MarkersRead`."""
        backend = backend or self.session.backend
        out = {}
        for p in paths:
            try:
                out[p] = Markers.from_state(backend.cgroup_state(hier, p))
            except OSError:
                continue  # removed or unreadable: no markers, the diff will catch up
        self.side.post_message(MarkersRead(hier, out, source=backend).to(self.markers_read))

    def markers_read(self, event: MarkersRead) -> None:
        """Cgroup states read (`_post_markers`): the tree's markers (not of a host left behind)."""
        if event.hierarchy == self.session.hier and not self.session.stale(event.source):
            self.side.tree.set_markers(event.markers)
