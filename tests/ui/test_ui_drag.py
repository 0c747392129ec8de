"""Drag and drop on the demo world: press on a task row, move onto a tree node (the node is
highlighted with whether the drop would be accepted), release; invalid targets and drops
outside the tree move nothing and say why."""

from __future__ import annotations

import pytest

from ctrtui.sources.demo import demo_world
from ctrtui.ui.screens import ConfirmMove
from ctrtui.ui.widgets.tasklist import TaskList
from ctrtui.ui.widgets.tree import CgroupTree
from devtools.pilot import cgroup_of, goto, row_offset, screen_text, settle, start_drag, tree_offset

pytestmark = pytest.mark.ui

NGINX = "/system.slice/nginx.service"
SSH = "/system.slice/ssh.service"


@pytest.fixture
def world():
    return demo_world()


async def test_drag_row_onto_tree_node_moves_it(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX, reveal=SSH)
        pid = app.tasks.shown[1]
        await start_drag(pilot, pid)
        assert app.tasks.dragging == (pid,)
        assert "dragging 1 task" in screen_text(app)
        off = tree_offset(app, SSH)
        await pilot.hover(CgroupTree, offset=off)
        await settle(pilot)
        assert app.tree.drop_line == app.tree.nodes[SSH].line and app.tree.drop_ok
        assert f"drop on unified:{SSH}: 1 would move" in screen_text(app)
        await pilot.mouse_up(CgroupTree, offset=off)
        await settle(pilot)
        assert app.tasks.dragging is None and app.tree.drop_line == -1
        assert isinstance(app.screen, ConfirmMove)  # systemd units on both sides
        await pilot.press("y")
        await settle(pilot)
        assert cgroup_of(world, pid) == SSH
        assert any("1 moved" in n for n in app.notices)


async def test_drag_marked_rows_moves_all_marked(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/system.slice/postgresql@15-main.service", reveal=SSH)
        app.tasks.focus()
        await pilot.press("space", "down", "space")  # marks rows 0 and 2
        marked = sorted(app.tasks.marks)
        assert len(marked) == 2
        await start_drag(pilot, marked[1])
        assert app.tasks.dragging == tuple(marked)
        off = tree_offset(app, SSH)
        await pilot.hover(CgroupTree, offset=off)
        await settle(pilot)
        assert "2 would move" in screen_text(app)
        await pilot.mouse_up(CgroupTree, offset=off)
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert [cgroup_of(world, p) for p in marked] == [SSH, SSH]


async def test_drag_unmarked_row_drags_only_it(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/system.slice/postgresql@15-main.service")
        app.tasks.focus()
        await pilot.press("space")
        other = app.tasks.shown[3]
        await start_drag(pilot, other)
        assert app.tasks.dragging == (other,)
        await pilot.press("escape")
        await settle(pilot)
        assert app.tasks.dragging is None
        assert "Drag cancelled" in screen_text(app)


async def test_drop_on_refusing_target_moves_nothing_and_says_why(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX, reveal="/kubepods.slice")
        pid = app.tasks.shown[0]
        await start_drag(pilot, pid)
        off = tree_offset(app, "/kubepods.slice")
        await pilot.hover(CgroupTree, offset=off)
        await settle(pilot)
        assert app.tree.drop_line == app.tree.nodes["/kubepods.slice"].line
        assert not app.tree.drop_ok
        assert "0 would move, 1 refused" in screen_text(app)
        await pilot.mouse_up(CgroupTree, offset=off)
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmMove)
        assert cgroup_of(world, pid) == NGINX
        assert any("Nothing to move" in n and "1 refused" in n for n in app.notices)
        assert any(f"PID {pid}" in n for n in app.notices)


async def test_drop_outside_tree_does_nothing(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX)
        pid = app.tasks.shown[0]
        x, y = row_offset(app, pid)
        await start_drag(pilot, pid)
        await pilot.hover(TaskList, offset=(x + 10, y + 4))
        await settle(pilot)
        assert app.tree.drop_line == -1
        await pilot.mouse_up(TaskList, offset=(x + 10, y + 4))
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX
        assert any("Dropped outside the cgroup tree" in n for n in app.notices)


async def test_click_without_moving_is_not_a_drag(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX)
        pid = app.tasks.shown[2]
        x, y = row_offset(app, pid)
        await pilot.mouse_down(TaskList, offset=(x, y))
        await pilot.mouse_up(TaskList, offset=(x, y))
        await settle(pilot)
        assert app.tasks.dragging is None
        assert app.tasks.cursor_pid == pid and app.focused is app.tasks
        assert not any("Dropped" in n for n in app.notices)


async def test_drag_in_read_only_mode_refuses(pilot_app, world, tmp_path):
    async with pilot_app(world, read_only=True) as (app, pilot):
        await goto(pilot, NGINX, reveal=SSH)
        pid = app.tasks.shown[0]
        await start_drag(pilot, pid)
        off = tree_offset(app, SSH)
        await pilot.hover(CgroupTree, offset=off)
        await pilot.mouse_up(CgroupTree, offset=off)
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX
        assert any("Read-only" in n for n in app.notices)
