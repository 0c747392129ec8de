"""The `I` record (docs/history.md, "I: the task index"): what the recorder writes when it
closes a file (at rotation and at a clean close), so that `where PID` need not decode the
file's first full snapshot: the TIDs of that snapshot with their start times and their
cgroup in each hierarchy, the TIDs the file's deltas list besides, and the snapshot's cgroup
paths. `IndexBuilder` gathers it while the file is written; `TaskIndex` reads it back, every
length and value checked, and bound to the records it describes by their checksums."""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_left
from itertools import chain, islice, repeat
from operator import lt

from ctrtui.history.records import (
    MAX_JSON,
    PID_LIMIT,
    U32,
    Damaged,
    dump_json,
    int32_view,
    int64_view,
    load_json,
    pack_ints,
    pack_longs,
)
from ctrtui.model.snapshot import Hierarchy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    from ctrtui.model.snapshot import Snapshot
    from ctrtui.model.wire import Placement

__all__ = ["INDEX_KIND", "MAX_INDEX_HIERARCHIES", "IndexBuilder", "TaskIndex", "records_crc"]

INDEX_KIND = b"I"
MAX_INDEX_HIERARCHIES = 256
"""The most hierarchies an index may describe."""


def records_crc(crcs: Iterable[int], start: int = 0) -> int:
    """The CRC-32 of the records' own CRC-32s (each 4 bytes big-endian, in order): what
    binds an index to the records before it."""
    crc = start
    for c in crcs:
        crc = zlib.crc32(U32.pack(c), crc)
    return crc


class IndexBuilder:
    """The `I` record of the file being written: fed each record's checksum as it is
    written, the file's first full snapshot, and the TIDs each delta lists."""

    def __init__(self) -> None:
        self.records = 0
        self.crc = 0
        self.last_time = 0.0
        self.full: int | None = None
        self.hierarchies: list[Hierarchy] = []
        self.paths: list[list[str]] = []
        self.tids = array("i")
        self.starts = array("q")
        self.cids: list[array[int]] = []
        self.mentioned: set[int] = set()
        self.gone: list[int] = []

    def record(self, crc: int, t: float) -> None:
        """A record was written with this checksum and time."""
        self.crc = zlib.crc32(U32.pack(crc), self.crc)
        self.records += 1
        self.last_time = t

    def first_full(self, number: int, snap: Snapshot, order: Sequence[int], starts: Iterable[int]) -> None:
        """The file's first full snapshot, record `number`: its TIDs `order` (ascending, every
        TID of `snap`), their start times, and each one's cgroup id per hierarchy (its
        position in the snapshot; the first cgroup listing it, as `find_in_wire` says)."""
        self.full = number
        self.hierarchies = [hs.hierarchy for hs in snap.hierarchies]
        self.paths = [list(hs.containers) for hs in snap.hierarchies]
        self.tids = array("i", order)
        self.starts = array("q", starts)
        self.cids = []
        for hs in snap.hierarchies:
            lists = [c.threads for c in hs.containers.values()]
            lists.reverse()  # the dict keeps the last pair of a TID: the first cgroup listing it wins
            ids = chain.from_iterable(map(repeat, range(len(lists) - 1, -1, -1), map(len, lists)))
            where = dict(zip(chain.from_iterable(lists), ids))
            self.cids.append(array("i", map(where.get, order, repeat(-1))))

    def mention(self, tids: Iterable[int]) -> None:
        """TIDs a delta of the file lists."""
        self.mentioned.update(tids)

    def hierarchy_gone(self, number: int) -> None:
        """Delta record `number` says a hierarchy is gone (it ends the rows of tasks it does not list)."""
        self.gone.append(number)

    def payload(self) -> bytes | None:
        """The `I` record's payload, or None when the file has no full snapshot yet."""
        if self.full is None:
            return None
        listed = sorted(self.mentioned)
        head = dump_json({"records": self.records, "crc": self.crc, "full": self.full, "n": len(self.tids),
                          "m": len(listed), "gone": self.gone, "h": [_describe(h, len(p))
                                                 for h, p in zip(self.hierarchies, self.paths)]})
        parts = [U32.pack(len(head)), head, pack_ints(self.tids), pack_longs(self.starts)]
        parts.extend(pack_ints(c) for c in self.cids)
        parts.append(pack_ints(listed))
        parts.append(dump_json(self.paths))
        return b"".join(parts)


class TaskIndex:
    """A file's `I` record, read and checked (`Damaged` when it breaks a rule); its arrays
    are views into the mapped file, its paths read when first asked for."""

    def __init__(self, data: memoryview, number: int, crcs: Sequence[int], first_full: int) -> None:
        """`data`: the payload of record `number`, the last of its file; `crcs`: the
        checksums of the records before it; `first_full`: the number of the file's first `F`."""
        if len(data) < 4:
            raise Damaged("its task index has no header length")
        hlen = U32.unpack_from(data, 0)[0]
        if hlen > min(len(data) - 4, MAX_JSON):
            raise Damaged("its task index header is longer than its record")
        doc = load_json(data[4:4 + hlen], "its task index header")
        n, m, heads = _head(doc)
        if doc["records"] != number or doc["crc"] != records_crc(crcs):
            raise Damaged("its task index does not describe the records before it")
        if doc["full"] != first_full:
            raise Damaged("its task index does not describe the file's first full snapshot")
        pos = 4 + hlen
        end = pos + n * (12 + 4 * len(heads)) + 4 * m
        if end > len(data) or len(data) - end > MAX_JSON:
            raise Damaged("its task index arrays do not fit its record")
        self.full = first_full
        self.gone = frozenset(doc["gone"])
        self.hierarchies = [Hierarchy(h["name"], h["version"], tuple(h["controllers"]), h["mount"], h["root"],
                                      h["hierarchy_id"]) for h in heads]
        self.tids = int32_view(data[pos:pos + 4 * n])
        self.starts = int64_view(data[pos + 4 * n:pos + 12 * n])
        pos += 12 * n
        self.cids = []  # each value is checked when it is used (one per file read)
        for _ in heads:
            self.cids.append(int32_view(data[pos:pos + 4 * n]))
            pos += 4 * n
        self.listed = int32_view(data[pos:end])
        for a in (self.tids, self.listed):
            if len(a) and (a[0] <= 0 or a[-1] > PID_LIMIT or not all(map(lt, a, islice(a, 1, None)))):
                raise Damaged("its task index TIDs are not ascending positive TIDs")
        self._counts = [h["cgroups"] for h in heads]
        self._rest = data[end:]
        self._paths: list[list[str]] | None = None

    def find(self, tid: int) -> tuple[int, bool] | None:
        """Where the file mentions `tid`: its position in the full snapshot's TIDs (-1: not
        there) and whether a delta lists it; None when the file never mentions it."""
        j = bisect_left(self.tids, tid)
        if not (j < len(self.tids) and self.tids[j] == tid):
            j = -1
        k = bisect_left(self.listed, tid)
        listed = k < len(self.listed) and self.listed[k] == tid
        return (j, listed) if j >= 0 or listed else None

    def paths(self) -> list[list[str]]:
        """Each hierarchy's cgroup paths in the full snapshot, in order (an id is a position)."""
        if self._paths is None:
            doc = load_json(self._rest, "its task index paths")
            if not (isinstance(doc, list) and len(doc) == len(self._counts)
                    and all(isinstance(p, list) and len(p) == k for p, k in zip(doc, self._counts))
                    and all(map(isinstance, chain.from_iterable(doc), repeat(str)))
                    and all(map(str.startswith, chain.from_iterable(doc), repeat("/")))):
                raise Damaged("its task index paths are not each hierarchy's absolute cgroup paths")
            self._paths = doc
        return self._paths

    def placements(self, j: int) -> list[Placement]:
        """Per hierarchy of the full snapshot: its description, its cgroup paths, and the
        cgroup of the task at position `j` (None: none; `j` -1: a task not in the snapshot),
        as `ctrtui.model.wire.find_in_wire` gives them from the snapshot itself."""
        out: list[Placement] = []
        for h, paths, ids in zip(self.hierarchies, self.paths(), self.cids):
            cid = ids[j] if j >= 0 else -1
            if not -1 <= cid < len(paths):
                raise Damaged(f"its task index names a cgroup {h.name!r} does not have")
            out.append((h, paths, paths[cid] if cid >= 0 else None))
        return out

    def start(self, j: int) -> int:
        """The start time of the task at position `j` of the full snapshot's TIDs."""
        st = int(self.starts[j])
        if st < 0:
            raise Damaged("its task index has a negative start time")
        return st


def _describe(h: Hierarchy, cgroups: int) -> dict[str, Any]:
    return {"name": h.name, "version": h.version, "controllers": list(h.controllers), "mount": h.mount,
            "root": h.root, "hierarchy_id": h.hierarchy_id, "cgroups": cgroups}


def _described(h: object) -> bool:
    """Whether `h` is a hierarchy as `_describe` writes it."""
    return (isinstance(h, dict) and isinstance(h.get("name"), str) and type(h.get("cgroups")) is int
            and 0 <= h["cgroups"] <= PID_LIMIT and h.get("version") in (1, 2) and type(h["version"]) is int
            and isinstance(h.get("controllers"), list) and all(isinstance(c, str) for c in h["controllers"])
            and isinstance(h.get("mount"), str) and isinstance(h.get("root"), str)
            and type(h.get("hierarchy_id")) is int and 0 <= h["hierarchy_id"] < 2 ** 63)


def _head(doc: object) -> tuple[int, int, list[dict[str, Any]]]:
    """The index header's counts and hierarchies, checked."""
    if not (isinstance(doc, dict) and all(type(doc.get(k)) is int and doc[k] >= 0
                                          for k in ("records", "crc", "full", "n", "m"))):
        raise Damaged("its task index header is not {records, crc, full, n, m, gone, h}")
    heads = doc.get("h")
    if not (isinstance(heads, list) and len(heads) <= MAX_INDEX_HIERARCHIES
            and all(map(_described, heads)) and len({h["name"] for h in heads}) == len(heads)):
        raise Damaged("its task index hierarchies are not distinct, described, with their cgroup counts")
    if doc["n"] > PID_LIMIT or doc["m"] > PID_LIMIT:
        raise Damaged(f"its task index lists more than {PID_LIMIT} TIDs")
    gone = doc.get("gone")
    if not (isinstance(gone, list) and all(type(k) is int and 0 <= k < doc["records"] for k in gone)):
        raise Damaged("its task index's records where a hierarchy went are not record numbers")
    return doc["n"], doc["m"], heads
