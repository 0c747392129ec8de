"""Hostile names on the real kernel: a `ctrtui-test-*` cgroup whose name holds ESC, brackets
and a byte that is not UTF-8, and a process of the test's own whose comm (prctl) and argv are
hostile. `ls`, `tasks`, `move` and `undo` print no control byte and exit as they should; the
cgroup is targeted by its shown (escaped) name; the UI headless on the real backend shows it
without a control byte reaching the driver's output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from ctrtui.sources.cgroupfs import CgroupFS
from ctrtui.text import display
from devtools.pilot import goto, make_app, screen_text, settle
from devtools.waiting import open_app
from tests.ui.test_escape_ui import RecordingDriver, assert_driver_output_clean, clean_segments

pytestmark = pytest.mark.real

#: The cgroup's name: CSI clear-screen, planted markup, an OSC title, a byte 0xff.
NAME = "esc-\x1b[2J[@click=app.quit]q[b]-\x1b]0;PWNED\x07-" + b"\xff".decode("utf-8", "surrogateescape")
#: What the child sets as its comm with prctl(PR_SET_NAME): 15 bytes at most.
COMM = b"\x1b[31m[b]x\xc2\x9b\x07"
ARGV = ["\x1b]0;PWNED\x07", "[@click=app.quit]q", "\x1b[2J", "[/]"]

CHILD = r"""
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(15, ctypes.c_char_p(bytes.fromhex(sys.argv[1])), 0, 0, 0) != 0:  # PR_SET_NAME
    raise SystemExit("prctl failed")
print("ready", flush=True)
time.sleep(3600)
"""


def _hostile_child(w, tmp_path):
    script = tmp_path / "c.py"
    script.write_text(CHILD)
    p = w._popen([sys.executable, str(script), COMM.hex(), *ARGV], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    with open(f"/proc/{p.pid}/comm", "rb") as f:
        assert f.read().rstrip(b"\n") == COMM
    return p


def ctrtui(tmp_path, *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    p = subprocess.run([sys.executable, "-m", "ctrtui", *argv], capture_output=True, env=env, timeout=120)
    for stream in (p.stdout, p.stderr):
        assert b"\x1b" not in stream and b"\x07" not in stream and b"\xc2\x9b" not in stream, stream[:300]
        stream.decode("utf-8")  # valid UTF-8: the 0xff byte is shown as \xff
    return p


def test_real_hostile_cgroup_and_process_through_the_cli(realworld, tmp_path):
    w = realworld
    top = w.top("freezer")
    src = w.mkdir("freezer", "src")
    dst = w.mkdir("freezer", NAME)
    assert os.path.isdir(w.fs("freezer", dst))
    child = _hostile_child(w, tmp_path)
    pid = child.pid
    w.put(pid, "freezer", src)

    p = ctrtui(tmp_path, "ls", f"freezer:{top}")
    assert p.returncode == 0
    assert display(NAME).encode() in p.stdout
    assert b"esc-\\x1b[2J[@click=app.quit]q[b]-\\x1b]0;PWNED\\x07-\\xff" in p.stdout

    p = ctrtui(tmp_path, "tasks", f"freezer:{src}")
    assert p.returncode == 0
    assert f"{pid}".encode() in p.stdout and b"\\x1b[31m[b]x\\u009b\\x07" in p.stdout

    shown = "freezer:" + display(dst)
    p = ctrtui(tmp_path, "move", str(pid), "--to", shown)
    assert p.returncode == 0, p.stderr
    assert w.cgroup_of(pid, "freezer") == dst
    assert display(dst).encode() in p.stdout

    p = ctrtui(tmp_path, "tasks", shown, "--json")
    assert p.returncode == 0
    rows = json.loads(p.stdout)
    assert [r["pid"] for r in rows] == [pid]
    assert rows[0]["comm"].encode("utf-8", "surrogateescape") == COMM
    assert rows[0]["cmdline"].split(" ")[-4:] == ARGV

    p = ctrtui(tmp_path, "ls", shown, "--json")
    assert json.loads(p.stdout)[0]["path"] == dst  # the exact name, 0xff as \udcff

    # refused: the move of a PID that does not exist names the hostile target, escaped (a free
    # PID found now, never a fixed number: another process may hold it, and must not be moved)
    p = ctrtui(tmp_path, "move", str(_free_pid()), "--to", shown)
    assert p.returncode == 1 and display(dst).encode() in p.stdout

    p = ctrtui(tmp_path, "undo")
    assert p.returncode == 0, p.stderr
    assert w.cgroup_of(pid, "freezer") == src

    # the shown name that does not exist is a clean usage error
    p = ctrtui(tmp_path, "tasks", shown + "\\x1b")
    assert p.returncode == 2 and b"no cgroup" in p.stderr


def _free_pid() -> int:
    """A PID no task holds right now, from the top of the PID space down."""
    with open("/proc/sys/kernel/pid_max") as f:
        top = int(f.read())
    return next(p for p in range(top - 1, 300, -1) if not os.path.exists(f"/proc/{p}"))


async def test_real_hostile_names_in_the_ui_reach_no_terminal(realworld, tmp_path):
    w = realworld
    dst = w.mkdir("freezer", NAME)
    child = _hostile_child(w, tmp_path)
    w.put(child.pid, "freezer", dst)
    RecordingDriver.output = []
    app = make_app(CgroupFS(), tmp_path, hierarchy="freezer")
    app.driver_class = RecordingDriver
    async with open_app(app=app, size=(140, 40), headless=False) as (app, pilot):
        await goto(pilot, dst)
        assert list(app.tasks.shown) == [child.pid]
        app.tasks.focus()
        await settle(pilot)
        shown = screen_text(app)
        # the command line may wrap on the detail line (its length depends on where the venv
        # and the temp dir are): compare without the blanks
        assert display(NAME) in shown
        assert "\\x1b]0;PWNED\\x07[@click=app.quit]q\\x1b[2J[/]" in re.sub(r"\s+", "", shown)
        detail = str(app.query_one("#detail").content)
        assert "c.py " + COMM.hex() + " \\x1b]0;PWNED\\x07 [@click=app.quit]q \\x1b[2J [/]" in detail
        assert "freezer: " + display(dst) in detail or display(dst) in detail.replace("\n", "")
        clean_segments(app)
        # click all over the task pane's title, which holds the planted [@click=app.quit]
        region = app.tasks.region
        for x in range(region.x, region.right):
            await pilot.click(offset=(x, region.y))
        await settle(pilot)
        assert app.is_running
    assert_driver_output_clean("".join(RecordingDriver.output))
