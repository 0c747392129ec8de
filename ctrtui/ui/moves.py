"""Moving tasks from the UI, as an object of its own (`Moves`): mark, cut and put, drag and
drop, the target picker, plan, confirm, apply, undo, and the move log.

Every way of moving ends in `confirm_and_apply`: refused when read-only or when the policy
cannot be used, asked first when `ctrtui.engine.risk.assess` finds risks, then applied in a
thread worker; the engine's `Report` comes back as a `BatchDone` and is kept for the move log.
Plans and batches run in workers (`plan`, `move`, `undo`); their results are messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text

from ctrtui.engine.values import Plan, Report
from ctrtui.model import CgroupRef
from ctrtui.report import describe_error, plan_line
from ctrtui.text import display, scrub
from ctrtui.ui.messages import BatchDone, Planned
from ctrtui.ui.movesoff import read_only_words
from ctrtui.ui.reportstyle import report_text

if TYPE_CHECKING:
    from ctrtui.ui.hostmovers import Mover
    from ctrtui.ui.screenside import ScreenSide
    from ctrtui.ui.session import Session
    from ctrtui.ui.widgets.tasklist import TaskList


@dataclass
class Cut:
    """Tasks remembered by `x`, waiting for `p`."""

    hierarchy: str
    pids: list[int]
    threads: bool
    starts: dict[int, int] = field(default_factory=dict)


class Moves:
    """Everything that moves tasks, for the app: it keys the actions (`m`, `x`, `p`, `u`,
    `L`, a drag) to the engine and shows the outcomes."""

    def __init__(self, side: ScreenSide, session: Session) -> None:
        self.side = side
        self.session = session
        """What is shown (`ctrtui.ui.session`): `plan`, `apply` and `undo` go through its
        mover, whatever the host; its service (this machine's) has the policy read again."""
        self.reports: list[Report] = []
        """Every batch report of this run, oldest first (the move log)."""
        self.cut: Cut | None = None
        """What `x` remembered for `p`."""
        self.drag_target: str | None = None
        """`hierarchy:path` under the pointer during a drag (None: none)."""

    # ------------------------------------------------------------------ may we move?

    def policy_fixed(self) -> bool:
        """Read the broken policy's file again (this machine's service); when it is usable
        now, moves use it (they are on again) and True."""
        from ctrtui.errors import CtrtuiError

        side, service = self.side, self.session.service
        if service is None:  # a remote host's policy is its own
            return False
        try:
            source = service.reload_policy()
        except CtrtuiError as exc:
            self.session.policy_error = str(exc)
            return False
        if source is None:
            return False
        self.session.policy_error = None
        side.update_status()
        side.refresh_bindings()
        side.notify(f"The policy {source} can be used again: moves are on.", title="Policy")
        return True

    def policy_notice(self) -> None:
        self.side.notify(f"No task is moved while the policy cannot be used: {self.session.policy_error}. Fix the "
                        "policy file (or move it away to run without a policy), then try again.",
                        severity="error", title="Moves are off", timeout=12)

    def refused(self, doing: str = "move") -> bool:
        """Refuse a move (m, p, drop, undo) or a cgroup op (`doing`: a key of `REFUSED`)
        with a notification saying why: read-only, or a policy that cannot be used (read
        again first: once fixed, moves are on)."""
        side = self.side
        if side.host is None or self.session.snapshot is None:
            host = side.host
            side.notify("Nothing is moved before a snapshot is on screen" + (
                f": the first one of host {display(host.name)} is being taken." if host is not None
                else ": no host is reached yet."), severity="warning", title="Not yet")
            return True
        if self.session.read_only_reason is None and self.session.policy_error is not None and not self.policy_fixed():
            self.policy_notice()
            return True
        if self.session.read_only_reason is None:
            return False
        side.notify(read_only_words(self.session.read_only_reason, doing), severity="warning")
        return True

    # ------------------------------------------------------------------ m, x, p

    def start_times(self, pids: Iterable[int]) -> dict[int, int]:
        """Start times the UI saw for `pids` (the PID-reuse guard compares against them)."""
        d = self.side.tasks.details
        return {p: d[p].start_time for p in pids if p in d}

    def selection(self) -> list[int]:
        pids = self.side.tasks.selection()
        if not pids:
            self.side.notify("No task selected: put the cursor on a task in the list, or mark some with space.",
                            severity="warning")
        return pids

    def pick(self) -> None:
        """`m`: the target picker for the selection; its plan is confirmed and applied."""
        from ctrtui.ui.screens import TargetPicker

        shown = self.session
        if self.refused() or shown.snapshot is None:
            return
        pids = self.selection()
        if pids:
            self.side.show_screen(TargetPicker(shown.mover, shown.snapshot, shown.hier, pids, shown.threads,
                                              self.start_times(pids)), self._picked)

    def _picked(self, plan: Plan | None) -> None:
        if plan is not None:
            self.confirm_and_apply(plan)

    def cut_selection(self) -> None:
        """`x`: remember the selection (with the start times seen) for `p`."""
        side = self.side
        if self.refused():
            return
        pids = self.selection()
        if not pids:
            return
        self.cut = Cut(self.session.hier, pids, self.session.threads, self.start_times(pids))
        what = "thread" if self.session.threads else "task"
        side.notify(f"Cut {len(pids)} {what}{'s' if len(pids) != 1 else ''}: highlight a cgroup in the tree "
                   "and press p to put them there.", timeout=4)
        side.update_status()

    def put(self) -> None:
        """`p`: plan moving the cut tasks into the highlighted cgroup."""
        side = self.side
        if self.refused():
            return
        if self.cut is None:
            side.notify("Nothing is cut: select tasks and press x first.", severity="warning")
            return
        path = side.tree.cursor_path
        if path is None:
            return
        self.plan(self.cut.pids, CgroupRef(self.session.hier, path), self.cut.threads, self.cut.starts, "put")

    def plan(self, pids: list[int], target: CgroupRef, threads: bool, starts: dict[int, int], purpose: str) -> None:
        self.side.run_named(self._plan_in_thread, self.session.mover, pids, target, threads, starts, purpose,
                            name="plan", group="plan", exclusive=True)

    def _plan_in_thread(self, mover: Mover, pids: list[int], target: CgroupRef, threads: bool,
                        starts: dict[int, int], purpose: str) -> None:
        """Plan the move with `mover` (thread worker "plan") and post it as `Planned`."""
        plan = mover.plan(pids, target, threads=threads, expected_start=starts)
        self.side.post_message(Planned(plan, str(target), purpose).to(self.planned))

    def planned(self, event: Planned) -> None:
        """A plan came back: a drag shows it on the tree, a put or drop goes on."""
        side = self.side
        if event.purpose == "drag":
            if event.target == self.drag_target and side.tasks.dragging:
                line = side.tree.nodes.get(event.target.split(":", 1)[1])
                side.tree.show_drop(line.line if line is not None else -1, bool(event.plan.accepted))
                side.say(Text("drop on " + plan_line(event.plan, event.target),
                             "bold green" if event.plan.accepted else "bold red"))
            return
        if not event.plan.accepted:
            side.notify("Nothing to move into " + plan_line(event.plan, event.target), severity="warning",
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

        side = self.side
        if self.refused():
            return
        if not plan.accepted:
            side.notify("Nothing to move: " + plan_line(plan, str(plan.target)),
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
                    side.notify("Move cancelled: nothing moved." + (" The cut is kept: p puts it, x cuts anew."
                                                                   if put and self.cut is not None else ""),
                               timeout=4)

            side.show_screen(ConfirmMove(plan, risks), answered)
        else:
            self._apply_put(plan, put)

    def _apply_put(self, plan: Plan, put: bool) -> None:
        if put:
            self.cut = None
            self.side.update_status()
        self.apply(plan)

    def apply(self, plan: Plan) -> None:
        """Apply `plan` in a worker; `BatchDone` says how it went (naming the new scope, when
        the plan starts one)."""
        mover = self.session.mover
        what = "Move" if plan.scope is None else f"Move into the new scope {display(plan.scope.name)}"
        self.side.run_named(self._batch, partial(mover.apply, plan), what, "Not moved", name="move", group="move")

    def undo(self) -> None:
        """`u`: move the last batch back (in a worker)."""
        if self.refused():
            return
        # the newest batch of the shown host's journal, a move or a cgroup op (mkdir, rmdir,
        # freeze, thaw: ui/cgroupactions.py)
        self.side.run_named(self._batch, self.session.mover.undo, "Undo", "Not undone", name="undo", group="move")

    def _batch(self, run: Callable[[], object], what: str, refused: str) -> None:
        """Run a batch (thread worker "move" or "undo") and post its `BatchDone`; a journal that cannot be
        written moves nothing, and the engine's sentence says why. An undone cgroup op goes
        to `CgroupActions.done`."""
        from ctrtui.engine.opvalues import OpResult
        from ctrtui.errors import CtrtuiError

        try:
            report = run()
        except CtrtuiError as exc:  # its sentence: no journal, no move (JournalError); another backend's op batch
            self.side.call_from_thread(self.side.notify, str(exc), title=refused, severity="error", timeout=12)
            return
        except Exception as exc:
            from ctrtui.remote.errors import HostError, RemoteOpError

            if isinstance(exc, RemoteOpError):  # the host answered, and said no
                self.side.call_from_thread(self.side.notify, str(exc), title=refused, severity="error", timeout=12)
                return
            if not isinstance(exc, HostError):  # not a host's error: a bug, reported as one
                raise
            # the connection went mid-batch: the host's write-ahead journal keeps the record
            self.side.call_from_thread(self.side.notify, f"{exc}. The host's journal keeps what was done: "
                                      "reconnect (H, then r), then look or undo (u).", title=refused,
                                      severity="error", timeout=15)
            return
        if isinstance(report, OpResult):
            self.side.call_from_thread(self.side.cgroup_ops.done, report)
            return
        assert report is None or isinstance(report, Report)
        self.side.post_message(BatchDone(report, what).to(self.batch_done))

    def batch_done(self, event: BatchDone) -> None:
        """Say how the batch went, keep its report for the move log, refresh."""
        side = self.side
        if event.report is None:
            why = scrub(getattr(self.session.mover, "nothing_left", "") or "")  # e.g. a batch whose origin is gone
            side.notify("Nothing to undo: " + (why.rstrip(".") or "no batch of moves or cgroup changes is left in "
                                              "the journal") + ".", severity="warning", timeout=12 if why else 5,
                       escaped=True)
            return
        self.reports.append(event.report)
        text, severity = report_text(event.report, event.what)
        side.notify(text, title=event.what, severity=severity, timeout=8, escaped=True)
        tasks = side.tasks
        self._place_cursor(event)
        moved = [o.pid for o in event.report.outcomes]
        tasks.forget_details(keep=[p for p in tasks.details if p not in moved])
        tasks.marks.difference_update(o.pid for o in event.report.outcomes
                                      if o.outcome == "moved" and o.pid is not None)
        side.action_refresh()

    def _place_cursor(self, event: BatchDone) -> None:
        """Where the cursor goes after a batch: after an undo, on the task that came back to
        the shown cgroup; after a move out of it, on the next task that stays (not on the
        departed one, still fading out, which an immediate `m` would not find)."""
        tasks, report = self.side.tasks, event.report
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

        self.side.show_screen(MoveLog(list(self.reports)))

    # ------------------------------------------------------------------ drag and drop

    def node_at(self, x: int, y: int) -> tuple[str, int] | None:
        """(path, line) of the tree node under screen cell (x, y), or None."""
        side = self.side
        try:
            screen = side.screen
            widget, _ = screen.get_widget_at(x, y)
        except Exception:  # noqa: BLE001 - outside every widget, or no screen (closing)
            return None
        if widget is not side.tree:
            return None
        line = screen.get_style_at(x, y).meta.get("line")
        if line is None:
            return None
        node = side.tree.get_node_at_line(line)
        if node is None or node.data is None:
            return None
        return node.data, line

    def drag_moved(self, event: TaskList.DragMoved) -> None:
        """The pointer moved during a drag: show the cgroup under it and what a drop would do."""
        side = self.side
        hit = self.node_at(event.screen_x, event.screen_y)
        if hit is None:
            if self.drag_target is not None or side.tree.drop_line != -1:
                side.tree.show_drop(-1, False)
            self.drag_target = None
            n = len(event.pids)
            side.say(Text(f"dragging {n} task{'s' if n != 1 else ''}: drop on a cgroup in the tree "
                         "(esc cancels)", "bold"))
            return
        path, line = hit
        target = f"{self.session.hier}:{path}"
        if target != self.drag_target:
            self.drag_target = target
            side.tree.show_drop(line, True)
            side.say(Text(f"drop on {display(target)}: checking…", "bold"))
            self.plan(list(event.pids), CgroupRef(self.session.hier, path), self.session.threads,
                       self.start_times(event.pids), "drag")

    def drag_dropped(self, event: TaskList.DragDropped) -> None:
        """The tasks were dropped: on a cgroup, plan the move (then confirm and apply)."""
        side = self.side
        hit = self.node_at(event.screen_x, event.screen_y)
        self.end_drag()
        side.details.refresh()
        if hit is None:
            side.notify("Dropped outside the cgroup tree: nothing moved.", severity="warning", timeout=4)
            return
        if self.refused():
            return
        path, _ = hit
        self.plan(list(event.pids), CgroupRef(self.session.hier, path), self.session.threads,
                   self.start_times(event.pids), "drop")

    def end_drag(self) -> None:
        """Forget the drop target (the detail line is drawn again)."""
        self.drag_target = None
        self.side.tree.show_drop(-1, False)
        self.side.details.key = None
