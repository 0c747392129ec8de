"""Hooks: the kernel's two-step attach protocol, told in advance.

Like a cgroup subsystem, a hook has `can_attach(ctx)`, asked before the write (it may veto
with a `Refusal`, add a `Warning`, or say the task is `AlreadyThere`), and `attach(task, old,
new)`, told after a verified move. The built-in hooks predict every refusal of docs/kernel.md that
can be predicted, in the kernel's order; the kernel's own answer stays final.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

from ctrtui.errors import explain
from ctrtui.model import CgroupRef, CgroupState, Creds, Hierarchy, TaskInfo, common_ancestor, parent_path
from ctrtui.model.systemd import systemd_unit
from ctrtui.model.value import Value
from ctrtui.sources.base import membership_file

__all__ = [
    "AlreadyThere", "BUILTIN_HOOKS", "Hook", "HookContext", "HookWarning", "Refusal", "Warning",
    "THREADED_CONTROLLERS", "builtin_hooks",
]

#: v2 controllers that may be enabled in a threaded subtree (the rest are domain controllers).
THREADED_CONTROLLERS = frozenset({"cpu", "cpuset", "perf_event", "pids"})


class Refusal(Value):
    """A hook's veto: what the kernel would answer (`errno` name, or None when the kernel
    would not refuse but ctrtui does), a sentence naming PID and cgroup, and what to do."""

    __slots__ = ("errno", "reason", "advice")
    _defaults = {"advice": ""}
    errno: str | None
    reason: str
    advice: str


class HookWarning(Value):
    """The move may go ahead, but the person should know this."""

    __slots__ = ("message",)
    message: str


Warning = HookWarning  # noqa: A001 - the name hooks return, as the engine's API documents it


class AlreadyThere(Value):
    """Nothing to do: the task is already where it should go (the kernel's silent no-op)."""

    __slots__ = ("reason",)
    reason: str


class HookContext:
    """Everything a hook needs to judge one PID of a plan.

    `task` is the task the kernel judges: in process mode the thread-group leader (the kernel
    moves the whole group even for a non-leader TID), in thread mode the thread itself;
    `given` is the task of the PID as given. `source` is the judged task's cgroup in the
    target's hierarchy, `member_sources` the cgroup of each task that would move (every
    thread in process mode). `state(path)` reads a cgroup's facts once per plan.
    """

    __slots__ = ("backend", "hierarchy", "target", "target_state", "pid", "task", "given", "source", "threads",
                 "writer", "member_sources", "_state")
    backend: Any
    hierarchy: Hierarchy
    target: CgroupRef
    target_state: CgroupState | None
    pid: int
    task: TaskInfo | None
    given: TaskInfo | None
    source: str | None
    threads: bool
    writer: Creds
    member_sources: Mapping[int, str]
    _state: Callable[[str], CgroupState | None] | None

    def __init__(self, backend: Any, hierarchy: Hierarchy, target: CgroupRef, target_state: CgroupState | None,
                 pid: int, task: TaskInfo | None, given: TaskInfo | None, source: str | None, threads: bool,
                 writer: Creds, member_sources: Mapping[int, str] | None = None,
                 _state: Callable[[str], CgroupState | None] | None = None) -> None:
        self.backend = backend
        self.hierarchy = hierarchy
        self.target = target
        self.target_state = target_state
        self.pid = pid
        self.task = task
        self.given = given
        self.source = source
        self.threads = threads
        self.writer = writer
        self.member_sources = {} if member_sources is None else member_sources
        self._state = _state

    def __repr__(self) -> str:
        return f"HookContext(pid={self.pid}, target={self.target}, source={self.source!r}, threads={self.threads})"

    @property
    def version(self) -> int:
        return self.hierarchy.version

    @property
    def file(self) -> str:
        """The membership file the write goes to."""
        return membership_file(self.hierarchy.version, self.threads)

    @property
    def subject(self) -> str:
        """`PID 1234 (sleep)` for sentences."""
        t = self.given or self.task
        return f"PID {self.pid}" + (f" ({t.comm})" if t and t.comm else "")

    def state(self, path: str) -> CgroupState | None:
        if path == self.target.path:
            return self.target_state
        if self._state is not None:
            return self._state(path)
        return self.backend.cgroup_state(self.hierarchy.name, path)

    def refuse(self, errno: str, reason: str | None = None, advice: str | None = None) -> Refusal:
        """A refusal worded by `ctrtui.errors.explain`, with `reason`/`advice` overriding."""
        sentence, hint = explain(errno, pid=self.pid, cgroup=self.target, file=self.file)
        return Refusal(errno, reason or sentence, advice or hint)


@runtime_checkable
class Hook(Protocol):
    """What the engine calls. `can_attach` returns a Refusal, Warning, AlreadyThere or None;
    `attach` is told after a move was verified (old and new as CgroupRef)."""

    name: str

    def can_attach(self, ctx: HookContext) -> Refusal | HookWarning | AlreadyThere | None: ...

    def attach(self, task: TaskInfo | None, old_cgroup: CgroupRef, new_cgroup: CgroupRef) -> None: ...


class BuiltinHook:
    """Base of the built-in hooks: `attach` does nothing."""

    name = "builtin"

    def can_attach(self, ctx: HookContext) -> Refusal | HookWarning | AlreadyThere | None:
        raise NotImplementedError

    def attach(self, task: TaskInfo | None, old_cgroup: CgroupRef, new_cgroup: CgroupRef) -> None:
        return None

    def __repr__(self) -> str:
        return f"<hook {self.name}>"


class TargetExists(BuiltinHook):
    """ENOENT: the target cgroup is gone (the kernel fails the open)."""

    name = "target-exists"

    def can_attach(self, ctx):
        if ctx.target_state is None:
            return ctx.refuse("ENOENT", f"{ctx.target} does not exist; {ctx.subject} was not moved.")
        return None


class FileAccess(BuiltinHook):
    """EACCES at open: the writer may not open the membership file for writing."""

    name = "file-access"

    def can_attach(self, ctx):
        if ctx.target_state is not None and ctx.file not in ctx.target_state.writable:
            return ctx.refuse("EACCES", (
                f"The writer (uid {ctx.writer.euid}) may not open {ctx.file} of {ctx.target} for "
                f"writing, so {ctx.subject} cannot be moved there."),
                f"Run as root, or have the owner of {ctx.target} give you write access to its {ctx.file}.")
        return None


class Alive(BuiltinHook):
    """ESRCH for a missing task; a zombie or exiting task would be accepted by the kernel
    and not moved, so it is refused up front (errno ESRCH, as the 2007 kernel said)."""

    name = "alive"

    def can_attach(self, ctx):
        if ctx.task is None:
            return ctx.refuse("ESRCH", f"PID {ctx.pid} does not exist (it exited, or never existed); "
                              f"nothing was moved to {ctx.target}.")
        who = f"{ctx.subject}" + (f", thread group {ctx.task.pid}," if ctx.task.pid != ctx.pid else "")
        if ctx.task.zombie:
            return ctx.refuse("ESRCH", (
                f"{who} is a zombie (it exited and waits for its parent to reap it): the kernel would "
                f"accept the write to {ctx.target} and move nothing."),
                "Nothing to move; it disappears once its parent reaps it.")
        if ctx.task.exiting:
            return ctx.refuse("ESRCH", (
                f"{who} is exiting: the kernel would accept the write to {ctx.target} and move nothing."),
                "Nothing to move; it is about to disappear.")
        return None


class KernelThread(BuiltinHook):
    """EINVAL for kthreadd and PF_NO_SETAFFINITY kernel threads (and other kernel threads
    on v2); a warning for other kernel threads on v1."""

    name = "kernel-thread"

    def can_attach(self, ctx):
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
    """v1 EACCES: a non-root writer may only move tasks whose uid or saved uid is its euid."""

    name = "v1-permission"

    def can_attach(self, ctx):
        if ctx.version != 1:
            return None
        euid, t = ctx.writer.euid, ctx.task
        if t is not None and euid != 0 and euid != t.uid and euid != t.suid:
            return ctx.refuse("EACCES", (
                f"{ctx.subject} belongs to uid {t.uid} and the writer's euid is {euid}: cgroup v1 lets a "
                f"non-root writer move only its own tasks, so it cannot go to {ctx.target}."),
                "Run as root, or as the task's owner.")
        return None


class V2Delegation(BuiltinHook):
    """v2 EACCES: the writer must be able to write the cgroup.procs of the common ancestor
    of source and target (cgroup_procs_write_permission)."""

    name = "v2-delegation"

    def can_attach(self, ctx):
        if ctx.version != 2 or ctx.source is None:
            return None
        ca = common_ancestor(ctx.source, ctx.target.path)
        st = ctx.state(ca)
        if st is not None and "cgroup.procs" not in st.writable:
            return ctx.refuse("EACCES", (
                f"{ctx.subject} would move from {ctx.source} to {ctx.target.path}, and the writer "
                f"(uid {ctx.writer.euid}) may not write cgroup.procs of their common ancestor {ca}: "
                "cgroup v2 delegation forbids it."),
                f"Run as root, or move tasks only inside a subtree delegated to you (write access "
                f"to {ca}/cgroup.procs).")
        return None


def _dom(ctx: HookContext, path: str) -> str:
    """The threaded domain of `path`: itself, or its nearest non-threaded ancestor."""
    p: str | None = path
    while p is not None:
        st = ctx.state(p)
        if st is None or st.cgroup_type != "threaded":
            return p
        p = parent_path(p)
    return path


class V2Destination(BuiltinHook):
    """v2 destination rules (cgroup_migrate_vet_dst): EOPNOTSUPP for a `domain invalid`
    target or a thread leaving its threaded domain; EBUSY for an inner cgroup with domain
    controllers in its subtree_control (no internal processes)."""

    name = "v2-destination"

    def can_attach(self, ctx):
        if ctx.version != 2 or ctx.target_state is None:
            return None
        st, path = ctx.target_state, ctx.target.path
        is_root = path == ctx.hierarchy.root or path == "/"
        if st.cgroup_type == "domain invalid":
            return ctx.refuse("EOPNOTSUPP", (
                f"{ctx.target} has cgroup.type 'domain invalid' (a threaded subtree broke it), so it "
                f"can hold no tasks; {ctx.subject} was not moved."),
                "Make it 'threaded' (write 'threaded' to its cgroup.type) or pick another cgroup.")
        domain_ctrls = [c for c in st.subtree_control if c not in THREADED_CONTROLLERS]
        if not is_root and st.cgroup_type not in ("threaded", "domain threaded") and domain_ctrls:
            return ctx.refuse("EBUSY", (
                f"{ctx.target} enables {', '.join(domain_ctrls)} for its children (cgroup.subtree_control), "
                f"and cgroup v2 allows no processes in such an inner cgroup; {ctx.subject} was not moved."),
                "Move it into a leaf cgroup below, or disable those controllers in cgroup.subtree_control.")
        if ctx.threads and ctx.source is not None and ctx.source != path:
            src_dom, dst_dom = _dom(ctx, ctx.source), _dom(ctx, path)
            if src_dom != dst_dom:
                return ctx.refuse("EOPNOTSUPP", (
                    f"Thread {ctx.subject} is in {ctx.source} (threaded domain {src_dom}); cgroup.threads "
                    f"moves a thread only inside its own threaded domain, and {ctx.target} belongs to "
                    f"{dst_dom}."),
                    "Move the whole process (cgroup.procs, not thread mode), or pick a cgroup of the "
                    "same threaded subtree.")
        return None


class AlreadyThereHook(BuiltinHook):
    """The kernel's silent no-op: the task (in process mode: every thread) is there."""

    name = "already-there"

    def can_attach(self, ctx):
        where = ctx.member_sources or ({ctx.pid: ctx.source} if ctx.source else {})
        if where and all(p == ctx.target.path for p in where.values()):
            what = "all its threads are" if not ctx.threads and len(where) > 1 else "it is"
            return AlreadyThere(f"{ctx.subject} is already in {ctx.target} ({what} there); nothing to do.")
        return None


class CpusetEmpty(BuiltinHook):
    """v1 cpuset ENOSPC: the target has no CPUs or no memory nodes."""

    name = "cpuset"

    def can_attach(self, ctx):
        if ctx.version != 1 or "cpuset" not in ctx.hierarchy.controllers or ctx.target_state is None:
            return None
        st = ctx.target_state
        empty = [n for n, v in (("cpuset.cpus", st.cpuset_cpus), ("cpuset.mems", st.cpuset_mems))
                 if v is not None and not v.strip()]
        if empty:
            return ctx.refuse("ENOSPC", (
                f"{ctx.target} has an empty {' and '.join(empty)}, so {ctx.subject} could not run there "
                "and the cpuset controller refuses it."),
                f"Write CPUs and memory nodes into {' and '.join(empty)} of {ctx.target} first.")
        return None


class FrozenTarget(BuiltinHook):
    """A warning: a FROZEN v1 freezer target freezes the task on arrival."""

    name = "freezer"

    def can_attach(self, ctx):
        st = ctx.target_state
        if ctx.version == 1 and st is not None and st.freezer_state in ("FROZEN", "FREEZING"):
            return HookWarning(f"{ctx.target} is {st.freezer_state}: {ctx.subject} will stop running there "
                               "until the cgroup is thawed.")
        return None


class SystemdManaged(BuiltinHook):
    """A warning when the source or target lies in a systemd unit (*.service, *.scope,
    *.slice): systemd may move the task back."""

    name = "systemd"

    def can_attach(self, ctx):
        for label, path in (("source", ctx.source), ("target", ctx.target.path)):
            unit = _systemd_unit(path) if path else None
            if unit:
                return HookWarning(f"The {label} {path} is managed by systemd (unit {unit}): "
                                   f"systemd may move {ctx.subject} back.")
        return None


@lru_cache(maxsize=4096)
def _systemd_unit(path: str) -> str | None:
    """The innermost systemd unit named in a cgroup path, or None (cached: a batch asks
    about the same few paths for every PID)."""
    return systemd_unit(path)


BUILTIN_HOOKS: tuple[type[BuiltinHook], ...] = (
    TargetExists, FileAccess, Alive, KernelThread, V1Permission, V2Delegation, V2Destination,
    AlreadyThereHook, CpusetEmpty, FrozenTarget, SystemdManaged,
)
"""In the kernel's order: open (ENOENT, EACCES), lookup (ESRCH), kernel thread (EINVAL),
permission (EACCES), v2 destination (EOPNOTSUPP, EBUSY), no-op, subsystem veto (ENOSPC);
then warnings."""


def builtin_hooks() -> list[BuiltinHook]:
    """A fresh list of the built-in hooks in their order."""
    return [cls() for cls in BUILTIN_HOOKS]
