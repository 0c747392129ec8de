"""The `I` record (ctrtui/history/taskindex.py, docs/history.md "I: the task index"): written
when the recorder closes a file (at rotation and at a clean close), absent from a file cut
short, read by `where` instead of the file's first full snapshot, refused with one sentence
when damaged or hostile, and never changing an answer."""

from __future__ import annotations

import json
import random
import zlib

import pytest

from ctrtui.history import HistoryError, Recorder, Recording
from ctrtui.history.records import RECORD, U32
from ctrtui.history.taskindex import IndexBuilder
from ctrtui.model.snapshot import Snapshot
from tests.unit.test_history import T0, cut_index, files, small_world, take


def _kinds(d, name) -> list[bytes]:
    return [kind for _, kind, _, _ in Recording(str(d / name)).files[0].records]


def _churned(tmp_path, seed: int = 5, samples: int = 60, max_size: int = 24 * 1024, back: int = 42,
             away: int = 38):
    """A recording of several files (rotation at an eighth of `max_size`): tasks moving,
    coming and going, PIDs reused, a cgroup made and removed, a task that never moves, a
    hierarchy that goes away at sample 40 (and comes back at `back`). Returns the directory
    and every PID it saw."""
    k = small_world()
    rng = random.Random(seed)
    pids = [k.spawn(f"t{i}", threads=1 + i % 2, cgroups={"freezer": "/a", "unified": "/b"}) for i in range(12)]
    seen = set(pids) | {k.spawn("still", cgroups={"freezer": "/c", "unified": "/c"})}
    d = tmp_path / "h"
    with Recorder(str(d), max_size=max_size, full_every=7, fsync=False) as rec:
        for n in range(samples):
            for _ in range(3):
                pid = rng.choice(pids)
                k.place(pid, rng.choice(("freezer", "unified")), rng.choice(("/a", "/b", "/c")))
            if n % 5 == 2:
                k.exit(pids.pop(0), reap=True)
                pids.append(k.spawn(f"n{n}", cgroups={"unified": "/c"}))
                seen.add(pids[-1])
            if n == 20:
                k.mkdir("unified", "/d")
                k.place(pids[-1], "unified", "/d")
            if n == 30:
                for tid in k.snapshot()["unified"]["/d"].threads:
                    k.place(tid, "unified", "/a")
                k.rmdir("unified", "/d")
            snap = k.snapshot()
            if away <= n < back:  # freezer unmounted for a while
                snap = Snapshot(tuple(hs for hs in snap.hierarchies if hs.name != "freezer"), snap.taken_at, "sim")
            details = k.task_details(rec.new_tasks(snap))
            rec.sample(snap, {t: (i.start_time, i.tgid, i.comm) for t, i in details.items()}, t=T0 + 5 * n)
    return d, sorted(seen | {t for t in k.tasks})


def test_the_index_is_written_at_rotation_and_at_a_clean_close_and_not_by_a_killed_recorder(tmp_path):
    d, _ = _churned(tmp_path)
    names = files(d)
    assert len(names) >= 3
    for name in names:  # every file the recorder closed, rotated or at the end, ends with its index
        kinds = _kinds(d, name)
        assert kinds[0] == b"F" and kinds[-1] == b"I" and kinds.count(b"I") == 1
    r = Recording(str(d))
    ix = r.task_index(r.files[0])
    assert ix is not None and ix.full == 0 and [h.name for h in ix.hierarchies] == ["freezer", "unified"]
    k = small_world()
    k.spawn("x", cgroups={"unified": "/a"})
    live = tmp_path / "live"
    rec = Recorder(str(live), fsync=False)
    rec.open()
    try:
        take(rec, k, T0)
        take(rec, k, T0 + 5)  # the file being written (or left by kill -9): no index yet, read as before
        assert _kinds(live, files(live)[0]) == [b"F", b"D"]
        r = Recording(str(live))
        assert r.task_index(r.files[0]) is None and len(r.where(min(k.tasks))) == 2
    finally:
        rec.close()
    assert _kinds(live, files(live)[0]) == [b"F", b"D", b"I"]


@pytest.mark.parametrize("back", [42, 99])
def test_answers_are_the_same_with_and_without_the_index(tmp_path, back):
    """Every PID the recording saw (and two it never saw), over the whole recording and over
    windows starting inside files: the rows read through the files' indexes are those read
    from their full snapshots, and those of a file whose index was cut off. (`back` 99: the
    hierarchy never comes back, so the task that never moves is not listed by the delta that
    ends its rows there.)"""
    d, pids = _churned(tmp_path, back=back)
    with_ix, without = Recording(str(d)), Recording(str(d), use_index=False)
    indexes = [with_ix.task_index(f) for f in with_ix.files]
    assert all(ix is not None for ix in indexes)
    assert any(ix.gone and any((at := ix.find(p)) is not None and not at[1] for p in pids)
               for ix in indexes if ix is not None)  # a task only a `gone` delta concerns: that delta is read
    first, last = with_ix.span()
    windows = [(None, None), (first + 12, None), (first + 101, first + 190), (first + 200, last - 3)]
    for pid in [*pids, 4242, 1]:
        for since, until in windows:
            assert with_ix.where(pid, since, until) == without.where(pid, since, until), (pid, since, until)
    rows = {pid: without.where(pid) for pid in pids}
    cut_index(d / files(d)[1])  # one file as a killed recorder leaves it: the others still use theirs
    r = Recording(str(d))
    assert r.task_index(r.files[1]) is None and r.task_index(r.files[0]) is not None
    assert {pid: r.where(pid) for pid in pids} == rows


def test_a_file_the_task_never_enters_is_skipped_and_its_snapshot_not_read(tmp_path, monkeypatch):
    from ctrtui.history.index import RecordIndex

    d, pids = _churned(tmp_path, samples=30)

    def never(*args):
        raise AssertionError("a full snapshot was read")

    monkeypatch.setattr(RecordIndex, "full_find", never)
    monkeypatch.setattr(RecordIndex, "full_tasks", never)
    r = Recording(str(d))
    assert r.where(4242) == [] and r.where(pids[0])


def _rewrite_index(path, change) -> None:
    """The file's I record with its payload changed by `change(payload) -> payload`, its
    checksum made right (a hostile or buggy writer, not a torn write)."""
    f = Recording(str(path)).files[0]
    start, kind, t, n = f.records[-1]
    assert kind == b"I"
    data = path.read_bytes()
    payload = change(data[start:start + n])
    path.write_bytes(data[:start - RECORD.size] + RECORD.pack(b"I", len(payload), t, zlib.crc32(payload)) + payload)


def _head(payload: bytes) -> tuple[dict, bytes]:
    n = U32.unpack_from(payload, 0)[0]
    return json.loads(payload[4:4 + n]), payload[4 + n:]


def _with_head(doc: dict, rest: bytes) -> bytes:
    js = json.dumps(doc).encode()
    return U32.pack(len(js)) + js + rest


def _edit(**fields):
    def change(payload: bytes) -> bytes:
        doc, rest = _head(payload)
        doc.update(fields)
        return _with_head(doc, rest)
    return change


def _swap_tids(payload: bytes) -> bytes:
    doc, rest = _head(payload)
    return _with_head(doc, rest[4:8] + rest[:4] + rest[8:])  # the first two TIDs out of order


def _bad_cgroup(payload: bytes) -> bytes:
    doc, rest = _head(payload)
    n = doc["n"]
    at = 12 * n  # the first hierarchy's cgroup ids
    return _with_head(doc, rest[:at] + U32.pack(0x7FFFFFFF)[::-1] * n + rest[at + 4 * n:])


HOSTILE = [
    (lambda p: b"\0\0", "its task index has no header length"),
    (lambda p: U32.pack(len(p)) + p[4:], "its task index header is longer than its record"),
    (lambda p: U32.pack(2) + b"[]" + p, "its task index header is not"),
    (_edit(n=1 << 30), "its task index lists more than"),
    (_edit(n=0, m=0), "its task index does not list the tasks of the file's first full snapshot"),
    (_edit(n=10 ** 6), "its task index arrays do not fit its record"),
    (_edit(records=1), "its task index does not describe the records before it"),
    (_edit(crc=12345), "its task index does not describe the records before it"),
    (_edit(full=1), "its task index does not describe the file's first full snapshot"),
    (_edit(h=[{"name": "x"}]), "its task index hierarchies are not"),
    (_edit(gone=[10 ** 6]), "its task index's records where a hierarchy went are not record numbers"),
    (_swap_tids, "its task index TIDs are not ascending positive TIDs"),
    (_bad_cgroup, "its task index names a cgroup"),
    (lambda p: p[:-2] + b"{}", "its task index paths"),
]


@pytest.mark.parametrize(("change", "why"), HOSTILE)
def test_a_damaged_or_hostile_index_is_refused_in_one_sentence(tmp_path, change, why):
    k = small_world()
    pid = k.spawn("x", cgroups={"unified": "/a", "freezer": "/b"})
    d = tmp_path / "h"
    with Recorder(str(d), fsync=False) as rec:
        take(rec, k, T0)
        k.place(pid, "unified", "/c")
        take(rec, k, T0 + 5)
    path = d / files(d)[0]
    right = Recording(str(d), use_index=False).where(pid)
    _rewrite_index(path, change)
    with pytest.raises(HistoryError) as e:
        Recording(str(d)).where(pid)
    msg = str(e.value)
    assert why in msg and "damaged at record 3" in msg and msg.count(".ctrh") == 1 and "\n" not in msg
    assert Recording(str(d), use_index=False).where(pid) == right  # the records themselves still read


def test_a_torn_index_is_a_torn_tail_and_an_index_not_last_is_refused(tmp_path):
    k = small_world()
    pid = k.spawn("x", cgroups={"unified": "/a"})
    d = tmp_path / "h"
    with Recorder(str(d), fsync=False) as rec:
        take(rec, k, T0)
        take(rec, k, T0 + 5)
    path = d / files(d)[0]
    right = Recording(str(d)).where(pid)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # the index's bytes changed: its checksum is wrong, it is a torn tail
    path.write_bytes(bytes(data))
    r = Recording(str(d))
    assert r.warnings and "torn tail" in r.warnings[0] and r.task_index(r.files[0]) is None
    assert r.where(pid) == right
    with Recorder(str(d), fsync=False) as rec:  # the next recorder cuts the torn index off
        assert "cut off a torn tail" in rec.warnings[0]
    good = d / files(d)[0]
    f = Recording(str(good)).files[0]
    start, _, t, n = f.records[1]
    data = good.read_bytes()
    assert IndexBuilder().payload() is None  # a file without a full snapshot gets no index
    payload = b"\0" * 8
    moved = data[:start - RECORD.size] + RECORD.pack(b"I", len(payload), t, zlib.crc32(payload)) + payload
    good.write_bytes(moved + data[start - RECORD.size:])
    with pytest.raises(HistoryError, match="damaged at record 2: a task index that is not the file's last record"):
        Recording(str(good)).where(pid)


def test_a_task_listed_twice_in_a_hierarchy_is_where_the_snapshot_says(tmp_path):
    """A read racing a move can list a TID in two cgroups of one hierarchy: the index names
    the first, as the full snapshot read in place does (`find_in_wire`)."""
    from array import array
    from types import MappingProxyType

    from ctrtui.model.snapshot import Container, HierarchySnapshot

    k = small_world()
    pid = k.spawn("x", cgroups={"unified": "/c", "freezer": "/b"})
    snap = k.snapshot()
    hs = snap["unified"]
    a = hs.containers["/a"]
    raced = dict(hs.containers)
    raced["/a"] = Container("/a", a.children, array("i", sorted([*a.threads, pid])), a.procs)
    hss = tuple(HierarchySnapshot(h.hierarchy, MappingProxyType(raced)) if h.name == "unified" else h
                for h in snap.hierarchies)
    d = tmp_path / "h"
    with Recorder(str(d), fsync=False) as rec:
        rec.sample(Snapshot(hss, T0, "sim"), {pid: (7, pid, "x")}, t=T0)
        rec.sample(k.snapshot(), t=T0 + 5)
    rows = Recording(str(d)).where(pid)
    assert rows == Recording(str(d), use_index=False).where(pid)
    assert ("unified", "/a") in {(r["hierarchy"], r["cgroup"]) for r in rows}


def test_no_index_follows_a_write_that_failed(tmp_path, monkeypatch):
    """A record cut by a failed write (a full disk) is a torn tail: the recorder closing the
    file writes no index after it, and the next one cuts the tail."""
    import os as os_module

    from ctrtui.history import writer

    k = small_world()
    pid = k.spawn("x", cgroups={"unified": "/a"})
    d = tmp_path / "h"
    rec = Recorder(str(d), fsync=False)
    rec.open()
    try:
        take(rec, k, T0)
        k.place(pid, "unified", "/b")
        real = os_module.write

        def half(fd, data):
            real(fd, bytes(data[:len(data) // 2]))
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(writer.os, "write", half)
        with pytest.raises(HistoryError, match="No space left|ENOSPC"):
            take(rec, k, T0 + 5)
        monkeypatch.setattr(writer.os, "write", real)
        torn = os_module.path.getsize(d / files(d)[0])
    finally:
        rec.close()
    assert os_module.path.getsize(d / files(d)[0]) == torn  # nothing written after the torn bytes
    r = Recording(str(d))
    assert r.warnings and "torn tail" in r.warnings[0]
    assert [kind for _, _, kind, _ in r.index] == [b"F"] and r.task_index(r.files[0]) is None
