"""Signals and the command line: a batch stops between two PIDs on SIGINT/SIGTERM, but once
its close record is written the signals end the process again; an early Ctrl-C prints no
traceback."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time

import pytest


def _env(tmp_path, **extra: str) -> dict[str, str]:
    return dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"),
                **extra)


def _full_pipe() -> tuple[int, int]:
    """(read end, write end) of a pipe already full: the next write to it blocks."""
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096)
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"x" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    return r, w


def _closed(journal: str) -> bool:
    try:
        with open(journal, encoding="utf-8") as f:
            return '"kind": "close"' in f.read()
    except FileNotFoundError:
        return False


def _blocked_in_write(pid: int) -> bool:
    """The process sleeps in the kernel (its write to the full pipe), not running Python."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        state = f.read().rsplit(")", 1)[1].split()[0]
    with open(f"/proc/{pid}/wchan", encoding="ascii") as f:
        wchan = f.read()
    return state == "S" and "pipe" in wchan


@pytest.mark.parametrize("argv", [["move", "492", "--to", "pids:/"], ["move", "492", "--to", "pids:/", "--json"]])
def test_a_move_blocked_printing_its_report_dies_on_sigterm(tmp_path, argv):
    """The report is printed after the close record: a reader that never reads must not
    make the process deaf to SIGTERM (before, the batch's handler swallowed it)."""
    journal = str(tmp_path / "journal.jsonl")
    r, w = _full_pipe()
    try:
        p = subprocess.Popen([sys.executable, "-m", "ctrtui", "--demo", *argv, "--journal", journal], stdout=w,
                             stderr=subprocess.PIPE, env=_env(tmp_path, PYTHONUNBUFFERED="1"))
        os.close(w)
        try:
            deadline = time.monotonic() + 60
            while not (_closed(journal) and _blocked_in_write(p.pid)):
                assert p.poll() is None, p.stderr.read() if p.stderr else ""
                assert time.monotonic() < deadline, "the move never got to printing its report"
                time.sleep(0.02)
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pytest.fail("SIGTERM was ignored while the report waited for a reader")
            assert rc == -signal.SIGTERM
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            if p.stderr:
                p.stderr.close()
    finally:
        os.close(r)


def _started(p: subprocess.Popen) -> bytes:
    """Read the child's stderr (`-X importtime`) until ctrtui.main is imported: from there on,
    SIGINT is ctrtui's to handle (`python -m ctrtui` holds it before that import); what was
    read."""
    assert p.stderr is not None
    seen = b""
    while True:
        line = p.stderr.readline()
        assert line, f"the child ended before it imported ctrtui.main: {seen[-2000:]!r}"
        seen += line
        if line.rstrip().endswith(b"| ctrtui.main"):
            return seen


@pytest.mark.parametrize("delay_ms", [0, 1, 2, 4, 8, 15, 30, 60])
def test_an_early_ctrl_c_prints_no_traceback_and_exits_130(tmp_path, delay_ms):
    """SIGINT at several early moments of `ctrtui --demo ls` (while argparse, the demo world
    and the backend are imported and built, or while it lists): exit 130 and nothing on
    stderr (or death by SIGINT, as it ends), or exit 0 when the listing was done already."""
    p = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "ctrtui", "--demo", "ls"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(tmp_path))
    try:
        seen = _started(p)
        time.sleep(delay_ms / 1000)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    said = [line for line in (seen + err).decode(errors="replace").splitlines() if not line.startswith("import time:")]
    assert "Traceback" not in "\n".join(said) and not any("KeyboardInterrupt" in line for line in said), said
    # 130, or killed by SIGINT itself (what a shell also reads as Ctrl-C) when it lands as the
    # process ends, once the handlers are given back; 0 when the listing was done already
    assert p.returncode in (0, 130, -signal.SIGINT), (p.returncode, said)
    assert said == [], said
