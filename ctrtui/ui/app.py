"""The ctrtui terminal UI: container tree on the left, task list on the right.

Everything blocking (snapshots, details, stats, plans, moves) runs in thread workers and
comes back as messages; one `Worker.StateChanged` handler turns any worker error into a
notification, so nothing that goes wrong on the machine crashes the app.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, ScreenError
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer, Input, Select, Tree
from textual.worker import Worker, WorkerState

from ctrtui.model import CgroupRef, Hierarchy, HierarchySnapshot, Snapshot, TaskInfo
from ctrtui.model.snapshot import diff_hierarchy
from ctrtui.text import display, scrub
from ctrtui.ui import heap
from ctrtui.ui.safe import content, lines
from ctrtui.ui.widgets.detail import DetailLine, cgroup_summary, task_summary
from ctrtui.ui.widgets.filterbox import FilterBox
from ctrtui.ui.widgets.status import StatusBar
from ctrtui.ui.widgets.tasklist import TaskList
from ctrtui.ui.widgets.tree import CgroupTree, Markers, needs_state

MARKER_READ_LIMIT = 1000
"""On refresh, cgroup state for markers is re-read for up to this many built nodes; above
it only cgroups that appeared are read (the rest keep their markers)."""


def describe_error(exc: BaseException) -> str:
    """An exception as one sentence for a person."""
    if isinstance(exc, OSError) and exc.errno is not None:
        from ctrtui.errors import errno_name

        where = f" ({display(str(exc.filename))})" if exc.filename else ""
        return f"{errno_name(exc.errno)}: {exc.strerror or os.strerror(exc.errno)}{where}"
    return str(exc) or type(exc).__name__


def report_text(report: Any, what: str = "Move") -> tuple[str, str]:
    """(message, severity) for a finished batch: counts, then the first reasons. The message
    is display text already (names escaped): notify it with `escaped=True`."""
    counts = report.counts()
    parts = [f"{counts.get(k, 0)} {label}" for k, label in (
        ("moved", "moved"), ("already-there", "already there"), ("refused", "refused"),
        ("not-moved", "not moved"), ("vanished", "vanished"), ("rolled-back", "rolled back"))
        if counts.get(k, 0) or k in ("moved", "already-there", "refused", "not-moved")]
    lines = [f"{what}: " + ", ".join(parts)]
    bad = [o for o in report.outcomes if o.outcome not in ("moved", "already-there")]
    for o in bad[:3]:
        lines.append(scrub(f"PID {o.pid}: {o.reason}" + (f" {o.advice}" if o.advice else "")))
    if len(bad) > 3:
        lines.append(f"… and {len(bad) - 3} more (L shows the move log)")
    return "\n".join(lines), ("information" if report.ok else "warning")


def plan_line(plan: Any, target: str) -> str:
    """`drop on freezer:/a: 3 would move, 1 already there, 1 refused (reason)`, as display
    text (names escaped)."""
    c = plan.summary()
    words = [f"{c.get('move', 0)} would move"]
    if c.get("already-there"):
        words.append(f"{c['already-there']} already there")
    if c.get("refused"):
        words.append(f"{c['refused']} refused")
    text = f"{display(target)}: " + ", ".join(words)
    refused = [v for v in plan.verdicts if v.kind == "refused"]
    if refused:
        text += f" (PID {refused[0].pid}: {refused[0].reason})"
    return scrub(text)


class FirstSnapshot:
    """The first snapshot of every hierarchy, taken in a thread that starts with the app
    object, so it is read while Textual starts up rather than after (with a small world or
    a fast backend it is there by the time the screen is mounted: one paint, with content)."""

    def __init__(self, backend: Any) -> None:
        self.result: tuple[Snapshot, list[str]] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        threading.Thread(target=self._take, args=(backend,), name="ctrtui first snapshot", daemon=True).start()

    def _take(self, backend: Any) -> None:
        try:
            names = [h.name for h in backend.hierarchies()]
            self.result = (backend.snapshot(None), names)
        except BaseException as exc:  # noqa: BLE001 - handed to the app, which reports it
            self.error = exc
        finally:
            self.done.set()


@dataclass
class Cut:
    """Tasks remembered by `x`, waiting for `p`."""

    hierarchy: str
    pids: list[int]
    threads: bool
    starts: dict[int, int] = field(default_factory=dict)


class CtrtuiCommands(Provider):
    """The app's entries in the command palette (ctrl+p)."""

    ENTRIES = (
        ("Go to cgroup…", "go_to", "Jump to a cgroup of the current hierarchy by path"),
        ("Find PID…", "find_pid", "Jump to the cgroup of a PID and select its row"),
        ("Move selected to…", "move", "Pick a target cgroup for the marked tasks (or the cursor row)"),
        ("Undo last move", "undo", "Move the last batch back where it came from"),
        ("Switch hierarchy…", "switch_hierarchy", "Show another mounted hierarchy"),
        ("Cut selected tasks", "cut", "Remember the selection; p in the tree puts it there"),
        ("Put cut tasks here", "put", "Move the cut tasks into the highlighted cgroup"),
        ("Move log", "move_log", "Every outcome of every batch of this run"),
        ("Refresh now", "refresh", "Take a new snapshot"),
        ("Pause or resume auto-refresh", "toggle_pause", "Stop or restart the periodic refresh"),
        ("Toggle threads view", "toggle_threads", "Show threads (TIDs) or processes (TGIDs)"),
        ("Toggle subtree view", "toggle_descendants", "Include the tasks of every cgroup below"),
    )

    async def discover(self) -> Hits:
        for title, action, help in self.ENTRIES:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help in self.ENTRIES:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action), help=help)


class CtrtuiApp(App):
    """ctrtui: see which tasks sit in which cgroup, and move them."""

    CSS_PATH = "app.tcss"
    TITLE = "ctrtui"
    COMMANDS = App.COMMANDS | {CtrtuiCommands}

    BINDINGS = [
        Binding("m", "move", "Move", tooltip="Move the selection: pick a target cgroup", id="move"),
        Binding("x", "cut", "Cut", tooltip="Remember the selection to put it elsewhere with p", id="cut"),
        Binding("p", "put", "Put", tooltip="Move the cut tasks into the highlighted cgroup", id="put"),
        Binding("u", "undo", "Undo", tooltip="Move the last batch back", id="undo"),
        Binding("slash", "filter", "Filter", tooltip="Filter tasks by PID, command or user", id="filter"),
        Binding("r", "refresh", "Refresh", tooltip="Take a new snapshot now", id="refresh"),
        Binding("question_mark", "help", "Keys", tooltip="Show every key binding", id="help"),
        Binding("q", "quit", "Quit", tooltip="Leave ctrtui", id="quit"),
        Binding("t", "toggle_threads", "Threads", show=False,
                tooltip="Threads view (TIDs) or processes view (TGIDs)", id="threads"),
        Binding("d", "toggle_descendants", "Subtree", show=False,
                tooltip="Include the tasks of every cgroup below the selected one", id="descendants"),
        Binding("P", "toggle_pause", "Pause", show=False, tooltip="Pause or resume auto-refresh", id="pause"),
        Binding("L", "move_log", "Move log", show=False, tooltip="Every outcome of this run", id="move-log"),
        Binding("g", "go_to", "Go to", show=False, tooltip="Go to a cgroup by path", id="go-to"),
        Binding("f", "find_pid", "Find PID", show=False, tooltip="Jump to a PID's cgroup and row", id="find-pid"),
        Binding("left_square_bracket", "cycle_hierarchy(-1)", "Prev hierarchy", show=False,
                tooltip="Show the previous hierarchy", id="prev-hierarchy"),
        Binding("right_square_bracket", "cycle_hierarchy(1)", "Next hierarchy", show=False,
                tooltip="Show the next hierarchy", id="next-hierarchy"),
        Binding("escape", "escape", "Cancel", show=False, tooltip="Cancel a drag, close the filter", id="escape"),
    ]

    class SnapshotTaken(Message):
        """A snapshot worker finished: `snapshot` holds the hierarchies it took (the shown
        one, or all), `names` every mounted hierarchy, `infos` fresh details of the rows
        that were on screen."""

        def __init__(self, snapshot: Snapshot, names: list[str], infos: dict[int, TaskInfo]) -> None:
            self.snapshot = snapshot
            self.names = names
            self.infos = infos
            super().__init__()

    class MarkersRead(Message):
        """Cgroup state for tree markers was read."""

        def __init__(self, hierarchy: str, markers: dict[str, Markers]) -> None:
            self.hierarchy = hierarchy
            self.markers = markers
            super().__init__()

    class DetailRead(Message):
        """What the detail line needed was read: a task's text, or a cgroup's stats."""

        def __init__(self, key: tuple, text: Text | None, stats: dict[str, str] | None = None) -> None:
            self.key = key
            self.text = text
            self.stats = stats
            super().__init__()

    class Planned(Message):
        """The engine planned a put or a drop; `purpose` says which."""

        def __init__(self, plan: Any, target: str, purpose: str) -> None:
            self.plan = plan
            self.target = target
            self.purpose = purpose
            super().__init__()

    class BatchDone(Message):
        """A move or undo batch finished (`report` None: nothing to undo)."""

        def __init__(self, report: Any, what: str) -> None:
            self.report = report
            self.what = what
            super().__init__()

    def __init__(self, backend, engine, interval: float = 2.0, read_only: bool = False,
                 hierarchy: str | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.engine = engine
        self.interval = interval
        """Seconds between automatic refreshes."""
        self.read_only_reason: str | None = None
        """Why moves are refused (None: moves work)."""
        try:
            euid = os.geteuid() if getattr(backend, "kind", "real") == "real" else backend.writer().euid
        except Exception:  # noqa: BLE001 - a backend that cannot say: trust the flag
            euid = 0
        if euid != 0:
            self.read_only_reason = "not root"
        elif read_only:
            self.read_only_reason = "--read-only"
        self.snapshot: Snapshot | None = None
        mounted = backend.hierarchies()
        self.policy_error: str | None = self._policy_problem(mounted)
        """Why the policy cannot be used (it could not be read, or is invalid): every move is
        refused with this sentence until the file is fixed. None: the policy is fine."""
        self.hierarchy_names: list[str] = [h.name for h in mounted]
        self.hier: str = hierarchy or self._default_hierarchy(mounted)
        """The hierarchy shown."""
        self._auto_hierarchy = hierarchy is None
        self.threads = False
        """Threads view instead of processes."""
        self.recursive = False
        """Task list shows the whole subtree."""
        self.paused = False
        self.reports: list[Any] = []
        """Every batch report of this run, oldest first (the move log)."""
        self.cut: Cut | None = None
        self._refresh_timer: Timer | None = None
        self._refreshing = False
        self._drag_target: str | None = None
        self._detail_key: tuple | None = None
        self._stats: dict[tuple[str, str], dict[str, str]] = {}
        """(hierarchy, path) -> the cgroup stats read last (shown until fresh ones come)."""
        self._widgets: dict[str, Any] = {}
        self.notices: deque[str] = deque(maxlen=200)
        """Text of the notifications shown (newest last), for the move log and tests."""
        self._first: FirstSnapshot | None = FirstSnapshot(backend)

    def _policy_problem(self, mounted: Sequence[Hierarchy]) -> str | None:
        policy = getattr(self.engine, "policy", None)
        if policy is None or not hasattr(policy, "problem"):
            return None
        try:
            return policy.problem(mounted)
        except Exception as exc:  # noqa: BLE001 - a policy that cannot even be checked protects nothing
            return f"the policy could not be checked ({describe_error(exc)})"

    def _policy_fixed(self) -> bool:
        """Read the broken policy's file again; when it is usable now, the engine uses it
        (moves are on again) and True."""
        from ctrtui.engine.policy import Policy, default_policy_path
        from ctrtui.errors import CtrtuiError

        old = self.engine.policy
        hook = next((h for h in self.engine.hooks if getattr(h, "name", None) == "policy"), None)
        if hook is None or not hasattr(hook, "set_policy"):
            return False
        hiers = self.backend.hierarchies
        try:
            if old.source is None or old.source == default_policy_path():
                policy = Policy.load_default(hiers)
            else:
                policy = Policy.load(old.source, hiers)
        except CtrtuiError as exc:
            self.policy_error = str(exc)
            return False
        except OSError:
            return False
        self.engine.policy = policy
        hook.set_policy(policy)
        self.policy_error = None
        self._update_status()
        self.notify(f"The policy {policy.source or '(none)'} can be used again: moves are on.", title="Policy")
        return True

    def _policy_notice(self) -> None:
        self.notify(f"No task is moved while the policy cannot be used: {self.policy_error}. Fix the policy "
                    "file (or move it away to run without a policy), then try again.",
                    severity="error", title="Moves are off", timeout=12)

    @staticmethod
    def _default_hierarchy(hs: Sequence[Hierarchy]) -> str:
        """Of the mounted `hs`: the v2 hierarchy when it carries real controllers, else
        name=systemd, else the first one."""
        for h in hs:
            if h.version == 2 and set(h.controllers) & {"cpu", "memory", "pids", "io"}:
                return h.name
        for h in hs:
            if h.name == "name=systemd":
                return h.name
        return hs[0].name if hs else ""

    def _best_hierarchy(self, snap: Snapshot) -> str | None:
        """With the first snapshot: keep a v2 hierarchy with real controllers, else show the
        one with the most cgroups (name=systemd first among equals): a flat hierarchy with
        only a root is the least informative start."""
        current = snap.get(self.hier)
        if current is not None and current.hierarchy.version == 2 and len(current.containers) > 1:
            return self.hier
        ranked = sorted(snap.hierarchies, key=lambda h: (-len(h.containers), h.name != "name=systemd"))
        return ranked[0].name if ranked else None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Select([(content(n), n) for n in self.hierarchy_names], value=self.hier if self.hier else Select.BLANK,
                             allow_blank=not self.hierarchy_names, id="hierarchy", prompt="hierarchy",
                             compact=True)
                yield CgroupTree(id="tree")
            with Vertical(id="right"):
                yield FilterBox(placeholder="filter: PID, command or user (enter: keep, esc: clear)",
                                on_change=self._filter_typed, id="filter")
                yield TaskList(self.backend, on_cursor=self._cursor_moved, id="tasks")
        yield DetailLine("taking the first snapshot…", id="detail")
        yield Footer()

    @property
    def tree(self) -> CgroupTree:
        """The container tree (of the main screen, whatever screen is on top)."""
        return self._widgets["tree"]

    @property
    def tasks(self) -> TaskList:
        """The task list (of the main screen)."""
        return self._widgets["tasks"]

    def _w(self, key: str):
        return self._widgets[key]

    @property
    def hs(self) -> HierarchySnapshot | None:
        return self.snapshot.get(self.hier) if self.snapshot is not None else None

    def on_mount(self) -> None:
        self._widgets = {
            "tree": self.query_one("#tree", CgroupTree), "tasks": self.query_one("#tasks", TaskList),
            "status": self.query_one(StatusBar), "detail": self.query_one(DetailLine),
            "filter": self.query_one("#filter", Input), "hierarchy": self.query_one("#hierarchy", Select),
        }
        self.tree.focus()
        if self.policy_error is not None and self.read_only_reason is None:
            self._policy_notice()
        self.set_interval(1.0, self._update_status)
        self._refreshing = True
        self._update_status()
        first, self._first = self._first, None
        if first is not None and first.done.is_set() and first.error is None and first.result is not None:
            self.on_ctrtui_app_snapshot_taken(self.SnapshotTaken(first.result[0], first.result[1], {}))
        elif first is not None:
            self._wait_first(first)
        else:
            self.action_refresh()

    @work(thread=True, exclusive=True, group="snapshot", exit_on_error=False, name="snapshot")
    def _wait_first(self, first: FirstSnapshot) -> None:
        first.done.wait()
        if first.error is not None:
            raise first.error
        assert first.result is not None
        self.post_message(self.SnapshotTaken(first.result[0], first.result[1], {}))

    def _update_status(self) -> None:
        self._w("status").show_status(
            backend=getattr(self.backend, "kind", "?"),
            read_only=self.read_only_reason or ("moves off: the policy file cannot be used" if self.policy_error else None),
            taken_at=self.snapshot.taken_at if self.snapshot else None, paused=self.paused,
            busy=self._refreshing, hierarchy=self.hier, cut=len(self.cut.pids) if self.cut else 0)

    def notify(self, message: str, *, title: str = "", severity: str = "information",
               timeout: float | None = None, markup: bool = False, escaped: bool = False) -> None:
        """Show a notification and remember its text in `notices`. Always plain text (paths
        and reasons hold brackets), shown escaped line by line (`escaped`: the message is
        display text already, e.g. from `report_text`). Names go into a message with
        `display()`; the message is then scrubbed (`ctrtui.text.scrub`)."""
        if not escaped:
            message = lines(message)
        title = scrub(title)
        self.notices.append(f"{title}: {message}" if title else message)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _focused(self):
        """The focused widget, or None; also None while the app is closing and has no
        screen left (a late message must not raise ScreenStackError)."""
        try:
            return self.focused
        except ScreenError:
            return None

    def _say(self, text: str | Text) -> None:
        """Show `text` on the detail line: a str is a message (scrubbed; names in it put with
        `display()`); a Text is built by the caller from display text."""
        self._w("detail").show(Text(scrub(text)) if isinstance(text, str) else text)

    # ------------------------------------------------------------------ errors

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        """Any worker that fails becomes a notification; a failed snapshot re-arms the timer."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        self.notify(describe_error(worker.error), title=f"{worker.name or worker.group} failed",
                    severity="error", timeout=8)
        if worker.group == "snapshot":
            self._refreshing = False
            self._arm_refresh()

    # ------------------------------------------------------------------ snapshots

    def action_refresh(self) -> None:
        """Take a new snapshot in a worker; the panes are patched when it arrives. Only the
        shown hierarchy is taken (all of them the first time, to pick the one to show and
        for the risk checks); the others are refreshed when they are switched to."""
        self._refreshing = True
        first = self.snapshot is None
        self._take_snapshot(None if first else self.hier, [] if first else self.tasks.visible_pids())

    @work(thread=True, exclusive=True, group="snapshot", exit_on_error=False, name="snapshot")
    def _take_snapshot(self, only: str | None, pids: list[int]) -> None:
        names = [h.name for h in self.backend.hierarchies()]
        snap = self.backend.snapshot([only] if only in names else None)
        infos = self.backend.task_details(pids) if pids else {}
        self.post_message(self.SnapshotTaken(snap, names, infos))

    def _arm_refresh(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None
        if not self.paused and self.interval > 0:
            self._refresh_timer = self.set_timer(self.interval, self.action_refresh)

    @staticmethod
    def merge(old: Snapshot | None, new: Snapshot, names: list[str]) -> Snapshot:
        """`new`'s hierarchies, plus the last known snapshot of every other mounted one."""
        by_name = {h.name: h for h in old.hierarchies} if old is not None else {}
        by_name.update((h.name, h) for h in new.hierarchies)
        return Snapshot(tuple(by_name[n] for n in names if n in by_name), new.taken_at, new.backend)

    def on_ctrtui_app_snapshot_taken(self, event: SnapshotTaken) -> None:
        old = self.snapshot
        new = self.merge(old, event.snapshot, event.names)
        self.snapshot = new
        self._refreshing = False
        names = new.names()
        if names != self.hierarchy_names:
            self.hierarchy_names = names
            self._w("hierarchy").set_options([(content(n), n) for n in names])
        if old is None and self._auto_hierarchy:
            self.hier = self._best_hierarchy(new) or self.hier
        if self.hier not in names:
            if self.hier:
                self.notify(f"Hierarchy {display(self.hier)} is gone; showing {display(names[0]) if names else 'nothing'}.",
                            severity="warning")
            self.hier = names[0] if names else ""
            old = None
        hs = self.hs
        before = old.get(self.hier) if old is not None else None
        if hs is None:
            self._say("No cgroup hierarchy is mounted (nothing in /proc/self/mountinfo).")
        elif before is None or self.tree.hs is not before:
            self._load_hierarchy(event.infos)
        elif hs is not before:
            hd = diff_hierarchy(before, hs)
            lost = self.tree.update(hs, hd.added_cgroups, hd.removed_cgroups, changed=hd.changed_cgroups)
            if lost is not None:
                self.notify(f"{display(self.hier)}:{display(lost)} was removed; showing "
                            f"{display(self.tree.cursor_path)} instead.",
                            severity="warning")
            self.tasks.show(hs, self.tree.cursor_path, self.threads, self.recursive, diff=hd, infos=event.infos)
            self._read_markers(self._marker_paths(hd.added_cgroups))
            self._refresh_detail()
        self._update_status()
        self._arm_refresh()

    def _load_hierarchy(self, infos: dict[int, TaskInfo] | None = None) -> None:
        hs = self.hs
        if hs is None:
            return
        select = self._w("hierarchy")
        if select.value != self.hier:
            with select.prevent(Select.Changed):
                select.value = self.hier
        self.tree.load(hs, self.threads)
        self.tasks.show(hs, self.tree.cursor_path, self.threads, self.recursive, infos=infos)
        self._read_markers(self.tree.built_paths())
        self._refresh_detail()
        self.call_after_refresh(heap.settle, len(hs.containers))  # after the paint, not before

    def on_unmount(self) -> None:
        heap.release()

    def _show_tasks(self) -> None:
        hs = self.hs
        if hs is not None:
            self.tasks.show(hs, self.tree.cursor_path, self.threads, self.recursive)

    def _marker_paths(self, added: Iterable[str]) -> list[str]:
        built = self.tree.built_paths()
        if len(built) <= MARKER_READ_LIMIT:
            return built
        return [p for p in added if p in self.tree.nodes]

    def _read_markers(self, paths: list[str]) -> None:
        hs = self.hs
        if hs is None or not paths or not needs_state(hs.hierarchy.version, hs.hierarchy.controllers):
            return
        self._read_markers_worker(self.hier, paths)

    @work(thread=True, group="markers", exit_on_error=False, name="cgroup state")
    def _read_markers_worker(self, hier: str, paths: list[str]) -> None:
        self.post_message(self.MarkersRead(hier, self._markers_of(hier, paths)))

    @work(thread=True, exclusive=True, group="marker-prefetch", exit_on_error=False, name="cgroup state")
    def _prefetch_markers(self, hier: str, paths: list[str]) -> None:
        """Markers of a highlighted node's children before it is expanded, so expanding
        draws them at once."""
        self.post_message(self.MarkersRead(hier, self._markers_of(hier, paths)))

    def _markers_of(self, hier: str, paths: list[str]) -> dict[str, Markers]:
        out = {}
        for p in paths:
            try:
                out[p] = Markers.from_state(self.backend.cgroup_state(hier, p))
            except OSError:
                continue  # removed or unreadable: no markers, the diff will catch up
        return out

    def on_ctrtui_app_markers_read(self, event: MarkersRead) -> None:
        if event.hierarchy == self.hier:
            self.tree.set_markers(event.markers)

    # ------------------------------------------------------------------ tree and list events

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        hs = self.hs
        path = event.node.data
        if hs is None or path is None:
            return
        if not (self.tasks.path == path and self.tasks.hs is hs):
            self._show_tasks()
        self._refresh_detail()
        tree, node = self.tree, event.node
        if (tree.lazy and node.allow_expand and not node.children
                and needs_state(hs.hierarchy.version, hs.hierarchy.controllers)):
            c = hs.get(path)
            todo = [p for p in (c.children if c else ()) if p not in tree.markers][:MARKER_READ_LIMIT]
            if todo:
                self._prefetch_markers(self.hier, todo)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        if self.tree.lazy:
            paths = [c.data for c in event.node.children if c.data not in self.tree.markers]
            self._read_markers(paths)

    def _cursor_moved(self, pid: int | None) -> None:
        """The task list's cursor moved (called at once, in the same frame)."""
        if self._widgets and self._focused() is self.tasks:
            self._refresh_detail()

    def on_task_list_cursor_moved(self, event: TaskList.CursorMoved) -> None:
        if self._focused() is self.tasks:
            self._refresh_detail()

    def on_descendant_focus(self) -> None:
        self._refresh_detail()

    def _refresh_detail(self) -> None:
        """Show facts about the focused task (task list focused) or cgroup (otherwise).

        Drawn at once from what is cached (the task's details, the cgroup's counts and the
        stats read last time), so a cursor step costs one frame; what must be read (a
        task's details not fetched yet, a cgroup's stats) comes from a worker and redraws
        the line only if it changed."""
        hs = self.hs
        if hs is None or self._drag_target is not None or self.tasks.dragging or not self._screen_stack:
            return  # nothing shown, a drag owns the line, or closing (no screen left)
        if self._focused() is self.tasks and self.tasks.cursor_pid is not None:
            pid = self.tasks.cursor_pid
            info = self.tasks.details.get(pid)
            key = ("task", pid, self.snapshot.taken_at, info is not None)
            if key != self._detail_key:
                self._detail_key = key
                if info is not None:
                    self._say(task_summary(pid, info, self.backend.task_cgroups(pid), self._detail_width()))
                else:
                    self._say(Text.assemble((f"PID {pid}", "bold"), ("  reading…", "dim")))
                    self._read_detail(key)
            return
        path = self.tree.cursor_path
        if path is None:
            return
        key = ("cgroup", self.hier, path, self.snapshot.taken_at)
        if key != self._detail_key:
            self._detail_key = key
            self._say(self._cgroup_text(self.hier, path, self._stats.get((self.hier, path), {})))
            self._read_detail(key)

    def _cgroup_text(self, hier: str, path: str, stats: dict[str, str]) -> Text:
        hs = self.snapshot.get(hier) if self.snapshot else None
        c = hs.get(path) if hs else None
        subtree = self.tree.recursive_count(path) if hs is self.tree.hs else 0
        return cgroup_summary(hier, path, hs.hierarchy.controllers if hs else (), stats,
                              len(c.procs) if c else 0, len(c.threads) if c else 0, subtree,
                              self._detail_width())

    def _detail_width(self) -> int | None:
        """Cells of one line of the detail line (None before it is laid out)."""
        width = self._w("detail").content_region.width if self._widgets else 0
        return width if width > 0 else None

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False, name="details")
    def _read_detail(self, key: tuple) -> None:
        if key[0] == "task":
            pid = key[1]
            info = self.backend.task_details([pid]).get(pid)
            self.post_message(self.DetailRead(key, task_summary(pid, info, self.backend.task_cgroups(pid),
                                                            self._detail_width())))
        else:
            _, hier, path, _ = key
            self.post_message(self.DetailRead(key, None, self.backend.cgroup_stats(hier, path)))

    def on_ctrtui_app_detail_read(self, event: DetailRead) -> None:
        if event.stats is not None:
            _, hier, path, _ = event.key
            self._stats[(hier, path)] = event.stats
            if len(self._stats) > 256:
                self._stats.pop(next(iter(self._stats)))
        if event.key == self._detail_key and self._drag_target is None and not self.tasks.dragging:
            self._say(event.text if event.stats is None else self._cgroup_text(hier, path, event.stats))

    # ------------------------------------------------------------------ hierarchy, views

    @on(Select.Changed, "#hierarchy")
    def _hierarchy_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.hier:
            self.switch_hierarchy(event.value)

    def switch_hierarchy(self, name: str) -> None:
        """Show the hierarchy `name` (no-op for an unknown one)."""
        if name not in self.hierarchy_names:
            self.notify(f"No hierarchy '{display(name)}' is mounted.", severity="warning")
            return
        self.hier = name
        if self.hs is not None:
            self._load_hierarchy()  # its last snapshot at once; a fresh one follows
        else:
            self._say(f"Taking a snapshot of {display(name)}…")
        self._update_status()
        self.action_refresh()

    def action_cycle_hierarchy(self, step: int) -> None:
        names = self.hierarchy_names
        if not names:
            return
        i = names.index(self.hier) if self.hier in names else 0
        self.switch_hierarchy(names[(i + step) % len(names)])

    def action_switch_hierarchy(self) -> None:
        from ctrtui.ui.screens import SwitchHierarchy

        labels = {}
        for n in self.hierarchy_names:
            h = self.snapshot.get(n) if self.snapshot else None
            if h is not None:
                labels[n] = f"{display(n)}  (v{h.hierarchy.version}, {len(h.containers)} cgroups, {h.total(False)} procs)"
        self.push_screen(SwitchHierarchy(self.hierarchy_names, self.hier, labels),
                         lambda name: self.switch_hierarchy(name) if name else None)

    def action_toggle_threads(self) -> None:
        self.threads = not self.threads
        self.tree.set_threads(self.threads)
        self.tasks.set_view(threads=self.threads)
        self.notify("Threads view: TIDs, TGID column" if self.threads else "Processes view: TGIDs, THR column",
                    timeout=2)

    def action_toggle_descendants(self) -> None:
        self.recursive = not self.recursive
        self.tasks.set_view(recursive=self.recursive)
        self.notify("Showing the tasks of the whole subtree" if self.recursive
                    else "Showing the cgroup's own tasks", timeout=2)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused and self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None
        elif not self.paused:
            self._arm_refresh()
        self._update_status()

    def action_help(self) -> None:
        try:
            screen = self.screen
        except ScreenError:
            return
        if screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    # ------------------------------------------------------------------ filter

    def action_filter(self) -> None:
        box = self._w("filter")
        box.display = True
        box.focus()

    def _filter_typed(self, value: str) -> None:
        """The filter field changed (called by FilterBox at once, every change)."""
        if self._widgets:
            self.tasks.set_filter(value.strip())

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.display = False
        self.tasks.focus()

    def action_escape(self) -> None:
        if self.tasks.dragging:
            self._end_drag()
            self.tasks.cancel_drag()
            self._say("Drag cancelled: nothing moved.")
            return
        box = self._w("filter")
        if box.display:
            box.value = ""
            box.display = False
            self.tasks.set_filter("")
            self.tasks.focus()

    # ------------------------------------------------------------------ navigation

    def action_go_to(self) -> None:
        from ctrtui.ui.fuzzy import matcher_for
        from ctrtui.ui.screens import GoToCgroup

        hs = self.hs
        if hs is not None:
            self.push_screen(GoToCgroup(matcher_for(hs)), self.go_to)

    def go_to(self, path: str | None) -> None:
        """Select the cgroup `path` of the current hierarchy in the tree."""
        if not path:
            return
        if self.tree.reveal(path) is None:
            self.notify(f"{display(self.hier)}:{display(path)} is not in the snapshot (removed, or a typo?).",
                        severity="warning")
            return
        self.tree.focus()
        self._show_tasks()

    def action_find_pid(self) -> None:
        from ctrtui.ui.screens import FindPid

        hs = self.hs

        def exists(pid: int) -> bool:
            return hs is not None and bool(hs.find(pid, False) or hs.find(pid, True))

        self.push_screen(FindPid(exists, self.engine.pid_max if self.engine else None), self.find_pid)

    def find_pid(self, pid: int | None) -> None:
        """Jump to the cgroup of `pid` in the current hierarchy and put the cursor on it."""
        hs = self.hs
        if pid is None or hs is None:
            return
        paths = hs.find(pid, self.threads)
        if not paths:
            other = hs.find(pid, not self.threads)
            if other:
                self.threads = not self.threads
                self.tree.set_threads(self.threads)
                self.tasks.set_view(threads=self.threads)
                paths = other
        if not paths:
            self.notify(f"PID {pid} is in no cgroup of {display(self.hier)} in this snapshot: it does not exist "
                        "(or exited). Press r to refresh.", severity="warning")
            return
        if self.tree.reveal(paths[0]) is None:
            return
        self._show_tasks()
        self.tasks.select_pid(pid)
        self.tasks.focus()

    # ------------------------------------------------------------------ moves

    def _refuse_read_only(self) -> bool:
        """Refuse a move (m, p, drop, undo) with a notification saying why: read-only, or a
        policy that cannot be used (read again first: once fixed, moves are on)."""
        if self.read_only_reason is None and self.policy_error is not None and not self._policy_fixed():
            self._policy_notice()
            return True
        if self.read_only_reason is None:
            return False
        why = ("started with --read-only" if self.read_only_reason == "--read-only"
               else "ctrtui is not running as root")
        self.notify(f"Read-only: {why}, so nothing is moved. Restart as root without --read-only to move tasks.",
                    severity="warning", title="Read-only")
        return True

    def _starts(self, pids: Iterable[int]) -> dict[int, int]:
        """Start times the UI saw for `pids` (the PID-reuse guard compares against them)."""
        d = self.tasks.details
        return {p: d[p].start_time for p in pids if p in d}

    def _selection(self) -> list[int]:
        pids = self.tasks.selection()
        if not pids:
            self.notify("No task selected: put the cursor on a task in the list, or mark some with space.",
                        severity="warning")
        return pids

    def action_move(self) -> None:
        from ctrtui.ui.screens import TargetPicker

        if self._refuse_read_only() or self.snapshot is None:
            return
        pids = self._selection()
        if pids:
            self.push_screen(TargetPicker(self.engine, self.snapshot, self.hier, pids, self.threads,
                                          self._starts(pids)), self._picked)

    def _picked(self, plan: Any) -> None:
        if plan is not None:
            self.confirm_and_apply(plan)

    def action_cut(self) -> None:
        pids = self._selection()
        if not pids:
            return
        self.cut = Cut(self.hier, pids, self.threads, self._starts(pids))
        what = "thread" if self.threads else "task"
        self.notify(f"Cut {len(pids)} {what}{'s' if len(pids) != 1 else ''}: highlight a cgroup in the tree "
                    "and press p to put them there.", timeout=4)
        self._update_status()

    def action_put(self) -> None:
        if self._refuse_read_only():
            return
        if self.cut is None:
            self.notify("Nothing is cut: select tasks and press x first.", severity="warning")
            return
        path = self.tree.cursor_path
        if path is None:
            return
        self._plan(self.cut.pids, CgroupRef(self.hier, path), self.cut.threads, self.cut.starts, "put")

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False, name="plan")
    def _plan(self, pids: list[int], target: CgroupRef, threads: bool, starts: dict[int, int],
              purpose: str) -> None:
        plan = self.engine.plan(pids, target, threads=threads, expected_start=starts)
        self.post_message(self.Planned(plan, str(target), purpose))

    def on_ctrtui_app_planned(self, event: Planned) -> None:
        if event.purpose == "drag":
            if event.target == self._drag_target and self.tasks.dragging:
                line = self.tree.nodes.get(event.target.split(":", 1)[1])
                self.tree.show_drop(line.line if line is not None else -1, bool(event.plan.accepted))
                self._say(Text("drop on " + plan_line(event.plan, event.target),
                               "bold green" if event.plan.accepted else "bold red"))
            return
        if not event.plan.accepted:
            self.notify("Nothing to move into " + plan_line(event.plan, event.target), severity="warning",
                        title="Not moved", timeout=8, escaped=True)
            return
        if event.purpose == "put":
            self.cut = None
            self._update_status()
        self.confirm_and_apply(event.plan)

    def confirm_and_apply(self, plan: Any) -> None:
        """Ask first when the move is risky, then apply it in a worker."""
        from ctrtui.engine.risk import assess

        if self._refuse_read_only():
            return
        if not plan.accepted:
            self.notify("Nothing to move: " + plan_line(plan, str(getattr(plan, "target", ""))),
                        severity="warning", title="Not moved", timeout=8, escaped=True)
            return
        try:
            risks = assess(plan, self.snapshot, self.backend)
        except Exception as exc:  # noqa: BLE001 - assessing must not crash; ask instead
            risks = [f"Could not check this move for risks ({describe_error(exc)})."]
        if risks:
            from ctrtui.ui.screens import ConfirmMove

            self.push_screen(ConfirmMove(plan, risks), lambda ok: self._apply(plan) if ok else
                             self.notify("Move cancelled: nothing moved.", timeout=3))
        else:
            self._apply(plan)

    @work(thread=True, group="move", exit_on_error=False, name="move")
    def _apply(self, plan: Any) -> None:
        self.post_message(self.BatchDone(self.engine.apply(plan), "Move"))

    def action_undo(self) -> None:
        if self._refuse_read_only():
            return
        self._undo()

    @work(thread=True, group="move", exit_on_error=False, name="undo")
    def _undo(self) -> None:
        self.post_message(self.BatchDone(self.engine.undo(), "Undo"))

    def on_ctrtui_app_batch_done(self, event: BatchDone) -> None:
        if event.report is None:
            self.notify("Nothing to undo: no batch of moves is left in the journal.", severity="warning")
            return
        self.reports.append(event.report)
        text, severity = report_text(event.report, event.what)
        self.notify(text, title=event.what, severity=severity, timeout=8, escaped=True)
        moved = [o.pid for o in event.report.outcomes]
        self.tasks.forget_details(keep=[p for p in self.tasks.details if p not in moved])
        self.tasks.marks.difference_update(o.pid for o in event.report.outcomes if o.outcome == "moved")
        self.action_refresh()

    def action_move_log(self) -> None:
        from ctrtui.ui.screens import MoveLog

        self.push_screen(MoveLog(list(self.reports)))

    # ------------------------------------------------------------------ drag and drop

    def _node_at(self, x: int, y: int):
        """(path, line) of the tree node under screen cell (x, y), or None."""
        try:
            screen = self.screen
            widget, _ = screen.get_widget_at(x, y)
        except Exception:  # noqa: BLE001 - outside every widget, or no screen (closing)
            return None
        if widget is not self.tree:
            return None
        line = screen.get_style_at(x, y).meta.get("line")
        if line is None:
            return None
        node = self.tree.get_node_at_line(line)
        if node is None or node.data is None:
            return None
        return node.data, line

    def on_task_list_drag_moved(self, event: TaskList.DragMoved) -> None:
        hit = self._node_at(event.screen_x, event.screen_y)
        if hit is None:
            if self._drag_target is not None or self.tree.drop_line != -1:
                self.tree.show_drop(-1, False)
            self._drag_target = None
            n = len(event.pids)
            self._say(Text(f"dragging {n} task{'s' if n != 1 else ''}: drop on a cgroup in the tree "
                           "(esc cancels)", "bold"))
            return
        path, line = hit
        target = f"{self.hier}:{path}"
        if target != self._drag_target:
            self._drag_target = target
            self.tree.show_drop(line, True)
            self._say(Text(f"drop on {display(target)}: checking…", "bold"))
            self._plan(list(event.pids), CgroupRef(self.hier, path), self.threads,
                       self._starts(event.pids), "drag")

    def on_task_list_drag_dropped(self, event: TaskList.DragDropped) -> None:
        hit = self._node_at(event.screen_x, event.screen_y)
        self._end_drag()
        self._refresh_detail()
        if hit is None:
            self.notify("Dropped outside the cgroup tree: nothing moved.", severity="warning", timeout=4)
            return
        if self._refuse_read_only():
            return
        path, _ = hit
        self._plan(list(event.pids), CgroupRef(self.hier, path), self.threads,
                   self._starts(event.pids), "drop")

    def _end_drag(self) -> None:
        self._drag_target = None
        self.tree.show_drop(-1, False)
        self._detail_key = None


def run(backend, engine, interval: float = 2.0, read_only: bool = False) -> None:
    """Entry used by the command line (`ctrtui`, `ctrtui --demo`)."""
    CtrtuiApp(backend, engine, interval=interval, read_only=read_only).run()

