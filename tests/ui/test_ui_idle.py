"""The refresh rule of issue 12 (ctrtui/ui/live.py), on the simulated kernel: a tick reads
only what is on screen (a collapsed subtree of 10,000 cgroups is never walked by a tick), a
change in the shown cgroup appears at the next tick, a change elsewhere after `r` or at the
next whole read, the shape changing on screen makes a whole read at once, nothing is
drawn when nothing changed, and the status bar says how old the counts are."""

from __future__ import annotations

import time

import pytest

from ctrtui.sources.demo import demo_world
from ctrtui.ui.live import FULL_TICKS
from devtools.pilot import goto, screen_text, settle
from devtools.waiting import wait_for

SESSION = "/user.slice/user-1000.slice/session-3.scope"
BIG = "/big.slice"


class Counting:
    """A backend that counts what the UI reads: whole snapshots (with the cgroups each
    returned) and the cgroups read one by one."""

    def __init__(self, inner):
        self.inner = inner
        self.snapshots: list[tuple[object, object, int]] = []
        self.reads: list[list[str]] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def snapshot(self, names=None, subtree=None):
        snap = self.inner.snapshot(names, subtree)
        self.snapshots.append((names, subtree, sum(len(h.containers) for h in snap.hierarchies)))
        return snap

    def read_cgroups(self, hierarchy, paths):
        paths = list(paths)
        self.reads.append(paths)
        return self.inner.read_cgroups(hierarchy, paths)

    def clear(self) -> None:
        self.snapshots.clear()
        self.reads.clear()


@pytest.fixture(scope="module")
def big_world():
    """The demo world plus a collapsed 100 x 100 subtree (10,000 cgroups) in unified."""
    w = demo_world()
    w.mkdir("unified", BIG)
    for g in range(100):
        w.mkdir("unified", f"{BIG}/g{g:02d}")
        for c in range(100):
            w.mkdir("unified", f"{BIG}/g{g:02d}/c{c:02d}")
    return w


async def tick(pilot) -> None:
    """What the auto-refresh timer does, now."""
    pilot.app.live.tick()
    await settle(pilot)


async def test_a_tick_reads_only_what_is_shown(pilot_app, big_world, tmp_path):
    backend = Counting(big_world)
    async with pilot_app(backend) as (app, pilot):
        await goto(pilot, SESSION)
        assert not app.tree.nodes[BIG].is_expanded
        assert len(app.hs.containers) > 10_000
        rows = app.tree.scrollable_content_region.height
        backend.clear()
        for _ in range(5):
            await tick(pilot)
        assert backend.snapshots == []  # no walk of the hierarchy at all
        assert len(backend.reads) == 5
        for paths in backend.reads:
            assert SESSION in paths  # the shown cgroup, every tick
            assert len(paths) <= rows + 1
            shown = {n.data for n in app.tree.nodes.values()}
            assert set(paths) <= shown
            assert not any(p.startswith(BIG + "/") for p in paths)  # the collapsed subtree
        # r reads the whole hierarchy, once
        await pilot.press("r")
        await settle(pilot)
        assert len(backend.snapshots) == 1 and backend.snapshots[0][2] > 10_000


async def test_the_subtree_view_reads_the_shown_subtree_only(pilot_app, big_world, tmp_path):
    backend = Counting(big_world)
    async with pilot_app(backend) as (app, pilot):
        await goto(pilot, "/user.slice")
        await pilot.press("d")  # the task list shows the subtree: all of it is on screen
        await settle(pilot)
        assert app.recursive
        backend.clear()
        await tick(pilot)
        assert [(s[1], s[2] < 20) for s in backend.snapshots] == [("/user.slice", True)]


async def test_a_change_in_the_shown_cgroup_appears_at_the_next_tick(pilot_app, tmp_path):
    world = demo_world()
    backend = Counting(world)
    async with pilot_app(backend) as (app, pilot):
        await goto(pilot, SESSION)
        shown = list(app.tasks.shown)
        count = app.tree._own[SESSION]
        born = world.spawn("born", cgroups={"unified": SESSION})
        world.exit(shown[-1], reap=True)
        backend.clear()
        await tick(pilot)
        assert backend.snapshots == []
        assert born in app.tasks.shown and born in app.tasks.new  # arrival highlighted
        assert shown[-1] in app.tasks.gone  # departure highlighted
        assert app.tree._own[SESSION] == count  # one came, one went
        assert app.snapshot.get("unified")[SESSION].procs is not None
        assert born in app.snapshot.get("unified")[SESSION].procs


async def test_the_timer_ticks_at_the_interval(pilot_app, tmp_path):
    world = demo_world()
    backend = Counting(world)
    async with pilot_app(backend, interval=0.1) as (app, pilot):
        await goto(pilot, SESSION)
        backend.clear()
        born = world.spawn("born", cgroups={"unified": SESSION})
        await wait_for(pilot, lambda: born in app.tasks.shown, "the newborn task in the list (by the timer)")
        assert backend.reads  # the timer's ticks read what is shown


async def test_a_change_elsewhere_waits_for_r_or_the_whole_read(pilot_app, big_world, tmp_path):
    world = demo_world()
    world.mkdir("unified", "/far.slice")
    world.mkdir("unified", "/far.slice/deep")
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, SESSION)
        far = world.spawn("far", cgroups={"unified": "/far.slice/deep"})
        await tick(pilot)
        assert app.tree.recursive_count("/far.slice") == 0  # out of view: lags
        assert far not in app.hs["/far.slice/deep"].procs
        await pilot.press("r")
        await settle(pilot)
        assert app.tree.recursive_count("/far.slice") == 1
        # the whole hierarchy is read again after FULL_TICKS intervals at the latest
        far2 = world.spawn("far2", cgroups={"unified": "/far.slice/deep"})
        app.live._full_due = time.monotonic()  # the period has passed
        await tick(pilot)
        assert far2 in app.hs["/far.slice/deep"].procs
        assert app.tree.recursive_count("/far.slice") == 2


def test_the_whole_read_period_follows_its_cost():
    from ctrtui.ui.live import FULL_BUDGET, FULL_MAX, LiveView

    live = LiveView.__new__(LiveView)
    live.interval, live.full_ticks, live.full_cost = 2.0, FULL_TICKS, 0.001
    assert live.full_period() == FULL_TICKS * 2.0
    live.full_cost = 0.3  # a big tree: whole reads stay within the budget
    assert live.full_period() == pytest.approx(0.3 / FULL_BUDGET)
    live.full_cost = 100.0
    assert live.full_period() == FULL_MAX


async def test_cgroups_that_come_and_go_on_screen_cost_only_their_subtree(pilot_app, big_world, tmp_path):
    world = big_world
    backend = Counting(world)
    async with pilot_app(backend) as (app, pilot):
        await goto(pilot, SESSION)
        app.tree.nodes[SESSION].expand()
        await settle(pilot)
        world.mkdir("unified", SESSION + "/sub")
        world.mkdir("unified", SESSION + "/sub/leaf")
        pid = world.spawn("inleaf", cgroups={"unified": SESSION + "/sub/leaf"})
        backend.clear()
        await tick(pilot)
        # no whole read: the new child's subtree only
        assert [(s[1], s[2]) for s in backend.snapshots] == [(SESSION + "/sub", 2)]
        assert SESSION + "/sub/leaf" in app.hs and pid in app.hs[SESSION + "/sub/leaf"].procs
        assert SESSION + "/sub" in app.tree.nodes
        assert app.tree.recursive_count(SESSION + "/sub") == 1
        assert list(app.hs.containers).index(SESSION + "/sub") > list(app.hs.containers).index(SESSION)
        # it goes again (its task leaves first)
        world.exit(pid, reap=True)
        world.rmdir("unified", SESSION + "/sub/leaf")
        world.rmdir("unified", SESSION + "/sub")
        backend.clear()
        await tick(pilot)
        assert backend.snapshots == []
        assert SESSION + "/sub" not in app.hs and SESSION + "/sub/leaf" not in app.hs
        assert SESSION + "/sub" not in app.tree.nodes
        assert app.tree.cursor_path == SESSION


async def test_the_shown_cgroup_gone_moves_the_cursor_to_its_parent(pilot_app, tmp_path):
    world = demo_world()
    world.mkdir("unified", "/system.slice/tmp-job")
    backend = Counting(world)
    async with pilot_app(backend) as (app, pilot):
        await goto(pilot, "/system.slice/tmp-job")
        world.rmdir("unified", "/system.slice/tmp-job")
        backend.clear()
        await tick(pilot)
        assert app.tree.cursor_path == "/system.slice" and app.tasks.path == "/system.slice"
        assert any("tmp-job was removed" in n for n in app.notices)


async def test_nothing_changed_draws_nothing(pilot_app, tmp_path):
    world = demo_world()
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, SESSION)
        await tick(pilot)
        snap, base, read = app.snapshot, app.tasks.base, app.live.read_at
        updates = app.tree._updates
        await tick(pilot)
        assert app.snapshot is snap and app.tasks.base is base  # no patch at all
        assert app.tree._updates == updates
        assert app.live.read_at > read  # but it was read


async def test_status_bar_says_how_old_the_counts_are(pilot_app, tmp_path):
    world = demo_world()
    async with pilot_app(world, interval=2.0) as (app, pilot):
        app.live._timer.stop()
        now = time.time()
        app.live.read_at = now
        app.live.tree_at = now - 25
        app.update_status()
        await pilot.pause()
        text = screen_text(app)
        assert "counts 20s old" in text and "snapshot" not in text.split("\n")[0]
        app.live.read_at = now - 9  # the reads stopped keeping up: the age is shown
        app.update_status()
        await pilot.pause()
        assert "snapshot 9s ago" in screen_text(app)


async def test_changed_details_redraw_their_row(pilot_app, tmp_path):
    world = demo_world()
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, SESSION)
        app.tasks.focus()
        pid = app.tasks.shown[1]
        await settle(pilot)
        info = app.tasks.details[pid]
        assert "renamedtask" not in screen_text(app)
        first = app.tasks.shown[0]
        app.tasks.take_details({pid: info.replace(cmdline="renamedtask --x"), first: app.tasks.details[first]})
        await pilot.pause()
        assert "renamedtask" in screen_text(app)
        assert app.tasks.details[pid].cmdline == "renamedtask --x"


class Drawn:
    """Counts the lines a widget draws (`render_line` calls, by line)."""

    def __init__(self, widget):
        self.lines: list[int] = []
        inner = widget.render_line

        def render_line(y):
            self.lines.append(y)
            return inner(y)

        widget.render_line = render_line


async def full_repaint_matches(pilot) -> None:
    """What is on screen equals what drawing the task list and the tree anew gives (the
    partial redraws left no stale line)."""
    app = pilot.app
    await pilot.pause()
    before = screen_text(app)
    app.tasks._strips.clear()
    app.tasks.refresh()
    app.tree.refresh()
    await pilot.pause()
    assert screen_text(app) == before


async def test_a_task_coming_below_the_screen_draws_the_title_not_the_rows(pilot_app, tmp_path):
    world = demo_world()
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/")
        await tick(pilot)
        rows = app.tasks.size.height - 1
        n = len(app.tasks.shown)
        assert n > rows  # the list is longer than the screen
        drawn = Drawn(app.tasks)
        born = world.spawn("late", cgroups={"unified": "/"}, pid=30000)
        await tick(pilot)
        assert born in app.tasks.shown and app.tasks.shown[-1] == born  # below the screen
        assert f"{n + 1} processes" in screen_text(app)  # the title says so
        assert drawn.lines == []  # no row, not even the header, was drawn again
        await full_repaint_matches(pilot)


async def test_rows_that_move_are_drawn_again_and_only_they(pilot_app, tmp_path):
    world = demo_world()
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/")
        await tick(pilot)
        shown = list(app.tasks.shown)
        rows = app.tasks.size.height - 1
        drawn = Drawn(app.tasks)
        # a task leaves from the middle of the screen: it stays, struck out (no row moves)
        world.exit(shown[10], reap=True)
        await tick(pilot)
        assert shown[10] in app.tasks.gone
        assert drawn.lines == [11]  # its line alone (line 0 is the header)
        await full_repaint_matches(pilot)
        # it stops fading out (ended by the tick that finds it due): the rows below move up
        for pid in app.tasks.gone:
            app.tasks.gone[pid] = 0.0
        drawn.lines.clear()
        await tick(pilot)
        assert not app.tasks.gone and shown[10] not in app.tasks.shown
        assert sorted(set(drawn.lines)) == list(range(11, rows + 1))  # not the header, not above
        await full_repaint_matches(pilot)
        # a row's details change: that row alone
        pid = app.tasks.shown[4]
        drawn.lines.clear()
        app.tasks.take_details({pid: app.tasks.details[pid].replace(cmdline="renamed --now")})
        await pilot.pause()
        assert drawn.lines == [5]
        await full_repaint_matches(pilot)


async def test_a_highlights_own_timer_leaves_the_just_due_ones_to_the_next_tick(pilot_app, tmp_path):
    world = demo_world()
    async with pilot_app(world, interval=2.0) as (app, pilot):
        await goto(pilot, "/")
        tasks = app.tasks
        assert tasks.highlight_grace == 2.0
        pid, other = tasks.shown[3], tasks.shown[4]
        now = time.monotonic()
        tasks.new = {pid: now - 0.5, other: now + 1}  # due half a second ago: the next tick ends it
        tasks._expire_late()
        assert pid in tasks.new
        tasks.new[pid] = now - 2.5  # overdue: no tick ended it (they stopped)
        tasks._expire_late()
        assert pid not in tasks.new and other in tasks.new
        await pilot.press("P")  # paused: no tick will come, the timer ends what is due
        assert tasks.highlight_grace == 0.0
        tasks.new = {pid: time.monotonic() - 0.01}
        tasks._expire_late()
        assert not tasks.new


async def test_a_count_changing_draws_its_tree_lines_only(pilot_app, tmp_path):
    world = demo_world()
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, SESSION)
        await tick(pilot)
        tree = app.tree
        visible = sum(1 for y in range(tree.size.height) if tree.get_node_at_line(y) is not None)
        assert visible >= 10
        drawn = Drawn(tree)
        world.spawn("born", cgroups={"unified": SESSION})
        await tick(pilot)
        lines = set(drawn.lines)
        assert tree.nodes[SESSION].line in lines
        assert 0 < len(lines) <= SESSION.count("/") + 1  # the cgroup and its ancestors
        await full_repaint_matches(pilot)


async def test_the_scrollbar_is_drawn_again_only_when_it_looks_different(pilot_app, tmp_path):
    world = demo_world()
    many = [world.spawn("many", cgroups={"unified": "/system.slice"}) for _ in range(1000)]
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/system.slice")
        await tick(pilot)
        bar = app.tasks.vertical_scrollbar
        assert app.tasks.show_vertical_scrollbar
        calls = []
        inner = bar.refresh
        bar.refresh = lambda *a, **k: (calls.append(a), inner(*a, **k))[1]
        world.spawn("one more", cgroups={"unified": "/system.slice"})
        await tick(pilot)
        assert calls == []  # 1,00x or 1,00x+1 rows: the same bar
        assert bar.window_virtual_size == app.tasks.virtual_size.height  # but it knows
        for pid in many[40:]:
            world.exit(pid, reap=True)
        await tick(pilot)
        for pid in app.tasks.gone:
            app.tasks.gone[pid] = 0.0  # done fading out: the list is 50-odd rows long now
        await tick(pilot)
        assert len(app.tasks.shown) < 100
        assert calls  # a much shorter list: a longer thumb
        await full_repaint_matches(pilot)


def test_the_interval_stretches_past_the_cpu_budget_and_no_further():
    from ctrtui.ui.live import COST_WEIGHT, STRETCH_MAX, TICK_BUDGET, LiveView

    live = LiveView.__new__(LiveView)
    live.interval, live.tick_cost, live._pace = 2.0, None, 2.0
    assert live.paced() == 2.0  # nothing measured yet
    live.paid(0.001)  # 1 ms a tick: 0.05 % of a core, well within
    assert live.tick_cost == 0.001 and live.paced() == 2.0
    live.paid(0.041)  # one dear tick moves the mean by a quarter of the difference
    assert live.tick_cost == pytest.approx(0.001 + 0.04 * COST_WEIGHT)
    assert live.paced() == pytest.approx(live.tick_cost / TICK_BUDGET)  # 11 ms a tick: 3.7 s
    for _ in range(50):
        live.paid(1.0)  # a tick costs a second of CPU: stretched, but only so far
    assert live.paced() == 2.0 * STRETCH_MAX

    def settle_at(ticks_worth: float) -> float:  # the mean at `ticks_worth` intervals of budget
        live.tick_cost = None
        live.paid(ticks_worth * 2.0 * TICK_BUDGET)
        return live.paced()

    assert settle_at(4.5) == 10.0  # a little cheaper: the pace stays (EASE), no flip
    assert settle_at(3.5) == pytest.approx(7.0)  # below EASE of it: down
    assert settle_at(3.75) == pytest.approx(7.5)  # dearer: up at once
    assert settle_at(1.02) == pytest.approx(2.04)  # just over the interval
    assert settle_at(0.98) == pytest.approx(2.04)  # just under: still 2.04 (and said so)
    assert settle_at(0.5) == 2.0  # well under: back to the interval
    for _ in range(50):
        live.paid(0.0005)  # cheap again: back to the interval asked for
    assert live.paced() == 2.0
    live.interval = 0.0  # no auto-refresh: nothing to pace
    assert live.paced() == 0.0


async def test_a_stretched_interval_is_used_and_said(pilot_app, tmp_path):
    from ctrtui.ui.live import STRETCH_MAX, TICK_BUDGET

    world = demo_world()
    async with pilot_app(world, interval=0.1) as (app, pilot):
        await goto(pilot, SESSION)
        live = app.live
        assert live.tick_cost is not None and live.tick_cost > 0  # the ticks measure themselves
        pay = live.paid

        def costs(seconds: float) -> None:  # ticks cost this from now on (measured ones are ignored)
            live.tick_cost = None
            pay(seconds)

        live.paid = lambda cost: None
        costs(0.1 * TICK_BUDGET / 2)
        app.update_status()
        await pilot.pause()
        assert "every" not in screen_text(app).split("\n")[1]  # within the budget: nothing said
        costs(0.1 * 3 * TICK_BUDGET)  # three intervals' worth of budget a tick
        live.arm()
        assert app.tasks.highlight_grace == pytest.approx(0.3)
        assert live._timer is not None and live._timer._interval == pytest.approx(0.3)
        app.update_status()
        await pilot.pause()
        status = screen_text(app).split("\n")[1]
        assert "● live every 1s (refresh budget 0.3% CPU)" in status, status
        # the shown cgroup's changes still come, within the stretched interval
        born = world.spawn("born", cgroups={"unified": SESSION})
        await wait_for(pilot, lambda: born in app.tasks.shown, "the newborn task in the list (by the timer)")
        costs(1000.0)
        live.arm()
        assert live._timer._interval == pytest.approx(0.1 * STRETCH_MAX)
        await pilot.press("P")
        app.update_status()
        await pilot.pause()
        assert "every" not in screen_text(app).split("\n")[1]  # paused: no interval to tell
