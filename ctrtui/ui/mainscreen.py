"""The main screen: the cgroup tree beside the task list, the status bar above, the detail
line and the keys below (`MainScreen`), with the keys that act on them. It is the app's
default screen; what it shows and what its keys do is the app's state and its helpers'
(`CtrtuiApp`, as `ctrtui.ui.mainside.MainSide`: the hosts, the snapshot, `LiveView`, `Moves`,
`Navigator`, `CgroupActions`, ...):
its actions hand each key to the helper that does it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Select, Tree

from ctrtui.sources.base import Reader
from ctrtui.text import display
from ctrtui.ui.hostviews import DEAD, OK
from ctrtui.ui.live import TICK_BUDGET
from ctrtui.ui.untrusted import content
from ctrtui.ui.widgets.detail import DetailLine
from ctrtui.ui.widgets.filterbox import FilterBox
from ctrtui.ui.widgets.heading import ColumnHeading
from ctrtui.ui.widgets.meters import MetersBar
from ctrtui.ui.widgets.status import StatusBar
from ctrtui.ui.widgets.tasklist import TaskList
from ctrtui.ui.widgets.tree import CgroupTree

if TYPE_CHECKING:
    from ctrtui.ui.mainside import MainSide


class MainScreen(Screen[None]):
    """The tree, the task list, the status bar, the detail line and the footer, and the keys
    of the main screen (those of each pane are the pane's own)."""

    BINDINGS = [
        Binding("m", "move", "Move", tooltip="Move the selection: pick a target cgroup", id="move"),
        Binding("x", "cut", "Cut", tooltip="Remember the selection to put it elsewhere with p", id="cut"),
        Binding("p", "put", "Put", tooltip="Move the cut tasks into the highlighted cgroup", id="put"),
        Binding("u", "undo", "Undo", tooltip="Move the last batch back", id="undo"),
        Binding("slash", "filter", "Filter", tooltip="Filter tasks by PID, command or user", id="filter"),
        Binding("r", "app.refresh", "Refresh", tooltip="Take a new snapshot now", id="refresh"),
        Binding("question_mark", "help", "Keys", tooltip="Show every key binding", id="help"),
        Binding("q", "app.quit", "Quit", tooltip="Leave ctrtui", id="quit"),
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

    def __init__(self, app: MainSide) -> None:
        super().__init__()
        self.ctrtui = app
        """The app whose state this screen shows (kept: a late message after the app closed
        finds no active app to ask for)."""
        self.widgets: dict[str, Widget] = {}
        """The panes by name, once mounted (empty before: nothing to draw into yet)."""

    RECORDED = False
    """A recording is shown (`ctrtui.ui.replay`'s screen): the status bar leaves its age to
    the time bar."""

    MOVING_ACTIONS = frozenset({"move", "cut", "put", "undo", "new_cgroup", "new_cgroup_move", "remove_cgroup",
                                "freeze"})
    """Actions that write (move tasks, make, remove, freeze cgroups): shown disabled in the
    footer and marked off in `?` while moves are off; pressed, they say why."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Moves off (read-only, or a policy that cannot be used): the move keys are shown
        disabled in the footer; pressed, they still run, to say why (`Moves.refused`)."""
        app = self.ctrtui
        if (action in self.MOVING_ACTIONS and not app.dispatching
                and (app.read_only_reason is not None or app.policy_error is not None)):
            return None
        return True

    def compose(self) -> ComposeResult:
        from ctrtui.ui.widgets.footer import KeysFooter

        app = self.ctrtui
        # the meters are this machine's: on another backend (the demo) the line says so
        yield MetersBar(label=("this machine: " if app.hostfeed.many or not (app.host and app.host.local)
                               else "" if app.backend.identity == "local" else "real host: "), id="meters")
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Select([(content(n), n) for n in app.hierarchy_names],
                             value=app.hier if app.hier else Select.NULL,
                             allow_blank=not app.hierarchy_names, id="hierarchy", prompt="hierarchy",
                             compact=True)
                tree = CgroupTree(id="tree")
                yield ColumnHeading(tree, id="tree-heading")
                yield tree
            with Vertical(id="right"):
                yield FilterBox(placeholder="filter: PID, command or user (enter: keep, esc: clear)",
                                on_change=self._filter_typed, id="filter")
                yield TaskList(app.backend, on_cursor=self._cursor_moved, id="tasks")
        yield DetailLine("taking the first snapshot…", id="detail")
        yield KeysFooter()

    @property
    def tree(self) -> CgroupTree:  # type: ignore[override]  # DOMNode.tree is a debugging aid
        """The container tree (of the main screen, whatever screen is on top)."""
        tree = self.widgets["tree"]
        assert isinstance(tree, CgroupTree)
        return tree

    @property
    def tasks(self) -> TaskList:
        """The task list (of the main screen)."""
        tasks = self.widgets["tasks"]
        assert isinstance(tasks, TaskList)
        return tasks

    @property
    def detail_line(self) -> DetailLine | None:
        """The detail line (None before the screen is mounted)."""
        line = self.widgets.get("detail")
        return line if isinstance(line, DetailLine) else None

    @property
    def filter_box(self) -> FilterBox:
        box = self.widgets["filter"]
        assert isinstance(box, FilterBox)
        return box

    def on_mount(self) -> None:
        self.widgets = {
            "tree": self.query_one("#tree", CgroupTree), "tasks": self.query_one("#tasks", TaskList),
            "status": self.query_one(StatusBar), "detail": self.query_one(DetailLine),
            "filter": self.query_one("#filter", FilterBox),
        }
        self.fit_panes()
        self.tree.focus()
        self.ctrtui.main_mounted()

    def on_resize(self, event: events.Resize) -> None:
        # the event's size: `self.size` still holds the size before this resize
        self.fit_panes(event.size.width)

    def show_host(self, name: str, backend: Reader, names: list[str]) -> None:
        """Another host is shown (`CtrtuiApp.use_host`): the task list reads its details, its
        marks and cached details are dropped, the hierarchy switcher lists `names` (its
        hierarchies; none yet: its first snapshot sets them), and until a snapshot of it is
        there the panes are hidden and the detail line says so."""
        tasks = self.tasks
        tasks.backend = backend
        tasks.marks.clear()
        tasks.forget_details()
        tasks.path = None  # another host's list: not "the same list" (no fading rows, no highlights)
        if names:  # else the first snapshot sets them
            select: Select[str] = self.query_one("#hierarchy", Select)
            with select.prevent(Select.Changed):
                select.set_options([(content(n), n) for n in names])
        if self.ctrtui.hs is None:
            self.query_one("#main").display = False
            self.ctrtui.say(f"Taking the first snapshot of host {display(name)}…")

    def show_status(self) -> None:
        """Redraw the status bar from the app's state."""
        app = self.ctrtui
        status = self.widgets.get("status")
        if not isinstance(status, StatusBar):
            return
        cut = app.moves.cut
        host, feed = app.host, app.hostfeed
        name: str | None = host.name if host is not None else "connecting…"
        state = (None if host is None or host.state == OK else feed.unreachable(host) if host.state == DEAD
                 else host.state)
        read_only = app.read_only_reason or ("moves off: the policy file cannot be used" if app.policy_error
                                              else None)
        dead = [v for v in feed.views if v.state == DEAD]
        if host is None and dead and len(dead) == len(feed.views):  # none could be reached: say so, not "connecting"
            name, state = ((dead[0].name, feed.unreachable(dead[0])) if len(dead) == 1
                           else (f"none of {len(dead)}", "unreachable (r retries them; H lists them)"))
            read_only = "no host reached"
        status.show_status(
            # named unless this machine alone is shown (as before there were hosts)
            host=name if feed.many or host is None or not host.local else None,
            host_state=state, backend=app.backend.kind, read_only=read_only,
            taken_at=app.snapshot.taken_at if app.snapshot else None, paused=app.live.paused,
            busy=app.live.refreshing, hierarchy=app.hier, cut=len(cut.pids) if cut else 0,
            read_at=app.live.read_at, tree_at=app.live.tree_at, interval=app.live.paced(),
            stretched=app.live.paced() > app.live.interval, budget=TICK_BUDGET,
            marked=len(self.tasks.marks) if "tasks" in self.widgets else 0, recorded=self.RECORDED)

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
        fixed = 2 + sum(c.width + 1 for c in columns_for(self.ctrtui.threads) if c.width) + 1
        tree = tree_width(self.size.width if width is None else width, fixed)
        main.set_class(tree is None, "stacked")
        left.styles.width = "100%" if tree is None else tree

    # ------------------------------------------------------------------ tree and list

    @on(Tree.NodeHighlighted, "#tree")
    def _node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        hs = self.ctrtui.hs
        path = event.node.data
        if hs is None or path is None:
            return
        if not (self.tasks.path == path and self.tasks.hs is hs):
            self.show_tasks()
        self.ctrtui.details.refresh()
        self.ctrtui.live.prefetch_markers(event)
        self.ctrtui.stats.prefetch(path)

    @on(Tree.NodeExpanded, "#tree")
    def _node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        self.ctrtui.live.expanded(event)
        self.ctrtui.stats.expanded(event.node.data)

    def _cursor_moved(self, pid: int | None) -> None:
        """The task list's cursor moved (called at once, in the same frame)."""
        if self.widgets and self.ctrtui.focused_widget() is self.tasks:
            self.ctrtui.details.refresh()

    @on(TaskList.CursorMoved)
    def _task_cursor_moved(self, event: TaskList.CursorMoved) -> None:
        if self.ctrtui.focused_widget() is self.tasks:
            self.ctrtui.details.refresh()

    def on_key(self, event: events.Key) -> None:
        """A key of one pane pressed where it cannot act (focus on the hierarchy switcher, or
        on the other pane): say where it works rather than doing nothing. Runs before the
        app's own binding check, so only keys that no binding of the focus chain takes."""
        if self.ctrtui.screen is not self or not self.widgets or event.key in self.active_bindings:
            return
        where = self.pane_of_key(event.key)
        if where is not None:
            self.ctrtui.notify(where, severity="warning", timeout=4)

    def pane_of_key(self, key: str) -> str | None:
        """A sentence saying which pane `key` works in (None: no pane binds it)."""
        from ctrtui.ui.screens.keys import bindings_of

        focused = self.ctrtui.focused_widget()
        for cls, pane in ((CgroupTree, "the cgroup tree"), (TaskList, "the task list")):
            if isinstance(focused, cls):
                continue
            binding = next((b for b in bindings_of(cls) if key in b.key.split(",") and b.description
                            and not b.action.startswith(("cursor", "page", "edge", "scroll"))), None)
            if binding is not None:
                return (f"{self.ctrtui.get_key_display(binding)} ({binding.description}) works in {pane}: tab moves "
                        "the focus there (or click it).")
        return None

    @on(TaskList.MarksChanged)
    def _marks_changed(self) -> None:
        self.ctrtui.update_status()

    @on(TaskList.DragMoved)
    def _drag_moved(self, event: TaskList.DragMoved) -> None:
        self.ctrtui.moves.drag_moved(event)

    @on(TaskList.DragDropped)
    def _drag_dropped(self, event: TaskList.DragDropped) -> None:
        self.ctrtui.moves.drag_dropped(event)

    def show_tasks(self) -> None:
        """Show the tasks of the tree's cursor cgroup."""
        hs = self.ctrtui.hs
        if hs is not None:
            self.tasks.show(hs, self.tree.cursor_path, self.ctrtui.threads, self.ctrtui.recursive)

    def action_toggle_pause(self) -> None:
        self.ctrtui.live.toggle_pause()
        self.ctrtui.update_status()

    # ------------------------------------------------------------------ hierarchy, views

    @on(Select.Changed, "#hierarchy")
    def _hierarchy_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.ctrtui.hier:
            self.ctrtui.switch_hierarchy(event.value)

    def action_cycle_hierarchy(self, step: int) -> None:
        self.ctrtui.navigator.cycle(step)

    def action_toggle_threads(self) -> None:
        self.ctrtui.threads = not self.ctrtui.threads
        self.tree.set_threads(self.ctrtui.threads)
        self.tasks.set_view(threads=self.ctrtui.threads)
        self.fit_panes()
        self.ctrtui.notify("Threads view: TIDs, TGID column" if self.ctrtui.threads
                           else "Processes view: TGIDs, THR column", timeout=2)

    def action_toggle_descendants(self) -> None:
        self.ctrtui.recursive = not self.ctrtui.recursive
        self.tasks.set_view(recursive=self.ctrtui.recursive)
        self.ctrtui.notify("Showing the tasks of the whole subtree" if self.ctrtui.recursive
                           else "Showing the cgroup's own tasks", timeout=2)

    def action_help(self) -> None:
        """Every key, grouped by pane, whatever has focus (`ctrtui.ui.screens.keys`)."""
        from ctrtui.ui.screens.keys import KeysHelp, key_lines

        if self.ctrtui.closing():
            return
        off = self.MOVING_ACTIONS if (self.ctrtui.read_only_reason or self.ctrtui.policy_error) else frozenset()
        reason = self.ctrtui.read_only_reason or "the policy file cannot be used"
        self.ctrtui.show_screen(KeysHelp(key_lines(self.key_groups(), self.ctrtui.get_key_display, off, reason)))

    def key_groups(self) -> list[tuple[str, list[Binding]]]:
        """The keys `?` lists, by group: the app's own keys (ctrl+q, ctrl+p ...) and this
        screen's, then each pane's (`app.quit` is `quit`, one line with ctrl+q's)."""
        from ctrtui.ui.screens.keys import bindings_of

        everywhere = bindings_of(type(self.app)) + [replace(b, action=b.action.removeprefix("app."))
                                                    for b in MainScreen.BINDINGS if isinstance(b, Binding)]
        from ctrtui.ui.screens import TargetPicker

        return [("Everywhere", everywhere), ("Cgroup tree (left pane)", bindings_of(CgroupTree)),
                ("Task list (right pane)", bindings_of(TaskList)), ("Target picker (m)", bindings_of(TargetPicker))]

    # ------------------------------------------------------------------ filter

    def action_filter(self) -> None:
        box = self.filter_box
        box.display = True
        box.focus()

    def _filter_typed(self, value: str) -> None:
        """The filter field changed (called by FilterBox at once, every change)."""
        if self.widgets:
            self.tasks.set_filter(value.strip())

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.display = False
        self.tasks.focus()

    def action_escape(self) -> None:
        if self.tasks.dragging:
            self.ctrtui.moves.end_drag()
            self.tasks.cancel_drag()
            self.ctrtui.say("Drag cancelled: nothing moved.")
            return
        box = self.filter_box
        if box.display:
            box.value = ""
            box.display = False
            self.tasks.set_filter("")
            self.tasks.focus()

    # ------------------------------------------------------------------ navigation (see Navigator)

    def action_go_to(self) -> None:
        self.ctrtui.navigator.ask_path()

    def action_find_pid(self) -> None:
        self.ctrtui.navigator.ask_pid()

    # ------------------------------------------------------------------ moves (see Moves)

    def action_move(self) -> None:
        self.ctrtui.moves.pick()

    def action_cut(self) -> None:
        self.ctrtui.moves.cut_selection()

    def action_put(self) -> None:
        self.ctrtui.moves.put()

    def action_undo(self) -> None:
        self.ctrtui.moves.undo()

    def action_move_log(self) -> None:
        self.ctrtui.moves.show_log()

    # ------------------------------------------------------------------ cgroup ops (see CgroupActions)

    def action_new_cgroup(self) -> None:
        self.ctrtui.cgroup_ops.new()

    def action_new_cgroup_move(self) -> None:
        self.ctrtui.cgroup_ops.new_and_move()

    def action_remove_cgroup(self) -> None:
        self.ctrtui.cgroup_ops.remove()

    def action_freeze(self) -> None:
        self.ctrtui.cgroup_ops.freeze()

    # ------------------------------------------------------------------ hosts (see HostFeed)

    def action_hosts(self) -> None:
        self.ctrtui.hostfeed.choose()

    def action_find_hosts(self) -> None:
        self.ctrtui.hostfeed.find_on_hosts()
