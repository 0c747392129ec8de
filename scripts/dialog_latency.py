"""Time from a key to a dialog's first paint (target picker `m`, keys `?`, the risk dialog
after `enter` in the picker), first open and the median of the next four, on the demo world
at 140x40 headless. Figures for benchmarks/RESULTS.md; nothing here is asserted.

    PYTHONPATH=. .venv/bin/python scripts/dialog_latency.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from ctrtui.sources.demo import demo_world
from ctrtui.ui.screens import ConfirmMove, TargetPicker
from ctrtui.ui.screens.keys import KeysHelp
from devtools.pilot import goto, settle
from devtools.waiting import open_app

NGINX = "/system.slice/nginx.service"
painted: dict[str, float] = {}


def watch(cls: type) -> None:
    """Stamp the first time a screen of `cls` writes an update to the terminal."""
    orig = cls._compositor_refresh

    def first_paint(self: object) -> None:
        painted.setdefault(cls.__name__, time.perf_counter())
        orig(self)

    cls._compositor_refresh = first_paint


async def press_until(pilot, keys: list[str], name: str) -> float:
    painted.clear()
    t0 = time.perf_counter()
    await pilot.press(*keys)
    await settle(pilot)
    return (painted[name] - t0) * 1000


async def main() -> None:
    for cls in (TargetPicker, ConfirmMove, KeysHelp):
        watch(cls)
    res: dict[str, list[float]] = {}
    world = demo_world()
    async with open_app(world, Path(tempfile.mkdtemp()), hierarchy="cpu", size=(140, 40)) as (app, pilot):
        await goto(pilot, NGINX)
        app.tasks.focus()
        await settle(pilot)
        for _ in range(5):
            for key, name in (("m", "TargetPicker"), ("question_mark", "KeysHelp")):
                res.setdefault(name, []).append(await press_until(pilot, [key], name))
                await pilot.press("escape")
                await settle(pilot)
            await pilot.press("m", *"ssh")
            await settle(pilot)
            res.setdefault("ConfirmMove", []).append(await press_until(pilot, ["enter"], "ConfirmMove"))
            await pilot.press("n")
            await settle(pilot)
    for k, v in res.items():
        print(f"{k}: first {v[0]:.0f} ms, median of the next {statistics.median(v[1:]):.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
