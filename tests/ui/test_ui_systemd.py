"""Pilot tests of the systemd route in the target picker, on the demo world with systemd as
PID 1 (`demo:systemd`): "new scope…" (ctrl+n) moves the tasks into a new transient scope and
undo moves them back; a move into a unit that is not delegated is refused, and ctrl+k writes
the kernel file anyway after the confirm screen shows the risk; a plain demo host offers
neither."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from ctrtui.sources.demo import demo_world
from ctrtui.ui.screens import ConfirmMove, TargetPicker
from ctrtui.ui.screens.newscope import NewScope
from devtools.pilot import cgroup_of, goto, screen_text, settle
from devtools.waiting import picker_planned, wait_for

pytestmark = pytest.mark.ui

NGINX = "/system.slice/nginx.service"
SESSION = "/user.slice/user-1000.slice/session-3.scope"


async def open_picker(pilot, app, source: str, search: str) -> tuple[int, TargetPicker]:
    """The last task of `source` selected, the picker open on it, `search` typed and planned."""
    await settle(pilot)
    await goto(pilot, source)
    app.tasks.focus()
    pid = app.tasks.shown[-1]
    app.tasks.select_pid(pid)
    await pilot.press("m")
    await wait_for(pilot, lambda: isinstance(app.screen, TargetPicker), "the target picker")
    picker = app.screen
    await pilot.press(*search)
    await wait_for(pilot, lambda: picker_planned(picker), "the picker's plan for what was typed")
    return pid, picker


async def test_new_scope_from_the_picker_moves_the_task_and_undo_moves_it_back(pilot_app, tmp_path):
    world = demo_world(systemd=True)
    async with pilot_app(world) as (app, pilot):
        pid, picker = await open_picker(pilot, app, NGINX, "user-1000.slice")
        assert "ctrl+n new scope…" in screen_text(app)
        assert picker.scope_slice() == "user-1000.slice"
        calls = world.scope_calls
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewScope), "the new scope dialog")
        dialog = app.screen
        await pilot.press(*"bad name")
        await wait_for(pilot, lambda: "not a scope name systemd accepts" in dialog.message, "the name's check")
        dialog.query_one("#newscope-name", Input).value = ""
        await pilot.press(*"batch.scope", "tab", *"CPUWeight=nope")
        await wait_for(pilot, lambda: "CPUWeight" in dialog.message and "enter:" not in dialog.message,
                       "the property's check")
        await pilot.press("enter")
        assert app.screen is dialog  # refused while systemd would refuse it
        dialog.query_one("#newscope-props", Input).value = ""
        await pilot.press(*"CPUWeight=50")
        await wait_for(pilot, lambda: dialog.message.startswith("enter:"), "the request accepted")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmMove), "the confirm screen")
        assert app.screen.plan.route == "scope" and app.screen.plan.scope is not None
        await pilot.press("y")
        scope = "/user.slice/user-1000.slice/batch.scope"
        await wait_for(pilot, lambda: cgroup_of(world, pid) == scope, "the task in the new scope")
        assert world.scope_calls == calls + 1
        await wait_for(pilot, lambda: any("batch.scope" in n and "1 moved" in n for n in app.notices),
                       "the report naming the scope")
        await pilot.press("u")
        await wait_for(pilot, lambda: cgroup_of(world, pid) == NGINX, "the task back in nginx")


async def test_non_delegated_unit_is_refused_then_the_kernel_choice_moves_with_the_risk_shown(pilot_app, tmp_path):
    world = demo_world(systemd=True)
    async with pilot_app(world) as (app, pilot):
        pid, picker = await open_picker(pilot, app, SESSION, "nginx.service")
        assert picker.target_path == NGINX
        assert picker.plan is not None and not picker.plan.summary().get("move")
        message = str(picker.query_one("#picker-message").content)
        assert "ctrl+k: write the kernel file anyway" in message and "nginx.service" in message
        await pilot.press("enter")  # refused: nothing would move
        assert app.screen is picker and cgroup_of(world, pid) == SESSION
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmMove), "the confirm screen")
        confirm = app.screen
        assert confirm.plan.route == "kernel" and confirm.plan.summary().get("move") == 1
        assert any("nginx.service" in r and "stop" in r for r in confirm.risks), confirm.risks
        await pilot.press("y")
        await wait_for(pilot, lambda: cgroup_of(world, pid) == NGINX, "the task in nginx by the kernel write")
        assert world.attach_calls == 0


async def test_plain_demo_host_offers_no_new_scope_nor_kernel_choice(pilot_app, tmp_path):
    world = demo_world()
    async with pilot_app(world) as (app, pilot):
        _, picker = await open_picker(pilot, app, SESSION, "nginx.service")
        assert not picker.systemd_host
        assert "new scope" not in screen_text(app) and "ctrl+k" not in str(picker.query_one("#picker-message").content)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.screen is picker
        assert not picker.check_action("new_scope", ()) and not picker.check_action("kernel", ())


def test_a_remote_systemd_host_takes_the_new_scope_and_the_kernel_write_through_its_service(tmp_path):
    """A remote host's mover passes `via` and a new scope to the host's service (its engine
    judges them there), and offers them only where the host says systemd manages it."""
    from ctrtui.engine.values import ScopeRequest
    from ctrtui.model import CgroupRef
    from tests.hostfakes import FakeHost

    world = demo_world(systemd=True)
    pid = world.spawn("worker", cgroups={"unified": "/user.slice/user-1000.slice"})
    mover = FakeHost("web1", world, tmp_path).link().mover
    assert mover.systemd_host is True
    refused = mover.plan([pid], CgroupRef("unified", NGINX))
    assert [v.kind for v in refused.verdicts] == ["refused"] and refused.verdicts[0].hook == "systemd-route"
    forced = mover.plan([pid], CgroupRef("unified", NGINX), via="kernel")
    assert [v.kind for v in forced.verdicts] == ["move"] and forced.route == "kernel"
    scoped = mover.plan_scope([pid], ScopeRequest("batch.scope", None, ()))
    assert scoped.route == "scope" and [v.kind for v in scoped.verdicts] == ["move"]
    plain = FakeHost("web2", demo_world(), tmp_path / "plain").link().mover
    assert plain.systemd_host is False
