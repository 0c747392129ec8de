"""The app on the real kernel (CgroupFS): it moves the test's own `sleep` between throwaway
`ctrtui-test-*` freezer cgroups by keypress (picker, cut/put), by drag and drop, and back by
undo; each step is checked in /proc/PID/cgroup. Skips where real cgroups are not usable."""

from __future__ import annotations

import pytest

from ctrtui.sources.cgroupfs import CgroupFS
from ctrtui.ui.screens import ConfirmMove, TargetPicker
from ctrtui.ui.widgets.tree import CgroupTree
from devtools.pilot import goto, settle, start_drag, tree_offset
from devtools.waiting import open_app, picker_planned, wait_for

pytestmark = [pytest.mark.real, pytest.mark.ui]


async def confirm_if_asked(pilot) -> None:
    """Say yes when the app asks before a risky move (a v1 move asks about other hierarchies)."""
    if isinstance(pilot.app.screen, ConfirmMove):
        await pilot.press("y")
        await settle(pilot)


async def test_real_moves_by_keypress_drag_and_undo(realworld, tmp_path):
    a = realworld.mkdir("freezer", "a")
    b = realworld.mkdir("freezer", "b")
    c = realworld.mkdir("freezer", "c")
    sleep = realworld.spawn_sleep()
    pid = sleep.pid
    realworld.put(pid, "freezer", a)
    assert realworld.cgroup_of(pid, "freezer") == a

    async with open_app(CgroupFS(), tmp_path, hierarchy="freezer") as (app, pilot):
        assert app.snapshot.backend == "real" and app.read_only_reason is None

        # cut and put: a -> b
        await goto(pilot, a)
        assert list(app.tasks.shown) == [pid]
        app.tasks.focus()
        await pilot.press("x")
        await goto(pilot, b)
        app.tree.focus()
        await pilot.press("p")
        await settle(pilot)
        await confirm_if_asked(pilot)
        assert realworld.cgroup_of(pid, "freezer") == b
        assert list(app.tasks.shown) == [pid]  # refreshed: b now holds it

        # keypress through the target picker: b -> c
        app.tasks.focus()
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, TargetPicker)
        await pilot.press(*c)
        await wait_for(pilot, lambda: picker_planned(app.screen), "the picker's plan for what was typed")
        assert app.screen.target_path == c
        await pilot.press("enter")
        await settle(pilot)
        await confirm_if_asked(pilot)
        assert realworld.cgroup_of(pid, "freezer") == c

        # drag and drop: c -> a
        await goto(pilot, c)
        await start_drag(pilot, pid)
        off = tree_offset(app, a)
        await pilot.hover(CgroupTree, offset=off)
        await settle(pilot)
        assert app.tree.drop_ok
        await pilot.mouse_up(CgroupTree, offset=off)
        await settle(pilot)
        await confirm_if_asked(pilot)
        assert realworld.cgroup_of(pid, "freezer") == a

        # undo the drag: back to c
        await pilot.press("u")
        await settle(pilot)
        assert realworld.cgroup_of(pid, "freezer") == c
        assert len(app.reports) == 4
        assert all(r.ok for r in app.reports)
    assert (tmp_path / "journal.jsonl").exists()


async def test_real_move_into_another_hierarchy_from_name_systemd_and_undo(realworld, tmp_path):
    """Issue 10: from name=systemd, `f PID enter` then `m`, a few letters, `enter` moves the
    test's own sleep into a freezer cgroup (freezer only: its name=systemd cgroup stays),
    and `u` moves it back; the cursor follows it back."""
    import secrets

    def systemd_cgroup(pid: int) -> str:
        with open(f"/proc/{pid}/cgroup") as f:  # read only: tests never write name=systemd
            return next(line.split(":", 2)[2].strip() for line in f if ":name=systemd:" in line)

    name = "nav" + secrets.token_hex(3)
    target = realworld.mkdir("freezer", name)
    sleep = realworld.spawn_sleep()
    pid = sleep.pid
    freezer_before = realworld.cgroup_of(pid, "freezer")
    systemd_before = systemd_cgroup(pid)
    assert freezer_before != target and systemd_before is not None

    async with open_app(CgroupFS(), tmp_path, hierarchy="name=systemd") as (app, pilot):
        await pilot.press("r")  # the sleep started after the first snapshot? take a fresh one
        await settle(pilot)
        await pilot.press("f", *str(pid), "enter")
        await settle(pilot)
        assert app.hier == "name=systemd" and app.tasks.cursor_pid == pid
        await pilot.press("m", *name, "enter")
        await settle(pilot)
        await confirm_if_asked(pilot)
        assert realworld.cgroup_of(pid, "freezer") == target
        assert systemd_cgroup(pid) == systemd_before  # only freezer changed
        await pilot.press("u")
        await settle(pilot)
        assert realworld.cgroup_of(pid, "freezer") == freezer_before
