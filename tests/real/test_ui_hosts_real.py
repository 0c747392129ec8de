"""The terminal UI headless against real hosts: two sshd on 127.0.0.x (tests/sshd.py; the
second in a cgroup namespace of its own, so the two hosts show different trees) and a closed
port among them. The agent is bootstrapped through the real `ssh` client; the UI reaches the
hosts in the background, shows the first to answer, names it in the status bar, lists every
host in the switcher (the closed port dead, with ssh's words), finds the test's own sleep
across hosts, and moves it through the host's own ctrtui into a `ctrtui-test-*` freezer
cgroup and back with `u`. Only loopback; only the test's own process and cgroups."""

from __future__ import annotations

import pytest

from ctrtui.remote.connect import ConnectOptions
from ctrtui.ui.app import CtrtuiApp
from ctrtui.ui.hosts import remote_host
from ctrtui.ui.hostviews import DEAD, OK
from devtools.pilot import goto, settle
from devtools.waiting import open_app, wait_for

pytestmark = pytest.mark.ui


async def _until(pilot, cond, seconds: float = 60.0) -> None:
    await wait_for(pilot, cond, "the hosts' state", seconds)


async def test_the_ui_on_two_real_hosts_and_a_dead_one(sshlab, sshhost, realworld, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    other = sshlab.start_host(cgroup_namespace=True)
    dead = sshlab.closed_port()
    try:
        top = realworld.top("freezer")
        dst = realworld.mkdir("freezer", "dst")
        sleep = realworld.spawn_sleep()
        realworld.put(sleep.pid, "freezer", top)
        options = ConnectOptions(timeout=20, ssh_config=sshlab.config)
        views = [remote_host(sshhost.spec, options), remote_host(other.spec, options), remote_host(dead, options)]
        one, two, gone = views
        app = CtrtuiApp(None, interval=3600.0, hierarchy="freezer", hosts=views)
        async with open_app(app=app, ready=None) as (app, pilot):
            await _until(pilot, lambda: one.state == OK and two.state == OK and gone.state == DEAD
                         and app.hs is not None)
            assert app.hier == "freezer"
            assert f"host {app.host.name}" in str(app.query_one("#status").content)
            assert "refused" in (gone.reason or "").lower(), gone.reason
            # the hosts differ: the namespaced one sees its own cgroup as its root
            assert one.backend.task_cgroups(sleep.pid)["freezer"] == top
            assert two.backend.snapshot(["freezer"]).get("freezer").get(top) is None

            await pilot.press("H")
            await settle(pilot)
            lines = app.screen.lines
            assert any(line[2:].startswith(f"{one.name}  ok") for line in lines), lines
            assert any(line[2:].startswith(f"{gone.name}  dead: ") and "refused" in line for line in lines), lines
            await pilot.press("escape")
            await settle(pilot)

            # find the sleep on every host; jump to it on the first host
            await pilot.press("F")
            await settle(pilot)
            finder = app.screen
            await pilot.press(*str(sleep.pid), "enter")
            await _until(pilot, lambda: finder.hits)
            hit = next(h for h in finder.hits if h.host == one.name)
            assert (hit.pid, hit.hierarchy, hit.path) == (sleep.pid, "freezer", top)
            app.screen.dismiss(hit)
            await _until(pilot, lambda: app.host is one and app.tasks.cursor_pid == sleep.pid)
            assert app.tree.cursor_path == top

            # move it with cut and put, through the host's own ctrtui; then undo there
            await goto(pilot, top)
            app.tasks.focus()
            app.tasks.select_pid(sleep.pid)
            await pilot.press("x")
            await goto(pilot, dst)
            await pilot.press("p")
            from ctrtui.ui.screens import ConfirmMove

            await _until(pilot, lambda: isinstance(app.screen, ConfirmMove))  # a v1 move asks first
            assert any("Only the freezer hierarchy changes" in r for r in app.screen.risks)
            await pilot.press("y")
            await _until(pilot, lambda: app.reports or any("Not moved" in n for n in app.notices))
            assert app.reports and app.reports[-1].outcomes[0].outcome == "moved", list(app.notices)
            assert realworld.cgroup_of(sleep.pid, "freezer") == dst
            assert app.reports[-1].journaled
            await pilot.press("u")
            await _until(pilot, lambda: len(app.reports) == 2)
            assert realworld.cgroup_of(sleep.pid, "freezer") == top
    finally:
        sshlab.stop_host(other)
