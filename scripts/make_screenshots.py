#!/usr/bin/env python3
"""Make the README screenshots from the demo world, headless and reproducible.

    .venv/bin/python scripts/make_screenshots.py [OUTDIR]      (default: screenshots/)

Runs `CtrtuiApp` on `demo_world(seed=0)` with `run_test(size=(140, 40))`, drives it with
Pilot and saves SVGs with `app.save_screenshot`; each SVG is then converted to PNG with
`rsvg-convert` (Debian package librsvg2-bin) when it is installed. It drives the app with the
UI tests' helpers (devtools/pilot.py, devtools/waiting.py).

  main.svg     the main screen: tree, task list of bob's session, detail line
  picker.svg   the target picker: one PID would move, one is already there, kthreadd refused
  confirm.svg  the confirmation a risky move asks for
  drag.svg     a drag in progress: a task row held over a tree node (not released)
  movelog.svg  the move log after two batches
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ctrtui.sources.demo import demo_world  # noqa: E402
from ctrtui.ui.screens import ConfirmMove, MoveLog, TargetPicker  # noqa: E402
from ctrtui.ui.widgets.tree import CgroupTree  # noqa: E402
from devtools.pilot import goto, settle, start_drag, tree_offset  # noqa: E402
from devtools.waiting import open_app, picker_planned, wait_for  # noqa: E402

SIZE = (140, 40)
HIERARCHY = "unified"
BOB = "/user.slice/user-1001.slice/session-7.scope"
DROP_ON = "/system.slice/cron.service"


def comm_pid(backend, comm: str) -> int:
    return next(t.pid for t in backend.tasks.values() if t.comm == comm and t.pid == t.tgid)


def save(app, outdir: Path, name: str, saved: list[Path]) -> None:
    """Save the screen as `name`.svg. `xml:space="preserve"` keeps leading spaces of text runs
    (librsvg drops them otherwise, shifting indented text to the left)."""
    path = Path(app.save_screenshot(f"{name}.svg", str(outdir)))
    svg = path.read_text()
    svg = re.sub(r"^<svg (?!xml:space)", '<svg xml:space="preserve" ', svg, count=1)
    path.write_text(svg)
    saved.append(path)


async def drive(outdir: Path) -> list[Path]:
    saved: list[Path] = []
    world = demo_world(seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        async with open_app(world, Path(tmp), hierarchy=HIERARCHY, size=SIZE) as (app, pilot):

            # (a) main screen: bob's session, cursor on `make`
            await goto(pilot, BOB)
            app.tasks.focus()
            app.tasks.select_pid(comm_pid(world, "make"))
            await settle(pilot)
            save(app, outdir, "main", saved)

            # (b) target picker: systemd (already in init.scope), kthreadd (refused), vim (moves)
            await goto(pilot, "/")
            app.tasks.focus()
            await pilot.press("d")  # the whole subtree's tasks
            await settle(pilot)
            for pid in (1, 2, comm_pid(world, "vim")):
                assert app.tasks.select_pid(pid), pid
                await pilot.press("space")
            await settle(pilot)
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(app.screen, TargetPicker), "the target picker")
            await pilot.press(*"init.scope")
            await wait_for(pilot, lambda: picker_planned(app.screen), "the picker's plan for init.scope")
            assert app.screen.plan is not None
            save(app, outdir, "picker", saved)

            # the risky move asks first
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmMove), "the confirmation")
            save(app, outdir, "confirm", saved)
            await pilot.press("y")
            await settle(pilot)

            # (c) a drag in progress: bob's `sleep` held over cron.service
            await goto(pilot, BOB, reveal=DROP_ON)
            await start_drag(pilot, comm_pid(world, "sleep"))
            await pilot.hover(CgroupTree, offset=tree_offset(app, DROP_ON))
            await settle(pilot)
            assert app.tasks.dragging is not None
            save(app, outdir, "drag", saved)
            await pilot.mouse_up(CgroupTree, offset=tree_offset(app, DROP_ON))
            await settle(pilot)
            if isinstance(app.screen, ConfirmMove):
                await pilot.press("y")
                await settle(pilot)

            # (d) the move log after the two batches
            await pilot.press("L")
            await wait_for(pilot, lambda: isinstance(app.screen, MoveLog), "the move log")
            assert isinstance(app.screen, MoveLog) and len(app.screen.reports) == 2, app.reports
            save(app, outdir, "movelog", saved)
    return saved


def to_png(svgs: list[Path]) -> list[Path]:
    tool = shutil.which("rsvg-convert")
    if tool is None:
        print("rsvg-convert not found (Debian: apt-get install librsvg2-bin); PNGs not made", file=sys.stderr)
        return []
    pngs = []
    for svg in svgs:
        png = svg.with_suffix(".png")
        subprocess.run([tool, str(svg), "-o", str(png)], check=True)
        pngs.append(png)
    return pngs


def main() -> int:
    outdir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "screenshots"
    outdir.mkdir(parents=True, exist_ok=True)
    svgs = asyncio.run(drive(outdir))
    for path in svgs + to_png(svgs):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
