"""The attach engine: plan -> validate (hooks) -> write -> verify -> record.

`plan()` parses every PID, reads each task's facts once (on the real kernel under a pidfd,
which it keeps for `apply`), and lets each hook judge the whole batch (`ctrtui.engine.hooks`),
giving one `Verdict` per input item. `apply()` writes each accepted PID the way the kernel
wants it (under the task's pidfd, one canonical decimal write), checks that the task was not
reaped before the write and had not exited after it, that it really sits in the target, and
tells every hook's `attach`. The journal is written ahead: the batch's intent (every PID, its
identity and source) is synced before the first write, its outcomes and close record after the
last (see journal.py); no journal, no move (`JournalError`). Nothing is dropped or merged: one
`Outcome` per input item, in order. `undo()` moves back, through the same engine, what the
newest undoable batch moved and is not undone yet.
"""

from __future__ import annotations

import errno as _errno
import os
import time
from typing import Literal, get_args  # hooks.py imports typing anyway

from ctrtui.engine.hooks import (
    AlreadyThere,
    BuiltinHook,
    HookBatch,
    HookContext,
    HookWarning,
    Refusal,
    builtin_hooks,
    judge_of,
)
from ctrtui.engine.journal import Batch, Journal, JournalError, JournalMismatch, JournalNotOwned
from ctrtui.engine.parse import PidParseError, parse_pid
from ctrtui.engine.policy import Policy
from ctrtui.errors import CtrtuiError, errno_name, explain, look_again
from ctrtui.model import CgroupRef, Hierarchy, TaskInfo, find_hierarchy, parent_path
from ctrtui.model.value import Value, set_field
from ctrtui.sources.base import exit_poller, membership_file, prober
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from ctrtui.engine.journal import Record

    Identity = tuple[object, ...]
    """What identifies the task a probe read (on the real kernel: pidfs device, inode, start time)."""
    Facts = tuple[TaskInfo | None, str | None, Identity | None]
    """(a task's facts, its cgroup in the plan's hierarchy, its identity); all None: no such task."""

__all__ = ["AttachEngine", "OUTCOMES", "Outcome", "OutcomeKind", "Plan", "Report", "VERDICT_KINDS", "Verdict",
           "VerdictKind", "load_entry_point_hooks"]

VerdictKind = Literal["move", "already-there", "refused", "vanished"]
"""What the plan says of one input item: it would `move`; it is `already-there` (nothing to
do); it is `refused` (a hook, the parser or the policy says no; `errno` says why); it
`vanished` (the task is gone: it does not exist, has exited, or its PID now names another
task; errno ESRCH)."""

OutcomeKind = Literal["moved", "already-there", "refused", "vanished", "not-moved", "rolled-back"]
"""What happened to one input item: `moved` (verified in the target); `already-there`;
`refused` (by the plan, or the kernel's errno: hook `kernel`); `vanished` (the task was gone
when the plan or the write looked, or exited during the move; errno ESRCH); `not-moved` (the
kernel accepted the write and the task is still elsewhere, or an all-or-nothing batch did not
try it); `rolled-back` (moved, then moved back by a failed all-or-nothing batch)."""

VERDICT_KINDS: tuple[VerdictKind, ...] = get_args(VerdictKind)
OUTCOMES: tuple[OutcomeKind, ...] = get_args(OutcomeKind)
_ARRIVED = ("moved", "already-there")
_MEMBERSHIP = {(version, threads): membership_file(version, threads) for version in (1, 2) for threads in (False, True)}
ENTRY_POINT_GROUP = "ctrtui.hooks"
_NOOP_ATTACH = BuiltinHook.attach


class Verdict(Value):
    """What the plan says of one input item. `kind`: a `VerdictKind`; for a
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
    kind: VerdictKind
    errno: str | None
    hook: str | None
    reason: str
    advice: str
    warnings: tuple[str, ...]
    start_time: int | None
    source: str | None
    task: TaskInfo | None
    identity: Identity | None

    def __init__(self, text: str, pid: int | None, kind: VerdictKind, errno: str | None = None, hook: str | None = None,
                 reason: str = "", advice: str = "", warnings: tuple[str, ...] = (), start_time: int | None = None,
                 source: str | None = None, task: TaskInfo | None = None, identity: Identity | None = None) -> None:
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
        """Every item would end in the target (no verdict is refused or vanished)."""
        return all(v.kind == "move" or v.kind == "already-there" for v in self.verdicts)

    def summary(self) -> dict[VerdictKind, int]:
        counts = dict.fromkeys(VERDICT_KINDS, 0)
        for v in self.verdicts:
            counts[v.kind] += 1
        return counts


class Outcome(Value):
    """What happened to one input item. `outcome`: an `OutcomeKind` (moved, already-there,
    refused, vanished, not-moved, rolled-back; see there). `target`: the target cgroup path (in the
    report's hierarchy)."""

    __slots__ = ("text", "pid", "outcome", "errno", "hook", "reason", "advice", "warnings", "source",
                 "target", "start_time")
    text: str
    pid: int | None
    outcome: OutcomeKind
    errno: str | None
    hook: str | None
    reason: str
    advice: str
    warnings: tuple[str, ...]
    source: str | None
    target: str | None
    start_time: int | None

    def __init__(self, text: str, pid: int | None, outcome: OutcomeKind, errno: str | None = None,
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
    batch_id: str
    target: CgroupRef
    threads: bool
    outcomes: tuple[Outcome, ...]
    rolled_back: bool
    undo_of: str | None
    warnings: tuple[str, ...]
    journaled: bool
    interrupted: str | None

    def __init__(self, batch_id: str, target: CgroupRef, threads: bool, outcomes: tuple[Outcome, ...],
                 rolled_back: bool = False, undo_of: str | None = None, warnings: tuple[str, ...] = (),
                 journaled: bool = False, interrupted: str | None = None) -> None:
        set_field(self, "batch_id", batch_id)
        set_field(self, "target", target)
        set_field(self, "threads", threads)
        set_field(self, "outcomes", outcomes)
        set_field(self, "rolled_back", rolled_back)
        set_field(self, "undo_of", undo_of)
        set_field(self, "warnings", warnings)
        set_field(self, "journaled", journaled)
        set_field(self, "interrupted", interrupted)

    def counts(self) -> dict[OutcomeKind, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for o in self.outcomes:
            counts[o.outcome] += 1
        return counts

    @property
    def ok(self) -> bool:
        """Every PID ended in the target."""
        return all(o.outcome in _ARRIVED for o in self.outcomes)


def load_entry_point_hooks(warnings: list[str]) -> list[Any]:
    """Hooks from the `ctrtui.hooks` entry-point group: each names a hook object, a hook
    class, or a factory returning a hook (batch `judge` or per-PID `can_attach`, see
    `ctrtui.engine.hooks`). A plugin that fails is reported in `warnings`."""
    if not _group_may_be_declared(ENTRY_POINT_GROUP):
        return []
    import sys
    from importlib.metadata import entry_points

    if sys.version_info >= (3, 10):
        eps = entry_points(group=ENTRY_POINT_GROUP)
    else:  # Python 3.9 (the agent on an older host, docs/remote.md): no `group=`, a dict of groups
        eps = entry_points().get(ENTRY_POINT_GROUP, [])
    hooks = []
    for ep in eps:
        try:
            obj = ep.load()
            if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "can_attach")
                                          and not hasattr(obj, "judge")):
                obj = obj()
            asks = callable(getattr(obj, "judge", None)) or callable(getattr(obj, "can_attach", None))
            if not (asks and callable(getattr(obj, "attach", None))):
                raise TypeError("it is not a hook (a hook has name, judge(batch) or can_attach(ctx), and "
                                "attach(task, old, new))")
            if not getattr(obj, "name", None):
                obj.name = ep.name
            hooks.append(obj)
        except Exception as e:  # noqa: BLE001 - a broken plugin must not stop ctrtui
            warnings.append(f"hook plugin {ep.name!r} ({ep.value}) was not loaded: {type(e).__name__}: {e}")
    return hooks


def _group_may_be_declared(group: str) -> bool:
    """False only when no installed distribution can declare an entry point in `group`.

    `importlib.metadata.entry_points(group=...)` adds ~18 ms to a start here against this scan
    (its import and parsing every distribution's metadata; `python -m benchmarks.stdlib`,
    benchmarks/RESULTS.md: more than the 5 ms issue 9 allows a standard piece), and almost
    always finds nothing. This looks the way it does --
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


class _Same:
    """`_outcome`'s default for a field that may also be given as None: the verdict's own."""


_SAME = _Same()


def _decided(o: Outcome | None) -> Outcome:
    """An outcome the batch has decided (its slot is filled by then)."""
    assert o is not None
    return o


def _new_batch_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()


class AttachEngine:
    """Every move goes through here (UI, CLI and undo alike).

    `hooks=None` uses the built-in hooks, the policy hook and the `ctrtui.hooks` entry-point
    hooks; an explicit list is used as given (`hooks=[]` leaves every decision to the kernel),
    plus the policy hook when a non-empty `policy` is passed too. `policy=None` with default hooks reads
    the policy file at its default path, if there is one. `journal=None` keeps the journal in
    memory. Problems of plugins are in `warnings`. `front` (`cli`, or `ui` set by the terminal
    UI) picks the words of advice where the front ends differ (`ctrtui.errors.look_again`).
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
        self.skipped: list[str] = []  # the batches the last bare undo skipped (they cannot be undone), and why
        self.front = "cli"  # whose words advice takes: "cli" or "ui" (the terminal UI sets it)
        # Optional fast paths a backend declares (CgroupFS has them; others get the contract's calls).
        probe = prober(backend)
        self._probe = probe.task_probe if probe is not None else None
        self._probes = probe.task_probes if probe is not None else None
        self._exits = exit_poller(backend)
        self._held: dict[tuple[int, int | None], Any] = {}  # (pid, start time) -> pidfd kept by plan()
        self._nofile: int | None = None
        self._thread_guards: dict[int, str] = {}  # TID -> how apply held it (`guard: ...` in the report)

    # ------------------------------------------------------------------ helpers

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

    # ------------------------------------------------------------------ plan

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None) -> Plan:
        """One verdict per item of `pids` (ints or text as typed) for moving into `target`.
        `expected_start` (pid -> start time, e.g. from the snapshot the user looked at)
        reports a PID whose task has been replaced since as vanished (hook `pid-reuse`).

        The facts of every distinct PID are read once, then each hook judges the batch of
        PIDs still undecided, in the hooks' order (see `ctrtui.engine.hooks`)."""
        h = self.hierarchy(target.hierarchy)
        target = CgroupRef(h.name, target.path)
        backend = self.backend
        threads = bool(threads)
        batch = HookBatch(backend, h, target, backend.cgroup_state(h.name, target.path), threads,
                          backend.writer())
        batch.front = self.front
        pid_max = self.pid_max
        items: list[tuple[str, int | None, PidParseError | None]] = []  # (text, pid, parse error)
        pid: int | None
        first: dict[int, int] = {}  # pid -> index of its first item
        for i, item in enumerate(pids):
            text = item if isinstance(item, str) else str(item)
            try:
                pid = parse_pid(item, pid_max)
            except PidParseError as e:
                items.append((text, None, e))
                continue
            items.append((text, pid, None))
            if pid not in first:
                first[pid] = i
        facts = self._facts_of(list(first), h)
        judged = self._judge_batch(batch, first, items, facts, expected_start)
        verdicts = []
        for i, (text, pid, err) in enumerate(items):
            if pid is None:
                assert err is not None  # no PID: the parser said why
                verdicts.append(Verdict(text, None, "refused", err.errno, "parse", err.reason, err.advice))
                continue
            v = judged[pid]
            if first[pid] != i:
                v = v.replace(text=text, warnings=v.warnings + (
                    f"PID {pid} is listed more than once (first as item {first[pid] + 1}); it is "
                    "handled once, this item reports the same result.",))
            elif v.text != text:
                v = v.replace(text=text)
            verdicts.append(v)
        self._release_unused(judged)
        return Plan(target, threads, tuple(verdicts), h)

    def _facts_of(self, pids: list[int], h: Hierarchy) -> dict[int, Facts]:
        """pid -> (facts, cgroup in `h`, identity) for each PID, read once; a task that does
        not exist has (None, None, None). Where the backend reads a batch itself
        (`task_probes`: the real kernel, each task under a pidfd, one check for all), the
        pidfds are kept (`_held`, up to `hold_max`) so that apply writes under the very
        handle the facts were read with; else one `_facts` per PID."""
        many = self._probes
        if many is None:
            return {pid: self._facts(pid, h) for pid in pids}
        keep = len(pids) <= self._hold_room()
        out: dict[int, Facts] = {}
        held = self._held
        for pid, got in many(pids, h.name, keep=keep).items():
            if got is None:
                out[pid] = (None, None, None)
                continue
            info, where, ident, handle = got
            out[pid] = (info, where, ident)
            if handle is not None:
                old = held.pop((pid, info.start_time), None)
                if old is not None:
                    old.close()
                held[(pid, info.start_time)] = handle
        return out

    hold_max = 4096
    """At most this many pidfds are kept between plan and apply (and never more than a
    quarter of the open-file limit); a bigger plan reads its facts the same way and opens
    each task's pidfd again when it writes."""

    def _hold_room(self) -> int:
        if self._nofile is None:
            try:
                import resource

                soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
                self._nofile = soft // 4 if soft > 0 else 256
            except (ImportError, OSError, ValueError):
                self._nofile = 256
        return max(0, min(self.hold_max, self._nofile) - len(self._held))

    def release(self) -> None:
        """Close every pidfd still kept from plans that were not applied (a plan stays
        valid: apply then opens each task's pidfd again)."""
        held, self._held = self._held, {}
        for handle in held.values():
            handle.close()

    def _facts(self, pid: int, h: Hierarchy) -> Facts:
        """(facts, cgroup in `h`, identity) of one task; (None, None, None) when it does not
        exist. One `task_probe` where the backend has it (the real kernel: three /proc reads
        under a pidfd), else `task_state` + `task_cgroups`."""
        if self._probe is not None:
            got: Facts | None = self._probe(pid, h.name)
            return got if got is not None else (None, None, None)
        info: TaskInfo | None = self.backend.task_state(pid)
        if info is None:
            return None, None, None
        return info, self._where(h, pid), None

    def _where(self, h: Hierarchy, pid: int) -> str | None:
        """The task's cgroup in `h` now; None when it is gone."""
        where: str | None = self.backend.task_cgroup(pid, h.name)
        return where

    def _release_unused(self, judged: Mapping[int, Verdict]) -> None:
        """Close the pidfds kept for PIDs this plan will not write (see `_facts_of`)."""
        held = self._held
        if not held:
            return
        for pid, v in judged.items():
            if v.kind != "move" or v.task is None or v.task.pid != pid:
                handle = held.pop((pid, v.task.start_time if v.task is not None else None), None)
                if handle is not None:
                    handle.close()

    def _judge_batch(self, batch: HookBatch, first: Mapping[int, int],
                     items: Sequence[tuple[str, int | None, PidParseError | None]], facts: Mapping[int, Facts],
                     expected_start: Mapping[int, int] | None) -> dict[int, Verdict]:
        """pid -> Verdict for each distinct PID: the facts become one HookContext each, the
        hooks judge the batch in order (each sees only the PIDs still undecided)."""
        h, target, threads = batch.hierarchy, batch.target, batch.threads
        backend = self.backend
        out: dict[int, Verdict] = {}
        pending: list[HookContext] = []
        # id(ctx) -> (text, start, identity, warnings)
        info: dict[int, tuple[str, int | None, Identity | None, list[str]]] = {}
        leaders: dict[int, Facts] = {}
        for pid in first:
            text = items[first[pid]][0]
            given, given_source, identity = facts[pid]
            start = given.start_time if given is not None else None
            expected = expected_start.get(pid) if expected_start else None
            if expected is not None and given is not None and given.start_time != expected:
                out[pid] = Verdict(text, pid, "vanished", "ESRCH", "pid-reuse",
                                   f"PID {pid} was recycled: the task you picked has exited, and the PID now "
                                   f"names another task ({given.comm}, started at tick {given.start_time}, not "
                                   f"{expected}); nothing was moved to {target}.",
                                   look_again(self.front, "recycled", pid), start_time=expected, task=given)
                continue
            if expected is not None:
                start = expected
            task, source = given, given_source
            warnings: list[str] = []
            if given is not None and not threads and given.is_thread:
                warnings.append(f"PID {pid} is a thread of process {given.tgid}; in process mode the whole "
                                "process moves.")
                if given.tgid not in leaders:
                    leaders[given.tgid] = facts.get(given.tgid) or self._facts(given.tgid, h)
                leader, leader_source, _ = leaders[given.tgid]
                if leader is not None:
                    task, source = leader, leader_source
            members: dict[int, str] = {}
            if task is not None:
                if threads or task.threads == 1:
                    # one thread: itself (a process that starts threads later starts them in
                    # its own cgroup, and a write moves the threads it has then)
                    if source is not None:
                        members[task.pid] = source
                else:
                    for tid in backend.thread_ids(task.tgid) or (task.pid,):
                        where = source if tid == task.pid else self._where(h, tid)
                        if where is not None:
                            members[tid] = where
            ctx = HookContext(batch, pid, task, given, source, members)
            info[id(ctx)] = (text, start, identity, warnings)
            pending.append(ctx)
        contexts = pending
        decided: dict[int, tuple[str, Any]] = {}
        for hook in self.hooks:
            if not pending:
                break
            name = getattr(hook, "name", None) or type(hook).__name__
            batch.items = pending
            try:
                answers = judge_of(hook)(batch)
                answers = list(answers.items() if hasattr(answers, "items") else answers or ())
            except Exception as e:  # noqa: BLE001 - a failing hook refuses, it never crashes the plan
                answers = [(ctx, Refusal(None, (
                    f"The hook {name!r} failed while judging this batch for {target} ({type(e).__name__}: {e}); "
                    f"PID {ctx.pid} was not moved."), f"Fix or remove the hook {name!r}.")) for ctx in pending]
            final = False
            for ctx, r in answers:
                key = id(ctx)
                if r is None or key not in info or key in decided:
                    continue
                if isinstance(r, HookWarning):
                    info[key][3].append(r.message)
                    continue
                if not isinstance(r, (AlreadyThere, Refusal)):
                    r = Refusal(None, f"The hook {name!r} gave an answer ctrtui does not understand ({r!r}) "
                                f"for PID {ctx.pid}; it was not moved.", f"Fix the hook {name!r}.")
                decided[key] = (name, r)
                final = True
            if final:
                pending = [ctx for ctx in pending if id(ctx) not in decided]
        batch.items = ()
        for ctx in contexts:
            text, start, identity, warnings = info[id(ctx)]
            pid, task, source = ctx.pid, ctx.given, ctx.source
            got = decided.get(id(ctx))
            if got is None:
                who = f"PID {pid}" + (f" ({task.comm})" if task else "")
                out[pid] = Verdict(text, pid, "move", None, None, f"{who} would move from {source or '?'} to {target}.",
                                   "", tuple(warnings), start, source, task, identity)
                continue
            name, r = got
            if isinstance(r, AlreadyThere):
                out[pid] = Verdict(text, pid, "already-there", None, name, r.reason, "", tuple(warnings), start,
                                   source, task)
            else:
                kind: VerdictKind = "vanished" if r.errno == "ESRCH" else "refused"
                out[pid] = Verdict(text, pid, kind, r.errno, name, r.reason, r.advice, tuple(warnings), start,
                                   source, task)
        return out

    # ------------------------------------------------------------------ apply

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        """Carry out a plan; with `all_or_nothing`, either every accepted PID moves or none
        stays moved."""
        return self._run([plan], all_or_nothing, None)

    def _run(self, plans: Sequence[Plan], all_or_nothing: bool, undo_of: str | None) -> Report:
        """Hold the journal, close any batch a dead process left open, write this batch's
        intent (synced) and only then move. `JournalError` (nothing moved) when the journal
        cannot be locked or written."""
        try:
            with self.journal.locked():
                self._recover_open()
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
        batch_id = _new_batch_id()
        self._thread_guards.clear()
        outcomes: list[Outcome | None] = [None] * len(items)
        first_refused = next((v for _, v in items if v.kind not in _ARRIVED and v.kind != "move"), None)
        rolled_back = False
        done: dict[tuple[str, int | None], int] = {}
        self._write_intent(batch_id, plans, undo_of)  # before anything is written; JournalError: nothing moved
        if all_or_nothing and first_refused is not None:
            why = (f"Not moved: the batch is all-or-nothing and '{first_refused.text}' was "
                   f"{first_refused.kind} ({first_refused.reason})")
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
            guards: list[tuple[int, Any]] = []  # (item, its task's handle): written, checked after the loop
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
                    elif not all_or_nothing:
                        o = self._write_guarded(p, v, files, guards, i)
                        if o is not None:
                            outcomes[i] = o
                    else:
                        o = self._write_one(p, v, files)
                        if o is None:
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
                for i, o in self._settle(guards, items):  # one look at every written task
                    if o is None:
                        written.append(i)
                    else:
                        outcomes[i] = o
            finally:
                files.close()
                for _, handle in guards:
                    handle.close()
            for i, o in zip(written, self._verify([items[i] for i in written])):
                outcomes[i] = o
            for i, first in repeats:
                p, v = items[i]
                outcomes[i] = self._duplicate(p, v, _decided(outcomes[first]), first)
            if all_or_nothing and failed is not None and moved:
                rolled_back = True
                for i in reversed(moved):
                    p, v = items[i]
                    outcomes[i] = self._roll_back(p, v, _decided(outcomes[i]), failed)
        if self._held:
            self.release()  # kept for plans that were not applied: they open pidfds anew if they are
        finished = tuple(o for o in outcomes if o is not None)
        report = Report(batch_id, plans[0].target, plans[0].threads, finished, rolled_back, undo_of,
                        journaled=self.journal.durable, interrupted=self._stop)
        return self._record(report, [p for p, _ in items])

    @staticmethod
    def _outcome(p: Plan, v: Verdict, outcome: OutcomeKind, *, errno: str | None | _Same = _SAME,
                 hook: str | None | _Same = _SAME, reason: str | None = None, advice: str | None = None) -> Outcome:
        """The verdict's item as an outcome; what is given replaces the verdict's own."""
        return Outcome(v.text, v.pid, outcome, v.errno if isinstance(errno, _Same) else errno,
                       v.hook if isinstance(hook, _Same) else hook, v.reason if reason is None else reason,
                       v.advice if advice is None else advice, v.warnings, v.source, p.target.path, v.start_time)

    def _duplicate(self, p: Plan, v: Verdict, first: Outcome, index: int) -> Outcome:
        if first.outcome in ("moved", "already-there"):
            return self._outcome(p, v, "already-there", errno=None, hook=None, reason=(
                f"PID {v.pid} is already in {p.target}: item {index + 1} of this batch handled it."))
        return self._outcome(p, v, first.outcome, errno=first.errno, hook=first.hook, advice=first.advice,
                             reason=f"Same PID as item {index + 1} of this batch: {first.reason}")

    def _write_one(self, p: Plan, v: Verdict, files: _Writers) -> Outcome | None:
        """Write one accepted PID under the PID-reuse guard and check the guard at once.
        Returns the outcome when it is already known (refused, vanished), or None: written,
        and the task was still there after the write (then `_verify` says whether it moved)."""
        guards: list[tuple[int, Any]] = []
        o = self._write_guarded(p, v, files, guards, 0)
        if o is not None:
            return o
        try:
            return self._settle(guards, [(p, v)])[0][1]
        finally:
            guards[0][1].close()

    def _write_guarded(self, p: Plan, v: Verdict, files: _Writers, guards: list[tuple[int, Any]],
                       index: int) -> Outcome | None:
        """Hold the planned task, write its PID, and add (index, handle) to `guards` for
        `_settle`; or the outcome when the task is gone or the kernel refused the write."""
        got = self._hold(p, v)
        if isinstance(got, Outcome):
            return got
        pid, target = v.pid, p.target
        fname = _MEMBERSHIP[p.hierarchy.version, p.threads]
        try:
            files.write(p.hierarchy.name, target.path, fname, str(pid).encode())
        except OSError as e:
            got.close()
            name = errno_name(e.errno or 0)
            if name == "ESRCH":
                return self._gone(p, v, "before the kernel could move it to {target}")
            sentence, advice = explain(name, pid=pid, cgroup=target, file=fname, front=self.front)
            return self._outcome(p, v, "refused", errno=name, hook="kernel", reason=sentence, advice=advice)
        guards.append((index, got))
        guard = getattr(got, "guard", None)  # the real kernel's handles say how they hold a task,
        if guard and pid is not None and v.task is not None and v.task.is_thread:  # a thread's report names it
            self._thread_guards[pid] = guard
        return None

    def _settle(self, guards: Sequence[tuple[int, Any]],
                items: Sequence[tuple[Plan, Verdict]]) -> list[tuple[int, Outcome | None]]:
        """After the writes: was each written task still there? A held task that has not
        exited (nor been reaped) after its write was the task its PID named when it was
        written, so the write moved that very task (then None: `_verify` looks where it
        is); one that has exited is `vanished`. One poll of every pidfd where the backend
        can (`tasks_exited`), else each handle's `alive()`. The handles stay open."""
        if not guards:
            return []
        handles = [hd for _, hd in guards]
        gone = self._exits.tasks_exited(handles) if self._exits is not None else [not hd.alive() for hd in handles]
        out: list[tuple[int, Outcome | None]] = []
        for (i, _), dead in zip(guards, gone):
            if dead:
                p, v = items[i]
                out.append((i, self._gone(p, v, "before or right after its PID was written to {target}; it is "
                                                "not there")))
            else:
                out.append((i, None))
        return out

    def _gone(self, p: Plan, v: Verdict, when: str) -> Outcome:
        """`vanished` (errno ESRCH): the task is gone; `when` completes `PID N exited ...`."""
        return self._outcome(p, v, "vanished", errno="ESRCH", hook=None, advice=look_again(self.front, "exited", v.pid),
                             reason=f"PID {v.pid} exited {when.format(target=p.target)}.")

    @staticmethod
    def _elsewhere(p: Plan, v: Verdict, where: str | None, exiting: bool) -> str:
        """Why a task the kernel accepted is not in the target: it is exiting (PF_EXITING: the
        kernel moves nothing), or it is alive in `where`, put there (or back) by someone else
        while the batch ran."""
        said = f"The kernel accepted PID {v.pid} for {p.target}, but"
        if where is None:
            return f"{said} its cgroup could not be read afterwards (it was probably exiting)."
        now = f"{display(p.hierarchy.name)}:{display(where)}"
        if exiting:
            return f"{said} it is still in {now}: it is exiting, and the kernel moves nothing that exits."
        if where == v.source:
            return (f"{said} it is still (or again) in {now}, where it came from, and alive: the kernel did not "
                    f"move it, or something else (systemd, a container runtime, another ctrtui) moved it back "
                    f"while the batch ran.")
        return (f"{said} it is in {now} now, and alive: something else (systemd, a container runtime, another "
                f"ctrtui) moved it there while the batch ran.")

    def _hold(self, p: Plan, v: Verdict) -> Outcome | Any:
        """A handle on the planned task, or the outcome when there is none (it exited, or
        the PID now names another task: both `vanished`). The handle is the one the plan
        held when there is one (`_held`); else a new pidfd, proved to hold the planned task
        by the plan's identity (the same pidfs inode, never given to another task) or by
        its start time."""
        pid = v.pid
        assert pid is not None
        held = self._take_held(v)
        if held is not None:
            # Held since the plan: it cannot follow a recycled PID, but its task may have
            # been reaped meanwhile and its PID given to another. Not reaped now, it still
            # holds its PID, so the write that follows names it (as for a new pidfd); one
            # that exits meanwhile is found by `_settle`.
            if held.reaped():
                held.close()
                return self._gone(p, v, "before it could be moved to {target}; nothing was written")
            return held
        try:
            handle = self.backend.open_task(pid, thread=v.task is not None and v.task.is_thread)
        except OSError as e:
            if e.errno == _errno.ESRCH:
                return self._gone(p, v, "before it could be moved to {target}; nothing was written")
            name = errno_name(e.errno or 0)
            return self._outcome(p, v, "refused", errno=name, hook="pid-reuse", reason=(
                f"ctrtui could not open a pidfd on PID {pid} ({name}: {e.strerror}), so it cannot prove the "
                f"PID still names the task you picked; it was not moved to {p.target}."),
                advice="Refresh the list and try again.")
        try:
            if v.identity is not None and v.identity[2] == v.start_time:
                got = handle.identity()
                if got == v.identity[:2]:
                    return handle
                if got is not None:  # a pidfs inode is never given to another task: this is one
                    handle.close()
                    return self._outcome(p, v, "vanished", errno="ESRCH", hook="pid-reuse", reason=(
                        f"PID {pid} was recycled: the task you picked has exited, and the PID now names another "
                        f"task (pidfs inode {got[1]}, not {v.identity[1]}); nothing was moved to {p.target}."),
                        advice="Refresh the list.")
            now = handle.start_time()
            if now is None:
                handle.close()
                return self._gone(p, v, "before it could be moved to {target}; nothing was written")
            if v.start_time is not None and now != v.start_time:
                handle.close()
                return self._outcome(p, v, "vanished", errno="ESRCH", hook="pid-reuse", reason=(
                    f"PID {pid} was recycled: the task you picked has exited, and the PID now names another "
                    f"task (started at tick {now}, not {v.start_time}); nothing was moved to {p.target}."),
                    advice=look_again(self.front, "recycled", pid))
            return handle
        except BaseException:
            handle.close()
            raise

    def _take_held(self, v: Verdict) -> Any:
        """The handle the plan kept on this verdict's task, if any (see `_facts_of`): the
        pidfd the task's facts were read under, so it holds the planned task and no other.
        Taken once: a plan applied twice opens new pidfds the second time."""
        if not self._held or v.pid is None or v.task is None or v.task.start_time != v.start_time:
            return None
        return self._held.pop((v.pid, v.start_time), None)

    def _verify(self, written: Sequence[tuple[Plan, Verdict]]) -> list[Outcome]:
        """Is each written task really in its target? For many PIDs into one target, one
        read of the target's thread list answers for all (a PID's own /proc/PID/cgroup is
        read only when it is not there); for a few, each task's /proc/PID/cgroup is read."""
        count: dict[int, int] = {}
        for p, _ in written:
            count[id(p)] = count.get(id(p), 0) + 1
        members: dict[int, set[int] | None] = {}
        tell = bool(self._attach_hooks())
        out = []
        for p, v in written:
            if id(p) not in members:
                members[id(p)] = self._target_members(p) if count[id(p)] >= self.verify_batch else None
            out.append(self._verify_one(p, v, members[id(p)], tell))
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

    def _verify_one(self, p: Plan, v: Verdict, members: set[int] | None, tell: bool = True) -> Outcome:
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
                return self._gone(p, v, "while it was being moved to {target}")
            return self._outcome(p, v, "not-moved", errno=None, hook="kernel", reason=self._elsewhere(
                p, v, where, exiting=bool(now.flags & 0x4)), advice=(
                "Refresh and check the task." if self.front == "ui" else
                f"Check where it is with `cat /proc/{pid}/cgroup` and what moves it before moving it again."))
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
        if tell:
            self._tell_hooks(v.task, CgroupRef(h.name, v.source or "/"), target, warnings)
        who = f"PID {pid}" + (f" ({v.task.comm})" if v.task else "")
        guard = self._thread_guards.get(pid)
        how = f" (guard: {guard})" if guard else ""
        return Outcome(v.text, pid, "moved", None, None, f"{who} moved from {v.source or '?'} to {target}{how}.", "",
                       tuple(warnings), v.source, target.path, v.start_time)

    def _attach_hooks(self) -> list[Any]:
        """The hooks whose `attach` does something (the built-in ones do nothing)."""
        return [hook for hook in self.hooks if type(hook).attach is not _NOOP_ATTACH]

    def _tell_hooks(self, task: TaskInfo | None, old: CgroupRef, new: CgroupRef, warnings: list[str]) -> None:
        for hook in self._attach_hooks():
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
        gone = o.replace(outcome="vanished", errno="ESRCH", advice="", reason=(
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
        time, pidfs device and inode when the plan had them) and its source. Each task once:
        a PID given twice is written once (the repeat is reported `already-there`)."""
        tasks = []
        seen: set[tuple[str, int]] = set()  # (hierarchy, pid), as the batch itself judges repeats
        for p in plans:
            for v in p.verdicts:
                if v.kind == "move" and v.pid is not None and (p.hierarchy.name, v.pid) not in seen:
                    seen.add((p.hierarchy.name, v.pid))
                    dev, ino = v.identity[:2] if v.identity and len(v.identity) >= 2 else (None, None)
                    pidfs = [int(dev), int(ino)] if isinstance(dev, int) and isinstance(ino, int) else None
                    tasks.append({"pid": v.pid, "start_time": v.start_time, "pidfs": pidfs, "from": _nameable(v.source),
                                  "to": p.target.path})
        p0 = plans[0]
        self.journal.write_intent(batch_id, p0.hierarchy.name, p0.threads, undo_of, p0.target.path, tasks,
                                  backend=self.backend.identity)

    def _record(self, report: Report, plans: Sequence[Plan]) -> Report:
        """Outcomes and the close record, one write and one fsync. If that fails the batch
        stays open in the journal, and the next writer recovers it from /proc."""
        rows = [{
            "pid": o.pid, "start_time": o.start_time, "from": _nameable(o.source), "to": o.target, "outcome": o.outcome,
            "errno": o.errno, **({"input": o.text} if o.pid is None else {}),
        } for p, o in zip(plans, report.outcomes)]
        warnings = list(self._notes)
        self._notes.clear()
        nothing = not any(o.outcome in _ARRIVED for o in report.outcomes)
        refused = nothing and any(o.outcome == "refused" for o in report.outcomes)
        state = "interrupted" if report.interrupted else "refused" if refused else "done"
        try:
            self.journal.write_close(report.batch_id, rows, state)
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
                got = handle.identity()
        except OSError:
            return True  # e.g. a thread's TID in process mode: the start time decided
        return got is None or tuple(got) == tuple(pidfs)

    def _ours(self, batch: Batch, action: str) -> None:
        """`JournalMismatch` (nothing moved) unless `batch` was made on this engine's backend
        (a batch of an earlier version, which names none, is taken as this backend's)."""
        if batch.backend is not None and batch.backend != self.backend.identity:
            raise JournalMismatch(self.journal.path, batch, self.backend.identity, action)

    def _recover_open(self) -> None:
        """Close every batch a dead process left open (no close record): read from /proc
        which of its tasks sit in their `to` and are the same task (start time), record those
        as moved (state `recovered`), so that undo moves exactly those back."""
        for b in self.journal.open_batches():
            self._ours(b, "recover")
            if b.op is not None:  # a cgroup op (engine/ops.py): look whether the change was made
                from ctrtui.engine.ops import recover_op

                closed, note = recover_op(self.backend, b)
                self.journal.write_op_close(b.id, closed)
                self._notes.append(note)
                continue
            rows = []
            try:
                h: Hierarchy | None = self.hierarchy(b.hierarchy)
            except CtrtuiError:
                h = None
            there = 0
            tasks = list({t["pid"]: t for t in b.tasks[::-1]}.values())  # each PID once (older intents repeat)
            for t in tasks:
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
            what = (f"an undo of batch {b.undo_of}" if b.undo_of
                    else f"moving to {display(b.hierarchy)}:{display(b.target)}")
            self._notes.append(
                f"batch {b.id} ({what}) was interrupted before its end (no close record): {there} of its "
                f"{len(tasks)} tasks are where it put them" + (
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
            found = self.choose_undoable(batch)
            if found is not None and found.op is None and found.origin_lost() and self._lost(found):
                self.nothing_left = (  # told already, and recorded once: not written again
                    f"batch {found.id} cannot be undone: the cgroups its tasks came from are gone "
                    f"({self._origins_shown(found)}); `ctrtui log` says `cannot be undone: origin gone`, and "
                    "`ctrtui move` places its tasks elsewhere")
                found = None
            elif found is None:
                where = display(self.journal.path or "(memory)")
                self.nothing_left = (f"batch {batch} has nothing left to undo" if batch else
                                     f"the journal {where} has no batch left to undo")
                if self.skipped:  # said here, not again among the warnings
                    self.nothing_left += "; " + "; ".join(self.skipped)
                    self._notes = [n for n in self._notes if n not in self.skipped]
            if found is None:
                if self._notes:
                    self.warnings.extend(self._notes)
                    self._notes.clear()
                return None
            self._ours(found, "undo")
            if found.op is not None:
                raise CtrtuiError(f"batch {found.id} is a cgroup {found.op}, not a move: undo it with `ctrtui undo` "
                                  "(ctrtui.engine.ops.undo_any)")
            try:
                self.hierarchy(found.hierarchy)
            except CtrtuiError:
                raise CtrtuiError(f"batch {found.id} of the journal {display(self.journal.path or '(memory)')} "
                                  "moved tasks in "
                                  f"the hierarchy '{display(found.hierarchy)}', which is not mounted now; mount it, or "
                                  "undo another batch (`ctrtui log` lists them)") from None
            plans = self._undo_plans(found)
            if not plans:
                self.nothing_left = f"batch {found.id} has no task whose cgroup before the move is known"
                return None
            return self._run(plans, False, found.id)

    def choose_undoable(self, batch: str | None = None) -> Batch | None:
        """The batch an undo takes: the one named, else the newest with something left to
        undo -- skipping, and saying which (in the next report's warnings), each batch none of
        whose tasks can go back because every cgroup they came from is gone. Such a batch is
        recorded once as a refused undo (`ctrtui log`: cannot be undone: origin gone)."""
        self.skipped = []
        if batch is not None:
            return self.journal.find_undoable(batch)
        skipped: set[str] = set()
        while True:
            b = next((c for c in self.journal.undoable_batches() if c.id not in skipped), None)
            if b is None or b.op is not None or not self._lost(b):
                return b
            skipped.add(b.id)
            self._skip_lost(b)

    def _origins(self, b: Batch) -> set[str]:
        return {r["from"] for r in b.remaining() if r["from"] is not None}

    def _origins_shown(self, b: Batch) -> str:
        origins = sorted(self._origins(b))
        more = f" and {len(origins) - 3} more" if len(origins) > 3 else ""
        return ", ".join(f"{display(b.hierarchy)}:{display(o)}" for o in origins[:3]) + more

    def _lost(self, b: Batch) -> bool:
        """Every cgroup the batch's remaining tasks came from is gone (a batch of this
        backend, in a hierarchy mounted now)."""
        if b.backend is not None and b.backend != self.backend.identity:
            return False
        try:
            self.hierarchy(b.hierarchy)
        except CtrtuiError:
            return False
        origins = self._origins(b)
        return bool(origins) and all(self.backend.cgroup_state(b.hierarchy, o) is None for o in origins)

    def _skip_lost(self, b: Batch) -> None:
        """Record (once) that `b` cannot be undone, and say so in the next report."""
        earlier = list(self._notes)  # what recovery said goes to the undo that is made
        self._notes.clear()
        if not b.origin_lost():
            self._run(self._undo_plans(b), False, b.id)
        h = self.hierarchy(b.hierarchy)
        alive = [(r, where) for r in b.remaining() if (where := self._where(h, r["pid"])) is not None]
        if alive:
            r, where = alive[0]
            why = (f"; PID {r['pid']} stays in {display(b.hierarchy)}:{display(where)}. "
                   + self._place_elsewhere(r["pid"], CgroupRef(b.hierarchy, r["from"] or "/"))
                   + (f" ({len(alive) - 1} more such PIDs: `ctrtui undo {b.id}` lists them)" if len(alive) > 1 else ""))
        else:
            why = "; its tasks have exited"
        note = (f"batch {b.id} was skipped: it cannot be undone, the cgroups its tasks came from are gone "
                f"({self._origins_shown(b)}){why}")
        self._notes[:0] = earlier
        self.skipped.append(note)
        if not any(n.startswith(f"batch {b.id} was skipped") for n in self._notes):
            self._notes.append(note)

    def _undo_plans(self, found: Batch) -> list[Plan]:
        """One plan per cgroup the batch's remaining tasks came from, worded for an undo."""
        groups: dict[str, list[Record]] = {}
        for r in found.remaining():
            if r["from"] is not None:
                groups.setdefault(r["from"], []).append(r)
        plans = []
        for back, group in groups.items():
            expected = {r["pid"]: r["start_time"] for r in group if r["start_time"] is not None}
            target = CgroupRef(found.hierarchy, back)
            plan = self.plan([r["pid"] for r in group], target, found.threads, expected)
            verdicts = []
            for v, r in zip(plan.verdicts, group):
                if v.kind == "move" and v.source is not None and v.source != r["to"]:
                    v = v.replace(warnings=v.warnings + (
                        f"PID {v.pid} is no longer where batch {found.id} put it ({display(r['to'])}) but in "
                        f"{display(v.source)}; it is moved back to {display(back)} anyway.",))
                elif v.kind == "refused" and v.hook == "target-exists":
                    v = self._origin_gone(found, v, target)
                verdicts.append(v)
            plans.append(plan.replace(verdicts=tuple(verdicts)))
        return plans

    def _origin_gone(self, found: Batch, v: Verdict, origin: CgroupRef) -> Verdict:
        """An undo whose target -- the cgroup the task came from -- is gone (systemd removes a
        unit's cgroup when the unit stops, logind a session's scope when it ends): a task that
        has exited is `vanished` whatever else is wrong; a live one is told where it is and
        how to place it elsewhere, in undo's words."""
        pid, t = v.pid, v.task
        shown = f"{display(origin.hierarchy)}:{display(origin.path)}"
        if t is None or t.zombie:
            return v.replace(kind="vanished", errno="ESRCH", hook="alive", reason=(
                f"PID {pid} has exited: there is nothing to move back to {shown} (which is gone too)."),
                advice="Nothing to undo for it.")
        now = f"{display(origin.hierarchy)}:{display(v.source)}" if v.source else "its cgroup"
        who = f"PID {pid}" + (f" ({display(t.comm)})" if t.comm else "")
        return v.replace(reason=(
            f"{who} cannot go back: {shown}, where batch {found.id} took it from, is gone (systemd or logind "
            f"removes a unit's or session's cgroup when it ends). It stays in {now}."),
            advice=self._place_elsewhere(pid, origin))

    def _place_elsewhere(self, pid: int | None, origin: CgroupRef) -> str:
        """The `ctrtui move` that places a task whose origin is gone in the origin's nearest
        ancestor that still exists."""
        near = parent_path(origin.path)
        while near is not None and near != "/" and self.backend.cgroup_state(origin.hierarchy, near) is None:
            near = parent_path(near)
        return (f"To place it elsewhere: ctrtui move {pid} --to '{display(origin.hierarchy)}:{display(near or '/')}' "
                "(or another cgroup).")


def _nameable(path: str | None) -> str | None:
    """A cgroup path the journal can record, or None: a task outside the writer's cgroup
    namespace reads `/../x`, which names no cgroup here (undo then has no origin for it)."""
    return None if path is None or path == "/.." or path.startswith("/../") else path


class _Writers:
    """The membership files of one batch, each opened once: the kernel judges permission at
    open, and every write() of one PID is one attach, so 1,000 PIDs cost 1,000 writes instead
    of 1,000 opens, writes and closes (a third of the time on this project's machine). A file
    that cannot be opened is not cached: each PID then goes through `write_pid`, which opens
    it again and raises the kernel's errno for that PID."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._files: dict[tuple[str, str, str], Any] = {}  # the backend's open membership files
        self._write: dict[tuple[str, str, str], Callable[[bytes], int]] = {}  # the files' bound `write`

    def write(self, hierarchy: str, path: str, filename: str, data: bytes) -> int:
        key = (hierarchy, path, filename)
        write = self._write.get(key)
        if write is None:
            try:
                f = self._files[key] = self.backend.open_membership(hierarchy, path, filename)
            except OSError:
                written: int = self.backend.write_pid(hierarchy, path, filename, data)
                return written
            write = self._write[key] = f.write
        return write(data)

    def close(self) -> None:
        files, self._files, self._write = self._files, {}, {}
        for f in files.values():
            try:
                f.close()
            except OSError:
                pass
