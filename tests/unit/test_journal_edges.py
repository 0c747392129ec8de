"""The journal's own edge cases (issue 16): each task once in an intent, rotation that keeps
the newest batches whole, every limit of the reader checked before a record is written,
record versions, two names of one journal (a symbolic link, a hard link), a dangling link,
stale rotation temp files. On the simulated kernel; what needs a file of another user is in
tests/real/test_owned_real.py."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.engine.batches import write_intent
from ctrtui.engine.cgroupops import CgroupOps
from ctrtui.engine.journalerrors import JournalError, JournalLimit, JournalNotOwned
from ctrtui.engine.records import VERSION
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef
from ctrtui.sources.simulated import SimKernel
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse


@pytest.fixture
def k() -> SimKernel:
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    k.mkdir("freezer", "/b")
    return k


def engine(k, path, **kw) -> AttachEngine:
    return AttachEngine(k, policy=Policy(), journal=Journal(str(path), **kw), load_entry_points=False)


def where(k, pid) -> str:
    return k.task_cgroups(pid)["freezer"]


def lines(path) -> list[dict]:
    return [json.loads(x) for x in open(path, "rb").read().splitlines() if x.strip()]


# ---------------------------------------------------------------------- each task once


def test_a_pid_given_several_times_is_in_the_intent_once(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    pids = [k.spawn(f"t{i}") for i in range(3)]
    r = e.apply(e.plan(pids * 4, CgroupRef("freezer", "/a")))
    assert [o.outcome for o in r.outcomes].count("moved") == 3 and len(r.outcomes) == 12
    intent = next(x for x in lines(path) if x["kind"] == "intent")
    assert [t["pid"] for t in intent["tasks"]] == pids


def test_recovery_after_a_kill_counts_tasks_not_repeats_and_undoes_each_once(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    pids = [k.spawn(f"t{i}") for i in range(3)]
    plan = e.plan(pids * 10, CgroupRef("freezer", "/a"))
    with e.journal.locked():  # what a process killed after two writes leaves behind
        write_intent(e.journal, e.backend, "crashed-1", [plan], None)
    for pid in pids[:2]:
        k.place(pid, "freezer", "/a")
    u = e.undo()
    assert any("crashed-1" in w and "2 of its 3 tasks" in w for w in u.warnings), u.warnings
    assert sorted(o.pid for o in u.outcomes) == sorted(pids[:2])
    assert all(where(k, pid) == "/" for pid in pids)


def test_an_intent_of_an_earlier_version_with_repeats_is_recovered_once_per_task(k, tmp_path):
    path = tmp_path / "j.jsonl"
    pids = [k.spawn(f"t{i}") for i in range(2)]
    starts = {p: k.task_state(p).start_time for p in pids}
    tasks = [{"pid": p, "start_time": starts[p], "pidfs": None, "from": "/", "to": "/a"} for p in pids] * 5
    path.write_text(json.dumps({"kind": "intent", "batch": "old-1", "time": "t", "hierarchy": "freezer",
                                "threads": False, "undo_of": None, "target": "/a", "tasks": tasks}) + "\n")
    for p in pids:
        k.place(p, "freezer", "/a")
    u = engine(k, path).undo()
    assert any("2 of its 2 tasks" in w for w in u.warnings), u.warnings
    assert len(u.outcomes) == 2 and all(where(k, p) == "/" for p in pids)


def test_repeated_moved_rows_of_an_earlier_recovery_are_undone_once_per_task(k, tmp_path):
    path = tmp_path / "j.jsonl"
    pids = [k.spawn(f"t{i}") for i in range(2)]
    starts = {p: k.task_state(p).start_time for p in pids}
    tasks = [{"pid": p, "start_time": starts[p], "pidfs": None, "from": "/", "to": "/a"} for p in pids] * 5
    rows = [{"kind": "intent", "batch": "old-1", "time": "t", "hierarchy": "freezer", "threads": False,
             "undo_of": None, "target": "/a", "tasks": tasks}]
    rows += [{"kind": "outcome", "batch": "old-1", "pid": t["pid"], "start_time": t["start_time"], "from": "/",
              "to": "/a", "outcome": "moved", "errno": None} for t in tasks]  # as a recovery wrote them
    rows.append({"kind": "close", "batch": "old-1", "time": "t", "state": "recovered"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for p in pids:
        k.place(p, "freezer", "/a")
    found = Journal(str(path)).find_undoable()
    assert len(found.remaining()) == 2 and found.status() == "done"
    u = engine(k, path).undo()
    assert sorted(o.pid for o in u.outcomes) == sorted(pids) and all(where(k, p) == "/" for p in pids)
    assert Journal(str(path)).batches()[1].status() == "undone"


# ---------------------------------------------------------------------- rotation


def test_rotation_keeps_the_newest_batch_whatever_its_size(k, tmp_path, capsys):
    path = tmp_path / "j.jsonl"
    e = engine(k, path, max_bytes=4096)
    pids = [k.spawn(f"t{i}") for i in range(80)]  # an intent and outcomes far past a quarter of 4096
    first = e.apply(e.plan(pids, CgroupRef("freezer", "/a")))
    undo = e.undo()
    assert undo is not None and os.path.exists(str(path) + ".1")  # it rotated after the undo
    got = [b.id for b in Journal(str(path)).batches()]
    assert got and got[0] == undo.batch_id, got
    assert first.batch_id not in got  # undone, and older than the newest history: dropped
    rc, out, err = run(capsys, "--demo", "--journal", str(path), "log")
    assert rc == 0 and undo.batch_id in out and "has no batch" not in err


def test_rotation_keeps_the_newest_history_by_batch(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path, max_bytes=8192)
    ids = []
    for i in range(60):  # small batches, each undone: only history, nothing undoable
        t = k.spawn(f"c{i}")
        ids.append(e.apply(e.plan([t], CgroupRef("freezer", "/b"))).batch_id)
        ids.append(e.undo().batch_id)
    header = json.loads(path.read_bytes().splitlines()[0])
    assert header["kind"] == "header"
    assert header["kept_bytes"] >= 8192 // 4  # whole batches, back past the newest quarter
    got = [b.id for b in Journal(str(path)).batches()]
    assert got == list(reversed(ids))[:len(got)] and len(got) >= 4  # the newest ones, none missing between


# ---------------------------------------------------------------------- limits: writer = reader


def test_a_mkdir_the_reader_could_not_read_back_is_refused_before_anything_is_journaled(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    e.apply(e.plan([k.spawn("a")], CgroupRef("freezer", "/a")))
    before = path.read_bytes()
    parent = ""
    for i in range(16):  # 16 * 251 = 4016 characters
        parent += "/" + f"{i:02d}" + "x" * 248
        k.mkdir("freezer", parent)
    target = parent + "/" + "y" * 200  # 4217 characters: more than the journal reads back
    with pytest.raises(JournalLimit) as info:
        CgroupOps(e).run("mkdir", CgroupRef("freezer", target))
    assert "path must be a non-empty string of at most 4096 characters, not one of 4217" in str(info.value)
    assert "nothing was done" in str(info.value)
    assert path.read_bytes() == before  # nothing journaled
    assert k.cgroup_state("freezer", target) is None  # nor made
    assert [b.status() for b in Journal(str(path)).batches()] == ["done"]  # the journal reads on


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hierarchy=st.text(max_size=300), target=st.text(max_size=5000), start=st.integers(-5, 2**64))
def test_what_the_writer_accepts_the_reader_reads_back(tmp_path_factory, hierarchy, target, start):
    path = tmp_path_factory.mktemp("lim") / "j.jsonl"
    j = Journal(str(path))
    tasks = [{"pid": 10, "start_time": start, "pidfs": None, "from": "/", "to": "/" + target}]
    with j.locked():
        try:
            j.write_intent("b-1", hierarchy, False, None, "/" + target, tasks)
        except JournalLimit:
            assert path.read_bytes() == b""
            return
        try:
            j.write_op("b-2", "mkdir", hierarchy, "/" + target, None)
        except JournalLimit:
            pass
    assert [b.id for b in Journal(str(path)).batches()][-1] == "b-1"  # no JournalCorrupt


def test_a_hooks_odd_errno_does_not_make_the_outcomes_unreadable(tmp_path):
    path = tmp_path / "j.jsonl"
    j = Journal(str(path))
    with j.locked():
        j.write_intent("b-1", "freezer", False, None, "/a", [{"pid": 10, "start_time": 1, "pidfs": None,
                                                               "from": "/", "to": "/a"}])
        j.write_close("b-1", [{"pid": 10, "start_time": 1, "from": "/", "to": "/a", "outcome": "refused",
                               "errno": "my hook's reason"}], "done")
    assert Journal(str(path)).batches()[0].state == "done"


# ---------------------------------------------------------------------- record versions


def _newer_batch(batch: str = "new-1") -> list[dict]:
    return [{"kind": "intent", "version": VERSION + 1, "batch": batch, "time": "t", "hierarchy": "freezer",
             "target": {"path": "/a", "how": "something new"}, "tasks": "elsewhere"},
            {"kind": "frobnicated", "version": VERSION + 1, "batch": batch, "with": [1, 2, 3]},
            {"kind": "close", "version": VERSION + 1, "batch": batch, "state": "half-done"}]


def test_a_batch_of_a_newer_version_is_unknown_and_the_rest_is_read(k, tmp_path, capsys):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    p = k.spawn("a")
    first = e.apply(e.plan([p], CgroupRef("freezer", "/a")))
    with open(path, "a") as f:
        for rec in _newer_batch():
            f.write(json.dumps(rec) + "\n")
    got = [(b.id, b.status()) for b in Journal(str(path)).batches()]
    assert got == [("new-1", "unknown to this version"), (first.batch_id, "done")]
    rc, out, err = run(capsys, "--demo", "--journal", str(path), "log")
    assert rc == 0 and "unknown to this version" in out and "record version 2" in out and first.batch_id in out
    with pytest.raises(CtrtuiError, match="newer ctrtui"):
        e.undo("new-1")
    u = e.undo()  # the newest batch this version knows
    assert u.undo_of == first.batch_id and where(k, p) == "/"
    assert any("new-1" in w and "newer ctrtui" in w for w in u.warnings), u.warnings
    q = k.spawn("b")
    assert e.apply(e.plan([q], CgroupRef("freezer", "/b"))).ok  # a move reads past it


def test_records_carry_their_version_and_old_records_are_version_1(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    e.apply(e.plan([k.spawn("a")], CgroupRef("freezer", "/a")))
    assert {x["version"] for x in lines(path)} == {VERSION}
    for bad in (0, "2", 1.5, None):
        path.write_text(json.dumps({"kind": "close", "version": bad, "batch": "x", "time": "t", "state": "done"})
                        + "\n")
        with pytest.raises(CtrtuiError, match="corrupt at line 1: version must be"):
            Journal(str(path)).batches()


# ---------------------------------------------------------------------- two names, links, temp files


def test_a_hard_link_to_the_journal_is_refused_so_two_names_never_give_two_writers(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    e.apply(e.plan([k.spawn("a")], CgroupRef("freezer", "/a")))
    other = tmp_path / "other.jsonl"
    p = k.spawn("b")
    with e.journal.locked():  # the first writer's batch is open
        os.link(path, other)
        second = engine(k, other, lock_timeout=0.2)
        with pytest.raises(JournalError, match="held it for more than 0.2 s"):  # one file, one lock
            second.apply(second.plan([p], CgroupRef("freezer", "/b")))
    assert where(k, p) == "/"
    for name in (path, other):  # and then neither name is used until one is left
        with pytest.raises(JournalNotOwned, match="has 2 names"):
            engine(k, name).apply(e.plan([p], CgroupRef("freezer", "/b")))
    assert where(k, p) == "/"


def test_the_lock_is_on_the_file_so_a_second_name_waits(k, tmp_path):
    path = tmp_path / "j.jsonl"
    path.touch(mode=0o600)
    fd = os.open(str(path), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        e = engine(k, path, lock_timeout=0.2)
        with pytest.raises(JournalError, match="held it for more than 0.2 s"):
            e.apply(e.plan([k.spawn("a")], CgroupRef("freezer", "/a")))
        assert not os.path.exists(str(path) + ".lock")
    finally:
        os.close(fd)


def test_a_symlinked_journal_is_refused_and_its_target_untouched(k, tmp_path):
    real = tmp_path / "real.jsonl"
    e = engine(k, real)
    e.apply(e.plan([k.spawn("a")], CgroupRef("freezer", "/a")))
    before = real.read_bytes()
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    p = k.spawn("b")
    second = engine(k, link)
    with pytest.raises(JournalNotOwned, match="is a symbolic link"):
        second.apply(second.plan([p], CgroupRef("freezer", "/b")))
    with pytest.raises(CtrtuiError, match="is a symbolic link"):
        second.undo()
    with pytest.raises(CtrtuiError, match="is a symbolic link"):
        Journal(str(link)).batches()
    assert real.read_bytes() == before and where(k, p) == "/"


def test_a_dangling_journal_symlink_is_refused_and_not_created(k, tmp_path, capsys):
    link = tmp_path / "j.jsonl"
    gone = tmp_path / "gone" / "target.jsonl"
    (tmp_path / "gone").mkdir()
    link.symlink_to(gone)
    rc, out, err = run(capsys, "--demo", "--journal", str(link), "move", "1", "--to", "freezer:/")
    assert rc == 2 and out == "" and err.count("\n") == 1, err
    assert "symbolic link" in err and "which does not exist" in err and str(link) in err
    assert not gone.exists()


def test_a_killed_rotation_leaves_nothing_forever(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    e.apply(e.plan([k.spawn("a")], CgroupRef("freezer", "/a")))
    dead = _dead_pid()
    stale = tmp_path / f"j.jsonl.tmp{dead}"
    stale.write_bytes(b'{"kind": "header"')
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        alive = tmp_path / f"j.jsonl.tmp{sleeper.pid}"  # a rotation at work in another process
        alive.write_bytes(b"")
        os.link(path, str(path) + ".1")  # killed between the backup link and the rename
        e.journal.check_owned()  # what the UI asks at start: not a second name of its own
        r = e.apply(e.plan([k.spawn("b")], CgroupRef("freezer", "/b")))
        assert r.ok
        assert not stale.exists() and alive.exists() and not os.path.exists(str(path) + ".1")
        assert any("removed" in w and stale.name in w for w in r.warnings), r.warnings
    finally:
        sleeper.kill()
        sleeper.wait()


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid
