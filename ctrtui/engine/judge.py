"""The judge step: each hook judges the batch of PIDs still undecided, in the hooks' order.

`judge_batch` turns each distinct PID's facts into a `HookContext` (a thread in process mode
stands for its process; a PID recycled since the user looked is `vanished` at once), runs
the hooks over the batch (a hook that fails or answers nonsense refuses, it never crashes
the plan) and makes one `Verdict` per PID.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ctrtui.engine.hooks import AlreadyThere, HookBatch, HookContext, HookWarning, Refusal, judge_of
from ctrtui.engine.values import Verdict, VerdictKind
from ctrtui.errors import look_again

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ctrtui.engine.parse import PidParseError
    from ctrtui.engine.values import Facts, Identity
    from ctrtui.model import Hierarchy

    Item = tuple[str, int | None, PidParseError | None]
    """One input item of a plan: (its text as given, its PID, or the parser's error)."""
    _Known = tuple[str, int | None, Identity | None, list[str]]
    """What the judge keeps of a context: (text, start time, identity, warnings)."""

__all__ = ["FactSource", "judge_batch"]


class FactSource(Protocol):
    """What the judge reads besides the facts it is given (the plan step's `FactReader`):
    a thread's process leader, a thread's own cgroup, a process's threads."""

    backend: Any

    def facts(self, pid: int, h: Hierarchy) -> Facts: ...

    def where(self, h: Hierarchy, pid: int) -> str | None: ...


def judge_batch(hooks: Sequence[Any], reader: FactSource, batch: HookBatch, first: Mapping[int, int],
                items: Sequence[Item], facts: Mapping[int, Facts],
                expected_start: Mapping[int, int] | None) -> dict[int, Verdict]:
    """pid -> Verdict for each distinct PID (`first`: pid -> index of its first item): the
    facts become one HookContext each, the hooks judge the batch in order (each sees only
    the PIDs still undecided)."""
    out: dict[int, Verdict] = {}
    known: dict[int, _Known] = {}  # id(ctx) -> what the verdict needs besides the context
    contexts = _contexts(reader, batch, first, items, facts, expected_start, out, known)
    decided = _run_hooks(hooks, batch, contexts, known)
    for ctx in contexts:
        out[ctx.pid] = _verdict(batch, ctx, known[id(ctx)], decided.get(id(ctx)))
    return out


def _contexts(reader: FactSource, batch: HookBatch, first: Mapping[int, int], items: Sequence[Item],
              facts: Mapping[int, Facts], expected_start: Mapping[int, int] | None, out: dict[int, Verdict],
              known: dict[int, _Known]) -> list[HookContext]:
    """One HookContext per distinct PID still to judge; a PID whose task is not the one the
    user picked (`expected_start`) goes straight to `out` as vanished."""
    h, target, threads = batch.hierarchy, batch.target, batch.threads
    contexts: list[HookContext] = []
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
                               look_again(batch.front, "recycled", pid), start_time=expected, task=given)
            continue
        if expected is not None:
            start = expected
        task, source = given, given_source
        warnings: list[str] = []
        if given is not None and not threads and given.is_thread:
            warnings.append(f"PID {pid} is a thread of process {given.tgid}; in process mode the whole "
                            "process moves.")
            if given.tgid not in leaders:
                leaders[given.tgid] = facts.get(given.tgid) or reader.facts(given.tgid, h)
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
                for tid in reader.backend.thread_ids(task.tgid) or (task.pid,):
                    where = source if tid == task.pid else reader.where(h, tid)
                    if where is not None:
                        members[tid] = where
        ctx = HookContext(batch, pid, task, given, source, members)
        known[id(ctx)] = (text, start, identity, warnings)
        contexts.append(ctx)
    return contexts


def _run_hooks(hooks: Sequence[Any], batch: HookBatch, contexts: list[HookContext],
               known: Mapping[int, _Known]) -> dict[int, tuple[str, Any]]:
    """id(ctx) -> (hook name, its AlreadyThere or Refusal) for each context a hook decided;
    a hook's warnings go to the context's warnings as they come."""
    decided: dict[int, tuple[str, Any]] = {}
    pending = contexts
    for hook in hooks:
        if not pending:
            break
        name = getattr(hook, "name", None) or type(hook).__name__
        batch.items = pending
        try:
            answers = judge_of(hook)(batch)
            answers = list(answers.items() if hasattr(answers, "items") else answers or ())
        except Exception as e:  # noqa: BLE001 - a failing hook refuses, it never crashes the plan
            answers = [(ctx, Refusal(None, (
                f"The hook {name!r} failed while judging this batch for {batch.target} ({type(e).__name__}: {e}); "
                f"PID {ctx.pid} was not moved."), f"Fix or remove the hook {name!r}.")) for ctx in pending]
        final = False
        for ctx, r in answers:
            key = id(ctx)
            if r is None or key not in known or key in decided:
                continue
            if isinstance(r, HookWarning):
                known[key][3].append(r.message)
                continue
            if not isinstance(r, (AlreadyThere, Refusal)):
                r = Refusal(None, f"The hook {name!r} gave an answer ctrtui does not understand ({r!r}) "
                            f"for PID {ctx.pid}; it was not moved.", f"Fix the hook {name!r}.")
            decided[key] = (name, r)
            final = True
        if final:
            pending = [ctx for ctx in pending if id(ctx) not in decided]
    batch.items = ()
    return decided


def _verdict(batch: HookBatch, ctx: HookContext, known: _Known, got: tuple[str, Any] | None) -> Verdict:
    """The verdict of one context: `move` when no hook decided it, else the hook's answer."""
    text, start, identity, warnings = known
    pid, task, source = ctx.pid, ctx.given, ctx.source
    if got is None:
        who = f"PID {pid}" + (f" ({task.comm})" if task else "")
        return Verdict(text, pid, "move", None, None, f"{who} would move from {source or '?'} to {batch.target}.",
                       "", tuple(warnings), start, source, task, identity)
    name, r = got
    if isinstance(r, AlreadyThere):
        return Verdict(text, pid, "already-there", None, name, r.reason, "", tuple(warnings), start, source, task)
    kind: VerdictKind = "vanished" if r.errno == "ESRCH" else "refused"
    return Verdict(text, pid, kind, r.errno, name, r.reason, r.advice, tuple(warnings), start, source, task)
