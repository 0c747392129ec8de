"""The agent's loop: JSON lines in, JSON lines out, in order, one request at a time.

The agent never does anything unasked (no timers, no polling): between two requests it sits in
`readline`. It exits at EOF on its input (the connection went), when its output breaks, or on
`{"op": "bye"}`, and then closes what ran for the connection (a recorder: `Agent.close`).
With `isolate` (the real agent), the protocol gets its own copies of fds 0 and
1 and the process's own fd 0 and 1 are pointed at /dev/null and stderr: nothing the code it runs
prints, nor any child process it starts, can read or corrupt the protocol stream.
"""

from __future__ import annotations

import os
import sys

from ctrtui.agent.lines import encode, hello

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO

    from ctrtui.agent.ops import Agent

MAX_LINE = 256 * 1024 * 1024
"""The longest line either side reads (bytes, newline included): longer is a protocol error."""


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
    try:
        return _answer(agent, fin, send)
    finally:
        agent.close()


def _answer(agent: Agent, fin: BinaryIO, send: Callable[[object], bool]) -> int:
    """Read requests from `fin` and `send` the answers until EOF, a broken output or `bye`."""
    from ctrtui.agent.lines import error_answer

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
