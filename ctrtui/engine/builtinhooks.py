"""The built-in hooks: the kernel's attach rules, each predicted before the write, in the
kernel's order (`BUILTIN_HOOKS`; docs/kernel.md says which rule each predicts and its test).

Each is a `BuiltinHook` (`ctrtui.engine.hooks`: the protocol, the batch and its contexts)
that judges a whole batch at once; a rule about the target alone (it is gone, frozen, its
cpuset is empty) is judged once for the batch. The kernel's own answer stays final.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from ctrtui.engine.hooks import (
    MAKES_THREAD_ROOT,
    THREADED_CONTROLLERS,
    AlreadyThere,
    Answer,
    BuiltinHook,
    HookBatch,
    HookContext,
    HookWarning,
    Judged,
    Refusal,
)
from ctrtui.engine.systemdroute import SystemdRoute
from ctrtui.engine.unitrisk import source_unit_risk, target_unit_risk
from ctrtui.model import common_ancestor, parent_path
from ctrtui.model.systemd import systemd_unit
from ctrtui.sources.base import systemd_units
from ctrtui.sources.systemd_risks import risk_for

__all__ = ["BUILTIN_HOOKS", "builtin_hooks", "CpusetEmpty"]


def _all(batch: HookBatch, answer: Callable[[HookContext], Answer]) -> list[tuple[HookContext, Answer]]:
    return [(ctx, answer(ctx)) for ctx in batch.items]


class TargetExists(BuiltinHook):
    """ENOENT: the target cgroup is gone (the kernel fails the open). Judged once for the
    whole batch."""

    name = "target-exists"

    def judge(self, batch: HookBatch) -> Judged:
        if batch.target_state is not None or batch.via == "scope":  # a new scope's cgroup is systemd's to make
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
        events = batch.backend.cgroup_stats(name, child, ("cgroup.events",)).get("cgroup.events", "")
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
    *.slice, ...): what leaving the source unit means, or what systemd then does to the
    task in the target unit (ctrtui.engine.unitrisk: what the lab measured)."""

    name = "systemd"

    def judge(self, batch: HookBatch) -> Judged:
        target = batch.target.path
        into = (risk_for("new-scope", "systemd", _systemd_unit(target) or "") if batch.via == "scope" else
                target_unit_risk(batch.hierarchy.name, batch.version, target, systemd_units(batch.backend)))
        out = []
        for ctx in batch.items:
            src = ctx.source
            unit = _systemd_unit(src) if src else None
            leaving = source_unit_risk(src, target) if src and unit else None
            if leaving:
                out.append((ctx, HookWarning(f"The source {src} is managed by systemd (unit {unit}): "
                                             f"moving {ctx.subject} out, {leaving}.")))
            elif into and (unit is None or unit != _systemd_unit(target)):
                out.append((ctx, HookWarning(f"The target {target} is managed by systemd (unit "
                                             f"{_systemd_unit(target)}): {into}")))
        return out


@lru_cache(maxsize=4096)
def _systemd_unit(path: str) -> str | None:
    """The innermost systemd unit named in a cgroup path, or None (cached: a batch asks
    about the same few paths for every PID)."""
    return systemd_unit(path)


BUILTIN_HOOKS: tuple[type[BuiltinHook], ...] = (
    TargetExists, Alive, KernelThread, AlreadyThereHook, FileAccess, V1Permission, CgroupNamespace, V2Delegation,
    V2Destination, CpusetEmpty, SystemdRoute, FrozenTarget, SystemdManaged,
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
for root and non-root alike. Then the v2 destination, cpuset, what systemd would refuse on
a systemd host (`systemd-route`: a slice's own cgroup, a unit not delegated unless the
kernel write is asked for), and the warnings (frozen target, systemd). The engine puts the
policy hook and entry-point hooks after `cpuset`."""


def builtin_hooks() -> list[BuiltinHook]:
    """A fresh list of the built-in hooks in their order."""
    return [cls() for cls in BUILTIN_HOOKS]
