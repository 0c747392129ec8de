"""What a command prints, kept per thread: the commands across several hosts
(ctrtui/cli/hosts.py) run the command line's own command code once per host, in parallel
threads, each against that host's `RemoteService`, and need each host's output apart (to
prefix its lines, or to draw one table of every host's rows). Inside `per_thread_output`,
`captured(fn)` runs `fn` with this thread's writes to `sys.stdout` and `sys.stderr` kept;
other threads write where they did before.
"""

from __future__ import annotations

import io
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TextIO

__all__ = ["captured", "per_thread_output"]

_local = threading.local()


class _PerThread:
    """Stands in for sys.stdout or sys.stderr: a thread inside `captured` writes to its own
    buffer, every other thread to `stream`."""

    def __init__(self, stream: TextIO, which: str) -> None:
        self.stream = stream
        self.which = which

    def _target(self) -> Any:
        return getattr(_local, self.which, None) or self.stream

    def write(self, text: str) -> int:
        written: int = self._target().write(text)
        return written

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class per_thread_output:  # noqa: N801 - a context manager, named as contextlib's are
    """While inside, sys.stdout and sys.stderr are per thread (see `captured`)."""

    def __enter__(self) -> per_thread_output:
        self.saved = sys.stdout, sys.stderr
        sys.stdout = _PerThread(sys.stdout, "out")
        sys.stderr = _PerThread(sys.stderr, "err")
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout, sys.stderr = self.saved


def captured(fn: Callable[[], int]) -> tuple[int, str, str]:
    """`fn()` with this thread's output kept: (what it returned, its stdout, its stderr).
    An exception of `fn` goes on (what it printed is dropped)."""
    out, err = io.StringIO(), io.StringIO()
    _local.out, _local.err = out, err
    try:
        code = fn()
    finally:
        _local.out = _local.err = None
    return code, out.getvalue(), err.getvalue()
