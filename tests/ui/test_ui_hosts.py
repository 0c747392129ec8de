"""Several hosts in the terminal UI (ctrtui/ui/hosts.py, hostfeed.py, screens/hosts.py,
screens/findhosts.py), with in-process hosts: `alpha` is a local demo world (its own engine),
`beta` a demo world reached as a remote host is (a Reader without WRITE, moves through the
host's agent in-process: tests/hostfakes.py), with a cgroup and a task of its own; dead and
hanging hosts are stand-ins whose connect raises or never returns."""

from __future__ import annotations

import threading
import time

import pytest

from ctrtui.remote.errors import HostError
from ctrtui.sources.demo import demo_world
from ctrtui.ui.app import CtrtuiApp
from ctrtui.ui.hostviews import DEAD, OK, HostView, local_host
from ctrtui.ui.screens.findhosts import FindOnHosts
from ctrtui.ui.screens.hosts import HostSwitcher
from devtools.pilot import make_service, screen_text, settle
from devtools.waiting import wait_for
from tests.clihelpers import isolated_dirs  # noqa: F401 - autouse: journals in tmp
from tests.hostfakes import FakeHost

ONLY_B = "/only-on-beta"


def _beta_world():
    world = demo_world()
    world.makedirs("unified", ONLY_B)
    pid = world.spawn("betaonly", "betaonly --serve", uid=0, cgroups={"unified": ONLY_B})
    return world, pid


def _hosts(tmp_path, *extra: HostView):
    a = demo_world()
    alpha = local_host("alpha", make_service(a, tmp_path / "a"))
    b, bpid = _beta_world()
    beta = FakeHost("beta", b, tmp_path)
    return [alpha, beta.view(), *extra], a, b, bpid, beta


def _app(hosts) -> CtrtuiApp:
    return CtrtuiApp(None, interval=3600.0, hierarchy="unified", hosts=hosts)


async def _until(pilot, cond, seconds: float = 10.0) -> None:
    """Let the app run until `cond()` (hosts are reached in threads of their own)."""
    await wait_for(pilot, cond, "the hosts' state", seconds)


def _status(app) -> str:
    return str(app.query_one("#status").content)


async def test_status_names_the_host_and_the_switcher_lists_every_host(pilot_app, tmp_path):
    hosts, a, b, bpid, _ = _hosts(tmp_path)
    app = _app(hosts)
    async with pilot_app(app=app, ready=None) as (app, pilot):
        await _until(pilot, lambda: hosts[1].state == OK and app.hs is not None)
        assert app.host is hosts[0] and app.backend is a
        assert "host alpha" in _status(app)
        assert ONLY_B not in app.hs

        await pilot.press("H")
        await settle(pilot)
        assert isinstance(app.screen, HostSwitcher)
        lines = app.screen.lines
        assert lines[0].startswith("▶ alpha  ok")
        assert lines[1].startswith("  beta  ok") and lines[1].endswith(" ms")

        await pilot.press("down", "enter")
        await _until(pilot, lambda: app.host is hosts[1] and app.hs is not None and ONLY_B in app.hs)
        assert "host beta" in _status(app)
        assert app.backend is hosts[1].backend
        assert app.query_one("#main").display

        # back to alpha: its last snapshot at once (no wait), its own tree
        await pilot.press("H")
        await settle(pilot)
        await pilot.press("up", "enter")
        await settle(pilot)
        assert app.host is hosts[0] and app.hs is not None and ONLY_B not in app.hs
        assert "host alpha" in _status(app)


async def _find(pilot, app, hosts, query: str) -> FindOnHosts:
    """Once beta is reached: `F`, type `query`, `enter`; the find screen once it has hits."""
    await _until(pilot, lambda: hosts[1].state == OK and app.hs is not None)
    await pilot.press("F")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, FindOnHosts)
    await pilot.press(*query, "enter")
    await _until(pilot, lambda: screen.hits)
    return screen


async def test_find_across_hosts_jumps_to_the_hit_on_its_host(pilot_app, tmp_path):
    hosts, a, b, bpid, _ = _hosts(tmp_path)
    app = _app(hosts)
    async with pilot_app(app=app, ready=None) as (app, pilot):
        screen = await _find(pilot, app, hosts, "betaonly")
        assert [(h.host, h.pid, h.hierarchy, h.path) for h in screen.hits] == [("beta", bpid, "unified", ONLY_B)]
        assert "1 hit for betaonly" in str(screen.query_one("#findhosts-status").content)

        await pilot.press("enter")
        await _until(pilot, lambda: app.host is hosts[1] and app.tasks.cursor_pid == bpid)
        assert app.tree.cursor_path == ONLY_B
        assert "host beta" in _status(app)


async def test_find_a_pid_on_every_host_lists_one_hit_per_host(pilot_app, tmp_path):
    hosts, a, b, bpid, _ = _hosts(tmp_path)
    app = _app(hosts)
    async with pilot_app(app=app, ready=None) as (app, pilot):
        screen = await _find(pilot, app, hosts, "1")  # PID 1 is on both demo worlds
        assert sorted(h.host for h in screen.hits) == ["alpha", "beta"]
        assert all(h.pid == 1 for h in screen.hits)


async def test_picker_offers_only_the_tasks_own_host_and_moves_there(pilot_app, tmp_path):
    hosts, a, b, bpid, beta = _hosts(tmp_path)
    app = _app(hosts)
    async with pilot_app(app=app, ready=None) as (app, pilot):
        await _until(pilot, lambda: hosts[1].state == OK and app.hs is not None)
        from devtools.pilot import goto

        # on alpha: the picker is built from alpha's snapshot; beta's own cgroup is not there
        await goto(pilot, "/init.scope")
        app.tasks.focus()
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert picker.snapshot is app.snapshot and app.snapshot is not hosts[1].snapshot
        items, _ = picker.matcher.search("only-on-beta", 10_000)
        assert not any(i.endswith(ONLY_B) for i in items)
        assert picker.matcher.size == sum(len(h.containers) for h in a.snapshot().hierarchies)
        await pilot.press("escape")
        await settle(pilot)

        # on beta: its own cgroup is offered, and a move goes through beta's command line
        app.use_host(hosts[1])
        await _until(pilot, lambda: app.host is hosts[1] and app.hs is not None and ONLY_B in app.hs)
        await goto(pilot, ONLY_B)
        app.tasks.focus()
        assert app.tasks.cursor_pid == bpid
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        items, _ = picker.matcher.search("only-on-beta", 10_000)
        assert any(i.endswith(ONLY_B) for i in items)
        await pilot.press(*"unified:/system.slice")
        await _until(pilot, lambda: picker.plan is not None and picker.plan.target.path == "/system.slice")
        await pilot.press("enter")
        await settle(pilot)
        from ctrtui.ui.screens import ConfirmMove

        if isinstance(app.screen, ConfirmMove):  # risks are checked on the host's own snapshot
            await pilot.press("y")
        await _until(pilot, lambda: app.reports)
        assert b.task_cgroups(bpid)["unified"] == "/system.slice"
        assert any(c == "apply" for c, _ in beta.commands)
        assert app.reports[-1].outcomes[0].outcome == "moved"

        # u undoes on beta, through beta's own journal
        await pilot.press("u")
        await _until(pilot, lambda: len(app.reports) == 2)
        assert b.task_cgroups(bpid)["unified"] == ONLY_B
        assert beta.commands[-1][0] == "undo"


async def test_a_dead_host_and_a_hanging_one_never_block_the_others(pilot_app, tmp_path):
    hang = threading.Event()

    def refused():
        raise HostError("gamma", "unreachable", "ssh: connect to host 127.0.0.9 port 22: Connection refused")

    def never():
        hang.wait(30)
        raise AssertionError("not reached")

    gamma = HostView("gamma", connect=refused, timeout=5)
    delta = HostView("delta", connect=never, timeout=0.5)
    hosts, a, b, bpid, _ = _hosts(tmp_path, gamma, delta)
    app = _app(hosts)
    try:
        async with pilot_app(app=app, ready=None) as (app, pilot):
            # alpha is shown and works while delta hangs
            await _until(pilot, lambda: app.hs is not None and gamma.state == DEAD)
            assert delta.state != DEAD or delta.reason
            await pilot.press("r")
            await settle(pilot, rounds=1)
            await _until(pilot, lambda: delta.state == DEAD)
            assert "Connection refused" in (gamma.reason or "")
            assert "did not answer within 0.5 s" in (delta.reason or "")
            await pilot.press("H")
            await settle(pilot)
            lines = app.screen.lines
            assert any(line.startswith("  gamma  dead: ssh: connect to host") for line in lines)
            assert any(line.startswith("  delta  dead: host delta did not answer") for line in lines)
            # choosing a dead host says why, and stays
            await pilot.press("down", "down", "enter")
            await settle(pilot)
            assert app.host is hosts[0]
            assert any("gamma" in n and "not connected" in n for n in app.notices)
    finally:
        hang.set()


async def test_first_paint_does_not_wait_for_hosts(pilot_app, tmp_path):
    slow_go = threading.Event()
    b, bpid = _beta_world()
    beta = FakeHost("beta", b, tmp_path)

    def slow_link():
        slow_go.wait(10)
        return beta.link()

    hosts = [HostView("beta", connect=slow_link, timeout=20), FakeHost("eps", demo_world(), tmp_path).view()]
    hosts[0].name = "beta"
    app = _app(hosts)
    async with pilot_app(app=app, ready=None) as (app, pilot):
        await settle(pilot)
        # nothing reached yet: the screen is up, says so, and keys work
        text = screen_text(app)
        assert "Connecting to 2 hosts" in text or app.host is hosts[1]
        await _until(pilot, lambda: app.host is hosts[1] and app.hs is not None)  # the first to answer is shown
        assert "host eps" in _status(app)
        slow_go.set()
        await _until(pilot, lambda: hosts[0].state == OK)
        assert app.host is hosts[1]  # a late host does not take the screen away


async def test_a_read_only_remote_host_says_why(pilot_app, tmp_path):
    b, bpid = _beta_world()
    ro = FakeHost("ro", b, tmp_path, read_only="not root; start with --sudo to move tasks")
    app = _app([ro.view()])
    async with pilot_app(app=app, ready=None) as (app, pilot):
        await _until(pilot, lambda: app.hs is not None)
        assert "READ-ONLY (not root; start with --sudo to move tasks)" in _status(app)
        assert _status(app).startswith("ctrtui  host ro  remote")  # one remote host: named all the same
        app.tasks.focus()
        await pilot.press("m")
        await settle(pilot)
        assert any("not root; start with --sudo" in n for n in app.notices)
        assert not ro.commands


async def test_a_host_dying_while_shown_is_marked_dead_once(pilot_app, tmp_path, monkeypatch):
    import ctrtui.ui.hostfeed as hostfeed

    monkeypatch.setattr(hostfeed, "RETRY_DELAYS", (600.0,))  # no retry by itself during the test
    hosts, a, b, bpid, beta = _hosts(tmp_path)
    app = _app(hosts[1:])  # beta alone
    async with pilot_app(app=app, ready=None) as (app, pilot):
        await _until(pilot, lambda: app.hs is not None)
        reader = hosts[1].backend

        def dropped(*args, **kw):
            raise HostError("beta", "dropped", "the connection to beta dropped")

        reader.snapshot = dropped  # type: ignore[method-assign]
        reader.hierarchies = dropped  # type: ignore[method-assign]
        await pilot.press("r")
        await settle(pilot)
        app.live.refresh()  # a later read of the dead host fails too: not said again
        await settle(pilot)
        assert hosts[1].state == DEAD and hosts[1].reason == "the connection to beta dropped"
        assert sum("dropped" in n for n in app.notices) == 1
        attempts = hosts[1].attempts
        await pilot.press("r")  # on a dead host: reach it again
        await settle(pilot)
        assert hosts[1].attempts == attempts + 1
        assert any(n == "Reaching beta again…" for n in app.notices)


@pytest.mark.parametrize("size", [(80, 24), (140, 40)])
async def test_the_switcher_fits_small_and_large_terminals(pilot_app, tmp_path, size):
    name = "a-very-long-host-name.example.org:2222\x1b[31m"
    hosts, *_ = _hosts(tmp_path, HostView(name, connect=lambda: (_ for _ in ()).throw(OSError(113, "No route"))))
    app = _app(hosts)
    async with pilot_app(app=app, size=size, ready=None) as (app, pilot):
        await _until(pilot, lambda: hosts[2].state == DEAD and app.hs is not None)
        await pilot.press("H")
        await settle(pilot)
        text = screen_text(app)
        assert "\x1b" not in "".join(app.screen.lines)
        assert "a-very-long-host-name.example.org:2222\\x1b[31m" in text or "a-very-long-host-name" in text


def test_the_command_line_opens_the_ui_on_its_hosts(tmp_path, monkeypatch):
    from ctrtui.main import main

    seen = []
    monkeypatch.setattr(CtrtuiApp, "run", lambda self, *a, **kw: seen.append(self))
    from ctrtui.cli import common

    monkeypatch.setattr(common, "backend_of", lambda args: demo_world())  # `local`, without the real kernel
    assert main(["--host", "local", "--host", "root@127.0.0.9:2222", "--hierarchy", "freezer",
                 "--timeout", "3"]) == 0
    (app,) = seen
    local, remote = app.hostfeed.views
    assert (local.name, local.local, local.state) == ("local", True, OK)
    assert local.backend.kind == "demo"  # `local` is this machine's backend, as without --host
    assert (remote.name, remote.local, remote.link) == ("root@127.0.0.9:2222", False, None)
    assert remote.timeout == 4.0  # the transport's own timeout, and the backstop a second later
    assert app.host is local and app.asked_hierarchy == "freezer"


async def test_a_connection_dropped_mid_batch_says_the_hosts_journal_keeps_it(pilot_app, tmp_path):
    b, bpid = _beta_world()
    beta = FakeHost("beta", b, tmp_path)
    real_call = beta.call

    def dropping(op, args=None, *, timeout=None):
        if op == "apply":
            raise HostError("beta", "dropped", "the connection dropped before the agent answered")
        return real_call(op, args, timeout=timeout)

    beta.call = dropping  # type: ignore[method-assign]
    app = _app([beta.view()])
    async with pilot_app(app=app, ready=None) as (app, pilot):
        from devtools.pilot import goto

        await _until(pilot, lambda: app.hs is not None)
        await goto(pilot, ONLY_B)
        app.tasks.focus()
        await pilot.press("x")
        await goto(pilot, "/init.scope")
        await pilot.press("p")
        await settle(pilot)
        from ctrtui.ui.screens import ConfirmMove

        if isinstance(app.screen, ConfirmMove):
            await pilot.press("y")
        await _until(pilot, lambda: any("journal keeps" in n for n in app.notices))
        assert not app.reports
        note = next(n for n in app.notices if "journal keeps" in n)
        assert note.startswith("Not moved: beta: the connection dropped") and "reconnect (H, then r)" in note


async def test_cgroup_ops_on_a_remote_host_go_through_its_service(pilot_app, tmp_path):
    b, bpid = _beta_world()
    beta = FakeHost("beta", b, tmp_path)
    app = _app([beta.view()])
    async with pilot_app(app=app, ready=None) as (app, pilot):
        from devtools.pilot import goto

        await _until(pilot, lambda: app.hs is not None)
        await goto(pilot, ONLY_B)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"made-here", "enter")
        await _until(pilot, lambda: f"{ONLY_B}/made-here" in (app.hs or {}))
        assert b.task_cgroups(bpid)["unified"] == ONLY_B
        assert f"{ONLY_B}/made-here" in b.snapshot(["unified"]).get("unified")
        assert ("cgroup_op", {"op": "mkdir", "cgroup": {"hierarchy": "unified", "path": f"{ONLY_B}/made-here"}}) \
            in beta.commands
        await pilot.press("u")  # the host's journal: the mkdir is undone there
        await _until(pilot, lambda: f"{ONLY_B}/made-here" not in (app.hs or {}))
        assert f"{ONLY_B}/made-here" not in b.snapshot(["unified"]).get("unified")
        assert beta.commands[-1][0] == "undo"


async def test_a_host_whose_journal_holds_an_open_batch_says_so_when_reached(pilot_app, tmp_path):
    """The first contact after a dropped connection: the batch its journal holds open is
    one warning, with what to do, shown escaped (the host's words are hostile)."""
    from dataclasses import replace

    b, _ = _beta_world()
    host = FakeHost("gamma", b, tmp_path)
    note = "batch B1\x1b[2J (a move of 3 tasks to freezer:/x, started T) was left open on this host"
    view = HostView("gamma", connect=lambda: replace(host.link(), notes=(note,)), timeout=5.0)
    app = _app([view])
    async with pilot_app(app=app, ready=None) as (app, pilot):
        await _until(pilot, lambda: app.hs is not None)
        await settle(pilot)
        said = [n for n in app.notices if "was left open on this host" in n]
        assert len(said) == 1 and said[0].startswith("Open batch: gamma: batch B1\\x1b[2J (a move of 3 tasks")
        assert "\x1b" not in said[0]


async def test_a_host_sending_numbers_no_kernel_gives_leaves_the_ui_up(pilot_app, tmp_path):
    """Issue 16: an rss of 10**400 (task_details) crashed the row drawing with an
    OverflowError, a 400-digit memory.current the detail line. A host's reader that lets them
    through (RemoteReader refuses them: tests/unit/test_remote_reader.py) must still leave
    the UI up, the figures shown as `?` or left out."""
    hosts, a, b, bpid, beta = _hosts(tmp_path)
    reader = beta.reader
    details, stats = reader.task_details, reader.cgroup_stats

    def huge_details(pids):
        return {pid: t.replace(rss=10 ** 400) for pid, t in details(pids).items()}

    def huge_stats(hierarchy, path, names=None):
        return {**stats(hierarchy, path, names), "memory.current": "9" * 400, "pids.current": "7" * 5000}

    reader.task_details = huge_details  # type: ignore[method-assign]
    reader.cgroup_stats = huge_stats  # type: ignore[method-assign]
    app = _app(hosts)
    async with pilot_app(app=app, ready=None) as (app, pilot):
        screen = await _find(pilot, app, hosts, "betaonly")
        await pilot.press("enter")
        await _until(pilot, lambda: app.host is hosts[1] and app.tasks.cursor_pid == bpid)
        await pilot.press("tab")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        text = screen_text(app)
        assert app.is_running and "betaonly" in text
        assert " ?" in text  # the rss column
        assert "7" * 100 not in text  # the pids figure, cut
        del screen


def test_the_detail_line_and_rows_format_any_number_a_host_sends():
    """The pieces the Pilot test above goes through, each alone: a 400-digit memory.current
    (and cpu.stat usage) is left out of the detail line, an rss beyond 2^64 is `?`, and long
    texts are cut."""
    from ctrtui.ui.rows import human_bytes
    from ctrtui.ui.widgets.detail import cgroup_summary, figure

    stats = {"memory.current": "9" * 400, "cpu.stat": "usage_usec " + "9" * 400, "pids.current": "7" * 5000,
             "cpuacct.usage": "²"}
    text = cgroup_summary("unified", "/x", (), stats, 1, 1, 1).plain
    assert "memory" not in text and "cpu " not in text and "7" * 100 not in text and "pids 777" in text
    assert [human_bytes(n) for n in (10 ** 400, -1, 2 ** 64)] == ["?", "?", "?"]
    assert human_bytes(2 ** 64 - 1) == "16777216T" and human_bytes(1536) == "1.5K"
    assert [figure(t) for t in ("12", " 12\n", "1" * 21, "²", "", "-1", str(2 ** 64))] == [12, 12, None, None, None,
                                                                                             None, None]


def _sole_dead_host(tmp_path):
    """A host whose connect is refused (ssh's words, with markup and an escape in them) until
    `up` is set; `tries`: when it was tried."""
    b, _ = _beta_world()
    beta = FakeHost("dead\x1b[31m", b, tmp_path)
    tries: list[float] = []
    up = threading.Event()

    def connect():
        tries.append(time.monotonic())
        if not up.is_set():
            raise HostError("dead", "unreachable", "ssh: connect to host 127.0.0.1 port 9: Connection refused "
                            "[bold]\x1b[2J")
        return beta.link()

    return HostView("dead\x1b[31m", connect=connect, timeout=5), tries, up


async def test_a_sole_dead_host_says_so_and_r_retries_it_at_once(pilot_app, tmp_path, monkeypatch):
    """`ctrtui --host DEAD`: the status bar and the main area say the host is unreachable in
    ssh's words (escaped) as soon as that is known, and offer r and H; `r` tries it again at
    once (never a snapshot of no host at all)."""
    import ctrtui.ui.hostfeed as hostfeed

    monkeypatch.setattr(hostfeed, "RETRY_DELAYS", (60.0,))
    view, tries, up = _sole_dead_host(tmp_path)
    app = _app([view])
    async with pilot_app(app=app, size=(140, 40), ready=None) as (app, pilot):
        await _until(pilot, lambda: view.state == DEAD)
        await settle(pilot)
        status, text = _status(app), " ".join(screen_text(app).split())
        assert "\x1b" not in status + text
        assert status.startswith("ctrtui  host dead\\x1b[31m unreachable (r retries, H hosts): ssh: connect to host "
                                 "127.0.0.1 port 9: Connection refused [bold]\\x1b[2J (tried again in 60 s)"), status
        assert "connecting" not in status.casefold()
        assert ("Host dead\\x1b[31m is unreachable (r retries now, H picks another host): ssh: connect to host "
                "127.0.0.1 port 9: Connection refused [bold]\\x1b[2J. It is also tried again by itself") in text, text
        assert len(tries) == 1
        await pilot.press("r")  # at once: the next try by itself is a minute away
        await _until(pilot, lambda: len(tries) == 2 and view.state == DEAD)
        await settle(pilot)
        assert "No cgroup hierarchy is mounted" not in screen_text(app)
        assert not any("No cgroup hierarchy" in note for note in app.notices)
        assert "unreachable (r retries, H hosts)" in _status(app)
        up.set()
        await pilot.press("r")
        await _until(pilot, lambda: app.host is view and app.hs is not None)
        await settle(pilot)
        assert "unreachable" not in _status(app) and len(tries) == 3


async def test_a_dead_host_is_retried_by_itself_with_a_growing_delay(pilot_app, tmp_path, monkeypatch):
    import ctrtui.ui.hostfeed as hostfeed

    monkeypatch.setattr(hostfeed, "RETRY_DELAYS", (0.2, 0.8, 0.2))
    view, tries, up = _sole_dead_host(tmp_path)
    app = _app([view])
    async with pilot_app(app=app, ready=None) as (app, pilot):
        await _until(pilot, lambda: len(tries) >= 3)
        assert tries[1] - tries[0] >= 0.2 and tries[2] - tries[1] >= 0.8
        up.set()  # no key pressed: a try by itself reaches it and shows it
        await _until(pilot, lambda: app.host is view and app.hs is not None)
        await settle(pilot)
        assert "unreachable" not in _status(app)


async def test_a_shown_host_that_dies_is_retried_in_the_background(pilot_app, tmp_path, monkeypatch):
    import ctrtui.ui.hostfeed as hostfeed

    monkeypatch.setattr(hostfeed, "RETRY_DELAYS", (0.2,))
    hosts, a, b, bpid, beta = _hosts(tmp_path)
    view = hosts[1]
    app = _app([view])  # beta alone
    async with pilot_app(app=app, ready=None) as (app, pilot):
        await _until(pilot, lambda: app.hs is not None)
        reader = view.backend
        saved = reader.snapshot, reader.hierarchies

        def dropped(*args, **kw):
            raise HostError("beta", "dropped", "the connection to beta dropped")

        reader.snapshot = reader.hierarchies = dropped  # type: ignore[method-assign]
        await pilot.press("r")
        await _until(pilot, lambda: view.state == DEAD)
        assert "beta unreachable (r retries, H hosts): the connection to beta dropped" in _status(app)
        reader.snapshot, reader.hierarchies = saved  # type: ignore[method-assign]
        await _until(pilot, lambda: view.state == OK and view.attempts >= 2)
        await _until(pilot, lambda: "unreachable" not in _status(app))
        await settle(pilot)


async def test_when_no_host_could_be_reached_the_screen_names_each_and_why(pilot_app, tmp_path, monkeypatch):
    import ctrtui.ui.hostfeed as hostfeed

    monkeypatch.setattr(hostfeed, "RETRY_DELAYS", (600.0,))

    def refused(name):
        def connect():
            raise HostError(name, "unreachable", f"ssh: connect to host {name} port 22: Connection refused")
        return connect

    views = [HostView(n, connect=refused(n), timeout=5) for n in ("gamma", "delta")]
    app = _app(views)
    async with pilot_app(app=app, size=(140, 40), ready=None) as (app, pilot):
        await _until(pilot, lambda: all(v.state == DEAD for v in views))
        await settle(pilot)
        assert _status(app).startswith("ctrtui  host none of 2 unreachable (r retries them; H lists them)")
        text = " ".join(screen_text(app).split())
        assert ("None of the 2 hosts could be reached (r retries them now, H lists them): gamma: ssh: connect to "
                "host gamma port 22: Connection refused; delta: ssh: connect to host delta port 22") in text, text
        await pilot.press("r")
        await _until(pilot, lambda: all(v.attempts == 2 for v in views) and all(v.state == DEAD for v in views))
        await settle(pilot)
        assert "Reaching gamma, delta again…" in app.notices
