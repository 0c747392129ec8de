"""The attach engine: plan -> validate (hooks) -> write -> verify -> record.

`plan()` parses every PID and asks every hook's `can_attach`, giving one `Verdict` per input
item. `apply()` writes each accepted PID the way the kernel wants it (a pidfd first, the start
time checked, one canonical decimal write), checks that the task is still alive and really sits
in the target, and tells every hook's `attach`. The journal is written ahead: the batch's intent
(every PID, its identity and source) is synced before the first write, its outcomes and close
record after the last (see journal.py); no journal, no move (`JournalError`). Nothing is dropped
or merged: one `Outcome` per input item, in order. `undo()` moves back, through the same engine,
what the newest undoable batch moved and is not undone yet.
"""

from __future__ import annotations

import errno as _errno
import os
import time

from ctrtui.engine.hooks import AlreadyThere, BuiltinHook, HookContext, HookWarning, Refusal, builtin_hooks
from ctrtui.engine.journal import Journal, JournalError
from ctrtui.engine.parse import PidParseError, parse_pid, read_pid_max
from ctrtui.engine.policy import Policy
from ctrtui.errors import CtrtuiError, errno_name, explain
from ctrtui.model import CgroupRef, CgroupState, Hierarchy, TaskInfo, find_hierarchy
from ctrtui.model.value import Value, set_field
from ctrtui.sources.base import membership_file
from ctrtui.text import display

TYPE_CHECKING = False  # typing is not imported at run time (~2 ms of every `ctrtui move`)
if TYPE_CHECKING:
    from typing import Any, Mapping, Sequence

__all__ = ["AttachEngine", "Outcome", "Plan", "Report", "Verdict", "load_entry_point_hooks"]

VERDICT_KINDS = ("move", "already-there", "refused")
OUTCOMES = ("moved", "already-there", "refused", "vanished", "not-moved", "rolled-back")
ENTRY_POINT_GROUP = "ctrtui.hooks"
_NOOP_ATTACH = BuiltinHook.attach


class Verdict(Value):
    """What the plan says of one input item. `kind`: move, already-there or refused; for a
    refusal `errno` (name, or None when the kernel would not refuse but ctrtui does), `hook`
    (who decided), `reason` and `advice` are for people. `source`: the task's cgroup in the
    target's hierarchy when planned. `identity`: what the backend's `task_probe` said
    identifies the task it read (on the real kernel: pidfd device, inode and start time), or
    None; `apply` compares it with the pidfd it opens instead of reading the start time again.
    Immutable; `.replace(**changes)` makes a changed copy."""

    __slots__ = ("text", "pid", "kind", "errno", "hook", "reason", "advice", "warnings", "start_time",
                 "source", "task", "identity")
    text: str
    pid: int | None
    kind: str
    errno: str | None
    hook: str | None
    reason: str
    advice: str
    warnings: tuple[str, ...]
    start_time: int | None
    source: str | None
    task: TaskInfo | None
    identity: tuple | None

    def __init__(self, text: str, pid: int | None, kind: str, errno: str | None = None, hook: str | None = None,
                 reason: str = "", advice: str = "", warnings: tuple[str, ...] = (), start_time: int | None = None,
                 source: str | None = None, task: TaskInfo | None = None, identity: tuple | None = None) -> None:
        set_field(self, "text", text)
        set_field(self, "pid", pid)
        set_field(self, "kind", kind)
        set_field(self, "errno", errno)
        set_field(self, "hook", hook)
        set_field(self, "reason", reason)
        set_field(self, "advice", advice)
        set_field(self, "warnings", warnings)
        set_field(self, "start_time", start_time)
        set_field(self, "source", source)
        set_field(self, "task", task)
        set_field(self, "identity", identity)


class Plan(Value):
    """One verdict per input item, same order, for moving into `target`. `created`:
    `time.time()` when planned."""

    __slots__ = ("target", "threads", "verdicts", "hierarchy", "created")
    target: CgroupRef
    threads: bool
    verdicts: tuple[Verdict, ...]
    hierarchy: Hierarchy
    created: float

    def __init__(self, target: CgroupRef, threads: bool, verdicts: tuple[Verdict, ...], hierarchy: Hierarchy,
                 created: float | None = None) -> None:
        set_field(self, "target", target)
        set_field(self, "threads", threads)
        set_field(self, "verdicts", verdicts)
        set_field(self, "hierarchy", hierarchy)
        set_field(self, "created", time.time() if created is None else created)

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


class Outcome(Value):
    """What happened to one input item. `outcome`: moved, already-there, refused (by a hook,
    or the kernel's errno: hook `kernel`), vanished, not-moved (the write succeeded but
    nothing moved) or rolled-back (moved, then moved back by a failed all-or-nothing batch).
    `target`: the target cgroup path (in the report's hierarchy)."""

    __slots__ = ("text", "pid", "outcome", "errno", "hook", "reason", "advice", "warnings", "source",
                 "target", "start_time")
    text: str
    pid: int | None
    outcome: str
    errno: str | None
    hook: str | None
    reason: str
    advice: str
    warnings: tuple[str, ...]
    source: str | None
    target: str | None
    start_time: int | None

    def __init__(self, text: str, pid: int | None, outcome: str, errno: str | None = None,
                 hook: str | None = None, reason: str = "", advice: str = "", warnings: tuple[str, ...] = (),
                 source: str | None = None, target: str | None = None, start_time: int | None = None) -> None:
        set_field(self, "text", text)
        set_field(self, "pid", pid)
        set_field(self, "outcome", outcome)
        set_field(self, "errno", errno)
        set_field(self, "hook", hook)
        set_field(self, "reason", reason)
        set_field(self, "advice", advice)
        set_field(self, "warnings", warnings)
        set_field(self, "source", source)
        set_field(self, "target", target)
        set_field(self, "start_time", start_time)


class Report(Value):
    """The outcome of one applied batch, one `Outcome` per verdict in order. `warnings`:
    problems of the batch as a whole (an interrupted batch recovered, outcomes that could not
    be recorded). `journaled`: the batch's intent was written and synced to a journal file
    before anything moved (False: `--no-journal`, or a journal kept in memory).
    `interrupted`: the signal (e.g. "SIGINT") that stopped the batch between two PIDs."""

    __slots__ = ("batch_id", "target", "threads", "outcomes", "rolled_back", "undo_of", "warnings", "journaled",
                 "interrupted")
    _defaults = {"rolled_back": False, "undo_of": None, "warnings": (), "journaled": False, "interrupted": None}
    batch_id: str
    target: CgroupRef
    threads: bool
    outcomes: tuple[Outcome, ...]
    rolled_back: bool
    undo_of: str | None
    warnings: tuple[str, ...]
    journaled: bool
    interrupted: str | None

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
    if not _group_may_be_declared(ENTRY_POINT_GROUP):
        return []
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


def _group_may_be_declared(group: str) -> bool:
    """False only when no installed distribution can declare an entry point in `group`.

    `importlib.metadata` costs ~35 ms a start here (its import, ~17 ms, and parsing every
    distribution's metadata), and almost always finds nothing. This looks the way it does --
    every `*.dist-info`/`*.egg-info` directory on `sys.path` -- but only for a `[group]`
    section with an entry in `entry_points.txt`. Anything it cannot look into the same way (a
    zip on sys.path, a meta path finder with its own `find_distributions`) answers True, and
    then `importlib.metadata` decides."""
    import sys
    from importlib.machinery import PathFinder

    if any(hasattr(f, "find_distributions") and f is not PathFinder for f in sys.meta_path):
        return True
    header = f"[{group}]"
    for entry in sys.path:
        root = entry or "."
        try:
            with os.scandir(root) as it:
                names = [e.name for e in it if e.name.endswith((".dist-info", ".egg-info"))]
        except NotADirectoryError:
            return True  # a zip file: importlib.metadata looks inside
        except OSError:
            continue  # missing, unreadable, or a path hook's token
        for name in names:
            try:
                with open(os.path.join(root, name, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            if header in text and _section_has_entries(text, header):
                return True
    return False


def _section_has_entries(text: str, header: str) -> bool:
    lines = iter(text.splitlines())
    for line in lines:
        if line.strip() == header:
            for rest in lines:
                rest = rest.strip()
                if rest.startswith("["):
                    break
                if rest and not rest.startswith(("#", ";")):
                    return True
    return False


def _new_batch_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()


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
        self._stop: str | None = None  # set by request_stop (a signal handler): stop between two PIDs
        self._notes: list[str] = []  # what recovering open batches found, for the next report
        self.nothing_left = ""  # why the last undo() found nothing to undo
        # Optional fast paths of a backend (CgroupFS has them; others get the protocol's calls).
        self._probe = getattr(backend, "task_probe", None)
        self._task_cgroup = getattr(backend, "task_cgroup", None)

    # ------------------------------------------------------------------ helpers

    def request_stop(self, why: str) -> None:
        """Stop the running batch cleanly before its next PID (safe from a signal handler):
        the PIDs not yet written are reported not-moved, and the batch is closed as
        interrupted. `why`: what stopped it, e.g. "SIGINT"."""
        self._stop = why

    @property
    def pid_max(self) -> int:
        if self._pid_max is None:
            value = getattr(self.backend, "pid_max", None)
            self._pid_max = int(value) if value else read_pid_max()
        return self._pid_max

    def hierarchy(self, word: str) -> Hierarchy:
        """The hierarchy named `word` (its name or one of its controllers); CtrtuiError if none."""
        hiers = self.backend.hierarchies()
        h = find_hierarchy(hiers, word)
        if h is not None:
            return h
        known = ", ".join(h.name for h in hiers) or "none is mounted"
        raise CtrtuiError(f"unknown hierarchy '{word}'; known hierarchies: {known}")

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
        hooks = [(hook, getattr(hook, "name", type(hook).__name__)) for hook in self.hooks]
        verdicts = []
        first_seen: dict[int, int] = {}
        for i, item in enumerate(pids):
            text = item if isinstance(item, str) else str(item)
            try:
                pid = parse_pid(item, self.pid_max)
            except PidParseError as e:
                verdicts.append(Verdict(text, None, "refused", e.errno, "parse", e.reason, e.advice))
                continue
            v = self._judge(pid, text, h, target, target_state, threads, writer, state, expected_start, hooks)
            if pid in first_seen:
                v = v.replace(warnings=v.warnings + (
                    f"PID {pid} is listed more than once (first as item {first_seen[pid] + 1}); it is "
                    "handled once, this item reports the same result.",))
            else:
                first_seen[pid] = i
            verdicts.append(v)
        return Plan(target, bool(threads), tuple(verdicts), h)

    def _facts(self, pid: int, h: Hierarchy) -> tuple[TaskInfo | None, str | None, tuple | None]:
        """(facts, cgroup in `h`, identity) of one task; (None, None, None) when it does not
        exist. One `task_probe` where the backend has it (the real kernel: three /proc reads
        under a pidfd), else `task_state` + `task_cgroups`."""
        if self._probe is not None:
            got = self._probe(pid, h.name)
            return got if got is not None else (None, None, None)
        info = self.backend.task_state(pid)
        if info is None:
            return None, None, None
        return info, self._where(h, pid), None

    def _where(self, h: Hierarchy, pid: int) -> str | None:
        """The task's cgroup in `h` now; None when it is gone."""
        if self._task_cgroup is not None:
            return self._task_cgroup(pid, h.name)
        return (self.backend.task_cgroups(pid) or {}).get(h.name)

    def _judge(self, pid: int, text: str, h: Hierarchy, target: CgroupRef, target_state: CgroupState | None,
               threads: bool, writer: Any, state: Any, expected_start: Mapping[int, int] | None,
               hooks: Sequence[tuple[Any, str]]) -> Verdict:
        backend = self.backend
        given, given_source, identity = self._facts(pid, h)
        start = given.start_time if given else None
        expected = expected_start.get(pid) if expected_start else None
        if expected is not None and given is not None and given.start_time != expected:
            return Verdict(text, pid, "refused", "ESRCH", "pid-reuse",
                           f"PID {pid} was recycled: it is now a different task ({given.comm}, started at "
                           f"tick {given.start_time}, not {expected}); it was not moved to {target}.",
                           "Refresh the list; the task you picked has exited.", start_time=expected, task=given)
        if expected is not None:
            start = expected
        judged, source = given, given_source
        if given is not None and not threads and given.is_thread:
            leader, leader_source, _ = self._facts(given.tgid, h)
            if leader is not None:
                judged, source = leader, leader_source
        members: dict[int, str] = {}
        if judged is not None:
            if threads or judged.threads == 1:
                # one thread: itself (a process that starts threads later starts them in
                # its own cgroup, and a write moves the threads it has then)
                if source is not None:
                    members[judged.pid] = source
            else:
                for tid in backend.thread_ids(judged.tgid) or (judged.pid,):
                    where = source if tid == judged.pid else self._where(h, tid)
                    if where is not None:
                        members[tid] = where
        ctx = HookContext(backend, h, target, target_state, pid, judged, given, source, bool(threads),
                          writer, members, state)
        warnings: list[str] = []
        if given is not None and not threads and given.is_thread:
            warnings.append(f"PID {pid} is a thread of process {given.tgid}; in process mode the whole "
                            "process moves.")
        for hook, name in hooks:
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
        return Verdict(text, pid, "move", None, None, reason, "", tuple(warnings), start, source, given, identity)

    # ------------------------------------------------------------------ apply

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        """Carry out a plan; with `all_or_nothing`, either every accepted PID moves or none
        stays moved."""
        return self._run([plan], all_or_nothing, None)

    def _run(self, plans: Sequence[Plan], all_or_nothing: bool, undo_of: str | None) -> Report:
        """Hold the journal, close any batch a dead process left open, write this batch's
        intent (synced) and only then move. `JournalError` (nothing moved) when the journal
        cannot be locked or written."""
        with self.journal.locked():
            self._recover_open()
            return self._run_locked(plans, all_or_nothing, undo_of)

    def _run_locked(self, plans: Sequence[Plan], all_or_nothing: bool, undo_of: str | None) -> Report:
        items = [(p, v) for p in plans for v in p.verdicts]
        batch_id = _new_batch_id()
        outcomes: list[Outcome | None] = [None] * len(items)
        first_refused = next((v for _, v in items if v.kind == "refused"), None)
        rolled_back = False
        done: dict[tuple[str, int], int] = {}
        self._write_intent(batch_id, plans, undo_of)  # before anything is written; JournalError: nothing moved
        if all_or_nothing and first_refused is not None:
            why = (f"Not moved: the batch is all-or-nothing and '{first_refused.text}' was refused "
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
            written: list[int] = []  # written and alive after the write: verified below
            repeats: list[tuple[int, int]] = []  # (item, the earlier item with the same PID)
            files = _Writers(self.backend)
            try:
                for i, (p, v) in enumerate(items):
                    key = (p.hierarchy.name, v.pid)
                    if v.kind != "move":
                        outcomes[i] = self._outcome(p, v, v.kind)
                    elif key in done:
                        repeats.append((i, done[key]))
                    elif failed is not None and all_or_nothing:
                        outcomes[i] = self._outcome(p, v, "not-moved", reason=(
                            f"Not tried: the batch is all-or-nothing and PID {failed.pid} already failed "
                            f"({failed.outcome}: {failed.reason})"), advice="Fix that PID, then try again.")
                    elif self._stop is not None:
                        outcomes[i] = self._outcome(p, v, "not-moved", errno=None, hook=None, reason=(
                            f"Not tried: ctrtui was interrupted ({self._stop}) before PID {v.pid} was written; "
                            f"it stays in {v.source or 'its cgroup'}."), advice=(
                            "Run the move again for the PIDs not moved, or `ctrtui undo` to move back those moved."))
                        if failed is None:
                            failed = outcomes[i]
                    else:
                        o = self._write_one(p, v, files)
                        if o is None and all_or_nothing:
                            o = self._verify([(p, v)])[0]  # now: a failure stops the batch
                        if o is None:
                            written.append(i)
                        else:
                            outcomes[i] = o
                            if o.outcome == "moved":
                                moved.append(i)
                            elif o.outcome != "already-there" and failed is None:
                                failed = o
                    if v.pid is not None and key not in done:
                        done[key] = i
            finally:
                files.close()
            for i, o in zip(written, self._verify([items[i] for i in written])):
                outcomes[i] = o
            for i, first in repeats:
                p, v = items[i]
                outcomes[i] = self._duplicate(p, v, outcomes[first], first)  # type: ignore[arg-type]
            if all_or_nothing and failed is not None and moved:
                rolled_back = True
                for i in reversed(moved):
                    p, v = items[i]
                    outcomes[i] = self._roll_back(p, v, outcomes[i], failed)
        finished = tuple(o for o in outcomes if o is not None)
        report = Report(batch_id, plans[0].target, plans[0].threads, finished, rolled_back, undo_of,
                        journaled=self.journal.durable, interrupted=self._stop)
        return self._record(report, [p for p, _ in items])

    @staticmethod
    def _outcome(p: Plan, v: Verdict, outcome: str, **change: Any) -> Outcome:
        fields = {"errno": v.errno, "hook": v.hook, "reason": v.reason, "advice": v.advice,
                  "warnings": v.warnings, "source": v.source}
        fields.update(change)
        return Outcome(v.text, v.pid, outcome, target=p.target.path, start_time=v.start_time, **fields)

    def _duplicate(self, p: Plan, v: Verdict, first: Outcome, index: int) -> Outcome:
        if first.outcome in ("moved", "already-there"):
            return self._outcome(p, v, "already-there", errno=None, hook=None, reason=(
                f"PID {v.pid} is already in {p.target}: item {index + 1} of this batch handled it."))
        return self._outcome(p, v, first.outcome, errno=first.errno, hook=first.hook, advice=first.advice,
                             reason=f"Same PID as item {index + 1} of this batch: {first.reason}")

    def _write_one(self, p: Plan, v: Verdict, files: "_Writers") -> Outcome | None:
        """Write one accepted PID under the PID-reuse guard. Returns the outcome when it is
        already known (refused, vanished, a zombie not moved), or None: written, and the task
        was still alive after the write (then `_verify` says whether it moved)."""
        got = self._hold(p, v)
        if isinstance(got, Outcome):
            return got
        handle, same, alive_before = got
        pid, target = v.pid, p.target
        fname = membership_file(p.hierarchy.version, p.threads)
        try:
            try:
                files.write(p.hierarchy.name, target.path, fname, str(pid).encode())
            except OSError as e:
                name = errno_name(e.errno or 0)
                sentence, advice = explain(name, pid=pid, cgroup=target, file=fname)
                return self._outcome(p, v, "refused", errno=name, hook="kernel", reason=sentence, advice=advice)
            # Not reaped after the write, so the PID written was still this task's.
            alive_after = not handle.exited() if same else handle.alive()
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
        return None

    def _hold(self, p: Plan, v: Verdict) -> Outcome | tuple[Any, bool, bool]:
        """A handle on the planned task, or the outcome when there is none (it exited, or
        the PID now names another task). Returns (handle, same, alive_before): `same` when
        the handle carries the plan's identity (the same pidfs inode, never given to another
        task), so its start time need not be read again."""
        pid, target = v.pid, p.target
        try:
            handle = self.backend.open_task(pid, thread=v.task is not None and v.task.is_thread)
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
            same = (v.identity is not None and v.identity[2] == v.start_time
                    and getattr(handle, "identity", None) is not None and handle.identity() == v.identity[:2])
            if same:
                return handle, True, not handle.exited()
            now = handle.start_time()
            if now is None:
                handle.close()
                return self._outcome(p, v, "vanished", errno="ESRCH", hook=None, advice="", reason=(
                    f"PID {pid} exited before it could be moved to {target}; nothing was written."))
            if v.start_time is not None and now != v.start_time:
                handle.close()
                return self._outcome(p, v, "refused", errno="ESRCH", hook="pid-reuse", reason=(
                    f"PID {pid} was recycled: it is now a different task (started at tick {now}, not "
                    f"{v.start_time}); it was not moved to {target}."),
                    advice="Refresh the list; the task you picked has exited.")
            return handle, False, handle.alive()
        except BaseException:
            handle.close()
            raise

    def _verify(self, written: Sequence[tuple[Plan, Verdict]]) -> list[Outcome]:
        """Is each written task really in its target? For many PIDs into one target, one
        read of the target's thread list answers for all (a PID's own /proc/PID/cgroup is
        read only when it is not there); for a few, each task's /proc/PID/cgroup is read."""
        count: dict[int, int] = {}
        for p, _ in written:
            count[id(p)] = count.get(id(p), 0) + 1
        members: dict[int, set[int] | None] = {}
        out = []
        for p, v in written:
            if id(p) not in members:
                members[id(p)] = self._target_members(p) if count[id(p)] >= self.verify_batch else None
            out.append(self._verify_one(p, v, members[id(p)]))
        return out

    verify_batch = 32
    """From this many written PIDs of one plan on, `_verify` reads the target's thread list
    once instead of each task's /proc/PID/cgroup (that list costs in proportion to the
    target's size, a PID's own file does not)."""

    def _target_members(self, p: Plan) -> set[int] | None:
        """TIDs in the target now (v1 `tasks`, v2 `cgroup.threads`); None if unreadable."""
        h = p.hierarchy
        try:
            f = self.backend.open_membership(h.name, p.target.path, membership_file(h.version, True), write=False)
            try:
                data = f.read()
            finally:
                f.close()
        except OSError:
            return None
        return set(map(int, data.split()))

    def _verify_one(self, p: Plan, v: Verdict, members: set[int] | None) -> Outcome:
        """Thread mode checks the thread; process mode checks the leader and reports any
        thread of the group left behind as a warning. `members`: the target's TIDs, if read."""
        h, target, pid = p.hierarchy, p.target, v.pid
        assert pid is not None
        leader = pid if p.threads or v.task is None else v.task.tgid
        if members is not None and leader in members:
            where: str | None = target.path
        else:
            where = self._where(h, leader)
        if where != target.path:
            now = self.backend.task_state(pid)
            if now is None or now.zombie or (v.start_time is not None and now.start_time != v.start_time):
                return self._outcome(p, v, "vanished", errno=None, hook=None, advice="", reason=(
                    f"PID {pid} exited while it was being moved to {target}."))
            return self._outcome(p, v, "not-moved", errno=None, hook="kernel", reason=(
                f"The kernel accepted PID {pid} for {target}, but it is still in {where or '(gone)'} "
                "(it was probably exiting)."), advice="Refresh and check the task.")
        warnings = list(v.warnings)
        if not p.threads and (v.task is None or v.task.threads != 1):
            behind = []
            for tid in self.backend.thread_ids(leader):
                if members is not None and tid in members:
                    continue
                there = self._where(h, tid)
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
            if type(hook).attach is _NOOP_ATTACH:
                continue  # a built-in hook: nothing to tell
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
            return o.replace(reason=f"{o.reason} Moving it back failed: its old cgroup is unknown, so it "
                           f"stays in {p.target} although the all-or-nothing batch failed ({why}).",
                           advice="Move it back by hand.")
        fname = membership_file(h.version, p.threads)
        gone = o.replace(outcome="vanished", advice="", reason=(
            f"PID {pid} was moved to {p.target} and exited before it could be moved back to "
            f"{back} (the all-or-nothing batch failed: {why})."))
        try:
            # the same PID-reuse guard as the move
            with self.backend.open_task(pid, thread=v.task is not None and v.task.is_thread) as handle:
                if handle.start_time() != o.start_time or not handle.alive():
                    return gone
                self.backend.write_pid(h.name, back, fname, str(pid).encode())
        except OSError as e:
            if e.errno == _errno.ESRCH:
                return gone
            name = errno_name(e.errno or 0)
            sentence, _ = explain(name, pid=pid, cgroup=CgroupRef(h.name, back), file=fname)
            return o.replace(reason=f"{o.reason} Moving it back to {back} FAILED ({name}: {sentence}); it "
                           f"stays in {p.target} although the all-or-nothing batch failed ({why}).",
                           advice=f"Move PID {pid} back to {h.name}:{back} by hand.")
        where = self._where(h, pid)
        if where is not None and where != back:
            return o.replace(reason=f"{o.reason} Moving it back to {back} was accepted but it is in {where}; "
                           f"the all-or-nothing batch failed ({why}).", advice="Check the task by hand.")
        self._tell_hooks(v.task, CgroupRef(h.name, p.target.path), CgroupRef(h.name, back), [])
        return o.replace(outcome="rolled-back", reason=(
            f"PID {pid} was moved to {p.target}, then moved back to {back} because the all-or-nothing "
            f"batch failed ({why})."), advice="Fix the failing PID, then try again.")

    # ------------------------------------------------------------------ journal

    def _write_intent(self, batch_id: str, plans: Sequence[Plan], undo_of: str | None) -> None:
        """The write-ahead record: every PID about to be written, with its identity (start
        time, pidfs device and inode when the plan had them) and its source."""
        tasks = []
        for p in plans:
            for v in p.verdicts:
                if v.kind == "move" and v.pid is not None:
                    ident = v.identity
                    pidfs = [int(ident[0]), int(ident[1])] if ident and len(ident) >= 2 and all(
                        isinstance(x, int) for x in ident[:2]) else None
                    tasks.append({"pid": v.pid, "start_time": v.start_time, "pidfs": pidfs, "from": v.source,
                                  "to": p.target.path})
        p0 = plans[0]
        self.journal.write_intent(batch_id, p0.hierarchy.name, p0.threads, undo_of, p0.target.path, tasks)

    def _record(self, report: Report, plans: Sequence[Plan]) -> Report:
        """Outcomes and the close record, one write and one fsync. If that fails the batch
        stays open in the journal, and the next writer recovers it from /proc."""
        rows = [{
            "pid": o.pid, "start_time": o.start_time, "from": o.source, "to": o.target, "outcome": o.outcome,
            "errno": o.errno, **({"input": o.text} if o.pid is None else {}),
        } for p, o in zip(plans, report.outcomes)]
        warnings = list(self._notes)
        self._notes.clear()
        try:
            self.journal.write_close(report.batch_id, rows, "interrupted" if report.interrupted else "done")
        except JournalError as e:
            why = f"{errno_name(e.errno)}: {os.strerror(e.errno)}" if e.errno else "error"
            warnings.append(f"the outcomes of batch {report.batch_id} could not be written to {e.path} ({why}); "
                            "its intent is there, so `ctrtui undo` finds the moved tasks through /proc")
        else:
            self.journal.maybe_rotate()
        warnings.extend(self.journal.warnings)  # what reading it forgave (a torn line): told once
        self.journal.warnings.clear()
        if warnings:
            report = report.replace(warnings=report.warnings + tuple(dict.fromkeys(warnings)))
        return report

    def _same_pidfs(self, pid: int, thread: bool, pidfs: Sequence[int]) -> bool:
        """False only when a pidfd on `pid` now has another pidfs inode than the one recorded
        (another task); True when it matches or cannot be told (no pidfd, no pidfs)."""
        try:
            with self.backend.open_task(pid, thread=thread) as handle:
                ident = getattr(handle, "identity", None)
                got = ident() if ident is not None else None
        except OSError:
            return True  # e.g. a thread's TID in process mode: the start time decided
        return got is None or tuple(got) == tuple(pidfs)

    def _recover_open(self) -> None:
        """Close every batch a dead process left open (no close record): read from /proc
        which of its tasks sit in their `to` and are the same task (start time), record those
        as moved (state `recovered`), so that undo moves exactly those back."""
        for b in self.journal.open_batches():
            rows = []
            try:
                h: Hierarchy | None = self.hierarchy(b.hierarchy)
            except CtrtuiError:
                h = None
            there = 0
            for t in b.tasks:
                pid, start = t["pid"], t["start_time"]
                state = self.backend.task_state(pid) if h is not None else None
                same = state is not None and not state.zombie and (start is None or state.start_time == start)
                if same and t["pidfs"] is not None:
                    same = self._same_pidfs(pid, b.threads, t["pidfs"])
                where = self._where(h, pid) if same and h is not None else None
                moved = same and where == t["to"]
                there += moved
                rows.append({"pid": pid, "start_time": start, "from": t["from"], "to": t["to"],
                             "outcome": "moved" if moved else "not-moved", "errno": None})
            self.journal.write_close(b.id, rows, "recovered")
            what = f"an undo of batch {b.undo_of}" if b.undo_of else f"moving to {display(b.hierarchy)}:{display(b.target)}"
            self._notes.append(
                f"batch {b.id} ({what}) was interrupted before its end (no close record): {there} of its "
                f"{len(b.tasks)} tasks are where it put them" + (
                    f"; `ctrtui undo {b.id}` moves them back" if there and not b.undo_of else ""))

    # ------------------------------------------------------------------ undo

    def undo(self, batch: str | None = None) -> Report | None:
        """Move back what the newest undoable batch (or the batch named `batch`) moved and
        is not undone yet, through the same guard and hooks; None when there is nothing
        left to undo (then `nothing_left` says why). The undo is itself a batch naming the
        one it undoes; a PID counts as undone only once it really went back, so a refused
        undo can be retried. A task that exited or was recycled is reported (and settled)."""
        self.nothing_left = ""
        with self.journal.locked():
            self._recover_open()
            found = self.journal.find_undoable(batch)
            if found is None:
                where = display(self.journal.path or "(memory)")
                self.nothing_left = (f"batch {batch} has nothing left to undo" if batch else
                                     f"the journal {where} has no batch left to undo")
                if self._notes:
                    self.warnings.extend(self._notes)
                    self._notes.clear()
                return None
            try:
                self.hierarchy(found.hierarchy)
            except CtrtuiError:
                raise CtrtuiError(f"batch {found.id} of the journal {display(self.journal.path or '(memory)')} moved tasks in "
                                  f"the hierarchy '{display(found.hierarchy)}', which is not mounted now; mount it, or "
                                  "undo another batch (`ctrtui log` lists them)") from None
            groups: dict[str, list[dict]] = {}
            for r in found.remaining():
                if r["from"] is not None:
                    groups.setdefault(r["from"], []).append(r)
            plans = []
            for back, group in groups.items():
                expected = {r["pid"]: r["start_time"] for r in group if r["start_time"] is not None}
                plan = self.plan([r["pid"] for r in group], CgroupRef(found.hierarchy, back), found.threads, expected)
                verdicts = []
                for v, r in zip(plan.verdicts, group):
                    if v.kind == "move" and v.source is not None and v.source != r["to"]:
                        v = v.replace(warnings=v.warnings + (
                            f"PID {v.pid} is no longer where batch {found.id} put it ({display(r['to'])}) but in "
                            f"{display(v.source)}; it is moved back to {display(back)} anyway.",))
                    verdicts.append(v)
                plans.append(plan.replace(verdicts=tuple(verdicts)))
            if not plans:
                self.nothing_left = f"batch {found.id} has no task whose cgroup before the move is known"
                return None
            return self._run(plans, False, found.id)


class _Writers:
    """The membership files of one batch, each opened once: the kernel judges permission at
    open, and every write() of one PID is one attach, so 1,000 PIDs cost 1,000 writes instead
    of 1,000 opens, writes and closes (a third of the time on this project's machine). A file
    that cannot be opened is not cached: each PID then goes through `write_pid`, which opens
    it again and raises the kernel's errno for that PID."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._files: dict[tuple[str, str, str], Any] = {}

    def write(self, hierarchy: str, path: str, filename: str, data: bytes) -> int:
        key = (hierarchy, path, filename)
        f = self._files.get(key)
        if f is None:
            try:
                f = self._files[key] = self.backend.open_membership(hierarchy, path, filename)
            except OSError:
                return self.backend.write_pid(hierarchy, path, filename, data)
        return f.write(data)

    def close(self) -> None:
        files, self._files = self._files, {}
        for f in files.values():
            try:
                f.close()
            except OSError:
                pass
