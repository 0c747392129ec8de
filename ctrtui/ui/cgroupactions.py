"""Create, remove, freeze and thaw cgroups from the UI (`CgroupActions`), and the short
flow "move the selection into a new cgroup here".

- `n`: a child of the highlighted cgroup; its name is asked in `NewCgroup`, which checks the
  name rules as you type (engine/opvalues.py `name_problem`). Enter creates it.
- `D`: remove the highlighted cgroup, asked first (`ConfirmOp`); refused with the reason when
  it holds tasks or children (the kernel would say EBUSY).
- `z`: freeze the highlighted cgroup, or thaw it when it is frozen, asked first.
- `N`: the selected tasks go into a new child of the highlighted cgroup: the name is asked,
  the cgroup is created, and the move is planned and applied as any other (asked first only
  when risky). Two batches in the journal: `u` moves the tasks back, `u` again removes it.

Each op runs in a thread worker through `CgroupOps` (journaled, undone by `u` like a move:
`Moves.undo` undoes the newest batch, a move or an op), then the view refreshes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ctrtui.engine.opvalues import OpResult, child_ref, name_problem
from ctrtui.model import CgroupRef
from ctrtui.text import display

if TYPE_CHECKING:
    from ctrtui.ui.hostmovers import CgroupOpsLike
    from ctrtui.ui.screenside import ScreenSide
    from ctrtui.ui.session import Session


_TITLES = {"mkdir": "New cgroup", "rmdir": "Remove cgroup", "freeze": "Freeze", "thaw": "Thaw"}


class CgroupActions:
    """The app's `n`, `D`, `z` and `N`."""

    def __init__(self, side: ScreenSide, session: Session) -> None:
        self.side = side
        self.session = session
        """What is shown: its `ops` are the shown host's cgroup ops (this machine's `ServiceOps`,
        or a remote host's own ctrtui's), `check`, `frozen` and `run` what is called on them."""
        self.results: list[OpResult] = []
        """Every op of this run, oldest first."""

    def _here(self, doing: str) -> CgroupRef | None:
        """The highlighted cgroup, unless `doing` (a key of `moves.REFUSED`) is refused."""
        path = self.side.tree.cursor_path
        if path is None or self.side.moves.refused(doing):
            return None
        if self.session.ops is None:
            return None
        return CgroupRef(self.session.hier, path)

    def _taken(self, parent: CgroupRef) -> set[str]:
        hs = self.session.hs
        c = hs.get(parent.path) if hs is not None else None
        return {p.rsplit("/", 1)[1] for p in c.children} if c is not None else set()

    def _ask_name(self, parent: CgroupRef, title: str, then: Callable[[CgroupRef], None]) -> None:
        from ctrtui.ui.screens.newcgroup import NewCgroup

        taken = self._taken(parent)

        def picked(name: str | None) -> None:
            if name is not None:
                then(child_ref(parent, name))

        self.side.show_screen(NewCgroup(title, lambda name: name_problem(name, taken)), picked)

    # ------------------------------------------------------------------ n, D, z

    def new(self) -> None:
        """`n`: ask the name of a new child of the highlighted cgroup, then create it."""
        here = self._here("mkdir")
        if here is not None:
            where = f"{display(here.hierarchy)}:{display(here.path)}"
            self._ask_name(here, f"New cgroup under {where}", lambda ref: self.run("mkdir", ref))

    def remove(self) -> None:
        """`D`: remove the highlighted cgroup (asked first; refused at once when not empty)."""
        here = self._here("rmdir")
        if here is None:
            return
        assert self.session.ops is not None  # _here says so
        refusal = self.session.ops.check("rmdir", here)
        where = f"{display(here.hierarchy)}:{display(here.path)}"
        if refusal is not None:
            self.side.notify(f"Cannot remove {where}: {refusal.text()}", title="Not removed", severity="warning",
                            timeout=8)
            return
        self._confirm(f"Remove the empty cgroup {where}?", "u undoes it (makes it again, empty).", "Remove",
                      lambda: self.run("rmdir", here))

    def freeze(self) -> None:
        """`z`: freeze the highlighted cgroup, or thaw it when frozen (asked first)."""
        here = self._here("freeze")
        if here is None:
            return
        assert self.session.ops is not None  # _here says so
        frozen = self.session.ops.frozen(here)
        op = "thaw" if frozen else "freeze"
        refusal = self.session.ops.check(op, here)
        where = f"{display(here.hierarchy)}:{display(here.path)}"
        if refusal is not None:
            self.side.notify(f"Cannot {op} {where}: {refusal.text()}", title="Not changed", severity="warning",
                            timeout=8)
            return
        if op == "freeze":
            self._confirm(f"Freeze {where}?", "Every task in it and below it stops until it is thawed (z again, "
                          "or u). A task moved out thaws.", "Freeze", lambda: self.run("freeze", here))
        else:
            self._confirm(f"Thaw {where}?", "Its tasks run again; u freezes it again.", "Thaw",
                          lambda: self.run("thaw", here))

    def _confirm(self, question: str, detail: str, yes: str, then: Callable[[], None]) -> None:
        from ctrtui.ui.screens.confirmop import ConfirmOp

        def answered(ok: bool | None) -> None:
            if ok:
                then()
            else:
                self.side.notify("Cancelled: nothing changed.", timeout=3)

        self.side.show_screen(ConfirmOp(question, detail, yes), answered)

    # ------------------------------------------------------------------ N: move into a new cgroup

    def new_and_move(self) -> None:
        """`N`: the selection into a new child of the highlighted cgroup."""
        side = self.side
        here = self._here("new-move")
        if here is None:
            return
        pids = side.moves.selection()
        if not pids:
            return
        starts = side.moves.start_times(pids)
        threads = self.session.threads
        what = f"{len(pids)} {'thread' if threads else 'task'}{'s' * (len(pids) != 1)}"
        where = f"{display(here.hierarchy)}:{display(here.path)}"

        def made(ref: CgroupRef) -> None:
            self.run("mkdir", ref, then=lambda: side.moves.plan(pids, ref, threads, starts, "new"))

        self._ask_name(here, f"Move {what} into a new cgroup under {where}", made)

    # ------------------------------------------------------------------ run

    def run(self, op: str, ref: CgroupRef, then: Callable[[], None] | None = None) -> None:
        """Run `op` on `ref` in a worker; `done` says how it went (and calls `then` on success)."""
        ops = self.session.ops
        if ops is not None:
            self.side.run_named(self._run_op, ops, op, ref, then, name=op, group="move")

    def _run_op(self, ops: CgroupOpsLike, op: str, ref: CgroupRef, then: Callable[[], None] | None) -> None:
        """Run `op` on `ref` (thread worker named after the op, in the moves' group) and hand
        the result to `done`."""
        from ctrtui.engine.journalerrors import JournalError

        try:
            result = ops.run(op, ref)
        except JournalError as exc:  # no journal, no change: the engine's own sentence
            self.side.call_from_thread(self.side.notify, str(exc), title="Not changed", severity="error", timeout=12)
            return
        self.side.call_from_thread(self.done, result, then)

    def done(self, result: OpResult, then: Callable[[], None] | None = None) -> None:
        """Say how an op (or the undo of one) went, and refresh."""
        side = self.side
        self.results.append(result)
        title = "Undo" if result.undo_of else _TITLES[result.op]
        text = result.sentence() + "".join(f"\n{w}" for w in result.warnings)
        side.notify(text, title=title, severity="information" if result.ok else "error", timeout=8)
        if result.ok and then is not None:
            then()
        side.action_refresh()
        if result.ok and result.op in ("freeze", "thaw") and result.ref.hierarchy == self.session.hier:
            side.live.read_markers([result.ref.path])
