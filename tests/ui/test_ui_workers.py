"""The UI's thread workers are named methods started through `ScreenSide.run_named`: while a
refresh, a move and an undo are under way, the app's worker list holds each by its name,
group and the method it runs (never an anonymous lambda), and no helper starts a worker any
other way."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ctrtui.sources.demo import demo_world
from ctrtui.ui.screens import ConfirmMove, TargetPicker
from devtools.pilot import cgroup_of, goto, settle
from devtools.waiting import WAIT, picker_planned, wait_for

pytestmark = pytest.mark.ui

SESSION = "/user.slice/user-1000.slice/session-3.scope"
NGINX = "/system.slice/nginx.service"
UI = Path(__file__).resolve().parents[2] / "ctrtui" / "ui"


class Held:
    """`inner` (a reader or a mover) whose calls named in `held` wait until `release()`, so the
    worker making them is still running when the test looks at the app's workers."""

    def __init__(self, inner: Any, *held: str) -> None:
        self.inner, self.held = inner, set(held)
        self.go = threading.Event()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name not in self.held:
            return value

        def waiting(*args: Any, **kwargs: Any) -> Any:
            self.go.wait(WAIT)
            return value(*args, **kwargs)

        return waiting

    def release(self) -> None:
        self.go.set()


async def running(pilot: Any, app: Any, name: str) -> Any:
    """The app's running worker called `name` (waits for it: the worker is held, so the
    usual `wait_for`, which waits for every worker to finish, cannot be used)."""
    deadline = time.monotonic() + WAIT
    while True:
        found = [w for w in app.workers if w.name == name and not w.is_finished]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no running worker {name!r}: {[(w.name, w.group) for w in app.workers]}")
        await pilot.pause(0.02)


def named(worker: Any, name: str, group: str, job: str) -> bool:
    return (worker.name, worker.group, worker.description) == (name, group, job) and "<lambda>" not in job


async def test_refresh_move_and_undo_run_as_workers_found_by_name(pilot_app, tmp_path):
    world = demo_world()
    async with pilot_app(world) as (app, pilot):
        # a refresh: the snapshot worker, LiveView._take
        reader = Held(app.session.backend, "snapshot")
        app.session.backend = reader
        await pilot.press("r")
        worker = await running(pilot, app, "snapshot")
        assert named(worker, "snapshot", "snapshot", "LiveView._take")
        reader.release()
        await settle(pilot)
        assert worker.is_finished and not app.live.refreshing

        # a move by keypress: the picker's plan, then the move worker, Moves._batch
        await goto(pilot, NGINX)
        app.tasks.focus()
        pid = app.tasks.shown[-1]
        app.tasks.select_pid(pid)
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, TargetPicker)
        await pilot.press(*"session-3")
        await wait_for(pilot, lambda: picker_planned(picker), "the picker's plan for what was typed")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMove)
        mover = Held(app.session.mover, "apply", "undo")
        app.session.mover = mover
        await pilot.press("y")
        worker = await running(pilot, app, "move")
        assert named(worker, "move", "move", "Moves._batch")
        assert cgroup_of(world, pid) == NGINX  # held: not written yet
        mover.release()
        await settle(pilot)
        assert cgroup_of(world, pid) == SESSION and worker.is_finished

        # the undo: the same group (one batch at a time), its own name
        mover = Held(app.session.mover.inner, "undo")
        app.session.mover = mover
        await pilot.press("u")
        worker = await running(pilot, app, "undo")
        assert named(worker, "undo", "move", "Moves._batch")
        mover.release()
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX
        assert all("<lambda>" not in w.description for w in app.workers)


def test_no_worker_of_the_ui_starts_as_a_lambda_or_outside_run_named():
    """Every `run_worker` call of ctrtui/ui/ is `CtrtuiApp.run_named`'s own (and the widgets'
    `@work` methods); a helper that starts one any other way, or a lambda handed to
    `run_named`, is found here."""
    direct, lambdas = [], []
    for path in sorted(UI.rglob("*.py")):
        text = path.read_text()
        where = path.relative_to(UI.parent.parent)
        if "run_worker(" in text and path.name != "app.py":
            direct.append(str(where))
        if re.search(r"run_named\(\s*lambda", text):
            lambdas.append(str(where))
    assert direct == [], f"workers started outside run_named: {direct}"
    assert lambdas == [], f"lambda workers: {lambdas}"
    app_text = (UI / "app.py").read_text()
    assert app_text.count("run_worker(") == 1, "the app starts workers in run_named only"
