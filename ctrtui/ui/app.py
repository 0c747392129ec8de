"""The ctrtui terminal UI: container tree on the left, task list on the right.

The app composes the screen, holds what every part reads (the snapshot, the hierarchy shown,
threads or processes, own tasks or the subtree, read-only or not) and keys the bindings to
thin actions. Its two big jobs are objects of their own: `LiveView` (ctrtui/ui/live.py)
keeps the snapshot fresh and patches the panes, `Moves` (ctrtui/ui/moves.py) does every move;
`DetailFeed` (ctrtui/ui/details.py) draws the detail line.

Everything blocking (snapshots, details, stats, plans, moves) runs in thread workers and
comes back as messages (ctrtui/ui/messages.py); one `Worker.StateChanged` handler turns any
worker error into a notification, so nothing that goes wrong on the machine crashes the app.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult, ScreenError
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.notifications import SeverityLevel
from textual.widget import Widget
from textual.widgets import Input, Select, Tree
from textual.worker import Worker, WorkerState

from ctrtui.engine import AttachEngine
from ctrtui.model import HierarchySnapshot, Snapshot
from ctrtui.report import describe_error
from ctrtui.sources import read_only_reason
from ctrtui.sources.base import Backend, Reader
from ctrtui.text import display, scrub
from ctrtui.ui import heap
from ctrtui.ui.cgroupops import CgroupActions
from ctrtui.ui.commands import CtrtuiCommands
from ctrtui.ui.details import DetailFeed
from ctrtui.ui.hostfeed import HostFeed
from ctrtui.ui.hosts import DEAD, OK, HostView, Link, Mover, local_host, placeholder
from ctrtui.ui.live import TICK_BUDGET, LiveView
from ctrtui.ui.messages import (
    BatchDone,
    DetailRead,
    HostChanged,
    MarkersRead,
    MetersRead,
    Planned,
    ShownRead,
    SnapshotTaken,
    StatsRead,
)
from ctrtui.ui.moves import Cut, Moves, journal_problem, policy_problem
from ctrtui.ui.navigate import Navigator
from ctrtui.ui.safe import content, lines
from ctrtui.ui.stats import StatsFeed
from ctrtui.ui.widgets.detail import DetailLine
from ctrtui.ui.widgets.filterbox import FilterBox
from ctrtui.ui.widgets.heading import ColumnHeading
from ctrtui.ui.widgets.meters import MetersBar
from ctrtui.ui.widgets.status import StatusBar
from ctrtui.ui.widgets.tasklist import TaskList
from ctrtui.ui.widgets.tree import CgroupTree

if TYPE_CHECKING:
    from collections.abc import Callable

    from ctrtui.engine import Report
    from ctrtui.ui.hostfeed import Hit

__all__ = ["CtrtuiApp", "describe_error", "run"]


class CtrtuiApp(App[None]):
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
        Binding("n", "new_cgroup", "New cgroup", show=False,
                tooltip="Make a child of the highlighted cgroup (asks its name)", id="new-cgroup"),
        Binding("N", "new_cgroup_move", "Move to new", show=False,
                tooltip="Move the selection into a new child of the highlighted cgroup", id="new-cgroup-move"),
        Binding("D", "remove_cgroup", "Remove cgroup", show=False,
                tooltip="Remove the highlighted cgroup if it is empty (asks first)", id="remove-cgroup"),
        Binding("z", "freeze", "Freeze/thaw", show=False,
                tooltip="Freeze the highlighted cgroup, or thaw it (asks first)", id="freeze"),
        Binding("H", "hosts", "Hosts", show=False,
                tooltip="Every host with its state: switch to one, or reconnect it", id="hosts"),
        Binding("F", "find_hosts", "Find on hosts", show=False,
                tooltip="Find a PID or a command on every connected host and jump to it", id="find-hosts"),
    ]

    def __init__(self, backend: Backend | None, engine: AttachEngine | None, interval: float = 2.0,
                 read_only: bool = False, hierarchy: str | None = None, cgroup: str | None = None,
                 remember_start: bool = False, hosts: Sequence[HostView] | None = None, jobs: int = 8) -> None:
        """One machine (`backend` and its `engine`), or several `hosts` (`ctrtui.ui.hosts`;
        `backend` and `engine` then unused): the first host already reached is shown at once,
        the others are reached in the background (`HostFeed`)."""
        super().__init__()
        if hosts is None:
            if backend is None or engine is None:
                raise ValueError("CtrtuiApp needs a backend and its engine, or hosts")
            engine.front = "ui"  # its advice in the UI's words ("Refresh the task list ...")
            hosts = [local_host(backend.identity, backend, engine)]
        self.read_only_flag = read_only
        """`--read-only`: no move on any host."""
        self.hostfeed = HostFeed(self, hosts, jobs)
        """The hosts, the one shown, their states (`ctrtui.ui.hostfeed`)."""
        first = next((v for v in hosts if v.link is not None), None)
        link = first.link if first is not None else placeholder(len(hosts))
        assert link is not None
        self.hostfeed.current = first
        self.backend: Reader = link.backend
        """The shown host's reader (its moves go through `engine`)."""
        self.engine: Mover = link.mover
        """The shown host's mover: this machine's `LocalMover`, or a remote host's `RemoteMover`."""
        self.local_engine: AttachEngine | None = link.engine
        """The shown host's engine when it is this machine (its policy, its journal), else None."""
        self.read_only_reason: str | None = None
        """Why moves are refused (None: moves work)."""
        self.read_only_reason = self.read_only_of(link)
        self._warm = False
        """The dialogs were made ready after the first snapshot (`_warm_dialogs`)."""
        self._dispatching = 0
        """Inside `run_action` (a key being handled), not drawing the footer: see check_action."""
        self.snapshot: Snapshot | None = None
        """The last snapshot of every mounted hierarchy (the shown one is the freshest)."""
        mounted = self.backend.hierarchies() if first is None or first.local else ()
        self.policy_error: str | None = (policy_problem(link.engine, mounted) if link.engine is not None
                                         else None)
        """Why the policy cannot be used (it could not be read, or is invalid): every move is
        refused with this sentence until the file is fixed. None: the policy is fine."""
        self.hierarchy_names: list[str] = [h.name for h in mounted]
        from ctrtui.ui import start

        self.remember_start = remember_start
        """Remember the hierarchy shown at the end, for the next start (`ctrtui.ui.start`)."""
        self.hier: str = start.start_hierarchy(mounted, hierarchy, start.remembered(self.backend.identity)
                                               if remember_start else None)
        """The hierarchy shown (at first: `ctrtui.ui.start`'s rule)."""
        self.asked_hierarchy = hierarchy
        """`--hierarchy`: where a host reached later opens too (when it has it)."""
        self.start_path: str | None = cgroup
        """A cgroup of `hier` to select once the first snapshot is shown (`--cgroup`)."""
        self.threads = False
        """Threads view instead of processes."""
        self.recursive = False
        """Task list shows the whole subtree."""
        self.notices: deque[str] = deque(maxlen=200)
        """Text of the notifications shown (newest last), for the move log and tests."""
        self._widgets: dict[str, Widget] = {}
        self.live = LiveView(self, self.backend, interval, take_first=first is not None)
        """The refresh cycle."""
        self.moves = Moves(self, self.backend, link.mover, link.engine)
        """Marks, cut/put, drag, plan, confirm, apply, undo, move log."""
        self.details = DetailFeed(self, self.backend)
        """The detail line's content."""
        self.navigator = Navigator(self)
        """Hierarchy switching, go to cgroup, find PID."""
        self.stats = StatsFeed(self, self.backend)
        """The tree's figure columns and the meters line, read at each refresh."""
        self.cgroup_ops = CgroupActions(self, link.ops)
        """Create, remove, freeze and thaw cgroups (n, D, z, N)."""

    # ------------------------------------------------------------------ read-only in the footer

    MOVING_ACTIONS = frozenset({"move", "cut", "put", "undo", "new_cgroup", "new_cgroup_move", "remove_cgroup",
                                "freeze"})
    """Actions that write (move tasks, make, remove, freeze cgroups): shown disabled in the
    footer and marked off in `?` while moves are off; pressed, they say why."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Moves off (read-only, or a policy that cannot be used): the move keys are shown
        disabled in the footer; pressed, they still run, to say why (`Moves.refused`)."""
        if (action in self.MOVING_ACTIONS and not self._dispatching
                and (self.read_only_reason is not None or self.policy_error is not None)):
            return None
        return True

    async def run_action(self, action: object, default_namespace: object = None,
                         namespaces: object = None) -> bool:
        self._dispatching += 1
        try:
            return await super().run_action(action, default_namespace, namespaces)  # type: ignore[arg-type]
        finally:
            self._dispatching -= 1

    # ------------------------------------------------------------------ hosts (see HostFeed)

    def read_only_of(self, link: Link) -> str | None:
        """Why moves are off on the host of `link` (None: they work): the host says so (a
        remote agent that is not root), `--read-only`, the local backend's own word, or a
        journal that cannot be written."""
        reason = link.read_only
        if reason is None and link.engine is not None:
            reason = read_only_reason(link.backend)  # the backend says whether it may write
        if reason is None and self.read_only_flag:
            reason = "--read-only"
        if reason is None and link.engine is not None:
            reason = journal_problem(link.engine)
        return reason

    @property
    def host(self) -> HostView | None:
        """The host shown (None until one is reached)."""
        return self.hostfeed.current

    @property
    def pid_max(self) -> int | None:
        """The shown host's pid_max (None: not known yet)."""
        host = self.host
        if host is not None and host.link is not None and host.link.pid_max is not None:
            return host.link.pid_max
        return self.local_engine.pid_max if self.local_engine is not None else None

    def use_host(self, view: HostView, then: Callable[[], None] | None = None) -> None:
        """Show the host `view` (reached): its last snapshot at once when it was shown
        before, else the panes wait for its first one. Cut tasks and marks are the last
        host's and are dropped; the move log is each host's own. `then` runs once the
        host's snapshot is on screen (a find across hosts jumps to its hit)."""
        link = view.link
        if link is None:
            return
        old = self.hostfeed.current
        if old is not None and old is not view:
            old.snapshot, old.hier = self.snapshot, self.hier
            old.extra["reports"] = self.moves.reports
        self.hostfeed.current = view
        self.backend = link.backend
        self.engine = link.mover
        self.local_engine = link.engine
        self.read_only_reason = self.read_only_of(link)
        self.policy_error = link.policy_error
        self.live.backend = self.details.backend = self.moves.backend = link.backend
        self.moves.mover, self.moves.engine = link.mover, link.engine
        self.moves.reports = view.extra.get("reports", []) if view is not old else self.moves.reports
        self.moves.cut = None
        self.details.key = None
        self.cgroup_ops.use(link.ops)
        # its last snapshot at once; not when something waits for this host's state (a find's
        # hit), nor on a reconnect: then the fresh one
        self.snapshot = view.snapshot if view is not old and then is None else None
        names = self.snapshot.names() if self.snapshot is not None else []
        self.hierarchy_names = names
        self.hier = view.hier if view.hier in names else ""
        self.live.after_load = then
        if not self._widgets:
            return
        self.stats.use(link.backend)
        tasks = self.tasks
        tasks.backend = link.backend
        tasks.marks.clear()
        tasks.forget_details()
        tasks.path = None  # another host's list: not "the same list" (no fading rows, no highlights)
        if names:  # else the first snapshot sets them
            select: Select[str] = self.query_one("#hierarchy", Select)
            with select.prevent(Select.Changed):
                select.set_options([(content(n), n) for n in names])
        if self.hs is not None:
            self.live.load()
            self.live.loaded()
        else:
            self.query_one("#main").display = False
            self.say(f"Taking the first snapshot of host {display(view.name)}…")
        self.update_status()
        self.refresh_bindings()
        self.live.refresh()

    def hosts_changed(self) -> None:
        """A host's state changed: the host switcher, when open, shows it."""
        from ctrtui.ui.screens.hosts import HostSwitcher

        if self._screen_stack and isinstance(self.screen, HostSwitcher):
            self.screen.show_hosts()

    def action_hosts(self) -> None:
        """`H`: every host with its state; enter shows one, `r` reconnects it."""
        from ctrtui.ui.screens.hosts import HostSwitcher

        if self.closing():
            return
        feed = self.hostfeed

        def chosen(view: HostView | None) -> None:
            if view is not None and view is not feed.current:
                if view.link is None:
                    self.notify(f"Host {display(view.name)} is not connected: {view.reason or 'connecting…'}",
                                severity="warning")
                    return
                self.use_host(view)

        self.push_screen(HostSwitcher(feed), chosen)

    def action_find_hosts(self) -> None:
        """`F`: find a PID or a command on every connected host; enter jumps to the hit."""
        from ctrtui.ui.screens.findhosts import FindOnHosts

        if self.closing():
            return
        self.push_screen(FindOnHosts(self.hostfeed), self.jump_to_hit)

    def jump_to_hit(self, hit: Hit | None) -> None:
        """Show the host of `hit` (switching to it), its hierarchy, the task's cgroup and row."""
        if hit is None:
            return
        view = self.hostfeed.view(hit.host)
        if view is None or view.link is None:
            return

        def there() -> None:
            if hit.hierarchy != self.hier and hit.hierarchy in self.hierarchy_names:
                self.navigator.switch(hit.hierarchy)
            self.navigator.find_pid(hit.pid)

        if view is self.hostfeed.current and self.hs is not None:
            there()
        else:
            view.hier = hit.hierarchy
            self.use_host(view, then=there)

    # ------------------------------------------------------------------ state others read

    @property
    def interval(self) -> float:
        """Seconds between automatic refreshes."""
        return self.live.interval

    @property
    def paused(self) -> bool:
        """Auto-refresh is paused."""
        return self.live.paused

    @property
    def cut(self) -> Cut | None:
        """What `x` remembered for `p`."""
        return self.moves.cut

    @property
    def reports(self) -> list[Report]:
        """Every batch report of this run, oldest first (the move log)."""
        return self.moves.reports

    @property
    def hs(self) -> HierarchySnapshot | None:
        """The shown hierarchy's last snapshot."""
        return self.snapshot.get(self.hier) if self.snapshot is not None else None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        from ctrtui.ui.widgets.footer import KeysFooter

        # the meters are this machine's: on another backend (the demo) the line says so
        yield MetersBar(label=("this machine: " if self.hostfeed.many or not (self.host and self.host.local)
                               else "" if self.backend.identity == "local" else "real host: "), id="meters")
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Select([(content(n), n) for n in self.hierarchy_names],
                             value=self.hier if self.hier else Select.NULL,
                             allow_blank=not self.hierarchy_names, id="hierarchy", prompt="hierarchy",
                             compact=True)
                tree = CgroupTree(id="tree")
                yield ColumnHeading(tree, id="tree-heading")
                yield tree
            with Vertical(id="right"):
                yield FilterBox(placeholder="filter: PID, command or user (enter: keep, esc: clear)",
                                on_change=self._filter_typed, id="filter")
                yield TaskList(self.backend, on_cursor=self._cursor_moved, id="tasks")
        yield DetailLine("taking the first snapshot…", id="detail")
        yield KeysFooter()

    @property
    def tree(self) -> CgroupTree:  # type: ignore[override]  # DOMNode.tree is a debugging aid
        """The container tree (of the main screen, whatever screen is on top)."""
        tree = self._widgets["tree"]
        assert isinstance(tree, CgroupTree)
        return tree

    @property
    def tasks(self) -> TaskList:
        """The task list (of the main screen)."""
        tasks = self._widgets["tasks"]
        assert isinstance(tasks, TaskList)
        return tasks

    @property
    def detail_line(self) -> DetailLine | None:
        """The detail line (None before the screen is mounted)."""
        line = self._widgets.get("detail")
        return line if isinstance(line, DetailLine) else None

    @property
    def filter_box(self) -> FilterBox:
        box = self._widgets["filter"]
        assert isinstance(box, FilterBox)
        return box

    def on_mount(self) -> None:
        self._widgets = {
            "tree": self.query_one("#tree", CgroupTree), "tasks": self.query_one("#tasks", TaskList),
            "status": self.query_one(StatusBar), "detail": self.query_one(DetailLine),
            "filter": self.query_one("#filter", FilterBox),
        }
        self.fit_panes()
        self.tree.focus()
        if self.policy_error is not None and self.read_only_reason is None:
            self.moves.policy_notice()
        self.set_interval(1.0, self.update_status)
        if self.host is None:  # no host reached yet: the first one to answer is shown (HostFeed)
            self.query_one("#main").display = False
            self.say(self.hostfeed.waiting())
        else:
            self.live.refreshing = True
            self.live.start()
        self.update_status()
        self.hostfeed.start()

    def on_resize(self, event: events.Resize) -> None:
        # the event's size: `self.size` still holds the size before this resize
        self.fit_panes(event.size.width)

    def fit_panes(self, width: int | None = None) -> None:
        """Share the width between tree and task list (`ctrtui.ui.layout`): the tree gives
        way so COMMAND keeps its room; too narrow for both, the panes are stacked.
        `width`: the terminal's (a resize's new size), else the app's current size."""
        from ctrtui.ui.layout import tree_width
        from ctrtui.ui.rows import columns_for

        try:
            main, left = self.query_one("#main"), self.query_one("#left")
        except Exception:  # noqa: BLE001 - not composed yet, or closing
            return
        fixed = 2 + sum(c.width + 1 for c in columns_for(self.threads) if c.width) + 1
        tree = tree_width(self.size.width if width is None else width, fixed)
        main.set_class(tree is None, "stacked")
        left.styles.width = "100%" if tree is None else tree

    def on_unmount(self) -> None:
        if self.remember_start and self.hier:
            from ctrtui.ui.start import remember

            remember(self.hier, self.backend.identity)
        self.hostfeed.close_all()
        heap.release()

    def get_driver_class(self) -> type[Driver]:
        """Textual's choice, except that its Linux driver is replaced by one whose input
        thread sleeps until input comes instead of waking ten times a second (ui/driver.py)."""
        chosen = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if chosen is LinuxDriver:
            from ctrtui.ui.driver import QuietLinuxDriver

            return QuietLinuxDriver
        return chosen

    def update_status(self) -> None:
        """Redraw the status bar from the app's state."""
        status = self._widgets.get("status")
        if not isinstance(status, StatusBar):
            return
        cut = self.moves.cut
        host, feed = self.host, self.hostfeed
        name: str | None = host.name if host is not None else "connecting…"
        state = (None if host is None or host.state == OK else feed.unreachable(host) if host.state == DEAD
                 else host.state)
        read_only = self.read_only_reason or ("moves off: the policy file cannot be used" if self.policy_error
                                              else None)
        dead = [v for v in feed.views if v.state == DEAD]
        if host is None and dead and len(dead) == len(feed.views):  # none could be reached: say so, not "connecting"
            name, state = ((dead[0].name, feed.unreachable(dead[0])) if len(dead) == 1
                           else (f"none of {len(dead)}", "unreachable (r retries them; H lists them)"))
            read_only = "no host reached"
        status.show_status(
            # named unless this machine alone is shown (as before there were hosts)
            host=name if feed.many or host is None or not host.local else None,
            host_state=state, backend=self.backend.kind, read_only=read_only,
            taken_at=self.snapshot.taken_at if self.snapshot else None, paused=self.live.paused,
            busy=self.live.refreshing, hierarchy=self.hier, cut=len(cut.pids) if cut else 0,
            read_at=self.live.read_at, tree_at=self.live.tree_at, interval=self.live.paced(),
            stretched=self.live.paced() > self.live.interval, budget=TICK_BUDGET,
            marked=len(self.tasks.marks) if "tasks" in self._widgets else 0)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
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

    def focused_widget(self) -> Widget | None:
        """The focused widget, or None; also None while the app is closing and has no
        screen left (a late message must not raise ScreenStackError)."""
        try:
            return self.focused
        except ScreenError:
            return None

    def closing(self) -> bool:
        """No screen is left (the app is closing)."""
        return not self._screen_stack

    def say(self, text: str | Text) -> None:
        """Show `text` on the detail line: a str is a message (scrubbed; names in it put with
        `display()`); a Text is built by the caller from display text."""
        line = self.detail_line
        if line is not None:
            line.show(Text(scrub(text)) if isinstance(text, str) else text)

    # ------------------------------------------------------------------ messages from workers

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        """Any worker that fails becomes a notification; a failed snapshot re-arms the timer."""
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        group = worker.group or ""
        if group.startswith(("host-", "probe-")):
            return  # HostFeed's workers catch their own errors; a late one changes nothing
        if worker.error is None or not self.hostfeed.failed(worker.error):  # said once per dead host
            self.notify(describe_error(worker.error) if worker.error is not None else "unknown error",
                        title=f"{worker.name or worker.group} failed", severity="error", timeout=8)
        if worker.group == "snapshot":
            self.live.failed()

    def _stale(self, source: object) -> bool:
        """A read of a backend no longer shown (a host left behind): dropped."""
        return source is not None and source is not self.backend

    @on(HostChanged)
    def _host_changed(self, event: HostChanged) -> None:
        self.hostfeed.changed(event)

    @on(SnapshotTaken)
    def _snapshot_taken(self, event: SnapshotTaken) -> None:
        if self._stale(event.source):
            return
        try:
            self.live.snapshot_taken(event)
        except NoMatches:
            # A snapshot that lands while the app closes finds its panes gone: nothing to show.
            if not self._tearing_down():
                raise
            return
        if not self._warm and self.snapshot is not None:
            self._warm = True
            self.call_after_refresh(self._warm_dialogs)

    def _warm_dialogs(self) -> None:
        """After the first paint: import the dialogs and index every hierarchy's paths for
        the picker and go-to (in a worker), so the first `m`, `g` or `?` opens as fast as
        the next ones."""
        import ctrtui.ui.screens  # noqa: F401 - imported now rather than on the first key
        import ctrtui.ui.screens.keys  # noqa: F401
        from ctrtui.ui.fuzzy import RefMatcher

        snapshot = self.snapshot
        if snapshot is not None:
            self.run_worker(lambda: RefMatcher(snapshot, self.hier), thread=True, group="warm",
                            exit_on_error=False, name="warm")

    @on(ShownRead)
    def _shown_read(self, event: ShownRead) -> None:
        if self._stale(event.source):
            return
        self.live.shown_read(event)

    @on(MarkersRead)
    def _markers_read(self, event: MarkersRead) -> None:
        if not self._stale(event.source):
            self.live.markers_read(event)

    @on(StatsRead)
    def _stats_read(self, event: StatsRead) -> None:
        self.stats.stats_read(event)

    @on(MetersRead)
    def _meters_read(self, event: MetersRead) -> None:
        try:
            self.query_one(MetersBar).show(event.meters)
        except NoMatches:
            pass  # read as the app closed, its bar already gone: nothing to show

    def _tearing_down(self) -> bool:
        """True while the app closes: a worker's message may still arrive after the screen's
        widgets are gone (seen when a test exits as a host's first snapshot lands)."""
        return bool(self._closing or self._closed or not self.screen_stack or not self.screen.is_attached)

    @on(CgroupTree.ColumnsChanged)
    def _columns_changed(self) -> None:
        self.stats.refresh(meters=False)

    @on(DetailRead)
    def _detail_read(self, event: DetailRead) -> None:
        if not self._stale(event.source):
            self.details.read(event)

    @on(Planned)
    def _planned(self, event: Planned) -> None:
        self.moves.planned(event)

    @on(BatchDone)
    def _batch_done(self, event: BatchDone) -> None:
        self.moves.batch_done(event)

    # ------------------------------------------------------------------ tree and list

    @on(Tree.NodeHighlighted, "#tree")
    def _node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        hs = self.hs
        path = event.node.data
        if hs is None or path is None:
            return
        if not (self.tasks.path == path and self.tasks.hs is hs):
            self.show_tasks()
        self.details.refresh()
        self.live.prefetch_markers(event)
        self.stats.prefetch(path)

    @on(Tree.NodeExpanded, "#tree")
    def _node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        self.live.expanded(event)
        self.stats.expanded(event.node.data)

    def _cursor_moved(self, pid: int | None) -> None:
        """The task list's cursor moved (called at once, in the same frame)."""
        if self._widgets and self.focused_widget() is self.tasks:
            self.details.refresh()

    @on(TaskList.CursorMoved)
    def _task_cursor_moved(self, event: TaskList.CursorMoved) -> None:
        if self.focused_widget() is self.tasks:
            self.details.refresh()

    def on_descendant_focus(self) -> None:
        self.details.refresh()

    def on_key(self, event: events.Key) -> None:
        """A key of one pane pressed where it cannot act (focus on the hierarchy switcher, or
        on the other pane): say where it works rather than doing nothing. Runs before the
        app's own binding check, so only keys that no binding of the focus chain takes."""
        if len(self.screen_stack) != 1 or not self._widgets or event.key in self.screen.active_bindings:
            return
        where = self.pane_of_key(event.key)
        if where is not None:
            self.notify(where, severity="warning", timeout=4)

    def pane_of_key(self, key: str) -> str | None:
        """A sentence saying which pane `key` works in (None: no pane binds it)."""
        from ctrtui.ui.screens.keys import bindings_of

        focused = self.focused_widget()
        for cls, pane in ((CgroupTree, "the cgroup tree"), (TaskList, "the task list")):
            if isinstance(focused, cls):
                continue
            binding = next((b for b in bindings_of(cls) if key in b.key.split(",") and b.description
                            and not b.action.startswith(("cursor", "page", "edge", "scroll"))), None)
            if binding is not None:
                return (f"{self.get_key_display(binding)} ({binding.description}) works in {pane}: tab moves the "
                        "focus there (or click it).")
        return None

    @on(TaskList.MarksChanged)
    def _marks_changed(self) -> None:
        self.update_status()

    @on(TaskList.DragMoved)
    def _drag_moved(self, event: TaskList.DragMoved) -> None:
        self.moves.drag_moved(event)

    @on(TaskList.DragDropped)
    def _drag_dropped(self, event: TaskList.DragDropped) -> None:
        self.moves.drag_dropped(event)

    def show_tasks(self) -> None:
        """Show the tasks of the tree's cursor cgroup."""
        hs = self.hs
        if hs is not None:
            self.tasks.show(hs, self.tree.cursor_path, self.threads, self.recursive)

    # ------------------------------------------------------------------ refresh

    def action_refresh(self) -> None:
        """Take a new snapshot now (the panes are patched when it arrives); while no host is
        shown, or the shown one is dead, reach the dead hosts again instead."""
        host = self.host
        if host is None or (host.state == DEAD and not host.local):
            retried = self.hostfeed.retry_dead() if host is None else [host]
            if host is not None:
                self.hostfeed.reconnect(host)
            if retried:
                names = ", ".join(display(v.name) for v in retried)
                self.notify(f"Reaching {names} again…", timeout=3)
                if host is None:
                    self.say(self.hostfeed.waiting())
            self.update_status()
            return
        self.live.refresh()

    def action_toggle_pause(self) -> None:
        self.live.toggle_pause()
        self.update_status()

    # ------------------------------------------------------------------ hierarchy, views

    @on(Select.Changed, "#hierarchy")
    def _hierarchy_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.hier:
            self.switch_hierarchy(event.value)

    def switch_hierarchy(self, name: str) -> None:
        """Show the hierarchy `name` (see `Navigator.switch`)."""
        self.navigator.switch(name)

    def action_cycle_hierarchy(self, step: int) -> None:
        self.navigator.cycle(step)

    def action_switch_hierarchy(self) -> None:
        self.navigator.choose_hierarchy()

    def action_toggle_threads(self) -> None:
        self.threads = not self.threads
        self.tree.set_threads(self.threads)
        self.tasks.set_view(threads=self.threads)
        self.fit_panes()
        self.notify("Threads view: TIDs, TGID column" if self.threads else "Processes view: TGIDs, THR column",
                    timeout=2)

    def action_toggle_descendants(self) -> None:
        self.recursive = not self.recursive
        self.tasks.set_view(recursive=self.recursive)
        self.notify("Showing the tasks of the whole subtree" if self.recursive
                    else "Showing the cgroup's own tasks", timeout=2)

    def action_help(self) -> None:
        """Every key, grouped by pane, whatever has focus (`ctrtui.ui.screens.keys`)."""
        from ctrtui.ui.screens.keys import KeysHelp, bindings_of, key_lines

        if self.closing():
            return
        off = self.MOVING_ACTIONS if (self.read_only_reason or self.policy_error) else frozenset()
        reason = self.read_only_reason or "the policy file cannot be used"
        groups = [("Everywhere", bindings_of(type(self))), ("Cgroup tree (left pane)", bindings_of(CgroupTree)),
                  ("Task list (right pane)", bindings_of(TaskList))]
        self.push_screen(KeysHelp(key_lines(groups, self.get_key_display, off, reason)))

    # ------------------------------------------------------------------ filter

    def action_filter(self) -> None:
        box = self.filter_box
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
            self.moves.end_drag()
            self.tasks.cancel_drag()
            self.say("Drag cancelled: nothing moved.")
            return
        box = self.filter_box
        if box.display:
            box.value = ""
            box.display = False
            self.tasks.set_filter("")
            self.tasks.focus()

    # ------------------------------------------------------------------ navigation (see Navigator)

    def action_go_to(self) -> None:
        self.navigator.ask_path()

    def go_to(self, path: str | None) -> None:
        """Select the cgroup `path` of the current hierarchy in the tree."""
        self.navigator.go_to(path)

    def action_find_pid(self) -> None:
        self.navigator.ask_pid()

    def find_pid(self, pid: int | None) -> None:
        """Jump to the cgroup of `pid` in the current hierarchy and put the cursor on it."""
        self.navigator.find_pid(pid)

    # ------------------------------------------------------------------ moves (see Moves)

    def action_move(self) -> None:
        self.moves.pick()

    def action_cut(self) -> None:
        self.moves.cut_selection()

    def action_put(self) -> None:
        self.moves.put()

    def action_undo(self) -> None:
        self.moves.undo()

    def action_move_log(self) -> None:
        self.moves.show_log()

    # ------------------------------------------------------------------ cgroup ops (see CgroupActions)

    def action_new_cgroup(self) -> None:
        self.cgroup_ops.new()

    def action_new_cgroup_move(self) -> None:
        self.cgroup_ops.new_and_move()

    def action_remove_cgroup(self) -> None:
        self.cgroup_ops.remove()

    def action_freeze(self) -> None:
        self.cgroup_ops.freeze()


def run_hosts(specs: Sequence[object], options: object, *, jobs: int = 8,
              local: tuple[Backend, AttachEngine] | None = None, interval: float = 2.0, read_only: bool = False,
              hierarchy: str | None = None) -> None:
    """Entry used by the command line with `--host`/`--hosts`: one view per host (`local`:
    this machine, with `local`'s backend and engine), reached in the background, at most
    `jobs` at once; the first to answer is shown (`ctrtui.ui.hostfeed`)."""
    from ctrtui.ui.hosts import remote_host

    views = [local_host("local", *local) if getattr(spec, "name", None) == "local" and local is not None
             else remote_host(spec, options) for spec in specs]
    CtrtuiApp(None, None, interval=interval, read_only=read_only, hierarchy=hierarchy, hosts=views, jobs=jobs).run()


def run(backend: Backend, engine: AttachEngine, interval: float = 2.0, read_only: bool = False,
        hierarchy: str | None = None, cgroup: str | None = None) -> None:
    """Entry used by the command line (`ctrtui`, `ctrtui --demo`): opens on `hierarchy`
    (and selects `cgroup` in it), else where `ctrtui.ui.start` says; remembers the last one."""
    CtrtuiApp(backend, engine, interval=interval, read_only=read_only, hierarchy=hierarchy, cgroup=cgroup,
              remember_start=True).run()
