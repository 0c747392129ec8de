"""The journal's records: their format, how each is encoded and validated, and the `Batch` they make.

One JSON object per line, each with a `kind`:

- `intent`, written and fsync'd *before the first write of a batch*: `batch` (id), `backend`
  (the identity of the backend the batch moves tasks on: `local`, `demo`, ...; absent in
  lines of earlier versions), `time` (UTC, ISO 8601), `hierarchy`, `threads`, `undo_of`
  (the batch this one undoes, or null),
  `target`, and `tasks`: for every PID about to be written its `pid`, `start_time` (clock
  ticks since boot, the PID-reuse guard), `pidfs` (`[dev, inode]` of its pidfd where the
  kernel gives one, else null), `from` (its cgroup in that hierarchy) and `to`; `route`
  `systemd` when systemd moved them (AttachProcessesToUnit), `scope` when systemd started a
  new transient scope for them (the target; StartTransientUnit), absent for a kernel write.
- `outcome`, one per input item, and then `close` (`state`: done, interrupted or recovered):
  written together, with one write and one fsync, when the batch ends. A batch costs two
  fsyncs whatever its size.
- `header`, the first line of a rotated journal (`kept_bytes`: its size after rotation).
- `op`, the write-ahead record of a batch that changes a cgroup rather than moving tasks
  (`ctrtui.engine.cgroupops`): `batch`, `backend`, `time`, `op` (`mkdir`, `rmdir`, `freeze`, `thaw`),
  `hierarchy`, `path` and `undo_of`; written and fsync'd before the kernel is asked, then
  closed by a `close` record whose `state` is `done`, `refused` (with `errno`: the kernel
  said no, nothing changed), `recovered` (its process died; the next writer found the change
  made) or `interrupted` (found not made). An op batch is undone by the opposite op (mkdir
  by rmdir, freeze by thaw, and back), written as an op batch with `undo_of`. `cgroup_id`
  (absent in lines of earlier versions) is the cgroup's identity, its directory's inode
  number: in the `op` record of an rmdir, freeze or thaw (the cgroup it acts on), in the
  `close` record of a mkdir (the cgroup it made); undo refuses to act on another cgroup made
  at the same path since.

Every record carries `version` (`VERSION`; none means 1). The writer checks each record
with the reader's own `validate` (and `MAX_LINE`) before writing it: a record the reader
would refuse is `JournalLimit`, nothing written and nothing done. A record of a newer
version is read as `unknown`: its batch shows as "unknown to this version", is never undone
or recovered by this version, and the rest of the journal is read as usual.

Lines written by the journal of earlier versions (one line per PID, no `kind`) are read as
the outcomes of closed batches.

`validate` is the reader's check and the writer's too (a record the reader would refuse is
never written); `ctrtui.engine.batchassembly` turns the records, read newest first, into `Batch`es.
"""

from __future__ import annotations

import json
import re
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    Record = dict[str, Any]
    """One JSON object of the journal (a record, a task or outcome row): its values are JSON
    values, checked by `validate` where they are read."""

__all__ = ["BATCH_FIELD", "BATCH_ID_RE", "BLOCK", "Batch", "BadRecord", "CLOSE_STATES", "ERRNO_RE", "KNOWN_OUTCOMES",
           "MAX_LINE", "OPS", "VERSION", "dumps", "loads", "now_iso", "outcome_lines", "validate"]

BLOCK = 64 * 1024
MAX_LINE = 64 * 1024 * 1024
"""A longer line is corrupt (a 2,000-PID intent is ~200 KB)."""
PID_LIMIT = 4194304
"""The kernel's PID_MAX_LIMIT: no PID is larger on any machine."""
PATH_LIMIT = 4096
"""The longest cgroup path (characters) a record may hold: the kernel's PATH_MAX."""
VERSION = 1
"""The record version this ctrtui writes and reads (`version`; a record without it is
version 1). A record of a newer version makes its batch unknown to this one."""

KNOWN_OUTCOMES = frozenset({"moved", "already-there", "refused", "vanished", "not-moved", "rolled-back"})
CLOSE_STATES = ("done", "interrupted", "recovered", "refused")
OPS = ("mkdir", "rmdir", "freeze", "thaw")
"""The cgroup operations an `op` record names (`ctrtui.engine.cgroupops`)."""
REQUIRED = ("batch", "pid", "hierarchy", "from", "to", "outcome")
"""Keys of a line of the earlier, one-line-per-PID format."""

BATCH_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,79}\Z")
BATCH_FIELD = re.compile(rb'"batch": "([A-Za-z0-9._:+-]{1,80})"')
ERRNO_RE = re.compile(r"(E[A-Z0-9]{1,20}|errno [0-9]{1,6})\Z")


class BadRecord(Exception):
    """A record that fails validation (message: what is wrong)."""


# ---------------------------------------------------------------------- validation


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
"""One decoder for every line: `json.loads(..., parse_constant=...)` makes a new one per call
(a seventh of a rotation's time)."""
_RAW_DECODE = _DECODER.raw_decode


def loads(line: bytes) -> Any:
    """The JSON value of one journal line, as `json.loads` reads bytes (UTF-8, -16 or -32),
    NaN and Infinity refused; `BadRecord` when it is not JSON."""
    try:
        if line[:2] == b'{"':  # what every line written starts with: UTF-8 (detect_encoding's answer)
            text = line.decode("utf-8", "surrogatepass")
            try:  # the decoder's own framing (skip blanks, refuse extra data) only when needed
                obj, end = _RAW_DECODE(text)
                if end == len(text):
                    return obj
            except ValueError:
                pass
            return _DECODER.decode(text)
        return _DECODER.decode(line.decode(json.detect_encoding(line), "surrogatepass"))
    except RecursionError:
        raise BadRecord("nested too deeply") from None
    except ValueError as e:  # also UnicodeDecodeError
        raise BadRecord(f"not JSON ({e})") from None


def _int(row: Mapping[str, object], key: str, lo: int, hi: int, null: bool = False) -> int | None:
    v = row.get(key)
    if v is None and null:
        return None
    if type(v) is not int or not lo <= v <= hi:
        raise BadRecord(f"{key} must be an integer {lo}..{hi}{' or null' if null else ''}, not {_short(v)}")
    return v


def _str(row: Mapping[str, object], key: str, null: bool = False, limit: int = 4096) -> str | None:
    v = row.get(key)
    if v is None and null:
        return None
    if type(v) is str and len(v) > limit:
        raise BadRecord(f"{key} must be a non-empty string of at most {limit} characters, not one of {len(v)}")
    if type(v) is not str or not v or "\0" in v:
        raise BadRecord(f"{key} must be a non-empty string{' or null' if null else ''}, not {_short(v)}")
    return v


_GOOD_PATHS: set[str] = set()
"""Paths already found valid (a batch names the same few cgroups for every task): checked once."""


def _path(row: Mapping[str, object], key: str, null: bool = False) -> str | None:
    v = row.get(key)
    if type(v) is str and v in _GOOD_PATHS:
        return v
    v = _str(row, key, null, limit=PATH_LIMIT)
    if v is None:
        return None
    if not v.startswith("/") or any(part in (".", "..") for part in v.split("/")):
        raise BadRecord(f"{key} must be an absolute cgroup path without '.' or '..', not {_short(v)}")
    if len(_GOOD_PATHS) < 4096 and len(v) <= 512:  # bounded: at most ~2 MB
        _GOOD_PATHS.add(v)
    return v


_GOOD_BATCH_IDS: set[str] = set()
"""Batch ids already found valid (every line of a batch names it): checked once."""


def _batch_id(row: Mapping[str, object], key: str, null: bool = False) -> str | None:
    v = row.get(key)
    if type(v) is str and v in _GOOD_BATCH_IDS:
        return v
    if v is None and null:
        return None
    if type(v) is not str or not BATCH_ID_RE.match(v):
        raise BadRecord(f"{key} must be a batch id, not {_short(v)}")
    if len(_GOOD_BATCH_IDS) >= 4096:  # bounded: the newest are the ones read again
        _GOOD_BATCH_IDS.clear()
    _GOOD_BATCH_IDS.add(v)
    return v


def _bool(row: Mapping[str, object], key: str) -> bool:
    v = row.get(key, False)
    if type(v) is not bool:
        raise BadRecord(f"{key} must be true or false, not {_short(v)}")
    return v


def _errno_field(row: Mapping[str, object]) -> str | None:
    v = row.get("errno")
    if v is None:
        return None
    if type(v) is not str or not ERRNO_RE.match(v):
        raise BadRecord(f"errno must be an errno name or null, not {_short(v)}")
    return v


def _time(row: Mapping[str, object]) -> str:
    v = row.get("time", "")
    if type(v) is not str or len(v) > 64:
        raise BadRecord(f"time must be a string, not {_short(v)}")
    return v


def _short(v: Any) -> str:
    try:
        text = json.dumps(v)
    except (TypeError, ValueError, RecursionError):
        text = type(v).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _outcome_fields(row: Mapping[str, object]) -> Record:
    outcome = row.get("outcome")
    if type(outcome) is not str or outcome not in KNOWN_OUTCOMES:
        raise BadRecord(f"outcome must be one of {', '.join(sorted(KNOWN_OUTCOMES))}, not {_short(outcome)}")
    pid, start = row.get("pid"), row.get("start_time")
    if type(pid) is not int or not 1 <= pid <= PID_LIMIT:  # the common case is checked here, the rest by _int
        pid = _int(row, "pid", 1, PID_LIMIT, null=outcome == "refused")
    if start is not None and (type(start) is not int or not 0 <= start <= 2**63):
        start = _int(row, "start_time", 0, 2**63, null=True)
    return {"pid": pid, "start_time": start, "from": _path(row, "from", True), "to": _path(row, "to", True),
            "outcome": outcome, "errno": _errno_field(row) if row.get("errno") is not None else None}


def _route(row: Mapping[str, object]) -> dict[str, str]:
    """An intent's `route` (`systemd`), or nothing for a kernel write (no key)."""
    route = row.get("route", "kernel")
    if route not in ("kernel", "systemd", "scope"):
        raise BadRecord(f"route must be kernel, systemd or scope, not {_short(route)}")
    return {} if route == "kernel" else {"route": str(route)}


def validate(obj: object) -> Record:
    """The record as a clean dict, or `BadRecord` saying what is wrong."""
    if not isinstance(obj, dict):
        raise BadRecord(f"a record must be a JSON object, not {type(obj).__name__}")
    version = obj.get("version", 1)
    if type(version) is not int or not 1 <= version < 2**31:
        raise BadRecord(f"version must be a positive integer, not {_short(version)}")
    if version > VERSION:  # a newer ctrtui's: its batch is unknown to this one, the rest is read
        bid = obj.get("batch")
        return {"kind": "unknown", "version": version,
                "batch": bid if type(bid) is str and BATCH_ID_RE.match(bid) else None}
    kind = obj.get("kind")
    if kind is None and all(k in obj for k in REQUIRED):  # the earlier one-line-per-PID format
        rec = _outcome_fields(obj)
        rec.update(kind="legacy", batch=_batch_id(obj, "batch"), hierarchy=_str(obj, "hierarchy", limit=255),
                   threads=_bool(obj, "threads"), undo_of=_batch_id(obj, "undo_of", True), time=_time(obj))
        return rec
    if kind == "outcome":
        rec = _outcome_fields(obj)
        rec.update(kind=kind, batch=_batch_id(obj, "batch"))
        return rec
    if kind == "close":
        state = obj.get("state")
        if state not in CLOSE_STATES:
            raise BadRecord(f"state must be one of {', '.join(CLOSE_STATES)}, not {_short(state)}")
        rec = {"kind": kind, "batch": _batch_id(obj, "batch"), "state": state, "time": _time(obj)}
        if "errno" in obj:
            rec["errno"] = _errno_field(obj)
        if "cgroup_id" in obj:
            rec["cgroup_id"] = _int(obj, "cgroup_id", 0, 2**64 - 1, True)
        return rec
    if kind == "op":
        op = obj.get("op")
        if op not in OPS:
            raise BadRecord(f"op must be one of {', '.join(OPS)}, not {_short(op)}")
        return {"kind": kind, "batch": _batch_id(obj, "batch"), "backend": _str(obj, "backend", True, limit=255),
                "time": _time(obj), "op": op, "hierarchy": _str(obj, "hierarchy", limit=255),
                "path": _path(obj, "path"), "undo_of": _batch_id(obj, "undo_of", True),
                "cgroup_id": _int(obj, "cgroup_id", 0, 2**64 - 1, True) if "cgroup_id" in obj else None}
    if kind == "intent":
        tasks = obj.get("tasks")
        if not isinstance(tasks, list):
            raise BadRecord(f"tasks must be a list, not {_short(tasks)}")
        clean = []
        for t in tasks:
            if not isinstance(t, dict):
                raise BadRecord(f"each task must be an object, not {_short(t)}")
            pidfs = t.get("pidfs")
            if pidfs is not None and not (isinstance(pidfs, list) and len(pidfs) == 2
                                          and all(type(x) is int and 0 <= x < 2**64 for x in pidfs)):
                raise BadRecord(f"pidfs must be [device, inode] or null, not {_short(pidfs)}")
            clean.append({"pid": _int(t, "pid", 1, PID_LIMIT), "start_time": _int(t, "start_time", 0, 2**63, True),
                          "pidfs": pidfs, "from": _path(t, "from", True), "to": _path(t, "to")})
        return {"kind": kind, "batch": _batch_id(obj, "batch"), "backend": _str(obj, "backend", True, limit=255),
                "time": _time(obj),
                "hierarchy": _str(obj, "hierarchy", limit=255), "threads": _bool(obj, "threads"),
                "undo_of": _batch_id(obj, "undo_of", True), "target": _path(obj, "target"), "tasks": clean,
                **_route(obj)}
    if kind == "header":
        return {"kind": kind, "kept_bytes": _int(obj, "kept_bytes", 0, 2**63)}
    raise BadRecord(f"kind must be intent, op, outcome, close or header, not {_short(kind)}")


# ---------------------------------------------------------------------- batches


class Batch:
    """One batch as the journal knows it. `state`: None while open (no close record), else
    the close record's state. `tasks`: the intent's tasks; `outcomes`: the outcome rows."""

    __slots__ = ("id", "backend", "time", "hierarchy", "threads", "undo_of", "target", "tasks", "outcomes", "state",
                 "legacy", "settled", "undone", "offset", "op", "errno", "op_undone", "cgroup_id", "origin_gone",
                 "unknown")

    def __init__(self, batch_id: str) -> None:
        self.id = batch_id
        self.backend: str | None = None
        """Identity of the backend it moved tasks on; None for records of earlier versions."""
        self.time = ""
        self.hierarchy = ""
        self.threads = False
        self.undo_of: str | None = None
        self.target: str | None = None
        self.tasks: list[Record] = []
        self.outcomes: list[Record] = []
        self.state: str | None = None
        self.legacy = False
        self.settled: set[tuple[int, int | None]] = set()  # (pid, start) undone or gone
        self.undone: set[tuple[int, int | None]] = set()  # (pid, start) really back
        self.origin_gone: set[tuple[int, int | None]] = set()  # (pid, start): the last undo found its origin gone
        self.offset = 0
        self.op: str | None = None
        """For a cgroup op batch (`ctrtui.engine.cgroupops`): mkdir, rmdir, freeze or thaw; `target` is its path."""
        self.errno: str | None = None
        """The errno an op batch was refused with."""
        self.op_undone = False
        """An op batch that a later op batch undid."""
        self.cgroup_id: int | None = None
        """For an op batch: the identity (directory inode) of the cgroup it acted on or made."""
        self.unknown: int | None = None
        """The record version of a batch written by a newer ctrtui (None: known): shown, never
        undone or recovered by this one."""

    def origin_lost(self) -> bool:
        """The last undo found the cgroup of every PID left gone."""
        left = self.remaining()
        return bool(left) and all((o["pid"], o["start_time"]) in self.origin_gone for o in left)

    def undoable(self) -> bool:
        """True while there is something to undo: a move batch with PIDs left (or open), an
        op batch done (or found done) and not undone yet."""
        if self.unknown is not None:
            return False
        if self.op is not None:
            return self.undo_of is None and (self.state in ("done", "recovered") and not self.op_undone
                                             or self.state is None)
        return bool(self.remaining()) or self.open

    @property
    def open(self) -> bool:
        return self.state is None

    def moved(self) -> list[Record]:
        """Outcome rows of the PIDs this batch moved."""
        return [o for o in self.outcomes if o["outcome"] == "moved" and o["pid"] is not None]

    def remaining(self) -> list[Record]:
        """Moved rows not yet undone (nor gone), each task once; empty for an undo batch."""
        if self.undo_of is not None or (self.target is None and not self.legacy):
            return []  # an undo, or outcomes whose intent is missing: nothing known to undo
        seen = set(self.settled)  # each task once: a recovery of an earlier version wrote repeats
        left = []
        for o in self.moved():
            key = (o["pid"], o["start_time"])
            if key not in seen:
                seen.add(key)
                left.append(o)
        return left

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o["outcome"]] = counts.get(o["outcome"], 0) + 1
        return counts

    def status(self) -> str:
        """open / done / refused (the kernel or a hook refused every PID) / partly undone /
        undone / cannot be undone: origin gone (an undo found the cgroups its tasks came from
        removed, e.g. by systemd or logind) / cannot be undone: tasks gone (they exited)."""
        if self.unknown is not None:
            return "unknown to this version"
        if self.state is None:
            return "open"
        if self.op is not None:
            if self.state in ("refused", "interrupted"):
                return self.state
            return "undone" if self.op_undone else "done"
        if self.state == "refused":
            return "refused"
        if self.undo_of is not None:
            return "done"
        moved = self.moved()
        left = self.remaining()
        if moved and not self.undone and self.origin_lost():
            return "cannot be undone: origin gone"
        if not moved or len(left) == len({(o["pid"], o["start_time"]) for o in moved}) and not self.undone:
            return "done"
        if left:
            return "partly undone"
        if not self.undone:  # nothing went back: every task exited
            return "cannot be undone: tasks gone"
        return "undone"

    def as_dict(self) -> Record:
        return {"batch": self.id, "backend": self.backend, "time": self.time, "hierarchy": self.hierarchy,
                "target": self.target,
                "threads": self.threads, "undo_of": self.undo_of, "state": self.status(),
                "closed": self.state, "tasks": len(self.tasks), "counts": self.counts(),
                "undone": len(self.undone) + self.op_undone, "undoable": len(self.remaining()) + (
                    self.op is not None and self.undoable()), "op": self.op, "errno": self.errno,
                "version": self.unknown or VERSION}


def now_iso() -> str:
    """UTC now as ISO 8601 with milliseconds (`2026-11-29T01:33:07.123+00:00`)."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}+00:00"


def dumps(rec: Mapping[str, object]) -> bytes:
    return (json.dumps(rec) + "\n").encode()  # default arguments: json's cached encoder (fast)


OUTCOME_ROW = ("pid", "start_time", "from", "to", "outcome", "errno")
"""The fields of an outcome row as the engine writes them (`outcome_lines`' shape)."""
_ITEM = "\x01"
"""The C encoder's item separator in `outcome_lines`: ensure_ascii escapes every control
character inside strings, so in its text this character is only ever a separator."""


def outcome_lines(batch_id: str, rows: Sequence[Mapping[str, object]]) -> bytes | None:
    """The outcome records of `rows` (each `OUTCOME_ROW`, in that order) as lines, the same
    bytes as `dumps` of each `{"kind": "outcome", "version": VERSION, "batch": batch_id, **row}`,
    when the rows pass `validate`'s rules checked column by column (each distinct path,
    outcome and errno once) and are encoded by the C encoder in one call. None when a row
    has another shape or breaks a rule: the caller then checks row by row, which words the
    refusal. A 1,000-row batch: 4.7 -> ~1.5 ms."""
    if not rows or type(batch_id) is not str or not BATCH_ID_RE.match(batch_id):
        return None
    try:
        if set(map(type, rows)) != {dict} or set(map(tuple, rows)) != {OUTCOME_ROW}:
            return None
        values = [list(r.values()) for r in rows]
        columns = list(zip(*values, strict=True))
        # the types of every value (a set of values would take True for 1), then each distinct value
        if set(map(type, columns[0])) != {int} or not set(map(type, columns[1])) <= {int, type(None)}:
            return None
        pids, starts, sources, targets, outcomes, errnos = (set(c) for c in columns)
    except TypeError:  # an unhashable value: the row-by-row check words it
        return None
    if not (1 <= min(pids) and max(pids) <= PID_LIMIT):
        return None
    starts.discard(None)
    if starts and not (0 <= min(starts) and max(starts) <= 2**63):
        return None
    if not outcomes <= KNOWN_OUTCOMES or not all(e is None or type(e) is str and ERRNO_RE.match(e) for e in errnos):
        return None
    try:
        for path in sources | targets:
            _path({"path": path}, "path", True)
    except BadRecord:
        return None
    text = json.JSONEncoder(separators=(_ITEM, ": ")).encode(values)
    head = f'{{"kind": "outcome", "version": {VERSION}, "batch": {json.dumps(batch_id)}, '
    template = head.replace("%", "%%") + ", ".join(f'"{k}": %s' for k in OUTCOME_ROW) + "}\n"
    lines = [template % tuple(item.split(_ITEM)) for item in text[2:-2].split("]" + _ITEM + "[")]
    if max(map(len, lines)) > MAX_LINE:
        return None
    return "".join(lines).encode()
