"""Cgroup ops (engine/ops.py) on the simulated kernel: the name rules, mkdir/rmdir/freeze/
thaw predicted, journaled and undone, the journal's `op` records validated and recovered."""

from __future__ import annotations

import json

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.engine.journal import JournalCorrupt
from ctrtui.engine.ops import NAME_MAX, CgroupOps, name_problem, undo_any
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
