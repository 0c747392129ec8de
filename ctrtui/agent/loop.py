"""The agent's loop: JSON lines in, JSON lines out, in order, one request at a time.

The agent never does anything unasked (no timers, no polling): between two requests it sits in
`readline`. It exits at EOF on its input (the connection went), when its output breaks, or on
`{"op": "bye"}`. With `isolate` (the real agent), the protocol gets its own copies of fds 0 and
1 and the process's own fd 0 and 1 are pointed at /dev/null and stderr: nothing the code it runs
prints, nor any child process it starts, can read or corrupt the protocol stream.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from ctrtui.agent.ops import Agent

MAX_LINE = 256 * 1024 * 1024
"""The longest line either side reads (bytes, newline included): longer is a protocol error."""


def encode(obj: object) -> bytes:
    """One protocol line: compact JSON, ASCII only (non-UTF-8 names travel as `\\udcNN`
    escapes of their surrogateescape form), newline-terminated."""
    return (json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False) + "\n").encode("ascii")


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def decode(line: bytes) -> Any:
    """The JSON value of one line; ValueError when it is not JSON (NaN and Infinity refused)."""
    return json.loads(line.decode("utf-8"), parse_constant=_no_constant)


def hello() -> dict[str, object]:
    """The agent's first line: who and what it is, and whether it may change the host."""
    import platform
    import socket

    from ctrtui import __version__
    from ctrtui.agent import PROTOCOL

    euid = os.geteuid()
    try:
        import pwd

        user: str | None = pwd.getpwuid(euid).pw_name
    except (ImportError, KeyError):
        user = None
    writable = euid == 0
    opened, journal_problem = open_batches()
    return {
        "protocol": PROTOCOL, "version": __version__, "hostname": socket.gethostname(),
        "python": platform.python_version(), "uid": os.getuid(), "euid": euid, "user": user,
        "pid": os.getpid(), "writable": writable,
        "why_read_only": None if writable else "not root: connect with --sudo to change this host",
        "open_batches": opened, "journal_problem": journal_problem,
    }


def open_batches(path: str | None = None) -> tuple[list[dict[str, object]], str | None]:
    """The batches this host's journal (the one `ctrtui move` uses here) holds open: their
    process, or the connection that drove it, ended before their close record. The next
    `move` or `undo` on this host recovers them; the hello says so at once, so that the first
    contact after a dropped connection reports it. ([], None) while another ctrtui holds the
    journal (its batch is at work, not left open) or when there is no journal; ([], sentence)
    when it cannot be read."""
    from ctrtui.engine.journal import Journal, default_journal_path

    path = path or default_journal_path()
    if not os.path.exists(path):
        return [], None
    try:
        journal = Journal(path)
        if journal.busy():
            return [], None  # a batch is being written right now
        found = journal.open_batches()
    except Exception as e:  # noqa: BLE001 - the hello must come whatever the journal holds
        return [], f"the journal {path} could not be read: {e}"
    return [{"batch": b.id, "time": b.time, "op": b.op or "move", "hierarchy": b.hierarchy, "target": b.target,
             "tasks": len(b.tasks), "undo_of": b.undo_of} for b in found], None


def _redirect() -> None:
    """Point fd 0 at /dev/null and fd 1 (and `sys.stdout`) at stderr."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def serve(infile: BinaryIO | None = None, outfile: BinaryIO | None = None, isolate: bool = True,
          agent: Agent | None = None) -> int:
    """Answer requests until EOF, a broken output or `bye`; returns 0 (the exit status).
    `infile`/`outfile` default to copies of fds 0 and 1 (with `isolate`) or to sys.stdin and
    sys.stdout's binary streams (without). `agent`: what answers (tests give one on a
    simulated kernel); default an `ops.Agent` on this host's real cgroups."""
    from ctrtui.agent.ops import Agent

    if isolate:
        sys.stdout.flush()
        fin = infile if infile is not None else os.fdopen(os.dup(0), "rb")
        fout = outfile if outfile is not None else os.fdopen(os.dup(1), "wb")
        _redirect()
    else:
        fin = infile if infile is not None else sys.stdin.buffer
        fout = outfile if outfile is not None else sys.stdout.buffer

    def send(obj: object) -> bool:
        try:
            fout.write(encode(obj))
            fout.flush()
            return True
        except (OSError, ValueError):  # EPIPE: the other side went; ValueError: closed file
            return False

    if not send(hello()):
        return 0
    if agent is None:
        agent = Agent()
    while True:
        try:
            line = fin.readline(MAX_LINE)
        except (OSError, ValueError):
            return 0
        if not line:
            return 0  # EOF: the connection went
        if not line.endswith(b"\n") and len(line) >= MAX_LINE:
            while True:  # skip to the end of the over-long line, then go on
                rest = fin.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            answer: dict[str, object] = error_answer(None, "protocol", f"a request line is longer than {MAX_LINE} "
                                                     "bytes")
        elif not line.strip():
            continue
        else:
            answer, stop = agent.handle_line(line)
            if stop:
                send(answer)
                return 0
        if not send(answer):
            return 0


def error_answer(rid: object, kind: str, message: str, errno: str | None = None) -> dict[str, object]:
    return {"id": rid, "ok": False, "error": {"kind": kind, "message": message, "errno": errno}}
