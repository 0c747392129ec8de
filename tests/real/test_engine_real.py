"""The attach engine on the real kernel, in throwaway `ctrtui-test-*` cgroups, moving only
processes the tests started. Each predictable refusal is predicted by its hook, and where it
is safe the kernel is asked too (hooks bypassed) and must agree."""

from __future__ import annotations

import json
import os
import time

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.model import CgroupRef
from ctrtui.sources.cgroupfs import CgroupFS

pytestmark = pytest.mark.real


def engine(**kw) -> AttachEngine:
    kw.setdefault("policy", Policy())
    kw.setdefault("load_entry_points", False)
    return AttachEngine(CgroupFS(), **kw)


def bypass() -> AttachEngine:
    return AttachEngine(CgroupFS(), hooks=[])


def one(e: AttachEngine, pid, target: CgroupRef, threads: bool = False, **kw):
    plan = e.plan([pid], target, threads=threads, **kw)
    return plan.verdicts[0], e.apply(plan).outcomes[0]


def start_time(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return int(text[text.rfind(")") + 2:].split()[19])


# ----------------------------------------------------------------------------- moves


def test_v1_freezer_process_mode_moves_every_thread(realworld):
    a = realworld.mkdir("freezer", "a")
    p, tids = realworld.spawn_threads(3)
    e = engine()
    plan = e.plan([p.pid], CgroupRef("freezer", a))
    v = plan.verdicts[0]
    assert (v.kind, v.source, v.start_time) == ("move", "/", start_time(p.pid))
    r = e.apply(plan)
    assert r.ok and r.outcomes[0].outcome == "moved" and r.outcomes[0].target == a
    assert [realworld.cgroup_of(t, "freezer") for t in tids] == [a] * 4
    assert e.plan([p.pid], CgroupRef("freezer", a)).verdicts[0].kind == "already-there"


def test_a_big_batch_knows_each_task_source_by_one_list_per_cgroup(realworld, monkeypatch):
    """From probes.LIST_FROM PIDs on, the plan lists a cgroup met twice once (v1 `tasks`, v2
    `cgroup.threads`) instead of reading each task's /proc/PID/cgroup; every source is
    what the task's own file says, a zombie and a thread of a moved process included."""
    from ctrtui.sources import probes

    listed: list[str] = []
    real_list = probes.Sources._list
    monkeypatch.setattr(probes.Sources, "_list", lambda self, path: (listed.append(path), real_list(self, path))[1])
    for hier in ("freezer", "unified"):
        a, b, c = (realworld.mkdir(hier, n) for n in ("a", "b", "c"))
        sleeps = [realworld.spawn_sleep() for _ in range(probes.LIST_FROM + 4)]
        for i, s in enumerate(sleeps):
            realworld.put(s.pid, hier, b if i % 9 == 4 else a)
        zombie = realworld.spawn_zombie()
        pids = [s.pid for s in sleeps] + [zombie]
        listed.clear()
        plan = engine().plan(pids, CgroupRef(hier, c))
        assert listed == [a, b], hier  # each met twice, listed once
        assert [v.source for v in plan.verdicts] == [realworld.cgroup_of(p, hier) for p in pids], hier
        assert [v.kind for v in plan.verdicts] == ["move"] * len(sleeps) + ["vanished"], hier
        r = engine().apply(engine().plan(pids[:-1], CgroupRef(hier, c)))
        assert r.ok and {o.source for o in r.outcomes} == {a, b}, hier
        assert {realworld.cgroup_of(p, hier) for p in pids[:-1]} == {c}, hier


def test_v1_pids_thread_mode_moves_one_thread(realworld):
    b = realworld.mkdir("pids", "b")
    p, tids = realworld.spawn_threads(2)
    e = engine()
    v, o = one(e, tids[1], CgroupRef("pids", b), threads=True)
    assert (v.kind, o.outcome) == ("move", "moved")
    assert [realworld.cgroup_of(t, "pids") for t in tids] == ["/", b, "/"]
    # process mode: not already there until every thread is
    v, o = one(e, p.pid, CgroupRef("pids", b))
    assert (v.kind, o.outcome) == ("move", "moved")
    assert [realworld.cgroup_of(t, "pids") for t in tids] == [b] * 3
    # a non-leader TID in process mode moves the whole process (pidfd with PIDFD_THREAD)
    c = realworld.mkdir("pids", "c")
    v, o = one(e, tids[2], CgroupRef("pids", c))
    assert o.outcome == "moved" and "whole process" in v.warnings[0]
    assert [realworld.cgroup_of(t, "pids") for t in tids] == [c] * 3


@pytest.mark.parametrize("pidfd_thread,guard", [(True, "pidfd-thread"), (False, "tgid-pidfd+starttime")])
def test_thread_moves_with_and_without_pidfd_thread(realworld, pidfd_thread, guard):
    """Kernels before 6.9 cannot open a pidfd on a thread (PIDFD_THREAD): the guard then holds
    the thread group's pidfd and checks the thread's start time. Both guards, forced on this
    kernel, move a thread (thread mode) and a whole process named by a non-leader TID, and
    the report says which guard held the thread."""
    b, c = realworld.mkdir("pids", "b"), realworld.mkdir("pids", "c")
    p, tids = realworld.spawn_threads(2)
    backend = CgroupFS()
    backend.pidfd_thread = pidfd_thread
    e = AttachEngine(backend, policy=Policy(), load_entry_points=False)
    v, o = one(e, tids[1], CgroupRef("pids", b), threads=True)
    assert (v.kind, o.outcome) == ("move", "moved"), o
    assert f"(guard: {guard})" in o.reason
    assert [realworld.cgroup_of(t, "pids") for t in tids] == ["/", b, "/"]
    v, o = one(e, tids[2], CgroupRef("pids", c))
    assert o.outcome == "moved" and f"(guard: {guard})" in o.reason, o
    assert [realworld.cgroup_of(t, "pids") for t in tids] == [c] * 3
    v, o = one(e, p.pid, CgroupRef("pids", b))  # the leader: its own pidfd, no guard named
    assert o.outcome == "moved" and "guard:" not in o.reason


def test_v2_unified_process_move_and_thread_across_domains(realworld):
    a = realworld.mkdir("unified", "a")
    b = realworld.mkdir("unified", "b")
    p, tids = realworld.spawn_threads(2)
    realworld.put(p.pid, "unified", b)
    e = engine()
    v, o = one(e, p.pid, CgroupRef("unified", a))
    assert (v.source, o.outcome) == (b, "moved")
    assert [realworld.cgroup_of(t, "unified") for t in tids] == [a] * 3
    # cgroup.threads between two domain cgroups: EOPNOTSUPP, predicted and confirmed
    v, _ = one(e, tids[1], CgroupRef("unified", b), threads=True)
    assert (v.kind, v.errno, v.hook) == ("refused", "EOPNOTSUPP", "v2-destination")
    _, o = one(bypass(), tids[1], CgroupRef("unified", b), threads=True)
    assert (o.outcome, o.errno, o.hook) == ("refused", "EOPNOTSUPP", "kernel")
    assert realworld.cgroup_of(tids[1], "unified") == a


def test_frozen_target_warns_and_the_task_still_moves(realworld):
    f = realworld.mkdir("freezer", "frozen")
    with open(os.path.join(realworld.fs("freezer", f), "freezer.state"), "w") as fh:
        fh.write("FROZEN")
    try:
        p = realworld.spawn_sleep()
        v, o = one(engine(), p.pid, CgroupRef("freezer", f))
        assert any("FROZEN" in w for w in v.warnings) and o.outcome == "moved"
    finally:
        with open(os.path.join(realworld.fs("freezer", f), "freezer.state"), "w") as fh:
            fh.write("THAWED")


# ----------------------------------------------------------------------------- refusals


def test_no_such_pid(realworld):
    a = realworld.mkdir("freezer", "a")
    p = realworld.spawn_sleep()
    started = start_time(p.pid)
    p.kill()
    p.wait()
    v = engine().plan([p.pid], CgroupRef("freezer", a), expected_start={p.pid: started}).verdicts[0]
    if v.hook == "pid-reuse":  # the PID was taken by another task meanwhile: gone all the same
        assert (v.kind, v.errno) == ("vanished", "ESRCH")
        return
    assert (v.kind, v.errno, v.hook) == ("vanished", "ESRCH", "alive")
    # without hooks: the pidfd cannot be opened (or the start time differs): never written
    _, o = one(bypass(), p.pid, CgroupRef("freezer", a), expected_start={p.pid: started})
    assert (o.outcome, o.errno) == ("vanished", "ESRCH")


def test_zombie_predicted_and_the_kernel_moves_nothing(realworld):
    a = realworld.mkdir("freezer", "a")
    z = realworld.spawn_zombie()
    v = engine().plan([z], CgroupRef("freezer", a)).verdicts[0]
    assert (v.kind, v.errno, v.hook) == ("vanished", "ESRCH", "alive") and "zombie" in v.reason
    _, o = one(bypass(), z, CgroupRef("freezer", a))
    assert (o.outcome, o.errno) == ("vanished", "ESRCH") and "exited" in o.reason
    assert realworld.cgroup_of(z, "freezer") != a


def test_kthreadd_is_predicted_einval_and_never_written(realworld):
    a = realworld.mkdir("freezer", "a")
    e = engine()
    for target in (CgroupRef("freezer", a), CgroupRef("unified", realworld.mkdir("unified", "k"))):
        v = e.plan([2], target).verdicts[0]
        assert (v.kind, v.errno, v.hook) == ("refused", "EINVAL", "kernel-thread") and "kthreadd" in v.reason


def test_removed_target(realworld):
    gone = realworld.mkdir("freezer", "gone")
    os.rmdir(realworld.fs("freezer", gone))
    p = realworld.spawn_sleep()
    v = engine().plan([p.pid], CgroupRef("freezer", gone)).verdicts[0]
    assert (v.kind, v.errno, v.hook) == ("refused", "ENOENT", "target-exists")
    _, o = one(bypass(), p.pid, CgroupRef("freezer", gone))
    assert (o.outcome, o.errno, o.hook) == ("refused", "ENOENT", "kernel")


def test_empty_cpuset(realworld):
    empty = realworld.mkdir("cpuset", "empty", cpuset_empty=True)
    p = realworld.spawn_sleep()
    v = engine().plan([p.pid], CgroupRef("cpuset", empty)).verdicts[0]
    assert (v.kind, v.errno, v.hook) == ("refused", "ENOSPC", "cpuset")
    _, o = one(bypass(), p.pid, CgroupRef("cpuset", empty))
    assert (o.outcome, o.errno, o.hook) == ("refused", "ENOSPC", "kernel")
    assert realworld.cgroup_of(p.pid, "cpuset") == "/"


def _chown_cgroup(realworld, hier: str, path: str, uid: int) -> None:
    d = realworld.fs(hier, path)
    for name in ("", "cgroup.procs", "tasks", "cgroup.threads"):
        target = os.path.join(d, name) if name else d
        if os.path.exists(target):
            os.chown(target, uid, uid)


def _as_nobody(jobs: list[tuple[list[int], str, bool, bool]]) -> list[dict]:
    """Run the engine in a forked child that dropped to uid/gid 65534; each job is (pids,
    target, threads, bypass). Returns per job the first verdict and outcome as dicts."""
    r, w = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            out = []
            for pids, target, threads, no_hooks in jobs:
                e = bypass() if no_hooks else engine()
                plan = e.plan(pids, CgroupRef.parse(target), threads=threads)
                report = e.apply(plan)
                out.append({"verdict": plan.verdicts[0].replace(task=None).to_dict(),
                            "outcome": report.outcomes[0].to_dict()})
            os.write(w, json.dumps(out).encode())
            code = 0
        except BaseException as exc:  # noqa: BLE001
            os.write(w, json.dumps({"error": repr(exc)}).encode())
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    os.waitpid(child, 0)
    data = json.loads(b"".join(chunks))
    assert not isinstance(data, dict), data
    return data


def test_non_root_writer_v1_and_v2(realworld):
    closed = realworld.mkdir("freezer", "closed")
    mine = realworld.mkdir("freezer", "mine")
    _chown_cgroup(realworld, "freezer", mine, 65534)
    v2_src = realworld.mkdir("unified", "src")
    v2_dst = realworld.mkdir("unified", "dst")
    _chown_cgroup(realworld, "unified", v2_dst, 65534)
    root_task = realworld.spawn_sleep()
    nobody_task = realworld.spawn_as(65534)
    nobody_v2 = realworld.spawn_as(65534)
    realworld.put(nobody_v2.pid, "unified", v2_src)
    results = _as_nobody([
        ([root_task.pid], f"freezer:{closed}", False, False),   # file not writable
        ([root_task.pid], f"freezer:{closed}", False, True),
        ([root_task.pid], f"freezer:{mine}", False, False),     # v1 euid rule
        ([root_task.pid], f"freezer:{mine}", False, True),
        ([nobody_task.pid], f"freezer:{mine}", False, False),   # own task: allowed
        ([nobody_v2.pid], f"unified:{v2_dst}", False, False),   # v2 delegation: common ancestor
        ([nobody_v2.pid], f"unified:{v2_dst}", False, True),
    ])
    got = [(x["verdict"]["kind"], x["verdict"]["errno"], x["verdict"]["hook"], x["outcome"]["outcome"],
            x["outcome"]["errno"], x["outcome"]["hook"]) for x in results]
    assert got == [
        ("refused", "EACCES", "file-access", "refused", "EACCES", "file-access"),
        ("move", None, None, "refused", "EACCES", "kernel"),
        ("refused", "EACCES", "v1-permission", "refused", "EACCES", "v1-permission"),
        ("move", None, None, "refused", "EACCES", "kernel"),
        ("move", None, None, "moved", None, None),
        ("refused", "EACCES", "v2-delegation", "refused", "EACCES", "v2-delegation"),
        ("move", None, None, "refused", "EACCES", "kernel"),
    ]
    assert "euid is 65534" in results[2]["verdict"]["reason"]
    assert realworld.cgroup_of(root_task.pid, "freezer") == "/"
    assert realworld.cgroup_of(nobody_task.pid, "freezer") == mine
    assert realworld.cgroup_of(nobody_v2.pid, "unified") == v2_src


# ----------------------------------------------------------------------------- reuse, batches, undo


def test_pid_reuse_is_refused_never_written(realworld):
    a = realworld.mkdir("freezer", "a")
    p = realworld.spawn_sleep()
    real_start = start_time(p.pid)
    e = engine()
    v = e.plan([p.pid], CgroupRef("freezer", a), expected_start={p.pid: real_start - 1}).verdicts[0]
    assert (v.kind, v.errno, v.hook) == ("vanished", "ESRCH", "pid-reuse") and "recycled" in v.reason
    # the same at apply time: the plan remembered another task than the pidfd finds
    plan = e.plan([p.pid], CgroupRef("freezer", a))
    stale = plan.replace(verdicts=(plan.verdicts[0].replace(start_time=real_start + 7),))
    o = e.apply(stale).outcomes[0]
    assert (o.outcome, o.errno, o.hook) == ("vanished", "ESRCH", "pid-reuse")
    assert realworld.cgroup_of(p.pid, "freezer") == "/"


def test_all_or_nothing_rolls_back_on_the_real_kernel(realworld):
    src = realworld.mkdir("freezer", "src")
    dst = realworld.mkdir("freezer", "dst")
    procs = [realworld.spawn_sleep() for _ in range(3)]
    for p in procs:
        realworld.put(p.pid, "freezer", src)
    e = engine()
    plan = e.plan([p.pid for p in procs], CgroupRef("freezer", dst))
    assert plan.ok
    procs[2].kill()
    procs[2].wait()
    r = e.apply(plan, all_or_nothing=True)
    assert [o.outcome for o in r.outcomes[:2]] == ["rolled-back", "rolled-back"]
    assert (r.outcomes[2].outcome, r.outcomes[2].errno) == ("vanished", "ESRCH") and r.rolled_back and not r.ok
    assert [realworld.cgroup_of(p.pid, "freezer") for p in procs[:2]] == [src, src]
    # plan-time refusal: nothing is written at all
    empty = realworld.mkdir("cpuset", "empty", cpuset_empty=True)
    r = e.apply(e.plan([procs[0].pid, procs[1].pid], CgroupRef("cpuset", empty)), all_or_nothing=True)
    assert [o.outcome for o in r.outcomes] == ["refused", "refused"]


def test_undo_on_the_real_kernel(realworld, tmp_path):
    src = realworld.mkdir("freezer", "src")
    dst = realworld.mkdir("freezer", "dst")
    p, tids = realworld.spawn_threads(2)
    realworld.put(p.pid, "freezer", src)
    journal = Journal(str(tmp_path / "journal.jsonl"))
    e = engine(journal=journal)
    r = e.apply(e.plan([p.pid], CgroupRef("freezer", dst)))
    assert r.ok and realworld.cgroup_of(p.pid, "freezer") == dst
    u = engine(journal=Journal(journal.path)).undo()
    assert u.undo_of == r.batch_id and u.outcomes[0].outcome == "moved"
    assert [realworld.cgroup_of(t, "freezer") for t in tids] == [src] * 3
    assert engine(journal=Journal(journal.path)).undo() is None
    rows = [json.loads(x) for x in open(journal.path)]
    assert [(x["from"], x["to"], x["batch"]) for x in rows if x["kind"] == "outcome"] == [
        (src, dst, r.batch_id), (dst, src, u.batch_id)]
    assert [x["undo_of"] for x in rows if x["kind"] == "intent"] == [None, r.batch_id]


def test_undo_does_not_touch_a_task_that_exited(realworld, tmp_path):
    dst = realworld.mkdir("freezer", "dst")
    p = realworld.spawn_sleep()
    e = engine(journal=Journal(str(tmp_path / "j.jsonl")))
    assert e.apply(e.plan([p.pid], CgroupRef("freezer", dst))).ok
    p.kill()
    p.wait()
    time.sleep(0.01)
    u = e.undo()
    assert u.outcomes[0].outcome == "vanished" and u.outcomes[0].errno == "ESRCH"
    assert u.outcomes[0].hook in ("alive", "pid-reuse")


def test_a_big_batch_on_the_real_kernel_is_verified_by_one_read_of_the_target(realworld):
    src = realworld.mkdir("freezer", "src")
    dst = realworld.mkdir("freezer", "dst")
    sleeps = [realworld.spawn_sleep() for _ in range(40)]
    for p in sleeps:
        realworld.put(p.pid, "freezer", src)
    proc, tids = realworld.spawn_threads(2)
    realworld.put(proc.pid, "freezer", src)
    zombie = realworld.spawn_zombie()
    pids = [p.pid for p in sleeps] + [proc.pid, zombie]
    e = bypass()
    assert len(pids) >= e.verify_batch
    plan = e.plan(pids, CgroupRef("freezer", dst))
    assert all(v.identity is None or v.identity[2] == v.start_time for v in plan.verdicts)
    sleeps[4].kill()
    sleeps[4].wait()  # reaped between plan and apply: its PID is free (or taken by a newcomer)
    r = e.apply(plan)
    got = [o.outcome for o in r.outcomes]
    assert got[4] == "vanished" and r.outcomes[4].errno == "ESRCH"
    assert got[:4] + got[5:] == ["moved"] * 40 + ["vanished"]
    assert "exited" in r.outcomes[-1].reason and r.outcomes[-1].errno == "ESRCH" and r.outcomes[40].warnings == ()
    assert {realworld.cgroup_of(p.pid, "freezer") for i, p in enumerate(sleeps) if i != 4} == {dst}
    assert [realworld.cgroup_of(t, "freezer") for t in tids] == [dst] * 3
