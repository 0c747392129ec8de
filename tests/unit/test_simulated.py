"""SimKernel: every rule of docs/kernel.md, the check order, the builder API and the
snapshot shapes. (The same scenarios against the real kernel: tests/real/test_conformance.py.)"""

from __future__ import annotations

import errno
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctrtui.model import PF_EXITING, PF_KTHREAD, Creds, Snapshot
from ctrtui.sources.base import Backend, MembershipFile, TaskHandle
from ctrtui.sources.simkernel.rules import kstrtoint
from ctrtui.sources.simulated import SimKernel


def w(k: SimKernel, hier: str, path: str, data: bytes | str, file: str | None = None):
    """Write through the backend; the return value, or the errno's name."""
    if file is None:
        file = "tasks" if hier != "unified" else "cgroup.procs"
    if isinstance(data, str):
        data = data.encode()
    try:
        return k.write_pid(hier, path, file, data)
    except OSError as e:
        return ename(e.errno)


def ename(code: int) -> str:
    """errno name as docs/kernel.md writes it (Python calls 95 ENOTSUP)."""
    return "EOPNOTSUPP" if code == errno.EOPNOTSUPP else errno.errorcode[code]


@pytest.fixture
def k() -> SimKernel:
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.add_hierarchy("cpuset", 1, ["cpuset"])
    k.add_hierarchy("cpu,cpuacct", 1, ["cpu", "cpuacct"])
    k.add_hierarchy("name=systemd", 1, ["name=systemd"])
    k.add_hierarchy("unified", 2, ["hugetlb", "pids"])
    k.spawn("systemd", "/sbin/init", pid=1)
    k.spawn("kthreadd", kthread=True, pid=2)
    k.set_last_pid(2)
    k.kthreadd = 2
    k.ksoftirqd = k.spawn("ksoftirqd/0", kthread=True, no_setaffinity=True)
    k.khungtaskd = k.spawn("khungtaskd", kthread=True)
    k.me = k.spawn("ctrtui", "python3 -m ctrtui", threads=2)
    k.set_writer(0, 0, pid=k.me)
    k.mkdir("freezer", "/a")
    k.mkdir("freezer", "/b")
    k.mkdir("unified", "/a")
    k.mkdir("unified", "/b")
    return k


def where(k: SimKernel, pid: int, hier: str = "freezer") -> str:
    return k.task_cgroups(pid)[hier]


# ---------------------------------------------------------------- protocol


def test_is_a_backend(k):
    assert isinstance(k, Backend)
    assert k.kind == "demo"
    with k.open_membership("freezer", "/a", "tasks") as f:
        assert isinstance(f, MembershipFile)
    with k.open_task(1) as h:
        assert isinstance(h, TaskHandle)


def test_hierarchies(k):
    hs = k.hierarchies()
    assert [h.name for h in hs] == ["freezer", "cpuset", "cpu,cpuacct", "name=systemd", "unified"]
    assert [h.hierarchy_id for h in hs] == [1, 2, 3, 4, 0]
    assert hs[2].controllers == ("cpu", "cpuacct") and hs[2].matches("cpuacct")
    assert hs[3].mount == "/sys/fs/cgroup/systemd"
    assert hs[4].version == 2 and hs[4].controllers == ("hugetlb", "pids")


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize("text,value", [
    ("123", 123), (" 123 \n", 123), ("\t42\n", 42), ("+5", 5), ("015", 0o15), ("015616", 0o15616),
    ("0x1f", 31), ("0X1F", 31), ("0", 0), ("-0", 0), ("2147483647", 2**31 - 1), ("-1", -1),
    ("abc", None), ("123abc", None), ("", None), ("   ", None), ("2147483648", None),
    ("1 2", None), ("08", None), ("0x", None), ("0xg", None), ("--1", None), ("+-1", None),
    ("-+1", None), ("1.0", None), ("12\x00junk", 12), ("\xa07", 7),
])
def test_kstrtoint(text, value):
    assert kstrtoint(text.encode("latin-1")) == value


@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_kstrtoint_decimal_roundtrip(n):
    assert kstrtoint(str(n).encode()) == n
    assert kstrtoint(b"0%o" % n) == n
    assert kstrtoint(b"0x%x" % n) == n


@given(st.binary(max_size=24))
def test_kstrtoint_any_bytes_is_int_or_rejected(data):
    v = kstrtoint(data)
    assert v is None or -(2**31) <= v <= 2**31 - 1


@pytest.mark.parametrize("text", ["abc", "-1", "123abc", " ", "\n", "2147483648", "1 2", "08"])
def test_bad_input_einval(k, text):
    p = k.spawn("sleep")
    assert w(k, "freezer", "/a", text) == "EINVAL"
    assert where(k, p) == "/"


def test_two_pids_einval_neither_moved(k):
    p, q = k.spawn("sleep"), k.spawn("sleep")
    assert w(k, "freezer", "/a", f"{p} {q}") == "EINVAL"
    assert w(k, "freezer", "/a", f"{p}\n{q}\n") == "EINVAL"
    assert where(k, p) == where(k, q) == "/"


def test_whitespace_accepted(k):
    p = k.spawn("sleep")
    assert w(k, "freezer", "/a", f"  {p} \n") == len(f"  {p} \n")
    assert where(k, p) == "/a"


def test_octal_leading_zero_is_another_pid(k):
    k.set_last_pid(99)
    p = k.spawn("sleep")  # 100
    q = k.spawn("other", pid=0o100)  # 64
    assert w(k, "freezer", "/a", "0100") == 4
    assert where(k, q) == "/a" and where(k, p) == "/"
    assert w(k, "freezer", "/b", "0x64") == 4
    assert where(k, p) == "/b"


def test_zero_byte_write(k):
    assert w(k, "freezer", "/a", b"") == 0


def test_e2big(k):
    p = k.spawn("sleep")
    assert w(k, "freezer", "/a", b" " * (4096 - len(str(p))) + str(p).encode()) == 4096
    assert where(k, p) == "/a"
    assert w(k, "freezer", "/b", b" " * 4097) == "E2BIG"
    assert w(k, "freezer", "/b", b" " * (4097 - len(str(p))) + str(p).encode()) == "E2BIG"
    assert where(k, p) == "/a"


# ---------------------------------------------------------------- lookup


def test_zero_means_the_writer(k):
    assert w(k, "freezer", "/a", "0", "cgroup.procs") == 1
    assert set(k.thread_ids(k.me)) == set(k.snapshot()["freezer"]["/a"].threads)


def test_zero_tasks_means_the_writing_thread(k):
    assert w(k, "freezer", "/a", "0", "tasks") == 1
    assert where(k, k.me) == "/a" and where(k, k.thread_ids(k.me)[1]) == "/"


@pytest.mark.parametrize("pid", ["31999", "32768", "99999", "2147483647"])
def test_no_such_pid_esrch(k, pid):
    assert w(k, "freezer", "/a", pid) == "ESRCH"
    assert w(k, "unified", "/a", pid) == "ESRCH"


def test_already_there_success(k):
    p = k.spawn("sleep", cgroups={"freezer": "/a"})
    assert w(k, "freezer", "/a", str(p)) == len(str(p))
    assert where(k, p) == "/a"


def test_zombie_success_nothing_moved(k):
    p = k.spawn("sleep")
    k.exit(p)
    assert k.task_state(p).state == "Z"
    for hier, file in (("freezer", "tasks"), ("freezer", "cgroup.procs"), ("unified", "cgroup.procs")):
        assert w(k, hier, "/a", str(p), file) == len(str(p))
        assert where(k, p, hier) == "/"
    snap = k.snapshot()
    assert snap["freezer"].find(p, threads=True) == []  # a zombie is in no list


def test_exiting_success_nothing_moved(k):
    p = k.spawn("sleep", threads=2)
    k.set_exiting(p)
    assert k.task_state(p).flags & PF_EXITING
    assert w(k, "freezer", "/a", str(p), "cgroup.procs") == len(str(p))
    assert where(k, p) == "/"
    assert p in k.snapshot()["freezer"]["/"].procs  # still listed while exiting


def test_reaped_pid_esrch(k):
    p = k.spawn("sleep")
    k.exit(p, reap=True)
    assert k.task_state(p) is None
    assert w(k, "freezer", "/a", str(p)) == "ESRCH"


# ---------------------------------------------------------------- kernel threads


def test_kthreadd_einval(k):
    for hier, file in (("freezer", "tasks"), ("freezer", "cgroup.procs"), ("unified", "cgroup.procs")):
        assert w(k, hier, "/a", "2", file) == "EINVAL"


def test_no_setaffinity_kthread_einval(k):
    assert w(k, "freezer", "/a", str(k.ksoftirqd)) == "EINVAL"
    assert w(k, "unified", "/a", str(k.ksoftirqd)) == "EINVAL"
    assert where(k, k.ksoftirqd) == "/"


def test_other_kthread_v1_moved_v2_einval(k):
    t = k.khungtaskd
    assert k.task_state(t).flags & PF_KTHREAD
    assert w(k, "freezer", "/a", str(t)) == len(str(t))
    assert where(k, t) == "/a"
    assert w(k, "unified", "/a", str(t)) == "EINVAL"
    assert where(k, t, "unified") == "/"


# ---------------------------------------------------------------- thread vs process


def test_v1_tasks_moves_one_thread(k):
    p = k.spawn("py", threads=3)
    t1, t2 = k.thread_ids(p)[1:]
    assert w(k, "freezer", "/a", str(t1), "tasks") > 0
    assert where(k, t1) == "/a" and where(k, p) == "/" and where(k, t2) == "/"
    snap = k.snapshot()["freezer"]
    assert list(snap["/a"].threads) == [t1]
    assert list(snap["/a"].procs) == [p]       # the TGID shows where any thread is
    assert p in snap["/"].procs                # ... in both places
    assert k.open_membership("freezer", "/a", "cgroup.procs", write=False).read() == b"%d\n" % p


def test_v1_procs_moves_whole_group_even_given_a_tid(k):
    p = k.spawn("py", threads=3)
    tid = k.thread_ids(p)[2]
    assert w(k, "freezer", "/a", str(tid), "cgroup.procs") > 0
    assert all(where(k, t) == "/a" for t in k.thread_ids(p))


def test_v1_procs_gathers_spread_threads(k):
    p = k.spawn("py", threads=3)
    t1 = k.thread_ids(p)[1]
    w(k, "freezer", "/b", str(t1), "tasks")
    assert w(k, "freezer", "/a", str(p), "cgroup.procs") > 0
    assert {where(k, t) for t in k.thread_ids(p)} == {"/a"}


def test_v2_procs_moves_the_process(k):
    p = k.spawn("py", threads=3)
    assert w(k, "unified", "/a", str(k.thread_ids(p)[1]), "cgroup.procs") > 0
    assert {where(k, t, "unified") for t in k.thread_ids(p)} == {"/a"}


def test_v2_threads_outside_threaded_subtree_eopnotsupp(k):
    p = k.spawn("py", threads=2)
    t = k.thread_ids(p)[1]
    assert w(k, "unified", "/a", str(t), "cgroup.threads") == "EOPNOTSUPP"
    assert w(k, "unified", "/", str(t), "cgroup.threads") > 0  # same cgroup: no-op success
    assert where(k, t, "unified") == "/"


# ---------------------------------------------------------------- v2 threaded / domain invalid


@pytest.fixture
def threaded(k):
    for p in ("/P", "/P/A", "/P/B", "/P/B/C"):
        k.mkdir("unified", p)
    k.set_type("unified", "/P/A", "threaded")
    return k


def test_threaded_types(threaded):
    k = threaded
    types = {p: k.cgroup_state("unified", p).cgroup_type for p in ("/P", "/P/A", "/P/B", "/P/B/C")}
    assert types == {"/P": "domain threaded", "/P/A": "threaded",
                     "/P/B": "domain invalid", "/P/B/C": "domain invalid"}
    k.mkdir("unified", "/P/A/D")
    k.mkdir("unified", "/P/E")
    assert k.cgroup_state("unified", "/P/A/D").cgroup_type == "domain invalid"
    assert k.cgroup_state("unified", "/P/E").cgroup_type == "domain invalid"
    k.set_type("unified", "/P/A/D", "threaded")
    assert k.cgroup_state("unified", "/P/A/D").cgroup_type == "threaded"


def test_threaded_under_root_leaves_siblings_valid(k):
    k.mkdir("unified", "/T")
    k.set_type("unified", "/T", "threaded")
    assert k.cgroup_state("unified", "/a").cgroup_type == "domain"
    assert k.cgroup_state("unified", "/").cgroup_type is None     # the root has no cgroup.type
    assert k._cg("unified", "/").cgroup_type() == "domain threaded"


def test_set_type_rules(threaded):
    k = threaded
    with pytest.raises(OSError) as e:
        k.set_type("unified", "/P/B", "domain")
    assert e.value.errno == errno.EINVAL
    p = k.spawn("sleep", cgroups={"unified": "/a"})
    with pytest.raises(OSError) as e:
        k.set_type("unified", "/a", "threaded")   # populated
    assert e.value.errno == errno.EOPNOTSUPP
    assert p


def test_rmdir_threaded_child_restores_domains(threaded):
    k = threaded
    k.rmdir("unified", "/P/A")
    assert k.cgroup_state("unified", "/P").cgroup_type == "domain"
    assert k.cgroup_state("unified", "/P/B").cgroup_type == "domain"


def test_domain_invalid_eopnotsupp(threaded):
    k = threaded
    p = k.spawn("sleep")
    assert w(k, "unified", "/P/B", str(p)) == "EOPNOTSUPP"
    assert w(k, "unified", "/P/B/C", str(p)) == "EOPNOTSUPP"
    assert where(k, p, "unified") == "/"


def test_procs_into_threaded_moves_process_and_read_eopnotsupp(threaded):
    k = threaded
    p = k.spawn("py", threads=2)
    assert w(k, "unified", "/P/A", str(p), "cgroup.procs") > 0
    assert {where(k, t, "unified") for t in k.thread_ids(p)} == {"/P/A"}
    with pytest.raises(OSError) as e:
        k.open_membership("unified", "/P/A", "cgroup.procs", write=False).read()
    assert e.value.errno == errno.EOPNOTSUPP
    assert k.open_membership("unified", "/P", "cgroup.procs", write=False).read() == b"%d\n" % p
    snap = k.snapshot()["unified"]
    assert list(snap["/P/A"].procs) == [p] and list(snap["/P"].procs) == [p]
    assert list(snap["/P"].threads) == []


def test_threads_within_one_thread_domain(threaded):
    k = threaded
    p = k.spawn("py", threads=3)
    w(k, "unified", "/P", str(p), "cgroup.procs")
    t1, t2 = k.thread_ids(p)[1:]
    assert w(k, "unified", "/P/A", str(t1), "cgroup.threads") > 0
    assert where(k, t1, "unified") == "/P/A" and where(k, t2, "unified") == "/P"
    assert w(k, "unified", "/P", str(t1), "cgroup.threads") > 0
    assert w(k, "unified", "/", str(t2), "cgroup.threads") == "EOPNOTSUPP"  # other domain
    assert w(k, "unified", "/a", str(t2), "cgroup.threads") == "EOPNOTSUPP"


def test_ebusy_no_internal_processes(k):
    k.set_subtree_control("unified", "/", "+hugetlb")
    k.set_subtree_control("unified", "/a", "+hugetlb")
    k.mkdir("unified", "/a/leaf")
    p = k.spawn("sleep")
    assert w(k, "unified", "/a", str(p)) == "EBUSY"
    assert w(k, "unified", "/a/leaf", str(p)) > 0
    k.set_subtree_control("unified", "/", "+pids")
    k.set_subtree_control("unified", "/b", "+pids")  # threaded controller only: allowed
    assert w(k, "unified", "/b", str(p)) > 0


def test_subtree_control_rules(k):
    with pytest.raises(OSError) as e:
        k.set_subtree_control("unified", "/a", "+hugetlb")   # not enabled in the parent
    assert e.value.errno == errno.ENOENT
    k.set_subtree_control("unified", "/", "+hugetlb")
    k.spawn("sleep", cgroups={"unified": "/a"})
    with pytest.raises(OSError) as e:
        k.set_subtree_control("unified", "/a", "+hugetlb")   # /a has processes
    assert e.value.errno == errno.EBUSY
    assert k.cgroup_state("unified", "/a").subtree_control == ()


# ---------------------------------------------------------------- permission


def test_v1_non_root_writer_uid_rule(k):
    k.chown("freezer", "/a", 1000)
    mine = k.spawn("sleep", uid=1000)
    theirs = k.spawn("sleep", uid=1001)
    setuid = k.spawn("passwd", uid=1001, euid=0, suid=1000)
    k.set_writer(1000, 1000)
    assert w(k, "freezer", "/a", str(theirs)) == "EACCES"
    assert w(k, "freezer", "/a", str(mine)) > 0
    assert w(k, "freezer", "/a", str(setuid)) > 0  # suid matches
    assert where(k, theirs) == "/"


def test_file_not_writable_eacces_at_open(k):
    p = k.spawn("sleep", uid=1000)
    k.set_writer(1000, 1000)
    with pytest.raises(OSError) as e:
        k.open_membership("freezer", "/a", "tasks")
    assert e.value.errno == errno.EACCES
    assert k.open_membership("freezer", "/a", "tasks", write=False).read() == b""
    assert w(k, "unified", "/a", str(p)) == "EACCES"
    assert k.cgroup_state("freezer", "/a").writable == frozenset()
    k.chown("freezer", "/a", 1000)
    assert k.cgroup_state("freezer", "/a").writable == frozenset({"tasks", "cgroup.procs"})


def test_permission_judged_at_open(k):
    p = k.spawn("sleep", uid=1001)
    f = k.open_membership("freezer", "/a", "tasks")   # opened as root
    k.set_writer(1000, 1000)
    assert f.write(str(p).encode()) > 0
    assert where(k, p) == "/a"


def test_v2_no_uid_check_but_common_ancestor(k):
    for p in ("/deleg", "/deleg/x", "/deleg/y"):
        k.mkdir("unified", p)
        k.chown("unified", p, 1000)
    other = k.spawn("sleep", uid=1001, cgroups={"unified": "/deleg/x"})
    outside = k.spawn("sleep", uid=1000)
    k.set_writer(1000, 1000)
    assert w(k, "unified", "/deleg/y", str(other)) > 0   # no uid check in v2
    assert where(k, other, "unified") == "/deleg/y"
    assert w(k, "unified", "/deleg/y", str(outside)) == "EACCES"  # ancestor is the root


def test_root_writer_bypasses_modes(k):
    k.chown("unified", "/a", 1000, mode=0o444)
    p = k.spawn("sleep", uid=1001)
    assert w(k, "unified", "/a", str(p)) > 0


def test_permission_comes_after_lookup_and_kthread(k):
    k.chown("freezer", "/a", 1000)
    k.set_writer(1000, 1000)
    assert w(k, "freezer", "/a", "31000") == "ESRCH"
    assert w(k, "freezer", "/a", "2") == "EINVAL"


# ---------------------------------------------------------------- subsystems


def test_cpuset_empty_enospc(k):
    k.mkdir("cpuset", "/e")
    state = k.cgroup_state("cpuset", "/e")
    assert (state.cpuset_cpus, state.cpuset_mems) == ("", "")
    p = k.spawn("sleep")
    assert w(k, "cpuset", "/e", str(p)) == "ENOSPC"
    k.set_cpuset("cpuset", "/e", cpus="0-1")
    assert w(k, "cpuset", "/e", str(p)) == "ENOSPC"     # mems still empty
    k.set_cpuset("cpuset", "/e", mems="0")
    assert w(k, "cpuset", "/e", str(p)) > 0


def test_cpuset_veto_moves_nothing_of_the_group(k):
    k.mkdir("cpuset", "/e")
    p = k.spawn("py", threads=3)
    assert w(k, "cpuset", "/e", str(p), "cgroup.procs") == "ENOSPC"
    assert {where(k, t, "cpuset") for t in k.thread_ids(p)} == {"/"}


def test_already_in_empty_cpuset_is_success(k):
    k.mkdir("cpuset", "/e")
    p = k.spawn("sleep", cgroups={"cpuset": "/e"})
    assert w(k, "cpuset", "/e", str(p)) > 0


def test_frozen_freezer_accepts_and_thaws_on_leaving(k):
    k.set_freezer("freezer", "/a", "FROZEN")
    p = k.spawn("sleep")
    assert w(k, "freezer", "/a", str(p)) > 0
    assert k.task_state(p).state == "D"
    assert k.cgroup_state("freezer", "/a").freezer_state == "FROZEN"
    assert w(k, "freezer", "/b", str(p)) > 0
    assert k.task_state(p).state == "S"


def test_pids_max_does_not_refuse_attach(k):
    k.add_hierarchy("pids", 1, ["pids"])
    k.mkdir("pids", "/p")
    k.set_pids_max("pids", "/p", 0)
    p = k.spawn("sleep")
    assert w(k, "pids", "/p", str(p)) > 0
    assert k.cgroup_stats("pids", "/p") == {"pids.current": "1", "pids.max": "0"}


# ---------------------------------------------------------------- removed target and check order


def test_removed_target_enodev_and_enoent(k):
    p = k.spawn("sleep")
    k.mkdir("freezer", "/gone")
    f = k.open_membership("freezer", "/gone", "tasks")
    k.rmdir("freezer", "/gone")
    with pytest.raises(OSError) as e:
        f.write(str(p).encode())
    assert e.value.errno == errno.ENODEV
    with pytest.raises(OSError) as e:
        f.read()
    assert e.value.errno == errno.ENODEV
    assert w(k, "freezer", "/gone", str(p)) == "ENOENT"
    with pytest.raises(OSError) as e:
        k.open_membership("freezer", "/a", "cgroup.threads")   # not a v1 file
    assert e.value.errno == errno.ENOENT


def test_check_order(k):
    k.mkdir("freezer", "/gone")
    f = k.open_membership("freezer", "/gone", "tasks")
    k.rmdir("freezer", "/gone")
    with pytest.raises(OSError) as e:
        f.write(b"x" * 5000)
    assert e.value.errno == errno.E2BIG      # size before removed
    with pytest.raises(OSError) as e:
        f.write(b"abc")
    assert e.value.errno == errno.ENODEV     # removed before parse
    k.mkdir("cpuset", "/e")
    k.chown("cpuset", "/e", 1000)
    k.set_writer(1000, 1000)
    root_task = k.spawn("sleep")
    assert w(k, "cpuset", "/e", str(root_task)) == "EACCES"   # permission before cpuset veto
    k.set_writer(0, 0)
    k.mkdir("unified", "/P")
    k.mkdir("unified", "/P/A")
    k.mkdir("unified", "/P/B")
    k.set_type("unified", "/P/A")
    assert w(k, "unified", "/P/B", "99999") == "ESRCH"      # lookup before v2 rules
    assert w(k, "unified", "/P/B", "abc") == "EINVAL"


def test_rmdir_busy(k):
    k.spawn("sleep", cgroups={"freezer": "/a"})
    with pytest.raises(OSError) as e:
        k.rmdir("freezer", "/a")
    assert e.value.errno == errno.EBUSY
    k.mkdir("freezer", "/b/c")
    with pytest.raises(OSError) as e:
        k.rmdir("freezer", "/b")
    assert e.value.errno == errno.EBUSY


# ---------------------------------------------------------------- builder


def test_pid_allocation_increases_wraps_and_skips_used():
    k = SimKernel(pid_max=400)
    k.add_hierarchy("freezer", 1)
    k.set_last_pid(397)
    a, b = k.spawn("a"), k.spawn("b")
    assert (a, b) == (398, 399)
    k.spawn("c", pid=300)
    assert k.spawn("d") == 301       # wrapped to RESERVED_PIDS, 300 in use


def test_thread_ids_and_add_thread(k):
    p = k.spawn("py", threads=2)
    t = k.add_thread(p)
    assert k.thread_ids(p) == tuple(sorted((p, p + 1, t)))
    assert k.task_state(t).tgid == p and k.task_state(t).is_thread
    assert k.task_state(p).threads == 3
    k.exit(t)
    assert k.thread_ids(p) == (p, p + 1)


def test_exit_group_and_reap(k):
    p = k.spawn("py", threads=3)
    tids = k.thread_ids(p)
    k.exit(p)
    assert k.thread_ids(p) == (p,)   # the zombie leader lists itself, as /proc/PID/task does
    assert k.task_state(p).zombie and k.task_state(tids[1]) is None
    assert k.task_cgroups(p) is not None
    k.reap(p)
    assert k.task_cgroups(p) is None


def test_recycle_new_task_same_pid(k):
    p = k.spawn("sleep", cgroups={"freezer": "/a"})
    old = k.task_state(p)
    h = k.open_task(p)
    k.tick(1)
    assert k.recycle(p, comm="bash", uid=1000) == p
    new = k.task_state(p)
    assert new.comm == "bash" and new.start_time > old.start_time and where(k, p) == "/"
    assert not h.alive() and h.start_time() is None
    with k.open_task(p) as h2:
        assert h2.alive() and h2.start_time() == new.start_time
    k.recycle(p, comm="again", same_start_time=True)
    assert k.task_state(p).start_time == new.start_time


def test_task_handle_zombie(k):
    p = k.spawn("sleep")
    h = k.open_task(p)
    k.exit(p)
    assert not h.alive() and h.start_time() is not None
    with pytest.raises(OSError) as e:
        k.open_task(31000)
    assert e.value.errno == errno.ESRCH


def test_spawn_inherits_parent_cgroups(k):
    parent = k.spawn("bash", cgroups={"freezer": "/a", "unified": "/b"})
    child = k.spawn("vim", parent=parent)
    assert k.task_cgroups(child) == k.task_cgroups(parent)
    with pytest.raises(OSError) as e:
        k.spawn("x", cgroups={"freezer": "/nope"})
    assert e.value.errno == errno.ENOENT


def test_details_and_users(k):
    k.add_user(1000, "alice")
    p = k.spawn("python3", "python3 train.py", uid=1000, cpu=50.0, rss=100 << 20)
    d = k.task_details([p, 31000])
    assert list(d) == [p]
    assert (d[p].user, d[p].cmdline, d[p].cpu_percent, d[p].rss) == ("alice", "python3 train.py", 50.0, 100 << 20)
    assert k.task_details([2])[2].cmdline == ""   # kernel threads have no cmdline


def test_tick_and_start_times(k):
    a = k.spawn("a")
    k.tick(2.5)
    b = k.spawn("b")
    assert k.task_state(b).start_time - k.task_state(a).start_time == 250


def test_writer_creds(k):
    assert k.writer() == Creds(0, 0)
    k.set_writer(1000)
    assert k.writer() == Creds(1000, 1000)


def test_cgroup_state_and_stats(k):
    assert k.cgroup_state("freezer", "/nope") is None
    assert k.cgroup_stats("freezer", "/nope") == {}
    s = k.cgroup_state("unified", "/a")
    assert (s.version, s.cgroup_type, s.writable) == (2, "domain", frozenset({"cgroup.procs", "cgroup.threads"}))
    assert k.cgroup_stats("freezer", "/a") == {"freezer.state": "THAWED"}
    assert "freezer.state" not in k.cgroup_stats("freezer", "/")
    st = k.cgroup_stats("unified", "/a")
    assert st["cgroup.type"] == "domain" and st["cgroup.events"].startswith("populated 0")
    assert "cgroup.type" not in k.cgroup_stats("unified", "/")


# ---------------------------------------------------------------- snapshot


def test_snapshot_shapes(k):
    p = k.spawn("py", threads=3, cgroups={"freezer": "/a"})
    k.mkdir("freezer", "/a/z")
    k.mkdir("freezer", "/a/m")
    snap = k.snapshot()
    assert isinstance(snap, Snapshot) and snap.backend == "demo"
    fz = snap["freezer"]
    assert list(fz.containers) == ["/", "/a", "/a/m", "/a/z", "/b"]
    a = fz["/a"]
    assert a.children == ("/a/m", "/a/z")
    assert isinstance(a.threads, array) and a.threads.typecode == "i"
    assert list(a.threads) == sorted(k.thread_ids(p)) and list(a.procs) == [p]
    assert list(fz["/"].threads) == sorted(fz["/"].threads)
    assert snap.get("cpuacct").name == "cpu,cpuacct"


def test_snapshot_names_and_subtree(k):
    k.mkdir("freezer", "/a/x")
    snap = k.snapshot(["freezer", "unified"], subtree="/a")
    assert snap.names() == ["freezer", "unified"]
    assert list(snap["freezer"].containers) == ["/a", "/a/x"]
    assert list(snap["unified"].containers) == ["/a"]
    assert list(k.snapshot(["cpuset"], subtree="/a")["cpuset"].containers) == []


def test_snapshot_v2_procs_unsorted_read_sorted_snapshot(k):
    ps = [k.spawn("s") for _ in range(5)]
    for p in reversed(ps):
        w(k, "unified", "/a", str(p))
    snap = k.snapshot(["unified"])["unified"]["/a"]
    assert list(snap.procs) == sorted(ps) == list(snap.threads)


def test_snapshot_of_large_world():
    """10,101 cgroups and 100,000 tasks (how long it takes: the benchmarks' `sim_snapshot_ms`)."""
    k = SimKernel(pid_max=4_194_304)
    k.add_hierarchy("freezer", 1)
    paths = []
    for i in range(100):
        k.mkdir("freezer", f"/g{i}")
        for j in range(100):
            paths.append(k.mkdir("freezer", f"/g{i}/c{j}"))
    for n in range(100_000):
        k.spawn("w", cgroups={"freezer": paths[n % len(paths)]})
    snap = k.snapshot()
    assert snap["freezer"].total() == 100_000 and len(snap["freezer"].containers) == 10_101


def test_churn_moves_tasks(k):
    for _ in range(50):
        k.spawn("s")
    before = k.snapshot(["freezer"])
    n = k.churn(0.2, seed=1, hierarchy="freezer")
    from ctrtui.model import diff
    d = diff(before, k.snapshot(["freezer"])).get("freezer")
    assert n == int(len([t for t in k.tasks.values() if not t.dead]) * 0.2)
    assert 0 < len(d.moved_tasks) <= n



def _shape(snap: Snapshot) -> dict:
    """Every hierarchy's containers as plain data (order, children and members)."""
    return {h.name: [(c.path, c.children, list(c.threads), list(c.procs)) for c in h.containers.values()]
            for h in snap.hierarchies}


@pytest.mark.parametrize("seed", range(6))
def test_snapshot_cache_matches_a_fresh_build(k, seed):
    """Snapshots reuse each unchanged cgroup's Container; after any mix of spawns, threads,
    moves, exits, reaps, mkdir/rmdir and v2 threaded subtrees they equal a snapshot built
    from nothing, and an earlier snapshot never changes."""
    import random

    rng = random.Random(seed)
    k.mkdir("unified", "/t")
    k.mkdir("unified", "/t/x")
    k.mkdir("unified", "/t/y")
    history = []
    for step in range(300):
        paths = {h: [p for p in k._hier(h).by_path] for h in ("freezer", "unified", "cpuset")}
        live = [t for t in k.tasks.values() if not t.dead]
        op = rng.randrange(10)
        if op == 0 or len(live) < 5:
            k.spawn("s", threads=rng.randint(1, 3),
                    cgroups={"freezer": rng.choice(paths["freezer"])})
        elif op == 1:
            t = rng.choice(live)
            if t.tgid == t.pid and not t.kthread:
                k.add_thread(t.pid)
        elif op in (2, 3):
            t = rng.choice(live)
            w(k, "freezer", rng.choice(paths["freezer"]), str(t.pid), rng.choice(["tasks", "cgroup.procs"]))
        elif op == 4:
            t = rng.choice(live)
            w(k, "unified", rng.choice(paths["unified"]), str(t.pid), rng.choice(["cgroup.procs", "cgroup.threads"]))
        elif op == 5:
            t = rng.choice(live)
            if t.pid not in (1, 2, k.me) and not t.kthread:
                k.exit(t.pid, reap=rng.random() < 0.5)
        elif op == 6:
            zombies = [t for t in k.tasks.values() if t.dead]
            if zombies:
                k.reap(rng.choice(zombies).pid)
        elif op == 7:
            parent = rng.choice(paths["freezer"])
            k.mkdir("freezer", parent.rstrip("/") + f"/n{step}")
        elif op == 8:
            empty = [p for p in paths["freezer"] if p != "/" and not k._cg("freezer", p).tids
                     and not k._cg("freezer", p).children]
            if empty:
                k.rmdir("freezer", rng.choice(empty))
        elif op == 9 and step == 150:
            try:
                k.set_type("unified", rng.choice(["/t/x", "/t/y"]), "threaded")
            except OSError:
                pass
        if step % 7 == 0:
            snap = k.snapshot()
            history.append((snap, _shape(snap)))
    cached = k.snapshot()
    k.forget_snapshots()
    assert _shape(cached) == _shape(k.snapshot())
    for snap, shape in history:
        assert _shape(snap) == shape


def test_snapshot_rebuilds_only_what_changed(k):
    """A snapshot with nothing changed is the same mapping; a move rebuilds the two cgroups
    involved and shares every other Container with the last snapshot."""
    p = k.spawn("s", cgroups={"freezer": "/a"})
    one = k.snapshot(["freezer"])["freezer"]
    assert k.snapshot(["freezer"])["freezer"].containers is one.containers
    w(k, "freezer", "/b", str(p))
    two = k.snapshot(["freezer"])["freezer"]
    assert two["/"] is one["/"]
    assert two["/a"] is not one["/a"] and two["/b"] is not one["/b"]
    assert list(one["/a"].threads) == [p] and list(two["/b"].threads) == [p]
    k.mkdir("freezer", "/a/c")
    three = k.snapshot(["freezer"])["freezer"]
    assert list(three.containers) == ["/", "/a", "/a/c", "/b"]
    assert three["/b"] is two["/b"] and three["/a"].children == ("/a/c",)



def test_snapshot_cache_of_a_thread_domain_follows_its_threaded_subtree(k):
    """v2: a thread domain's cgroup.procs lists the processes of its threaded subtree, so a
    move into a threaded child changes the domain's Container too."""
    k.mkdir("unified", "/t")
    k.mkdir("unified", "/t/x")
    k.set_type("unified", "/t/x", "threaded")
    q = k.spawn("q")
    before = k.snapshot(["unified"])["unified"]
    assert q not in before["/t"].procs
    assert w(k, "unified", "/t/x", str(q), "cgroup.procs") == len(str(q))
    after = k.snapshot(["unified"])["unified"]
    assert q in after["/t"].procs and q in after["/t/x"].threads
    k.forget_snapshots()
    assert _shape(k.snapshot(["unified"])) == _shape(Snapshot((after,), 0.0))


# ---------------------------------------------------------------- 2007 mode (teaching)


@pytest.fixture
def k2007() -> SimKernel:
    k = SimKernel(mode_2007=True)
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.add_hierarchy("unified", 2)
    k.me = k.spawn("shell")
    k.set_writer(0, 0, pid=k.me)
    k.mkdir("freezer", "/a")
    k.mkdir("unified", "/a")
    return k


def test_2007_parse_errors_are_eio_and_junk_is_ignored(k2007):
    k = k2007
    p = k.spawn("sleep")
    for text in ("abc", "", " ", "x1"):
        assert w(k, "freezer", "/a", text) == "EIO"
    assert w(k, "freezer", "/a", "-1") == "ESRCH"
    assert w(k, "freezer", "/a", f"{p}abc") > 0          # sscanf stops at the junk
    assert where(k, p) == "/a"
    q = k.spawn("sleep")
    assert w(k, "freezer", "/", f"{q} {p}") > 0           # first only
    assert (where(k, q), where(k, p)) == ("/", "/a")


def test_2007_leading_zero_is_decimal(k2007):
    k = k2007
    p = k.spawn("sleep")
    assert w(k, "freezer", "/a", f"0{p}") > 0
    assert where(k, p) == "/a"


def test_2007_zombie_esrch_and_size_limit(k2007):
    k = k2007
    z = k.spawn("true")
    k.exit(z)
    assert w(k, "freezer", "/a", str(z)) == "ESRCH"
    assert w(k, "freezer", "/a", b" " * 4096) == "E2BIG"     # >= PATH_MAX
    assert w(k, "unified", "/a", "abc") == "EINVAL"          # v2 did not exist: today's rules


def test_2007_kthreads_not_checked(k2007):
    k = k2007
    kt = k.spawn("kthreadd", kthread=True)
    assert w(k, "freezer", "/a", str(kt)) > 0
