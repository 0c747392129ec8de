"""The ctrtui terminal UI: container tree on the left, task list on the right.

The app holds what every part reads (the hosts and the one shown, the snapshot, the
hierarchy shown, threads or processes, own tasks or the subtree, read-only or not) and the
app-level concerns (the driver, notifications, quitting, the screens). The layout and its
keys are the `MainScreen` (ctrtui/ui/mainscreen.py), the app's default screen. Its big jobs
are objects of their own: `LiveView` (ctrtui/ui/live.py) keeps the snapshot fresh and patches
the panes, `Moves` (ctrtui/ui/moves.py) does every move; `DetailFeed` (ctrtui/ui/detailfeed.py)
draws the detail line; `HostFeed` (ctrtui/ui/hostfeed.py) keeps the hosts.

Everything blocking (snapshots, details, stats, plans, moves) runs in thread workers and
comes back as messages (ctrtui/ui/messages.py); one `Worker.StateChanged` handler turns any
worker error into a notification, so nothing that goes wrong on the machine crashes the app.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import App, ScreenError
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from ctrtui.model import HierarchySnapshot, Snapshot
from ctrtui.report import describe_error
from ctrtui.sources.base import Reader
from ctrtui.text import display, scrub
from ctrtui.ui import gcfreeze
from ctrtui.ui.cgroupactions import CgroupActions
from ctrtui.ui.commands import CtrtuiCommands
from ctrtui.ui.detailfeed import DetailFeed
from ctrtui.ui.hostfeed import HostFeed
from ctrtui.ui.hostmovers import Mover
from ctrtui.ui.hosts import placeholder
from ctrtui.ui.hostviews import DEAD, HostView, local_host
from ctrtui.ui.live import LiveView
from ctrtui.ui.mainscreen import MainScreen
from ctrtui.ui.messages import MetersRead, SnapshotTaken, WorkerResult
from ctrtui.ui.moves import Cut, Moves
from ctrtui.ui.movesoff import read_only_of
from ctrtui.ui.navigate import Navigator
from ctrtui.ui.screenside import ScreenSide
from ctrtui.ui.session import Session, SessionField
from ctrtui.ui.statsfeed import StatsFeed
from ctrtui.ui.untrusted import lines
from ctrtui.ui.widgets.detail import DetailLine
from ctrtui.ui.widgets.meters import MetersBar
from ctrtui.ui.widgets.tasklist import TaskList
from ctrtui.ui.widgets.tree import CgroupTree

if TYPE_CHECKING:
    from collections.abc import Callable

    from ctrtui.engine.values import Report
    from ctrtui.remote.connect import ConnectOptions
    from ctrtui.remote.ssh import HostSpec
    from ctrtui.service.local import LocalService

__all__ = ["CtrtuiApp", "describe_error", "run"]


class CtrtuiApp(App[None]):
    """ctrtui: see which tasks sit in which cgroup, and move them."""

    CSS_PATH = "app.tcss"
    TITLE = "ctrtui"
    COMMANDS = App.COMMANDS | {CtrtuiCommands}

    backend: SessionField[Reader] = SessionField()
    engine: SessionField[Mover] = SessionField("mover")  # named as before
    hier: SessionField[str] = SessionField()
    snapshot: SessionField[Snapshot | None] = SessionField()
    hierarchy_names: SessionField[list[str]] = SessionField()
    threads: SessionField[bool] = SessionField()
    recursive: SessionField[bool] = SessionField()
    read_only_reason: SessionField[str | None] = SessionField()
    policy_error: SessionField[str | None] = SessionField()

    def __init__(self, service: LocalService | None, interval: float = 2.0,
                 read_only: bool = False, hierarchy: str | None = None, cgroup: str | None = None,
                 remember_start: bool = False, hosts: Sequence[HostView] | None = None, jobs: int = 8) -> None:
        """One machine (its `service`, `ctrtui.service.local.LocalService`, built with
        `front="ui"`: its advice in the UI's words), or several `hosts` (`ctrtui.ui.hostviews`;
        `service` then unused): the first host already reached is shown at once, the others
        are reached in the background (`HostFeed`)."""
        super().__init__()
        if hosts is None:
            if service is None:
                raise ValueError("CtrtuiApp needs a service, or hosts")
            hosts = [local_host(service.backend.identity, service)]
        self.read_only_flag = read_only
        """`--read-only`: no move on any host."""
        first = next((v for v in hosts if v.link is not None), None)
        link = first.link if first is not None else placeholder(len(hosts))
        assert link is not None
        self.session = Session(link.backend, link.mover, link.service, link.ops)
        """What is shown: the host's reader and mover, hierarchy, snapshot, view flags."""
        side: ScreenSide = self  # what the helpers may ask of the app (`ctrtui.ui.screenside`)
        self.hostfeed = HostFeed(side, self.session, hosts, jobs)
        """The hosts, the one shown, their states (`ctrtui.ui.hostfeed`)."""
        self.hostfeed.current = first
        self.read_only_reason = read_only_of(link, self.read_only_flag)
        self._warm = False
        """The dialogs were made ready after the first snapshot (`_warm_dialogs`)."""
        self._dispatching = 0
        """Inside `run_action` (a key being handled), not drawing the footer: `dispatching`."""
        mounted = self.backend.hierarchies() if first is None or first.local else ()
        self.policy_error = link.service.policy_problem(mounted) if link.service is not None else None
        self.hierarchy_names = [h.name for h in mounted]
        from ctrtui.ui import start

        self.remember_start = remember_start
        """Remember the hierarchy shown at the end, for the next start (`ctrtui.ui.start`)."""
        self.hier = start.start_hierarchy(mounted, hierarchy, start.remembered(self.backend.identity)
                                          if remember_start else None)
        self.asked_hierarchy = hierarchy
        """`--hierarchy`: where a host reached later opens too (when it has it)."""
        self.start_path: str | None = cgroup
        """A cgroup of `hier` to select once the first snapshot is shown (`--cgroup`)."""
        self.notices: deque[str] = deque(maxlen=200)
        """Text of the notifications shown (newest last), for the move log and tests."""
        self.main = MainScreen(self)
        """The main screen, the app's default one (`ctrtui.ui.mainscreen`)."""
        self.live = LiveView(side, self.session, interval, take_first=first is not None)
        """The refresh cycle."""
        self.moves = Moves(side, self.session)
        """Marks, cut/put, drag, plan, confirm, apply, undo, move log."""
        self.details = DetailFeed(side, self.session)
        """The detail line's content."""
        self.navigator = Navigator(side, self.session)
        """Hierarchy switching, go to cgroup, find PID."""
        self.stats = StatsFeed(side, self.session)
        """The tree's figure columns and the meters line, read at each refresh."""
        self.cgroup_ops = CgroupActions(side, self.session)
        """Create, remove, freeze and thaw cgroups (n, D, z, N)."""

    def run_named(self, job: Callable[..., object], *args: Any, name: str, group: str,
                  exclusive: bool = False) -> Worker[object]:
        """`job(*args)` in a thread worker called `name` in `group` (`exclusive`: the group's
        running worker is cancelled first): how every helper starts its work (named, never a
        lambda; `ScreenSide.run_named`); the worker's description is the job's name
        (`LiveView._take`). An error it raises becomes a notification (`_worker_state`)."""
        worker: Worker[object] = self.run_worker(partial(job, *args), name=name, group=group, exclusive=exclusive,
                                                 description=getattr(job, "__qualname__", type(job).__name__),
                                                 thread=True, exit_on_error=False)
        return worker

    def show_screen(self, screen: Screen[Any], then: Callable[[Any], None] | None = None) -> None:
        """Open the dialog `screen`; `then` gets what it answers (`ScreenSide.show_screen`)."""
        self.push_screen(screen, then)

    @property
    def dispatching(self) -> bool:
        """A key is being handled (inside `run_action`), not the footer being drawn: the main
        screen's `check_action` lets a disabled move key run then, to say why."""
        return self._dispatching > 0

    async def run_action(self, action: object, default_namespace: object = None,
                         namespaces: object = None) -> bool:
        self._dispatching += 1
        try:
            return await super().run_action(action, default_namespace, namespaces)  # type: ignore[arg-type]
        finally:
            self._dispatching -= 1

    # ------------------------------------------------------------------ hosts (see HostFeed)

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
        return self.session.service.pid_max if self.session.service is not None else None

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
        self.session.use(link)
        self.read_only_reason = read_only_of(link, self.read_only_flag)
        self.policy_error = link.policy_error
        self.moves.reports = view.extra.get("reports", []) if view is not old else self.moves.reports
        self.moves.cut = None
        self.details.key = None
        # its last snapshot at once; not when something waits for this host's state (a find's
        # hit), nor on a reconnect: then the fresh one
        self.snapshot = view.snapshot if view is not old and then is None else None
        names = self.snapshot.names() if self.snapshot is not None else []
        self.hierarchy_names = names
        self.hier = view.hier if view.hier in names else ""
        self.live.after_load = then
        if not self.main.widgets:  # not mounted yet
            return
        self.stats.use(link.backend)
        self.main.show_host(view.name, link.backend, names)
        if self.hs is not None:
            self.live.load()
            self.live.loaded()
        self.update_status()
        self.refresh_bindings()
        self.live.refresh()

    # ------------------------------------------------------------------ state others read

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
        return self.session.hs

    # ------------------------------------------------------------------ layout

    def get_default_screen(self) -> MainScreen:
        """The main screen (`ctrtui.ui.mainscreen`): tree, task list, status, detail line."""
        return self.main

    @property
    def tree(self) -> CgroupTree:  # type: ignore[override]  # DOMNode.tree is a debugging aid
        """The container tree (of the main screen, whatever screen is on top)."""
        return self.main.tree

    @property
    def tasks(self) -> TaskList:
        """The task list (of the main screen)."""
        return self.main.tasks

    @property
    def detail_line(self) -> DetailLine | None:
        """The detail line (None before the main screen is mounted)."""
        return self.main.detail_line

    def main_mounted(self) -> None:
        """The main screen's panes are there: start the refresh cycle, the status timer and
        the hosts."""
        if self.policy_error is not None and self.read_only_reason is None:
            self.moves.policy_notice()
        self.set_interval(1.0, self.update_status)
        if self.host is None:  # no host reached yet: the first one to answer is shown (HostFeed)
            self.main.query_one("#main").display = False
            self.say(self.hostfeed.waiting())
        else:
            self.live.refreshing = True
            self.live.start()
        self.update_status()
        self.hostfeed.start()

    def on_unmount(self) -> None:
        if self.remember_start and self.hier:
            from ctrtui.ui.start import remember

            remember(self.hier, self.backend.identity)
        self.hostfeed.close_all()
        gcfreeze.release()

    def get_driver_class(self) -> type[Driver]:
        """Textual's choice, its Linux driver replaced by a quieter one (`ctrtui.ui.driver`)."""
        from ctrtui.ui.driver import quiet

        return quiet(super().get_driver_class())

    def update_status(self) -> None:
        """Redraw the status bar from the app's state (`MainScreen.show_status`)."""
        self.main.show_status()

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

    @on(WorkerResult)
    def _worker_result(self, event: WorkerResult) -> None:
        """A worker's result, handled by the helper that started the worker (it named its
        method: `WorkerResult.to`); the app forwards none of them by kind."""
        if event.handler is not None:
            event.handler(event)

    @on(SnapshotTaken)
    def _snapshot_taken(self, event: SnapshotTaken) -> None:
        if self.session.stale(event.source):
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

        if self.snapshot is not None:
            self._index_paths(self.snapshot, self.hier)

    @work(thread=True, group="warm", name="warm", exit_on_error=False)
    def _index_paths(self, snapshot: Snapshot, hier: str) -> None:
        """Build the path matchers of `snapshot` (thread worker; `ctrtui.ui.fuzzy` caches them)."""
        from ctrtui.ui.fuzzy import RefMatcher

        RefMatcher(snapshot, hier)

    @on(MetersRead)
    def _meters_read(self, event: MetersRead) -> None:
        try:
            self.main.query_one(MetersBar).show(event.meters)
        except NoMatches:
            pass  # read as the app closed, its bar already gone: nothing to show

    def _tearing_down(self) -> bool:
        """True while the app closes: a worker's message may still arrive after the screen's
        widgets are gone (seen when a test exits as a host's first snapshot lands)."""
        return bool(self._closing or self._closed or not self.screen_stack or not self.screen.is_attached)

    @on(CgroupTree.ColumnsChanged)
    def _columns_changed(self) -> None:
        self.stats.refresh(meters=False)

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

    def on_descendant_focus(self) -> None:
        """Focus moved, on any screen (a dialog's field too): the detail line follows it."""
        self.details.refresh()

    # ------------------------------------------------------------------ kept for the command palette and tests

    def switch_hierarchy(self, name: str) -> None:
        """Show the hierarchy `name` (see `Navigator.switch`)."""
        self.navigator.switch(name)

    def action_switch_hierarchy(self) -> None:
        self.navigator.choose_hierarchy()

    def go_to(self, path: str | None) -> None:
        """Select the cgroup `path` of the current hierarchy in the tree."""
        self.navigator.go_to(path)

    def find_pid(self, pid: int | None) -> None:
        """Jump to the cgroup of `pid` in the current hierarchy and put the cursor on it."""
        self.navigator.find_pid(pid)


def run_hosts(specs: Sequence[HostSpec], options: ConnectOptions, *, jobs: int = 8,
              local: LocalService | None = None, interval: float = 2.0, read_only: bool = False,
              hierarchy: str | None = None) -> None:
    """Entry used by the command line with `--host`/`--hosts`: one view per host (`local`:
    this machine, through `local`'s service), reached in the background, at most `jobs` at
    once; the first to answer is shown (`ctrtui.ui.hostfeed`)."""
    from ctrtui.ui.hosts import remote_host

    views = [local_host("local", local) if spec.name == "local" and local is not None
             else remote_host(spec, options) for spec in specs]
    CtrtuiApp(None, interval=interval, read_only=read_only, hierarchy=hierarchy, hosts=views, jobs=jobs).run()


def run(service: LocalService, interval: float = 2.0, read_only: bool = False,
        hierarchy: str | None = None, cgroup: str | None = None) -> None:
    """Entry used by the command line (`ctrtui`, `ctrtui --demo`) with this machine's service
    (`ctrtui.cli.common.service_of`, `front="ui"`): opens on `hierarchy` (and selects
    `cgroup` in it), else where `ctrtui.ui.start` says; remembers the last one."""
    CtrtuiApp(service, interval=interval, read_only=read_only, hierarchy=hierarchy, cgroup=cgroup,
              remember_start=True).run()
