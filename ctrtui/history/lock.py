"""The one-recorder-per-directory lock: `flock` on `DIRECTORY/lock`, held for the
recorder's whole life; a second recorder is refused with one sentence."""

from __future__ import annotations

import errno
import fcntl
import os

from ctrtui.history.files import close_quietly, open_file, os_error
from ctrtui.history.records import HistoryError
from ctrtui.text import display

__all__ = ["DirectoryLock"]


class DirectoryLock:
    """`flock` (exclusive, not waiting) on the file `lock` of a recording directory."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, "lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; HistoryError when another recorder holds it or the file is not ours."""
        fd = open_file(self.path, os.O_RDWR | os.O_CREAT, "lock")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise HistoryError(f"another `ctrtui record` is writing to {display(self.directory)} (it holds "
                                   f"{display(self.path)}); stop it first, or record elsewhere with --to DIR"
                                   ) from None
            raise os_error(e, "lock", self.path) from None
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock (closing the file); nothing when it is not held."""
        close_quietly(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
