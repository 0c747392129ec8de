"""Pilot tests of the cgroup ops keys on the simulated demo world: `n` (a new child, its
name checked as typed), `D` (remove an empty cgroup, refused when not empty), `z` (freeze
and thaw), `N` (move the selection into a new cgroup here), and `u` undoing each."""

from __future__ import annotations

import pytest

from ctrtui.sources.demo import demo_world
from ctrtui.ui.screens import ConfirmMove
from ctrtui.ui.screens.confirmop import ConfirmOp
from ctrtui.ui.screens.newcgroup import NewCgroup
from devtools.pilot import SIZE, cgroup_of, goto, make_app, screen_text, settle

pytestmark = pytest.mark.ui

SLICE = "/system.slice"
NGINX = "/system.slice/nginx.service"


@pytest.fixture
def world():
    return demo_world()


async def type_name(pilot, text: str) -> None:
    box = pilot.app.screen.query_one("#newcg-input")
    box.value = ""
    await pilot.press(*text)
    await pilot.pause()


@pytest.mark.parametrize("size", [SIZE, (80, 24), (60, 20)])
async def test_n_checks_the_name_as_typed_creates_and_u_removes(pilot_app, world, tmp_path, size):
    async with pilot_app(world, size=size) as (app, pilot):
        await goto(pilot, SLICE)
        await pilot.press("n")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NewCgroup)
        await type_name(pilot, "nginx.service")
        assert "exists already" in screen.message
        await type_name(pilot, "a/b")
        assert "cannot hold '/'" in screen.message
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen  # refused: still asking
        await type_name(pilot, "..")
        assert "means this directory" in screen.message
        await type_name(pilot, "web")
        assert "enter: create" in screen.message
        await pilot.press("enter")
        await settle(pilot)
        assert world.cgroup_state("unified", SLICE + "/web") is not None
        assert any(n.startswith("New cgroup") and "created" in n for n in app.notices)
        assert SLICE + "/web" in app.hs
        await pilot.press("u")
        await settle(pilot)
        assert world.cgroup_state("unified", SLICE + "/web") is None
        assert any(n.startswith("Undo") and "removed" in n for n in app.notices)


async def test_n_escape_makes_nothing(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, SLICE)
        await pilot.press("n", "x", "escape")
        await settle(pilot)
        assert not isinstance(app.screen, NewCgroup) and world.cgroup_state("unified", SLICE + "/x") is None


async def test_D_refuses_a_busy_cgroup_and_removes_an_empty_one_after_asking(pilot_app, world, tmp_path):
    world.mkdir("unified", SLICE + "/empty")
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX)
        await pilot.press("D")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmOp)
        assert any("Cannot remove" in n and "EBUSY" not in n and "task" in n for n in app.notices)
        await goto(pilot, SLICE + "/empty")
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmOp) and "Remove the empty cgroup" in screen_text(app)
        await pilot.press("n")  # cancel
        await settle(pilot)
        assert world.cgroup_state("unified", SLICE + "/empty") is not None
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert world.cgroup_state("unified", SLICE + "/empty") is None
        assert SLICE + "/empty" not in app.hs
        await pilot.press("u")
        await settle(pilot)
        assert world.cgroup_state("unified", SLICE + "/empty") is not None


async def test_z_freezes_and_thaws_after_asking_and_u_undoes(pilot_app, world, tmp_path):
    app = make_app(world, tmp_path)

    def frozen() -> str:
        return world.cgroup_state("unified", NGINX).freezer_state

    async with pilot_app(app=app) as (app, pilot):
        await goto(pilot, NGINX)
        await pilot.press("z")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmOp) and "Freeze" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert frozen() == "1"
        await pilot.press("z")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmOp) and "Thaw" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert frozen() == "0"
        await pilot.press("u")  # undo of the thaw: frozen again
        await settle(pilot)
        assert frozen() == "1"
        await pilot.press("u")  # undo of the freeze: thawed
        await settle(pilot)
        assert frozen() == "0"
        assert sum(n.startswith("Undo") for n in app.notices) == 2


async def test_z_on_a_cgroup_frozen_meanwhile_says_already_frozen_and_u_has_nothing_to_undo(pilot_app, world, tmp_path):
    """Someone froze nginx while the question was on screen: the answer is a notice that
    nothing changed, and nothing is left for `u` to thaw."""
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX)
        await pilot.press("z")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmOp) and "Freeze" in screen_text(app)
        world.set_frozen("unified", NGINX, True)  # by someone else
        await pilot.press("y")
        await settle(pilot)
        assert any("is already frozen; nothing was changed" in n for n in app.notices), app.notices
        await pilot.press("u")
        await settle(pilot)
        assert world.cgroup_state("unified", NGINX).freezer_state == "1"
        assert any("Nothing to undo" in n or "nothing to undo" in n for n in app.notices), app.notices


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_N_moves_the_selection_into_a_new_cgroup_here_and_u_undoes_both(pilot_app, world, tmp_path, size):
    async with pilot_app(world, size=size) as (app, pilot):
        await goto(pilot, NGINX)
        app.tasks.focus()
        pid = app.tasks.cursor_pid
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(app.screen, NewCgroup) and "Move 1 task into a new cgroup" in screen_text(app)
        title = app.screen.query_one("#newcg-title")  # wraps at 80 columns: the cgroup is not cut off
        assert title.size.height == (2 if size[0] == 80 else 1)
        await pilot.press(*"worker")
        await pilot.press("enter")
        await settle(pilot)
        if isinstance(app.screen, ConfirmMove):  # a systemd unit's task: risky, asked
            await pilot.press("y")
            await settle(pilot)
        assert cgroup_of(world, pid) == NGINX + "/worker"
        await pilot.press("u")
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX
        await pilot.press("u")
        await settle(pilot)
        assert world.cgroup_state("unified", NGINX + "/worker") is None


async def test_read_only_refuses_n_D_z_and_N(pilot_app, world, tmp_path):
    async with pilot_app(world, read_only=True) as (app, pilot):
        await goto(pilot, NGINX)
        for key in ("n", "D", "z", "N"):
            await pilot.press(key)
            await settle(pilot)
            assert not isinstance(app.screen, (NewCgroup, ConfirmOp))
        assert sum("Read-only" in n for n in app.notices) == 4
        assert world.cgroup_state("unified", NGINX).freezer_state == "0"
        # each key's refusal is about what that key does, not about moving tasks
        said = [n for n in app.notices if n.startswith("Read-only")]  # said once: no "Read-only" title above it
        started = "ctrtui was started with --read-only"
        assert said == [
            f"Read-only: {started}, so no cgroup is created. Restart it without --read-only to create cgroups.",
            f"Read-only: {started}, so no cgroup is removed. Restart it without --read-only to remove cgroups.",
            f"Read-only: {started}, so no cgroup is frozen or thawed. "
            "Restart it without --read-only to freeze or thaw cgroups.",
            f"Read-only: {started}, so no cgroup is created and nothing is moved. "
            "Restart it without --read-only to move tasks into a new cgroup.",
        ]


async def test_N_takes_the_marks_made_before_the_tree_cursor_went_to_the_parent(pilot_app, world, tmp_path):
    """The README's flow: mark tasks, put the tree cursor on the parent, press N. The marks
    are PIDs kept while the tree cursor moves, and the status bar counts them."""
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX)
        app.tasks.focus()
        pids = list(app.tasks.shown[:2])
        await pilot.press("space", "space")
        assert sorted(app.tasks.marks) == sorted(pids)
        app.tree.focus()
        for _ in range(10):  # the tree cursor up to the parent, key by key
            if app.tree.cursor_path == SLICE:
                break
            await pilot.press("up")
            await settle(pilot)
        assert app.tree.cursor_path == SLICE and app.tasks.path == SLICE
        assert app.tasks.selection() == sorted(pids)
        assert "2 marked" in str(app.query_one("#status").content)
        assert "2 marked (0 here)" in app.tasks.border_title
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(app.screen, NewCgroup), app.notices
        assert "Move 2 tasks into a new cgroup under unified:/system.slice" in screen_text(app)
        await pilot.press(*"web", "enter")
        await settle(pilot)
        if isinstance(app.screen, ConfirmMove):
            await pilot.press("y")
            await settle(pilot)
        assert [cgroup_of(world, p) for p in pids] == [SLICE + "/web"] * 2
        assert not app.tasks.marks  # moved: no longer marked


async def test_marks_go_with_a_switch_of_hierarchy(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX)
        app.tasks.focus()
        await pilot.press("space")
        assert app.tasks.marks
        app.tree.focus()
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.hier != "unified" and not app.tasks.marks and app.tasks.selection() != []
