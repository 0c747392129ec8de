"""The attach engine on the simulated kernel: every refusal is predicted by the right hook,
and the (simulated) kernel agrees when the hooks are bypassed."""

from __future__ import annotations

import errno

import pytest

from ctrtui.engine import (
    AttachEngine,
    HookWarning,
    Journal,
    Outcome,
    Plan,
    Policy,
    Refusal,
    Report,
    Verdict,
)
from ctrtui.engine.builtinhooks import BUILTIN_HOOKS
from ctrtui.model import CgroupRef
from ctrtui.sources.simulated import SimKernel


def ref(text: str) -> CgroupRef:
    return CgroupRef.parse(text)


@pytest.fixture
def k() -> SimKernel:
    return hybrid_machine()


def hybrid_machine() -> SimKernel:
    """A small hybrid machine: v1 freezer, cpuset, name=systemd; v2 unified."""
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.add_hierarchy("cpuset", 1, ["cpuset"])
    k.add_hierarchy("name=systemd", 1, ["name=systemd"])
    k.add_hierarchy("unified", 2, ["cpu", "hugetlb", "pids"])
    k.spawn("kthreadd", kthread=True, pid=2)
    for path in ("/a", "/b", "/system.slice", "/system.slice/cron.service"):
        k.makedirs("freezer", path)
        k.makedirs("unified", path)
    k.mkdir("cpuset", "/full")
    k.set_cpuset("cpuset", "/full", cpus="0-1", mems="0")
    k.mkdir("cpuset", "/empty")
    return k


def engine(k, **kw) -> AttachEngine:
    kw.setdefault("policy", Policy())
    kw.setdefault("load_entry_points", False)
    return AttachEngine(k, **kw)


def bypass(k) -> AttachEngine:
    """No hooks at all: the kernel decides everything."""
    return AttachEngine(k, hooks=[])


def where(k, pid, hier):
    return (k.task_cgroups(pid) or {}).get(hier)


def predicted_and_confirmed(k, pid, target, errno_name, hook, threads=False, kernel_outcome="refused"):
    """The hook refuses with `errno_name`; without hooks the kernel says the same, and
    nothing moved either way."""
    t = ref(target)
    v = engine(k).plan([pid], t, threads=threads).verdicts[0]
    kind = "vanished" if errno_name == "ESRCH" else "refused"  # ESRCH: the task is gone
    assert (v.kind, v.errno, v.hook) == (kind, errno_name, hook), v
    assert str(pid) in v.reason and t.path in v.reason and v.advice
    before = k.task_cgroups(pid)
    o = bypass(k).apply(bypass(k).plan([pid], t, threads=threads)).outcomes[0]
    assert o.outcome == kernel_outcome, o
    if kernel_outcome == "refused":
        assert (o.errno, o.hook) == (errno_name, "kernel"), o
        assert str(pid) in o.reason and o.advice
    assert k.task_cgroups(pid) == before
    return v, o


# ----------------------------------------------------------------------------- moves


def test_process_mode_moves_every_thread(k):
    p = k.spawn("worker", threads=3)
    e = engine(k)
    plan = e.plan([p], ref("freezer:/a"))
    assert isinstance(plan, Plan) and plan.ok
    assert plan.summary() == {"move": 1, "already-there": 0, "refused": 0, "vanished": 0}
    v = plan.verdicts[0]
    assert isinstance(v, Verdict) and v.source == "/" and v.start_time == k.task_state(p).start_time
    report = e.apply(plan)
    assert isinstance(report, Report) and report.ok and report.counts()["moved"] == 1
    o = report.outcomes[0]
    assert isinstance(o, Outcome) and (o.outcome, o.source, o.target) == ("moved", "/", "/a")
    assert all(where(k, t, "freezer") == "/a" for t in k.thread_ids(p))
    assert where(k, p, "unified") == "/"


def test_thread_mode_moves_one_thread_and_process_mode_needs_all_threads(k):
    p = k.spawn("worker", threads=3)
    tids = k.thread_ids(p)
    e = engine(k)
    r = e.apply(e.plan([tids[1]], ref("freezer:/a"), threads=True))
    assert r.outcomes[0].outcome == "moved"
    assert [where(k, t, "freezer") for t in tids] == ["/", "/a", "/"]
    # the thread is there: a no-op in thread mode ...
    assert e.plan([tids[1]], ref("freezer:/a"), threads=True).verdicts[0].kind == "already-there"
    # ... but in process mode the group is there only when all its threads are
    v = e.plan([p], ref("freezer:/a")).verdicts[0]
    assert v.kind == "move"
    e.apply(e.plan([p], ref("freezer:/a")))
    assert [where(k, t, "freezer") for t in tids] == ["/a"] * 3
    v = e.plan([p], ref("freezer:/a")).verdicts[0]
    assert (v.kind, v.hook) == ("already-there", "already-there") and "all its threads" in v.reason


def test_non_leader_tid_in_process_mode_moves_the_whole_process(k):
    p = k.spawn("worker", threads=2)
    tid = k.thread_ids(p)[1]
    e = engine(k)
    plan = e.plan([tid], ref("unified:/a"))
    assert plan.verdicts[0].kind == "move" and "whole process" in plan.verdicts[0].warnings[0]
    r = e.apply(plan)
    assert r.outcomes[0].outcome == "moved"
    assert where(k, p, "unified") == where(k, tid, "unified") == "/a"


def test_v2_thread_move_inside_a_threaded_domain(k):
    k.mkdir("unified", "/dom")
    for name in ("t1", "t2"):
        k.mkdir("unified", f"/dom/{name}")
        k.set_type("unified", f"/dom/{name}", "threaded")
    p = k.spawn("server", threads=2, cgroups={"unified": "/dom/t1"})
    tid = k.thread_ids(p)[1]
    e = engine(k)
    r = e.apply(e.plan([tid], ref("unified:/dom/t2"), threads=True))
    assert r.outcomes[0].outcome == "moved"
    assert (where(k, p, "unified"), where(k, tid, "unified")) == ("/dom/t1", "/dom/t2")
    # leaving the threaded domain in thread mode: EOPNOTSUPP, predicted and confirmed
    predicted_and_confirmed(k, tid, "unified:/a", "EOPNOTSUPP", "v2-destination", threads=True)
    # a domain invalid sibling takes nothing
    k.mkdir("unified", "/dom/other")
    assert k.cgroup_state("unified", "/dom/other").cgroup_type == "domain invalid"
    q = k.spawn("sleep")
    predicted_and_confirmed(k, q, "unified:/dom/other", "EOPNOTSUPP", "v2-destination")


def test_already_there_is_a_no_op_without_a_write(k):
    p = k.spawn("sleep", cgroups={"freezer": "/a"})
    e = engine(k)
    plan = e.plan([p], ref("freezer:/a"))
    assert plan.verdicts[0].kind == "already-there" and plan.ok
    r = e.apply(plan)
    assert r.ok and r.outcomes[0].outcome == "already-there"
    # the kernel agrees: success, and it is there
    o = bypass(k).apply(bypass(k).plan([p], ref("freezer:/a"))).outcomes[0]
    assert o.outcome == "moved" and where(k, p, "freezer") == "/a"


def test_hierarchy_by_controller_word_and_unknown_hierarchy(k):
    from ctrtui.errors import CtrtuiError

    p = k.spawn("sleep")
    plan = engine(k).plan([p], ref("systemd:/a".replace("systemd", "name=systemd")))
    assert plan.target.hierarchy == "name=systemd"
    with pytest.raises(CtrtuiError, match="unknown hierarchy 'memory'"):
        engine(k).plan([p], ref("memory:/a"))


# ----------------------------------------------------------------------------- refusals


def test_parse_refusals_never_reach_the_kernel(k):
    p = k.spawn("sleep")
    plan = engine(k).plan(["015616", "0x1f", "+5", "-1", "abc", "", "0", "2147483648", "40000", str(p)],
                          ref("freezer:/a"))
    kinds = [(v.kind, v.hook, v.errno) for v in plan.verdicts]
    assert kinds[:9] == [("refused", "parse", e) for e in
                         (None, None, None, "EINVAL", "EINVAL", "EINVAL", None, "EINVAL", "ESRCH")]
    assert kinds[9] == ("move", None, None)
    assert [v.pid for v in plan.verdicts[:9]] == [None] * 9
    assert "octal" in plan.verdicts[0].reason and "writer itself" in plan.verdicts[6].reason
    assert plan.summary() == {"move": 1, "already-there": 0, "refused": 9, "vanished": 0}


def test_no_such_pid(k):
    v = engine(k).plan([4444], ref("freezer:/a")).verdicts[0]
    assert (v.kind, v.errno, v.hook) == ("vanished", "ESRCH", "alive") and "4444" in v.reason
    o = bypass(k).apply(bypass(k).plan([4444], ref("freezer:/a"))).outcomes[0]
    assert (o.outcome, o.errno) == ("vanished", "ESRCH")


def test_zombie_is_refused_and_the_kernel_would_move_nothing(k):
    z = k.spawn("defunct")
    k.exit(z)
    v, o = predicted_and_confirmed(k, z, "freezer:/a", "ESRCH", "alive", kernel_outcome="vanished")
    assert "zombie" in v.reason and "exited" in o.reason and o.errno == "ESRCH"


def test_exiting_task_is_refused_and_the_kernel_would_move_nothing(k):
    p = k.spawn("dying", threads=2)
    k.set_exiting(p)
    v, o = predicted_and_confirmed(k, p, "freezer:/a", "ESRCH", "alive", kernel_outcome="not-moved")
    assert "exiting" in v.reason
    assert o.reason == (f"The kernel accepted PID {p} for freezer:/a, but it is still in freezer:/: it is exiting, "
                        "and the kernel moves nothing that exits.")


@pytest.mark.parametrize("front", ["cli", "ui"])
def test_a_task_moved_away_by_someone_else_during_the_batch_is_reported_where_it_is_now(k, front):
    """Another process moves the task out of the target between the write and the check: it is
    alive and elsewhere, not "probably exiting"."""
    pid = k.spawn("busy", cgroups={"freezer": "/b"})
    k.mkdir("freezer", "/c")
    write, racing = k._attach_write, []

    def and_someone_moves_it(f, data):
        n = write(f, data)
        if not racing:
            racing.append(1)
            k.write_pid("freezer", "/c", "cgroup.procs", str(pid).encode())  # "systemd" moves it on
        return n

    k._attach_write = and_someone_moves_it
    e = bypass(k)
    e.front = front
    o = e.apply(e.plan([pid], ref("freezer:/a"))).outcomes[0]
    assert (o.outcome, o.errno) == ("not-moved", None)
    assert o.reason == (f"The kernel accepted PID {pid} for freezer:/a, but it is in freezer:/c now, and alive: "
                        "something else (systemd, a container runtime, another ctrtui) moved it there while the "
                        "batch ran.")
    assert o.advice == ("Refresh and check the task." if front == "ui" else
                        f"Check where it is with `cat /proc/{pid}/cgroup` and what moves it before moving it again.")
    assert where(k, pid, "freezer") == "/c"


def test_kthreadd_and_pinned_kernel_threads(k):
    predicted_and_confirmed(k, 2, "freezer:/a", "EINVAL", "kernel-thread")
    predicted_and_confirmed(k, 2, "unified:/a", "EINVAL", "kernel-thread")
    pinned = k.spawn("ksoftirqd/0", kthread=True, no_setaffinity=True)
    v, _ = predicted_and_confirmed(k, pinned, "freezer:/a", "EINVAL", "kernel-thread")
    assert "PF_NO_SETAFFINITY" in v.reason


def test_other_kernel_threads_v1_warning_v2_refused(k):
    kt = k.spawn("kswapd0", kthread=True)
    e = engine(k)
    plan = e.plan([kt], ref("freezer:/a"))
    assert plan.verdicts[0].kind == "move" and "kernel thread" in plan.verdicts[0].warnings[0]
    assert e.apply(plan).outcomes[0].outcome == "moved"
    predicted_and_confirmed(k, kt, "unified:/a", "EINVAL", "kernel-thread")


def test_missing_target(k):
    p = k.spawn("sleep")
    v, o = predicted_and_confirmed(k, p, "freezer:/nope", "ENOENT", "target-exists")
    assert "does not exist" in v.reason


def test_membership_file_not_writable(k):
    p = k.spawn("sleep", uid=1000)
    k.set_writer(uid=1000)
    v, _ = predicted_and_confirmed(k, p, "freezer:/a", "EACCES", "file-access")
    assert "uid 1000" in v.reason


def test_v1_euid_rule(k):
    k.chown("freezer", "/a", 1000)
    k.set_writer(uid=1000)
    root_task = k.spawn("sleep", uid=0)
    v, _ = predicted_and_confirmed(k, root_task, "freezer:/a", "EACCES", "v1-permission")
    assert "uid 0" in v.reason and "euid is 1000" in v.reason
    own = k.spawn("sleep", uid=1000)
    setuid = k.spawn("passwd", uid=0, euid=0, suid=1000)
    e = engine(k)
    r = e.apply(e.plan([own, setuid], ref("freezer:/a")))
    assert [o.outcome for o in r.outcomes] == ["moved", "moved"]


def test_v2_delegation_rule(k):
    k.chown("unified", "/a", 1000)
    k.chown("unified", "/b", 1000)
    k.set_writer(uid=1000)
    p = k.spawn("sleep", uid=1000, cgroups={"unified": "/b"})
    v, _ = predicted_and_confirmed(k, p, "unified:/a", "EACCES", "v2-delegation")
    assert "common ancestor /" in v.reason
    # inside a delegated subtree the move is fine (no uid rule on v2: even a root task)
    k.set_writer(uid=0)
    k.mkdir("unified", "/deleg")
    for sub in ("x", "y"):
        k.mkdir("unified", f"/deleg/{sub}")
        k.chown("unified", f"/deleg/{sub}", 1000)
    k.chown("unified", "/deleg", 1000)
    q = k.spawn("sleep", uid=0, cgroups={"unified": "/deleg/x"})
    k.set_writer(uid=1000)
    e = engine(k)
    r = e.apply(e.plan([q], ref("unified:/deleg/y")))
    assert r.outcomes[0].outcome == "moved"


def test_v2_no_internal_processes(k):
    k.set_subtree_control("unified", "/", "+hugetlb +pids")
    k.mkdir("unified", "/inner")
    k.mkdir("unified", "/inner/leaf")
    k.set_subtree_control("unified", "/inner", "+hugetlb")
    p = k.spawn("sleep")
    v, _ = predicted_and_confirmed(k, p, "unified:/inner", "EBUSY", "v2-destination")
    assert "hugetlb" in v.reason
    # threaded controllers only: no EBUSY, and the kernel agrees
    k.mkdir("unified", "/tonly")
    k.set_subtree_control("unified", "/tonly", "+pids")
    e = engine(k)
    assert e.apply(e.plan([p], ref("unified:/tonly"))).outcomes[0].outcome == "moved"
    assert e.apply(e.plan([p], ref("unified:/inner/leaf"))).outcomes[0].outcome == "moved"
    # the root is exempt
    assert e.apply(e.plan([p], ref("unified:/"))).outcomes[0].outcome == "moved"


def test_v1_empty_cpuset(k):
    p = k.spawn("sleep")
    v, _ = predicted_and_confirmed(k, p, "cpuset:/empty", "ENOSPC", "cpuset")
    assert "cpuset.cpus and cpuset.mems" in v.reason
    e = engine(k)
    assert e.apply(e.plan([p], ref("cpuset:/full"))).outcomes[0].outcome == "moved"


@pytest.mark.parametrize("before_6_6", [False, True])
def test_v2_cpuset_setscheduler_check_before_6_6(before_6_6):
    """Before 6.6 cpuset's attach check asks the scheduler's permission too: a delegated,
    unprivileged writer may not move a root task between cpusets (EPERM), though v2 checks
    no uid. The simulator's flag stands for that kernel; the cpuset hook predicts it only
    where the backend says so (no safe probe of a running kernel exists)."""
    k = SimKernel()
    k.add_hierarchy("unified", 2, ["cpuset", "pids"])
    k.set_subtree_control("unified", "/", "+cpuset")
    for path in ("/d", "/d/x", "/d/y"):
        k.mkdir("unified", path)
        k.chown("unified", path, 1000)
    k.set_subtree_control("unified", "/d", "+cpuset")  # /d/x and /d/y are two cpusets
    k.cpuset_setscheduler_check = before_6_6
    root_task = k.spawn("sshd", cgroups={"unified": "/d/x"})
    mine = k.spawn("sleep", uid=1000, cgroups={"unified": "/d/x"})
    k.set_writer(1000, 1000)
    if before_6_6:
        v, _ = predicted_and_confirmed(k, root_task, "unified:/d/y", "EPERM", "cpuset")
        assert "6.6" in v.reason
    else:
        e = engine(k)
        assert e.apply(e.plan([root_task], ref("unified:/d/y"))).outcomes[0].outcome == "moved"
    e = engine(k)
    assert e.apply(e.plan([mine], ref("unified:/d/y"))).outcomes[0].outcome == "moved"


def test_v2_cpuset_setscheduler_rule_unknown_warns():
    """Where the backend cannot tell the kernel's rule (the real kernel: None), the plan for
    an unprivileged writer moving a root task between cpusets says the move may be refused
    EPERM before Linux 6.6 (a Debian 12 guest, 6.1, refuses it); its own task, no warning."""
    k = SimKernel()
    k.add_hierarchy("unified", 2, ["cpuset", "pids"])
    k.set_subtree_control("unified", "/", "+cpuset")
    for path in ("/d", "/d/x", "/d/y"):
        k.mkdir("unified", path)
        k.chown("unified", path, 1000)
    k.set_subtree_control("unified", "/d", "+cpuset")
    k.cpuset_setscheduler_check = None  # type: ignore[assignment]  # as the real backend says
    root_task = k.spawn("sshd", cgroups={"unified": "/d/x"})
    mine = k.spawn("sleep", uid=1000, cgroups={"unified": "/d/x"})
    k.set_writer(1000, 1000)
    v = engine(k).plan([root_task], ref("unified:/d/y")).verdicts[0]
    assert v.kind == "move", v
    assert [w for w in v.warnings if "EPERM" in w and "6.6" in w and "CAP_SYS_NICE" in w], v.warnings
    v = engine(k).plan([mine], ref("unified:/d/y")).verdicts[0]
    assert v.kind == "move" and not [w for w in v.warnings if "EPERM" in w], v.warnings
    k.set_writer(0, 0)
    v = engine(k).plan([root_task], ref("unified:/d/y")).verdicts[0]
    assert v.kind == "move" and not [w for w in v.warnings if "EPERM" in w], v.warnings


class _InNamespace(SimKernel):
    """A simulated kernel read from inside a cgroup namespace rooted at /ns of `unified`
    (once `inside` is set, after the set-up): cgroup paths are relative to /ns, and a task
    outside it reads `/../...`, as /proc/PID/cgroup shows it there."""

    def __init__(self, nsdelegate: bool) -> None:
        super().__init__()
        self.nsdelegate = nsdelegate
        self.inside = False

    def _cg(self, hier: str, path: str):
        if self.inside and hier == "unified":
            path = "/ns" + (path if path != "/" else "")
        return super()._cg(hier, path)

    def ns_delegate(self, hierarchy: str) -> bool:
        return self.nsdelegate

    def _rel(self, path: str | None) -> str | None:
        if not self.inside:
            return path
        if path is None or path == "/ns" or path.startswith("/ns/"):
            return None if path is None else path[3:] or "/"
        return "/.." + path

    def task_cgroup(self, pid: int, hierarchy: str) -> str | None:
        where = super().task_cgroup(pid, hierarchy)
        return self._rel(where) if hierarchy == "unified" else where

    def task_cgroups(self, pid: int) -> dict[str, str] | None:
        got = super().task_cgroups(pid)
        return None if got is None else {h: (self._rel(p) or p) if h == "unified" else p for h, p in got.items()}


@pytest.mark.parametrize("nsdelegate,errno_name", [(True, "ENOENT"), (False, None)])
def test_a_task_outside_the_cgroup_namespace(nsdelegate, errno_name):
    """With nsdelegate the kernel refuses a task outside the writer's cgroup namespace
    (ENOENT); without it the kernel would move it, but ctrtui could not say where it came
    from (nor undo it), so it refuses itself. A task inside moves."""
    k = _InNamespace(nsdelegate)
    k.add_hierarchy("unified", 2, ["pids"])
    k.makedirs("unified", "/ns/inner")
    k.mkdir("unified", "/system.slice")
    outside = k.spawn("cron", cgroups={"unified": "/system.slice"})
    inside = k.spawn("sleep", cgroups={"unified": "/ns"})
    k.inside = True
    v = engine(k).plan([outside], ref("unified:/inner")).verdicts[0]
    assert (v.kind, v.errno, v.hook) == ("refused", errno_name, "cgroup-namespace"), v
    assert "outside this cgroup namespace" in v.reason and "/../system.slice" in v.reason and v.advice
    assert engine(k).plan([inside], ref("unified:/inner")).verdicts[0].kind == "move"


def test_a_task_from_outside_the_namespace_moved_without_hooks_keeps_the_journal_readable(tmp_path):
    """Hooks bypassed, the kernel (without nsdelegate) moves a task from outside the
    namespace: its origin `/../system.slice` names no cgroup here, so the journal records
    none (a path with `..` would make the journal unreadable)."""
    k = _InNamespace(False)
    k.add_hierarchy("unified", 2, ["pids"])
    k.makedirs("unified", "/ns/inner")
    k.mkdir("unified", "/system.slice")
    outside = k.spawn("cron", cgroups={"unified": "/system.slice"})
    k.inside = True
    j = Journal(str(tmp_path / "j.jsonl"))
    e = AttachEngine(k, hooks=[], journal=j)
    assert e.apply(e.plan([outside], ref("unified:/inner"))).outcomes[0].outcome == "moved"
    (b,) = Journal(j.path).batches()
    assert b.moved()[0]["from"] is None and b.tasks[0]["from"] is None


def test_refusal_order_follows_the_kernel(k):
    """A missing task in a missing cgroup: the kernel fails the open first (ENOENT)."""
    v = engine(k).plan([4444], ref("freezer:/nope")).verdicts[0]
    assert (v.errno, v.hook) == ("ENOENT", "target-exists")
    # kthreadd into an empty cpuset: EINVAL (kernel thread) comes before ENOSPC
    v = engine(k).plan([2], ref("cpuset:/empty")).verdicts[0]
    assert (v.errno, v.hook) == ("EINVAL", "kernel-thread")


# ----------------------------------------------------------------------------- warnings and hooks


def test_systemd_and_frozen_warnings(k):
    p = k.spawn("cron", cgroups={"unified": "/system.slice/cron.service"})
    e = engine(k)
    v = e.plan([p], ref("unified:/a")).verdicts[0]
    assert v.kind == "move" and "cron.service" in v.warnings[0] and "systemctl stop of that unit no longer " \
        "reaches it" in v.warnings[0], v.warnings
    k.set_freezer("freezer", "/b", "FROZEN")
    v = e.plan([p], ref("freezer:/b")).verdicts[0]
    assert v.kind == "move" and any("FROZEN" in w for w in v.warnings)


def test_default_hooks_in_kernel_order_with_policy(k):
    names = [h.name for h in engine(k).hooks]
    assert names == ["target-exists", "alive", "kernel-thread", "already-there", "file-access", "v1-permission",
                     "cgroup-namespace", "v2-delegation", "v2-destination", "cpuset", "policy",
                     "systemd-route", "freezer", "systemd"]
    assert len(BUILTIN_HOOKS) == 13
    assert engine(k, hooks=[]).hooks == []


class Recorder:
    """A hook that refuses one PID, warns about another and records attach calls."""

    name = "recorder"

    def __init__(self, refuse: int, warn: int):
        self.refuse, self.warn, self.calls = refuse, warn, []

    def can_attach(self, ctx):
        if ctx.pid == self.refuse:
            return Refusal("EPERM", f"PID {ctx.pid} is not welcome in {ctx.target}", "Ask nicely.")
        if ctx.pid == self.warn:
            return HookWarning("careful")
        return None

    def attach(self, task, old, new):
        self.calls.append((task.pid, str(old), str(new)))


class Broken:
    """A hook that fails in both steps."""

    name = "broken"

    def __init__(self, pid):
        self.pid = pid

    def can_attach(self, ctx):
        if ctx.pid == self.pid:
            raise RuntimeError("boom")
        return "nonsense" if ctx.pid == self.pid + 1000 else None

    def attach(self, task, old, new):
        raise ValueError("after-boom")


def test_user_hooks_refuse_warn_and_are_told(k):
    a, b, c = k.spawn("a"), k.spawn("b"), k.spawn("c")
    rec = Recorder(refuse=a, warn=b)
    e = engine(k, hooks=[rec])
    plan = e.plan([a, b, c], ref("freezer:/a"))
    assert [(v.kind, v.hook) for v in plan.verdicts] == [("refused", "recorder"), ("move", None), ("move", None)]
    assert plan.verdicts[1].warnings == ("careful",)
    r = e.apply(plan)
    assert [o.outcome for o in r.outcomes] == ["refused", "moved", "moved"]
    assert rec.calls == [(b, "freezer:/", "freezer:/a"), (c, "freezer:/", "freezer:/a")]


def test_a_failing_hook_is_a_refusal_naming_it_never_a_crash(k):
    a, b = k.spawn("a"), k.spawn("b")
    e = engine(k, hooks=[Broken(a)])
    plan = e.plan([a, b], ref("freezer:/a"))
    v = plan.verdicts[0]
    assert (v.kind, v.hook, v.errno) == ("refused", "broken", None) and "boom" in v.reason
    r = e.apply(plan)
    assert r.outcomes[1].outcome == "moved"
    assert any("after-boom" in w for w in r.outcomes[1].warnings)


def test_a_hook_answering_nonsense_is_a_refusal(k):
    a = k.spawn("a")
    k.spawn("pad")
    e = engine(k, hooks=[Broken(a - 1000)])
    v = e.plan([a], ref("freezer:/a")).verdicts[0]
    assert (v.kind, v.hook) == ("refused", "broken") and "does not understand" in v.reason


class FakeEP:
    def __init__(self, name, obj=None, exc=None):
        self.name, self.value, self._obj, self._exc = name, f"plugin:{name}", obj, exc

    def load(self):
        if self._exc:
            raise self._exc
        return self._obj


def _dist(root, name: str, entry_points: str, module: str | None = None):
    """An installed distribution `name` 1.0 under `root` (as pip leaves it in site-packages)."""
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    if module is not None:
        (root / f"{name}.py").write_text(module)
    return root


def test_entry_point_hooks_load_and_broken_plugins_are_reported(k, monkeypatch, tmp_path):
    import importlib.metadata as md

    class Plugin:
        name = "plugin"

        def can_attach(self, ctx):
            return Refusal("EPERM", f"plugin says no to PID {ctx.pid}", "Uninstall it.")

        def attach(self, task, old, new):
            pass

    eps = [FakeEP("good", Plugin), FakeEP("factory", lambda: Plugin()), FakeEP("bad", exc=ImportError("nope")),
           FakeEP("junk", obj=42)]
    monkeypatch.setattr(md, "entry_points", lambda group: eps if group == "ctrtui.hooks" else [])
    monkeypatch.syspath_prepend(str(_dist(tmp_path, "plugin", "[ctrtui.hooks]\ngood = plugin:Plugin\n")))
    e = AttachEngine(k, policy=Policy())
    assert [h.name for h in e.hooks].count("plugin") == 2
    assert len(e.warnings) == 2 and "'bad'" in e.warnings[0] and "nope" in e.warnings[0]
    assert "not a hook" in e.warnings[1]
    p = k.spawn("sleep")
    v = e.plan([p], ref("freezer:/a")).verdicts[0]
    assert (v.kind, v.hook) == ("refused", "plugin")
    assert AttachEngine(k, policy=Policy(), load_entry_points=False).warnings == []


def test_a_distribution_declaring_no_hook_gives_none_and_a_zipped_one_is_found(k, monkeypatch, tmp_path):
    """Discovery is importlib.metadata's: an empty `[ctrtui.hooks]` section (ctrtui's own
    pyproject declares one) and other groups give no hook and no warning; a plugin in a zip
    on sys.path (its dist-info inside) is found and judges like any other."""
    import zipfile

    quiet = tmp_path / "quiet"
    quiet.mkdir()
    _dist(quiet, "quiet", "[console_scripts]\nq = quiet:main\n\n[ctrtui.hooks]\n# none yet\n")
    monkeypatch.syspath_prepend(str(quiet))
    e = AttachEngine(k, policy=Policy())
    assert not {"q", "quiet"} & {h.name for h in e.hooks} and e.warnings == []
    zipped = tmp_path / "zipplug.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("zipplug-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipplug\nVersion: 1.0\n")
        z.writestr("zipplug-1.0.dist-info/entry_points.txt", "[ctrtui.hooks]\nzipped = zipplug:Hook\n")
        z.writestr("zipplug.py", "from ctrtui.engine import Refusal\n"
                                 "class Hook:\n"
                                 "    def can_attach(self, ctx):\n"
                                 "        return Refusal('EPERM', f'zipped plugin refuses PID {ctx.pid}', 'Rm.')\n"
                                 "    def attach(self, task, old, new):\n"
                                 "        pass\n")
    monkeypatch.syspath_prepend(str(zipped))
    e = AttachEngine(k, policy=Policy())
    assert "zipped" in [h.name for h in e.hooks] and e.warnings == []
    v = e.plan([k.spawn("sleep")], ref("freezer:/a")).verdicts[0]
    assert (v.kind, v.hook) == ("refused", "zipped") and "zipped plugin" in v.reason


def test_entry_points_are_scanned_only_when_a_distribution_declares_the_group(k, monkeypatch, tmp_path):
    import importlib.metadata as md

    from ctrtui.engine.plugins import group_may_be_declared

    def forbidden(**kw):
        raise AssertionError("importlib.metadata was asked although no distribution declares ctrtui.hooks")

    # an empty [ctrtui.hooks] section (ctrtui's own pyproject declares one) and other groups
    _dist(tmp_path, "quiet", "[console_scripts]\nq = quiet:main\n\n[ctrtui.hooks]\n# none yet\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(md, "entry_points", forbidden)
    assert not group_may_be_declared("ctrtui.hooks") and group_may_be_declared("console_scripts")
    e = AttachEngine(k, policy=Policy())
    assert "plugin" not in [h.name for h in e.hooks] and e.warnings == []
    # a zip on sys.path cannot be looked into cheaply: importlib.metadata decides
    zipped = tmp_path / "x.zip"
    zipped.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    monkeypatch.syspath_prepend(str(zipped))
    assert group_may_be_declared("ctrtui.hooks")


def test_plugins_are_discovered_when_first_needed_and_once(k, monkeypatch, tmp_path):
    """Making an engine asks importlib.metadata nothing (the cgroup ops and an undo with
    nothing to undo never plan); the first plan discovers the plugins, in the policy hook's
    place order, once; a broken plugin is said in `warnings` then."""
    import importlib.metadata as md

    asked = []

    def entry_points(group):
        asked.append(group)
        return [FakeEP("bad", exc=ImportError("nope"))]

    monkeypatch.setattr(md, "entry_points", entry_points)
    monkeypatch.syspath_prepend(str(_dist(tmp_path, "bad", "[ctrtui.hooks]\nbad = bad:Hook\n")))
    e = AttachEngine(k, policy=Policy())
    assert asked == [] and e.warnings == []
    p = k.spawn("sleep")
    e.plan([p], ref("freezer:/a"))
    e.plan([p], ref("freezer:/a"))
    assert asked == ["ctrtui.hooks"] and len(e.warnings) == 1 and "'bad'" in e.warnings[0]
    names = [h.name for h in e.hooks]
    assert names.index("policy") == names.index("cpuset") + 1
    assert AttachEngine(k, policy=Policy(), load_entry_points=False).hooks and asked == ["ctrtui.hooks"]


def test_an_installed_hook_plugin_is_loaded_for_real(k, monkeypatch, tmp_path):
    plugin = (
        "from ctrtui.engine import Refusal\n"
        "class Hook:\n"
        "    def can_attach(self, ctx):\n"
        "        return Refusal('EPERM', f'real plugin refuses PID {ctx.pid}', 'Uninstall it.')\n"
        "    def attach(self, task, old, new):\n"
        "        pass\n")
    _dist(tmp_path, "realplug", "[ctrtui.hooks]\nguard = realplug:Hook\n", plugin)
    monkeypatch.syspath_prepend(str(tmp_path))
    e = AttachEngine(k, policy=Policy())
    assert "guard" in [h.name for h in e.hooks] and e.warnings == []
    v = e.plan([k.spawn("sleep")], ref("freezer:/a")).verdicts[0]
    assert (v.kind, v.hook, v.errno) == ("refused", "guard", "EPERM") and "real plugin" in v.reason


@pytest.mark.parametrize("verify_batch", [1, 10_000], ids=["one-read-of-the-target", "per-pid"])
def test_a_batch_is_verified_alike_by_one_read_of_the_target_or_per_pid(k, verify_batch):
    pids = [k.spawn(f"t{i}", cgroups={"freezer": "/b"}) for i in range(40)]
    group = k.spawn("group", threads=3, cgroups={"freezer": "/b"})
    e = bypass(k)
    e.verify_batch = verify_batch
    plan = e.plan(pids + [group], ref("freezer:/a"))
    k.set_exiting(pids[3])       # the kernel accepts the write and moves nothing
    k.exit(pids[5])              # a zombie: accepted, nothing moves
    k.exit(pids[7], reap=True)   # gone
    k.set_exiting(k.thread_ids(group)[2])  # one thread of the group stays behind
    r = e.apply(plan)
    want = ["moved"] * 41
    want[3], want[5], want[7] = "not-moved", "vanished", "vanished"
    assert [o.outcome for o in r.outcomes] == want
    assert "still in freezer:/b: it is exiting" in r.outcomes[3].reason and "exited" in r.outcomes[5].reason
    assert (r.outcomes[5].errno, r.outcomes[7].errno) == ("ESRCH", "ESRCH")
    assert [where(k, p, "freezer") for p in pids if where(k, p, "freezer") == "/a"] == ["/a"] * 37
    behind = r.outcomes[40].warnings
    assert len(behind) == 1 and f"{k.thread_ids(group)[2]} (/b)" in behind[0]


def test_a_failed_open_of_the_membership_file_refuses_each_pid_with_the_kernels_errno(k):
    a, b = k.spawn("a"), k.spawn("b")
    k.set_writer(uid=1000, euid=1000)
    r = bypass(k).apply(bypass(k).plan([a, b], ref("freezer:/a")))
    k.set_writer(uid=0, euid=0)
    assert [(o.outcome, o.errno, o.hook) for o in r.outcomes] == [("refused", "EACCES", "kernel")] * 2


# ----------------------------------------------------------------------------- PID reuse


def test_recycled_pid_between_plan_and_apply_is_refused_never_moved(k):
    p = k.spawn("victim")
    e = engine(k)
    plan = e.plan([p], ref("freezer:/a"))
    k.tick(1)
    k.recycle(p, comm="intruder")
    r = e.apply(plan)
    o = r.outcomes[0]
    assert (o.outcome, o.errno, o.hook) == ("vanished", "ESRCH", "pid-reuse")
    assert "recycled" in o.reason and str(p) in o.reason
    assert where(k, p, "freezer") == "/"


def test_expected_start_from_the_snapshot_guards_the_plan(k):
    p = k.spawn("victim")
    start = k.task_state(p).start_time
    k.tick(1)
    k.recycle(p, comm="intruder")
    v = engine(k).plan([p], ref("freezer:/a"), expected_start={p: start}).verdicts[0]
    assert (v.kind, v.errno, v.hook) == ("vanished", "ESRCH", "pid-reuse") and "intruder" in v.reason
    # even with no hooks at all, apply's pidfd check catches it
    o = bypass(k).apply(bypass(k).plan([p], ref("freezer:/a"), expected_start={p: start})).outcomes[0]
    assert (o.outcome, o.hook) == ("vanished", "pid-reuse")
    assert where(k, p, "freezer") == "/"


def test_task_gone_or_dead_between_plan_and_apply(k):
    gone, dead, fine = k.spawn("gone"), k.spawn("dead"), k.spawn("fine")
    e = engine(k)
    plan = e.plan([gone, dead, fine], ref("freezer:/a"))
    k.exit(gone, reap=True)
    k.exit(dead)
    r = e.apply(plan)
    assert [o.outcome for o in r.outcomes] == ["vanished", "vanished", "moved"]
    assert [o.errno for o in r.outcomes] == ["ESRCH", "ESRCH", None]
    assert not r.ok and r.counts()["vanished"] == 2


def test_duplicates_are_reported_not_dropped(k):
    p = k.spawn("sleep")
    e = engine(k)
    plan = e.plan([p, str(p), "x", p], ref("freezer:/a"))
    assert len(plan.verdicts) == 4 and [v.text for v in plan.verdicts] == [str(p), str(p), "x", str(p)]
    assert "more than once" in plan.verdicts[1].warnings[-1]
    r = e.apply(plan)
    assert [o.outcome for o in r.outcomes] == ["moved", "already-there", "refused", "already-there"]
    assert "item 1" in r.outcomes[1].reason


# ----------------------------------------------------------------------------- all or nothing


def test_all_or_nothing_refused_at_plan_time_writes_nothing(k):
    a, b = k.spawn("a"), k.spawn("b")
    e = engine(k)
    plan = e.plan([a, 2, b], ref("freezer:/a"))
    r = e.apply(plan, all_or_nothing=True)
    assert [o.outcome for o in r.outcomes] == ["not-moved", "refused", "not-moved"]
    assert "all-or-nothing" in r.outcomes[0].reason and "'2'" in r.outcomes[0].reason
    assert not r.rolled_back and not r.ok
    assert where(k, a, "freezer") == where(k, b, "freezer") == "/"


def test_all_or_nothing_failure_during_apply_rolls_back(k):
    a, b, c, d = (k.spawn(n, cgroups={"freezer": "/b"}) for n in "abcd")
    e = engine(k)
    plan = e.plan([a, b, c, d], ref("freezer:/a"))
    k.exit(c, reap=True)  # vanishes between plan and apply
    r = e.apply(plan, all_or_nothing=True)
    assert [o.outcome for o in r.outcomes] == ["rolled-back", "rolled-back", "vanished", "not-moved"]
    assert r.rolled_back and not r.ok
    assert "moved back to /b" in r.outcomes[0].reason and f"PID {c}" in r.outcomes[0].reason
    assert "Not tried" in r.outcomes[3].reason
    assert [where(k, p, "freezer") for p in (a, b, d)] == ["/b"] * 3


class FailBack:
    """A backend wrapper whose writes into one cgroup fail with EACCES."""

    def __init__(self, k, path):
        self._k, self._path = k, path

    def __getattr__(self, name):
        return getattr(self._k, name)

    def write_pid(self, hierarchy, path, filename, data):
        if path == self._path:
            raise OSError(errno.EACCES, "denied")
        return self._k.write_pid(hierarchy, path, filename, data)


def test_a_rollback_that_fails_is_said_plainly(k):
    a, b = k.spawn("a", cgroups={"freezer": "/b"}), k.spawn("b", cgroups={"freezer": "/b"})
    e = engine(FailBack(k, "/b"))
    plan = e.plan([a, b], ref("freezer:/a"))
    k.exit(b, reap=True)
    r = e.apply(plan, all_or_nothing=True)
    o = r.outcomes[0]
    assert o.outcome == "moved" and "FAILED" in o.reason and "EACCES" in o.reason and "by hand" in o.advice
    assert r.rolled_back and where(k, a, "freezer") == "/a"


# ----------------------------------------------------------------------------- journal and undo


def test_undo_moves_the_last_batch_back_and_twice_does_not_redo(k, tmp_path):
    a = k.spawn("a", cgroups={"freezer": "/b"})
    b = k.spawn("b")
    j = Journal(str(tmp_path / "j.jsonl"))
    e = engine(k, journal=j)
    first = e.apply(e.plan([a], ref("freezer:/a")))
    second = e.apply(e.plan([a, b], ref("freezer:/system.slice")))
    assert where(k, a, "freezer") == "/system.slice"
    u1 = e.undo()
    assert u1.undo_of == second.batch_id and [o.outcome for o in u1.outcomes] == ["moved", "moved"]
    assert (where(k, a, "freezer"), where(k, b, "freezer")) == ("/a", "/")
    u2 = engine(k, journal=Journal(j.path)).undo()  # a fresh engine reads the same journal
    assert u2.undo_of == first.batch_id and where(k, a, "freezer") == "/b"
    assert e.undo() is None
    assert where(k, a, "freezer") == "/b"


def test_undo_reports_exited_and_recycled_tasks_without_touching_them(k):
    a, b, c = k.spawn("a"), k.spawn("b"), k.spawn("c")
    e = engine(k)
    e.apply(e.plan([a, b, c], ref("freezer:/a")))
    k.exit(a, reap=True)
    k.tick(1)
    k.recycle(b, comm="newcomer", cgroups={"freezer": "/a"})
    r = e.undo()
    by_pid = {o.pid: o for o in r.outcomes}
    assert (by_pid[a].outcome, by_pid[a].errno) == ("vanished", "ESRCH")
    assert (by_pid[b].outcome, by_pid[b].hook) == ("vanished", "pid-reuse")
    assert by_pid[c].outcome == "moved"
    assert where(k, b, "freezer") == "/a"  # the newcomer was not touched
    assert where(k, c, "freezer") == "/"


def test_undo_of_thread_mode_and_of_several_sources(k):
    p = k.spawn("w", threads=3)
    t1, t2 = k.thread_ids(p)[1:]
    e = engine(k)
    e.apply(e.plan([t1], ref("freezer:/b"), threads=True))
    e.apply(e.plan([t2], ref("freezer:/a"), threads=True))
    e.apply(e.plan([t1, t2], ref("freezer:/system.slice"), threads=True))
    r = e.undo()
    assert r.threads and [o.outcome for o in r.outcomes] == ["moved", "moved"]
    assert (where(k, t1, "freezer"), where(k, t2, "freezer"), where(k, p, "freezer")) == ("/b", "/a", "/")


def test_undo_warns_when_the_task_was_moved_elsewhere_since(k):
    p = k.spawn("sleep")
    e = engine(k)
    e.apply(e.plan([p], ref("freezer:/a")))
    k.place(p, "freezer", "/b")
    r = e.undo()
    assert r.outcomes[0].outcome == "moved" and "no longer where" in r.outcomes[0].warnings[0]


def _batch_states(j: Journal) -> dict[str, str]:
    return {b.id: b.status() for b in j.batches()}


def test_undo_when_systemd_removed_the_origin(k, tmp_path):
    """logind removed the session scope a task was moved out of: undo says, in its own
    words, where the task is, that its origin is gone and which `ctrtui move` would place
    it elsewhere; the batch is settled once (`log`: cannot be undone: origin gone, the undo
    itself `refused`, not `done`), and a bare undo skips it, saying so, for the older one."""
    scope = "/user.slice/user-1000.slice/session-3.scope"
    k.makedirs("unified", scope)
    older = k.spawn("cron", cgroups={"unified": "/a"})
    p = k.spawn("sleep", cgroups={"unified": scope})
    j = Journal(str(tmp_path / "j.jsonl"))
    e = engine(k, journal=j)
    b0 = e.apply(e.plan([older], ref("unified:/b"))).batch_id
    b1 = e.apply(e.plan([p], ref("unified:/b"))).batch_id
    k.rmdir("unified", scope)
    r = e.undo(b1)
    o = r.outcomes[0]
    assert (o.outcome, o.errno) == ("refused", "ENOENT"), o
    assert "cannot go back" in o.reason and scope in o.reason and "unified:/b" in o.reason
    assert f"ctrtui move {p} --to 'unified:/user.slice/user-1000.slice'" in o.advice
    assert "create" not in o.advice
    states = _batch_states(j)
    assert states[b1] == "cannot be undone: origin gone" and states[r.batch_id] == "refused"
    # tried again: nothing is written, and the words say why
    n = len(j.batches())
    assert e.undo(b1) is None and "cannot be undone" in e.nothing_left and len(j.batches()) == n
    # a bare undo undoes the older batch (b1 is settled; a fresh journal reader agrees)
    r0 = engine(k, journal=Journal(j.path)).undo()
    assert r0.undo_of == b0 and where(k, older, "unified") == "/a"


def test_bare_undo_skips_a_batch_whose_origin_is_gone_saying_which(k, tmp_path):
    k.makedirs("unified", "/system.slice/getty@tty1.service")
    older = k.spawn("cron", cgroups={"unified": "/a"})
    p = k.spawn("agetty", cgroups={"unified": "/system.slice/getty@tty1.service"})
    j = Journal(str(tmp_path / "j.jsonl"))
    e = engine(k, journal=j)
    b0 = e.apply(e.plan([older], ref("unified:/b"))).batch_id
    b1 = e.apply(e.plan([p], ref("unified:/b"))).batch_id
    k.rmdir("unified", "/system.slice/getty@tty1.service")
    r = e.undo()
    assert r.undo_of == b0 and r.outcomes[0].outcome == "moved"
    said = [w for w in r.warnings if f"batch {b1} was skipped: it cannot be undone" in w]
    assert said and "getty@tty1.service" in said[0], r.warnings
    assert _batch_states(j)[b1] == "cannot be undone: origin gone"
    assert where(k, p, "unified") == "/b"
    assert e.undo() is None  # nothing left: b1 is not chosen for ever


def test_undo_of_a_dead_task_whose_origin_is_gone_is_vanished(k, tmp_path):
    k.makedirs("unified", "/user.slice/session-4.scope")
    p = k.spawn("sleep", cgroups={"unified": "/user.slice/session-4.scope"})
    j = Journal(str(tmp_path / "j.jsonl"))
    e = engine(k, journal=j)
    b = e.apply(e.plan([p], ref("unified:/b"))).batch_id
    k.rmdir("unified", "/user.slice/session-4.scope")
    k.exit(p, reap=True)
    r = e.undo(b)
    assert (r.outcomes[0].outcome, r.outcomes[0].errno) == ("vanished", "ESRCH"), r.outcomes[0]
    assert _batch_states(j)[b] == "cannot be undone: tasks gone"


def test_a_batch_in_which_every_pid_was_refused_is_not_done(k, tmp_path):
    j = Journal(str(tmp_path / "j.jsonl"))
    e = engine(k, journal=j)
    r = e.apply(e.plan([2], ref("freezer:/a")))  # kthreadd: refused
    assert [o.outcome for o in r.outcomes] == ["refused"]
    assert _batch_states(j)[r.batch_id] == "refused"
    p = k.spawn("sleep")
    r = e.apply(e.plan([2, p], ref("freezer:/a")))
    assert _batch_states(j)[r.batch_id] == "done"


def test_nothing_to_undo(k):
    assert engine(k).undo() is None
    e = engine(k)
    e.apply(e.plan([2], ref("freezer:/a")))  # a batch that moved nothing
    assert e.undo() is None


class ExitOnWrite:
    """A backend wrapper: writing PID `trigger` makes the task `victim` exit and be reaped."""

    def __init__(self, k, trigger, victim):
        self._k, self._trigger, self._victim = k, trigger, victim

    def __getattr__(self, name):
        return getattr(self._k, name)

    def write_pid(self, hierarchy, path, filename, data):
        n = self._k.write_pid(hierarchy, path, filename, data)
        if int(data) == self._trigger and self._victim in self._k.tasks:
            self._k.exit(self._victim, reap=True)
        return n


def test_rollback_of_a_task_that_exited_meanwhile_touches_nothing(k):
    a, b, c = (k.spawn(n, cgroups={"freezer": "/b"}) for n in "abc")
    e = engine(ExitOnWrite(k, trigger=b, victim=a))
    plan = e.plan([a, b, c], ref("freezer:/a"))
    k.exit(c, reap=True)
    r = e.apply(plan, all_or_nothing=True)
    assert [o.outcome for o in r.outcomes] == ["vanished", "rolled-back", "vanished"]
    assert "exited before it could be moved back" in r.outcomes[0].reason
    assert where(k, b, "freezer") == "/b"


# ----------------------------------------------------------------------------- errors for people


@pytest.mark.parametrize("name", ["ESRCH", "EINVAL", "EACCES", "E2BIG", "ENODEV", "ENOENT", "EBUSY",
                                  "EOPNOTSUPP", "ENOSPC", "EPERM", "EIO", "ENOMEM"])
def test_explain_names_pid_and_cgroup_for_every_errno(name):
    from ctrtui.errors import explain

    sentence, advice = explain(name, pid=4242, cgroup=ref("freezer:/x/y"), file="tasks")
    assert "4242" in sentence and "freezer:/x/y" in sentence and advice
    assert "\n" not in sentence + advice


def test_errno_names():
    from ctrtui.errors import errno_name, errno_number

    assert [errno_name(n) for n in (3, 22, 13, 7, 19, 2, 16, 95, 28, 1)] == [
        "ESRCH", "EINVAL", "EACCES", "E2BIG", "ENODEV", "ENOENT", "EBUSY", "EOPNOTSUPP", "ENOSPC", "EPERM"]
    assert errno_name(9999) == "errno 9999" and errno_number("ENOSPC") == 28 and errno_number("EXYZ") is None
