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
below is the order in which the kernel checks (see `BUILTIN_HOOKS`). A `judge` that raises
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
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ctrtui.errors import explain
from ctrtui.model import CgroupRef, CgroupState, Creds, Hierarchy, TaskInfo, common_ancestor, parent_path
from ctrtui.model.systemd import systemd_unit
from ctrtui.model.value import Value, set_field
from ctrtui.sources.base import membership_file

if TYPE_CHECKING:  # typing.TypeAlias is Python 3.10+
    from typing import TypeAlias

__all__ = [
    "AlreadyThere", "Answer", "BUILTIN_HOOKS", "BatchHook", "Hook", "HookBatch", "HookContext", "HookWarning",
    "Judged", "Refusal", "Warning", "THREADED_CONTROLLERS", "builtin_hooks", "judge_of",
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
                 "_cache", "file", "front")
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


def _all(batch: HookBatch, answer: Callable[[HookContext], Answer]) -> list[tuple[HookContext, Answer]]:
    return [(ctx, answer(ctx)) for ctx in batch.items]


class TargetExists(BuiltinHook):
    """ENOENT: the target cgroup is gone (the kernel fails the open). Judged once for the
    whole batch."""

    name = "target-exists"

    def judge(self, batch: HookBatch) -> Judged:
        if batch.target_state is not None:
            return ()
        return _all(batch, lambda ctx: ctx.refuse(
            "ENOENT", f"{batch.target} does not exist; {ctx.subject} was not moved."))


class Alive(BuiltinHook):
    """ESRCH (the plan says `vanished`) for a missing task; a zombie or exiting task would
    be accepted by the kernel and not moved, so it is reported gone up front."""

    name = "alive"

    def judge(self, batch: HookBatch) -> Judged:
        out = []
        for ctx in batch.items:
            t = ctx.task
            if t is None:
                out.append((ctx, ctx.refuse("ESRCH", (
                    f"PID {ctx.pid} does not exist (it exited, or never existed); nothing was moved to "
                    f"{batch.target}."))))
            elif t.state in ("Z", "X") or t.flags & 0x4:  # a zombie, or PF_EXITING
                who = f"{ctx.subject}" + (f", thread group {t.pid}," if t.pid != ctx.pid else "")
                if t.zombie:
                    r = ctx.refuse("ESRCH", (
                        f"{who} has exited (a zombie waiting for its parent to reap it): the kernel would "
                        f"accept the write to {batch.target} and move nothing."),
                        "Nothing to move; it disappears once its parent reaps it.")
                else:
                    r = ctx.refuse("ESRCH", (
                        f"{who} is exiting: the kernel would accept the write to {batch.target} and move "
                        "nothing."), "Nothing to move; it is about to disappear.")
                out.append((ctx, r))
        return out


class AlreadyThereHook(BuiltinHook):
    """The kernel's silent no-op: the task (in process mode: every thread) is there.
    Judged before every permission check, for root and non-root alike: a task that is
    already there needs no write, so who may write does not matter."""

    name = "already-there"

    def judge(self, batch: HookBatch) -> Judged:
        path = batch.target.path
        out = []
        for ctx in batch.items:
            where = ctx.member_sources
            if where and all(p == path for p in where.values()):
                what = "all its threads are" if not batch.threads and len(where) > 1 else "it is"
                out.append((ctx, AlreadyThere(f"{ctx.subject} is already in {batch.target} ({what} there); "
                                              "nothing to do.")))
        return out


class FileAccess(BuiltinHook):
    """EACCES at open: the writer may not open the membership file for writing. Judged
    once for the whole batch."""

    name = "file-access"

    def judge(self, batch: HookBatch) -> Judged:
        st = batch.target_state
        if st is None or batch.file in st.writable:
            return ()
        advice = f"Run as root, or have the owner of {batch.target} give you write access to its {batch.file}."
        return _all(batch, lambda ctx: ctx.refuse("EACCES", (
            f"The writer (uid {batch.writer.euid}) may not open {batch.file} of {batch.target} for "
            f"writing, so {ctx.subject} cannot be moved there."), advice))


class KernelThread(BuiltinHook):
    """EINVAL for kthreadd and PF_NO_SETAFFINITY kernel threads (and other kernel threads
    on v2); a warning for other kernel threads on v1."""

    name = "kernel-thread"

    def judge(self, batch: HookBatch) -> Judged:
        out = []
        for ctx in batch.items:
            t = ctx.task
            if t is not None and t.flags & 0x00200000:  # PF_KTHREAD
                out.append((ctx, self.check(ctx)))
        return out

    def check(self, ctx: HookContext) -> Answer:
        t = ctx.task
        if t is None or not t.kthread:
            return None
        if t.comm == "kthreadd" or t.pid == 2:
            why = "it is kthreadd, the kernel thread that starts all others"
        elif t.no_setaffinity:
            why = "it is a kernel thread pinned to its CPUs (PF_NO_SETAFFINITY)"
        elif ctx.version == 2:
            why = "it is a kernel thread, and cgroup v2 keeps kernel threads where they are"
        else:
            return HookWarning(f"{ctx.subject} is a kernel thread; cgroup v1 lets it move, but the "
                               f"kernel may not expect it in {ctx.target}.")
        return ctx.refuse("EINVAL", f"The kernel refuses to move {ctx.subject} into {ctx.target}: {why}.",
                          "Leave kernel threads where they are; move user-space tasks only.")


class V1Permission(BuiltinHook):
    """v1 EACCES: a non-root writer may only move tasks whose real or saved uid is its
    euid (the task's euid does not count; cgroup1_procs_write)."""

    name = "v1-permission"

    def judge(self, batch: HookBatch) -> Judged:
        euid = batch.writer.euid
        if batch.version != 1 or euid == 0:
            return ()
        out = []
        for ctx in batch.items:
            t = ctx.task
            if t is not None and euid != t.uid and euid != t.suid:
                out.append((ctx, ctx.refuse("EACCES", (
                    f"{ctx.subject} belongs to uid {t.uid} (saved uid {t.suid}) and the writer's euid is "
                    f"{euid}: cgroup v1 lets a non-root writer move only tasks whose real or saved uid is "
                    f"its euid, so it cannot go to {batch.target}."),
                    "Run as root, or as the task's owner.")))
        return out


def _outside(path: str | None) -> bool:
    """A cgroup path outside the reader's cgroup namespace (/proc/PID/cgroup says `/../x`)."""
    return path is not None and (path == "/.." or path.startswith("/../"))


class CgroupNamespace(BuiltinHook):
    """A task outside the writer's cgroup namespace (its path reads `/../...`). A v2
    hierarchy mounted with `nsdelegate` (systemd's default) makes a namespace a delegation
    boundary: the kernel refuses with ENOENT (cgroup_procs_write_permission). Without it
    the kernel would move the task, but ctrtui could not name where it came from, so it
    could not undo the move: it refuses it itself."""

    name = "cgroup-namespace"

    def judge(self, batch: HookBatch) -> Judged:
        out = []
        delegate = None
        for ctx in batch.items:
            if not _outside(ctx.source):
                continue
            if delegate is None:
                probe = getattr(batch.backend, "ns_delegate", None)
                delegate = bool(probe(batch.hierarchy.name)) if callable(probe) and batch.version == 2 else False
            where = f"{ctx.subject} is in {ctx.source}, outside this cgroup namespace"
            if delegate:
                out.append((ctx, ctx.refuse("ENOENT", (
                    f"{where}; cgroup v2 here is mounted with nsdelegate, so a namespace is a delegation boundary "
                    f"and the kernel cannot see it to move it to {batch.target}."),
                    "Move it from the host (outside the cgroup namespace), or pick a task of this namespace.")))
            else:
                out.append((ctx, Refusal(None, (
                    f"{where}: ctrtui cannot name the cgroup it would come from, so the move to {batch.target} "
                    "could not be undone; it was not moved."),
                    "Move it from the host (outside the cgroup namespace), or pick a task of this namespace.")))
        return out


class V2Delegation(BuiltinHook):
    """v2 EACCES: the writer must be able to write the cgroup.procs of the common ancestor
    of source and target (cgroup_procs_write_permission). One check per source cgroup."""

    name = "v2-delegation"

    def judge(self, batch: HookBatch) -> Judged:
        if batch.version != 2:
            return ()
        target = batch.target.path
        ancestor: dict[str, str | None] = {}  # source -> the forbidding common ancestor, or None
        out = []
        for ctx in batch.items:
            src = ctx.source
            if src is None or _outside(src):
                continue
            if src not in ancestor:
                ca = common_ancestor(src, target)
                st = batch.state(ca)
                ancestor[src] = ca if st is not None and "cgroup.procs" not in st.writable else None
            forbidding = ancestor[src]
            if forbidding is not None:
                out.append((ctx, ctx.refuse("EACCES", (
                    f"{ctx.subject} would move from {src} to {target}, and the writer "
                    f"(uid {batch.writer.euid}) may not write cgroup.procs of their common ancestor {forbidding}: "
                    "cgroup v2 delegation forbids it."),
                    f"Run as root, or move tasks only inside a subtree delegated to you (write access "
                    f"to {forbidding}/cgroup.procs).")))
        return out


def _dom(ctx: HookContext | HookBatch, path: str) -> str:
    """The threaded domain of `path`: itself, or its nearest non-threaded ancestor."""
    if _outside(path):
        return path
    p: str | None = path
    while p is not None:
        st = ctx.state(p)
        if st is None or st.cgroup_type != "threaded":
            return p
        p = parent_path(p)
    return path


def _domain_children(batch: HookBatch) -> tuple[list[str], list[str]]:
    """The target's non-threaded children, (populated, empty), as full paths; both empty
    when the target already holds tasks (then it already is a thread root)."""
    name, path = batch.hierarchy.name, batch.target.path
    own = batch.backend.read_cgroups(name, [path]).get(path)
    if own is None or len(own.threads):
        return [], []
    busy: list[str] = []
    empty: list[str] = []
    for child in own.children:
        st = batch.state(child)
        if st is None or st.cgroup_type == "threaded":
            continue
        events = batch.backend.cgroup_stats(name, child).get("cgroup.events", "")
        (busy if "populated 1" in events.splitlines() else empty).append(child)
    return busy, empty


class V2Destination(BuiltinHook):
    """v2 destination rules (cgroup_migrate_vet_dst): EOPNOTSUPP for a `domain invalid`
    target or a thread leaving its threaded domain; EBUSY for an inner cgroup with domain
    controllers in its subtree_control (no internal processes), or with threaded ones only
    while a domain child is populated (it cannot become a thread root then); a warning when
    the move makes the target a thread root, so its empty domain children turn `domain
    invalid`. The target's rules are judged once for the batch."""

    name = "v2-destination"

    def judge(self, batch: HookBatch) -> Judged:
        if batch.version != 2 or batch.target_state is None:
            return ()
        st, path, target = batch.target_state, batch.target.path, batch.target
        is_root = path == batch.hierarchy.root or path == "/"
        if st.cgroup_type == "domain invalid":
            return _all(batch, lambda ctx: ctx.refuse("EOPNOTSUPP", (
                f"{target} has cgroup.type 'domain invalid' (a threaded subtree broke it), so it "
                f"can hold no tasks; {ctx.subject} was not moved."),
                "Make it 'threaded' (write 'threaded' to its cgroup.type) or pick another cgroup."))
        domain_ctrls = [c for c in st.subtree_control if c not in THREADED_CONTROLLERS]
        if not is_root and st.cgroup_type not in ("threaded", "domain threaded") and domain_ctrls:
            return _all(batch, lambda ctx: ctx.refuse("EBUSY", (
                f"{target} enables {', '.join(domain_ctrls)} for its children (cgroup.subtree_control), "
                f"and cgroup v2 allows no processes in such an inner cgroup; {ctx.subject} was not moved."),
                "Move it into a leaf cgroup below, or disable those controllers in cgroup.subtree_control."))
        out: list[tuple[HookContext, Answer]] = []
        if not is_root and st.cgroup_type == "domain" and st.subtree_control:
            # threaded controllers only: the target may hold tasks only by becoming a thread
            # root (cgroup_can_be_thread_root), which a populated domain child forbids
            busy, empty = _domain_children(batch)
            if busy:
                names = ", ".join(busy)
                return _all(batch, lambda ctx: ctx.refuse("EBUSY", (
                    f"{target} enables {', '.join(st.subtree_control)} for its children and its child "
                    f"{names} holds tasks, so it cannot become a thread root and cgroup v2 allows no "
                    f"processes in it; {ctx.subject} was not moved."),
                    "Move it into a leaf cgroup below, or empty its children first."))
            if empty:
                names = ", ".join(empty)
                out = _all(batch, lambda ctx: HookWarning(
                    f"Moving {ctx.subject} into {target} {MAKES_THREAD_ROOT} (it enables "
                    f"{', '.join(st.subtree_control)} for its children): its child cgroup "
                    f"{names} becomes 'domain invalid' and can hold no task until made threaded."))
        if not batch.threads:
            return out
        warned = {id(c): i for i, (c, _) in enumerate(out)}
        dst_dom = None
        for ctx in batch.items:
            if ctx.source is not None and ctx.source != path:
                src_dom = _dom(batch, ctx.source)
                dst_dom = dst_dom or _dom(batch, path)
                if src_dom != dst_dom:
                    if id(ctx) in warned:  # the refusal replaces the warning
                        out[warned[id(ctx)]] = (ctx, None)
                    out.append((ctx, ctx.refuse("EOPNOTSUPP", (
                        f"Thread {ctx.subject} is in {ctx.source} (threaded domain {src_dom}); cgroup.threads "
                        f"moves a thread only inside its own threaded domain, and {target} belongs to "
                        f"{dst_dom}."),
                        "Move the whole process (cgroup.procs, not thread mode), or pick a cgroup of the "
                        "same threaded subtree.")))
        return out


class CpusetEmpty(BuiltinHook):
    """cpuset ENOSPC: a v1 target without CPUs, or without memory nodes (either one empty
    is enough); a v2 target whose effective CPUs are empty (a partition whose CPUs all went
    to child partitions). Judged once for the batch."""

    name = "cpuset"

    def judge(self, batch: HookBatch) -> Judged:
        st = batch.target_state
        if batch.version == 2 and st is not None and st.cpuset_cpus is not None and not st.cpuset_cpus.strip():
            return _all(batch, lambda ctx: ctx.refuse("ENOSPC", (
                f"{batch.target} has no CPU left (cpuset.cpus.effective is empty: a cpuset partition whose CPUs "
                f"all went to its child partitions), so the cpuset controller refuses {ctx.subject}."),
                "Move it into one of its child partitions, or give the cgroup back a CPU (cpuset.cpus of its "
                "child partitions, or cpuset.cpus.partition 'member')."))
        if batch.version != 1 or "cpuset" not in batch.hierarchy.controllers or st is None:
            return self._scheduler(batch)
        empty = [n for n, v in (("cpuset.cpus", st.cpuset_cpus), ("cpuset.mems", st.cpuset_mems))
                 if v is not None and not v.strip()]
        if not empty:
            return self._scheduler(batch)
        names = " and ".join(empty)
        return _all(batch, lambda ctx: ctx.refuse("ENOSPC", (
            f"{batch.target} has an empty {names}, so {ctx.subject} could not run there "
            "and the cpuset controller refuses it."),
            f"Write CPUs and memory nodes into {names} of {batch.target} first."))

    @staticmethod
    def _scheduler(batch: HookBatch) -> Judged:
        """EPERM before Linux 6.6: cpuset's attach check also asks the scheduler's permission
        (security_task_setscheduler), which a writer without CAP_SYS_NICE lacks for a task
        holding capabilities it has not (a root task). No safe probe tells a running kernel's
        rule, so it is predicted only where the backend says the kernel has it
        (`cpuset_setscheduler_check`: the simulator's flag); where the backend cannot tell
        (None, the real kernel) the move is predicted with a warning that names the EPERM."""
        st = batch.target_state
        involved = ("cpuset" in batch.hierarchy.controllers if batch.version == 1
                    else st is not None and st.cpuset_cpus is not None)
        rule = getattr(batch.backend, "cpuset_setscheduler_check", None)
        if not involved or batch.writer.euid == 0 or rule is False:
            return ()
        if rule is None:
            return [(ctx, HookWarning(
                f"{ctx.subject} runs as root (it holds capabilities the writer, uid {batch.writer.euid}, has not): "
                f"a kernel before Linux 6.6 refuses to move it into {batch.target} with EPERM (its cpuset "
                "controller asks the scheduler's permission, which the writer lacks without CAP_SYS_NICE); "
                "newer kernels allow it.")) for ctx in batch.items if ctx.task is not None and ctx.task.euid == 0]
        return [(ctx, ctx.refuse("EPERM", (
            f"{ctx.subject} runs as root (it holds capabilities the writer, uid {batch.writer.euid}, has not), and "
            f"this kernel's cpuset controller asks the scheduler's permission to move it into {batch.target} "
            "(before Linux 6.6), which the writer lacks without CAP_SYS_NICE."),
            "Run as root, or leave root's tasks where they are.")) for ctx in batch.items
            if ctx.task is not None and ctx.task.euid == 0]


class FrozenTarget(BuiltinHook):
    """A warning: a frozen target freezes the task on arrival -- a FROZEN or FREEZING v1
    freezer cgroup, or a v2 cgroup that is frozen (its own cgroup.freeze is 1, or an
    ancestor's: cgroup.events says frozen). Judged once for the batch."""

    name = "freezer"

    def judge(self, batch: HookBatch) -> Judged:
        st = batch.target_state
        if st is None:
            return ()
        if batch.version == 1 and st.freezer_state in ("FROZEN", "FREEZING"):
            why = f"is {st.freezer_state}"
        elif batch.version == 2 and st.freezer_state == "1":
            why = "is frozen (cgroup v2 freezer: cgroup.freeze)"
        else:
            return ()
        target = batch.target
        return _all(batch, lambda ctx: HookWarning(
            f"{target} {why}: {ctx.subject} will stop running there until the cgroup is thawed."))


class SystemdManaged(BuiltinHook):
    """A warning when the source or target lies in a systemd unit (*.service, *.scope,
    *.slice): systemd may move the task back."""

    name = "systemd"

    def judge(self, batch: HookBatch) -> Judged:
        target_unit = _systemd_unit(batch.target.path)
        out = []
        for ctx in batch.items:
            src = ctx.source
            unit = _systemd_unit(src) if src else None
            if unit:
                out.append((ctx, HookWarning(f"The source {src} is managed by systemd (unit {unit}): "
                                             f"systemd may move {ctx.subject} back.")))
            elif target_unit:
                out.append((ctx, HookWarning(f"The target {batch.target.path} is managed by systemd (unit "
                                             f"{target_unit}): systemd may move {ctx.subject} back.")))
        return out


@lru_cache(maxsize=4096)
def _systemd_unit(path: str) -> str | None:
    """The innermost systemd unit named in a cgroup path, or None (cached: a batch asks
    about the same few paths for every PID)."""
    return systemd_unit(path)


BUILTIN_HOOKS: tuple[type[BuiltinHook], ...] = (
    TargetExists, Alive, KernelThread, AlreadyThereHook, FileAccess, V1Permission, CgroupNamespace, V2Delegation,
    V2Destination, CpusetEmpty, FrozenTarget, SystemdManaged,
)
"""The kernel's order, but for one deliberate change. The kernel opens the membership file
(ENOENT; EACCES), looks the task up (ESRCH), refuses kernel threads (EINVAL), checks the
writer's permission (v1 uid rule; a task outside a nsdelegate cgroup namespace: ENOENT; v2
delegation: EACCES), vets the v2 destination
(EOPNOTSUPP, EBUSY), lets the subsystems veto (cpuset ENOSPC), and moves nothing when the
task is already there. Here what depends on the target and the task alone comes first --
the target exists, the task is alive (else `vanished`), it is not a kernel thread that may
not move, it is not already there -- and only then who writes (the open's EACCES, the uid
rule, delegation): a task that is already there needs no write, so it is `already-there`
for root and non-root alike. Then the v2 destination, cpuset, and the warnings (frozen
target, systemd). The engine puts the policy hook and entry-point hooks after `cpuset`."""


def builtin_hooks() -> list[BuiltinHook]:
    """A fresh list of the built-in hooks in their order."""
    return [cls() for cls in BUILTIN_HOOKS]
