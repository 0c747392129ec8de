"""Hooks: the kernel's two-step attach protocol, told in advance -- for a whole batch at once.

Like a cgroup subsystem, a hook is asked before the write whether the move may happen
(it may veto with a `Refusal`, add a `Warning`, or say the task is `AlreadyThere`), and its
`attach(task, old, new)` is told after a verified move. The built-in hooks predict every
refusal of the kernel's attach path (docs/kernel.md) that can be predicted; the kernel's own
answer stays final.

Batch protocol (what the built-in hooks implement)
--------------------------------------------------

    class MyHook:
        name = "my-hook"

        def judge(self, batch: HookBatch) -> Iterable[tuple[HookContext, Answer]]:
            for ctx in batch.items:             # the PIDs still undecided, in input order
                if ctx.task is not None and ctx.task.comm == "precious":
                    yield ctx, ctx.refuse("EPERM", f"{ctx.subject} is precious.")

        def attach(self, task, old_cgroup, new_cgroup) -> None: ...

`judge(batch)` is called once per plan. `batch` carries what is shared (`backend`,
`hierarchy`, `target`, `target_state`, `threads`, `writer`, `state(path)`: a cgroup's facts,
read at most once per plan) and `items`: one `HookContext` per distinct PID that no earlier
hook has decided, with the facts the engine read once for it (`task`, `given`, `source`,
`member_sources`). The hook returns (or yields) `(ctx, answer)` pairs for the items it has
something to say about; an answer is a `Refusal`, a `Warning`, `AlreadyThere` or None.
A hook that decides for the whole target (it does not exist, it is frozen) looks at
`batch.target_state` once and answers every item. A Refusal with errno ESRCH means the task
is gone: the plan reports it `vanished`.

Hooks run in order and each sees only the items still undecided (the first Refusal or
AlreadyThere of a PID is final; the Warnings of the hooks before it are kept), so the order
of the built-in hooks is the order in which the kernel checks (`ctrtui.engine.builtinhooks`
`BUILTIN_HOOKS`). A `judge` that raises
refuses every item it was given, naming the hook; a PID is never moved unjudged.

Per-PID protocol (older and third-party hooks, still accepted)
-------------------------------------------------------------

A hook with `can_attach(ctx) -> Answer` and no `judge` is asked once per undecided PID; the
engine adapts it (`judge_of`), and an exception refuses only that PID. Hooks come from the
engine's `hooks=` argument, the policy, and the `ctrtui.hooks` entry-point group; either
protocol works for all of them. The guarantees after the plan are the same for every hook:
each accepted PID is written under a pidfd guard, verified in /proc, and journaled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ctrtui.errors import explain
from ctrtui.model import CgroupRef, CgroupState, Creds, Hierarchy, TaskInfo
from ctrtui.model.value import Value, set_field
from ctrtui.sources.base import membership_file

if TYPE_CHECKING:  # typing.TypeAlias is Python 3.10+
    from typing import TypeAlias

__all__ = [
    "AlreadyThere", "Answer", "BatchHook", "BuiltinHook", "Hook", "HookBatch", "HookContext", "HookWarning",
    "Judged", "MAKES_THREAD_ROOT", "Refusal", "Warning", "THREADED_CONTROLLERS", "judge_of",
]

#: The words of the warning that a move turns the target into a thread root (risk.py asks on it).
MAKES_THREAD_ROOT = "makes it a thread root"
#: v2 controllers that may be enabled in a threaded subtree (the rest are domain controllers).
THREADED_CONTROLLERS = frozenset({"cpu", "cpuset", "perf_event", "pids"})


class Refusal(Value):
    """A hook's veto: what the kernel would answer (`errno` name, or None when the kernel
    would not refuse but ctrtui does), a sentence naming PID and cgroup, and what to do.
    errno ESRCH means the task is gone (the plan calls it `vanished`)."""

    __slots__ = ("errno", "reason", "advice")
    errno: str | None
    reason: str
    advice: str

    def __init__(self, errno: str | None, reason: str, advice: str = "") -> None:
        set_field(self, "errno", errno)
        set_field(self, "reason", reason)
        set_field(self, "advice", advice)


class HookWarning(Value):
    """The move may go ahead, but the person should know this."""

    __slots__ = ("message",)
    message: str

    def __init__(self, message: str) -> None:
        set_field(self, "message", message)


Warning = HookWarning  # noqa: A001 - the name hooks return, as the engine's API documents it


class AlreadyThere(Value):
    """Nothing to do: the task is already where it should go (the kernel's silent no-op)."""

    __slots__ = ("reason",)
    reason: str

    def __init__(self, reason: str) -> None:
        set_field(self, "reason", reason)


# A string: `X | Y` of classes is not a runtime expression on Python 3.9 (this module travels).
Answer: TypeAlias = "Refusal | HookWarning | AlreadyThere | None"
"""What a hook says of one PID."""

Judged = Iterable[tuple["HookContext", Answer]]
"""What a batch `judge` returns: (context, answer) for the PIDs it has something to say about."""


class HookBatch:
    """One plan as the hooks see it: what all its PIDs share, read once, and `items`, one
    `HookContext` per PID still undecided (the engine narrows `items` between hooks).

    `state(path)` gives a cgroup's facts (`CgroupState`, None if it does not exist) and reads
    each cgroup at most once per plan."""

    __slots__ = ("backend", "hierarchy", "target", "target_state", "threads", "writer", "items", "_state",
                 "_cache", "file", "front", "via")
    backend: Any
    hierarchy: Hierarchy
    target: CgroupRef
    target_state: CgroupState | None
    threads: bool
    writer: Creds
    items: Sequence[HookContext]
    file: str
    front: str
    """Whose words advice takes where the front ends differ (`AttachEngine.front`)."""
    via: str
    """The route asked for (`auto` or `kernel`: ctrtui.engine.values.Via)."""

    def __init__(self, backend: Any, hierarchy: Hierarchy, target: CgroupRef, target_state: CgroupState | None,
                 threads: bool, writer: Creds, items: Sequence[HookContext] = (),
                 state: Callable[[str], CgroupState | None] | None = None) -> None:
        self.backend = backend
        self.hierarchy = hierarchy
        self.target = target
        self.target_state = target_state
        self.threads = threads
        self.writer = writer
        self.items = items
        self._state = state
        self._cache: dict[str, CgroupState | None] = {target.path: target_state}
        self.file = membership_file(hierarchy.version, threads)
        self.front = "cli"
        self.via = "auto"

    def __repr__(self) -> str:
        return f"HookBatch(target={self.target}, threads={self.threads}, items={len(self.items)})"

    @property
    def version(self) -> int:
        return self.hierarchy.version

    def state(self, path: str) -> CgroupState | None:
        cache = self._cache
        if path not in cache:
            cache[path] = (self._state(path) if self._state is not None
                           else self.backend.cgroup_state(self.hierarchy.name, path))
        return cache[path]

    def context(self, pid: int, task: TaskInfo | None, given: TaskInfo | None = None, source: str | None = None,
                member_sources: Mapping[int, str] | None = None) -> HookContext:
        """A HookContext of this batch (not added to `items`)."""
        return HookContext(self, pid, task, task if given is None else given, source, member_sources)

    def narrowed(self, items: Sequence[HookContext]) -> HookBatch:
        """The same batch with other items (the contexts keep pointing at this batch)."""
        b = HookBatch.__new__(HookBatch)
        for name in HookBatch.__slots__:
            setattr(b, name, getattr(self, name))
        b.items = items
        return b


class HookContext:
    """Everything a hook needs to judge one PID of a plan.

    `task` is the task the kernel judges: in process mode the thread-group leader (the kernel
    moves the whole group even for a non-leader TID), in thread mode the thread itself;
    `given` is the task of the PID as given. `source` is the judged task's cgroup in the
    target's hierarchy, `member_sources` the cgroup of each task that would move (every
    thread in process mode). `batch` is the `HookBatch` it belongs to; `backend`, `hierarchy`,
    `target`, `target_state`, `threads`, `writer` and `state(path)` are the batch's.
    """

    __slots__ = ("batch", "pid", "task", "given", "source", "member_sources")
    batch: HookBatch
    pid: int
    task: TaskInfo | None
    given: TaskInfo | None
    source: str | None
    member_sources: Mapping[int, str]

    def __init__(self, batch: HookBatch, pid: int, task: TaskInfo | None, given: TaskInfo | None,
                 source: str | None, member_sources: Mapping[int, str] | None = None) -> None:
        self.batch = batch
        self.pid = pid
        self.task = task
        self.given = given
        self.source = source
        self.member_sources = member_sources if member_sources is not None else (
            {} if source is None or task is None else {task.pid: source})

    def __repr__(self) -> str:
        return f"HookContext(pid={self.pid}, target={self.target}, source={self.source!r}, threads={self.threads})"

    # what the batch shares
    backend = property(lambda self: self.batch.backend)
    hierarchy = property(lambda self: self.batch.hierarchy)
    target = property(lambda self: self.batch.target)
    target_state = property(lambda self: self.batch.target_state)
    threads = property(lambda self: self.batch.threads)
    writer = property(lambda self: self.batch.writer)

    @property
    def version(self) -> int:
        return self.batch.hierarchy.version

    @property
    def file(self) -> str:
        """The membership file the write goes to."""
        return self.batch.file

    @property
    def subject(self) -> str:
        """`PID 1234 (sleep)` for sentences."""
        t = self.given or self.task
        return f"PID {self.pid}" + (f" ({t.comm})" if t and t.comm else "")

    def state(self, path: str) -> CgroupState | None:
        return self.batch.state(path)

    def refuse(self, errno: str, reason: str | None = None, advice: str | None = None) -> Refusal:
        """A refusal worded by `ctrtui.errors.explain`, with `reason`/`advice` overriding."""
        sentence, hint = explain(errno, pid=self.pid, cgroup=self.batch.target, file=self.batch.file,
                                 front=self.batch.front)
        return Refusal(errno, reason or sentence, advice or hint)


@runtime_checkable
class Hook(Protocol):
    """The per-PID protocol: `can_attach` returns a Refusal, Warning, AlreadyThere or None;
    `attach` is told after a move was verified (old and new as CgroupRef)."""

    name: str

    def can_attach(self, ctx: HookContext) -> Answer: ...

    def attach(self, task: TaskInfo | None, old_cgroup: CgroupRef, new_cgroup: CgroupRef) -> None: ...


@runtime_checkable
class BatchHook(Protocol):
    """The batch protocol (see the module docstring): `judge` answers for the PIDs of a
    batch it has something to say about."""

    name: str

    def judge(self, batch: HookBatch) -> Iterable[tuple[HookContext, Answer]]: ...

    def attach(self, task: TaskInfo | None, old_cgroup: CgroupRef, new_cgroup: CgroupRef) -> None: ...


def judge_of(hook: Any) -> Callable[[HookBatch], Iterable[tuple[HookContext, Answer]]]:
    """The batch `judge` of any hook: its own, or its per-PID `can_attach` asked for each
    item (an exception refuses that PID alone, naming the hook)."""
    judge: Callable[[HookBatch], Judged] | None = getattr(hook, "judge", None)
    if callable(judge):
        return judge
    can_attach = hook.can_attach
    name = getattr(hook, "name", None) or type(hook).__name__

    def per_pid(batch: HookBatch) -> list[tuple[HookContext, Answer]]:
        out: list[tuple[HookContext, Answer]] = []
        for ctx in batch.items:
            try:
                r = can_attach(ctx)
            except Exception as e:  # noqa: BLE001 - a failing hook refuses, it never crashes the plan
                r = Refusal(None, f"The hook {name!r} failed while judging PID {ctx.pid} for {batch.target} "
                            f"({type(e).__name__}: {e}); PID {ctx.pid} was not moved.",
                            f"Fix or remove the hook {name!r}.")
            if r is not None:
                out.append((ctx, r))
        return out

    return per_pid


class BuiltinHook:
    """Base of the built-in hooks: a batch `judge`, the per-PID `can_attach` (the same
    judgement for a batch of one), and an `attach` that does nothing. A subclass writes
    `judge`, or `check(ctx)` for a judgement that is per PID anyway."""

    name = "builtin"

    def judge(self, batch: HookBatch) -> Iterable[tuple[HookContext, Answer]]:
        # a subclass that wrote only the per-PID `can_attach` (the older protocol) is asked that
        check = self.can_attach if type(self).can_attach is not BuiltinHook.can_attach else self.check
        out = []
        for ctx in batch.items:
            r = check(ctx)
            if r is not None:
                out.append((ctx, r))
        return out

    def check(self, ctx: HookContext) -> Answer:
        raise NotImplementedError

    def can_attach(self, ctx: HookContext) -> Answer:
        for c, r in self.judge(ctx.batch.narrowed((ctx,))):
            if c is ctx:
                return r
        return None

    def attach(self, task: TaskInfo | None, old_cgroup: CgroupRef, new_cgroup: CgroupRef) -> None:
        return None

    def __repr__(self) -> str:
        return f"<hook {self.name}>"
