"""The journal: one fsync'd JSON line per PID, torn last lines forgiven, corruption named."""

from __future__ import annotations

import json
import os

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy, default_journal_path
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef
from ctrtui.sources.simulated import SimKernel


@pytest.fixture
def k() -> SimKernel:
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    return k


def row(batch: str, pid: int, outcome: str = "moved", undo_of: str | None = None) -> dict:
    return {"time": "t", "batch": batch, "pid": pid, "start_time": 5, "hierarchy": "freezer",
            "from": "/", "to": "/a", "outcome": outcome, "errno": None, "threads": False, "undo_of": undo_of}


def test_default_paths_follow_xdg_and_keep_the_demo_apart(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_journal_path("real") == str(tmp_path / "ctrtui" / "journal.jsonl")
    assert default_journal_path("demo") == str(tmp_path / "ctrtui" / "demo-journal.jsonl")
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_journal_path() == str(tmp_path / "home" / ".local" / "state" / "ctrtui" / "journal.jsonl")


def test_engine_writes_one_line_per_pid_with_every_field(k, tmp_path):
    path = tmp_path / "state" / "ctrtui" / "journal.jsonl"  # directories made on first write
    p, q = k.spawn("a"), k.spawn("b")
    e = AttachEngine(k, policy=Policy(), journal=Journal(str(path)), load_entry_points=False)
    r = e.apply(e.plan([p, q, "abc"], CgroupRef("freezer", "/a")))
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    rows = [json.loads(x) for x in lines]
    assert {tuple(sorted(x)) for x in rows} == {("batch", "errno", "from", "hierarchy", "outcome", "pid",
                                                  "start_time", "threads", "time", "to", "undo_of")}
    assert [x["pid"] for x in rows] == [p, q, None]
    assert [x["outcome"] for x in rows] == ["moved", "moved", "refused"]
    assert rows[0]["batch"] == r.batch_id and rows[0]["from"] == "/" and rows[0]["to"] == "/a"
    assert rows[0]["start_time"] == k.task_state(p).start_time and rows[0]["undo_of"] is None
    u = e.undo()
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert len(rows) == 5 and {x["undo_of"] for x in rows[3:]} == {r.batch_id}
    assert rows[3]["from"] == "/a" and rows[3]["to"] == "/" and u.batch_id == rows[3]["batch"]


def test_torn_last_line_is_ignored_with_a_warning_and_cut_before_the_next_append(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps(row("b1", 10)) + "\n" + '{"batch": "b2", "pid": 1')
    j = Journal(str(path))
    assert [r["batch"] for r in j.entries()] == ["b1"]
    assert len(j.warnings) == 1 and "torn" in j.warnings[0]
    assert j.last_undoable()[0] == "b1"
    j.append([row("b3", 11)])
    assert any("cut off a torn" in w for w in j.warnings)
    assert [r["batch"] for r in Journal(str(path)).entries()] == ["b1", "b3"]
    assert path.read_text().endswith("\n")


def test_complete_last_line_without_newline_is_kept(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps(row("b1", 10)))
    j = Journal(str(path))
    j.append([row("b2", 11)])
    assert [r["batch"] for r in Journal(str(path)).entries()] == ["b1", "b2"]


@pytest.mark.parametrize("bad", ["not json", '{"batch": "x"}', "[1, 2]"])
def test_corrupt_line_in_the_middle_names_file_and_line(tmp_path, bad):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps(row("b1", 10)) + "\n" + bad + "\n" + json.dumps(row("b2", 11)) + "\n")
    with pytest.raises(CtrtuiError) as info:
        Journal(str(path)).entries()
    msg = str(info.value)
    assert str(path) in msg and "line 2" in msg and "\n" not in msg


def test_a_complete_bad_last_line_is_corruption_not_a_tear(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps(row("b1", 10)) + "\nnot json\n")
    with pytest.raises(CtrtuiError, match="line 2"):
        Journal(str(path)).entries()


def test_unreadable_journal_is_a_ctrtui_error(tmp_path):
    path = tmp_path / "dir.jsonl"
    path.mkdir()
    with pytest.raises(CtrtuiError, match="cannot read journal"):
        Journal(str(path)).entries()


def test_last_undoable_skips_undo_batches_undone_batches_and_batches_that_moved_nothing(tmp_path):
    j = Journal(str(tmp_path / "j.jsonl"))
    assert j.last_undoable() is None
    j.append([row("b1", 10), row("b1", 11, "refused")])
    j.append([row("b2", 12)])
    j.append([row("b3", 12, "refused")])
    assert j.last_undoable()[0] == "b2"
    j.append([row("u1", 12, undo_of="b2")])
    batch, rows = j.last_undoable()
    assert batch == "b1" and len(rows) == 2
    j.append([row("u2", 10, undo_of="b1")])
    assert j.last_undoable() is None


def test_in_memory_journal(k):
    j = Journal(None)
    j.append([row("b1", 1)])
    assert j.entries()[0]["batch"] == "b1" and j.path is None


def test_a_journal_that_cannot_be_written_does_not_lose_the_report(k, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = k.spawn("a")
    e = AttachEngine(k, policy=Policy(), journal=Journal(str(blocker / "sub" / "j.jsonl")),
                     load_entry_points=False)
    r = e.apply(e.plan([p], CgroupRef("freezer", "/a")))
    assert r.ok and r.outcomes[0].outcome == "moved"
    assert "could not be written" in r.warnings[0] and e.warnings == list(r.warnings)


def test_appends_are_fsynced(monkeypatch, tmp_path):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    Journal(str(tmp_path / "j.jsonl")).append([row("b1", 1), row("b1", 2)])
    assert len(synced) == 1


def test_unreadable_journal_names_errno_and_what_to_do(tmp_path):
    path = tmp_path / "dir.jsonl"
    path.mkdir()
    with pytest.raises(CtrtuiError) as e:
        Journal(str(path)).entries()
    assert "EISDIR" in str(e.value) and "--journal" in str(e.value)
