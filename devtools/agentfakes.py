"""Stand-ins for the far end of an `AgentChannel`, for the channel's fault tests (no root, no
cgroups: tests/unit/test_hostile_hosts.py) and the real agent's (tests/real/test_agent_real.py):

- `fake_agent(hello, then)`: the argv of a Python that writes the stub's line, reads the
  answer, writes `hello`, then runs the code `then`;
- `HELLO`: a proper hello;
- `gone(pid)`, `parent_of(pid)`: whether a subprocess is gone, whose child it is;
- `sleeping_in_a_timer(pid)`: whether an agent is inside a call that samples over time (a
  request in flight, its answer not back yet), for the tests that act on such a call;
- `fake_ssh(dir)`: an `ssh` program (for `CTRTUI_SSH`) that plays the malicious host its
  host name names (devtools/hostile_ssh.py).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ctrtui import __version__

FAKE_STUB = ('import json, sys, time\n'
             'sys.stdout.write(json.dumps({"ctrtui": "stub", "stub": 1, "python": "3.11.0", "installed": %r})'
             ' + "\\n")\n'
             'sys.stdout.flush()\n'
             'sys.stdin.readline()\n')

HELLO = {"protocol": 1, "version": __version__, "hostname": "fake", "python": "3.11.0", "uid": 0, "euid": 0,
         "user": "root", "pid": 0, "writable": True, "why_read_only": None}


def fake_agent(hello: dict, then: str) -> list[str]:
    """A stand-in agent: the stub's line, reads the answer, writes `hello`, then runs `then`."""
    return [sys.executable, "-c", FAKE_STUB % __version__
            + f"sys.stdout.write(json.dumps({hello!r}) + '\\n'); sys.stdout.flush()\n" + then]


def gone(pid: int, within: float = 5.0) -> bool:
    """True once `pid` no longer exists (or is a zombie of ours reaped by now)."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None


def fake_ssh(directory: Path) -> str:
    """The path of an executable `ssh` in `directory` that runs devtools/hostile_ssh.py."""
    script = Path(__file__).resolve().parent / "hostile_ssh.py"
    path = directory / "ssh"
    path.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n')
    os.chmod(path, 0o755)
    return str(path)


def sleeping_in_a_timer(pid: int) -> bool:
    """A thread of process `pid` sleeps in a timer (`time.sleep`: the kernel's
    `hrtimer_nanosleep`), not in a read: an agent doing so is inside a call that samples
    over time (`ls --stats`), so the request has reached it and the answer cannot be back
    before the sample ends. An idle agent sleeps reading its input instead."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                if "nanosleep" in f.read():
                    return True
        except OSError:
            continue
    return False
