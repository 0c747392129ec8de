"""The journal's fast paths give what the plain ones give: the outcome lines written column by
column (`ctrtui.engine.records.outcome_lines`) are the bytes the row-by-row path writes, and
only rows the reader accepts take that way (a refused input's row, pid null, goes row by
row); a line read (`loads`) is the value, or the refusal, of json's own framing."""

from __future__ import annotations

import json
import random

import pytest

from ctrtui.engine.journal import Journal
from ctrtui.engine.records import _DECODER, VERSION, BadRecord, dumps, loads, outcome_lines, validate

_VALUES = {
    "pid": [1, 4194304, 0, -1, 4194305, None, True, 1.5, "7", 2**70],
    "start_time": [None, 0, 2**63, -1, 2**63 + 1, "x", False, 12345],
    "from": [None, "/", "/a/b", "a", "/a/../b", "/é\u2028\"%s", "", "/x\0y", 5, "/" + "a" * 5000],
    "to": ["/", "/t", "/t/./u", None, "/%(x)s\\", 3],
    "outcome": ["moved", "already-there", "refused", "vanished", "not-moved", "rolled-back", "gone", None],
    "errno": [None, "EPERM", "errno 13", "eperm", "E", 13, "ESRCH\n"],
}
_GOOD = {"pid": 4242, "start_time": 99, "from": "/a", "to": "/b", "outcome": "moved", "errno": None}


def _row(rng: random.Random, bad: float) -> dict[str, object]:
    return {k: rng.choice(v) if rng.random() < bad else _GOOD[k] for k, v in _VALUES.items()}


def _slow(batch: str, rows: list[dict[str, object]]) -> bytes | None:
    recs = [{"kind": "outcome", "version": VERSION, "batch": batch, **r} for r in rows]
    try:
        for r in recs:
            validate(r)
    except BadRecord:
        return None
    return b"".join(dumps(r) for r in recs)


def test_outcome_lines_are_the_row_by_row_bytes_for_exactly_the_rows_the_reader_accepts() -> None:
    rng = random.Random(7)
    fast_seen = refused_seen = 0
    for _ in range(4000):
        batch = rng.choice(["b-1", "20261207T120000-abc", "bad id", ""])
        rows = [_row(rng, rng.choice([0.0, 0.05, 0.5])) for _ in range(rng.randrange(1, 6))]
        fast, slow = outcome_lines(batch, rows), _slow(batch, rows)
        if fast is not None:  # taken: the same bytes, and only for rows the reader accepts
            assert fast == slow, rows
        if slow is None:
            assert fast is None, rows
        fast_seen += fast is not None
        refused_seen += slow is None
    assert fast_seen > 500 and refused_seen > 500


def test_other_shapes_go_row_by_row() -> None:
    row = dict(_GOOD)
    assert outcome_lines("b-1", [row]) is not None
    assert outcome_lines("b-1", [{**row, "input": "abc"}]) is None
    assert outcome_lines("b-1", [dict(reversed(list(row.items())))]) is None
    assert outcome_lines("b-1", [{**row, "pid": [1]}]) is None
    assert outcome_lines("b-1", []) is None


def test_write_close_writes_the_same_journal_either_way() -> None:
    good = [dict(_GOOD, pid=p) for p in range(1, 50)]
    odd = [*good, {"pid": None, "start_time": None, "from": None, "to": "/b", "outcome": "refused",
                   "errno": "ENOENT", "input": "x"}]
    for rows in (good, odd):
        j = Journal(None)
        j.write_close("b-1", rows, "done")
        lines = bytes(j._memory).splitlines(keepends=True)
        assert lines[:-1] == [dumps({"kind": "outcome", "version": VERSION, "batch": "b-1", **r}) for r in rows]


def _reference(line: bytes) -> object:
    try:
        return _DECODER.decode(line.decode(json.detect_encoding(line), "surrogatepass"))
    except RecursionError:
        raise BadRecord("nested too deeply") from None
    except ValueError as e:
        raise BadRecord(f"not JSON ({e})") from None


@pytest.mark.parametrize("line", [
    b'{"kind": "outcome", "pid": 1}', b'{"a": 1} ', b'{"a": 1}\n', b'{"a": 1}{"b": 2}', b'{"a": 1', b'{"a": NaN}',
    b'{"a": "\xc3\xa9\\ud800"}', b'{"a": "\xff"}', b'{"a": 1} x', b' {"a": 1}', b'{"', b'{"a": [' * 3000,
    '{"a": 1}'.encode("utf-16"), '{"a": 1}'.encode("utf-16-le"), b"\xef\xbb\xbf{\"a\": 1}", b"[1, 2]", b"",
    b'{"a": Infinity}', b'{"a": -Infinity} ',
])
def test_loads_reads_a_line_as_json_does(line: bytes) -> None:
    try:
        want: object = _reference(line)
    except BadRecord as e:
        with pytest.raises(BadRecord) as got:
            loads(line)
        assert str(got.value) == str(e)
    else:
        assert loads(line) == want
