"""The write-ahead journal on the simulated kernel: intent before the first write, outcomes
and close after; open batches recovered; undo as bookkeeping (retryable); one writer at a
time; every line validated; torn tails of any length; rotation keeping what is undoable."""

from __future__ import annotations

import fcntl
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctrtui.engine import AttachEngine, Journal, Policy, default_journal_path
from ctrtui.engine.batches import write_intent
from ctrtui.engine.journal import JournalCorrupt, JournalError
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef
from ctrtui.sources.simulated import SimKernel


@pytest.fixture
def k() -> SimKernel:
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    k.mkdir("freezer", "/b")
    return k


def engine(k, path, **kw) -> AttachEngine:
    return AttachEngine(k, policy=Policy(), journal=Journal(str(path), **kw) if path is not None else None,
                        load_entry_points=False)


def where(k, pid) -> str:
    return k.task_cgroups(pid)["freezer"]


def legacy_row(batch: str, pid: int, outcome: str = "moved", undo_of: str | None = None) -> dict:
    return {"time": "t", "batch": batch, "pid": pid, "start_time": 5, "hierarchy": "freezer",
            "from": "/", "to": "/a", "outcome": outcome, "errno": None, "threads": False, "undo_of": undo_of}


def good_batch(batch: str = "b1", pid: int = 10, start: int = 5) -> list[dict]:
    return [
        {"kind": "intent", "batch": batch, "time": "t", "hierarchy": "freezer", "threads": False, "undo_of": None,
         "target": "/a", "tasks": [{"pid": pid, "start_time": start, "pidfs": None, "from": "/", "to": "/a"}]},
        {"kind": "outcome", "batch": batch, "pid": pid, "start_time": start, "from": "/", "to": "/a",
         "outcome": "moved", "errno": None},
        {"kind": "close", "batch": batch, "time": "t", "state": "done"},
    ]


def empty_batch(j: Journal, batch: str) -> None:
    j.write_intent(batch, "freezer", False, None, "/a", [])
    j.write_close(batch, [], "done")


def write_lines(path, rows, tail: str = "") -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail)


# ---------------------------------------------------------------------- format


def test_default_paths_follow_xdg_and_keep_the_demo_apart(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_journal_path("real") == str(tmp_path / "ctrtui" / "journal.jsonl")
    assert default_journal_path("demo") == str(tmp_path / "ctrtui" / "demo-journal.jsonl")
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_journal_path() == str(tmp_path / "home" / ".local" / "state" / "ctrtui" / "journal.jsonl")


def test_a_batch_is_intent_then_outcomes_then_close(k, tmp_path):
    path = tmp_path / "state" / "ctrtui" / "journal.jsonl"  # directories made on first write
    p, q = k.spawn("a"), k.spawn("b")
    e = engine(k, path)
    r = e.apply(e.plan([p, q, "abc"], CgroupRef("freezer", "/a")))
    assert r.journaled and r.interrupted is None
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["kind"] for x in rows] == ["intent", "outcome", "outcome", "outcome", "close"]
    intent = rows[0]
    assert intent["batch"] == r.batch_id and intent["target"] == "/a" and intent["undo_of"] is None
    assert [t["pid"] for t in intent["tasks"]] == [p, q]  # only what will be written
    assert intent["tasks"][0]["start_time"] == k.task_state(p).start_time and intent["tasks"][0]["from"] == "/"
    assert [x["outcome"] for x in rows[1:4]] == ["moved", "moved", "refused"]
    assert rows[3]["pid"] is None and rows[3]["input"] == "abc"
    assert rows[4]["state"] == "done"
    u = e.undo()
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert rows[5]["kind"] == "intent" and rows[5]["undo_of"] == r.batch_id and u.undo_of == r.batch_id
    assert where(k, p) == "/" and where(k, q) == "/"
    assert Journal(str(path)).batches()[1].status() == "undone"


def test_the_intent_is_synced_before_the_first_write_and_a_batch_costs_two_fsyncs(k, tmp_path, monkeypatch):
    path = tmp_path / "j.jsonl"
    events = []
    real_fsync, real_open = os.fsync, k.open_membership
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))

    class Spy:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            events.append("write")
            return self.f.write(data)

        def read(self):
            return self.f.read()

        def close(self):
            self.f.close()

    monkeypatch.setattr(k, "open_membership", lambda *a, **kw: Spy(real_open(*a, **kw)))
    with Journal(str(path)).locked() as j:  # the file exists already
        empty_batch(j, "b0")
    pids = [k.spawn(f"t{i}") for i in range(50)]
    e = engine(k, path)
    plan = e.plan(pids, CgroupRef("freezer", "/a"))
    events.clear()
    e.apply(plan)
    assert events[0] == "fsync" and events[1] == "write"
    assert events.count("fsync") == 2 and events.count("write") == 50


def test_journal_not_writable_means_nothing_moves(k, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = k.spawn("a")
    e = engine(k, blocker / "sub" / "j.jsonl")
    plan = e.plan([p], CgroupRef("freezer", "/a"))
    with pytest.raises(JournalError) as info:
        e.apply(plan)
    msg = str(info.value)
    assert str(blocker / "sub") in msg and ("ENOTDIR" in msg or "EEXIST" in msg) and "nothing was moved" in msg
    assert "\n" not in msg and "--no-journal" in msg
    assert where(k, p) == "/"


def test_in_memory_journal_is_not_journaled(k):
    e = engine(k, None)
    p = k.spawn("a")
    r = e.apply(e.plan([p], CgroupRef("freezer", "/a")))
    assert not r.journaled and e.undo().outcomes[0].outcome == "moved" and where(k, p) == "/"


def test_a_fifo_as_journal_does_not_hang(k, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    e = engine(k, fifo)
    p = k.spawn("a")
    with pytest.raises(JournalError, match="not a regular file"):
        e.apply(e.plan([p], CgroupRef("freezer", "/a")))
    with pytest.raises(CtrtuiError, match="not a regular file"):
        Journal(str(fifo)).batches()
    with pytest.raises(JournalError, match="not a regular file"):
        e.undo()
    assert where(k, p) == "/"


def test_lock_held_by_another_writer_times_out_with_nothing_moved(k, tmp_path):
    path = tmp_path / "j.jsonl"
    fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o600)  # the journal file itself is what a writer locks
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        e = engine(k, path, lock_timeout=0.2)
        p = k.spawn("a")
        with pytest.raises(JournalError, match="held it for more than 0.2 s"):
            e.apply(e.plan([p], CgroupRef("freezer", "/a")))
        assert where(k, p) == "/"
    finally:
        os.close(fd)
    e.apply(e.plan([p], CgroupRef("freezer", "/a")))
    assert where(k, p) == "/a"


# ---------------------------------------------------------------------- undo bookkeeping


def test_a_refused_undo_keeps_the_batch_and_a_retry_works(k, tmp_path):
    k.mkdir("freezer", "/z")
    p = k.spawn("a")
    k.place(p, "freezer", "/z")
    e = engine(k, tmp_path / "j.jsonl")
    moved = e.apply(e.plan([p], CgroupRef("freezer", "/a")))
    k.rmdir("freezer", "/z")
    u = e.undo(moved.batch_id)
    assert u.outcomes[0].outcome == "refused" and u.outcomes[0].errno == "ENOENT" and where(k, p) == "/a"
    states = [b.status() for b in Journal(str(tmp_path / "j.jsonl")).batches()]
    assert states == ["refused", "cannot be undone: origin gone"]
    assert e.undo() is None and f"batch {moved.batch_id} was skipped" in e.nothing_left
    k.mkdir("freezer", "/z")  # the cause fixed: the undo works
    u = e.undo()
    assert u.undo_of == moved.batch_id and u.outcomes[0].outcome == "moved" and where(k, p) == "/z"
    assert e.undo() is None and "no batch left" in e.nothing_left


def test_undo_takes_the_newest_batch_left_and_a_named_one(k, tmp_path):
    e = engine(k, tmp_path / "j.jsonl")
    p, q = k.spawn("a"), k.spawn("b")
    b1 = e.apply(e.plan([p], CgroupRef("freezer", "/a")))
    b2 = e.apply(e.plan([q], CgroupRef("freezer", "/b")))
    assert e.undo(b1.batch_id).undo_of == b1.batch_id and where(k, p) == "/" and where(k, q) == "/b"
    assert e.undo(b1.batch_id) is None and b1.batch_id in e.nothing_left
    with pytest.raises(CtrtuiError, match="no batch 'nope'"):
        e.undo("nope")
    assert e.undo().undo_of == b2.batch_id and e.undo() is None
    states = {b.id: b.status() for b in Journal(str(tmp_path / "j.jsonl")).batches()}
    assert states[b1.batch_id] == states[b2.batch_id] == "undone"


def test_partly_undone_then_undone_and_a_gone_task_is_settled(k, tmp_path):
    e = engine(k, tmp_path / "j.jsonl")
    k.mkdir("freezer", "/z")
    p, q, gone = k.spawn("a"), k.spawn("b"), k.spawn("c")
    k.place(q, "freezer", "/z")
    b = e.apply(e.plan([p, q, gone], CgroupRef("freezer", "/a")))
    k.rmdir_ok = True
    k.exit(gone, reap=True)
    k.place(q, "freezer", "/a")
    k.rmdir("freezer", "/z")
    e.undo()
    assert where(k, p) == "/" and where(k, q) == "/a"
    batch = Journal(str(tmp_path / "j.jsonl")).batches()[1]
    assert batch.id == b.batch_id and batch.status() == "partly undone"
    assert [r["pid"] for r in batch.remaining()] == [q]
    k.mkdir("freezer", "/z")
    e.undo()
    assert where(k, q) == "/z"
    assert Journal(str(tmp_path / "j.jsonl")).batches()[2].status() == "undone"


def test_undo_names_each_pids_own_destination(k, tmp_path):
    k.mkdir("freezer", "/z")
    p, q = k.spawn("a"), k.spawn("b")
    k.place(q, "freezer", "/z")
    e = engine(k, tmp_path / "j.jsonl")
    e.apply(e.plan([p, q], CgroupRef("freezer", "/a")))
    u = e.undo()
    assert {o.pid: o.target for o in u.outcomes} == {p: "/", q: "/z"}
    assert where(k, p) == "/" and where(k, q) == "/z"


def test_an_open_batch_is_recovered_from_the_kernel_and_undo_moves_exactly_its_moved_tasks(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    old = [k.spawn(f"o{i}") for i in range(3)]
    e.apply(e.plan(old, CgroupRef("freezer", "/a")))  # an earlier batch: must stay
    new = [k.spawn(f"n{i}") for i in range(6)]
    plan = e.plan(new, CgroupRef("freezer", "/b"))
    with e.journal.locked():  # what a process killed after 3 writes leaves behind
        write_intent(e.journal, e.backend, "crashed-1", [plan], None)
    for pid in new[:3]:
        k.place(pid, "freezer", "/b")
    k.recycle(new[2], same_start_time=False)  # the third moved task exited; its PID reused
    k.place(new[2], "freezer", "/b")
    assert Journal(str(path)).batches()[0].status() == "open"
    u = e.undo()
    assert u.undo_of == "crashed-1" and sorted(o.pid for o in u.outcomes) == sorted(new[:2])
    assert all(where(k, pid) == "/" for pid in new[:2]) and where(k, new[2]) == "/b"
    assert all(where(k, pid) == "/a" for pid in old) and all(where(k, pid) == "/" for pid in new[3:])
    assert any("crashed-1" in w and "2 of its 6 tasks" in w for w in u.warnings)
    states = [(b.id, b.status(), b.state) for b in Journal(str(path)).batches()]
    assert states[1] == ("crashed-1", "undone", "recovered")


def test_the_next_move_reports_an_open_batch(k, tmp_path):
    e = engine(k, tmp_path / "j.jsonl")
    p, q = k.spawn("a"), k.spawn("b")
    plan = e.plan([p], CgroupRef("freezer", "/a"))
    with e.journal.locked():
        write_intent(e.journal, e.backend, "crashed-2", [plan], None)
    k.place(p, "freezer", "/a")
    r = e.apply(e.plan([q], CgroupRef("freezer", "/b")))
    assert any("crashed-2" in w and "ctrtui undo crashed-2" in w for w in r.warnings)
    assert e.undo().undo_of == r.batch_id
    assert e.undo().undo_of == "crashed-2" and where(k, p) == "/"


def test_interrupted_batch_stops_between_pids_and_records_it(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    pids = [k.spawn(f"t{i}") for i in range(10)]
    real = k.open_membership
    count = [0]

    class Counting:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            count[0] += 1
            if count[0] == 4:
                e.request_stop("SIGINT")
            return self.f.write(data)

        def read(self):
            return self.f.read()

        def close(self):
            self.f.close()

    k.open_membership = lambda *a, **kw: Counting(real(*a, **kw))
    r = e.apply(e.plan(pids, CgroupRef("freezer", "/a")))
    assert r.interrupted == "SIGINT" and not r.ok
    assert [o.outcome for o in r.outcomes] == ["moved"] * 4 + ["not-moved"] * 6
    assert "interrupted (SIGINT)" in r.outcomes[5].reason
    b = Journal(str(path)).batches()[0]
    assert b.state == "interrupted" and len(b.moved()) == 4
    e._stop = None
    e.undo()
    assert all(where(k, pid) == "/" for pid in pids)


# ---------------------------------------------------------------------- one writer


def test_the_lock_is_reentrant_within_one_journal(tmp_path):
    j = Journal(str(tmp_path / "j.jsonl"))
    with j.locked():
        with j.locked():
            empty_batch(j, "b1")
        empty_batch(j, "b2")
    assert [b.id for b in j.batches()] == ["b2", "b1"]


# ---------------------------------------------------------------------- robust reading


def test_torn_last_line_of_any_length_is_ignored_then_cut(k, tmp_path):
    path = tmp_path / "j.jsonl"
    write_lines(path, good_batch("b1"), tail='{"kind": "intent", "batch": "b2", "tasks": [' + "1, " * 40000)
    assert os.path.getsize(path) > 100_000
    j = Journal(str(path))
    assert [b.id for b in j.batches()] == ["b1"]
    assert any("torn" in w for w in j.warnings)
    with j.locked():
        empty_batch(j, "b3")
    assert any("cut off a torn" in w for w in j.warnings)
    assert path.read_text().endswith("\n")
    assert [b.id for b in Journal(str(path)).batches()] == ["b3", "b1"]


def test_a_bad_line_just_before_a_torn_last_line_is_not_forgiven(tmp_path):
    path = tmp_path / "j.jsonl"
    write_lines(path, good_batch("b1"), tail='{"kind": "outcome", "pid": "abc"}\n{"kind": "clo')
    with pytest.raises(JournalCorrupt, match=r"j.jsonl is corrupt at line 4: "):
        Journal(str(path)).batches()


def test_complete_last_record_without_newline_is_kept(tmp_path):
    path = tmp_path / "j.jsonl"
    rows = good_batch("b1")
    path.write_text("".join(json.dumps(r) + "\n" for r in rows[:-1]) + json.dumps(rows[-1]))
    j = Journal(str(path))
    with j.locked():
        empty_batch(j, "b2")
    assert [b.id for b in Journal(str(path)).batches()] == ["b2", "b1"]


def _deep(n: int) -> str:
    return "[" * n + "]" * n


BAD = {
    "not json": "not json",
    "a list": "[1, 2]",
    "pid as text": '{"kind": "outcome", "batch": "b", "pid": "abc", "start_time": 1, "from": "/", "to": "/a", '
                   '"outcome": "moved", "errno": null}',
    "pid NaN": '{"kind": "outcome", "batch": "b", "pid": NaN, "start_time": 1, "from": "/", "to": "/a", '
               '"outcome": "moved", "errno": null}',
    "pid zero": '{"kind": "outcome", "batch": "b", "pid": 0, "start_time": 1, "from": "/", "to": "/a", '
                '"outcome": "moved", "errno": null}',
    "pid true": '{"kind": "outcome", "batch": "b", "pid": true, "start_time": 1, "from": "/", "to": "/a", '
                '"outcome": "moved", "errno": null}',
    "start_time list": '{"kind": "outcome", "batch": "b", "pid": 3, "start_time": [1], "from": "/", "to": "/a", '
                       '"outcome": "moved", "errno": null}',
    "start_time inf": '{"kind": "outcome", "batch": "b", "pid": 3, "start_time": Infinity, "from": "/", '
                      '"to": "/a", "outcome": "moved", "errno": null}',
    "from int": '{"kind": "outcome", "batch": "b", "pid": 3, "start_time": 1, "from": 7, "to": "/a", '
                '"outcome": "moved", "errno": null}',
    "from with ..": '{"kind": "outcome", "batch": "b", "pid": 3, "start_time": 1, "from": "/a/../../etc", '
                    '"to": "/a", "outcome": "moved", "errno": null}',
    "from relative": '{"kind": "outcome", "batch": "b", "pid": 3, "start_time": 1, "from": "a", "to": "/a", '
                     '"outcome": "moved", "errno": null}',
    "unknown outcome": '{"kind": "outcome", "batch": "b", "pid": 3, "start_time": 1, "from": "/", "to": "/a", '
                       '"outcome": "teleported", "errno": null}',
    "deep nesting": '{"kind": "outcome", "batch": "b", "pid": ' + _deep(100_000) + "}",
    "intent tasks not a list": '{"kind": "intent", "batch": "b", "time": "t", "hierarchy": "freezer", '
                               '"threads": false, "undo_of": null, "target": "/a", "tasks": 3}',
    "legacy pid text": json.dumps(legacy_row("b9", 1) | {"pid": "abc"}),
    "unknown kind": '{"kind": "nope", "batch": "b"}',
}


@pytest.mark.parametrize("name", list(BAD))
def test_every_bad_line_is_one_error_naming_file_and_line(k, tmp_path, name):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps(good_batch("b1")[0]) + "\n" + BAD[name] + "\n"
                    + "".join(json.dumps(r) + "\n" for r in good_batch("b1")[1:]))
    with pytest.raises(JournalCorrupt) as info:
        Journal(str(path)).batches()
    msg = str(info.value)
    assert f"{path} is corrupt at line 2" in msg and "\n" not in msg
    e = engine(k, path)
    with pytest.raises(JournalCorrupt, match="line 2"):
        e.undo()


def test_unreadable_journal_names_errno_and_what_to_do(tmp_path):
    path = tmp_path / "dir.jsonl"
    path.mkdir()
    with pytest.raises(CtrtuiError) as e:
        Journal(str(path)).batches()
    assert "EISDIR" in str(e.value) and "--journal" in str(e.value)


def test_lines_of_the_earlier_format_are_closed_batches(k, tmp_path):
    path = tmp_path / "j.jsonl"
    p = k.spawn("a")
    k.place(p, "freezer", "/a")
    start = k.task_state(p).start_time
    rows = [legacy_row("old1", p) | {"start_time": start}, legacy_row("old1", 99, "refused")]
    write_lines(path, rows)
    j = Journal(str(path))
    assert [(b.id, b.status()) for b in j.batches()] == [("old1", "done")]
    u = engine(k, path).undo()
    assert u.undo_of == "old1" and where(k, p) == "/"


# A line whose every field may be any JSON value: a clean error or a correct undo.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
FIELDS = ("kind", "batch", "pid", "start_time", "from", "to", "outcome", "errno", "hierarchy", "threads",
          "undo_of", "tasks", "target", "state", "time")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 2), field=st.sampled_from(FIELDS), value=json_values)
def test_any_json_value_in_any_field_is_a_clean_error_or_a_correct_undo(tmp_path_factory, which, field, value):
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    p = k.spawn("a")
    start = k.task_state(p).start_time
    rows = good_batch("b1", p, start)
    rows[which] = dict(rows[which]) | {field: value}
    path = tmp_path_factory.mktemp("hyp") / "j.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    k.place(p, "freezer", "/a")
    e = engine(k, path)
    try:
        u = e.undo()
    except CtrtuiError as err:
        assert "\n" not in str(err) and str(path) in str(err)
        assert where(k, p) == "/a"
        return
    # valid: the task either went back to a valid source, or nothing was undone
    moved = {o.pid: o.target for o in (u.outcomes if u is not None else ()) if o.outcome == "moved"}
    for pid, target in moved.items():
        assert where(k, pid) == target
    if p not in moved:
        assert where(k, p) == "/a"


# ---------------------------------------------------------------------- rotation


def test_rotation_keeps_every_undoable_batch_and_their_undos(k, tmp_path):
    path = tmp_path / "j.jsonl"
    e = engine(k, path, max_bytes=4000)
    keep_moved = k.spawn("keep")
    first = e.apply(e.plan([keep_moved], CgroupRef("freezer", "/a")))
    partly = [k.spawn("p1"), k.spawn("p2")]
    k.mkdir("freezer", "/z")
    k.place(partly[1], "freezer", "/z")
    second = e.apply(e.plan(partly, CgroupRef("freezer", "/a")))
    k.rmdir("freezer", "/z")
    e.undo()  # partly undone: p2's source is gone
    for i in range(40):  # churn: moved and undone at once
        t = k.spawn(f"c{i}")
        e.apply(e.plan([t], CgroupRef("freezer", "/b")))
        e.undo()
    assert os.path.getsize(path) < 12000 and os.path.exists(str(path) + ".1")
    first_line = path.read_text().splitlines()[0]
    assert json.loads(first_line)["kind"] == "header"
    j = Journal(str(path))
    states = {b.id: b.status() for b in j.batches()}
    assert states[first.batch_id] == "done" and states[second.batch_id] == "partly undone"
    k.mkdir("freezer", "/z")
    assert e.undo().undo_of == second.batch_id and where(k, partly[1]) == "/z"
    assert e.undo().undo_of == first.batch_id and where(k, keep_moved) == "/"
    assert e.undo() is None


def test_reading_backwards_stops_at_what_it_needs(tmp_path, monkeypatch):
    path = tmp_path / "j.jsonl"
    rows = []
    for i in range(3000):
        rows += good_batch(f"b{i}", 10 + i % 100)
    write_lines(path, rows)
    j = Journal(str(path))
    reads = []
    real = os.pread
    monkeypatch.setattr(os, "pread", lambda fd, n, off: (reads.append(n), real(fd, n, off))[1])
    assert j.find_undoable().id == "b2999"
    assert sum(reads) <= 2 * 65536 < os.path.getsize(path) / 2


def test_outcomes_that_cannot_be_written_leave_the_batch_open_for_undo(k, tmp_path, monkeypatch):
    import errno

    path = tmp_path / "j.jsonl"
    e = engine(k, path)
    pids = [k.spawn("a"), k.spawn("b")]
    real = e.journal.write_close

    def full(batch_id, outcomes, state):
        raise JournalError(str(path), "write the outcomes to", OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(e.journal, "write_close", full)
    r = e.apply(e.plan(pids, CgroupRef("freezer", "/a")))
    assert r.ok and r.journaled and all(where(k, p) == "/a" for p in pids)
    assert any("could not be written" in w and "ENOSPC" in w and "/proc" in w for w in r.warnings)
    assert Journal(str(path)).batches()[0].status() == "open"
    monkeypatch.setattr(e.journal, "write_close", real)
    u = e.undo()
    assert u.undo_of == r.batch_id and all(where(k, p) == "/" for p in pids)
