"""The codec of the history operations (docs/remote.md, "history"): what crosses between the
local side and a host's agent for `ls --at`, `tasks --at`, `where`, `diff`, `replay` and
`record --host`, as JSON-able values and back, each field's type and range checked as
ctrtui/service/codec.py checks the others (the other side is hostile), `CodecError` otherwise.

Values: `RecordedSample` (its snapshot in the wire form of docs/wire.md, base64, its unpacking
bounded by ctrtui.model.wire; its tasks as four parallel lists), `RecordedFigures` (the
cgroups' recorded figures as parallel columns, one row per path asked), `Timeline` (sample times,
the journal's batches as `J` records keep them), `where` and `diff` rows (as `ctrtui where
--json` and `ctrtui diff --json` print them), `RecorderState`.

This module travels to hosts (ctrtui/remote/bundle.py): standard library only, Python 3.9.
"""

from __future__ import annotations

import base64
import binascii
import math

from ctrtui.model.cgstats import PRESSURE, Figures
from ctrtui.service.codec import MAX_INT, MAX_ITEMS, PID_LIMIT, CodecError, _Fields, _path
from ctrtui.service.values import RecordedFigures, RecordedSample, RecorderState, Timeline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

__all__ = [
    "DIFF_CHANGES", "FIGURE_COLUMNS", "MAX_BATCH_ID", "MAX_COMM", "MAX_SAMPLES", "decode_diff", "decode_figures",
    "decode_recorder", "decode_sample", "decode_timeline", "decode_warnings", "decode_where", "encode_diff",
    "encode_figures", "encode_recorder", "encode_sample", "encode_timeline", "encode_where",
]

MAX_COMM = 64
"""The longest task name a recording keeps (characters; the kernel's is 15 bytes)."""
MAX_BATCH_ID = 200
"""The longest batch id (characters)."""
MAX_SAMPLES = 10_000_000
"""The most samples one recording holds (a year of samples every 5 s is 6.3 million)."""
DIFF_CHANGES = ("hierarchy-added", "hierarchy-removed", "cgroup-added", "cgroup-removed", "task-added",
                "task-removed", "task-moved")
"""What a `diff` row's `change` may be (ctrtui.history.query.diff_rows)."""


# ----------------------------------------------------------------------------- a sample


def encode_sample(s: RecordedSample) -> dict[str, object]:
    from ctrtui.model.wire import to_wire

    tids = sorted(s.tasks)
    rows = [s.tasks[t] for t in tids]
    return {"index": s.index, "count": s.count, "taken_at": s.taken_at,
            "snapshot": base64.b64encode(to_wire(s.snapshot)).decode("ascii"),
            "tids": tids, "starts": [r[0] for r in rows], "tgids": [r[1] for r in rows],
            "comms": [r[2][:MAX_COMM] for r in rows]}


def decode_sample(obj: object, side: str) -> RecordedSample:
    from ctrtui.model.wire import WireError, from_wire

    f = _Fields(obj, "a recorded sample", side)
    count = f.integer("count", 1, MAX_SAMPLES)
    index = f.integer("index", 0, count - 1)
    taken_at = f.number("taken_at")
    text = f.text("snapshot", limit=MAX_ITEMS * 64)
    try:
        snap = from_wire(base64.b64decode(text.encode("ascii"), validate=True))
    except (binascii.Error, UnicodeEncodeError, ValueError, WireError) as e:
        raise f.bad(f"holds a snapshot that cannot be read ({e})") from None
    n = len(f.get("tids", (list,)))
    if n > MAX_ITEMS:
        raise f.bad(f"has more than {MAX_ITEMS} tasks")

    def column(name: str, ok: Callable[[Any], bool], what: str) -> list[Any]:
        got: list[Any] = f.get(name, (list,))
        if len(got) != n:
            raise f.bad(f"has {len(got)} '{name}' for {n} tasks")
        if not all(map(ok, got)):  # one pass, no object per item: a sample may hold 10^5 tasks
            raise f.bad(f"has '{name}' that are not all {what}")
        return got

    tids = column("tids", lambda v: type(v) is int and 0 < v <= PID_LIMIT, f"PIDs 1..{PID_LIMIT}")
    starts = column("starts", lambda v: type(v) is int and 0 <= v < MAX_INT, "start times")
    tgids = column("tgids", lambda v: type(v) is int and 0 <= v <= PID_LIMIT, f"TGIDs 0..{PID_LIMIT}")
    comms = column("comms", lambda v: type(v) is str and len(v) <= MAX_COMM and "\0" not in v,
                   f"names of at most {MAX_COMM} characters")
    return RecordedSample(index, count, taken_at, snap.replace(backend="history"),
                          {t: (s, g, c) for t, s, g, c in zip(tids, starts, tgids, comms)})


# ----------------------------------------------------------------------------- a sample's figures

_RATES = ("cpu", "read", "write")
"""`Figures`' rates: finite numbers, 0 or more."""
_GAUGES = ("memory", "pids", "pids_max", "swap")
"""`Figures`' integers: 0 .. 2^63-1."""
FIGURE_COLUMNS = (*_RATES, *_GAUGES, "frozen", *PRESSURE)
"""The columns of a `history_figures` answer: one value (or null) per path of `paths`."""


def encode_figures(r: RecordedFigures) -> dict[str, object]:
    def finite(v: float | None) -> float | None:
        return v if v is None or math.isfinite(v) else None

    paths = list(r.figures)
    rows = [r.figures[p] for p in paths]
    out: dict[str, object] = {"index": r.index, "taken_at": r.taken_at, "paths": paths}
    for name in _RATES:
        out[name] = [finite(getattr(x, name)) for x in rows]
    for name in (*_GAUGES, "frozen"):
        out[name] = [getattr(x, name) for x in rows]
    for i, name in enumerate(PRESSURE):
        out[name] = [finite(x.pressure[i]) for x in rows]
    return out


def _number(lo: float, hi: float) -> Callable[[Any], bool]:
    return lambda v: v is None or (type(v) in (int, float) and math.isfinite(v) and lo <= v <= hi)


_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    **{name: (_number(0, MAX_INT - 1), "null or finite numbers 0 or more") for name in _RATES},
    **{name: (lambda v: v is None or (type(v) is int and 0 <= v < MAX_INT), f"null or integers 0..{MAX_INT - 1}")
       for name in _GAUGES},
    "frozen": (lambda v: v is None or type(v) is bool, "null, true or false"),
    **{name: (_number(0, 100), "null or percentages 0..100") for name in PRESSURE},
}


def decode_figures(obj: object, side: str, asked: Sequence[str] = ()) -> RecordedFigures:
    """A `history_figures` answer: every column as long as `paths`, each value of its type
    and range, the paths among those `asked` (each once)."""
    f = _Fields(obj, "the figures of a recorded sample", side)
    index = f.integer("index", 0, MAX_SAMPLES - 1)
    taken_at = f.number("taken_at")
    paths: list[Any] = f.get("paths", (list,))
    wanted = set(asked)
    if len(paths) > len(wanted) or not all(type(p) is str and p in wanted for p in paths) \
            or len(set(paths)) != len(paths):
        raise f.bad("has 'paths' that are not cgroups asked for, each once")
    n = len(paths)
    cols: dict[str, list[Any]] = {}
    for name in FIGURE_COLUMNS:
        got: list[Any] = f.get(name, (list,))
        if len(got) != n:
            raise f.bad(f"has {len(got)} '{name}' for {n} cgroups")
        ok, what = _CHECKS[name]
        if not all(map(ok, got)):
            raise f.bad(f"has '{name}' that are not all {what}")
        cols[name] = got

    def number(v: float | None) -> float | None:
        return None if v is None else float(v)

    figs = {}
    for i, p in enumerate(paths):
        figs[p] = Figures(cpu=number(cols["cpu"][i]), memory=cols["memory"][i], read=number(cols["read"][i]),
                          write=number(cols["write"][i]), pids=cols["pids"][i], pids_max=cols["pids_max"][i],
                          frozen=cols["frozen"][i], swap=cols["swap"][i],
                          pressure=tuple(number(cols[name][i]) for name in PRESSURE))
    return RecordedFigures(index, taken_at, figs)


# ----------------------------------------------------------------------------- the time line


def encode_timeline(t: Timeline) -> dict[str, object]:
    return {"times": list(t.times), "batches": [_encode_batch(b) for b in t.batches]}


_MOVED = ("pid", "start", "from", "to")
_DIFF = ("hierarchy", "change", "pid", "cgroup", "from", "to")


def _zipped(rows: Sequence[Sequence[Any]], keys: Sequence[str]) -> dict[str, list[Any]]:
    """Rows as one list per column: what crosses is a few lists however many rows there are
    (an answer may hold at most 262,144 lists and objects: docs/remote.md)."""
    return {k: [r[i] for r in rows] for i, k in enumerate(keys)}


def _unzipped(f: _Fields, name: str, keys: Sequence[str], limit: int) -> list[list[Any]]:
    """The rows of the columns `name` holds (`_zipped`'s form): each column a list, all of one
    length, at most `limit`; each row then checked by its caller."""
    g = f.sub(name, f"'{name}' of {f.what}")
    assert g is not None
    cols = [g.get(k, (list,)) for k in keys]
    n = len(cols[0])
    if n > limit or any(len(c) != n for c in cols):
        raise f.bad(f"has '{name}' whose columns are not lists of one length of at most {limit}")
    return [list(r) for r in zip(*cols)]


def _encode_batch(b: dict[str, Any]) -> dict[str, object]:
    return {k: b.get(k) for k in ("batch", "time", "hierarchy", "target", "undo_of", "op", "state")} | {
        "pids": _zipped(b.get("pids") or (), _MOVED)}


def decode_timeline(obj: object, side: str) -> Timeline:
    f = _Fields(obj, "a recording's time line", side)
    times = f.items("times", MAX_SAMPLES, lambda i, v: _Fields({"t": v}, f.what, side).number("t"))
    if any(b < a for a, b in zip(times, times[1:])):
        raise f.bad("has sample times that are not in order")
    batches = f.items("batches", MAX_ITEMS, lambda i, v: _batch(_Fields(v, "a batch of the recording", side)))
    return Timeline(tuple(times), tuple(batches))


def _batch(f: _Fields) -> dict[str, Any]:
    def moved(i: int, v: object) -> list[Any]:
        if not isinstance(v, list) or len(v) != 4:
            raise f.bad(f"has 'pids[{i}]' that is not [pid, start, from, to]")
        g = _Fields(dict(zip(("pid", "start", "from", "to"), v)), f.what, f.side)
        return [g.integer("pid", 1, PID_LIMIT), g.integer("start", optional=True), _path(g, "from", True),
                _path(g, "to", True)]

    return {"batch": f.text("batch", limit=MAX_BATCH_ID), "time": f.number("time", optional=True),
            "hierarchy": f.text("hierarchy", optional=True, limit=255), "target": f.text("target", optional=True),
            "undo_of": f.text("undo_of", optional=True, limit=MAX_BATCH_ID),
            "op": f.text("op", optional=True, limit=64), "state": f.text("state", optional=True, limit=64),
            "pids": [moved(i, v) for i, v in enumerate(_unzipped(f, "pids", _MOVED, MAX_ITEMS))]}


# ----------------------------------------------------------------------------- where and diff


def encode_where(rows: list[dict[str, Any]]) -> list[dict[str, object]]:
    return [dict(r) for r in rows]


def decode_where(obj: object, side: str) -> list[dict[str, Any]]:
    if not isinstance(obj, list) or len(obj) > MAX_ITEMS:
        raise CodecError(f"{side} answered where a task was with something other than a list of rows")
    out = []
    for v in obj:
        f = _Fields(v, "a row of where a task was", side)
        out.append({"hierarchy": f.text("hierarchy", limit=255), "cgroup": _path(f, "cgroup"),
                    "pid": f.integer("pid", 1, PID_LIMIT), "start_time": f.integer("start_time", optional=True),
                    "entered": f.number("entered", optional=True), "left": f.number("left", optional=True),
                    "batch": f.text("batch", optional=True, limit=MAX_BATCH_ID),
                    "left_batch": f.text("left_batch", optional=True, limit=MAX_BATCH_ID)})
    return out


def encode_diff(rows: list[dict[str, Any]]) -> dict[str, object]:
    return {"rows": _zipped([[r.get(k) for k in _DIFF] for r in rows], _DIFF)}


def decode_diff(obj: object, side: str) -> list[dict[str, Any]]:
    """A diff's rows (the keys a row of `ctrtui.history.query.diff_rows` has, no other)."""
    if not isinstance(obj, dict):
        raise CodecError(f"{side} answered a diff with something other than its rows")
    out = []
    for r in _unzipped(_Fields(obj, "a diff", side), "rows", _DIFF, MAX_ITEMS):
        f = _Fields({k: v for k, v in zip(_DIFF, r) if v is not None}, "a row of a diff", side)
        row: dict[str, Any] = {"hierarchy": f.text("hierarchy", limit=255),
                               "change": f.choice("change", DIFF_CHANGES)}
        if "pid" in f.obj:
            row["pid"] = f.integer("pid", 1, PID_LIMIT)
        for name in ("cgroup", "from", "to"):
            if name in f.obj:
                row[name] = _path(f, name)
        out.append(row)
    return out


def decode_warnings(obj: object, side: str) -> tuple[str, ...]:
    """What reading a recording passed over: at most MAX_WARNINGS sentences (shown escaped)."""
    return _Fields({"warnings": obj}, "what reading its recording met", side).texts("warnings")


# ----------------------------------------------------------------------------- the recorder


def encode_recorder(r: RecorderState | None) -> dict[str, object] | None:
    if r is None:
        return None
    return {"directory": r.directory, "samples": r.samples, "bytes": r.bytes_written, "warnings": list(r.warnings)}


def decode_recorder(obj: object, side: str) -> RecorderState | None:
    if obj is None:
        return None
    f = _Fields(obj, "a recorder's state", side)
    return RecorderState(f.text("directory", limit=4096), f.integer("samples"), f.integer("bytes"),
                         f.texts("warnings"))
