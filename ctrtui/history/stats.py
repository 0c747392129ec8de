"""The cgroups' figures in a recording: the `S` record (docs/history.md, format version 2).

Writing: `read_stats` reads every recorded cgroup's figure files through the backend (what
`ls --stats` reads: `FIGURE_FILES`, no more) as `Reading`s; `encode_stats` packs them, keyed by the cgroup ids the
full snapshot and the deltas of the file assign, as columns of fixed-width integers (a column
none of a hierarchy's cgroups has is left out), zlib'd.

Reading: `decode_stats` checks every length and value first (`Damaged` otherwise);
`RecordedStats` answers the figures at a sample: the gauges (memory, pids, pressure, ...) of
the last `S` record at or before the sample, the rates (CPU %, IO bytes per second) over the
interval from that `S` record to the next one, the two around the sample (after the last `S`
of a file: from the one before it), both of the same file (ids are a file's own).
"""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import replace
from itertools import accumulate
from operator import attrgetter, itemgetter

from ctrtui.history.records import SWAP, U32, Damaged, dump_json, load_json, pack_ints
from ctrtui.model.cgstats import FIGURE_FILES, PRESSURE, Figures, Reading, figures, parse_reading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

    from ctrtui.history.index import RecordIndex
    from ctrtui.history.reader import MemberState
    from ctrtui.model.snapshot import Snapshot
    from ctrtui.sources.base import Reader

__all__ = ["DEFAULT_STATS_EVERY", "MAX_STATS", "STAT_COLUMNS", "RecordedStats", "StatsTable", "decode_stats",
           "encode_stats", "read_stats"]

DEFAULT_STATS_EVERY = 60
"""An `S` record every this many samples (5 minutes at 5 s); 0: none. An `S` record reads
every cgroup's figure files: ~0.27 s of CPU for the 20,000 cgroups of the generated 10k world
(10-100 µs a cgroup on a real kernel), so every 5 minutes keeps it under 0.1 % of a core, a
fifth of the recorder's budget (docs/history.md, benchmarks/RESULTS.md `record_stats_cpu_ms_10k`)."""

COUNTERS = ("cpu_usec", "memory", "io_read", "io_write", "pids", "pids_max", "swap")
"""The 8-byte columns: `Reading`'s fields of those names."""
STAT_COLUMNS = (*COUNTERS, "frozen", *PRESSURE)
"""Every column an `S` record may hold, in the order they are stored."""
WIDTH = {**dict.fromkeys(COUNTERS, 8), "frozen": 1, **dict.fromkeys(PRESSURE, 2)}
CODE = {8: "Q", 1: "B", 2: "H"}
NONE = {8: (1 << 64) - 1, 1: 255, 2: 65535}
"""The value that stands for "not there" in a column of that width."""
MAX_PRESSURE = 10000
"""Pressure is kept in hundredths of a percent: 0..10000."""
MAX_STATS = 64 * 1024 * 1024
"""The most bytes an `S` record's arrays unpack to."""
MAX_CGROUPS = 1 << 22
"""The most cgroups one hierarchy of an `S` record lists."""


def read_stats(backend: Reader, snap: Snapshot) -> dict[str, dict[str, Reading]]:
    """Hierarchy -> path -> its `Reading`, for every cgroup of `snap` whose stats files can be
    read (the reading's own time is 0: the `S` record's time is the readings')."""
    out: dict[str, dict[str, Reading]] = {}
    for hs in snap.hierarchies:
        got: dict[str, Reading] = {}
        name = hs.name
        for p in hs.containers:
            try:
                files = backend.cgroup_stats(name, p, FIGURE_FILES)
            except OSError:
                continue
            if files:
                got[p] = parse_reading(files, 0.0)
        out[name] = got
    return out


def _columns(rows: Sequence[Reading]) -> dict[str, list[int | None]]:
    """Every column's values of `rows`, in their order (pressure: one pass over the rows for
    the five, each column left as Nones without rounding when none of them has one)."""
    out: dict[str, list[int | None]] = {col: list(map(attrgetter(col), rows)) for col in COUNTERS}
    out["frozen"] = [None if f is None else int(f) for f in map(attrgetter("frozen"), rows)]
    n = len(rows)
    # no zip(strict=): a host's agent runs this on Python 3.9 (every pressure tuple has len(PRESSURE))
    per_column = zip(*[r.pressure for r in rows]) if rows else [()] * len(PRESSURE)
    for col, values in zip(PRESSURE, per_column):
        out[col] = ([None] * n if values.count(None) == n
                    else [None if v is None else x if (x := round(v * 100)) <= MAX_PRESSURE else MAX_PRESSURE
                          for v in values])
    return out


def _pack(width: int, values: list[int | None]) -> bytes:
    """Little-endian unsigned integers, `NONE` for None, stored byte plane by byte plane
    (every value's lowest byte, then the next...): zlib packs the planes of high zero bytes
    to almost nothing."""
    none = NONE[width]
    if None in values:
        a = array(CODE[width], (none if v is None else v for v in values))
    else:  # every cgroup has it: the list as it is
        a = array(CODE[width], values)  # type: ignore[arg-type]  # no None in it
    if SWAP:
        a.byteswap()
    raw = a.tobytes()
    return raw if width == 1 else b"".join(raw[i::width] for i in range(width))


def encode_stats(readings: Mapping[str, Mapping[str, Reading]], ids: Mapping[str, Mapping[str, int]]) -> bytes:
    """An `S` record's payload: each hierarchy's readings keyed by the file's cgroup ids
    (`ids`: hierarchy -> path -> id; a cgroup without an id is left out)."""
    heads: list[dict[str, Any]] = []
    body: list[bytes] = []
    for name, got in readings.items():
        idmap = ids.get(name)
        if not idmap:
            continue
        rows = [(idmap[p], r) for p, r in got.items() if p in idmap]
        rows.sort(key=itemgetter(0))
        columns = _columns([r for _, r in rows])
        cols = []
        parts = [pack_ints(_gaps([i for i, _ in rows]))]
        for col in STAT_COLUMNS:
            values = columns[col]
            if values.count(None) == len(values):
                continue  # e.g. v1 freezer: no memory, no IO, no pressure
            cols.append(col)
            parts.append(_pack(WIDTH[col], values))
        heads.append({"name": name, "n": len(rows), "cols": cols})
        body += parts
    js = dump_json({"h": heads})
    return U32.pack(len(js)) + js + zlib.compress(b"".join(body), 1)


def _gaps(ids: list[int]) -> list[int]:
    """Ascending ids as the first and the differences (mostly 1s: zlib makes them nothing)."""
    return [ids[0], *map(int.__sub__, ids[1:], ids)] if ids else []


class StatsTable:
    """One hierarchy of an `S` record: the cgroup ids (ascending) and the columns held."""

    __slots__ = ("ids", "cols")

    def __init__(self, ids: array[int], cols: dict[str, array[int]]) -> None:
        self.ids, self.cols = ids, cols

    def reading(self, cid: int | None, at: float) -> Reading | None:
        """The reading of cgroup `cid` (taken at `at`), None when the record has none."""
        if cid is None:
            return None
        ids = self.ids
        j = bisect_left(ids, cid)
        if j == len(ids) or ids[j] != cid:
            return None
        cols = self.cols
        v: dict[str, Any] = {}
        for col, a in cols.items():
            x = a[j]
            w = WIDTH[col]
            v[col] = None if x == NONE[w] else x
        frozen = v.get("frozen")
        return Reading(at, v.get("cpu_usec"), v.get("memory"), v.get("io_read"), v.get("io_write"), v.get("pids"),
                       v.get("pids_max"), None if frozen is None else bool(frozen), v.get("swap"),
                       tuple(None if v.get(c) is None else v[c] / 100 for c in PRESSURE))


def _check_head(head: object) -> tuple[str, int, list[str]]:
    if not (isinstance(head, dict) and isinstance(head.get("name"), str) and len(head["name"]) <= 255
            and type(head.get("n")) is int and 0 <= head["n"] <= MAX_CGROUPS and isinstance(head.get("cols"), list)):
        raise Damaged("a hierarchy of the figures is not {name, n, cols} with at most 2^22 cgroups")
    cols = head["cols"]
    if not all(isinstance(c, str) and c in WIDTH for c in cols) or len(set(cols)) != len(cols):
        raise Damaged(f"the figures of {head['name']!r} name an unknown or repeated column")
    return head["name"], head["n"], cols


def _unpack(raw: bytes, width: int, n: int) -> array[int]:
    if width == 1:
        data = raw
    else:
        buf = bytearray(n * width)
        for i in range(width):
            buf[i::width] = raw[i * n:(i + 1) * n]
        data = bytes(buf)
    a = array(CODE[width])
    a.frombytes(data)
    if SWAP:
        a.byteswap()
    return a


def decode_stats(data: memoryview | bytes) -> dict[str, StatsTable]:
    """An `S` record's payload as hierarchy -> `StatsTable`; `Damaged` when it breaks a rule
    (docs/history.md "Reading rules")."""
    if len(data) < 4:
        raise Damaged("figures without their header length")
    n = U32.unpack_from(data, 0)[0]
    if n > len(data) - 4:
        raise Damaged("a figures header longer than its record")
    doc = load_json(data[4:4 + n], "the figures header")
    if not isinstance(doc, dict) or not isinstance(doc.get("h"), list) or len(doc["h"]) > 256:
        raise Damaged("the figures header is not an object with at most 256 hierarchies")
    heads = [_check_head(h) for h in doc["h"]]
    need = sum(count * (4 + sum(WIDTH[c] for c in cols)) for _, count, cols in heads)
    if need > MAX_STATS:
        raise Damaged(f"its figures would unpack to more than {MAX_STATS} bytes")
    try:
        z = zlib.decompressobj()
        raw = z.decompress(bytes(data[4 + n:]), need + 1)
    except zlib.error as e:
        raise Damaged(f"its figures do not unpack ({e})") from None
    if len(raw) != need or z.unconsumed_tail or not z.eof:
        raise Damaged(f"its figures unpack to other than the {need} bytes its header says")
    if z.unused_data:
        raise Damaged(f"{len(z.unused_data)} bytes left over after its figures")
    out: dict[str, StatsTable] = {}
    pos = 0
    for name, count, cols in heads:
        gaps = array("i")
        gaps.frombytes(raw[pos:pos + 4 * count])
        if SWAP:
            gaps.byteswap()
        pos += 4 * count
        if count and (gaps[0] < 0 or (count > 1 and min(gaps[1:]) <= 0)):
            raise Damaged(f"the figures of {name!r} are not keyed by ascending cgroup ids")
        ids = array("q", accumulate(gaps))  # 64-bit: a sum of 2^22 gaps of 2^31 fits
        table: dict[str, array[int]] = {}
        for col in cols:
            w = WIDTH[col]
            a = _unpack(raw[pos:pos + w * count], w, count)
            pos += w * count
            if (w == 2 and any(MAX_PRESSURE < x != NONE[2] for x in a)) or (w == 1 and any(x not in (0, 1, 255)
                                                                                          for x in a)):
                raise Damaged(f"the figures of {name!r} hold a {col} out of range")
            table[col] = a
        out[name] = StatsTable(ids, table)
    return out


class RecordedStats:
    """The figures a recording holds, at its samples (`figures`); the `S` records decoded are
    kept for the next question (a replay's steps ask again and again)."""

    KEEP = 4

    def __init__(self, rec: RecordIndex) -> None:
        self.rec = rec
        self._positions: list[int] | None = None
        self._decoded: dict[int, dict[str, StatsTable]] = {}

    def positions(self) -> list[int]:
        """The index (in rec.index) of every `S` record, in order."""
        if self._positions is None:
            self._positions = [k for k, (_, _, kind, _) in enumerate(self.rec.index) if kind == b"S"]
        return self._positions

    def pick(self, k: int) -> tuple[int, int | None, bool] | None:
        """For the sample at index `k`: the last `S` at or before its time in its file, the
        other `S` its rates are taken with (the next one, else the one before; None when the
        file holds one), and whether that other one is before. None: no `S` at or before."""
        index = self.rec.index
        f, _, _, t = index[k]
        mine = [s for s in self.positions() if index[s][0] is f]
        j = bisect_right([index[s][3] for s in mine], t) - 1  # the last S whose time <= t
        if j < 0:
            return None
        if j + 1 < len(mine):
            return mine[j], mine[j + 1], False
        return mine[j], (mine[j - 1] if j > 0 else None), True

    def tables(self, s: int) -> dict[str, StatsTable]:
        got = self._decoded.get(s)
        if got is None:
            f, i, _, _ = self.rec.index[s]
            try:
                got = decode_stats(f.payload(i))
            except Damaged as e:
                raise self.rec.corrupt(f, i, str(e)) from None
            if len(self._decoded) >= self.KEEP:
                self._decoded.pop(next(iter(self._decoded)))
            self._decoded[s] = got
        return got

    def figures(self, k: int, states: Mapping[str, MemberState], hierarchy: str,
                paths: Iterable[str]) -> dict[str, Figures]:
        """The recorded figures of `paths` of `hierarchy` at the sample at index `k` whose
        members are `states` (a cgroup without a reading is left out: shown `-`)."""
        picked = self.pick(k)
        st = states.get(hierarchy)
        if picked is None or st is None:
            return {}
        s1, other, before = picked
        here = self.tables(s1).get(hierarchy)
        if here is None:
            return {}
        there = self.tables(other).get(hierarchy) if other is not None else None
        t1 = self.rec.index[s1][3]
        t2 = self.rec.index[other][3] if other is not None else t1
        by_path = {p: cid for cid, p in st.paths.items()}
        out: dict[str, Figures] = {}
        for p in paths:
            cid = by_path.get(p)
            r1 = here.reading(cid, t1)
            if r1 is None:
                continue
            r2 = there.reading(cid, t2) if there is not None else None
            if before:  # after the file's last S: the rates over the interval that ends there
                out[p] = figures(r2, r1)
            else:  # its gauges, the rates over the interval to the next S
                rates = figures(r1, r2) if r2 is not None else None
                f = figures(None, r1)
                out[p] = f if rates is None else replace(f, cpu=rates.cpu, read=rates.read, write=rates.write)
        return out
