"""The recording's file format (docs/history.md): the header, the record layout and its
limits, the packing helpers, the whole-record scan that finds a torn tail, the checks of
each decoded part, a full snapshot's task table, and the journal batch as a `J` record
keeps it. Pure: no file is opened here."""

from __future__ import annotations

import json
import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from itertools import islice
from operator import lt

from ctrtui.errors import CtrtuiError
from ctrtui.model.task import TaskInfo
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any, Literal

__all__ = ["DEFAULT_FULL_EVERY", "DEFAULT_MAX_SIZE", "FILE_HEADER", "KINDS", "MAGIC", "MAX_JSON", "MAX_RECORD",
           "MAX_TASKS_TABLE", "PID_LIMIT", "READS", "RECORD", "Record", "SAMPLE_KINDS", "SUFFIX", "U32", "VERSION",
           "Damaged", "HistoryError",
           "TaskTable", "batch_record", "check_batch", "check_delta_doc", "check_tasks", "check_version", "crc_ok",
           "dump_json", "int32_view", "int64_view", "iso_seconds", "load_json", "pack_ints", "pack_longs", "scan",
           "task_info"]

MAGIC = b"CTRH"
VERSION = 2
"""The version this ctrtui writes: 2 added the `S` record (the cgroups' figures, ctrtui/history/stats.py)."""
READS = (1, 2)
"""The versions this ctrtui reads (a version-1 file is one without `S` records)."""
FILE_HEADER = MAGIC + VERSION.to_bytes(2, "big") + b"\0\0"
RECORD = struct.Struct(">cIdI")
"""A record's header: kind, payload length, time (seconds since the epoch), CRC-32 of the payload."""
KINDS = (b"F", b"D", b"J", b"S", b"I")
SAMPLE_KINDS = (b"F", b"D")
"""The kinds that are a sample's members (the others, `J` and `S`, go with a sample; `I`,
the task index, ends a file: ctrtui/history/taskindex.py)."""
MAX_RECORD = 256 * 1024 * 1024
"""The longest record payload a reader accepts (a 100,000-task full snapshot is ~1 MB)."""
MAX_JSON = 16 * 1024 * 1024
"""The longest JSON part of a record (unpacked)."""
MAX_TASKS_TABLE = 64 * 1024 * 1024
"""The most bytes a full snapshot's task table unpacks to."""
PID_LIMIT = 4194304
SUFFIX = ".ctrh"
DEFAULT_MAX_SIZE = 1 << 30
DEFAULT_FULL_EVERY = 60
"""A full snapshot every this many samples (5 minutes at 5 s): the most deltas a reader
applies to answer `--at`."""
SWAP = sys.byteorder != "little"
U32 = struct.Struct(">I")
_JSON_KW: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": True, "allow_nan": False}


class HistoryError(CtrtuiError):
    """A recording cannot be written or read: the message is the one sentence to show."""



class Damaged(Exception):
    """A record breaks a rule of the format: the message says which (the reader adds the
    file and the record's number)."""


def pack_ints(values: Iterable[int]) -> bytes:
    """Signed 32-bit little-endian integers."""
    a = array("i", values)
    if SWAP:
        a.byteswap()
    return a.tobytes()


def pack_longs(values: Iterable[int]) -> bytes:
    """Signed 64-bit little-endian integers."""
    a = array("q", values)
    if SWAP:
        a.byteswap()
    return a.tobytes()


def int32_view(data: memoryview) -> memoryview:
    """Signed 32-bit little-endian integers as a view: the mapped bytes themselves, or a
    byte-swapped copy on a big-endian machine."""
    return _little_endian(data, "i")


def int64_view(data: memoryview) -> memoryview:
    """Signed 64-bit little-endian integers as a view, as `int32_view`."""
    return _little_endian(data, "q")


def _little_endian(data: memoryview, code: Literal["i", "q"]) -> memoryview:
    if not SWAP:
        return data.cast(code)
    a = array(code)
    a.frombytes(bytes(data))
    a.byteswap()
    return memoryview(a)


def dump_json(doc: object) -> bytes:
    """ASCII JSON, compact, no NaN."""
    return json.dumps(doc, **_JSON_KW).encode()


def load_json(data: bytes | memoryview, what: str) -> Any:
    """JSON of at most MAX_JSON bytes; `Damaged` naming `what` otherwise."""
    if len(data) > MAX_JSON:
        raise Damaged(f"{what} is longer than {MAX_JSON} bytes")
    try:
        return json.loads(bytes(data))
    except (ValueError, RecursionError) as e:
        raise Damaged(f"{what} is not JSON ({e})") from None


def check_version(head: bytes, path: str) -> None:
    """HistoryError, one sentence, unless `head` is the file header of a version this ctrtui reads."""
    if len(head) < len(FILE_HEADER) or head[:4] != MAGIC:
        raise HistoryError(f"{display(path)} is not a ctrtui recording (it does not start with CTRH)")
    version = int.from_bytes(head[4:6], "big")
    if version not in READS:
        known = " and ".join(map(str, READS))
        raise HistoryError(f"{display(path)} is a recording of format version {version}, and this ctrtui reads "
                           f"versions {known}: upgrade ctrtui to read it")


Record = tuple[int, bytes, float, int]
"""A record found by `scan`: the offset of its payload, its kind, its time, its payload length."""


def scan(buf: Any, size: int) -> tuple[list[Record], int]:
    """Every whole record of a file and where the good part ends: the first record that is
    cut short, of an unknown kind or too long ends it, and so does a last record whose
    checksum is wrong (a torn tail: a write cut by a crash). Only the 17-byte record headers
    are read, and the last record's checksum; the others' are checked when a reader decodes
    them."""
    out = []
    pos = len(FILE_HEADER)
    while pos + RECORD.size <= size:
        kind, n, t, _ = RECORD.unpack_from(buf, pos)
        start = pos + RECORD.size
        if kind not in KINDS or n > MAX_RECORD or start + n > size or t != t:
            break
        out.append((start, kind, t, n))
        pos = start + n
    while out and not crc_ok(buf, out[-1]):
        pos = out.pop()[0] - RECORD.size
    return out, pos


def crc_ok(buf: Any, record: Record) -> bool:
    """Whether the record's payload has the checksum its header says."""
    start, _, _, n = record
    return bool(zlib.crc32(buf[start:start + n]) == U32.unpack_from(buf, start - 4)[0])


class TaskTable:
    """A full snapshot's task table (tid -> [tid, start time, tgid, comm]): sorted arrays
    looked up by bisection, and the tasks the deltas after it added (`born`)."""

    def __init__(self, tids: array[int], starts: array[int], tgids: array[int], comms: list[bytes]) -> None:
        self.tids, self.starts, self.tgids, self.comms = tids, starts, tgids, comms
        self.born: dict[int, list[Any]] = {}

    @classmethod
    def decode(cls, raw: bytes) -> TaskTable:
        """The table as a full snapshot packs it (docs/history.md); `Damaged` when it breaks a rule."""
        if len(raw) < 4:
            raise Damaged("its task table has no count")
        n = U32.unpack_from(raw, 0)[0]
        end = 4 + 16 * n
        if n > PID_LIMIT or len(raw) < end:
            raise Damaged("its task table is shorter than its count")
        tids, starts, tgids = array("i"), array("q"), array("i")
        tids.frombytes(raw[4:4 + 4 * n])
        starts.frombytes(raw[4 + 4 * n:4 + 12 * n])
        tgids.frombytes(raw[4 + 12 * n:end])
        if SWAP:
            for a in (tids, starts, tgids):
                a.byteswap()
        comms = raw[end:].split(b"\0") if n else []
        if len(comms) != n:
            raise Damaged("its task table's names do not match its count")
        if n and (tids[0] <= 0 or not all(map(lt, tids, islice(tids, 1, None))) or min(starts) < 0):
            raise Damaged("its task table is not ascending positive TIDs with their start times")
        return cls(tids, starts, tgids, comms)

    @staticmethod
    def encode(order: Sequence[int], rows: Sequence[tuple[int, int, str]]) -> bytes:
        """The table of the TIDs `order` (ascending) and their (start time, tgid, comm), unpacked."""
        return (U32.pack(len(order)) + pack_ints(order) + pack_longs(r[0] for r in rows)
                + pack_ints(r[1] for r in rows)
                + b"\0".join(r[2].encode("utf-8", "surrogateescape").replace(b"\0", b"") for r in rows))

    def get(self, tid: int) -> list[Any] | None:
        row = self.born.get(tid)
        if row is not None:
            return row
        j = bisect_left(self.tids, tid)
        if j < len(self.tids) and self.tids[j] == tid:
            comm = self.comms[j][:64].decode("utf-8", "surrogateescape")
            return [tid, self.starts[j], self.tgids[j], comm]
        return None

    def __contains__(self, tid: int) -> bool:
        return self.get(tid) is not None


def task_info(row: Sequence[Any]) -> TaskInfo:
    """A task of the recording's table as the TaskInfo `ctrtui tasks` shows (what was
    recorded: comm, TGID, start time; the rest unknown)."""
    tid, start, tgid, comm = row
    return TaskInfo(tid, tgid or tid, comm, "-", 0, 0, 0, start, user="-")


def check_tasks(table: object) -> dict[int, list[Any]]:
    """The tasks a delta adds: [[tid, start time, tgid, comm], ...]."""
    if not isinstance(table, list):
        raise Damaged("the task table is not a list")
    out = {}
    for row in table:
        if not (isinstance(row, list) and len(row) == 4 and type(row[0]) is int and 0 < row[0] <= PID_LIMIT
                and type(row[1]) is int and 0 <= row[1] < 2 ** 63 and type(row[2]) is int
                and 0 <= row[2] <= PID_LIMIT and isinstance(row[3], str) and len(row[3]) <= 64):
            raise Damaged("a task table row is not [tid, start time, tgid, comm]")
        out[row[0]] = row
    return out


def check_delta_doc(doc: object) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("h"), list):
        raise Damaged("the delta header is not an object with its hierarchies")
    for head in doc["h"]:
        if not isinstance(head, dict) or not isinstance(head.get("name"), str):
            raise Damaged("a hierarchy of the delta has no name")
        hd = head.get("hierarchy")
        if hd is not None and not (isinstance(hd, dict) and hd.get("version") in (1, 2)
                                   and isinstance(hd.get("controllers"), list)
                                   and all(isinstance(c, str) for c in hd["controllers"])
                                   and isinstance(hd.get("mount"), str) and isinstance(hd.get("root"), str)
                                   and type(hd.get("hierarchy_id")) is int):
            raise Damaged(f"hierarchy {head['name']!r} is described wrongly")
        add = head.get("add", [])
        if not (isinstance(add, list) and all(isinstance(a, list) and len(a) == 2 and type(a[0]) is int
                                              and isinstance(a[1], str) and a[1].startswith("/") for a in add)):
            raise Damaged(f"the cgroups added to {head['name']!r} are not [id, absolute path] pairs")
        dels = head.get("del", [])
        if not (isinstance(dels, list) and all(type(d) is int for d in dels)):
            raise Damaged(f"the cgroups removed from {head['name']!r} are not ids")
    gone = doc.get("gone", [])
    if not (isinstance(gone, list) and all(isinstance(g, str) for g in gone)):
        raise Damaged("the hierarchies gone are not names")
    check_tasks(doc.get("tasks", []))
    return doc


def check_batch(b: object) -> dict[str, Any]:
    if not (isinstance(b, dict) and isinstance(b.get("batch"), str) and len(b["batch"]) <= 80
            and (b.get("time") is None or isinstance(b.get("time"), (int, float)))
            and isinstance(b.get("hierarchy"), str) and isinstance(b.get("pids"), list)):
        raise Damaged("a journal batch is not {batch, time, hierarchy, pids}")
    for row in b["pids"]:
        if not (isinstance(row, list) and len(row) == 4 and type(row[0]) is int
                and (row[3] is None or isinstance(row[3], str))):
            raise Damaged(f"batch {b['batch']!r}: a moved PID is not [pid, start time, from, to]")
    return b



def batch_record(b: Any) -> dict[str, Any] | None:
    """A closed journal batch (ctrtui.engine.journal.Batch) as a `J` record keeps it, or
    None for an open one."""
    if b.state is None:
        return None
    when = iso_seconds(b.time)
    return {"batch": b.id, "time": when, "hierarchy": b.hierarchy, "target": b.target, "undo_of": b.undo_of,
            "op": b.op, "state": b.state,
            "pids": [[o["pid"], o.get("start_time"), o.get("from"), o.get("to")] for o in b.moved()]}


def iso_seconds(text: str) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text).timestamp()
    except (TypeError, ValueError):
        return None
