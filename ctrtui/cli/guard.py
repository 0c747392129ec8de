"""The output guard of the command line: a command runs with stdout and stderr guarded
(`run_guarded`: a closed pipe, a full disk or a closed descriptor is said in one line, never
a traceback), its errors become one `ctrtui: ...` line and an exit status (`run_command`),
and SIGINT is held from the first import until a batch or the UI takes it
(`hold_interrupt`, `release_interrupt`, `restore_interrupt`).
"""

from __future__ import annotations

import os
import sys

from ctrtui.cli.common import EXIT_NOT_ALL, EXIT_USAGE, UsageError, display, scrub

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from types import FrameType
    from typing import Any, TextIO

    Command = Callable[[argparse.Namespace], int]

__all__ = ["hold_interrupt", "release_interrupt", "restore_interrupt", "run_command", "run_guarded"]




class _Guarded:
    """Stands in for sys.stdout / sys.stderr while a subcommand runs: the first write or flush
    that fails (EPIPE: the reader left; ENOSPC: /dev/full; EBADF: fd 1 closed; EIO) is
    remembered and every later write is dropped, so the command runs to its end and its exit
    status still reports what it did (a move's outcomes are decided before its report is
    printed). `main` then says so in one line and picks the exit status."""

    def __init__(self, stream: TextIO | _ClosedStream) -> None:
        self.stream = stream
        self.error: OSError | None = None

    def write(self, text: str) -> int:
        if self.error is None and text:
            try:
                return self.stream.write(text)
            except OSError as e:
                self.error = e
        return len(text)

    def flush(self) -> None:
        if self.error is None:
            try:
                self.stream.flush()
            except OSError as e:
                self.error = e

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class _ClosedStream:
    """sys.stdout when fd 1 was closed at start (`ctrtui ls >&-`: Python sets sys.stdout to
    None): every write fails with EBADF."""

    def write(self, text: str) -> int:
        import errno

        raise OSError(errno.EBADF, "stdout is closed")

    def flush(self) -> None:
        pass


def _reserve_fd(fd: int) -> bool:
    """When `fd` (1 or 2) is closed, put /dev/null there, so that no file opened later (a
    cgroup file, the journal) gets that number and receives output meant for the terminal.
    True when it was closed."""
    try:
        os.fstat(fd)
        return False
    except OSError:
        null = os.open(os.devnull, os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        return True


def _silence_stdout() -> None:
    """After stdout failed: point fd 1 at /dev/null, so the interpreter's own flush of what
    is still buffered succeeds at exit instead of printing `Exception ignored ... BrokenPipeError`
    (what the Python documentation recommends for SIGPIPE)."""
    stdout = sys.__stdout__
    if stdout is None:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stdout.fileno())
        os.close(null)
    except (OSError, AttributeError, ValueError):
        pass


def _output_failed(err: OSError) -> str:
    from ctrtui.errors import os_error_text

    return (f"ctrtui: could not write the output to stdout: {os_error_text(err)}; what was printed is "
            "incomplete (check that stdout is open, has room and is read to the end)")


def run_guarded(command: Command, args: argparse.Namespace) -> int:
    """Run a subcommand with stdout and stderr guarded (see `_Guarded`); the exit status:

    - the command's own status (0, 1 when any PID did not end in the target, 2 bad usage);
    - EPIPE on stdout (`ctrtui ls | head -1`: the reader had enough): nothing more is said,
      the command's own status stands, as for other Unix tools that stop quietly on a closed pipe;
    - any other failure to write stdout (ENOSPC, EBADF, EIO): one line on stderr naming the
      errno, and at least 1 (a read command whose output was lost did not do its job).
    A failure to write stderr is dropped (there is nowhere left to say it)."""
    import errno

    fd1_closed, fd2_closed = _reserve_fd(1), _reserve_fd(2)
    real_out, real_err = sys.stdout, sys.stderr
    out = _Guarded(_ClosedStream() if real_out is None or fd1_closed else real_out)
    err = _Guarded(_ClosedStream() if real_err is None or fd2_closed else real_err)
    sys.stdout, sys.stderr = out, err
    try:
        rc = run_command(command, args)
        out.flush()
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    if out.error is None:
        return rc
    if real_out is not None and real_out is sys.__stdout__:
        _silence_stdout()
    if out.error.errno == errno.EPIPE:
        return rc
    err.write(_output_failed(out.error) + "\n")
    err.flush()
    return max(rc, EXIT_NOT_ALL)


def run_command(command: Command, args: argparse.Namespace) -> int:
    from ctrtui.errors import CtrtuiError

    try:
        return command(args)
    except (UsageError, CtrtuiError) as e:
        print(f"ctrtui: {scrub(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except PermissionError as e:
        print(f"ctrtui: permission denied reading {display(e.filename) or 'a cgroup file'}: run as root, "
              "or ask for read access to the cgroup filesystem", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # before a batch started (during one, the engine stops between PIDs)
        print("ctrtui: interrupted", file=sys.stderr)
        return 130


_PRIOR_SIGINT: list[Any] = []
"""SIGINT's handler before `main` held it (restored when `main` returns: tests call main in-process)."""


def _interrupted_early(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C in a command of this machine outside a batch (while Python imports argparse or
    the backend, while it reads or prints; a batch holds SIGINT itself until its close record
    is written): nothing is left half-done that the journal does not cover, so ctrtui ends at
    once with the shell's status for an interrupt, 130, and prints nothing (no traceback, no
    `Exception ignored` from an import lock's callback)."""
    os._exit(130)


def hold_interrupt() -> None:
    import signal

    try:
        prior = signal.signal(signal.SIGINT, _interrupted_early)
    except ValueError:  # not the main thread (a test calling main from a thread): leave it alone
        return
    if not _PRIOR_SIGINT:
        _PRIOR_SIGINT.append(prior)


def release_interrupt() -> None:
    """Ctrl-C raises KeyboardInterrupt again (Python's own handler): for the terminal UI
    (whose terminal must be restored) and the hosts' commands (whose ssh sessions close)."""
    import signal

    if _PRIOR_SIGINT:
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        except ValueError:
            pass


def restore_interrupt() -> None:
    import signal

    if _PRIOR_SIGINT:
        try:
            signal.signal(signal.SIGINT, _PRIOR_SIGINT.pop())
        except ValueError:
            pass