"""A generated world of 10,000 cgroups and 100,000 tasks opens and scrolls without timing out
(the figures belong to the benchmarks; this only keeps big worlds working)."""

from __future__ import annotations

import asyncio
import time

import pytest

from ctrtui.sources.demo import generate_world
from ctrtui.ui.widgets.tree import LAZY_LIMIT
from devtools.pilot import screen_text, settle
from devtools.waiting import wait_for

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def big():
    return generate_world(10_000, 100_000, seed=1)


async def test_big_world_opens_scrolls_and_sorts(pilot_app, big, tmp_path):
    t0 = time.perf_counter()
    async with pilot_app(big, hierarchy="freezer", timeout=60) as (app, pilot):
        opened = time.perf_counter() - t0
        assert app.tree.lazy and len(app.hs.containers) > LAZY_LIMIT
        assert len(app.tree.nodes) < 200  # only the root's children were built
        assert "group-000" in screen_text(app)

        # the whole subtree in threads view: every task of the hierarchy in one list
        await pilot.press("t", "d")
        await asyncio.wait_for(settle(pilot), 30)
        tl = app.tasks
        assert len(tl.shown) == app.hs.total(threads=True) == 100_000
        tl.focus()
        t0 = time.perf_counter()
        for _ in range(5):
            await pilot.press("pagedown")
        await pilot.press("end")
        await asyncio.wait_for(settle(pilot), 30)
        scrolled = time.perf_counter() - t0
        assert tl.cursor == len(tl.shown) - 1
        assert str(tl.shown[-1]) in screen_text(app)
        # only the rows painted had their details fetched
        assert len(tl.details) < 1000

        # sorting by CPU needs every row's details: done in a worker, then sorted
        await pilot.press("home")
        for _ in range(4):  # PID -> TGID -> USER -> STATE -> CPU%
            await pilot.press("s")
        await wait_for(pilot, lambda: tl.busy is None and tl.sort == "cpu", "every row's details, sorted by CPU", 60)
        cpus = [tl.details[p].cpu_percent for p in tl.shown[:200]]
        assert cpus == sorted(cpus, reverse=True)

        # expanding a node of the lazy tree builds just its children
        node = app.tree.nodes["/group-000"]
        node.expand()
        await settle(pilot)
        assert "/group-000/cg-000" in app.tree.nodes
        print(f"\nopened in {opened:.2f}s, 5 pages + end in {scrolled:.2f}s")

