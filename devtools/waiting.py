"""Opening the terminal UI under Pilot and waiting on its state instead of a fixed pause, for
the UI tests, the benchmarks and the scripts: `open_app` runs the app and yields once its
first snapshot is drawn (`first_drawn`); `wait_for` lets the app run until a predicate holds
(`picker_planned`, `palette_listed`, or the test's own), failing with what it waited for."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from ctrtui.ui.app import CtrtuiApp
from devtools.pilot import SIZE, make_app, settle

WAIT = 30.0
"""Seconds `wait_for` waits by default: a bound for a loaded machine, never a timing check."""


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], object], what: str, timeout: float = WAIT) -> None:
    """Let the app run (messages, workers, timers) until `predicate()` holds: settle, test,
    then pause a little (a timer such as the picker's debounce needs real time to pass).
    Fails, saying `what` was awaited and for how long, after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        await settle(pilot, rounds=1)
        if predicate():
            await settle(pilot)
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.02)


def first_drawn(app: CtrtuiApp) -> bool:
    """The app shows its first snapshot: a hierarchy loaded, the tree's cursor on a cgroup and
    the task list showing it, no snapshot being taken."""
    return (app.snapshot is not None and app.hs is not None and app.tree.cursor_path is not None
            and app.tasks.path == app.tree.cursor_path and not app.live.refreshing)


@asynccontextmanager
async def open_app(backend: Any = None, tmp_path: Path | None = None, *, app: CtrtuiApp | None = None,
                   size: tuple[int, int] = SIZE, headless: bool = True,
                   ready: Callable[[CtrtuiApp], object] | None = first_drawn, timeout: float = WAIT,
                   **options: Any) -> AsyncIterator[tuple[CtrtuiApp, Pilot[Any]]]:
    """Run the app headless at `size` and yield `(app, pilot)` once `ready(app)` holds (by
    default: its first snapshot drawn, every worker done; None: as soon as it runs). The app
    is `app`, or `make_app(backend, tmp_path, **options)` (hierarchy, interval, read_only)."""
    if app is None:
        assert tmp_path is not None, "open_app needs tmp_path (for the journal) or an app"
        app = make_app(backend, tmp_path, **options)
    else:
        assert not options, f"open_app: {sorted(options)} are make_app's options; the app is given"
    async with app.run_test(size=size, headless=headless) as pilot:
        if ready is not None:
            await wait_for(pilot, lambda: ready(app), f"the app to be ready ({ready.__name__})", timeout)
        yield app, pilot


def picker_planned(screen: Any) -> bool:
    """The target picker shows the plan of the cgroup it highlights (its debounce timer has
    fired and its planning worker's answer is drawn); False for any other screen."""
    from ctrtui.ui.screens import TargetPicker

    return (isinstance(screen, TargetPicker) and screen.plan_item is not None
            and screen.plan_item == screen.fuzzy.highlighted)


def palette_listed(app: CtrtuiApp) -> bool:
    """The command palette is open and lists the hits of what was typed (its search worker
    is done and at least one command is in the list)."""
    from textual.command import CommandList, CommandPalette

    screen = app.screen
    return (isinstance(screen, CommandPalette) and screen.query_one(CommandList).option_count > 0
            and not any(w.node is screen and w.is_running for w in app.workers))
