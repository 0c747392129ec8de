"""The journal: a write-ahead record of every batch of moves, for undo and for the record.

One JSON object per line, each with a `kind`:

- `intent`, written and fsync'd *before the first write of a batch*: `batch` (id), `backend`
  (the identity of the backend the batch moves tasks on: `local`, `demo`, ...; absent in
  lines of earlier versions), `time` (UTC, ISO 8601), `hierarchy`, `threads`, `undo_of`
  (the batch this one undoes, or null),
  `target`, and `tasks`: for every PID about to be written its `pid`, `start_time` (clock
  ticks since boot, the PID-reuse guard), `pidfs` (`[dev, inode]` of its pidfd where the
  kernel gives one, else null), `from` (its cgroup in that hierarchy) and `to`.
- `outcome`, one per input item, and then `close` (`state`: done, interrupted or recovered):
  written together, with one write and one fsync, when the batch ends. A batch costs two
  fsyncs whatever its size.
- `header`, the first line of a rotated journal (`kept_bytes`: its size after rotation).
- `op`, the write-ahead record of a batch that changes a cgroup rather than moving tasks
  (engine/ops.py): `batch`, `backend`, `time`, `op` (`mkdir`, `rmdir`, `freeze`, `thaw`),
  `hierarchy`, `path` and `undo_of`; written and fsync'd before the kernel is asked, then
  closed by a `close` record whose `state` is `done`, `refused` (with `errno`: the kernel
  said no, nothing changed), `recovered` (its process died; the next writer found the change
  made) or `interrupted` (found not made). An op batch is undone by the opposite op (mkdir
  by rmdir, freeze by thaw, and back), written as an op batch with `undo_of`. `cgroup_id`
  (absent in lines of earlier versions) is the cgroup's identity, its directory's inode
  number: in the `op` record of an rmdir, freeze or thaw (the cgroup it acts on), in the
  `close` record of a mkdir (the cgroup it made); undo refuses to act on another cgroup made
  at the same path since.

A batch without its close record is *open*: its process died mid-batch (kill -9, power
loss). The next writer (a move or an undo) takes the lock, reads /proc to see which of the
open batch's tasks sit in their `to` and are the same task (same start time), and closes it
with those as `moved` (state `recovered`); undo then moves exactly those back.

Undo is bookkeeping, not deletion: an undo is a batch with `undo_of`. A PID of batch B counts
as undone when an undo of B moved it back (or found it back already); a PID whose task is gone
(vanished, ESRCH) is settled too; a refusal leaves it undoable, so an undo can be retried
once its cause is fixed. One refused with ENOENT found the cgroup it came from gone (systemd
removes a unit's cgroup, logind a session's scope): while that is the newest word on each PID
left, the batch shows `cannot be undone: origin gone`, and the engine neither picks it for a
bare undo nor records the same refusal again while the cgroup stays gone. A batch in which
nothing moved and some PID was refused closes `refused`, not `done`.

One writer at a time: every writer holds `flock` on the journal file itself for its whole
batch (waiting at most `lock_timeout` seconds), so two names of one file (a hard link) can
never give two writers; after the lock it checks that the name still leads to the file it
locked (a rotation replaces it). Only the user's own files are used (engine/owned.py): a
journal that is a symbolic link, is not owned by the effective user, is writable by group or
others, has another name (a hard link), or lies under a directory someone else could change
is refused (`JournalNotOwned`) before anything is read or written. If the journal cannot be
opened, locked, written and synced, `JournalError` is raised and nothing is moved.

Reading goes backwards from the end of the file, in blocks, and stops as soon as it has what
it needs (the newest undoable batch, the last N batches): time and memory follow what is
read, not the journal's length. Every line read is validated (types, ranges, absolute paths
without `..`); a bad line is a `JournalCorrupt` naming file:line. A last line without its
newline (a torn write) is forgiven with a warning and cut back to the last newline, whatever
its length, by the next writer. Only that last unterminated piece is ever forgiven.

Rotation: when a writer finds the file larger than `max_bytes` (default 8 MiB) plus what the
last rotation kept, it rewrites it keeping every batch that is still undoable (open, or with
PIDs left to undo), the undo batches that refer to them, every batch of a newer version,
and the newest batches, whole, until they reach back past the newest quarter of
`max_bytes` (recent history for `ctrtui log`; the newest batch whatever its size); the old
file stays as `PATH.1`. The new file is written as `PATH.tmpPID` (O_EXCL|O_NOFOLLOW) and
locked before it takes the name; a temp file whose process is gone is removed by the next
writer.

Every record carries `version` (`VERSION`; none means 1). The writer checks each record
with the reader's own `validate` (and `MAX_LINE`) before writing it: a record the reader
would refuse is `JournalLimit`, nothing written and nothing done. A record of a newer
version is read as `unknown`: its batch shows as "unknown to this version", is never undone
or recovered by this version, and the rest of the journal is read as usual.

Lines written by the journal of earlier versions (one line per PID, no `kind`) are read as
the outcomes of closed batches.

One journal belongs to one backend: the default file is chosen by the backend's identity
(`default_journal_path`), and the engine refuses to undo or recover a batch whose `backend`
names another one (`JournalMismatch`), so a journal given to two backends with `--journal`
never moves one's tasks by the other's record. Intents without `backend` (earlier versions,
when the file alone told the backend) are taken as the reading backend's.
"""

from __future__ import annotations

import _thread  # RLock without importing threading (~0.5 ms of every start)
import errno as _errno
import json
import os
import re
import stat
import time

from ctrtui.engine.owned import NotOwned, check_dir, check_file, make_dir, open_owned, remove_stale_temps, temp_name
from ctrtui.errors import CtrtuiError, errno_name
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from typing import Any

    Record = dict[str, Any]
    """One JSON object of the journal (a record, a task or outcome row): its values are JSON
    values, checked by `validate` where they are read."""

__all__ = ["Journal", "JournalError", "JournalCorrupt", "JournalMismatch", "Batch", "default_journal_path",
           "DEFAULT_MAX_BYTES", "KNOWN_OUTCOMES"]

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
"""Rotate past this size (plus what the last rotation kept)."""
DEFAULT_LOCK_TIMEOUT = 10.0
"""Seconds a writer waits for another ctrtui's batch to finish before refusing."""
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
"""The cgroup operations an `op` record names (engine/ops.py)."""
REQUIRED = ("batch", "pid", "hierarchy", "from", "to", "outcome")
"""Keys of a line of the earlier, one-line-per-PID format."""

_BATCH_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,79}\Z")
_BATCH_FIELD = re.compile(rb'"batch": "([A-Za-z0-9._:+-]{1,80})"')
_ERRNO_RE = re.compile(r"(E[A-Z0-9]{1,20}|errno [0-9]{1,6})\Z")


_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9@._+-]+")


def default_journal_path(identity: str = "local") -> str:
    """The journal of the backend whose identity is `identity`, in `$XDG_STATE_HOME/ctrtui/`:
    `journal.jsonl` for `local` (the real /sys/fs/cgroup; `real`, its kind, is taken as
    `local` too), `IDENTITY-journal.jsonl` for every other backend, with each run of
    characters other than letters, digits and `@._+-` written `-` (`demo` ->
    `demo-journal.jsonl`, `demo:hostile` -> `demo-hostile-journal.jsonl`): each backend has
    its own file, so none ever finds another's batches there."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    if identity in ("local", "real"):
        name = "journal.jsonl"
    else:
        name = f"{_UNSAFE_IN_NAME.sub('-', identity).strip('-.') or 'backend'}-journal.jsonl"
    return os.path.join(base, "ctrtui", name)


class JournalError(CtrtuiError):
    """The journal cannot be opened, locked, written or synced, so nothing is moved. The
    message is the one sentence to show (the CLI prints it and exits 2; the UI refuses the
    move with it)."""

    def __init__(self, path: str, action: str, err: OSError | None = None, detail: str = "") -> None:
        self.path = path
        self.errno = err.errno if err is not None else None
        why = detail or (f"{errno_name(err.errno)}: {err.strerror}" if err is not None and err.errno else str(err))
        super().__init__(f"cannot {action} the journal {display(path)} ({why}); nothing was moved. Free space or fix "
                         "its permissions, choose another file with --journal FILE, or move without a record "
                         "with --no-journal")


class JournalNotOwned(JournalError):
    """The journal, or a directory above it, is not the user's alone (engine/owned.py), or
    the journal has another name (a hard link): refused before anything is read or written."""

    def __init__(self, path: str, sentence: str, writing: bool = True) -> None:
        CtrtuiError.__init__(self, ("nothing was moved: " if writing else "") + sentence)
        self.path = path
        self.errno = None


class JournalLimit(JournalError):
    """A record the journal's reader would refuse (a path longer than it reads back, a line
    too long): not written, and the batch does nothing."""

    def __init__(self, path: str | None, why: str) -> None:
        CtrtuiError.__init__(self, f"cannot write the journal {display(path or '(memory)')}: its reader would "
                             f"refuse this record ({why}), so it was not written and nothing was done; shorten "
                             "what is too long")
        self.path = path or "(memory)"
        self.errno = None


class JournalCorrupt(CtrtuiError):
    """A line of the journal is not a valid record: the message names file:line."""


class JournalMismatch(JournalError):
    """A batch of the journal was made on another backend than the one asked to undo or
    recover it: refused, nothing is moved (a `JournalError`, so every caller that stops a
    move on a journal it cannot use stops on this too)."""

    def __init__(self, path: str | None, batch: Batch, backend: str, action: str) -> None:
        CtrtuiError.__init__(self, batch_mismatch(path, batch, backend, action))
        self.path = path or "(memory)"
        self.errno = None


def batch_mismatch(path: str | None, batch: Batch, backend: str, action: str) -> str:
    """The sentence refusing to `action` (undo, recover) `batch` on `backend`."""
    where = display(path or "(memory)")
    theirs, mine = display(batch.backend or "?"), display(backend)
    what = "it is open (interrupted) and only that backend can tell where its tasks are now" if action == "recover" \
        else "ctrtui undoes a batch only on the backend it moved tasks on"
    return (f"batch {batch.id} of the journal {where} was made on the backend '{theirs}', not on '{mine}'; {what}, "
            f"so nothing was moved. Run ctrtui on '{theirs}' to {action} it, or give '{mine}' its own journal "
            "with --journal FILE")


class _Bad(Exception):
    """A record that fails validation (message: what is wrong)."""


# ---------------------------------------------------------------------- validation


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _loads(line: bytes) -> Any:
    try:
        return json.loads(line, parse_constant=_reject_constant)
    except RecursionError:
        raise _Bad("nested too deeply") from None
    except ValueError as e:  # also UnicodeDecodeError
        raise _Bad(f"not JSON ({e})") from None


def _int(row: Mapping[str, object], key: str, lo: int, hi: int, null: bool = False) -> int | None:
    v = row.get(key)
    if v is None and null:
        return None
    if type(v) is not int or not lo <= v <= hi:
        raise _Bad(f"{key} must be an integer {lo}..{hi}{' or null' if null else ''}, not {_short(v)}")
    return v


def _str(row: Mapping[str, object], key: str, null: bool = False, limit: int = 4096) -> str | None:
    v = row.get(key)
    if v is None and null:
        return None
    if type(v) is str and len(v) > limit:
        raise _Bad(f"{key} must be a non-empty string of at most {limit} characters, not one of {len(v)}")
    if type(v) is not str or not v or "\0" in v:
        raise _Bad(f"{key} must be a non-empty string{' or null' if null else ''}, not {_short(v)}")
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
        raise _Bad(f"{key} must be an absolute cgroup path without '.' or '..', not {_short(v)}")
    if len(_GOOD_PATHS) < 4096 and len(v) <= 512:  # bounded: at most ~2 MB
        _GOOD_PATHS.add(v)
    return v


def _batch_id(row: Mapping[str, object], key: str, null: bool = False) -> str | None:
    v = row.get(key)
    if v is None and null:
        return None
    if type(v) is not str or not _BATCH_RE.match(v):
        raise _Bad(f"{key} must be a batch id, not {_short(v)}")
    return v


def _bool(row: Mapping[str, object], key: str) -> bool:
    v = row.get(key, False)
    if type(v) is not bool:
        raise _Bad(f"{key} must be true or false, not {_short(v)}")
    return v


def _errno_field(row: Mapping[str, object]) -> str | None:
    v = row.get("errno")
    if v is None:
        return None
    if type(v) is not str or not _ERRNO_RE.match(v):
        raise _Bad(f"errno must be an errno name or null, not {_short(v)}")
    return v


def _time(row: Mapping[str, object]) -> str:
    v = row.get("time", "")
    if type(v) is not str or len(v) > 64:
        raise _Bad(f"time must be a string, not {_short(v)}")
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
        raise _Bad(f"outcome must be one of {', '.join(sorted(KNOWN_OUTCOMES))}, not {_short(outcome)}")
    pid = _int(row, "pid", 1, PID_LIMIT, null=outcome == "refused")
    return {"pid": pid, "start_time": _int(row, "start_time", 0, 2**63, null=True), "from": _path(row, "from", True),
            "to": _path(row, "to", True), "outcome": outcome, "errno": _errno_field(row)}


def validate(obj: object) -> Record:
    """The record as a clean dict, or `_Bad` saying what is wrong."""
    if not isinstance(obj, dict):
        raise _Bad(f"a record must be a JSON object, not {type(obj).__name__}")
    version = obj.get("version", 1)
    if type(version) is not int or not 1 <= version < 2**31:
        raise _Bad(f"version must be a positive integer, not {_short(version)}")
    if version > VERSION:  # a newer ctrtui's: its batch is unknown to this one, the rest is read
        bid = obj.get("batch")
        return {"kind": "unknown", "version": version,
                "batch": bid if type(bid) is str and _BATCH_RE.match(bid) else None}
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
            raise _Bad(f"state must be one of {', '.join(CLOSE_STATES)}, not {_short(state)}")
        rec = {"kind": kind, "batch": _batch_id(obj, "batch"), "state": state, "time": _time(obj)}
        if "errno" in obj:
            rec["errno"] = _errno_field(obj)
        if "cgroup_id" in obj:
            rec["cgroup_id"] = _int(obj, "cgroup_id", 0, 2**64 - 1, True)
        return rec
    if kind == "op":
        op = obj.get("op")
        if op not in OPS:
            raise _Bad(f"op must be one of {', '.join(OPS)}, not {_short(op)}")
        return {"kind": kind, "batch": _batch_id(obj, "batch"), "backend": _str(obj, "backend", True, limit=255),
                "time": _time(obj), "op": op, "hierarchy": _str(obj, "hierarchy", limit=255),
                "path": _path(obj, "path"), "undo_of": _batch_id(obj, "undo_of", True),
                "cgroup_id": _int(obj, "cgroup_id", 0, 2**64 - 1, True) if "cgroup_id" in obj else None}
    if kind == "intent":
        tasks = obj.get("tasks")
        if not isinstance(tasks, list):
            raise _Bad(f"tasks must be a list, not {_short(tasks)}")
        clean = []
        for t in tasks:
            if not isinstance(t, dict):
                raise _Bad(f"each task must be an object, not {_short(t)}")
            pidfs = t.get("pidfs")
            if pidfs is not None and not (isinstance(pidfs, list) and len(pidfs) == 2
                                          and all(type(x) is int and 0 <= x < 2**64 for x in pidfs)):
                raise _Bad(f"pidfs must be [device, inode] or null, not {_short(pidfs)}")
            clean.append({"pid": _int(t, "pid", 1, PID_LIMIT), "start_time": _int(t, "start_time", 0, 2**63, True),
                          "pidfs": pidfs, "from": _path(t, "from", True), "to": _path(t, "to")})
        return {"kind": kind, "batch": _batch_id(obj, "batch"), "backend": _str(obj, "backend", True, limit=255),
                "time": _time(obj),
                "hierarchy": _str(obj, "hierarchy", limit=255), "threads": _bool(obj, "threads"),
                "undo_of": _batch_id(obj, "undo_of", True), "target": _path(obj, "target"), "tasks": clean}
    if kind == "header":
        return {"kind": kind, "kept_bytes": _int(obj, "kept_bytes", 0, 2**63)}
    raise _Bad(f"kind must be intent, op, outcome, close or header, not {_short(kind)}")


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
        """For a cgroup op batch (engine/ops.py): mkdir, rmdir, freeze or thaw; `target` is its path."""
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


def _settles(outcome: Mapping[str, object]) -> str | None:
    """What an undo's outcome row means for the PID it undoes: 'undone' or 'gone' (the task
    exited) settle it; 'origin-gone' (ENOENT: the cgroup it came from, the undo's target, was
    gone) and None (refused otherwise) leave it undoable, to be retried once fixed."""
    if outcome["outcome"] in ("moved", "already-there"):
        return "undone"
    if outcome["outcome"] == "vanished" or outcome["errno"] == "ESRCH":
        return "gone"
    if outcome["outcome"] == "refused" and outcome["errno"] == "ENOENT":
        return "origin-gone"
    return None


# ---------------------------------------------------------------------- the journal


class Journal:
    """The write-ahead journal at `path`, or kept in memory when `path` is None (then undo
    works for the life of the object, and reports say `journaled: false`). `warnings`
    collects what was forgiven (a torn last line)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.max_bytes = max_bytes
        self.lock_timeout = lock_timeout
        self.warnings: list[str] = []
        self._memory = bytearray()
        self._mutex = _thread.RLock()
        self._depth = 0
        self._fd: int | None = None  # the journal, open for append while locked
        self._lock_fd: int | None = None

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    @property
    def durable(self) -> bool:
        """True when batches are written to a file (False: in memory only)."""
        return self.path is not None

    def _warn(self, msg: str) -> None:
        if msg not in self.warnings:
            self.warnings.append(msg)

    # ------------------------------------------------------------------ opening

    def _open_regular(self, path: str, flags: int, action: str) -> int:
        """Open without following a link and without blocking (a FIFO must not hang us);
        refuse what is not a regular file of the user's (engine/owned.py) in a directory only
        the user can change."""
        try:
            return open_owned(path, flags, "journal", "--journal FILE")
        except NotOwned as e:
            raise JournalNotOwned(path, str(e), writing=bool(flags & (os.O_WRONLY | os.O_RDWR))) from None
        except OSError as e:
            raise JournalError(path, action, e) from None

    def busy(self) -> bool:
        """True while a writer holds the journal (a batch at work, not left open); False when
        it is free or there is no file. `JournalNotOwned` or OSError when it cannot be opened."""
        import fcntl

        if self.path is None:
            return False
        try:
            fd = open_owned(self.path, os.O_RDONLY, "journal", "--journal FILE")
        except FileNotFoundError:
            return False
        except NotOwned as e:
            raise JournalNotOwned(self.path, str(e), writing=False) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (_errno.EWOULDBLOCK, _errno.EAGAIN):
                return True
            raise
        finally:
            os.close(fd)
        return False

    def check_owned(self) -> None:
        """`JournalNotOwned` when the journal (or a directory above it) is not the user's
        alone, or the journal has another name; nothing when it is fine or does not exist
        yet. For a front end that says so before any move (the UI's read-only reason)."""
        if self.path is None:
            return
        try:
            if check_file(self.path, "journal", "--journal FILE"):
                st = os.lstat(self.path)
                if st.st_nlink > 1 and not self._backup_link_only(st):
                    raise NotOwned(self.path, _names_sentence(self.path, st.st_nlink))
        except NotOwned as e:
            raise JournalNotOwned(self.path, str(e), writing=False) from None
        except OSError:
            pass  # the open says what is wrong

    def locked(self) -> _Locked:
        """Context manager: hold the journal for a whole batch (re-entrant). Opens the
        journal for writing, takes `flock` on the file itself (waiting up to `lock_timeout`
        seconds) and cuts a torn last line. `JournalError` if any of it fails."""
        return _Locked(self)

    def _acquire(self) -> None:
        self._mutex.acquire()
        if self._depth:
            self._depth += 1
            return
        try:
            if self.path is not None:
                self._open_for_writing()
            self._depth = 1
        except BaseException:
            self._close_fds()
            self._mutex.release()
            raise

    def _release(self) -> None:
        try:
            self._depth -= 1
            if self._depth == 0:
                self._close_fds()
        finally:
            self._mutex.release()

    def _close_fds(self) -> None:
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                try:
                    os.close(fd)  # closing the lock file releases the flock
                except OSError:
                    pass
        self._fd = self._lock_fd = None

    def _open_for_writing(self) -> None:
        """Open the journal, lock the file itself (so two names of one file, a symlink
        refused or a hard link, never give two writers), make sure the name still leads to
        the locked file (a rotation may have replaced it meanwhile), cut a torn tail and
        remove the temporary files of rotations that were killed."""
        import fcntl

        path = self.path
        assert path is not None
        directory = os.path.dirname(path) or "."
        try:
            check_dir(directory, "journal", path, "--journal FILE")
            make_dir(directory)
        except NotOwned as e:
            raise JournalNotOwned(path, str(e)) from None
        except OSError as e:
            raise JournalError(path, "create the directory of", e) from None
        deadline = time.monotonic() + self.lock_timeout
        while True:
            existed = os.path.lexists(path)
            fd = self._fd = self._open_regular(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, "open")
            if not existed:
                _fsync_dir(directory)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (_errno.EWOULDBLOCK, _errno.EAGAIN, _errno.EINTR):
                        raise JournalError(path, "lock", e) from None
                    if time.monotonic() >= deadline:
                        raise JournalError(path, "lock", detail=(
                            f"another ctrtui has held it for more than {self.lock_timeout:g} s")) from None
                    time.sleep(0.02)
            st = os.fstat(fd)
            try:
                now = os.lstat(path)
            except OSError:
                now = None
            if now is not None and (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                break
            os.close(fd)  # rotated (or replaced) while we waited: lock the file the name leads to now
            self._fd = None
        if st.st_nlink > 1 and not self._heal_backup_link(st):
            raise JournalNotOwned(path, _names_sentence(path, st.st_nlink))
        self._cut_torn_tail(fd)
        for gone in remove_stale_temps(path):
            self._warn(f"{display(path)}: removed {display(os.path.basename(gone))}, left by a rotation that was "
                       "stopped half-way")

    def _backup_link_only(self, st: os.stat_result) -> bool:
        """True when the journal's only other name is `PATH.1`: what a rotation killed
        between linking `PATH.1` and replacing PATH leaves (the next writer drops it)."""
        assert self.path is not None
        try:
            o = os.lstat(self.path + ".1")
        except OSError:
            return False
        return st.st_nlink == 2 and (o.st_dev, o.st_ino) == (st.st_dev, st.st_ino)

    def _heal_backup_link(self, st: os.stat_result) -> bool:
        """Drop the `.1` name of a journal a killed rotation left with two names (the file is
        all there under PATH). True when that was the only other name."""
        assert self.path is not None
        if not self._backup_link_only(st):
            return False
        try:
            os.unlink(self.path + ".1")
        except OSError:
            return False
        return True

    # ------------------------------------------------------------------ writing

    def _append(self, data: bytes, action: str) -> None:
        """One write of whole lines, then fsync; JournalError on failure (a short write is
        cut back so the file ends on a line boundary)."""
        if self.path is None:
            self._memory += data
            return
        if self._fd is None:
            raise RuntimeError("Journal: write outside locked()")
        fd = self._fd
        size = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        except OSError as e:
            try:
                os.ftruncate(fd, size)
            except OSError:
                pass  # left torn: the next writer cuts it
            raise JournalError(self.path, action, e) from None

    def _line(self, rec: Record) -> bytes:
        """`rec` as a line, or `JournalLimit` when the reader would refuse it: the writer and
        the reader check the same rules (`validate`, `MAX_LINE`), before anything is written."""
        try:
            validate(rec)
            line = _dumps(rec)
            if len(line) > MAX_LINE:
                raise _Bad(f"the record is {len(line)} bytes long, more than a line may hold ({MAX_LINE})")
        except _Bad as e:
            raise JournalLimit(self.path, str(e)) from None
        return line

    def write_intent(self, batch_id: str, hierarchy: str, threads: bool, undo_of: str | None, target: str,
                     tasks: Sequence[Mapping[str, object]], backend: str | None = None) -> None:
        """The write-ahead record of a batch, synced before the batch writes anything.
        `backend`: the identity of the backend it moves tasks on. `JournalLimit` (nothing
        written) for a record its reader would refuse."""
        rec = {"kind": "intent", "version": VERSION, "batch": batch_id, **({"backend": backend} if backend else {}),
               "time": now_iso(), "hierarchy": hierarchy,
               "threads": bool(threads), "undo_of": undo_of, "target": target, "tasks": list(tasks)}
        self._append(self._line(rec), "write")

    def write_op(self, batch_id: str, op: str, hierarchy: str, path: str, undo_of: str | None,
                 backend: str | None = None, cgroup_id: int | None = None) -> None:
        """The write-ahead record of a cgroup op batch (mkdir, rmdir, freeze, thaw), synced
        before the kernel is asked. `cgroup_id`: the identity of the cgroup it acts on."""
        rec = {"kind": "op", "version": VERSION, "batch": batch_id, **({"backend": backend} if backend else {}),
               "time": now_iso(), "op": op, "hierarchy": hierarchy, "path": path, "undo_of": undo_of,
               **({"cgroup_id": cgroup_id} if cgroup_id is not None else {})}
        self._append(self._line(rec), "write")

    def write_op_close(self, batch_id: str, state: str, errno: str | None = None,
                       cgroup_id: int | None = None) -> None:
        """The close record of an op batch: done, refused (with the kernel's errno), recovered
        or interrupted. `cgroup_id`: the identity of the cgroup a mkdir made."""
        rec = {"kind": "close", "version": VERSION, "batch": batch_id, "time": now_iso(), "state": state,
               **({"errno": errno if _ERRNO_RE.match(errno) else None} if errno else {}),
               **({"cgroup_id": cgroup_id} if cgroup_id is not None else {})}
        self._append(self._line(rec), "write the outcome to")

    def write_close(self, batch_id: str, outcomes: Sequence[Mapping[str, object]], state: str) -> None:
        """The outcomes and the close record of a batch, in one write and one fsync."""
        lines = []
        for o in outcomes:
            e = o.get("errno")
            if e is not None and not (type(e) is str and _ERRNO_RE.match(e)):
                o = {**o, "errno": None}  # a hook's odd errno: the reader would refuse the line
            lines.append(self._line({"kind": "outcome", "version": VERSION, "batch": batch_id, **o}))
        lines.append(self._line({"kind": "close", "version": VERSION, "batch": batch_id, "time": now_iso(),
                                 "state": state}))
        self._append(b"".join(lines), "write the outcomes to")

    def _cut_torn_tail(self, fd: int) -> None:
        """A last line without its newline is a torn write: cut the file back to its last
        newline, however long the torn piece (or, when it is a whole valid record that only
        lost its newline, add the newline)."""
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return
        keep = _last_newline(lambda n, off: os.pread(fd, n, off), size) + 1
        torn = size - keep
        if torn <= MAX_LINE:
            try:
                validate(_loads(os.pread(fd, torn, keep)))
                os.write(fd, b"\n")
                return
            except _Bad:
                pass
        os.ftruncate(fd, keep)
        os.fsync(fd)
        self._warn(f"{display(self.path)}: cut off a torn last line ({torn} bytes) left by an interrupted write")

    # ------------------------------------------------------------------ reading

    def _reader(self) -> tuple[Callable[[int, int], bytes], int, Callable[[], None]]:
        """(pread, size, close) over the journal as it is now."""
        if self.path is None:
            mem = bytes(self._memory)
            return (lambda n, off: mem[off:off + n]), len(mem), (lambda: None)
        if self._fd is not None:
            fd = self._fd
            return (lambda n, off: os.pread(fd, n, off)), os.fstat(fd).st_size, (lambda: None)
        try:
            fd = open_owned(self.path, os.O_RDONLY, "journal", "--journal FILE")
        except FileNotFoundError:
            return (lambda n, off: b""), 0, (lambda: None)
        except NotOwned as e:
            raise JournalNotOwned(self.path, str(e), writing=False) from None
        except OSError as e:
            raise CtrtuiError(f"cannot read journal {display(self.path)}: {errno_name(e.errno or 0)} "
                              f"({e.strerror}); fix "
                              "its permissions, or give another file with --journal FILE") from None
        size = os.fstat(fd).st_size
        return (lambda n, off: os.pread(fd, n, off)), size, (lambda: os.close(fd))

    def records(self) -> Iterator[tuple[int, Record]]:
        """(offset, record) newest first, each validated; a torn last piece is skipped with a
        warning. `JournalCorrupt` names file:line of the first bad line met."""
        pread, size, close = self._reader()
        try:
            end = size
            if size and pread(1, size - 1) != b"\n":
                end = _last_newline(pread, size) + 1
                self._warn(f"{display(self.path or 'journal')}: ignored a torn last line ({size - end} bytes, an "
                           "interrupted write)")
            for offset, line in _lines_backward(pread, end):
                if not line.strip():
                    continue
                try:
                    if len(line) > MAX_LINE:
                        raise _Bad(f"line longer than {MAX_LINE} bytes")
                    yield offset, validate(_loads(line))
                except _Bad as e:
                    no = _count_newlines(pread, offset) + 1
                    raise JournalCorrupt(f"journal {display(self.path or '(memory)')} is corrupt at line {no}: "
                                         f"{e}; move "
                                         "the file away to start a new one") from None
        finally:
            close()

    def _batches(self) -> Iterator[Batch]:
        """Batches newest first, each complete (its intent, outcomes, close and every undo
        after it accounted for) when yielded. Reads only as far back as it is iterated."""
        building: dict[str, Batch] = {}
        pending: dict[str, list[Batch]] = {}  # undo_of -> undo batches seen (newer)
        legacy: Batch | None = None
        unknown: set[str] = set()  # batches a record of a newer version was met for

        def finish(b: Batch) -> Batch:
            building.pop(b.id, None)
            b.outcomes.reverse()
            for u in pending.get(b.id, ()) if b.op is not None else ():
                if u.op is not None and u.state in ("done", "recovered"):
                    b.op_undone = True
            seen: set[tuple[int, int | None]] = set()
            for u in pending.pop(b.id, ()):  # newest first
                for o in u.outcomes:
                    if o["pid"] is None:
                        continue
                    key = (o["pid"], o["start_time"])
                    what = _settles(o)
                    if what == "origin-gone":
                        if key not in seen:  # what the newest attempt found
                            b.origin_gone.add(key)
                    elif what:
                        b.settled.add(key)
                        if what == "undone":
                            b.undone.add(key)
                    seen.add(key)
            if b.undo_of is not None:
                pending.setdefault(b.undo_of, []).append(b)
            return b

        for offset, rec in self.records():
            kind = rec["kind"]
            if kind == "header":
                continue
            bid = rec["batch"]
            if legacy is not None and (kind != "legacy" or bid != legacy.id):
                yield finish(legacy)
                legacy = None
            if kind == "unknown" or bid in unknown:
                if kind == "unknown" and bid is not None and bid not in unknown:
                    unknown.add(bid)  # shown where its newest record is; its other records are its own
                    u = building.pop(bid, None) or Batch(bid)
                    u.unknown, u.offset = rec["version"], offset
                    yield u
                continue
            if kind == "legacy":
                if legacy is None:
                    legacy = building.get(bid) or Batch(bid)
                    legacy.legacy, legacy.state = True, "done"
                    legacy.hierarchy, legacy.threads, legacy.undo_of = rec["hierarchy"], rec["threads"], rec["undo_of"]
                    legacy.time, legacy.target = rec["time"], rec["to"]
                legacy.offset = offset
                legacy.outcomes.append(rec)
                continue
            b = building.get(bid)
            if b is None:
                b = building[bid] = Batch(bid)
            b.offset = offset
            if kind == "close":
                b.state = rec["state"]
                b.errno = rec.get("errno")
                b.cgroup_id = rec.get("cgroup_id")
                b.time = b.time or rec["time"]
            elif kind == "op":
                b.time, b.hierarchy, b.op, b.target = rec["time"], rec["hierarchy"], rec["op"], rec["path"]
                b.undo_of, b.backend = rec["undo_of"], rec["backend"]
                if b.cgroup_id is None:  # the close record's (a mkdir's) comes first, read backwards
                    b.cgroup_id = rec["cgroup_id"]
                yield finish(b)
            elif kind == "outcome":
                b.outcomes.append(rec)
            else:  # intent: the batch is complete
                b.time, b.hierarchy, b.threads = rec["time"], rec["hierarchy"], rec["threads"]
                b.undo_of, b.target, b.tasks, b.backend = rec["undo_of"], rec["target"], rec["tasks"], rec["backend"]
                yield finish(b)
        if legacy is not None:
            yield finish(legacy)
        for b in sorted(building.values(), key=lambda b: -b.offset):
            yield finish(b)  # outcomes whose intent is missing: shown as they are

    def open_batches(self) -> list[Batch]:
        """Batches whose process died before their close record, oldest first. Every writer
        closes the open batches before it writes, so they all lie after the last close
        record: the scan stops there, and at a record of a newer ctrtui (which closed what was
        open before it wrote; its own open batches are not this version's to recover)."""
        found: dict[str, Batch] = {}
        for _, rec in self.records():
            kind = rec["kind"]
            if kind in ("close", "legacy", "header", "unknown"):
                break
            if kind == "intent":
                b = Batch(rec["batch"])
                b.time, b.hierarchy, b.threads = rec["time"], rec["hierarchy"], rec["threads"]
                b.undo_of, b.target, b.tasks, b.backend = rec["undo_of"], rec["target"], rec["tasks"], rec["backend"]
                found[b.id] = b
            elif kind == "op":
                b = Batch(rec["batch"])
                b.time, b.hierarchy, b.op, b.target = rec["time"], rec["hierarchy"], rec["op"], rec["path"]
                b.undo_of, b.backend, b.cgroup_id = rec["undo_of"], rec["backend"], rec["cgroup_id"]
                found[b.id] = b
        return list(reversed(found.values()))

    def find_undoable(self, batch_id: str | None = None) -> Batch | None:
        """The newest batch with PIDs left to undo, or the batch named `batch_id` (None when
        it has nothing left to undo; CtrtuiError when the journal has no such batch)."""
        if batch_id is None:
            return next(self.undoable_batches(), None)
        for b in self._batches():
            if b.id == batch_id:
                if b.unknown is not None:
                    raise CtrtuiError(f"batch {b.id} of the journal {display(self.path or '(memory)')} was "
                                      f"written by a newer ctrtui (record version {b.unknown}; this one knows "
                                      f"up to {VERSION}), so this version cannot tell what it did; undo it with "
                                      "that version")
                return b if b.undoable() else None
        if batch_id is not None:
            raise CtrtuiError(f"the journal {display(self.path or '(memory)')} has no batch '{display(batch_id)}'; "
                              "`ctrtui log` lists the batches")
        return None

    def undoable_batches(self) -> Iterator[Batch]:
        """The batches with something left to undo, newest first (read only as far back as
        iterated): a bare undo takes the first it can undo."""
        for b in self._batches():
            if b.unknown is not None:
                self._warn(f"batch {b.id} of the journal {display(self.path or '(memory)')} was written by a newer "
                           f"ctrtui (record version {b.unknown}); this version leaves it alone (undo it with that "
                           "version)")
                continue
            if b.undo_of is None and b.undoable():
                yield b

    def batches(self, limit: int | None = None) -> list[Batch]:
        """The newest `limit` batches (all when None), newest first."""
        out = []
        for b in self._batches():
            out.append(b)
            if limit is not None and len(out) >= limit:
                break
        return out

    def entries(self) -> list[Record]:
        """Every record, oldest first (reads the whole journal: for tests and tools)."""
        return [r for _, r in reversed(list(self.records()))]

    def last_undoable(self) -> tuple[str, list[Record]] | None:
        """(batch id, rows left to undo) of the newest undoable batch, or None."""
        b = self.find_undoable()
        return None if b is None else (b.id, b.remaining())

    # ------------------------------------------------------------------ rotation

    def maybe_rotate(self) -> bool:
        """Rotate when the file is past `max_bytes` (plus what the last rotation kept): keep
        every batch still undoable, the undos that refer to them, every batch of a newer
        ctrtui, and the newest batches, whole, until they fill a quarter of `max_bytes` (the
        newest one whatever its size), in their order; the old file stays as PATH.1. Call
        while locked: the new file is locked before it takes the name. True when it rotated."""
        if self.path is None or self._fd is None:
            return False
        import fcntl

        fd = self._fd
        size = os.fstat(fd).st_size
        if size <= self.max_bytes:
            return False
        kept = 0
        first = os.pread(fd, 256, 0)
        if first.startswith(b'{"kind": "header"'):
            try:
                kept = validate(_loads(first.split(b"\n", 1)[0])).get("kept_bytes") or 0
            except _Bad:
                kept = 0
        if size <= self.max_bytes + kept:
            return False
        keep: set[str] = set()
        undo_of: dict[str, str] = {}
        recent: int | None = size - self.max_bytes // 4  # the newest batches stay too, for `ctrtui log`
        for b in self._batches():
            if recent is not None:
                keep.add(b.id)  # whole: the newest history is counted in batches
                if b.offset <= recent:
                    recent = None  # this one reaches back past the quarter: the last kept for history
            if b.undo_of is not None:
                undo_of[b.id] = b.undo_of
            elif b.undoable() or b.unknown is not None:
                keep.add(b.id)
        keep |= {u for u, of in undo_of.items() if of in keep}
        tmp = temp_name(self.path)
        out: int | None = None
        try:
            out = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            fcntl.flock(out, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new, so ours at once; held when it takes the name
            # the header's kept_bytes is padded so that it can be filled in in place
            header = b'{"kind": "header", "version": %d, "time": "%s", "kept_bytes": 0%s}\n' % (
                VERSION, now_iso().encode(), b" " * 20)
            _write_all(out, header)
            body: list[bytes] = []
            total = kept = 0
            for line in _lines_forward(lambda n, off: os.pread(fd, n, off), size):
                # every line was validated by the scan above: only its batch id is needed
                m = _BATCH_FIELD.search(line)
                bid = m.group(1).decode() if m is not None else _loads(line).get("batch")
                if bid in keep:
                    body.append(line)
                    total += len(line)
                    kept += len(line)
                    if total > BLOCK:
                        _write_all(out, b"".join(body))
                        body.clear()
                        total = 0
            _write_all(out, b"".join(body))
            filled = b'{"kind": "header", "version": %d, "time": "%s", "kept_bytes": %d' % (
                VERSION, now_iso().encode(), kept)
            os.pwrite(out, filled.ljust(len(header) - 2) + b"}\n", 0)  # before O_APPEND, which pwrite obeys
            os.fsync(out)
            old = self.path + ".1"
            try:
                os.unlink(old)
            except FileNotFoundError:
                pass
            try:
                os.link(self.path, old)
            except OSError:
                pass  # no backup where hard links are refused; the kept batches are in the new file
            os.replace(tmp, self.path)
            _fsync_dir(os.path.dirname(self.path) or ".")
        except OSError as e:
            if out is not None:
                os.close(out)
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            self._warn(f"{display(self.path)}: could not rotate the journal "
                       f"({errno_name(e.errno or 0)}: {e.strerror}); "
                       "it keeps growing")
            return False
        fcntl.fcntl(out, fcntl.F_SETFL, fcntl.fcntl(out, fcntl.F_GETFL) | os.O_APPEND)
        self._fd = out  # locked above: a writer waiting on the old file finds the name moved and waits here
        os.close(fd)
        return True


class _Locked:
    __slots__ = ("journal",)

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def __enter__(self) -> Journal:
        self.journal._acquire()
        return self.journal

    def __exit__(self, *exc: object) -> None:
        self.journal._release()


# ---------------------------------------------------------------------- helpers


def now_iso() -> str:
    """UTC now as ISO 8601 with milliseconds (`2026-11-29T01:33:07.123+00:00`)."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}+00:00"


def _dumps(rec: Mapping[str, object]) -> bytes:
    return (json.dumps(rec) + "\n").encode()  # default arguments: json's cached encoder (fast)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_all(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _names_sentence(path: str, links: int) -> str:
    return (f"the journal {display(path)} has {links} names (hard links), and two names of one journal would give "
            "two writers and two histories; keep one name (find the others with `find / -xdev -samefile "
            f"{display(path)}` and remove them), or give another file with --journal FILE")


def _lines_forward(pread: Callable[[int, int], bytes], end: int) -> Iterator[bytes]:
    """The whole lines (each with its newline) in [0, end), oldest first: what a torn last
    piece leaves out is not a line."""
    pos, carry = 0, b""
    while pos < end:
        data = carry + pread(min(BLOCK * 16, end - pos), pos)
        if not data or len(data) == len(carry):
            break
        pos += len(data) - len(carry)
        lines = data.split(b"\n")
        carry = lines.pop()
        for line in lines:
            yield line + b"\n"


def _last_newline(pread: Callable[[int, int], bytes], size: int) -> int:
    """Offset of the last b'\\n' before `size`, or -1: read backwards in blocks (constant memory)."""
    pos = size
    while pos > 0:
        n = min(BLOCK, pos)
        pos -= n
        i = pread(n, pos).rfind(b"\n")
        if i >= 0:
            return pos + i
    return -1


def _count_newlines(pread: Callable[[int, int], bytes], end: int) -> int:
    count, pos = 0, 0
    while pos < end:
        n = min(BLOCK * 16, end - pos)
        count += pread(n, pos).count(b"\n")
        pos += n
    return count


def _lines_backward(pread: Callable[[int, int], bytes], end: int) -> Iterator[tuple[int, bytes]]:
    """(offset, line without its newline) of the lines in [0, end), newest first; `end` is 0
    or just past a newline. Memory: one block plus the longest line."""
    pos = end
    carry = b""  # the start of a line that began before `pos`; it ends at pos + len(carry)
    first = True
    while pos > 0:
        n = min(BLOCK, pos)
        pos -= n
        data = pread(n, pos) + carry
        parts = data.split(b"\n")
        if first:
            parts.pop()  # the empty piece after the final newline
            first = False
        carry = parts[0]
        offsets = []
        off = pos + len(carry) + 1
        for part in parts[1:]:
            offsets.append(off)
            off += len(part) + 1
        for i in range(len(parts) - 1, 0, -1):
            yield offsets[i - 1], parts[i]
        if len(carry) > MAX_LINE + 1:
            yield pos, carry  # too long: validation says so
            return
    if carry:
        yield 0, carry


def lock_holder(path: str) -> int | None:
    """Who holds the writer lock of the journal `path` (`flock` on the journal file itself)
    now: None when no writer does (or there is no journal); else the holder's PID as /proc/locks names it,
    or 0 when it does not (a holder in another PID namespace). Where /proc/locks names another
    device than stat (overlayfs, btrfs subvolumes), the one write lock on that inode number
    is taken as the holder's. Only read: the journal is probed with a shared lock, taken
    without waiting and let go at once, and /proc/locks asks nothing of the holder (any
    version of ctrtui, or another tool)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return None  # free (closing lets go of the shared lock)
        except OSError as e:
            if e.errno not in (_errno.EWOULDBLOCK, _errno.EAGAIN):
                return None
        try:
            with open("/proc/locks", "rb") as f:
                text = f.read(1 << 22)
        except OSError:
            return 0
        dev, by_inode = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino), []
        for line in text.split(b"\n"):
            # `1: FLOCK  ADVISORY  WRITE 1234 fe:00:5678 0 EOF` (a waiter's line has `->`)
            parts = line.split()
            if len(parts) < 6 or parts[1] != b"FLOCK" or parts[3] != b"WRITE" or not parts[4].isdigit():
                continue
            try:
                major, minor, ino = parts[5].split(b":")
                key = (int(major, 16), int(minor, 16), int(ino))
            except ValueError:
                continue
            if key == dev:
                return int(parts[4])
            if key[2] == st.st_ino:
                by_inode.append(int(parts[4]))
        return by_inode[0] if len(by_inode) == 1 else 0
    finally:
        os.close(fd)
