"""Cgroup ops (engine/cgroupops.py) on the simulated kernel: the name rules, mkdir/rmdir/freeze/
thaw predicted, journaled and undone, the journal's `op` records validated and recovered."""

from __future__ import annotations

import json

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.engine.cgroupops import CgroupOps, undo_any
from ctrtui.engine.journal import JournalCorrupt
from ctrtui.engine.opvalues import NAME_MAX, name_problem
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef
from ctrtui.sources.simulated import SimKernel


@pytest.fixture
def k() -> SimKernel:
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.add_hierarchy("pids", 1, ["pids"])
    k.add_hierarchy("unified", 2, ["cpu", "pids"])
    for h in ("freezer", "pids", "unified"):
        k.mkdir(h, "/a")
    return k


def engine(k, path) -> AttachEngine:
    return AttachEngine(k, policy=Policy(), journal=Journal(str(path)), load_entry_points=False)


@pytest.mark.parametrize("name, words", [
    ("", "needs a name"), (".", "means this directory"), ("..", "means this directory"),
    ("a/b", "cannot hold '/'"), ("a\nb", "newline"), ("x" * (NAME_MAX + 1), "at most 255 bytes; this one has 256"),
    ("é" * 128, "this one has 256"), ("a", "exists already"),
])
def test_name_rules(name, words):
    assert words in name_problem(name, taken={"a"})


def test_good_names_pass():
    for name in ("new", "x" * NAME_MAX, "a b", "cgroup.foo", "\x1b[31m"):
        assert name_problem(name, taken={"a"}) is None


@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_mkdir_freeze_thaw_rmdir_and_their_undo(k, tmp_path, hier):
    e = engine(k, tmp_path / "j.jsonl")
    ops = CgroupOps(e)
    ref = CgroupRef(hier, "/a/new")
    made = ops.run("mkdir", ref)
    assert made.ok and k.cgroup_state(hier, "/a/new") is not None and made.journaled
    assert ops.run("freeze", ref).ok and ops.frozen(ref) is True
    pid = k.spawn("sleep", cgroups={hier: "/a/new"})
    # an undo of the freeze thaws; then the mkdir's undo is refused while a task is inside
    undone = undo_any(e)
    assert undone.ok and undone.op == "thaw" and ops.frozen(ref) is False
    refused = undo_any(e)
    assert not refused.ok and refused.refusal.errno == "EBUSY" and refused.predicted
    assert "no longer empty" in refused.sentence() and "1 task" in refused.sentence()
    assert k.cgroup_state(hier, "/a/new") is not None
    k.place(pid, hier, "/")
    gone = undo_any(e)
    assert gone.ok and gone.op == "rmdir" and gone.undo_of == made.batch_id
    assert k.cgroup_state(hier, "/a/new") is None
    assert undo_any(e) is None
    states = [(b.op, b.status()) for b in e.journal.batches()]
    assert states == [("rmdir", "done"), ("thaw", "done"), ("freeze", "undone"), ("mkdir", "undone")]


def test_predicted_refusals_ask_nothing_and_journal_nothing(k, tmp_path):
    e = engine(k, tmp_path / "j.jsonl")
    ops = CgroupOps(e)
    k.mkdir("freezer", "/a/child")
    cases = [
        ("mkdir", CgroupRef("freezer", "/a"), "EEXIST", "exists already"),
        ("mkdir", CgroupRef("freezer", "/none/x"), "ENOENT", "does not exist"),
        ("mkdir", CgroupRef("freezer", "/a/" + "x" * 256), "ENAMETOOLONG", "at most 255"),
        ("mkdir", CgroupRef("freezer", "/a/b\nc"), "EINVAL", "newline"),
        ("rmdir", CgroupRef("freezer", "/a"), "EBUSY", "1 child cgroup"),
        ("rmdir", CgroupRef("freezer", "/"), "EBUSY", "root"),
        ("rmdir", CgroupRef("freezer", "/gone"), "ENOENT", "no cgroup"),
        ("freeze", CgroupRef("pids", "/a"), "ENOENT", "has no freezer"),
        ("freeze", CgroupRef("unified", "/"), "ENOENT", "root"),
        ("mkdir", CgroupRef("nosuch", "/x"), None, "unknown hierarchy"),
    ]
    for op, ref, code, words in cases:
        r = ops.run(op, ref)
        assert not r.ok and r.predicted and r.refusal.errno == code and words in r.sentence(), (op, ref)
    assert e.journal.batches() == []


def test_a_kernel_refusal_is_journaled_as_refused(k, tmp_path):
    e = engine(k, tmp_path / "j.jsonl")
    ops = CgroupOps(e)
    r = ops.run("mkdir", CgroupRef("freezer", "/a/tasks"))  # an interface file's name: only the kernel knows
    assert not r.ok and not r.predicted and r.refusal.errno == "EEXIST"
    [b] = e.journal.batches()
    assert b.op == "mkdir" and b.status() == "refused" and b.errno == "EEXIST" and not b.undoable()
    assert undo_any(e) is None


def test_moves_and_ops_undo_newest_first(k, tmp_path):
    e = engine(k, tmp_path / "j.jsonl")
    ops = CgroupOps(e)
    assert ops.run("mkdir", CgroupRef("freezer", "/a/new")).ok
    pid = k.spawn("sleep")
    assert e.apply(e.plan([pid], CgroupRef("freezer", "/a/new"))).ok
    back = undo_any(e)
    assert back.undo_of is not None and k.task_cgroups(pid)["freezer"] == "/"
    assert undo_any(e).op == "rmdir"
    lines = [json.loads(x) for x in (tmp_path / "j.jsonl").read_text().splitlines()]
    assert [x["kind"] for x in lines] == ["op", "close", "intent", "outcome", "close", "intent", "outcome", "close",
                                          "op", "close"]


def test_an_open_op_batch_is_recovered(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    with e.journal.locked():  # a process that died after its op record
        e.journal.write_op("20260101T000000-aaaaaa", "mkdir", "freezer", "/a/half", None, backend="demo")
    k.mkdir("freezer", "/a/half")  # ... and after the kernel made the cgroup
    r = undo_any(engine(k, path))
    assert r.ok and r.op == "rmdir" and r.undo_of == "20260101T000000-aaaaaa"
    assert any("was interrupted" in w and "was made" in w for w in r.warnings)
    with e.journal.locked():  # died before the kernel was asked: closed as interrupted, nothing to undo
        e.journal.write_op("20260101T000001-bbbbbb", "freeze", "freezer", "/a", None, backend="demo")
    assert undo_any(engine(k, path)) is None
    statuses = {x.id: x.status() for x in Journal(str(path)).batches()}
    assert statuses["20260101T000001-bbbbbb"] == "interrupted"


@pytest.mark.parametrize("line, words", [
    ({"kind": "op", "batch": "b1", "op": "chmod", "hierarchy": "freezer", "path": "/a"}, "op must be one of"),
    ({"kind": "op", "batch": "b1", "op": "mkdir", "hierarchy": "freezer", "path": "/a/../b"}, "path must be"),
    ({"kind": "close", "batch": "b1", "state": "refused", "errno": "not an errno"}, "errno must be"),
])
def test_op_records_are_validated(tmp_path, line, words):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(JournalCorrupt, match=words):
        Journal(str(path)).batches()


def test_an_op_of_another_backend_is_not_undone(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    with e.journal.locked():
        e.journal.write_op("20260101T000000-cccccc", "mkdir", "freezer", "/a/x", None, backend="local")
        e.journal.write_op_close("20260101T000000-cccccc", "done")
    with pytest.raises(CtrtuiError, match="made on the backend 'local'"):
        undo_any(e)


def test_undo_of_a_mkdir_whose_cgroup_is_gone_is_settled(k, tmp_path):
    e = engine(k, tmp_path / "j.jsonl")
    made = CgroupOps(e).run("mkdir", CgroupRef("freezer", "/a/new"))
    k.rmdir("freezer", "/a/new")  # someone else removed it
    r = undo_any(e)
    assert r.ok and r.undo_of == made.batch_id and any("already gone" in w for w in r.warnings)
    assert undo_any(e) is None


# ------------------------------------------------------------------ no-op freeze and thaw


@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_a_freeze_or_thaw_that_changes_nothing_says_so_and_journals_nothing(k, tmp_path, hier):
    e = engine(k, tmp_path / "j.jsonl")
    ops = CgroupOps(e)
    ref = CgroupRef(hier, "/a")
    r = ops.run("thaw", ref)  # never frozen
    assert r.ok and r.outcome == "already-thawed" and r.batch_id is None and not r.journaled
    assert r.sentence() == f"{hier}:/a is already thawed; nothing was changed"
    assert r.as_dict()["outcome"] == "already-thawed"
    assert e.journal.batches() == [] and undo_any(e) is None
    assert ops.run("freeze", ref).outcome == "done"
    again = ops.run("freeze", ref)
    assert again.ok and again.outcome == "already-frozen" and again.batch_id is None
    assert [b.op for b in e.journal.batches()] == ["freeze"]
    assert undo_any(e).op == "thaw" and ops.frozen(ref) is False  # the one real change, undone
    assert undo_any(e) is None  # and the no-op left nothing that would freeze it again


@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_undo_never_sets_a_state_its_batch_did_not_change(k, tmp_path, hier):
    """The batch froze /a; someone thawed it since: the undo asks nothing (it would not
    thaw anything), is recorded as done, and says so."""
    e = engine(k, tmp_path / "j.jsonl")
    ops = CgroupOps(e)
    ref = CgroupRef(hier, "/a")
    froze = ops.run("freeze", ref)
    k.set_frozen(hier, "/a", False)  # by hand
    writes: list[tuple[str, str, bool]] = []
    real = k.set_frozen
    k.set_frozen = lambda h, p, f: (writes.append((h, p, f)), real(h, p, f))[1]  # type: ignore[method-assign]
    r = undo_any(e)
    assert r.ok and r.undo_of == froze.batch_id and writes == []
    assert any("was already thawed; nothing was asked" in w for w in r.warnings)
    assert undo_any(e) is None and ops.frozen(ref) is False


@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_thawing_a_cgroup_frozen_only_by_its_ancestor_is_refused_naming_the_ancestor(k, tmp_path, hier):
    e = engine(k, tmp_path / "j.jsonl")
    ops = CgroupOps(e)
    k.mkdir(hier, "/a/b")
    assert ops.run("freeze", CgroupRef(hier, "/a")).outcome == "done"
    r = ops.run("thaw", CgroupRef(hier, "/a/b"))
    assert not r.ok and r.predicted and f"by its ancestor {hier}:/a" in r.sentence() and "Thaw that" in r.sentence()
    # freezing it is a change of its own setting: done, and undone by a thaw of its own
    assert ops.run("freeze", CgroupRef(hier, "/a/b")).outcome == "done"
    assert undo_any(e).op == "thaw" and k.cgroup_state(hier, "/a/b").self_frozen is False
    assert ops.frozen(CgroupRef(hier, "/a/b")) is True  # still, by /a


# ------------------------------------------------------------------ the cgroup's identity


@pytest.mark.parametrize("op", ["mkdir", "freeze", "thaw"])
def test_undo_refuses_another_cgroup_made_at_the_batch_s_path(k, tmp_path, op):
    """The batch made (or froze, or thawed) /a/x; it was removed and another made under the
    same name: the undo touches nothing and says which cgroup and what to do."""
    e = engine(k, tmp_path / "j.jsonl")
    ops = CgroupOps(e)
    ref = CgroupRef("freezer", "/a/x")
    if op != "mkdir":
        k.mkdir("freezer", "/a/x")
        if op == "thaw":
            k.set_frozen("freezer", "/a/x", True)
    done = ops.run(op, ref)
    assert done.outcome == "done"
    first = k.cgroup_state("freezer", "/a/x").cgroup_id
    k.set_frozen("freezer", "/a/x", False)
    k.rmdir("freezer", "/a/x")
    k.mkdir("freezer", "/a/x")  # someone else's, under the same name
    k.set_frozen("freezer", "/a/x", op == "freeze")  # so that the undo would change it
    second = k.cgroup_state("freezer", "/a/x").cgroup_id
    assert second != first
    r = undo_any(e)
    assert not r.ok and r.predicted and r.undo_of == done.batch_id
    text = r.sentence()
    assert "freezer:/a/x is another cgroup now" in text and f"id {first}" in text and f"id {second}" in text
    assert "Nothing was changed" in text and "ctrtui undo BATCH" in text
    assert k.cgroup_state("freezer", "/a/x") is not None and ops.frozen(ref) is (op == "freeze")
    assert [b.op for b in e.journal.batches()] == [op]  # the refusal journaled nothing


def test_op_records_carry_the_cgroup_s_identity(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    ops = CgroupOps(e)
    ref = CgroupRef("unified", "/a/x")
    ops.run("mkdir", ref)
    made = k.cgroup_state("unified", "/a/x").cgroup_id
    ops.run("freeze", ref)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(x["kind"], x.get("cgroup_id")) for x in lines] == [("op", None), ("close", made), ("op", made),
                                                                 ("close", None)]
    assert [b.cgroup_id for b in Journal(str(path)).batches()] == [made, made]
    assert isinstance(made, int) and made > 0


def test_a_batch_without_an_identity_is_undone_as_before(k, tmp_path):
    """Batches of earlier versions have no cgroup_id: the undo cannot compare, and does."""
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    k.mkdir("freezer", "/a/old")
    with e.journal.locked():
        e.journal.write_op("20260101T000000-dddddd", "mkdir", "freezer", "/a/old", None, backend="demo")
        e.journal.write_op_close("20260101T000000-dddddd", "done")
    r = undo_any(e)
    assert r.ok and r.op == "rmdir" and k.cgroup_state("freezer", "/a/old") is None


@pytest.mark.parametrize("value", [-1, "7", 2**64, 1.5])
def test_a_bad_cgroup_id_is_a_corrupt_line(tmp_path, value):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps({"kind": "op", "batch": "b1", "op": "freeze", "hierarchy": "freezer", "path": "/a",
                                "cgroup_id": value}) + "\n")
    with pytest.raises(JournalCorrupt, match="cgroup_id must be"):
        Journal(str(path)).batches()
