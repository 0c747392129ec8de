"""A full snapshot's task table (`ctrtui.history.records.TaskTable`, docs/history.md) reads
back what was packed, and a table whose TIDs are not ascending positive numbers is damaged."""

from __future__ import annotations

import zlib

import pytest

from ctrtui.history.records import Damaged, TaskTable


def table(tids):
    return TaskTable.encode(tids, [(100 + t, t, f"c{t}") for t in tids])


def test_a_task_table_reads_back_what_was_packed():
    t = TaskTable.decode(table([1, 7, 300, 4194304]))
    assert t.get(300) == [300, 400, 300, "c300"] and t.get(8) is None and 1 in t


@pytest.mark.parametrize("tids", [[5, 3], [3, 3], [0, 4], [-2, 4], [1, 9, 9, 12]])
def test_a_task_table_not_ascending_positive_is_damaged(tids):
    with pytest.raises(Damaged, match="not ascending positive TIDs"):
        TaskTable.decode(table(tids))


def test_where_reads_a_full_snapshot_in_place_refusing_what_ls_at_refuses(tmp_path):
    """`where` looks into a full snapshot's wire form without building it (`find_in_wire`):
    the same rows as the rebuilt world says, a torn tail ignored, and a full snapshot whose
    member data is hostile (PID 0, its checksum made right) refused as `ls --at` refuses it."""
    from ctrtui.history import HistoryError, Recorder, Recording
    from ctrtui.history.records import FILE_HEADER, RECORD, U32
    from tests.unit.test_history import T0, files, small_world, take

    d = tmp_path / "h"
    k = small_world()
    pid = k.spawn("x", cgroups={"unified": "/a", "freezer": "/b"})
    with Recorder(str(d), fsync=False) as rec:
        take(rec, k, T0)
        k.place(pid, "unified", "/c")
        take(rec, k, T0 + 5)
    path = d / files(d)[0]
    path.write_bytes(path.read_bytes() + RECORD.pack(b"D", 999, T0 + 10, 0) + b"cut")  # a torn tail
    r = Recording(str(d))
    assert r.warnings and sorted((x["hierarchy"], x["cgroup"], x["entered"], x["left"]) for x in r.where(pid)) == [
        ("freezer", "/b", None, None), ("unified", "/a", None, T0 + 5), ("unified", "/c", T0 + 5, None)]

    data = path.read_bytes()
    start, _, t, n = r.files[0].records[0]
    payload = data[start:start + n]
    w = int.from_bytes(payload[:4], "big")
    wire = payload[4:4 + w]
    raw = zlib.decompress(wire[6:])
    h = int.from_bytes(raw[:4], "big")
    bad = wire[:6] + zlib.compress(raw[:4 + h] + b"\0\0\0\0" + raw[4 + h + 4:])
    payload = U32.pack(len(bad)) + bad + payload[4 + w:]
    path.write_bytes(data[:len(FILE_HEADER)] + RECORD.pack(b"F", len(payload), t, zlib.crc32(payload)) + payload
                     + data[start + n:])
    r = Recording(str(d))
    with pytest.raises(HistoryError, match="damaged at record 3: its task index does not describe the records"):
        r.where(pid)  # the file's task index was written for the snapshot as it was: it no longer holds
    r = Recording(str(d), use_index=False)
    refusal = "damaged at record 1: malformed snapshot: member lists are not positive"
    for ask in (lambda: r.where(pid), lambda: r.snapshot_at(T0)):
        with pytest.raises(HistoryError, match=refusal):
            ask()
    assert r.where(4242) == []  # a PID in no task table: the snapshot is not looked into
