"""The attach engine: plan -> validate (hooks) -> write -> verify -> record, one facade.

`AttachEngine` holds what the steps share (the backend, the hooks, the journal, the pidfds a
plan keeps for apply) and runs them: `plan()` (`ctrtui.engine.planning`: parse every PID, read
each task's facts once; `ctrtui.engine.judge`: each hook judges the whole batch), `apply()`
(`ctrtui.engine.apply`: write, verify, roll back), the journal around it
(`ctrtui.engine.batches`: the batch's intent is synced before the first write, its outcomes
and close record after the last; no journal, no move: `JournalError`), and `undo()`
(`ctrtui.engine.undo`). Nothing is dropped or merged: one `Outcome` per input item, in order.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ctrtui.engine import batches
from ctrtui.engine.apply import Mover
from ctrtui.engine.batches import record, recover_open, write_intent
from ctrtui.engine.builtinhooks import builtin_hooks
from ctrtui.engine.journal import Journal
from ctrtui.engine.journalerrors import JournalError, JournalMismatch, JournalNotOwned
from ctrtui.engine.planning import FactReader, make_plan
from ctrtui.engine.plugins import load_entry_point_hooks
from ctrtui.engine.policy import Policy
from ctrtui.engine.undo import choose_undoable as undoable_batch
from ctrtui.engine.undo import undo as undo_batch
from ctrtui.engine.values import Plan, Report
from ctrtui.errors import CtrtuiError, errno_name
from ctrtui.model import CgroupRef, Hierarchy, find_hierarchy
from ctrtui.text import display

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ctrtui.engine.records import Batch
    from ctrtui.engine.values import ScopeRequest, Via

__all__ = ["AttachEngine", "Plan", "Report", "load_entry_point_hooks"]


class AttachEngine:
    """Every move goes through here (UI, CLI and undo alike).

    `hooks=None` uses the built-in hooks, the policy hook and the `ctrtui.hooks` entry-point
    hooks (discovered when first needed: `hooks`); an explicit list is used as given
    (`hooks=[]` leaves every decision to the kernel), plus the policy hook when a non-empty
    `policy` is passed too. `policy=None` with default hooks reads the policy file at its
    default path, if there is one. `journal=None` keeps the journal in memory. Problems of
    plugins are in `warnings`. `front` (`cli`, or `ui` set by the terminal UI) picks the
    words of advice where the front ends differ (`ctrtui.errors.look_again`).
    """

    verify_batch = 32
    """From this many written PIDs of one plan on, apply reads the target's thread list once
    instead of each task's /proc/PID/cgroup (that list costs in proportion to the target's
    size, a PID's own file does not)."""

    def __init__(self, backend: Any, hooks: Sequence[Any] | None = None, policy: Policy | None = None,
                 journal: Journal | None = None, load_entry_points: bool = True) -> None:
        self.backend = backend
        self.warnings: list[str] = []
        self.journal = journal if journal is not None else Journal(None)
        self._plugins_at: int | None = None  # where the entry-point hooks go, until they are discovered
        if hooks is None:
            self.policy = policy if policy is not None else Policy.load_default()
            chosen: list[Any] = builtin_hooks()
            after = next(i for i, h in enumerate(chosen) if h.name == "cpuset") + 1
            chosen.insert(after, self.policy.hook())
            if load_entry_points:
                self._plugins_at = after + 1
        else:
            self.policy = policy if policy is not None else Policy()
            chosen = list(hooks) + ([policy.hook()] if policy else [])
        self._hooks: list[Any] = chosen
        self.reader = FactReader(backend)  # reads tasks' facts; keeps a plan's pidfds for apply
        self._pid_max: int | None = None
        self._stop: str | None = None  # set by request_stop (a signal handler): stop between two PIDs
        self.notes: list[str] = []  # what recovering open batches found, for the next report
        self.nothing_left = ""  # why the last undo() found nothing to undo
        self.skipped: list[str] = []  # the batches the last bare undo skipped (they cannot be undone), and why
        self.front = "cli"  # whose words advice takes: "cli" or "ui" (the terminal UI sets it)

    @property
    def hooks(self) -> list[Any]:
        """The hooks in the order they judge. The `ctrtui.hooks` entry-point hooks are
        discovered the first time the hooks are needed (a plan, or this list asked for), not
        when the engine is made: an engine that never plans (the cgroup ops, an undo with
        nothing to undo, the UI until its first move) never pays for importlib.metadata.
        What a plugin's failure says goes to `warnings` then."""
        if self._plugins_at is not None:
            at, self._plugins_at = self._plugins_at, None
            self._hooks[at:at] = load_entry_point_hooks(self.warnings)
        return self._hooks

    @hooks.setter
    def hooks(self, hooks: list[Any]) -> None:
        self._plugins_at = None
        self._hooks = hooks

    def request_stop(self, why: str) -> None:
        """Stop the running batch cleanly before its next PID (safe from a signal handler):
        the PIDs not yet written are reported not-moved, and the batch is closed as
        interrupted. `why`: what stopped it, e.g. "SIGINT"."""
        self._stop = why

    @property
    def pid_max(self) -> int:
        if self._pid_max is None:
            self._pid_max = int(self.backend.pid_max)
        return self._pid_max

    def hierarchy(self, word: str) -> Hierarchy:
        """The hierarchy named `word` (its name or one of its controllers); CtrtuiError if none."""
        hiers: Sequence[Hierarchy] = self.backend.hierarchies()
        h = find_hierarchy(hiers, word)
        if h is not None:
            return h
        known = ", ".join(h.name for h in hiers) or "none is mounted"
        raise CtrtuiError(f"unknown hierarchy '{word}'; known hierarchies: {known}")

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan:
        """One verdict per item of `pids` (ints or text as typed) for moving into `target`.
        `expected_start` (pid -> start time, e.g. from the snapshot the user looked at)
        reports a PID whose task has been replaced since as vanished (hook `pid-reuse`).

        The facts of every distinct PID are read once, then each hook judges the batch of
        PIDs still undecided, in the hooks' order (see `ctrtui.engine.hooks`). `via`: `auto`
        (systemd's route where it applies, and what systemd would refuse is refused) or
        `kernel` (the membership-file write, asked for: see ctrtui.engine.systemdroute)."""
        h = self.hierarchy(target.hierarchy)
        return make_plan(self.reader, self.hooks, pids, h, CgroupRef(h.name, target.path), bool(threads),
                         self.pid_max, self.front, expected_start, via)

    def plan_scope(self, pids: Sequence[int | str], scope: ScopeRequest) -> Plan:
        """One verdict per item of `pids` for a new transient scope (`scope`) systemd starts
        for them (route `scope`): the target is the scope's cgroup to be, in the hierarchy
        systemd manages, judged by the hooks like any move. What systemd would refuse before
        anything is asked is `CtrtuiError`, one sentence: not a systemd host, a name or slice
        systemd does not accept, a property it would refuse."""
        from ctrtui.engine.scopecheck import scope_target

        h, path = scope_target(self.backend, scope, self.hierarchy)
        return make_plan(self.reader, self.hooks, pids, h, CgroupRef(h.name, path), False, self.pid_max, self.front,
                         None, "scope", scope)

    def release(self) -> None:
        """Close every pidfd still kept from plans that were not applied (a plan stays
        valid: apply then opens each task's pidfd again)."""
        self.reader.release()

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        """Carry out a plan; with `all_or_nothing`, either every accepted PID moves or none
        stays moved."""
        return self.run_plans([plan], all_or_nothing, None)

    def run_plans(self, plans: Sequence[Plan], all_or_nothing: bool, undo_of: str | None) -> Report:
        """Apply `plans` as one batch (an undo names the batch it undoes: `undo_of`). Hold the
        journal, close any batch a dead process left open, write this batch's intent (synced)
        and only then move. `JournalError` (nothing moved) when the journal cannot be locked
        or written."""
        try:
            with self.journal.locked():
                self.notes.extend(recover_open(self.journal, self.backend))
                return self._run_locked(plans, all_or_nothing, undo_of)
        except JournalError as e:
            if isinstance(e, (JournalMismatch, JournalNotOwned)) or any(
                    v.kind == "move" for p in plans for v in p.verdicts):
                raise  # no journal, no move; another backend's open batch; state not the user's: said, never hidden
            # Nothing would be written: the outcomes (all refused, vanished or already there)
            # are reported all the same; there is nothing to undo, so nothing is lost.
            kept, self.journal = self.journal, Journal(None)
            try:
                report = self._run_locked(plans, all_or_nothing, undo_of)
            finally:
                self.journal = kept
            why = f"{errno_name(e.errno)}: {os.strerror(e.errno)}" if e.errno else "error"
            note = (f"the journal {display(e.path)} could not be written ({why}); nothing was to be moved, "
                    "so this batch is not recorded")
            return report.replace(warnings=report.warnings + (note,))

    def _run_locked(self, plans: Sequence[Plan], all_or_nothing: bool, undo_of: str | None) -> Report:
        items = [(p, v) for p in plans for v in p.verdicts]
        batch_id = batches.new_batch_id()
        write_intent(self.journal, self.backend, batch_id, plans, undo_of)  # JournalError: nothing moved
        mover = Mover(self.backend, self.reader, self.hooks, self.front, lambda: self._stop, self.verify_batch)
        outcomes, rolled_back = mover.run(items, all_or_nothing)
        if self.reader.held:
            self.reader.release()  # kept for plans that were not applied: they open pidfds anew if they are
        report = Report(batch_id, plans[0].target, plans[0].threads, outcomes, rolled_back, undo_of,
                        journaled=self.journal.durable, interrupted=self._stop)
        return record(self.journal, report, self.notes)

    def undo(self, batch: str | None = None) -> Report | None:
        """Move back what the newest undoable batch (or the batch named `batch`) moved and
        is not undone yet, through the same guard and hooks; None when there is nothing
        left to undo (then `nothing_left` says why). The undo is itself a batch naming the
        one it undoes; a PID counts as undone only once it really went back, so a refused
        undo can be retried. A task that exited or was recycled is reported (and settled)."""
        return undo_batch(self, batch)

    def choose_undoable(self, batch: str | None = None) -> Batch | None:
        """The batch an undo takes: the one named, else the newest with something left to
        undo -- skipping, and saying which (in the next report's warnings), each batch none of
        whose tasks can go back because every cgroup they came from is gone. Such a batch is
        recorded once as a refused undo (`ctrtui log`: cannot be undone: origin gone)."""
        return undoable_batch(self, batch)
