"""Helpers for the Pilot tests of the terminal UI (and the benchmarks and scripts): build an app
on a backend with a journal in a temporary directory, wait until its workers are done, find
rows and tree lines, start a drag. Opening the app and waiting on its state: devtools/waiting.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from textual.pilot import Pilot

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.service.local import LocalService
from ctrtui.ui.app import CtrtuiApp
from ctrtui.ui.widgets.tasklist import TaskList

SIZE = (120, 36)
"""Terminal size of every UI test."""


def make_engine(backend: Any, tmp_path: Path) -> AttachEngine:
    """An engine with the built-in hooks, an empty policy and a journal in `tmp_path`."""
    return AttachEngine(backend, policy=Policy(), journal=Journal(tmp_path / "journal.jsonl"),
                        load_entry_points=False)


def make_service(backend: Any, tmp_path: Path, engine: AttachEngine | None = None) -> LocalService:
    """This machine's service for the UI on `backend` (advice in the UI's words): over
    `engine`, or `make_engine`'s."""
    return LocalService(backend, engine=make_engine(backend, tmp_path) if engine is None else engine, front="ui")


def make_app(backend: Any, tmp_path: Path, hierarchy: str | None = "unified", interval: float = 3600.0,
             read_only: bool = False) -> CtrtuiApp:
    """The app on `backend`; auto-refresh is effectively off unless `interval` says otherwise."""
    return CtrtuiApp(make_service(backend, tmp_path), interval=interval, read_only=read_only, hierarchy=hierarchy)


async def settle(pilot: Pilot[Any], rounds: int = 4) -> None:
    """Let messages and workers run until nothing is pending (a few rounds: a finished worker
    posts a message whose handler may start another worker; a worker cancelled meanwhile,
    replaced by a newer one of its exclusive group, counts as done)."""
    from textual.worker import WorkerCancelled

    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive worker replaced by a newer one: done as well
            pass
    await pilot.pause()


def app_of(pilot: Pilot[Any]) -> Any:
    """The `CtrtuiApp` `pilot` drives (typed loosely: tests reach into its panes)."""
    return cast(CtrtuiApp, pilot.app)


async def goto(pilot: Pilot[Any], path: str, reveal: str | None = None) -> None:
    """Select the cgroup `path` in the tree and wait for the list; `reveal`: also show that
    cgroup's line in the tree (a drop target), the cursor staying on `path`."""
    app = app_of(pilot)
    app.go_to(path)
    await settle(pilot)
    if reveal is not None:
        app.tree.reveal(reveal)
        app.tree.move_cursor(app.tree.nodes[path])
        await settle(pilot)
    assert app.tree.cursor_path == path, app.tree.cursor_path
    assert app.tasks.path == path


def cgroup_of(backend: Any, pid: int, hierarchy: str = "unified") -> str:
    """The cgroup of `pid` in `hierarchy`, as the backend says now."""
    return str(backend.task_cgroups(pid)[hierarchy])


async def cut_put(pilot: Pilot[Any], source: str, target: str) -> int:
    """Cut the cursor row of cgroup `source` (`x`) and put it into `target` (`p`); returns
    the PID that was cut. What the put then shows (a confirm screen, a notice) is the
    caller's to check."""
    app = app_of(pilot)
    await goto(pilot, source)
    app.tasks.focus()
    pid: int = app.tasks.cursor_pid
    await pilot.press("x")
    await goto(pilot, target)
    await pilot.press("p")
    await settle(pilot)
    return pid


def tree_line_of(app: CtrtuiApp, path: str) -> int:
    """The tree line (virtual, from the top of the tree) showing `path` (revealing it)."""
    node = app.tree.nodes.get(path) or app.tree.reveal(path)
    assert node is not None, path
    app.tree._tree_lines  # noqa: B018 - make sure lines are built
    return node.line


def tree_offset(app: CtrtuiApp, path: str) -> tuple[int, int]:
    """Offset inside the tree widget (from its outer edge) of the label of `path`."""
    line = tree_line_of(app, path)
    tree = app.tree
    y = line - int(tree.scroll_y) + tree.gutter.top
    x = tree.gutter.left + 2 * app.tree._tree_lines[line].path.__len__() + 2
    assert 0 <= y < tree.size.height + tree.gutter.top, (line, tree.scroll_y)
    return x, y


def row_offset(app: CtrtuiApp, pid: int) -> tuple[int, int]:
    """Offset inside the task list widget (outer edge) of the row of `pid`."""
    tl = app.tasks
    idx = tl.index_of(pid)
    assert idx is not None, pid
    y = idx - int(tl.scroll_y) + 1 + tl.gutter.top
    return tl.gutter.left + 4, y


async def start_drag(pilot: Pilot[Any], pid: int) -> None:
    """Press on the row of `pid` and move the pointer a few cells (past the threshold)."""
    app = app_of(pilot)
    x, y = row_offset(app, pid)
    await pilot.mouse_down(TaskList, offset=(x, y))
    await pilot.hover(TaskList, offset=(x + 3, y))
    await settle(pilot)
    assert app.tasks.dragging is not None


def screen_text(app: CtrtuiApp) -> str:
    """Everything on the screen as plain text (for asserting on what a person sees)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def notifications(app: CtrtuiApp) -> list[str]:
    """Text of the notifications on screen now (newest last). One whose timeout has passed is
    gone, which a loaded machine reaches between two looks: count what the app has said in
    `app.notices` instead."""
    return [n.message for n in app._notifications]
