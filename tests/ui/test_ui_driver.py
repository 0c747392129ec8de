"""The app in a real pseudo-terminal with ctrtui's terminal driver (ctrtui/ui/driver.py),
whose input thread sleeps until input comes: keys still arrive, a lone escape still arrives
(after the parser's escape delay, with no other input to wake the thread), and quitting
wakes and stops it."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import sys
import termios
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Pty:
    """`python -m ctrtui --demo --read-only` in a pseudo-terminal of its own (100x30)."""

    def __init__(self, home: str) -> None:
        env = dict(os.environ, TERM="xterm-256color", HOME=home, XDG_STATE_HOME=home, XDG_CONFIG_HOME=home,
                   PYTHONPATH=ROOT)
        env.pop("TEXTUAL", None)
        pid, fd = os.forkpty()
        if pid == 0:
            try:
                os.execve(sys.executable, [sys.executable, "-m", "ctrtui", "--demo", "--read-only"], env)
            finally:
                os._exit(127)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.pid, self.fd, self.out = pid, fd, b""
        self.status: int | None = None

    def read(self, seconds: float) -> None:
        """What it draws for `seconds` (or until it exits)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.out += data

    def wait_for(self, text: bytes, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while text not in self.out and time.monotonic() < end:
            self.read(0.2)
        return text in self.out

    def exited(self, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                return True
            self.read(0.1)
        return False

    def stop(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)


@pytest.fixture
def app_in_pty(tmp_path):
    pty = Pty(str(tmp_path))
    try:
        yield pty
    finally:
        pty.stop()


# bounds for a loaded machine, not timing checks
START, SETTLE, QUIT = 60.0, 1.5, 30.0


def test_keys_a_lone_escape_and_quitting_reach_the_app(app_in_pty):
    pty = app_in_pty
    assert pty.wait_for(b"live", START), pty.out[-2000:]
    pty.read(SETTLE)
    os.write(pty.fd, b"?")  # the keys dialog
    assert pty.wait_for(b"Keys", START)
    pty.read(SETTLE)
    # a lone escape: only the parser's timeout can hand it on (nothing else wakes the
    # thread); were it held back, the `q` below would be read as alt+q and not quit
    os.write(pty.fd, b"\x1b")
    pty.read(SETTLE)
    os.write(pty.fd, b"q")
    assert pty.exited(QUIT), pty.out[-2000:]  # quitting woke the input thread and stopped it
    assert os.waitstatus_to_exitcode(pty.status) == 0
