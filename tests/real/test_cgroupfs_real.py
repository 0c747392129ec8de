"""ctrtui.sources.cgroupfs on this machine: discovery and the real kernel (the parsers on fake
text: tests/unit/test_cgroupfs.py).

Real tests use the `realworld` fixture (tests/realcg.py): throwaway `ctrtui-test-*` cgroups
in freezer/pids/cpu/cpuset/unified and only processes they start themselves.
"""

from __future__ import annotations

import errno
import os
import time

import pytest

from ctrtui.sources import MembershipFile, TaskHandle
from ctrtui.sources.cgroupfs import CgroupFS
from ctrtui.sources.mounts import parse_proc_cgroup
from tests.realcg import REAL_OK, REAL_WHY, task_state_letter

real = pytest.mark.real


@pytest.fixture
def fs() -> CgroupFS:
    return CgroupFS()


def errno_of(fn, *args) -> int:
    with pytest.raises(OSError) as e:
        fn(*args)
    return e.value.errno


# ---------------------------------------------------------------- discovery on this machine


@pytest.mark.skipif(not os.path.exists("/proc/self/mountinfo"), reason="no /proc")
def test_discovery_matches_proc(fs):
    hs = fs.hierarchies()
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] in ("cgroup", "cgroup2"):
                mounts.setdefault(left.split()[2], left.split()[4])
    assert len(hs) == len(mounts)  # one per distinct major:minor
    assert {h.mount for h in hs} <= set(mounts.values())
    ids = {k: v[0] for k, v in parse_proc_cgroup(open("/proc/self/cgroup").read()).items()}
    for h in hs:
        if h.version == 1:
            assert ids[h.name] == h.hierarchy_id, h
        else:
            assert h.name == "unified" and h.hierarchy_id == 0
            assert h.controllers == tuple(open(h.mount + "/cgroup.controllers").read().split())
    assert fs.hierarchies() == hs  # stable


HYBRID = {  # this project's machine
    "cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct", "cpuset": "/sys/fs/cgroup/cpuset",
    "memory": "/sys/fs/cgroup/memory", "devices": "/sys/fs/cgroup/devices",
    "freezer": "/sys/fs/cgroup/freezer", "blkio": "/sys/fs/cgroup/blkio", "pids": "/sys/fs/cgroup/pids",
    "name=systemd": "/sys/fs/cgroup/systemd", "unified": "/sys/fs/cgroup/unified",
}


def test_discovery_of_this_machines_ten_hierarchies(fs):
    hs = fs.hierarchies()
    if {h.mount for h in hs} != set(HYBRID.values()):
        pytest.skip("not the project's hybrid machine (9 v1 + 1 v2 under /sys/fs/cgroup)")
    assert len(hs) == 10
    assert {h.name: h.mount for h in hs} == HYBRID
    assert [h.version for h in hs] == [1] * 9 + [2]
    ids = [h.hierarchy_id for h in hs[:9]]
    assert ids == sorted(ids) and len(set(ids)) == 9 and 0 not in ids
    by = {h.name: h for h in hs}
    assert by["name=systemd"].controllers == ("name=systemd",)
    assert by["cpu"].controllers == ("cpu",)
    assert "hugetlb" in by["unified"].controllers
    cgroups = {ln.split()[0]: int(ln.split()[1]) for ln in open("/proc/cgroups") if not ln.startswith("#")}
    for name in ("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"):
        assert by[name].hierarchy_id == cgroups[name]


def test_hierarchy_lookup(fs):
    if not REAL_OK:
        pytest.skip(REAL_WHY)
    assert fs.hierarchy("freezer").name == "freezer"
    assert fs.hierarchy("cgroup2").version == 2
    with pytest.raises(KeyError):
        fs.hierarchy("no-such-hierarchy")
    with pytest.raises(KeyError):
        fs.snapshot(["no-such-hierarchy"])


def test_whole_machine_snapshot(fs):
    snap = fs.snapshot()
    assert snap.backend == "real" and snap.names() == [h.name for h in fs.hierarchies()]
    me = os.getpid()
    where = fs.task_cgroups(me)
    for hs in snap.hierarchies:
        assert list(hs.containers)[0] == hs.hierarchy.root
        for c in hs.containers.values():
            assert list(c.threads) == sorted(set(c.threads))
            assert list(c.procs) == sorted(set(c.procs))
        assert hs.find(me, threads=True) == [where[hs.name]], hs.name


# ---------------------------------------------------------------- snapshot (real)


@real
def test_snapshot_threads_and_procs_views(fs, realworld):
    w = realworld
    for hier in ("freezer", "unified"):
        a, b = w.mkdir(hier, "a"), w.mkdir(hier, "b/c")
        sleep = w.spawn_sleep()
        child, tids = w.spawn_threads(3)
        w.put(sleep.pid, hier, a)
        w.put(child.pid, hier, b)
        snap = fs.snapshot([hier], w.top(hier))
        hs = snap[hier]
        top = w.top(hier)
        assert list(hs.containers) == [top, a, top + "/b", b]
        assert hs[top].children == (a, top + "/b")
        assert list(hs[a].threads) == [sleep.pid] and list(hs[a].procs) == [sleep.pid]
        assert list(hs[b].threads) == sorted(tids)
        assert list(hs[b].procs) == [child.pid]
        assert hs.count(top, threads=True, recursive=True) == 5


@real
def test_snapshot_reads_big_membership_files_to_eof(fs, realworld):
    w = realworld
    child, tids = w.spawn_threads(1200)  # > 4 KiB of text in tasks/cgroup.threads
    for hier in ("freezer", "unified"):
        cg = w.mkdir(hier, "big")
        w.put(child.pid, hier, cg)
        c = fs.snapshot([hier], cg)[hier][cg]
        assert list(c.threads) == sorted(tids)
        assert list(c.procs) == [child.pid]


@real
def test_snapshot_subtree_missing_and_names(fs, realworld):
    w = realworld
    cg = w.mkdir("pids", "x")
    snap = fs.snapshot(["pids", "unified"], cg)
    assert snap.names() == ["pids", "unified"]
    assert list(snap["pids"].containers) == [cg]
    assert len(snap["unified"].containers) == 0  # no such cgroup there
    with pytest.raises(ValueError):
        fs.snapshot(["pids"], "relative/path")


@real
@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_snapshot_lists_children_sorted_whatever_order_the_kernel_lists_them(fs, realworld, hier):
    # kernfs lists a directory in the order of a hash of the names, not by name nor by
    # creation: with a dozen children (made in reverse-sorted, then shuffled order) the
    # kernel's own listing is out of order, and the snapshot must sort it
    w = realworld
    parent = w.mkdir(hier, "p")
    names = ["zeta", "k10", "k9", "k1", "alpha", "Beta", "m-2", "m-10", "_x", "b.service", "a.slice", "0"]
    for name in names:
        w.mkdir(hier, f"p/{name}")
    listed = [e for e in os.listdir(w.fs(hier, parent)) if os.path.isdir(os.path.join(w.fs(hier, parent), e))]
    assert sorted(listed) == sorted(names)
    assert listed != sorted(names), "the kernel listed them sorted: this test would not bite"
    hs = fs.snapshot([hier], parent)[hier]
    want = [f"{parent}/{n}" for n in sorted(names)]
    assert list(hs[parent].children) == want
    assert list(hs.containers) == [parent] + want  # pre-order follows the sorted children
    whole = fs.snapshot([hier])[hier]
    assert list(whole[parent].children) == want


@real
def test_v2_threaded_subtree_snapshot(fs, realworld):
    w = realworld
    dom = w.mkdir("unified", "dom")
    thr = w.mkdir("unified", "dom/t")
    with open(w.fs("unified", thr) + "/cgroup.type", "w") as f:
        f.write("threaded")
    child, tids = w.spawn_threads(2)
    w.put(child.pid, "unified", dom)
    w.put(tids[1], "unified", thr, "cgroup.threads")
    hs = fs.snapshot(["unified"], dom)["unified"]
    assert list(hs[thr].threads) == [tids[1]]
    assert list(hs[thr].procs) == [child.pid]  # derived: cgroup.procs unreadable there
    assert list(hs[dom].threads) == sorted([tids[0], tids[2]])
    assert list(hs[dom].procs) == [child.pid]
    assert fs.cgroup_state("unified", thr).cgroup_type == "threaded"


@real
def test_snapshot_skips_a_cgroup_removed_during_the_walk(fs, realworld, monkeypatch):
    w = realworld
    a, b = w.mkdir("freezer", "a"), w.mkdir("freezer", "b")
    real_scandir = os.scandir

    def scandir(path):
        if path == w.fs("freezer", a) and os.path.isdir(w.fs("freezer", b)):
            os.rmdir(w.fs("freezer", b))  # b was listed by the parent, is gone when read
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    hs = fs.snapshot(["freezer"], w.top("freezer"))["freezer"]
    assert list(hs.containers) == [w.top("freezer"), a]
    assert hs[w.top("freezer")].children == (a,)


@real
@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_snapshot_reconciles_a_task_moved_during_the_walk(fs, realworld, monkeypatch, hier):
    w = realworld
    a, b = w.mkdir(hier, "a"), w.mkdir(hier, "b")
    child, tids = w.spawn_threads(2)
    if hier == "freezer":
        w.put(child.pid, hier, w.top(hier))
        w.put(tids[1], hier, a, "tasks")  # one thread in a; leader and the other at top
        mover, file = tids[1], "tasks"
    else:
        w.put(child.pid, hier, a)
        mover, file = child.pid, "cgroup.procs"
    real_scandir = os.scandir

    def scandir(path):
        if path == w.fs(hier, b) and w.cgroup_of(mover, hier) == a:
            w.put(mover, hier, b, file)  # a was read already; b is read next
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    hs = fs.snapshot([hier], w.top(hier))[hier]
    assert w.cgroup_of(mover, hier) == b
    if hier == "freezer":
        assert list(hs[a].threads) == [] and list(hs[a].procs) == []
        assert list(hs[b].threads) == [tids[1]] and list(hs[b].procs) == [child.pid]
        assert list(hs[w.top(hier)].procs) == [child.pid]
    else:
        assert list(hs[a].threads) == [] and list(hs[a].procs) == []
        assert list(hs[b].threads) == sorted(tids) and list(hs[b].procs) == [child.pid]
    assert hs.find(mover, threads=True) == [b]


# ---------------------------------------------------------------- moves (real)


@real
def test_v1_tasks_moves_one_thread_procs_moves_the_group(fs, realworld):
    w = realworld
    a, b = w.mkdir("freezer", "a"), w.mkdir("freezer", "b")
    child, tids = w.spawn_threads(2)
    lead, t1, t2 = tids
    assert fs.write_pid("freezer", a, "tasks", str(t1).encode()) == len(str(t1))
    assert fs.task_cgroups(t1)["freezer"] == a
    assert fs.task_cgroups(lead)["freezer"] == "/" and fs.task_cgroups(t2)["freezer"] == "/"
    hs = fs.snapshot(["freezer"], w.top("freezer"))["freezer"]
    assert list(hs[a].threads) == [t1] and list(hs[a].procs) == [lead]
    assert list(hs[w.top("freezer")].threads) == []
    # cgroup.procs given a NON-leader TID moves the whole thread group
    fs.write_pid("freezer", b, "cgroup.procs", str(t2).encode())
    assert {fs.task_cgroups(t)["freezer"] for t in tids} == {b}
    assert w.cgroup_of(lead, "freezer") == b
    assert fs.thread_ids(lead) == tuple(sorted(tids))


@real
def test_v2_moves(fs, realworld):
    w = realworld
    a, a2 = w.mkdir("unified", "a"), w.mkdir("unified", "a2")
    dom, thr = w.mkdir("unified", "d"), w.mkdir("unified", "d/t")
    child, tids = w.spawn_threads(2)
    fs.write_pid("unified", a, "cgroup.procs", str(tids[2]).encode())  # any TID: whole process
    assert {fs.task_cgroups(t)["unified"] for t in tids} == {a}
    assert w.cgroup_of(child.pid, "unified") == a
    # cgroup.threads across domains (outside a threaded subtree): EOPNOTSUPP, nothing moves
    assert errno_of(fs.write_pid, "unified", a2, "cgroup.threads", str(tids[1]).encode()) == errno.EOPNOTSUPP
    assert fs.task_cgroups(tids[1])["unified"] == a
    fs.write_pid("unified", dom, "cgroup.procs", str(child.pid).encode())
    with open(w.fs("unified", thr) + "/cgroup.type", "w") as f:
        f.write("threaded")
    fs.write_pid("unified", thr, "cgroup.threads", str(tids[1]).encode())
    assert fs.task_cgroups(tids[1])["unified"] == thr
    assert fs.task_cgroups(child.pid)["unified"] == dom


# ---------------------------------------------------------------- write errors (real)


@real
def test_write_errors(fs, realworld):
    w = realworld
    top = w.mkdir("freezer")
    sleep = w.spawn_sleep()
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    assert errno_of(fs.write_pid, "freezer", top, "cgroup.procs", str(pid_max + 1).encode()) == errno.ESRCH
    for bad in (b"abc", b"-1", b"123abc", b"2147483648", b"1 2"):
        assert errno_of(fs.write_pid, "freezer", top, "cgroup.procs", bad) == errno.EINVAL, bad
    assert fs.write_pid("freezer", top, "cgroup.procs", b"") == 0
    assert errno_of(fs.write_pid, "freezer", top + "/nope", "cgroup.procs", str(sleep.pid).encode()) == errno.ENOENT
    with pytest.raises(ValueError):
        fs.write_pid("freezer", top, "freezer.state", b"FROZEN")
    assert w.cgroup_of(sleep.pid, "freezer") == "/"


@real
def test_removed_target_enoent_and_enodev(fs, realworld):
    w = realworld
    gone = w.mkdir("freezer", "gone")
    sleep = w.spawn_sleep()
    f = fs.open_membership("freezer", gone, "cgroup.procs")
    assert isinstance(f, MembershipFile)
    try:
        os.rmdir(w.fs("freezer", gone))
        assert errno_of(f.write, str(sleep.pid).encode()) == errno.ENODEV
    finally:
        f.close()
    f.close()  # idempotent
    assert errno_of(fs.open_membership, "freezer", gone, "cgroup.procs") == errno.ENOENT
    assert fs.cgroup_state("freezer", gone) is None
    assert fs.cgroup_stats("freezer", gone) == {}


@real
def test_empty_cpuset_enospc(fs, realworld):
    w = realworld
    empty = w.mkdir("cpuset", "empty", cpuset_empty=True)
    full = w.mkdir("cpuset", "full")
    sleep = w.spawn_sleep()
    st = fs.cgroup_state("cpuset", empty)
    assert st.cpuset_cpus == "" and st.cpuset_mems == ""
    assert fs.cgroup_state("cpuset", full).cpuset_cpus != ""
    assert errno_of(fs.write_pid, "cpuset", empty, "cgroup.procs", str(sleep.pid).encode()) == errno.ENOSPC
    assert w.cgroup_of(sleep.pid, "cpuset") == "/"
    fs.write_pid("cpuset", full, "cgroup.procs", str(sleep.pid).encode())
    assert w.cgroup_of(sleep.pid, "cpuset") == full


def _in_child_as_nobody(fn) -> int:
    """Run fn() in a forked child with uid/euid/suid 65534; returns the errno it raised (0 if none)."""
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 0
        try:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            fn()
        except OSError as e:
            code = e.errno or 250
        except BaseException:
            code = 251
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@real
def test_non_root_writer_eacces_and_permission_judged_at_open(fs, realworld):
    w = realworld
    a = w.mkdir("freezer", "a")
    sleep = w.spawn_sleep()
    data = str(sleep.pid).encode()
    # A non-root writer cannot even open the root-owned membership file.
    assert _in_child_as_nobody(lambda: fs.open_membership("freezer", a, "cgroup.procs")) == errno.EACCES
    assert _in_child_as_nobody(lambda: fs.write_pid("freezer", a, "cgroup.procs", data)) == errno.EACCES
    assert w.cgroup_of(sleep.pid, "freezer") == "/"
    st = fs.cgroup_state("freezer", a)
    assert st.writable == {"tasks", "cgroup.procs"}
    # The kernel judges the opener's credentials: root opened it, so the write works
    # even after the writing process dropped to nobody.
    f = fs.open_membership("freezer", a, "cgroup.procs")
    try:
        assert _in_child_as_nobody(lambda: f.write(data)) == 0
    finally:
        f.close()
    assert w.cgroup_of(sleep.pid, "freezer") == a


@real
def test_kthreadd_einval(fs, realworld):
    w = realworld
    if fs.task_state(2) is None or fs.task_state(2).comm != "kthreadd":
        pytest.skip("PID 2 is not kthreadd here (PID namespace)")
    # Only PID 2: the kernel refuses it (EINVAL) so nothing can move. Other kernel threads
    # are never written: v1 would really move them.
    assert errno_of(fs.write_pid, "freezer", w.mkdir("freezer"), "cgroup.procs", b"2") == errno.EINVAL
    assert fs.task_cgroups(2)["freezer"] == "/"
    assert fs.task_state(2).kthread


@real
def test_zombie_write_succeeds_but_nothing_moves(fs, realworld):
    w = realworld
    a = w.mkdir("freezer", "a")
    z = w.spawn_zombie()
    assert fs.task_state(z).zombie
    assert fs.write_pid("freezer", a, "cgroup.procs", str(z).encode()) == len(str(z))
    assert fs.task_cgroups(z)["freezer"] == "/"
    assert z not in fs.snapshot(["freezer"], a)["freezer"][a].procs


# ---------------------------------------------------------------- state, stats, tasks (real)


@real
def test_cgroup_state_and_stats(fs, realworld):
    w = realworld
    fr = w.mkdir("freezer", "s")
    st = fs.cgroup_state("freezer", fr)
    assert (st.hierarchy, st.path, st.version, st.freezer_state) == ("freezer", fr, 1, "THAWED")
    assert fs.cgroup_stats("freezer", fr) == {"freezer.state": "THAWED"}
    pc = w.mkdir("pids", "s")
    sleep = w.spawn_sleep()
    w.put(sleep.pid, "pids", pc)
    assert fs.cgroup_stats("pids", pc) == {"pids.current": "1", "pids.max": "max"}
    cs = fs.cgroup_stats("cpuset", w.mkdir("cpuset", "s"))
    assert cs["cpuset.cpus"] == open(w.fs("cpuset", "/") + "/cpuset.cpus").read().strip()
    u = w.mkdir("unified", "s")
    w.put(sleep.pid, "unified", u)
    us = fs.cgroup_stats("unified", u)
    assert us["cgroup.type"] == "domain" and "populated 1" in us["cgroup.events"]
    assert us["cgroup.subtree_control"] == "" and "usage_usec" in us["cpu.stat"]
    ust = fs.cgroup_state("unified", u)
    assert (ust.version, ust.cgroup_type, ust.subtree_control) == (2, "domain", ())
    assert ust.writable == {"cgroup.procs", "cgroup.threads"}


@real
def test_task_state_comm_with_spaces_and_parens(fs, realworld):
    w = realworld
    child, tids = w.spawn_threads(2, comm="x) (y z")
    t = fs.task_state(child.pid)
    assert t.comm == "x) (y z" and t.tgid == child.pid and t.threads == 3
    assert (t.uid, t.euid, t.suid) == (0, 0, 0) and not t.kthread and t.start_time > 0
    th = fs.task_state(tids[1])
    assert th.tgid == child.pid and th.is_thread
    nobody = w.spawn_as(65534)
    deadline = time.monotonic() + 5
    while fs.task_state(nobody.pid).euid != 65534 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the child has dropped its ids
    n = fs.task_state(nobody.pid)
    assert (n.uid, n.euid, n.suid) == (65534, 65534, 65534)
    assert fs.task_details([nobody.pid])[nobody.pid].user in ("nobody", "65534")
    assert fs.task_state(2**22 + 5) is None
    assert fs.task_cgroups(2**22 + 5) is None
    assert fs.thread_ids(2**22 + 5) == ()


@real
def test_pidfd_handles(fs, realworld):
    w = realworld
    sleep = w.spawn_sleep()
    h = fs.open_task(sleep.pid)
    assert isinstance(h, TaskHandle)
    with h:
        start = fs.task_state(sleep.pid).start_time
        assert h.alive() and h.start_time() == start
        sleep.kill()
        deadline = time.monotonic() + 5
        while task_state_letter(sleep.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.005)
        assert not h.alive()  # a zombie has exited
        assert h.start_time() == start  # not reaped yet: still the same task
        sleep.wait()
        assert not h.alive() and h.start_time() is None  # reaped
    h.close()  # idempotent
    assert not h.alive()
    # threads need PIDFD_THREAD; a plain open of a TID falls back to it
    child, tids = w.spawn_threads(1)
    with fs.open_task(tids[1], thread=True) as th:
        assert th.alive() and th.start_time() == fs.task_state(tids[1]).start_time
    with fs.open_task(tids[1]) as th:
        assert th.alive()
    z = w.spawn_zombie()
    with fs.open_task(z) as zh:
        assert not zh.alive()
    assert errno_of(fs.open_task, 2**22 + 5) == errno.ESRCH
    assert errno_of(fs.open_task, 0) == errno.ESRCH


@real
def test_snapshot_without_procs_has_the_same_threads(fs, realworld):
    w = realworld
    a = w.mkdir("freezer", "a")
    u = w.mkdir("unified", "u")
    p, tids = w.spawn_threads(2)
    w.put(p.pid, "freezer", a)
    w.put(p.pid, "unified", u)
    for hier, top in (("freezer", w.top("freezer")), ("unified", w.top("unified"))):
        full = fs.snapshot([hier], subtree=top)[hier]
        lean = fs.snapshot([hier], subtree=top, procs=False)[hier]
        assert list(full.containers) == list(lean.containers)
        assert all(list(full[c].threads) == list(lean[c].threads) for c in full.containers)
        assert full.total(threads=False) >= 1 and lean.total(threads=False) == 0


@real
def test_task_probe_reads_one_task_under_a_pidfd(fs, realworld):
    w = realworld
    a = w.mkdir("freezer", "a")
    sleep = w.spawn_sleep()
    w.put(sleep.pid, "freezer", a)
    info, where, ident = fs.task_probe(sleep.pid, "freezer")
    plain = fs.task_state(sleep.pid)
    same = ("pid", "tgid", "comm", "uid", "euid", "suid", "start_time", "threads")  # not state: R or S
    assert [getattr(info, n) for n in same] == [getattr(plain, n) for n in same]
    assert where == a == fs.task_cgroups(sleep.pid)["freezer"]
    assert fs.task_probe(sleep.pid, "unified")[1] == fs.task_cgroups(sleep.pid)["unified"]
    assert fs.task_cgroup(sleep.pid, "freezer") == a
    with fs.open_task(sleep.pid) as h:
        # the identity is the pidfd's (device, inode) and the start time; every pidfd of the
        # task has that inode, another task's does not
        assert ident is None or ident == (*h.identity(), plain.start_time)
        assert not h.exited()
    other = w.spawn_sleep()
    if ident is not None:
        assert fs.task_probe(other.pid, "freezer")[2][:2] != ident[:2]
    # a thread (PIDFD_THREAD), a zombie, kthreadd, no such task
    child, tids = w.spawn_threads(2)
    t_info, t_where, _ = fs.task_probe(tids[2], "freezer")
    assert (t_info.pid, t_info.tgid, t_info.threads, t_where) == (tids[2], child.pid, 3, "/")
    z = w.spawn_zombie()
    z_info, _, _ = fs.task_probe(z, "freezer")
    assert z_info.zombie and z_info.tgid == z and z_info.uid == fs.task_state(z).uid
    assert fs.task_probe(2, "freezer")[0].kthread
    assert fs.task_probe(2**22 + 5, "freezer") is None and fs.task_cgroup(2**22 + 5, "freezer") is None
    with fs.open_task(z) as zh:
        assert zh.exited()
    sleep.kill()
    sleep.wait()
    probe = fs.task_probe(sleep.pid, "freezer")
    assert probe is None or probe[0].start_time != plain.start_time


_IN_NAMESPACE = r"""
import ctypes, json, os, subprocess, sys
sys.stdin.readline()  # moved into its cgroup by the test first
if ctypes.CDLL(None, use_errno=True).unshare(0x02000000) != 0:  # CLONE_NEWCGROUP
    print(json.dumps({"error": os.strerror(ctypes.get_errno())}), flush=True)
    sys.exit()
from ctrtui.sources.cgroupfs import CgroupFS
out = {"root": next(line.split()[3] for line in open("/proc/self/mountinfo") if " - cgroup2 " in line)}
b = CgroupFS()
h = b.hierarchy("unified")
out["mount"], out["hroot"], out["self"] = h.mount, h.root, b.task_cgroup(os.getpid(), "unified")
out["inner"] = b.cgroup_state("unified", "/inner") is not None
out["paths"] = sorted(b.snapshot(["unified"])["unified"].containers)
s = subprocess.Popen(["sleep", "300"])
try:
    b.write_pid("unified", "/inner", "cgroup.procs", str(s.pid).encode())
    out["sleep"] = b.task_cgroup(s.pid, "unified")
    b.write_pid("unified", "/", "cgroup.procs", str(s.pid).encode())
finally:
    s.kill()
    s.wait()
print(json.dumps(out), flush=True)
"""


def test_inside_a_cgroup_namespace_over_the_hosts_mount(realworld):
    """In a cgroup namespace whose /sys/fs/cgroup is still the host's mount, mountinfo gives
    the mount's root relative to the namespace's root (`/../..`); CgroupFS finds the
    namespace's root below the mount and reads and writes cgroups there, as the kernel lets
    a task of the namespace do."""
    import json
    import subprocess
    import sys

    ns = realworld.mkdir("unified", "ns")
    realworld.mkdir("unified", "ns/inner")
    child = realworld._popen([sys.executable, "-c", _IN_NAMESPACE], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    realworld.put(child.pid, "unified", ns)
    out, _ = child.communicate("go\n", timeout=60)
    got = json.loads(out)
    assert got.get("root") == "/../..", got
    assert (got["mount"], got["hroot"], got["self"]) == (realworld.fs("unified", ns), "/", "/")
    assert got["inner"] and got["paths"] == ["/", "/inner"]
    assert got["sleep"] == "/inner"


_OUTSIDE = r"""
import ctypes, json, os, sys
pid = int(sys.stdin.readline())
if ctypes.CDLL(None, use_errno=True).unshare(0x02000000) != 0:  # CLONE_NEWCGROUP
    print(json.dumps({"error": os.strerror(ctypes.get_errno())}), flush=True)
    sys.exit()
from ctrtui.engine import AttachEngine, Policy
from ctrtui.model import CgroupRef
from ctrtui.sources.cgroupfs import CgroupFS
b = CgroupFS()
v = AttachEngine(b, policy=Policy(), load_entry_points=False).plan([pid], CgroupRef("unified", "/inner")).verdicts[0]
out = {"seen": b.task_cgroup(pid, "unified"), "verdict": [v.kind, v.errno, v.hook]}
out["nsdelegate"] = b.ns_delegate("unified")
try:
    b.write_pid("unified", "/inner", "cgroup.procs", str(pid).encode())
    out["kernel"] = "moved"
except OSError as e:
    out["kernel"] = e.errno
print(json.dumps(out), flush=True)
"""


def test_a_task_outside_our_cgroup_namespace(realworld):
    """Seen from inside a cgroup namespace, a task outside it reads `/../...`. Here cgroup2 is
    mounted without nsdelegate, so the kernel lets root move it in; ctrtui, which could not
    name where it came from (nor undo it), refuses it itself (hook cgroup-namespace). With
    nsdelegate (systemd's mount) the kernel says ENOENT, and ctrtui predicts it."""
    import json
    import subprocess
    import sys

    ns, other = realworld.mkdir("unified", "ns"), realworld.mkdir("unified", "other")
    inner = realworld.mkdir("unified", "ns/inner")
    sleep = realworld.spawn_sleep()
    realworld.put(sleep.pid, "unified", other)
    child = realworld._popen([sys.executable, "-c", _OUTSIDE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    realworld.put(child.pid, "unified", ns)
    out, _ = child.communicate(f"{sleep.pid}\n", timeout=60)
    got = json.loads(out)
    assert got.get("seen") == "/../other", got
    if got["nsdelegate"]:  # systemd's mount: a namespace is a delegation boundary
        assert got["verdict"] == ["refused", "ENOENT", "cgroup-namespace"]
        assert got["kernel"] == errno.ENOENT and realworld.cgroup_of(sleep.pid, "unified") == other
    else:
        assert got["verdict"] == ["refused", None, "cgroup-namespace"]
        assert got["kernel"] == "moved" and realworld.cgroup_of(sleep.pid, "unified") == inner
