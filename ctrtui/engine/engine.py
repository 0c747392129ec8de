"""The attach engine: plan -> validate (hooks) -> write -> verify -> record.

`plan()` parses every PID and asks every hook's `can_attach`, giving one `Verdict` per input
item. `apply()` writes each accepted PID the way the kernel wants it (a pidfd first, the start
time checked, one canonical decimal write), checks that the task is still alive and really sits
in the target, tells every hook's `attach`, and journals the batch. Nothing is dropped or merged:
one `Outcome` per input item, in order. `undo()` moves the journal's last batch back through the
same engine.
"""

from __future__ import annotations

import errno as _errno
import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from ctrtui.engine.hooks import AlreadyThere, HookContext, HookWarning, Refusal, builtin_hooks
from ctrtui.engine.journal import Journal
from ctrtui.engine.parse import PidParseError, parse_pid, read_pid_max
from ctrtui.engine.policy import Policy
from ctrtui.errors import CtrtuiError, errno_name, explain
from ctrtui.model import CgroupRef, CgroupState, Hierarchy, TaskInfo
from ctrtui.sources.base import membership_file

__all__ = ["AttachEngine", "Outcome", "Plan", "Report", "Verdict", "load_entry_point_hooks"]

VERDICT_KINDS = ("move", "already-there", "refused")
OUTCOMES = ("moved", "already-there", "refused", "vanished", "not-moved", "rolled-back")
ENTRY_POINT_GROUP = "ctrtui.hooks"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the plan says of one input item. `kind`: move, already-there or refused; for a
    refusal `errno` (name, or None when the kernel would not refuse but ctrtui does), `hook`
    (who decided), `reason` and `advice` are for people."""

    text: str
    pid: int | None
    kind: str
    errno: str | None = None
    hook: str | None = None
    reason: str = ""
    advice: str = ""
    warnings: tuple[str, ...] = ()
    start_time: int | None = None
    source: str | None = None
    """The task's cgroup in the target's hierarchy when planned."""
    task: TaskInfo | None = None


@dataclass(frozen=True)
class Plan:
    """One verdict per input item, same order, for moving into `target`."""

    target: CgroupRef
    threads: bool
    verdicts: tuple[Verdict, ...]
    hierarchy: Hierarchy
    created: float = field(default_factory=time.time)

    @property
    def accepted(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.kind == "move")

    @property
    def ok(self) -> bool:
        """No verdict is a refusal."""
        return all(v.kind != "refused" for v in self.verdicts)

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(VERDICT_KINDS, 0)
        for v in self.verdicts:
            counts[v.kind] += 1
        return counts


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input item. `outcome`: moved, already-there, refused (by a hook,
    or the kernel's errno: hook `kernel`), vanished, not-moved (the write succeeded but
    nothing moved) or rolled-back (moved, then moved back by a failed all-or-nothing batch)."""

    text: str
    pid: int | None
    outcome: str
    errno: str | None = None
    hook: str | None = None
    reason: str = ""
    advice: str = ""
    warnings: tuple[str, ...] = ()
    source: str | None = None
    target: str | None = None
    """Target cgroup path (in the report's hierarchy)."""
    start_time: int | None = None


@dataclass(frozen=True)
class Report:
    """The outcome of one applied batch, one `Outcome` per verdict in order."""

    batch_id: str
    target: CgroupRef
    threads: bool
    outcomes: tuple[Outcome, ...]
    rolled_back: bool = False
    undo_of: str | None = None
    warnings: tuple[str, ...] = ()
    """Problems of the batch as a whole (e.g. the journal could not be written)."""

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for o in self.outcomes:
            counts[o.outcome] += 1
        return counts

    @property
    def ok(self) -> bool:
        """Every PID ended in the target."""
        return all(o.outcome in ("moved", "already-there") for o in self.outcomes)


def load_entry_point_hooks(warnings: list[str]) -> list[Any]:
    """Hooks from the `ctrtui.hooks` entry-point group: each names a hook object, a hook
    class, or a factory returning a hook. A plugin that fails is reported in `warnings`."""
    from importlib.metadata import entry_points

    hooks = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "can_attach")):
                obj = obj()
            if not (callable(getattr(obj, "can_attach", None)) and callable(getattr(obj, "attach", None))):
                raise TypeError("it is not a hook (a hook has name, can_attach(ctx) and attach(task, old, new))")
            if not getattr(obj, "name", None):
                obj.name = ep.name
            hooks.append(obj)
        except Exception as e:  # noqa: BLE001 - a broken plugin must not stop ctrtui
            warnings.append(f"hook plugin {ep.name!r} ({ep.value}) was not loaded: {type(e).__name__}: {e}")
    return hooks


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _new_batch_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


class AttachEngine:
    """Every move goes through here (UI, CLI and undo alike).

    `hooks=None` uses the built-in hooks, the policy hook and the `ctrtui.hooks` entry-point
    hooks; an explicit list is used as given (`hooks=[]` leaves every decision to the kernel),
    plus the policy hook when a non-empty `policy` is passed too. `policy=None` with default hooks reads
    the policy file at its default path, if there is one. `journal=None` keeps the journal in
    memory. Problems of plugins are in `warnings`.
    """

    def __init__(self, backend: Any, hooks: Sequence[Any] | None = None, policy: Policy | None = None,
                 journal: Journal | None = None, load_entry_points: bool = True) -> None:
        self.backend = backend
        self.warnings: list[str] = []
        self.journal = journal if journal is not None else Journal(None)
        if hooks is None:
            self.policy = policy if policy is not None else Policy.load_default()
            chosen: list[Any] = builtin_hooks()
            after = next(i for i, h in enumerate(chosen) if h.name == "cpuset") + 1
            extra = [self.policy.hook()]
            if load_entry_points:
                extra += load_entry_point_hooks(self.warnings)
            chosen[after:after] = extra
        else:
            self.policy = policy if policy is not None else Policy()
            chosen = list(hooks) + ([policy.hook()] if policy else [])
        self.hooks: list[Any] = chosen
        self._pid_max: int | None = None

    # ------------------------------------------------------------------ helpers

    @property
    def pid_max(self) -> int:
        if self._pid_max is None:
            value = getattr(self.backend, "pid_max", None)
            self._pid_max = int(value) if value else read_pid_max()
        return self._pid_max

    def hierarchy(self, word: str) -> Hierarchy:
        """The hierarchy named `word` (its name or one of its controllers); CtrtuiError if none."""
        hiers = self.backend.hierarchies()
        for h in hiers:
            if h.name == word:
                return h
        for h in hiers:
            if h.matches(word):
                return h
        known = ", ".join(h.name for h in hiers) or "none is mounted"
        raise CtrtuiError(f"unknown hierarchy {word!r}; known hierarchies: {known}")

    # ------------------------------------------------------------------ plan

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None) -> Plan:
        """One verdict per item of `pids` (ints or text as typed) for moving into `target`.
        `expected_start` (pid -> start time, e.g. from the snapshot the user looked at)
        refuses a PID whose task has been replaced since."""
        h = self.hierarchy(target.hierarchy)
        target = CgroupRef(h.name, target.path)
        backend = self.backend
        states: dict[str, CgroupState | None] = {}

        def state(path: str) -> CgroupState | None:
            if path not in states:
                states[path] = backend.cgroup_state(h.name, path)
            return states[path]

        target_state = state(target.path)
        writer = backend.writer()
        verdicts = []
        first_seen: dict[int, int] = {}
        for i, item in enumerate(pids):
            text = item if isinstance(item, str) else str(item)
            try:
                pid = parse_pid(item, self.pid_max)
            except PidParseError as e:
                verdicts.append(Verdict(text, None, "refused", e.errno, "parse", e.reason, e.advice))
                continue
            v = self._judge(pid, text, h, target, target_state, threads, writer, state, expected_start)
            if pid in first_seen:
                v = replace(v, warnings=v.warnings + (
                    f"PID {pid} is listed more than once (first as item {first_seen[pid] + 1}); it is "
                    "handled once, this item reports the same result.",))
            else:
                first_seen[pid] = i
            verdicts.append(v)
        return Plan(target, bool(threads), tuple(verdicts), h)

    def _judge(self, pid: int, text: str, h: Hierarchy, target: CgroupRef, target_state: CgroupState | None,
               threads: bool, writer: Any, state: Any, expected_start: Mapping[int, int] | None) -> Verdict:
        backend = self.backend
        given = backend.task_state(pid)
        start = given.start_time if given else None
        expected = expected_start.get(pid) if expected_start else None
        if expected is not None and given is not None and given.start_time != expected:
            return Verdict(text, pid, "refused", "ESRCH", "pid-reuse",
                           f"PID {pid} was recycled: it is now a different task ({given.comm}, started at "
                           f"tick {given.start_time}, not {expected}); it was not moved to {target}.",
                           "Refresh the list; the task you picked has exited.", start_time=expected, task=given)
        if expected is not None:
            start = expected
        judged = given
        if given is not None and not threads and given.tgid != given.pid:
            judged = backend.task_state(given.tgid) or given
        source = None
        members: dict[int, str] = {}
        if judged is not None:
            cgroups = backend.task_cgroups(judged.pid) or {}
            source = cgroups.get(h.name)
            if threads:
                if source is not None:
                    members[judged.pid] = source
            else:
                for tid in backend.thread_ids(judged.tgid) or (judged.pid,):
                    where = (backend.task_cgroups(tid) or {}).get(h.name)
                    if where is not None:
                        members[tid] = where
        ctx = HookContext(backend, h, target, target_state, pid, judged, given, source, bool(threads),
                          writer, members, state)
        warnings: list[str] = []
        if given is not None and not threads and given.tgid != given.pid:
            warnings.append(f"PID {pid} is a thread of process {given.tgid}; in process mode the whole "
                            "process moves.")
        for hook in self.hooks:
            name = getattr(hook, "name", type(hook).__name__)
            try:
                r = hook.can_attach(ctx)
            except Exception as e:  # noqa: BLE001 - a failing hook refuses, it never crashes the plan
                r = Refusal(None, f"The hook {name!r} failed while judging PID {pid} for {target} "
                            f"({type(e).__name__}: {e}); PID {pid} was not moved.",
                            f"Fix or remove the hook {name!r}.")
            if r is None:
                continue
            if isinstance(r, HookWarning):
                warnings.append(r.message)
                continue
            if isinstance(r, AlreadyThere):
                return Verdict(text, pid, "already-there", None, name, r.reason, "", tuple(warnings),
                               start, source, given)
            if not isinstance(r, Refusal):
                r = Refusal(None, f"The hook {name!r} gave an answer ctrtui does not understand ({r!r}) "
                            f"for PID {pid}; it was not moved.", f"Fix the hook {name!r}.")
            return Verdict(text, pid, "refused", r.errno, name, r.reason, r.advice, tuple(warnings),
                           start, source, given)
        who = f"PID {pid}" + (f" ({given.comm})" if given else "")
        reason = f"{who} would move from {source or '?'} to {target}."
        return Verdict(text, pid, "move", None, None, reason, "", tuple(warnings), start, source, given)

    # ------------------------------------------------------------------ apply

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        """Carry out a plan; with `all_or_nothing`, either every accepted PID moves or none
        stays moved."""
        return self._run([plan], all_or_nothing, None)

    def _run(self, plans: Sequence[Plan], all_or_nothing: bool, undo_of: str | None) -> Report:
        items = [(p, v) for p in plans for v in p.verdicts]
        outcomes: list[Outcome | None] = [None] * len(items)
        first_refused = next((v for _, v in items if v.kind == "refused"), None)
        rolled_back = False
        done: dict[tuple[str, int], int] = {}
        if all_or_nothing and first_refused is not None:
            why = (f"Not moved: the batch is all-or-nothing and {first_refused.text!r} was refused "
                   f"({first_refused.reason})")
            for i, (p, v) in enumerate(items):
                if v.kind == "move":
                    outcomes[i] = self._outcome(p, v, "not-moved", reason=why, advice="Fix or drop the refused "
                                                "PID, then try again.")
                else:
                    outcomes[i] = self._outcome(p, v, v.kind)
        else:
            moved: list[int] = []
            failed: Outcome | None = None
            for i, (p, v) in enumerate(items):
                key = (p.hierarchy.name, v.pid)
                if v.kind != "move":
                    outcomes[i] = self._outcome(p, v, v.kind)
                elif key in done:
                    outcomes[i] = self._duplicate(p, v, outcomes[done[key]], done[key])
                elif failed is not None and all_or_nothing:
                    outcomes[i] = self._outcome(p, v, "not-moved", reason=(
                        f"Not tried: the batch is all-or-nothing and PID {failed.pid} already failed "
                        f"({failed.outcome}: {failed.reason})"), advice="Fix that PID, then try again.")
                else:
                    o = self._apply_one(p, v)
                    outcomes[i] = o
                    if o.outcome == "moved":
                        moved.append(i)
                    elif o.outcome != "already-there" and failed is None:
                        failed = o
                if v.pid is not None and key not in done:
                    done[key] = i
            if all_or_nothing and failed is not None and moved:
                rolled_back = True
                for i in reversed(moved):
                    p, v = items[i]
                    outcomes[i] = self._roll_back(p, v, outcomes[i], failed)
        finished = tuple(o for o in outcomes if o is not None)
        report = Report(_new_batch_id(), plans[0].target, plans[0].threads, finished, rolled_back, undo_of)
        return self._record(report, [p for p, _ in items])

    def _outcome(self, p: Plan, v: Verdict, outcome: str, **change: Any) -> Outcome:
        o = Outcome(v.text, v.pid, outcome, v.errno, v.hook, v.reason, v.advice, v.warnings, v.source,
                    p.target.path, v.start_time)
        return replace(o, **change) if change else o

    def _duplicate(self, p: Plan, v: Verdict, first: Outcome, index: int) -> Outcome:
        if first.outcome in ("moved", "already-there"):
            return self._outcome(p, v, "already-there", errno=None, hook=None, reason=(
                f"PID {v.pid} is already in {p.target}: item {index + 1} of this batch handled it."))
        return self._outcome(p, v, first.outcome, errno=first.errno, hook=first.hook, advice=first.advice,
                             reason=f"Same PID as item {index + 1} of this batch: {first.reason}")

    def _apply_one(self, p: Plan, v: Verdict) -> Outcome:
        """Write one accepted PID and find out what really happened."""
        backend, h, target = self.backend, p.hierarchy, p.target
        pid = v.pid
        assert pid is not None
        fname = membership_file(h.version, p.threads)
        is_thread = v.task is not None and v.task.pid != v.task.tgid
        try:
            handle = backend.open_task(pid, thread=is_thread)
        except OSError as e:
            if e.errno == _errno.ESRCH:
                return self._outcome(p, v, "vanished", errno="ESRCH", hook=None, advice="", reason=(
                    f"PID {pid} exited before it could be moved to {target}; nothing was written."))
            name = errno_name(e.errno or 0)
            return self._outcome(p, v, "refused", errno=name, hook="pid-reuse", reason=(
                f"ctrtui could not open a pidfd on PID {pid} ({name}: {e.strerror}), so it cannot prove the "
                f"PID still names the task you picked; it was not moved to {target}."),
                advice="Refresh the list and try again.")
        try:
            now = handle.start_time()
            if now is None:
                return self._outcome(p, v, "vanished", errno="ESRCH", hook=None, advice="", reason=(
                    f"PID {pid} exited before it could be moved to {target}; nothing was written."))
            if v.start_time is not None and now != v.start_time:
                return self._outcome(p, v, "refused", errno="ESRCH", hook="pid-reuse", reason=(
                    f"PID {pid} was recycled: it is now a different task (started at tick {now}, not "
                    f"{v.start_time}); it was not moved to {target}."),
                    advice="Refresh the list; the task you picked has exited.")
            alive_before = handle.alive()
            try:
                backend.write_pid(h.name, target.path, fname, str(pid).encode())
            except OSError as e:
                name = errno_name(e.errno or 0)
                sentence, advice = explain(name, pid=pid, cgroup=target, file=fname)
                return self._outcome(p, v, "refused", errno=name, hook="kernel", reason=sentence, advice=advice)
            alive_after = handle.alive()
        finally:
            handle.close()
        if not alive_before:
            return self._outcome(p, v, "not-moved", errno=None, hook="kernel", advice=(
                "Nothing to move; it disappears once its parent reaps it."), reason=(
                f"PID {pid} had already exited (a zombie): the kernel accepted the write to {target} "
                "and moved nothing."))
        if not alive_after:
            return self._outcome(p, v, "vanished", errno=None, hook=None, advice="", reason=(
                f"PID {pid} exited while it was being moved to {target}."))
        return self._verify(p, v)

    def _verify(self, p: Plan, v: Verdict) -> Outcome:
        """Is the task really in the target? Thread mode checks the thread; process mode
        checks the leader and reports any thread of the group left behind as a warning."""
        backend, h, target, pid = self.backend, p.hierarchy, p.target, v.pid
        leader = pid if p.threads or v.task is None else v.task.tgid
        where = (backend.task_cgroups(leader) or {}).get(h.name)
        if where != target.path:
            return self._outcome(p, v, "not-moved", errno=None, hook="kernel", reason=(
                f"The kernel accepted PID {pid} for {target}, but it is still in {where or '(gone)'} "
                "(it was probably exiting)."), advice="Refresh and check the task.")
        warnings = list(v.warnings)
        if not p.threads:
            behind = []
            for tid in backend.thread_ids(leader):
                there = (backend.task_cgroups(tid) or {}).get(h.name)
                if there is not None and there != target.path:
                    behind.append(f"{tid} ({there})")
            if behind:
                warnings.append(f"Threads of process {leader} still outside {target}: {', '.join(behind)}.")
        self._tell_hooks(v.task, CgroupRef(h.name, v.source or "/"), target, warnings)
        who = f"PID {pid}" + (f" ({v.task.comm})" if v.task else "")
        return self._outcome(p, v, "moved", errno=None, hook=None, advice="", warnings=tuple(warnings),
                             reason=f"{who} moved from {v.source or '?'} to {target}.")

    def _tell_hooks(self, task: TaskInfo | None, old: CgroupRef, new: CgroupRef, warnings: list[str]) -> None:
        for hook in self.hooks:
            try:
                hook.attach(task, old, new)
            except Exception as e:  # noqa: BLE001 - the move happened; say the hook failed
                name = getattr(hook, "name", type(hook).__name__)
                warnings.append(f"The hook {name!r} failed after the move ({type(e).__name__}: {e}).")

    def _roll_back(self, p: Plan, v: Verdict, o: Outcome, failed: Outcome) -> Outcome:
        """Move a PID of a failed all-or-nothing batch back to where it came from."""
        h, pid, back = p.hierarchy, o.pid, o.source
        assert pid is not None
        why = f"PID {failed.pid} {failed.outcome}: {failed.reason}"
        if back is None:
            return replace(o, reason=f"{o.reason} Moving it back failed: its old cgroup is unknown, so it "
                           f"stays in {p.target} although the all-or-nothing batch failed ({why}).",
                           advice="Move it back by hand.")
        fname = membership_file(h.version, p.threads)
        is_thread = v.task is not None and v.task.pid != v.task.tgid
        try:
            with self.backend.open_task(pid, thread=is_thread) as handle:  # the same reuse guard
                if handle.start_time() != o.start_time or not handle.alive():
                    return replace(o, outcome="vanished", reason=(
                        f"PID {pid} was moved to {p.target} and exited before it could be moved back to "
                        f"{back} (the all-or-nothing batch failed: {why})."), advice="")
                self.backend.write_pid(h.name, back, fname, str(pid).encode())
        except OSError as e:
            if e.errno == _errno.ESRCH:
                return replace(o, outcome="vanished", reason=(
                    f"PID {pid} was moved to {p.target} and exited before it could be moved back to "
                    f"{back} (the all-or-nothing batch failed: {why})."), advice="")
            name = errno_name(e.errno or 0)
            sentence, _ = explain(name, pid=pid, cgroup=CgroupRef(h.name, back), file=fname)
            return replace(o, reason=f"{o.reason} Moving it back to {back} FAILED ({name}: {sentence}); it "
                           f"stays in {p.target} although the all-or-nothing batch failed ({why}).",
                           advice=f"Move PID {pid} back to {h.name}:{back} by hand.")
        where = (self.backend.task_cgroups(pid) or {}).get(h.name)
        if where is not None and where != back:
            return replace(o, reason=f"{o.reason} Moving it back to {back} was accepted but it is in {where}; "
                           f"the all-or-nothing batch failed ({why}).", advice="Check the task by hand.")
        self._tell_hooks(v.task, CgroupRef(h.name, p.target.path), CgroupRef(h.name, back), [])
        return replace(o, outcome="rolled-back", reason=(
            f"PID {pid} was moved to {p.target}, then moved back to {back} because the all-or-nothing "
            f"batch failed ({why})."), advice="Fix the failing PID, then try again.")

    # ------------------------------------------------------------------ journal

    def _record(self, report: Report, plans: Sequence[Plan]) -> Report:
        when = _now()
        rows = [{
            "time": when, "batch": report.batch_id, "pid": o.pid, "start_time": o.start_time,
            "hierarchy": p.hierarchy.name, "from": o.source, "to": o.target, "outcome": o.outcome,
            "errno": o.errno, "threads": p.threads, "undo_of": report.undo_of,
        } for p, o in zip(plans, report.outcomes)]
        try:
            self.journal.append(rows)
        except OSError as e:
            msg = (f"the journal {self.journal.path} could not be written ({e.strerror or e}); this batch "
                   "cannot be undone with ctrtui undo")
            self.warnings.append(msg)
            return replace(report, warnings=report.warnings + (msg,))
        if self.journal.warnings:
            report = replace(report, warnings=report.warnings + tuple(self.journal.warnings))
        return report

    # ------------------------------------------------------------------ undo

    def undo(self) -> Report | None:
        """Move the journal's last batch back (hooks and the PID-reuse guard apply); None
        when there is nothing to undo. A task that exited or was recycled is reported."""
        found = self.journal.last_undoable()
        if found is None:
            return None
        batch_id, rows = found
        groups: dict[tuple[str, str, bool], list[dict]] = {}
        for r in rows:
            if r["outcome"] == "moved" and r["from"] is not None and r["pid"] is not None:
                groups.setdefault((r["hierarchy"], r["from"], bool(r.get("threads"))), []).append(r)
        plans = []
        for (hier, back, threads), group in groups.items():
            expected = {int(r["pid"]): int(r["start_time"]) for r in group if r.get("start_time") is not None}
            plan = self.plan([int(r["pid"]) for r in group], CgroupRef(hier, back), threads, expected)
            verdicts = []
            for v, r in zip(plan.verdicts, group):
                if v.kind == "move" and v.source is not None and v.source != r["to"]:
                    v = replace(v, warnings=v.warnings + (
                        f"PID {v.pid} is no longer where batch {batch_id} put it ({r['to']}) but in "
                        f"{v.source}; it is moved back to {back} anyway.",))
                verdicts.append(v)
            plans.append(replace(plan, verdicts=tuple(verdicts)))
        if not plans:
            return None
        return self._run(plans, False, batch_id)
