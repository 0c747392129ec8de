"""Hooks that judge a batch, the per-PID protocol kept for older hooks, and one outcome
vocabulary -- on the simulated kernel (the real-kernel side is in test_engine_real.py and
test_conformance.py)."""

from __future__ import annotations

import pytest

from ctrtui.engine import (
    OUTCOMES,
    VERDICT_KINDS,
    AlreadyThere,
    AttachEngine,
    HookBatch,
    HookWarning,
    Journal,
    Policy,
    Refusal,
    builtin_hooks,
)
from ctrtui.engine.builtinhooks import CpusetEmpty
from ctrtui.engine.hooks import judge_of
from ctrtui.engine.journal import JournalError
from ctrtui.engine.parse import PidParseError, parse_pid
from ctrtui.model import CgroupRef
from ctrtui.sources import POLL_EXITS, TASK_PROBES, WRITE
from ctrtui.sources.simulated import SimKernel
from tests.unit.test_engine import engine, hybrid_machine, ref, where


@pytest.fixture
def k() -> SimKernel:
    """The same small hybrid machine as test_engine's."""
    return hybrid_machine()


class CountingKernel(SimKernel):
    """Counts the facts the engine reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: dict[str, int] = {}

    def _count(self, what: str) -> None:
        self.reads[what] = self.reads.get(what, 0) + 1

    def task_state(self, pid):
        self._count("task_state")
        return super().task_state(pid)

    def task_cgroup(self, pid, hierarchy):
        self._count("task_cgroup")
        return super().task_cgroup(pid, hierarchy)

    def cgroup_state(self, hierarchy, path):
        self._count(f"cgroup_state {path}")
        return super().cgroup_state(hierarchy, path)


class BatchSpy:
    """A batch hook: records each batch it saw, refuses one PID, warns about another."""

    name = "spy"

    def __init__(self, refuse: int | None = None, warn: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.refuse, self.warn = refuse, warn
        self.told: list[int] = []

    def judge(self, batch: HookBatch):
        self.batches.append([ctx.pid for ctx in batch.items])
        for ctx in batch.items:
            if ctx.pid == self.refuse:
                yield ctx, ctx.refuse("EPERM", f"{ctx.subject} is refused by the spy.", "Ask the spy.")
            elif ctx.pid == self.warn:
                yield ctx, HookWarning(f"the spy watches {ctx.subject}")

    def attach(self, task, old, new):
        self.told.append(task.pid)


class PerPid:
    """An old-style hook: can_attach(ctx) only."""

    name = "per-pid"

    def __init__(self, refuse: int) -> None:
        self.refuse, self.asked = refuse, []

    def can_attach(self, ctx):
        self.asked.append(ctx.pid)
        return Refusal("EPERM", f"no to PID {ctx.pid}") if ctx.pid == self.refuse else None

    def attach(self, task, old, new):
        pass


# ----------------------------------------------------------------------------- batch protocol


def test_each_hook_is_asked_once_per_plan_with_every_undecided_pid():
    k = CountingKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    pids = [k.spawn(f"t{i}") for i in range(50)]
    first, second = BatchSpy(refuse=pids[3], warn=pids[4]), BatchSpy()
    e = AttachEngine(k, hooks=[first, second])
    k.reads.clear()
    plan = e.plan(pids + [pids[0]], ref("freezer:/a"))
    assert first.batches == [pids] and second.batches == [[p for p in pids if p != pids[3]]]
    # facts read once per distinct PID (the duplicate is not read again); the target once
    assert k.reads["task_state"] == 50 and k.reads["task_cgroup"] == 50
    assert k.reads["cgroup_state /a"] == 1
    kinds = [v.kind for v in plan.verdicts]
    assert kinds.count("refused") == 1 and plan.verdicts[3].hook == "spy"
    assert plan.verdicts[4].warnings == (f"the spy watches PID {pids[4]} (t4)",)
    assert "listed more than once" in plan.verdicts[50].warnings[-1]
    r = e.apply(plan)
    assert [o.outcome for o in r.outcomes].count("moved") == 49
    assert sorted(second.told) == sorted(p for p in pids if p != pids[3])


def test_per_pid_hooks_are_adapted_and_see_only_undecided_pids(k):
    a, b, c = k.spawn("a"), k.spawn("b"), k.spawn("c")
    spy, old = BatchSpy(refuse=a), PerPid(refuse=b)
    e = engine(k, hooks=[spy, old])
    plan = e.plan([a, b, c], ref("freezer:/a"))
    assert old.asked == [b, c]  # a was decided by the hook before
    assert [(v.kind, v.hook) for v in plan.verdicts] == [("refused", "spy"), ("refused", "per-pid"), ("move", None)]


def test_builtin_hooks_answer_per_pid_too(k):
    """The built-in hooks keep `can_attach(ctx)`: the batch judgement for a batch of one."""
    p = k.spawn("sleep")
    batch = HookBatch(k, AttachEngine(k, hooks=[]).hierarchy("cpuset"), CgroupRef("cpuset", "/empty"),
                      k.cgroup_state("cpuset", "/empty"), False, k.writer())
    ctx = batch.context(p, k.task_state(p), source="/")
    got = CpusetEmpty().can_attach(ctx)
    assert isinstance(got, Refusal) and got.errno == "ENOSPC" and str(p) in got.reason
    assert [type(h).__name__ for h in builtin_hooks()][:4] == ["TargetExists", "Alive", "KernelThread",
                                                               "AlreadyThereHook"]
    assert callable(judge_of(PerPid(0))) and judge_of(CpusetEmpty()).__self__.name == "cpuset"


def test_a_failing_batch_hook_refuses_what_it_was_given_and_names_itself(k):
    a, b = k.spawn("a"), k.spawn("b")

    class Boom:
        name = "boom"

        def judge(self, batch):
            raise RuntimeError("kaput")

        def attach(self, task, old, new):
            pass

    plan = engine(k, hooks=[BatchSpy(refuse=a), Boom()]).plan([a, b], ref("freezer:/a"))
    assert [(v.kind, v.hook) for v in plan.verdicts] == [("refused", "spy"), ("refused", "boom")]
    assert "kaput" in plan.verdicts[1].reason and str(b) in plan.verdicts[1].reason


def test_a_batch_hook_may_answer_with_a_mapping_and_already_there(k):
    a, b = k.spawn("a"), k.spawn("b")

    class Mapper:
        name = "mapper"

        def judge(self, batch):
            return {ctx: AlreadyThere(f"{ctx.subject} counts as there") for ctx in batch.items if ctx.pid == a}

        def attach(self, task, old, new):
            pass

    plan = engine(k, hooks=[Mapper()]).plan([a, b], ref("freezer:/a"))
    assert [(v.kind, v.hook) for v in plan.verdicts] == [("already-there", "mapper"), ("move", None)]


def test_entry_point_style_batch_hook_is_accepted(k, monkeypatch):
    import importlib.metadata as md

    class EP:
        name, value = "spy", "plugin:Spy"

        def load(self):
            return BatchSpy

    monkeypatch.setattr(md, "entry_points", lambda group: [EP()] if group == "ctrtui.hooks" else [])
    monkeypatch.setattr("ctrtui.engine.plugins.group_may_be_declared", lambda group: True)
    e = AttachEngine(k, policy=Policy())
    assert e.warnings == [] and "spy" in [h.name for h in e.hooks]
    e.plan([k.spawn("x")], ref("freezer:/a"))
    assert len(next(h for h in e.hooks if h.name == "spy").batches) == 1


# ----------------------------------------------------------------------------- types


def test_kinds_are_literal_types_with_their_tuples():
    from typing import get_args

    from ctrtui.engine.values import OutcomeKind, VerdictKind

    assert VERDICT_KINDS == get_args(VerdictKind) == ("move", "already-there", "refused", "vanished")
    assert OUTCOMES == get_args(OutcomeKind)
    assert set(VERDICT_KINDS) - {"move"} <= set(OUTCOMES)  # every verdict but `move` is an outcome as is


# ----------------------------------------------------------------------------- vocabulary


def test_a_gone_task_is_vanished_esrch_whoever_finds_it(k):
    """Plan (no such PID, a zombie), apply (exited or reaped between plan and apply,
    recycled) and the kernel (no hooks) all say `vanished` with errno ESRCH."""
    z = k.spawn("zombie")
    k.exit(z)
    later_gone, later_zombie, recycled = k.spawn("g"), k.spawn("z"), k.spawn("r")
    e = engine(k)
    plan = e.plan([4444, z, later_gone, later_zombie, recycled], ref("freezer:/a"))
    assert [(v.kind, v.errno) for v in plan.verdicts[:2]] == [("vanished", "ESRCH")] * 2
    k.exit(later_gone, reap=True)
    k.exit(later_zombie)
    k.exit(recycled, reap=True)
    k.tick(1)
    k.recycle(recycled, comm="newcomer")
    r = e.apply(plan)
    assert [(o.outcome, o.errno) for o in r.outcomes] == [("vanished", "ESRCH")] * 5
    assert r.outcomes[4].hook == "pid-reuse" and where(k, recycled, "freezer") == "/"
    bare = AttachEngine(k, hooks=[])
    z2 = k.spawn("z2")
    k.exit(z2)
    o = bare.apply(bare.plan([4445, z2], ref("freezer:/a"))).outcomes
    assert [(x.outcome, x.errno) for x in o] == [("vanished", "ESRCH")] * 2
    assert not {"not-moved"} & {x.outcome for x in r.outcomes + o}


def test_already_there_before_permission_for_non_root_and_root(k):
    mine = k.spawn("mine", uid=1000)
    other = k.spawn("other", uid=1001, cgroups={"freezer": "/a"})
    for uid in (1000, 0):
        k.set_writer(uid=uid, euid=uid)
        e = engine(k)
        plan = e.plan([mine, other], ref("unified:/"))
        assert [(v.kind, v.errno) for v in plan.verdicts] == [("already-there", None)] * 2, uid
        assert e.plan([other], ref("freezer:/a")).verdicts[0].kind == "already-there"
    k.set_writer(uid=1000, euid=1000)
    v = engine(k).plan([mine], ref("freezer:/a")).verdicts[0]  # not there: permission applies
    assert (v.kind, v.errno) == ("refused", "EACCES")
    k.set_writer(uid=0, euid=0)


def test_a_frozen_v2_target_warns_like_a_frozen_v1_one(k):
    p = k.spawn("sleep")
    k.makedirs("unified", "/cold/inner")
    assert not any("frozen" in w for w in engine(k).plan([p], ref("unified:/cold")).verdicts[0].warnings)
    k.set_freeze("unified", "/cold", True)
    for path in ("/cold", "/cold/inner"):  # its own cgroup.freeze, or an ancestor's
        assert k.cgroup_state("unified", path).freezer_state == "1"
        v = engine(k).plan([p], ref(f"unified:{path}")).verdicts[0]
        assert v.kind == "move" and any("frozen" in w and "thawed" in w for w in v.warnings), v.warnings
    assert k.cgroup_stats("unified", "/cold/inner")["cgroup.events"].endswith("frozen 1")
    assert k.cgroup_stats("unified", "/cold/inner")["cgroup.freeze"] == "0"
    k.set_freezer("freezer", "/b", "FROZEN")
    v1 = engine(k).plan([p], ref("freezer:/b")).verdicts[0]
    assert any("FROZEN" in w and "thawed" in w for w in v1.warnings)
    k.set_freeze("unified", "/cold", False)
    assert k.cgroup_state("unified", "/cold/inner").freezer_state == "0"


def test_a_batch_with_nothing_moved_does_not_say_it_cannot_be_undone(k, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    journal = Journal(str(ro / "missing-dir" / "journal.jsonl"))
    (ro / "missing-dir").write_text("a file where a directory should be")
    e = engine(k, journal=journal)
    r = e.apply(e.plan([4444, 4445], ref("freezer:/a")))
    assert [o.outcome for o in r.outcomes] == ["vanished", "vanished"] and not r.journaled
    assert r.warnings and not any("cannot be undone" in w for w in r.warnings)
    assert any("nothing was to be moved" in w for w in r.warnings)
    p = k.spawn("moves")
    with pytest.raises(JournalError):  # no journal, no move
        e.apply(e.plan([p], ref("freezer:/a")))
    assert where(k, p, "freezer") == "/"


def test_all_or_nothing_stops_on_a_vanished_pid_too(k):
    p = k.spawn("fine")
    e = engine(k)
    r = e.apply(e.plan([p, 4444], ref("freezer:/a")), all_or_nothing=True)
    assert [o.outcome for o in r.outcomes] == ["not-moved", "vanished"] and "vanished" in r.outcomes[0].reason
    assert where(k, p, "freezer") == "/"


# ----------------------------------------------------------------------------- tests that bite


def test_integer_pids_at_the_bounds():
    """`0 < pid < pid_max` for ints: 0 is the writer itself and pid_max is beyond the last PID."""
    assert parse_pid(1, 100) == 1 and parse_pid(99, 100) == 99
    for bad, errno in ((100, "ESRCH"), (0, None), (101, "ESRCH")):
        with pytest.raises(PidParseError) as e:
            parse_pid(bad, 100)
        assert e.value.errno == errno, bad


@pytest.mark.parametrize("cpus,mems,refused", [("", "", True), ("", "0", True), ("0-1", "", True),
                                                ("0-1", "0", False)])
def test_cpuset_refuses_when_either_cpus_or_mems_is_empty(k, cpus, mems, refused):
    k.mkdir("cpuset", "/x")
    k.set_cpuset("cpuset", "/x", cpus=cpus, mems=mems)
    v = engine(k).plan([k.spawn("sleep")], ref("cpuset:/x")).verdicts[0]
    if refused:
        empty = [n for n, val in (("cpuset.cpus", cpus), ("cpuset.mems", mems)) if not val]
        assert (v.kind, v.errno, v.hook) == ("refused", "ENOSPC", "cpuset")
        assert " and ".join(empty) in v.reason
    else:
        assert v.kind == "move"


@pytest.mark.parametrize("ids,writer,ok", [
    ((1001, 1001, 1000), 1000, True),    # only the task's saved uid matches the writer's euid
    ((1000, 1001, 1001), 1000, True),    # only its real uid matches
    ((1001, 1000, 1001), 1000, False),   # only its euid matches: the kernel does not look at it
    ((1001, 1001, 1001), 1000, False),
])
def test_v1_uid_rule_uses_the_tasks_real_and_saved_uid(k, ids, writer, ok):
    uid, euid, suid = ids
    p = k.spawn("t", uid=uid, euid=euid, suid=suid)
    k.chown("freezer", "/a", writer)
    k.set_writer(uid=writer, euid=writer)
    try:
        v = engine(k).plan([p], ref("freezer:/a")).verdicts[0]
        o = AttachEngine(k, hooks=[]).apply(AttachEngine(k, hooks=[]).plan([p], ref("freezer:/a"))).outcomes[0]
    finally:
        k.set_writer(uid=0, euid=0)
    assert (v.kind, v.errno) == (("move", None) if ok else ("refused", "EACCES"))
    assert (o.outcome, o.errno) == (("moved", None) if ok else ("refused", "EACCES"))  # the kernel agrees


# ----------------------------------------------------------------------------- pidfds kept from plan to apply


class ProbingKernel(SimKernel):
    """A SimKernel with the batch probe of the real backend: the facts of each task and a
    handle on it, kept for apply when asked. It declares them: the engine uses what a
    backend declares, not what it happens to have."""

    capabilities = frozenset({WRITE, TASK_PROBES, POLL_EXITS})

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    def open_task(self, pid, thread=False):
        self.opened += 1
        return super().open_task(pid, thread)

    def task_probe(self, pid, hierarchy):
        got = self.task_probes([pid], hierarchy)[pid]
        return None if got is None else got[:3]

    def task_probes(self, pids, hierarchy, keep=False):
        out = {}
        for pid in pids:
            info = self.task_state(pid)
            if info is None:
                out[pid] = None
                continue
            handle = super().open_task(pid) if keep else None
            out[pid] = (info, (self.task_cgroups(pid) or {}).get(hierarchy), None, handle)
        return out

    def tasks_exited(self, handles):
        return [h.exited() for h in handles]


def _probing() -> ProbingKernel:
    k = ProbingKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    return k


def test_apply_writes_under_the_handles_the_plan_read_the_facts_with():
    k = _probing()
    pids = [k.spawn(f"t{i}") for i in range(5)]
    e = AttachEngine(k, policy=Policy(), load_entry_points=False)
    plan = e.plan(pids, ref("freezer:/a"))
    assert len(e.reader.held) == 5
    r = e.apply(plan)
    assert r.ok and k.opened == 0 and not e.reader.held  # no second open: the plan's handles were used
    # applied again, the same plan opens new handles (each held one is used once)
    e.apply(plan)
    assert k.opened == 5


def test_a_task_reaped_after_the_plan_is_never_written_even_if_its_pid_is_reused():
    k = _probing()
    victim, dead, fine = k.spawn("victim"), k.spawn("dead"), k.spawn("fine")
    e = AttachEngine(k, policy=Policy(), load_entry_points=False)
    plan = e.plan([victim, dead, fine], ref("freezer:/a"))
    k.exit(victim, reap=True)
    k.tick(1)
    k.recycle(victim, comm="newcomer")   # the PID now names another task
    k.exit(dead)                         # a zombie: written, moves nothing
    r = e.apply(plan)
    assert [(o.outcome, o.errno) for o in r.outcomes] == [("vanished", "ESRCH"), ("vanished", "ESRCH"),
                                                          ("moved", None)]
    assert where(k, victim, "freezer") == "/"   # the newcomer was not touched
    assert k.opened == 0


def test_pidfds_are_kept_only_up_to_a_limit_and_released():
    k = _probing()
    pids = [k.spawn(f"t{i}") for i in range(4)]
    e = AttachEngine(k, policy=Policy(), load_entry_points=False)
    e.reader.hold_max = 3
    plan = e.plan(pids, ref("freezer:/a"))       # too many: none kept, apply opens each
    assert not e.reader.held
    assert e.apply(plan).ok and k.opened == 4
    small = e.plan(pids[:2], ref("freezer:/a"))  # already there: nothing to write, nothing kept
    assert not e.reader.held and [v.kind for v in small.verdicts] == ["already-there"] * 2
    p = k.spawn("new")
    e.plan([p], ref("freezer:/a"))
    assert len(e.reader.held) == 1
    e.release()
    assert not e.reader.held
