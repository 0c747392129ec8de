"""The journal's store: the file of write-ahead records of every batch, its locking, writing,
reading, rotation and recovery of a torn tail.

The records and their format are `ctrtui.engine.records`; the batch bookkeeping the engine
and the cgroup ops share is `ctrtui.engine.batches`.

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
locked (a rotation replaces it). Only the user's own files are used (`ctrtui.engine.owned`): a
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

One journal belongs to one backend: the default file is chosen by the backend's identity
(`default_journal_path`), and the engine refuses to undo or recover a batch whose `backend`
names another one (`JournalMismatch`), so a journal given to two backends with `--journal`
never moves one's tasks by the other's record. Intents without `backend` (earlier versions,
when the file alone told the backend) are taken as the reading backend's.
"""

from __future__ import annotations

import os
import re

from ctrtui.engine.batchassembly import assemble_batches, open_batches_in
from ctrtui.engine.journalerrors import JournalCorrupt, JournalError, JournalLimit, JournalNotOwned
from ctrtui.engine.journalfile import count_newlines, last_newline, lines_backward, rotate_file
from ctrtui.engine.journallock import DEFAULT_LOCK_TIMEOUT, JournalFile
from ctrtui.engine.owned import NotOwned, open_owned
from ctrtui.engine.records import (
    ERRNO_RE,
    MAX_LINE,
    VERSION,
    BadRecord,
    Batch,
    dumps,
    loads,
    now_iso,
    outcome_lines,
    validate,
)
from ctrtui.errors import CtrtuiError, errno_name
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from ctrtui.engine.records import Record

__all__ = ["Journal", "JournalError", "JournalCorrupt", "JournalLimit", "JournalNotOwned", "Batch",
           "default_journal_path", "DEFAULT_MAX_BYTES"]

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
"""Rotate past this size (plus what the last rotation kept)."""

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


class Journal(JournalFile):
    """The write-ahead journal at `path`, or kept in memory when `path` is None (then undo
    works for the life of the object, and reports say `journaled: false`). `warnings`
    collects what was forgiven (a torn last line). Opening and locking: `JournalFile`."""

    def __init__(self, path: str | os.PathLike[str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        super().__init__(path, lock_timeout)
        self.max_bytes = max_bytes
        self._memory = bytearray()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    @property
    def durable(self) -> bool:
        """True when batches are written to a file (False: in memory only)."""
        return self.path is not None


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
            line = dumps(rec)
            if len(line) > MAX_LINE:
                raise BadRecord(f"the record is {len(line)} bytes long, more than a line may hold ({MAX_LINE})")
        except BadRecord as e:
            raise JournalLimit(self.path, str(e)) from None
        return line

    def write_intent(self, batch_id: str, hierarchy: str, threads: bool, undo_of: str | None, target: str,
                     tasks: Sequence[Mapping[str, object]], backend: str | None = None, route: str = "kernel") -> None:
        """The write-ahead record of a batch, synced before the batch writes anything.
        `backend`: the identity of the backend it moves tasks on; `route`: `systemd` or
        `scope` when systemd moves them (recorded only then). `JournalLimit` (nothing written) for a
        record its reader would refuse."""
        rec = {"kind": "intent", "version": VERSION, "batch": batch_id, **({"backend": backend} if backend else {}),
               "time": now_iso(), "hierarchy": hierarchy,
               "threads": bool(threads), "undo_of": undo_of, "target": target, "tasks": list(tasks),
               **({"route": route} if route != "kernel" else {})}
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
               **({"errno": errno if ERRNO_RE.match(errno) else None} if errno else {}),
               **({"cgroup_id": cgroup_id} if cgroup_id is not None else {})}
        self._append(self._line(rec), "write the outcome to")

    def write_close(self, batch_id: str, outcomes: Sequence[Mapping[str, object]], state: str) -> None:
        """The outcomes and the close record of a batch, in one write and one fsync."""
        rows = []
        for o in outcomes:
            e = o.get("errno")
            if e is not None and not (type(e) is str and ERRNO_RE.match(e)):
                o = {**o, "errno": None}  # a hook's odd errno: the reader would refuse the line
            rows.append(o)
        fast = outcome_lines(batch_id, rows)  # the common case, checked column by column
        lines = [fast] if fast is not None else [
            self._line({"kind": "outcome", "version": VERSION, "batch": batch_id, **o}) for o in rows]
        lines.append(self._line({"kind": "close", "version": VERSION, "batch": batch_id, "time": now_iso(),
                                 "state": state}))
        self._append(b"".join(lines), "write the outcomes to")


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
                end = last_newline(pread, size) + 1
                self._warn(f"{display(self.path or 'journal')}: ignored a torn last line ({size - end} bytes, an "
                           "interrupted write)")
            for offset, line in lines_backward(pread, end):
                if not line.strip():
                    continue
                try:
                    if len(line) > MAX_LINE:
                        raise BadRecord(f"line longer than {MAX_LINE} bytes")
                    yield offset, validate(loads(line))
                except BadRecord as e:
                    no = count_newlines(pread, offset) + 1
                    raise JournalCorrupt(f"journal {display(self.path or '(memory)')} is corrupt at line {no}: "
                                         f"{e}; move "
                                         "the file away to start a new one") from None
        finally:
            close()

    def _batches(self) -> Iterator[Batch]:
        """Batches newest first, each complete when yielded (`records.assemble_batches`).
        Reads only as far back as it is iterated."""
        return assemble_batches(self.records())

    def open_batches(self) -> list[Batch]:
        """Batches whose process died before their close record, oldest first (the scan stops
        at the last close record: `records.open_batches_in`)."""
        return open_batches_in(self.records())

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

    def maybe_rotate(self) -> bool:
        """Rotate when the file is past `max_bytes` (plus what the last rotation kept): keep
        every batch still undoable, the undos that refer to them, every batch of a newer
        ctrtui, and the newest batches, whole, until they fill a quarter of `max_bytes` (the
        newest one whatever its size), in their order; the old file stays as PATH.1. Call
        while locked: the new file is locked before it takes the name. True when it rotated."""
        if self.path is None or self._fd is None:
            return False
        fd = self._fd
        size = os.fstat(fd).st_size
        if size <= self.max_bytes or size <= self.max_bytes + _kept_bytes(fd):
            return False
        keep = self._to_keep(size)
        try:
            out = rotate_file(self.path, fd, size, keep)
        except OSError as e:
            self._warn(f"{display(self.path)}: could not rotate the journal "
                       f"({errno_name(e.errno or 0)}: {e.strerror}); "
                       "it keeps growing")
            return False
        self._fd = out  # locked: a writer waiting on the old file finds the name moved and waits here
        os.close(fd)
        return True

    def _to_keep(self, size: int) -> set[str]:
        """The ids of the batches a rotation keeps (see `maybe_rotate`)."""
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
        return keep | {u for u, of in undo_of.items() if of in keep}
def _kept_bytes(fd: int) -> int:
    """What the last rotation kept (its header's `kept_bytes`), 0 when the file has no header."""
    first = os.pread(fd, 256, 0)
    if not first.startswith(b'{"kind": "header"'):
        return 0
    try:
        kept: int = validate(loads(first.split(b"\n", 1)[0])).get("kept_bytes") or 0
    except BadRecord:
        return 0
    return kept
