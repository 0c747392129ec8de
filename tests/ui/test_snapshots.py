"""SVG snapshot tests of the main screens, at 140x40 and 80x24, on seeded simulated worlds.

Each test drives the app with Pilot to one screen, exports it as SVG (Textual's
`export_screenshot`, what `save_screenshot` writes) and compares it with the SVG committed in
`tests/ui/snapshots/NAME-WxH.svg`. A mismatch fails with the screen's text, old against
new, as a diff (or, when only colours or styles changed, a diff of the SVG itself), and writes the
new SVG to a temporary directory whose path the failure names.

After an intended change of the UI, regenerate them and look at the diff before committing:

    CTRTUI_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/ui/test_snapshots.py

What varies from run to run is pinned here, not in the app: the wall clock (snapshot time
and the status bar's "snapshot Ns ago"), the meters line (this machine's) and the simulated
kernel's CPU clock, batch ids (which carry the time and random hex),
the blinking input cursor, animations, notifications (their timeouts race a loaded
machine), and the terminal size. Rich names the SVG's CSS classes after a hash of the
whole screen; that prefix is replaced by a fixed one so a change shows as the lines that
changed. pytest-textual-snapshot is not used: see docs/testing.md.
"""

from __future__ import annotations

import difflib
import html
import itertools
import os
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import Input

from ctrtui.sources.demo import demo_world
from ctrtui.sources.hostile import hostile_path, hostile_world
from ctrtui.ui.screens import ConfirmMove, FindPid, GoToCgroup, MoveLog, TargetPicker
from devtools.pilot import goto, make_app, settle
from devtools.waiting import wait_for

pytestmark = pytest.mark.ui

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("CTRTUI_UPDATE_SNAPSHOTS", "") not in ("", "0")
UPDATE_COMMAND = ("CTRTUI_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider "
                  "tests/ui/test_snapshots.py")
SIZES = [(140, 40), (80, 24)]
CLOCK = 1_800_000_000.0
"""The pinned wall clock (2027-01-15 08:00 UTC): snapshots are taken at it and aged against it."""

BOB = "/user.slice/user-1001.slice/session-7.scope"


class _Clock:
    """Stands in for the `time` module where the app reads the wall clock: `time()` is
    pinned, everything else is the real module."""

    def time(self) -> float:
        return CLOCK

    def monotonic(self) -> float:
        """The simulated kernel's CPU clock: stopped, so CPU figures are the same every run."""
        return CLOCK

    def __getattr__(self, name: str):
        return getattr(time, name)


@pytest.fixture
def pinned(monkeypatch):
    """Pin what varies between runs (see the module docstring)."""
    import ctrtui.engine.batches as batches_mod
    import ctrtui.sources.simulated as simulated_mod
    import ctrtui.ui.statsfeed as stats_mod
    import ctrtui.ui.widgets.status as status_mod
    from ctrtui.ui.machinemeters import Meters

    monkeypatch.setattr(simulated_mod, "time", _Clock())
    monkeypatch.setattr(status_mod, "time", _Clock())
    # the meters line shows this machine's meters: pinned to fixed ones
    monkeypatch.setattr(stats_mod, "read_meters",
                        lambda: Meters((12.0, 48.0), 3 << 30, 16 << 30, 0, 2 << 30, (0.5, 0.25, 0.12), 93784.0))
    counter = itertools.count(1)
    monkeypatch.setattr(batches_mod, "new_batch_id", lambda: f"20270115T0800{next(counter):02d}-000000")
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)  # the cursor stays shown
    monkeypatch.delenv("NO_COLOR", raising=False)


# ---------------------------------------------------------------------- comparison


def normalise(svg: str) -> str:
    """The SVG with Rich's per-export class prefix (`terminal-<adler32 of the screen>`)
    replaced by a fixed one, so an unchanged screen gives the same bytes and a changed one
    differs only where it changed."""
    return re.sub(r"terminal-\d+", "terminal", svg)


_TEXT = re.compile(r'<text [^>]*x="([0-9.]+)"[^>]*clip-path="url\(#terminal-line-(\d+)\)"[^>]*>(.*?)</text>', re.S)
_CELL = 12.2
"""Width of one cell in Rich's SVG export (20px font, aspect ratio 0.61)."""


def svg_screen(svg: str) -> list[str]:
    """The screen's text, line by line, read back from an exported SVG (each run of text
    placed at its column; Rich leaves out runs of blanks)."""
    lines: dict[int, str] = {}
    for x, line, run in _TEXT.findall(svg):
        y, col = int(line), round(float(x) / _CELL)
        text = lines.get(y, "")
        text += " " * (col - cell_len(text))
        lines[y] = text + html.unescape(run).replace("\xa0", " ")
    return [lines.get(y, "").rstrip() for y in range(max(lines, default=-1) + 1)]


def svg_changes(old: str, new: str, limit: int = 20) -> list[str]:
    """Where two SVGs differ: for each changed line (at most `limit`), its number and both
    versions around the first differing column (Rich writes a whole screen's backgrounds
    on one long line)."""
    out: list[str] = []
    a, b = old.splitlines(), new.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        for k in range(max(i2 - i1, j2 - j1) if tag != "equal" else 0):
            x = a[i1 + k] if i1 + k < i2 else ""
            y = b[j1 + k] if j1 + k < j2 else ""
            at = len(os.path.commonprefix([x, y]))
            start = max(0, at - 60)
            out += [f"svg line {i1 + k + 1}, column {at + 1}:", "- " + x[start:start + 160],
                    "+ " + y[start:start + 160]]
            if len(out) >= 3 * limit:
                return out
    return out


def compare(name: str, svg: str, note: str = "") -> None:
    """Compare `svg` with the committed tests/ui/snapshots/`name`.svg (or write it, when
    updating); fail with a diff, `note` and the path of the new SVG."""
    svg = normalise(svg)
    path = SNAPSHOTS / f"{name}.svg"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != svg:
            path.write_text(svg, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no committed snapshot {path}; make it with:\n  {UPDATE_COMMAND}", pytrace=False)
    old = path.read_text(encoding="utf-8")
    if old == svg:
        return
    outdir = Path(tempfile.gettempdir()) / "ctrtui-snapshots"
    outdir.mkdir(exist_ok=True)
    new_path = outdir / f"{name}.svg"
    new_path.write_text(svg, encoding="utf-8")
    diff = list(difflib.unified_diff(svg_screen(old), svg_screen(svg), "committed screen", "this run's screen",
                                     lineterm="", n=1))
    if not diff:  # the same text: colours, styles or layout of the SVG changed
        diff = ["(the text is the same; the SVG differs: committed -, this run +)", *svg_changes(old, svg)]
    pytest.fail(f"snapshot {name} differs from {path}\n" + "\n".join(diff[:120])
                + (f"\n{note}" if note else "") + f"\nthis run's SVG: {new_path}"
                + f"\nif the change is intended, regenerate:\n  {UPDATE_COMMAND}", pytrace=False)


# ---------------------------------------------------------------------- driving


def comm_pid(backend, comm: str) -> int:
    return next(t.pid for t in backend.tasks.values() if t.comm == comm and t.pid == t.tgid)


async def main_screen(pilot, world) -> None:
    """Bob's session selected, the cursor on `make` in the task list."""
    await goto(pilot, BOB)
    pilot.app.tasks.focus()
    assert pilot.app.tasks.select_pid(comm_pid(world, "make"))


async def picker(pilot, world) -> None:
    """The target picker over init.scope for systemd (already there), kthreadd (refused)
    and vim (moves)."""
    app = pilot.app
    await goto(pilot, "/")
    app.tasks.focus()
    await pilot.press("d")  # the whole subtree's tasks
    await settle(pilot)
    for pid in (1, 2, comm_pid(world, "vim")):
        assert app.tasks.select_pid(pid), pid
        await pilot.press("space")
    await pilot.press("m")
    await wait_for(pilot, lambda: isinstance(app.screen, TargetPicker), "the picker")
    await pilot.press(*"init.scope")
    await wait_for(pilot, lambda: app.screen.plan is not None and app.screen.plan_path == "/init.scope",
                   "the plan preview of /init.scope")


async def confirm(pilot, world) -> None:
    """The confirmation the risky move of `picker` asks for."""
    await picker(pilot, world)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmMove), "the confirm dialog")


async def move_log(pilot, world) -> None:
    """The move log after that move and its undo."""
    app = pilot.app
    await confirm(pilot, world)
    await pilot.press("y")
    await wait_for(pilot, lambda: len(app.reports) == 1, "the move's report")
    app.tasks.focus()
    await pilot.press("u")
    await settle(pilot)
    if isinstance(app.screen, ConfirmMove):
        await pilot.press("y")
    await wait_for(pilot, lambda: len(app.reports) == 2, "the undo's report")
    await pilot.press("L")
    await wait_for(pilot, lambda: isinstance(app.screen, MoveLog), "the move log")


async def go_to(pilot, world) -> None:
    """Go-to, with `cron` typed."""
    await main_screen(pilot, world)
    await pilot.press("g")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, GoToCgroup), "the go-to screen")
    await pilot.press(*"cron")
    await wait_for(pilot, lambda: pilot.app.screen.query_one(Input).value == "cron", "`cron` typed")


async def find_pid(pilot, world) -> None:
    """Find PID, with vim's PID typed."""
    await main_screen(pilot, world)
    await pilot.press("f")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FindPid), "the find-PID screen")
    pid = str(comm_pid(world, "vim"))
    await pilot.press(*pid)
    await wait_for(pilot, lambda: pilot.app.screen.query_one(Input).value == pid, "the PID typed")


async def help_panel(pilot, world) -> None:
    """The keys screen (`?`: every key, grouped by pane) over the main screen, the task list
    focused."""
    from ctrtui.ui.screens.keys import KeysHelp

    await main_screen(pilot, world)
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, KeysHelp), "the keys screen")


async def hostile(pilot, world) -> None:
    """The hostile world's main screen: its cgroups in the tree, the whole subtree's tasks
    (markup, escapes, controls, bidi, wide and non-UTF-8 names) in the list."""
    app = pilot.app
    await goto(pilot, "/hostile", reveal=hostile_path("clear"))
    app.tasks.focus()
    await pilot.press("d")


SCENES: dict[str, tuple[Callable[[], object], Callable[..., Awaitable[None]]]] = {
    "main": (demo_world, main_screen),
    "picker": (demo_world, picker),
    "confirm": (demo_world, confirm),
    "movelog": (demo_world, move_log),
    "goto": (demo_world, go_to),
    "findpid": (demo_world, find_pid),
    "help": (demo_world, help_panel),
    "hostile": (hostile_world, hostile),
}


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("scene", list(SCENES))
async def test_snapshot(pilot_app, scene, size, pinned, tmp_path):
    make_world, drive = SCENES[scene]
    world = make_world()
    app = make_app(world, tmp_path, hierarchy="unified")
    app.animation_level = "none"
    async with pilot_app(app=app, size=size) as (app, pilot):
        await drive(pilot, world)
        await settle(pilot)
        app.clear_notifications()
        await settle(pilot)
        svg = app.export_screenshot()
        note = f"focused: {app.screen.focused!r} on {app.screen!r}"
    compare(f"{scene}-{size[0]}x{size[1]}", svg, note)


def test_normalise_and_screen_text():
    """The comparison's own parts: the class prefix goes, the text comes back line by line."""
    svg = ('<style>.terminal-123-r1 { fill: red }</style>'
           '<text class="terminal-123-r1" x="0" y="20" clip-path="url(#terminal-123-line-0)">漢&#160;&lt;b</text>'
           '<text class="terminal-123-r1" x="73.2" y="20" clip-path="url(#terminal-123-line-0)">c</text>'
           '<text class="terminal-123-r1" x="12.2" y="40" clip-path="url(#terminal-123-line-2)">d&#160;&#160;</text>')
    out = normalise(svg)
    assert "123" not in out and ".terminal-r1" in out
    assert svg_screen(out) == ["漢 <b c", "", " d"]
