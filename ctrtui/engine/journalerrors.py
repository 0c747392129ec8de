"""The journal's errors: each is the one sentence a front end shows when the journal cannot
be used, and every one of them stops the move before anything is written (`JournalCorrupt`
aside, which names the bad line of a journal being read)."""

from __future__ import annotations

from ctrtui.errors import CtrtuiError, errno_name
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ctrtui.engine.records import Batch

__all__ = ["JournalCorrupt", "JournalError", "JournalLimit", "JournalMismatch", "JournalNotOwned", "batch_mismatch"]


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
    """The journal, or a directory above it, is not the user's alone (`ctrtui.engine.owned`), or
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
