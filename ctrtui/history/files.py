"""Where a recording lives and how its files are opened: the default directory, the
ownership checks of the directory and of each file (a recording is only its owner's, like
the journal: ctrtui/engine/owned.py), and the list of a directory's recording files."""

from __future__ import annotations

import errno as _errno
import os
import stat

from ctrtui.engine.owned import NotOwned, check_dir, make_dir
from ctrtui.errors import errno_name
from ctrtui.history.records import SUFFIX, HistoryError
from ctrtui.text import display

__all__ = ["check_directory", "close_quietly", "default_history_dir", "list_files", "open_file", "os_error"]


def default_history_dir(identity: str = "local") -> str:
    """`$XDG_STATE_HOME/ctrtui/history/` for the real machine, `IDENTITY-history/` for
    another backend (`demo-history/`), beside the journal of the same backend."""
    from ctrtui.engine.journal import default_journal_path

    journal = default_journal_path(identity)
    name = os.path.basename(journal)[:-len("journal.jsonl")]
    return os.path.join(os.path.dirname(journal), name + "history")


def os_error(e: OSError, what: str, path: str) -> HistoryError:
    """The sentence for an OSError on a recording's file or directory."""
    return HistoryError(f"cannot {what} {display(path)}: {errno_name(e.errno or 0)} ({e.strerror}); fix its "
                        "permissions or give another place with --to/--from")


def check_directory(path: str, create: bool) -> None:
    """The recording directory: made 0700 when missing (`create`); refused when it is a
    symbolic link, not a directory, not owned by this user (or root), or when it or a
    directory above it could be changed by someone else (ctrtui/engine/owned.py, the rule of
    the journal's directory)."""
    if create:
        try:
            make_dir(path)
        except OSError as e:
            raise os_error(e, "create the recording directory", path) from None
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise HistoryError(f"no recording at {display(path)}: start one with `ctrtui record`, or give "
                           "its place with --from") from None
    except OSError as e:
        raise os_error(e, "read the recording directory", path) from None
    if stat.S_ISLNK(st.st_mode):
        raise HistoryError(f"{display(path)} is a symbolic link: a recording directory must be the directory "
                           "itself; give its real path")
    if not stat.S_ISDIR(st.st_mode):
        raise HistoryError(f"{display(path)} is not a directory")
    if st.st_uid not in (os.geteuid(), 0):
        raise HistoryError(f"{display(path)} belongs to uid {st.st_uid}, not to you: a recording is read and "
                           "written only in your own directory")
    try:
        check_dir(path, "recording directory", path, "--from DIR")
    except NotOwned as e:
        raise HistoryError(str(e)) from None


def open_file(path: str, flags: int, what: str) -> int:
    """Open without following a symbolic link and without blocking; refuse what is not a
    regular file owned by this user (or root)."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as e:
        if e.errno == _errno.ELOOP:
            raise HistoryError(f"{display(path)} is a symbolic link: refused (a recording is never read or "
                               "written through a link)") from None
        raise os_error(e, what, path) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise HistoryError(f"cannot {what} {display(path)}: it is not a regular file")
        if st.st_uid not in (os.geteuid(), 0):
            raise HistoryError(f"cannot {what} {display(path)}: it belongs to uid {st.st_uid}, not to you")
        if st.st_mode & 0o022:
            raise HistoryError(f"cannot {what} {display(path)}: group or others may write it (mode "
                               f"{stat.S_IMODE(st.st_mode):04o}); chmod go-w it")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def close_quietly(fd: int | None) -> None:
    """Close `fd` (None: nothing), an error closing it ignored: the file is being let go."""
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass


def list_files(directory: str) -> list[str]:
    """The recording files of `directory`, oldest first (their names sort as their times)."""
    try:
        names = os.listdir(directory)
    except OSError as e:
        raise os_error(e, "list the recording directory", directory) from None
    return [os.path.join(directory, n) for n in sorted(names) if n.endswith(SUFFIX)]
