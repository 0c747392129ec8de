"""Unit tests of ctrtui.model: containers, members, counts, build order, diff, CgroupRef."""

from __future__ import annotations

from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctrtui.model import (
    CgroupRef,
    Container,
    Hierarchy,
    HierarchySnapshot,
    Snapshot,
    TaskInfo,
    common_ancestor,
    contains,
    diff,
    is_ancestor,
    join_path,
    parent_path,
    sorted_pids,
)

FREEZER = Hierarchy("freezer", 1, ("freezer",), "/sys/fs/cgroup/freezer", "/", 6)
UNIFIED = Hierarchy("unified", 2, ("hugetlb",), "/sys/fs/cgroup/unified")


def a(*pids: int) -> array:
    return array("i", pids)


def tree(h: Hierarchy = FREEZER, **members: tuple) -> HierarchySnapshot:
    """A hierarchy from `path=(threads, procs)`; children are derived from the paths."""
    paths = {"/"} | {"/" + k.replace("__", "/") for k in members if k != "root"}
    for p in list(paths):
        while (q := parent_path(p)) is not None:
            paths.add(q)
            p = q
    conts = []
    for p in paths:
        kids = tuple(sorted(c for c in paths if parent_path(c) == p))
        key = p.strip("/").replace("/", "__") or "root"
        threads, procs = members.get(key, ((), ()))
        conts.append(Container(p, kids, a(*sorted(threads)), a(*sorted(procs))))
    return HierarchySnapshot.build(h, conts)


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize("path,parent", [("/", None), ("/a", "/"), ("/a/b", "/a"), ("/a/b/c", "/a/b")])
def test_parent_path(path, parent):
    assert parent_path(path) == parent


def test_join_and_ancestors():
    assert join_path("/", "a") == "/a"
    assert join_path("/a", "b") == "/a/b"
    assert is_ancestor("/", "/x/y")
    assert is_ancestor("/x", "/x")
    assert is_ancestor("/x", "/x/y")
    assert not is_ancestor("/x", "/xy")
    assert common_ancestor("/a/b/c", "/a/b/d") == "/a/b"
    assert common_ancestor("/a", "/b") == "/"
    assert common_ancestor("/a/b", "/a/b") == "/a/b"


def test_sorted_pids_and_contains():
    pids = sorted_pids([5, 3, 5, 1])
    assert list(pids) == [1, 3, 5]
    assert pids.typecode == "i"
    assert contains(pids, 3) and not contains(pids, 4) and not contains(pids, 6)
    assert not contains(array("i"), 1)


# ---------------------------------------------------------------- hierarchy fs_path


def test_fs_path_with_mount_root():
    h = Hierarchy("cpu", 1, ("cpu",), "/mnt/cpu", root="/kube")
    assert h.fs_path("/kube") == "/mnt/cpu"
    assert h.fs_path("/kube/pod1") == "/mnt/cpu/pod1"
    assert FREEZER.fs_path("/") == "/sys/fs/cgroup/freezer"
    assert FREEZER.fs_path("/a/b") == "/sys/fs/cgroup/freezer/a/b"


def test_hierarchy_matches():
    cpu = Hierarchy("cpu,cpuacct", 1, ("cpu", "cpuacct"), "/x")
    assert cpu.matches("cpu") and cpu.matches("cpuacct") and cpu.matches("cpu,cpuacct")
    assert not cpu.matches("memory")
    assert UNIFIED.matches("unified") and UNIFIED.matches("cgroup2")
    assert not UNIFIED.matches("hugetlb")


# ---------------------------------------------------------------- build order, members


def test_build_puts_containers_in_preorder_from_any_order():
    conts = [
        Container("/b", ()),
        Container("/a/y", ()),
        Container("/", ("/a", "/b")),
        Container("/a", ("/a/x", "/a/y")),
        Container("/a/x", ()),
    ]
    hs = HierarchySnapshot.build(FREEZER, conts)
    assert list(hs.containers) == ["/", "/a", "/a/x", "/a/y", "/b"]
    assert hs.root_path == "/"
    assert [c.path for c in hs.walk("/a")] == ["/a", "/a/x", "/a/y"]


def test_build_subtree_root_and_missing_child():
    # A subtree snapshot has no "/" and a child listed but not present is skipped.
    conts = [Container("/s", ("/s/gone", "/s/k")), Container("/s/k", ())]
    hs = HierarchySnapshot.build(FREEZER, conts)
    assert hs.root_path == "/s"
    assert [c.path for c in hs.walk()] == ["/s", "/s/k"]


def test_container_properties():
    c = Container("/a/b", (), a(1, 2), a(1))
    assert c.name == "b" and c.parent == "/a" and c.depth == 2
    assert Container("/", ()).name == "/" and Container("/", ()).depth == 0
    assert list(c.members()) == [1] and list(c.members(threads=True)) == [1, 2]


def test_members_and_counts_recursive():
    hs = tree(root=((1, 2), (1,)), a=((10, 11, 12), (10, 12)), a__x=((20,), (20,)), b=((30, 31), (30,)))
    assert list(hs.members("/a")) == [10, 12]
    assert list(hs.members("/a", threads=True)) == [10, 11, 12]
    assert list(hs.members("/a", recursive=True)) == [10, 12, 20]
    assert list(hs.members("/", threads=True, recursive=True)) == [1, 2, 10, 11, 12, 20, 30, 31]
    assert hs.count("/a") == 2 and hs.count("/a", threads=True) == 3
    assert hs.count("/", recursive=True) == 5
    assert list(hs.members("/nope")) == [] and hs.count("/nope") == 0
    assert hs.recursive_counts(threads=True) == {"/": 8, "/a": 4, "/a/x": 1, "/b": 2}
    assert hs.recursive_counts() == {"/": 5, "/a": 3, "/a/x": 1, "/b": 1}
    assert hs.total() == 8 and hs.total(threads=False) == 5


def test_find_v1_tgid_in_several_cgroups():
    # v1: a TGID is listed in cgroup.procs wherever one of its threads is.
    hs = tree(a=((10,), (10,)), b=((11,), (10,)))
    assert hs.find(10) == ["/a", "/b"]
    assert hs.find(11, threads=True) == ["/b"]
    assert hs.find(99) == []


def test_snapshot_lookup_by_name_or_controller():
    cpu = Hierarchy("cpu,cpuacct", 1, ("cpu", "cpuacct"), "/x", hierarchy_id=2)
    snap = Snapshot((tree(FREEZER), tree(cpu), tree(UNIFIED)), 0.0)
    assert snap.names() == ["freezer", "cpu,cpuacct", "unified"]
    assert snap["cpuacct"].name == "cpu,cpuacct"
    assert snap["cgroup2"].name == "unified"
    assert snap.get("memory") is None
    with pytest.raises(KeyError):
        snap["memory"]


# ---------------------------------------------------------------- diff


def test_diff_moved_added_removed_tasks_and_cgroups():
    old = tree(root=((1,), (1,)), a=((10, 11), (10,)), b=((20,), (20,)), gone=((30,), (30,)))
    new = tree(root=((1,), (1,)), a=((10,), (10,)), b=((11, 20), (10, 20)), new=((40,), (40,)))
    d = diff(Snapshot((old,), 0.0), Snapshot((new,), 1.0))
    hd = d.get("freezer")
    assert hd.added_cgroups == ("/new",)
    assert hd.removed_cgroups == ("/gone",)
    assert hd.moved_tasks == ((11, "/a", "/b"),)
    assert hd.added_tasks == ((40, "/new"),)
    assert hd.removed_tasks == ((30, "/gone"),)
    assert hd.changed_cgroups == {"/a", "/b", "/new"}
    assert bool(d)


def test_diff_of_equal_snapshots_is_empty_and_procs_only_change_counts():
    s1 = tree(a=((10, 11), (10,)))
    s2 = tree(a=((10, 11), (10,)))
    d = diff(Snapshot((s1,), 0), Snapshot((s2,), 1))
    assert not d and not d.get("freezer")
    s3 = tree(a=((10, 11), (10, 11)))  # same threads, procs changed (e.g. a leader exited)
    hd = diff(Snapshot((s1,), 0), Snapshot((s3,), 1)).get("freezer")
    assert hd.changed_cgroups == {"/a"} and hd.moved_tasks == () and hd.added_tasks == ()


def test_diff_hierarchies_added_and_removed():
    d = diff(Snapshot((tree(FREEZER),), 0), Snapshot((tree(UNIFIED),), 1))
    assert d.added_hierarchies == ("unified",)
    assert d.removed_hierarchies == ("freezer",)
    assert d.get("nope").name == "nope" and not d.get("nope")


@given(st.dictionaries(st.integers(1, 200), st.sampled_from(["/", "/a", "/b", "/a/c"]), max_size=40),
       st.dictionaries(st.integers(1, 200), st.sampled_from(["/", "/a", "/b", "/a/c"]), max_size=40))
def test_diff_accounts_for_every_task(before, after):
    def snap(where: dict[int, str]) -> HierarchySnapshot:
        by: dict[str, list[int]] = {p: [] for p in ("/", "/a", "/b", "/a/c")}
        for pid, p in where.items():
            by[p].append(pid)
        kids = {"/": ("/a", "/b"), "/a": ("/a/c",), "/b": (), "/a/c": ()}
        return HierarchySnapshot.build(
            FREEZER, [Container(p, kids[p], a(*sorted(v)), a(*sorted(v))) for p, v in by.items()])

    hd = diff(Snapshot((snap(before),), 0), Snapshot((snap(after),), 1)).get("freezer")
    assert {t for t, _ in hd.added_tasks} == after.keys() - before.keys()
    assert {t for t, _ in hd.removed_tasks} == before.keys() - after.keys()
    assert {(t, o, n) for t, o, n in hd.moved_tasks} == {
        (t, before[t], after[t]) for t in before.keys() & after.keys() if before[t] != after[t]}


# ---------------------------------------------------------------- CgroupRef, TaskInfo


@pytest.mark.parametrize("text,hier,path", [
    ("freezer:/a/b", "freezer", "/a/b"),
    ("freezer:/", "freezer", "/"),
    ("freezer:", "freezer", "/"),
    ("freezer:a/b", "freezer", "/a/b"),
    ("unified://x//y/", "unified", "/x/y"),
    ("name=systemd:/system.slice", "name=systemd", "/system.slice"),
    ("cpu,cpuacct:/k", "cpu,cpuacct", "/k"),
])
def test_cgroupref_parse(text, hier, path):
    ref = CgroupRef.parse(text)
    assert (ref.hierarchy, ref.path) == (hier, path)
    assert str(ref) == f"{hier}:{path}"


@pytest.mark.parametrize("text", ["/a/b", "freezer", ":/a", "freezer:/a/../b", "freezer:/./a"])
def test_cgroupref_parse_rejects(text):
    with pytest.raises(ValueError) as e:
        CgroupRef.parse(text)
    assert text in str(e.value) or repr(text) in str(e.value)


def test_taskinfo_flags():
    t = TaskInfo(5, 4, "x", "S", 0, 0, 0, 100, flags=0x00200000 | 0x04000000)
    assert t.is_thread and t.kthread and t.no_setaffinity and not t.zombie and not t.exiting
    z = TaskInfo(5, 5, "x", "Z", 0, 0, 0, 100)
    assert z.zombie and z.exiting and not z.is_thread
    e = TaskInfo(5, 5, "x", "R", 0, 0, 0, 100, flags=0x4)
    assert e.exiting and not e.zombie
    assert t.ref.pid == 5 and t.ref.start_time == 100


# ---------------------------------------------------------------- immutable values


def test_values_are_immutable_comparable_hashable_and_copyable():
    import copy
    import pickle

    from ctrtui.model import CgroupState, Creds, TaskRef

    ref = CgroupRef("freezer", "/a")
    with pytest.raises(AttributeError):
        ref.path = "/b"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del ref.path  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ref.extra = 1  # type: ignore[attr-defined]
    assert ref == CgroupRef("freezer", "/a") and ref != CgroupRef("freezer", "/b") and ref != ("freezer", "/a")
    assert len({ref, CgroupRef(hierarchy="freezer", path="/a"), TaskRef(1, 2)}) == 2
    assert repr(ref) == "CgroupRef(hierarchy='freezer', path='/a')"
    t = TaskInfo(5, 4, "x", "S", 0, 0, 0, 100, threads=3)
    for copied in (pickle.loads(pickle.dumps(t)), copy.copy(t), copy.deepcopy(t)):
        assert copied == t and copied is not t and copied.threads == 3
    r = t.replace(comm="y", rss=10)
    assert (r.comm, r.rss, r.pid, t.comm) == ("y", 10, 5, "x")
    with pytest.raises(TypeError):
        t.replace(nope=1)
    assert t.to_dict()["threads"] == 3 and list(t.to_dict())[:3] == ["pid", "tgid", "comm"]
    st = CgroupState("freezer", "/a", 1)
    assert st.writable == frozenset() and st.subtree_control == () and hash(st) == hash(CgroupState("freezer", "/a", 1))
    assert Creds(0, 0) == Creds(uid=0, euid=0)


def test_container_equality_ignores_members():
    a = Container("/a", ("/a/b",), array("i", [1, 2]), array("i", [1]))
    b = Container("/a", ("/a/b",))
    assert a == b and hash(a) == hash(b) and list(b.threads) == []
    assert a != Container("/a", ())


def test_generic_value_constructor_checks_its_arguments():
    from ctrtui.model.value import Value

    class Refusal(Value):
        __slots__ = ("errno", "reason", "advice")
        _defaults = {"advice": ""}

    r = Refusal("EPERM", "no")
    assert (r.errno, r.reason, r.advice) == ("EPERM", "no", "")
    assert Refusal(errno="EPERM", reason="no", advice="x").advice == "x"
    for args, kw in (((), {}), (("a", "b", "c", "d"), {}), (("a",), {"errno": "b", "reason": "c"}),
                     (("a", "b"), {"nope": 1})):
        with pytest.raises(TypeError):
            Refusal(*args, **kw)


def test_find_hierarchy_prefers_the_exact_name_over_a_controller():
    from ctrtui.model import Hierarchy, find_hierarchy

    cpuacct = Hierarchy("cpuacct", 1, ("cpuacct",), "/sys/fs/cgroup/cpuacct", hierarchy_id=2)
    both = Hierarchy("cpu,cpuacct", 1, ("cpu", "cpuacct"), "/sys/fs/cgroup/cpu,cpuacct", hierarchy_id=1)
    assert find_hierarchy([both, cpuacct], "cpuacct") is cpuacct
    assert find_hierarchy([both, cpuacct], "cpu") is both
    assert find_hierarchy([(both,)], "cpu", key=lambda t: t[0]) == (both,)
    assert find_hierarchy([both], "memory") is None


# ---------------------------------------------------------------- systemd units


def test_systemd_classifier():
    from ctrtui.model import UNIT_KINDS, systemd_unit, unit_kind

    assert UNIT_KINDS == ("service", "scope", "slice")
    assert systemd_unit("/system.slice/cron.service") == "cron.service"
    assert systemd_unit("/system.slice/cron.service/worker") == "cron.service"  # the deepest unit, not the leaf
    assert systemd_unit("/user.slice/user-1000.slice/session-3.scope") == "session-3.scope"
    assert systemd_unit("/system.slice") == "system.slice"
    for path in ("/", "/isolated", "/services/web", "/a.servicex", "/slice"):
        assert systemd_unit(path) is None, path
    assert [unit_kind(p) for p in ("/system.slice/cron.service", "/u.slice/s-3.scope", "/system.slice",
                                   "cron.service")] == ["service", "scope", "slice", "service"]
    assert unit_kind("/system.slice/org.freedesktop.login1.service") == "service"
    assert systemd_unit("/system.slice/org.freedesktop.login1.service/x") == "org.freedesktop.login1.service"
    assert unit_kind("/system.slice/web") is None and unit_kind("/") is None and unit_kind("/x.sliced") is None


# ---------------------------------------------------------------- found by mutation testing


def test_v2_hierarchy_answers_to_its_aliases_whatever_its_name():
    v2 = Hierarchy("cgroup2-mount", 2, ("cpu",), "/mnt/cg2")
    assert all(v2.matches(w) for w in ("cgroup2-mount", "unified", "cgroup2", "v2"))
    assert not any(v2.matches(w) for w in ("V2", "UNIFIED", "cpu", "v1"))
    assert FREEZER.matches("freezer") and not FREEZER.matches("unified")


def test_recursive_count_of_a_subtree_counts_only_below_it():
    hs = tree(root=((1, 2), (1,)), a=((10, 11, 12), (10, 12)), a__x=((20,), (20,)), b=((30, 31), (30,)))
    assert hs.count("/a", recursive=True) == 3 and hs.count("/a", threads=True, recursive=True) == 4
    assert hs.count("/b", recursive=True) == 1


def test_a_diff_with_only_added_or_only_removed_cgroups_or_hierarchies_is_true():
    from ctrtui.model import HierarchyDiff, SnapshotDiff

    assert HierarchyDiff("h", added_cgroups=("/a",)) and HierarchyDiff("h", removed_cgroups=("/a",))
    assert HierarchyDiff("h", changed_cgroups=frozenset({"/a"})) and not HierarchyDiff("h")
    assert SnapshotDiff({}, added_hierarchies=("h",)) and SnapshotDiff({}, removed_hierarchies=("h",))
    assert SnapshotDiff({"h": HierarchyDiff("h", added_cgroups=("/a",))})
    assert not SnapshotDiff({"h": HierarchyDiff("h")})


def test_diff_looks_past_a_new_and_an_unchanged_cgroup():
    """A cgroup that is new, or the very same Container object in both snapshots, comes
    before a changed one in the walk: the changed one is still seen."""
    same = Container("/a", (), a(10), a(10))
    old = HierarchySnapshot.build(FREEZER, [Container("/", ("/a", "/z")), same, Container("/z", (), a(20), a(20))])
    new = HierarchySnapshot.build(FREEZER, [Container("/", ("/a", "/b", "/z")), same,
                                            Container("/b", (), a(30), a(30)), Container("/z", (), a(21), a(21))])
    hd = diff(Snapshot((old,), 0), Snapshot((new,), 1)).get("freezer")
    assert hd.name == "freezer"
    assert hd.changed_cgroups == {"/b", "/z"}
    assert hd.added_tasks == ((21, "/z"), (30, "/b")) and hd.removed_tasks == ((20, "/z"),)
    assert diff(Snapshot((old,), 0), Snapshot((old,), 1)).get("freezer").name == "freezer"
    from ctrtui.model import diff_hierarchy
    assert diff_hierarchy(old, old).name == "freezer" and not diff_hierarchy(old, old)


def test_a_diff_with_added_and_removed_hierarchies_pickles():
    import pickle

    d = diff(Snapshot((tree(FREEZER),), 0), Snapshot((tree(UNIFIED),), 1))
    back = pickle.loads(pickle.dumps(d))
    assert (back.added_hierarchies, back.removed_hierarchies) == (("unified",), ("freezer",))
    assert back == d


def test_value_subclasses_inherit_fields_and_compare_on_what_they_declare():
    from ctrtui.model.value import Value

    class Base(Value):
        __slots__ = "a"  # a single field may be a bare string

    class Named(Value):
        __slots__ = "name"

    assert Named._fields == ("name",) and Named("x").name == "x"

    class Point(Base):
        __slots__ = ("b", "c")

    class Keyed(Point):
        __slots__ = ()
        _compare = ("a",)

    assert Base._fields == ("a",) and Point._fields == ("a", "b", "c") and Keyed._fields == ("a", "b", "c")
    assert Point._compare == ("a", "b", "c") and Keyed._compare == ("a",)
    assert Point(1, 2, 3) != Point(1, 2, 4) and Point(1, 2, 3) == Point(a=1, b=2, c=3)
    assert Keyed(1, 2, 3) == Keyed(1, 9, 9) and hash(Keyed(1, 2, 3)) == hash(Keyed(1, 9, 9))
    assert hash(Point(1, 2, 3)) == hash((1, 2, 3)) != hash(Point(1, 2, 4))
    p = Point(1, 2, 3)
    with pytest.raises(AttributeError, match="cannot delete field 'b': a Point is immutable"):
        del p.b
    with pytest.raises(AttributeError, match="cannot assign to field 'b': a Point is immutable"):
        p.b = 5


def test_model_odds_and_ends_found_by_mutation_testing():
    from ctrtui.model import CgroupState

    assert CgroupRef.parse("freezer:/a:b") == CgroupRef("freezer", "/a:b")  # the first colon splits
    st = CgroupState("freezer", "/a", 1)
    assert (st.hierarchy, st.path, st.version) == ("freezer", "/a", 1)
    hs = tree(root=((1, 2), (1,)), a=((10, 11, 12), (10, 12)), a__x=((20,), (20,)))
    assert hs.members("/a", recursive=True).typecode == "i"  # the model's PID arrays are signed 32-bit
    with pytest.raises(KeyError, match="memory"):
        Snapshot((hs,), 0.0)["memory"]


def test_value_constructor_errors_name_the_class_and_the_argument():
    from ctrtui.model.value import Value

    class Pair(Value):
        __slots__ = ("x", "y")

    for args, kw, message in (
            ((1, 2, 3), {}, r"Pair\(\) takes 2 arguments, 3 were given"),
            ((1,), {"x": 2}, r"Pair\(\) got multiple values for argument 'x'"),
            ((1, 2), {"z": 3}, r"Pair\(\) got an unexpected keyword argument 'z'"),
            ((1,), {}, r"Pair\(\) missing required argument: 'y'")):
        with pytest.raises(TypeError, match=message):
            Pair(*args, **kw)


def test_defaults_and_build_order_of_several_roots():
    h = Hierarchy("freezer", 1, ("freezer",), "/m")
    assert (h.root, h.hierarchy_id) == ("/", 0) and Snapshot((), 0.0).backend == "real"
    # a snapshot of cgroups whose parents are missing: each is a root, in path order
    hs = HierarchySnapshot.build(FREEZER, [Container("/z/b", ()), Container("/a/c", ()), Container("/m", ())])
    assert list(hs.containers) == ["/a/c", "/m", "/z/b"]
