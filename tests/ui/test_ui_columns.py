"""Pilot tests of the tree's cgroup columns (`c`, `o`) and of the meters line: values from
the simulated kernel on a clock the test moves, rates from two readings, sorting siblings,
and both fitting at 80x24."""

from __future__ import annotations

import pytest

from ctrtui.model.cgstats import HEADINGS
from ctrtui.sources.demo import demo_world
from ctrtui.ui.machinemeters import Meters
from ctrtui.ui.widgets.heading import ColumnHeading
from ctrtui.ui.widgets.meters import MetersBar
from devtools.pilot import make_app, settle

pytestmark = pytest.mark.ui

FIXED = Meters((12.0, 88.0), 3 << 30, 24 << 30, 1 << 29, 2 << 30, (0.5, 0.25, 0.125), 93784.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _world_app(tmp_path, hierarchy="cpuacct"):
    k = demo_world()
    clock = Clock()
    k.set_clock(clock)
    app = make_app(k, tmp_path, hierarchy=hierarchy)
    app.stats.sampler.clock = clock
    app.stats.read_meters = lambda: FIXED
    return k, clock, app


def _line_text(app, path: str) -> str:
    tree = app.tree
    node = tree.nodes[path]
    tree._tree_lines  # noqa: B018
    return tree.render_line(node.line - int(tree.scroll_y)).text


async def _two_readings(pilot, clock) -> None:
    await settle(pilot)
    clock.now += 2.0
    await pilot.press("r")
    await settle(pilot)


@pytest.mark.asyncio
async def test_c_toggles_columns_with_figures_from_the_simulated_kernel(pilot_app, tmp_path):
    k, clock, app = _world_app(tmp_path)
    async with pilot_app(app=app) as (app, pilot):
        assert not app.tree.columns and not app.query_one(ColumnHeading).display
        assert "%CPU" not in _line_text(app, "/system.slice")
        await pilot.press("c")
        await _two_readings(pilot, clock)
        tree = app.tree
        assert tree.columns and app.query_one(ColumnHeading).display
        heading = tree.heading().plain
        assert heading.startswith("cgroup") and "Tasks" in heading and "%CPU" in heading
        assert "Memory" not in heading        # v1 cpuacct: no memory file, the column stays out
        # the figures are the tasks' CPU shares in the simulated kernel
        want = sum(t.cpu for t in k.tasks.values() if not t.dead)
        assert tree.figures["/"].cpu == pytest.approx(want)
        sys_share = sum(k.tasks[p].cpu for p in k.snapshot(["cpuacct"]).get("cpuacct").members(
            "/system.slice", threads=True, recursive=True) if p in k.tasks)
        assert tree.figures["/system.slice"].cpu == pytest.approx(sys_share)
        line = _line_text(app, "/system.slice")
        assert line.rstrip().endswith(f"{sys_share:.1f}")
        assert f" {tree.recursive_count('/system.slice')} " in line
        await pilot.press("c")
        await settle(pilot)
        assert not tree.columns and not app.query_one(ColumnHeading).display
        assert f"{sys_share:.1f}" not in _line_text(app, "/system.slice")


@pytest.mark.asyncio
async def test_o_sorts_siblings_by_a_column_then_back_by_name(pilot_app, tmp_path):
    k, clock, app = _world_app(tmp_path)
    async with pilot_app(app=app) as (app, pilot):
        await pilot.press("c")
        await _two_readings(pilot, clock)
        tree = app.tree
        by_name = [n.data for n in tree.root.children]
        await pilot.press("o")                       # tasks
        await settle(pilot)
        assert tree.sort_column == "tasks"
        counts = [tree.recursive_count(n.data) for n in tree.root.children]
        assert counts == sorted(counts, reverse=True)
        await pilot.press("o")                       # %CPU: every line's figures are read now
        await _two_readings(pilot, clock)            # (rates from the next refresh on)
        assert tree.sort_column == "cpu" and "▼%CPU" in tree.heading().plain
        cpus = [tree.figures[n.data].cpu for n in tree.root.children]
        assert cpus == sorted(cpus, reverse=True) and cpus[0] > cpus[-1]
        assert [n.data for n in tree.root.children] != by_name
        cursor = tree.cursor_path
        clock.now += 2.0
        await pilot.press("r")                       # a refresh keeps the order and the cursor
        await settle(pilot)
        assert [tree.figures[n.data].cpu for n in tree.root.children] == sorted(cpus, reverse=True)
        assert tree.cursor_path == cursor
        while tree.sort_column is not None:          # cycles back to the snapshot's order
            await pilot.press("o")
            await settle(pilot)
        assert [n.data for n in tree.root.children] == by_name


@pytest.mark.asyncio
async def test_memory_pids_and_frozen_columns_where_the_files_exist(pilot_app, tmp_path):
    k, clock, app = _world_app(tmp_path, hierarchy="memory")
    async with pilot_app(app=app) as (app, pilot):
        await pilot.press("c")
        await _two_readings(pilot, clock)
        tree = app.tree
        assert "Memory" in tree.heading().plain and "%CPU" not in tree.heading().plain
        assert tree.figures["/system.slice"].memory == int(k.cgroup_stats("memory", "/system.slice")
                                                           ["memory.usage_in_bytes"])
        app.switch_hierarchy("freezer")
        await settle(pilot)
        clock.now += 2.0
        await pilot.press("r")
        await settle(pilot)
        assert app.hier == "freezer"
        paused = next(p for p in k.snapshot(["freezer"]).get("freezer").containers
                      if k.cgroup_state("freezer", p).freezer_state == "FROZEN")
        tree.reveal(paused)
        await settle(pilot)
        assert HEADINGS["frozen"] in tree.heading().plain
        assert _line_text(app, paused).rstrip().endswith("yes")
        frozen = [p for p, f in tree.figures.items() if f.frozen]
        assert frozen and all(k.cgroup_state("freezer", p).freezer_state == "FROZEN" for p in frozen)


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [(80, 24), (140, 40), (60, 20)])
async def test_meters_line_fits_and_columns_leave_names_room(pilot_app, tmp_path, size):
    k, clock, app = _world_app(tmp_path)
    async with pilot_app(app=app, size=size) as (app, pilot):
        await pilot.press("c")
        await _two_readings(pilot, clock)
        bar = app.query_one(MetersBar)
        assert bar.region.height == 1 and bar.region.width == size[0]
        text = bar.render().plain
        assert len(text) <= bar.content_region.width
        assert "real host: " in text                   # the demo shows the machine's own meters
        assert "Mem" in text and "Swp" in text
        if size[0] >= 80:
            assert "Load 0.50" in text and "Up 1d 02:03" in text
        if size[0] >= 140:
            assert "0[" in text and "1[" in text        # one bar per CPU when there is room
        tree = app.tree
        assert tree.shown_columns()[:1] == ("tasks",)
        width = tree.scrollable_content_region.width
        assert width - tree.columns_width() >= 20        # names keep 20 cells
        assert len(_line_text(app, "/system.slice")) <= tree.size.width


@pytest.mark.asyncio
async def test_a_highlighted_node_has_its_childrens_figures_before_it_opens(pilot_app, tmp_path):
    k, clock, app = _world_app(tmp_path, hierarchy="memory")
    async with pilot_app(app=app) as (app, pilot):
        await pilot.press("c")
        await settle(pilot)
        tree = app.tree
        node = tree.nodes["/system.slice"]
        assert not node.is_expanded
        kids = list(k.snapshot(["memory"]).get("memory")["/system.slice"].children)
        assert kids and not any(p in tree.figures for p in kids)
        tree.move_cursor(node)
        await settle(pilot)
        assert all(tree.figures[p].memory is not None for p in kids)   # read before `space`
        await pilot.press("space")
        await settle(pilot)
        assert node.is_expanded
        assert _line_text(app, kids[0]).split()[-1].endswith(("B", "K", "M", "G"))


@pytest.mark.asyncio
async def test_pressure_columns_on_v2_where_there_is_room_the_roots_machine_figures_bring_none(pilot_app, tmp_path):
    k, clock, app = _world_app(tmp_path, hierarchy="unified")
    async with pilot_app(app=app, size=(200, 30)) as (app, pilot):
        await pilot.press("c")
        await _two_readings(pilot, clock)
        tree = app.tree
        heading = tree.heading().plain
        psi = ("cpu_some", "memory_some", "memory_full", "io_some", "io_full")
        assert set(psi) <= tree.present                  # every v2 cgroup has pressure files
        shown = tree.shown_columns()
        assert shown[:4] == ("tasks", "cpu", "frozen", "cpu_some")     # as many as fit, in order
        assert all(HEADINGS[c] in heading for c in shown)
        some = tree.figures["/user.slice"].pressure[0]
        cells = _line_text(app, "/user.slice").split()[-len(shown):]
        assert some and cells[3] == f"{some:.2f}"
        # the root has the machine's memory and pids (/proc), no v2 cgroup here has them: no column
        assert tree.figures["/"].memory and tree.figures["/"].pids
        assert "Memory" not in heading and "Pids" not in heading
        await pilot.press("o", "o", "o", "o")         # tasks, %CPU, Frozen, then CPU pressure
        await _two_readings(pilot, clock)
        assert tree.sort_column == "cpu_some" and "▼CPUsome" in tree.heading().plain
        got = [tree.figures[n.data].pressure[0] for n in tree.root.children]
        assert got == sorted(got, reverse=True) and got[0] > got[-1]
    k, clock, app = _world_app(tmp_path, hierarchy="cpuacct")
    async with pilot_app(app=app, size=(200, 30)) as (app, pilot):
        await pilot.press("c")
        await _two_readings(pilot, clock)
        tree = app.tree
        assert tree.figures["/"].pressure[0] is not None          # /proc/pressure for the v1 root
        assert "cpu_some" not in tree.present                    # ... and no v1 cgroup has any
