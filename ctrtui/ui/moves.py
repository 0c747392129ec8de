"""Moving tasks from the UI, as an object of its own (`Moves`): mark, cut and put, drag and
drop, the target picker, plan, confirm, apply, undo, and the move log.

Every way of moving ends in `confirm_and_apply`: refused when read-only or when the policy
cannot be used, asked first when `ctrtui.engine.risk.assess` finds risks, then applied in a
thread worker; the engine's `Report` comes back as a `BatchDone` and is kept for the move log.
Plans and batches run in workers (`plan`, `move`, `undo`); their results are messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text

from ctrtui.engine import AttachEngine, Plan, Report
from ctrtui.model import CgroupRef, Hierarchy
from ctrtui.report import describe_error, plan_line
from ctrtui.text import display, scrub
from ctrtui.ui.messages import BatchDone, Planned
from ctrtui.ui.reportstyle import report_text

if TYPE_CHECKING:
    from ctrtui.ui.app import CtrtuiApp
    from ctrtui.ui.hostviews import Link
    from ctrtui.ui.session import Session
    from ctrtui.ui.widgets.tasklist import TaskList


@dataclass
class Cut:
    """Tasks remembered by `x`, waiting for `p`."""

    hierarchy: str
    pids: list[int]
    threads: bool
    starts: dict[int, int] = field(default_factory=dict)


def journal_problem(engine: AttachEngine) -> str | None:
    """Why the engine's journal cannot be written, found before any move (None: it can, or
    there is none: `--no-journal`). The engine would refuse every batch with its own
    sentence; the UI says so from the start, as read-only."""
    import errno
    import os

    from ctrtui.engine.journal import JournalNotOwned

    path = engine.journal.path
    if path is None:
        return None
    try:
        engine.journal.check_owned()  # a link, someone else's file or directory: said as it is
    except JournalNotOwned as e:
        return str(e)
    probe = path
    while not os.path.lexists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent
    if probe != path and not os.path.isdir(probe):
        return f"the journal {display(path)} cannot be written (ENOTDIR: {display(probe)} is not a directory)"
    mode = os.W_OK if probe == path else os.W_OK | os.X_OK
    if os.access(probe, mode):
        return None
    try:
        os.stat(probe)
        code = errno.errorcode.get(errno.EROFS if _read_only_fs(probe) else errno.EACCES, "EACCES")
    except OSError as exc:
        code = errno.errorcode.get(exc.errno or 0, "error")
    return f"the journal {display(path)} cannot be written ({code})"


def _read_only_fs(path: str) -> bool:
    import os

    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


#: Why moves are off, and what to do, per reason the app knows by name.
_READ_ONLY_WORDS = {
    "--read-only": ("ctrtui was started with --read-only", "Restart it without --read-only"),
    "not root": ("ctrtui is not running as root", "Restart it as root (e.g. sudo ctrtui)"),
}

#: What is refused, per kind of key: (what does not happen, what the advice enables).
REFUSED = {
    "move": ("nothing is moved", "move tasks"),
    "mkdir": ("no cgroup is created", "create cgroups"),
    "rmdir": ("no cgroup is removed", "remove cgroups"),
    "freeze": ("no cgroup is frozen or thawed", "freeze or thaw cgroups"),
    "new-move": ("no cgroup is created and nothing is moved", "move tasks into a new cgroup"),
}


def read_only_words(reason: str, doing: str = "move") -> str:
    """The sentence refusing `doing` (a key of `REFUSED`: a move, or a cgroup op) for
    `reason` (`self.session.read_only_reason`): the reason as it is, and what to do only when there
    is something to do."""
    nothing, to = REFUSED[doing]
    why, todo = _READ_ONLY_WORDS.get(reason, (reason, ""))
    if reason.startswith("the journal ") and "--journal" not in reason:  # else the reason says what to do
        todo = "Fix its directory or give another with --journal FILE (or --no-journal)"
    return f"Read-only: {why}, so {nothing}." + (f" {todo} to {to}." if todo else "")


def read_only_of(link: Link, read_only_flag: bool) -> str | None:
    """Why moves are off on the host of `link` (None: they work): the host says so (a
    remote agent that is not root), the local backend's own word, `--read-only`
    (`read_only_flag`), or a journal that cannot be written."""
    from ctrtui.sources import read_only_reason

    reason = link.read_only
    if reason is None and link.engine is not None:
        reason = read_only_reason(link.backend)  # the backend says whether it may write
    if reason is None and read_only_flag:
        reason = "--read-only"
    if reason is None and link.engine is not None:
        reason = journal_problem(link.engine)
    return reason


def policy_problem(engine: AttachEngine, mounted: Sequence[Hierarchy]) -> str | None:
    """Why the engine's policy cannot be used on `mounted` (None: it can)."""
    policy = engine.policy
    if policy is None:
        return None
    try:
        return policy.problem(mounted)
    except Exception as exc:  # noqa: BLE001 - a policy that cannot even be checked protects nothing
        return f"the policy could not be checked ({describe_error(exc)})"


class Moves:
    """Everything that moves tasks, for the app: it keys the actions (`m`, `x`, `p`, `u`,
    `L`, a drag) to the engine and shows the outcomes."""

    def __init__(self, app: CtrtuiApp, session: Session) -> None:
        self.app = app
        self.session = session
        """What is shown (`ctrtui.ui.session`): `plan`, `apply` and `undo` go through its
        mover, whatever the host; its engine (this machine's) has the policy read again."""
        self.reports: list[Report] = []
        """Every batch report of this run, oldest first (the move log)."""
        self.cut: Cut | None = None
        """What `x` remembered for `p`."""
        self.drag_target: str | None = None
        """`hierarchy:path` under the pointer during a drag (None: none)."""

    # ------------------------------------------------------------------ may we move?

    def policy_fixed(self) -> bool:
        """Read the broken policy's file again; when it is usable now, the engine uses it
        (moves are on again) and True."""
        from ctrtui.engine.policy import Policy, default_policy_path
        from ctrtui.errors import CtrtuiError

        app, engine = self.app, self.session.engine
        if engine is None:  # a remote host's policy is its own
            return False
        old = engine.policy
        hook = next((h for h in engine.hooks if getattr(h, "name", None) == "policy"), None)
        if hook is None or not hasattr(hook, "set_policy"):
            return False
        hiers = self.session.backend.hierarchies
        try:
            if old.source is None or old.source == default_policy_path():
                policy = Policy.load_default(hiers)
            else:
                policy = Policy.load(old.source, hiers)
        except CtrtuiError as exc:
            self.session.policy_error = str(exc)
            return False
        except OSError:
            return False
        engine.policy = policy
        hook.set_policy(policy)
        self.session.policy_error = None
        app.update_status()
        app.refresh_bindings()
        app.notify(f"The policy {policy.source or '(none)'} can be used again: moves are on.", title="Policy")
        return True

    def policy_notice(self) -> None:
        self.app.notify(f"No task is moved while the policy cannot be used: {self.session.policy_error}. Fix the "
                        "policy file (or move it away to run without a policy), then try again.",
                        severity="error", title="Moves are off", timeout=12)

    def refused(self, doing: str = "move") -> bool:
        """Refuse a move (m, p, drop, undo) or a cgroup op (`doing`: a key of `REFUSED`)
        with a notification saying why: read-only, or a policy that cannot be used (read
        again first: once fixed, moves are on)."""
        app = self.app
        if app.host is None or self.session.snapshot is None:
            host = app.host
            app.notify("Nothing is moved before a snapshot is on screen" + (
                f": the first one of host {display(host.name)} is being taken." if host is not None
                else ": no host is reached yet."), severity="warning", title="Not yet")
            return True
        if self.session.read_only_reason is None and self.session.policy_error is not None and not self.policy_fixed():
            self.policy_notice()
            return True
        if self.session.read_only_reason is None:
            return False
        app.notify(read_only_words(self.session.read_only_reason, doing), severity="warning", title="Read-only")
        return True

    # ------------------------------------------------------------------ m, x, p

    def _starts(self, pids: Iterable[int]) -> dict[int, int]:
        """Start times the UI saw for `pids` (the PID-reuse guard compares against them)."""
        d = self.app.tasks.details
        return {p: d[p].start_time for p in pids if p in d}

    def _selection(self) -> list[int]:
        pids = self.app.tasks.selection()
        if not pids:
            self.app.notify("No task selected: put the cursor on a task in the list, or mark some with space.",
                            severity="warning")
        return pids

    def pick(self) -> None:
        """`m`: the target picker for the selection; its plan is confirmed and applied."""
        from ctrtui.ui.screens import TargetPicker

        shown = self.session
        if self.refused() or shown.snapshot is None:
            return
        pids = self._selection()
        if pids:
            self.app.push_screen(TargetPicker(shown.mover, shown.snapshot, shown.hier, pids, shown.threads,
                                              self._starts(pids)), self._picked)

    def _picked(self, plan: Plan | None) -> None:
        if plan is not None:
            self.confirm_and_apply(plan)

    def cut_selection(self) -> None:
        """`x`: remember the selection (with the start times seen) for `p`."""
        app = self.app
        if self.refused():
            return
        pids = self._selection()
        if not pids:
            return
        self.cut = Cut(self.session.hier, pids, self.session.threads, self._starts(pids))
        what = "thread" if self.session.threads else "task"
        app.notify(f"Cut {len(pids)} {what}{'s' if len(pids) != 1 else ''}: highlight a cgroup in the tree "
                   "and press p to put them there.", timeout=4)
        app.update_status()

    def put(self) -> None:
        """`p`: plan moving the cut tasks into the highlighted cgroup."""
        app = self.app
        if self.refused():
            return
        if self.cut is None:
            app.notify("Nothing is cut: select tasks and press x first.", severity="warning")
            return
        path = app.tree.cursor_path
        if path is None:
            return
        self._plan(self.cut.pids, CgroupRef(self.session.hier, path), self.cut.threads, self.cut.starts, "put")

    def _plan(self, pids: list[int], target: CgroupRef, threads: bool, starts: dict[int, int], purpose: str) -> None:
        def plan() -> None:
            p = self.session.mover.plan(pids, target, threads=threads, expected_start=starts)
            self.app.post_message(Planned(p, str(target), purpose))

        self.app.run_worker(plan, thread=True, exclusive=True, group="plan", exit_on_error=False, name="plan")

    def planned(self, event: Planned) -> None:
        """A plan came back: a drag shows it on the tree, a put or drop goes on."""
        app = self.app
        if event.purpose == "drag":
            if event.target == self.drag_target and app.tasks.dragging:
                line = app.tree.nodes.get(event.target.split(":", 1)[1])
                app.tree.show_drop(line.line if line is not None else -1, bool(event.plan.accepted))
                app.say(Text("drop on " + plan_line(event.plan, event.target),
                             "bold green" if event.plan.accepted else "bold red"))
            return
        if not event.plan.accepted:
            app.notify("Nothing to move into " + plan_line(event.plan, event.target), severity="warning",
                       title="Not moved", timeout=8, escaped=True)
            return
        # the cut is kept until the batch is applied: a "no" at the confirmation keeps it for the next p
        self.confirm_and_apply(event.plan, put=event.purpose == "put")

    # ------------------------------------------------------------------ confirm, apply, undo

    def confirm_and_apply(self, plan: Plan, put: bool = False) -> None:
        """Ask first when the move is risky, then apply it in a worker. `put`: the plan is
        the cut's (`p`), which is forgotten once the batch is applied, and kept when the
        answer is no."""
        from ctrtui.engine.risk import assess

        app = self.app
        if self.refused():
            return
        if not plan.accepted:
            app.notify("Nothing to move: " + plan_line(plan, str(plan.target)),
                       severity="warning", title="Not moved", timeout=8, escaped=True)
            return
        if self.session.snapshot is None:
            risks = ["No snapshot was taken yet, so this move could not be checked for risks."]
        else:
            try:
                risks = assess(plan, self.session.snapshot, self.session.backend)
            except Exception as exc:  # noqa: BLE001 - assessing must not crash; ask instead
                risks = [f"Could not check this move for risks ({describe_error(exc)})."]
        if risks:
            from ctrtui.ui.screens import ConfirmMove

            def answered(ok: bool | None) -> None:
                if ok:
                    self._apply_put(plan, put)
                else:
                    app.notify("Move cancelled: nothing moved." + (" The cut is kept: p puts it, x cuts anew."
                                                                   if put and self.cut is not None else ""),
                               timeout=4)

            app.push_screen(ConfirmMove(plan, risks), answered)
        else:
            self._apply_put(plan, put)

    def _apply_put(self, plan: Plan, put: bool) -> None:
        if put:
            self.cut = None
            self.app.update_status()
        self.apply(plan)

    def apply(self, plan: Plan) -> None:
        """Apply `plan` in a worker; `BatchDone` says how it went."""
        mover = self.session.mover
        self.app.run_worker(lambda: self._batch(lambda: mover.apply(plan), "Move", "Not moved"),
                            thread=True, group="move", exit_on_error=False, name="move")

    def undo(self) -> None:
        """`u`: move the last batch back (in a worker)."""
        if self.refused():
            return
        # the newest batch of the shown host's journal, a move or a cgroup op (mkdir, rmdir,
        # freeze, thaw: ui/cgroupactions.py)
        self.app.run_worker(lambda: self._batch(self.session.mover.undo, "Undo", "Not undone"),
                            thread=True, group="move", exit_on_error=False, name="undo")

    def _batch(self, run: Callable[[], object], what: str, refused: str) -> None:
        """Run a batch (thread worker) and post its `BatchDone`; a journal that cannot be
        written moves nothing, and the engine's sentence says why. An undone cgroup op goes
        to `CgroupActions.done`."""
        from ctrtui.engine.journal import JournalError
        from ctrtui.engine.ops import OpResult
        from ctrtui.errors import CtrtuiError

        try:
            report = run()
        except JournalError as exc:  # no journal, no move: the engine's own sentence
            self.app.call_from_thread(self.app.notify, str(exc), title=refused, severity="error", timeout=12)
            return
        except CtrtuiError as exc:  # e.g. an undo of another backend's op batch
            self.app.call_from_thread(self.app.notify, str(exc), title=refused, severity="error", timeout=12)
            return
        except Exception as exc:
            from ctrtui.remote.errors import HostError, RemoteOpError

            if isinstance(exc, RemoteOpError):  # the host answered, and said no
                self.app.call_from_thread(self.app.notify, str(exc), title=refused, severity="error", timeout=12)
                return
            if not isinstance(exc, HostError):  # not a host's error: a bug, reported as one
                raise
            # the connection went mid-batch: the host's write-ahead journal keeps the record
            self.app.call_from_thread(self.app.notify, f"{exc}. The host's journal keeps what was done: "
                                      "reconnect (H, then r), then look or undo (u).", title=refused,
                                      severity="error", timeout=15)
            return
        if isinstance(report, OpResult):
            self.app.call_from_thread(self.app.cgroup_ops.done, report)
            return
        assert report is None or isinstance(report, Report)
        self.app.post_message(BatchDone(report, what))

    def batch_done(self, event: BatchDone) -> None:
        """Say how the batch went, keep its report for the move log, refresh."""
        app = self.app
        if event.report is None:
            why = scrub(getattr(self.session.mover, "nothing_left", "") or "")  # e.g. a batch whose origin is gone
            app.notify("Nothing to undo: " + (why.rstrip(".") or "no batch of moves or cgroup changes is left in "
                                              "the journal") + ".", severity="warning", timeout=12 if why else 5,
                       escaped=True)
            return
        self.reports.append(event.report)
        text, severity = report_text(event.report, event.what)
        app.notify(text, title=event.what, severity=severity, timeout=8, escaped=True)
        tasks = app.tasks
        self._place_cursor(event)
        moved = [o.pid for o in event.report.outcomes]
        tasks.forget_details(keep=[p for p in tasks.details if p not in moved])
        tasks.marks.difference_update(o.pid for o in event.report.outcomes
                                      if o.outcome == "moved" and o.pid is not None)
        app.action_refresh()

    def _place_cursor(self, event: BatchDone) -> None:
        """Where the cursor goes after a batch: after an undo, on the task that came back to
        the shown cgroup; after a move out of it, on the next task that stays (not on the
        departed one, still fading out, which an immediate `m` would not find)."""
        tasks, report = self.app.tasks, event.report
        if report is None:
            return
        moved = [o for o in report.outcomes if o.outcome == "moved" and o.pid is not None]
        if not moved:
            return
        if event.what == "Undo":
            back = [o.pid for o in moved if report.target.hierarchy == self.session.hier and o.target == tasks.path]
            if back and back[0] is not None:
                tasks.follow(back[0])
            return
        if tasks.cursor_pid in {o.pid for o in moved} and not (report.target.hierarchy == self.session.hier and
                                                                 moved[0].target == tasks.path):
            nxt = tasks.next_live(o.pid for o in moved if o.pid is not None)
            if nxt is not None:
                tasks.follow(nxt)

    def show_log(self) -> None:
        """`L`: every outcome of this run."""
        from ctrtui.ui.screens import MoveLog

        self.app.push_screen(MoveLog(list(self.reports)))

    # ------------------------------------------------------------------ drag and drop

    def node_at(self, x: int, y: int) -> tuple[str, int] | None:
        """(path, line) of the tree node under screen cell (x, y), or None."""
        app = self.app
        try:
            screen = app.screen
            widget, _ = screen.get_widget_at(x, y)
        except Exception:  # noqa: BLE001 - outside every widget, or no screen (closing)
            return None
        if widget is not app.tree:
            return None
        line = screen.get_style_at(x, y).meta.get("line")
        if line is None:
            return None
        node = app.tree.get_node_at_line(line)
        if node is None or node.data is None:
            return None
        return node.data, line

    def drag_moved(self, event: TaskList.DragMoved) -> None:
        """The pointer moved during a drag: show the cgroup under it and what a drop would do."""
        app = self.app
        hit = self.node_at(event.screen_x, event.screen_y)
        if hit is None:
            if self.drag_target is not None or app.tree.drop_line != -1:
                app.tree.show_drop(-1, False)
            self.drag_target = None
            n = len(event.pids)
            app.say(Text(f"dragging {n} task{'s' if n != 1 else ''}: drop on a cgroup in the tree "
                         "(esc cancels)", "bold"))
            return
        path, line = hit
        target = f"{self.session.hier}:{path}"
        if target != self.drag_target:
            self.drag_target = target
            app.tree.show_drop(line, True)
            app.say(Text(f"drop on {display(target)}: checking…", "bold"))
            self._plan(list(event.pids), CgroupRef(self.session.hier, path), self.session.threads,
                       self._starts(event.pids), "drag")

    def drag_dropped(self, event: TaskList.DragDropped) -> None:
        """The tasks were dropped: on a cgroup, plan the move (then confirm and apply)."""
        app = self.app
        hit = self.node_at(event.screen_x, event.screen_y)
        self.end_drag()
        app.details.refresh()
        if hit is None:
            app.notify("Dropped outside the cgroup tree: nothing moved.", severity="warning", timeout=4)
            return
        if self.refused():
            return
        path, _ = hit
        self._plan(list(event.pids), CgroupRef(self.session.hier, path), self.session.threads,
                   self._starts(event.pids), "drop")

    def end_drag(self) -> None:
        """Forget the drop target (the detail line is drawn again)."""
        self.drag_target = None
        self.app.tree.show_drop(-1, False)
        self.app.details.key = None
