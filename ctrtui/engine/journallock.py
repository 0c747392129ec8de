"""The journal's file and its lock: only the user's own file is opened, `flock` on the file
itself is held for a whole batch (re-entrant), the name is checked to still lead to the locked
file (a rotation replaces it), a torn last line is cut, and `lock_holder` says who holds it.

`JournalFile` is the base of `ctrtui.engine.journal.Journal`, which writes and reads the
records through it.
"""

from __future__ import annotations

import _thread  # RLock without importing threading (~0.5 ms of every start)
import errno as _errno
import os
import stat
import time

from ctrtui.engine.journalerrors import JournalError, JournalNotOwned
from ctrtui.engine.journalfile import fsync_dir, last_newline, names_sentence
from ctrtui.engine.owned import NotOwned, check_dir, check_file, make_dir, open_owned, remove_stale_temps
from ctrtui.engine.records import MAX_LINE, BadRecord, loads, validate
from ctrtui.text import display

__all__ = ["DEFAULT_LOCK_TIMEOUT", "JournalFile", "lock_holder"]

DEFAULT_LOCK_TIMEOUT = 10.0
"""Seconds a writer waits for another ctrtui's batch to finish before refusing."""


class JournalFile:
    """The journal's file at `path` (None: kept in memory, nothing to open or lock) while a
    batch holds it: `_fd` is the journal open for append, locked. `warnings` collects what
    was forgiven (a torn last line, a rotation's leftovers)."""

    def __init__(self, path: str | os.PathLike[str] | None, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.lock_timeout = lock_timeout
        self.warnings: list[str] = []
        self._mutex = _thread.RLock()
        self._depth = 0
        self._fd: int | None = None  # the journal, open for append while locked
        self._lock_fd: int | None = None

    def _warn(self, msg: str) -> None:
        if msg not in self.warnings:
            self.warnings.append(msg)

    # ------------------------------------------------------------------ opening

    def _open_regular(self, path: str, flags: int, action: str) -> int:
        """Open without following a link and without blocking (a FIFO must not hang us);
        refuse what is not a regular file of the user's (`ctrtui.engine.owned`) in a directory only
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
                    raise NotOwned(self.path, names_sentence(self.path, st.st_nlink))
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
                fsync_dir(directory)
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
            raise JournalNotOwned(path, names_sentence(path, st.st_nlink))
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

    def _cut_torn_tail(self, fd: int) -> None:
        """A last line without its newline is a torn write: cut the file back to its last
        newline, however long the torn piece (or, when it is a whole valid record that only
        lost its newline, add the newline)."""
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return
        keep = last_newline(lambda n, off: os.pread(fd, n, off), size) + 1
        torn = size - keep
        if torn <= MAX_LINE:
            try:
                validate(loads(os.pread(fd, torn, keep)))
                os.write(fd, b"\n")
                return
            except BadRecord:
                pass
        os.ftruncate(fd, keep)
        os.fsync(fd)
        self._warn(f"{display(self.path)}: cut off a torn last line ({torn} bytes) left by an interrupted write")

    # ------------------------------------------------------------------ reading


class _Locked:
    __slots__ = ("journal",)

    def __init__(self, journal: JournalFile) -> None:
        self.journal = journal

    def __enter__(self) -> JournalFile:
        self.journal._acquire()
        return self.journal

    def __exit__(self, *exc: object) -> None:
        self.journal._release()


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
