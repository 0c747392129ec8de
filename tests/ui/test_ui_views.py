"""The task list's and tree's shortcuts for big worlds give the same answers as the plain
definitions: gathered subtree members, cached and reversed column orders, narrowed filter
results, refreshes patched from the diff, tree counts patched from the diff, the shown
hierarchy refreshed alone; and a key's effects land in the same frame (detail line, filter)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrtui.model import diff
from ctrtui.sources.demo import demo_world, generate_world
from ctrtui.ui.rows import command_of, gather
from devtools.pilot import settle

pytestmark = pytest.mark.ui


def plain_order(tl) -> list[int]:
    """What the list must show, by the definition: filter on PID/command/comm/user, then
    sort by (column value, PID) in the column's direction (numbers biggest first, ties by
    PID ascending); `S` gives exactly the reverse."""
    d = tl.details
    text = tl.filter.lower()

    def hit(p: int) -> bool:
        i = d.get(p)
        fields = [str(p)] + ([command_of(i).lower(), (i.comm or "").lower(), (i.user or str(i.uid)).lower()]
                             if i else [])
        return any(text in f for f in fields)

    rows = [p for p in tl.rows_source() if not text or hit(p)]
    col = next(c for c in tl.columns if c.key == tl.sort)
    if tl.sort == "pid":
        return sorted(rows, reverse=tl.reverse)

    def value(p: int):
        i = d.get(p)
        return {
            "tgid": lambda: i.tgid if i else p, "thr": lambda: i.threads if i else 0,
            "user": lambda: (i.user or str(i.uid)) if i else "", "state": lambda: i.state if i else "",
            "cpu": lambda: float("-inf") if not i or i.cpu_percent is None else i.cpu_percent,
            "rss": lambda: float("-inf") if not i or i.rss is None else float(i.rss),
            "cmd": lambda: command_of(i).lower(),
        }[tl.sort]()

    if col.descending:
        default = sorted(rows, key=lambda p: (value(p), -p), reverse=True)
    else:
        default = sorted(rows, key=lambda p: (value(p), p))
    return default if tl.reverse == col.descending else default[::-1]


def test_gather_is_members():
    for k in (demo_world(), generate_world(300, 3000, seed=5)):
        for hs in k.snapshot().hierarchies:
            for path in list(hs.containers)[::3]:
                for threads in (False, True):
                    for recursive in (False, True):
                        assert list(gather(hs, path, threads, recursive)) == list(hs.members(path, threads, recursive))


@pytest.mark.parametrize("threads", [False, True])
def test_patch_members_follows_a_churning_subtree_without_the_ui(threads):
    """The pure patch of a subtree list from a refresh diff (listings carried from one patch
    to the next) equals gathering the members again, refresh after refresh."""
    from ctrtui.model.snapshot import diff_hierarchy
    from ctrtui.ui.rows import patch_members

    k = generate_world(200, 2000, seed=7)
    for path in ("/", "/group-003"):
        old = k.snapshot(["freezer"]).get("freezer")
        base, listings = gather(old, path, threads, True), None
        for seed in range(4):
            k.churn(0.05, seed=seed, hierarchy="freezer")
            k.spawn("new", cgroups={"freezer": path})
            new = k.snapshot(["freezer"]).get("freezer")
            patched = patch_members(base, old, new, diff_hierarchy(old, new), path, threads, listings)
            assert patched is not None
            base, came, went, listings = patched
            assert list(base) == list(new.members(path, threads, True))
            assert came and not came & went
            old = new


@pytest.fixture(scope="module")
def mid():
    return generate_world(400, 6000, seed=2)


async def test_every_sort_and_filter_matches_the_definition(pilot_app, mid, tmp_path):
    async with pilot_app(mid, hierarchy="freezer") as (app, pilot):
        tl = app.tasks
        tl.focus()
        await pilot.press("d")
        await settle(pilot)
        for _ in range(len(tl.columns)):
            for reverse in (False, True):
                tl.set_sort(tl.sort, reverse)
                await settle(pilot)
                assert list(tl.shown) == plain_order(tl), (tl.sort, reverse)
            await pilot.press("s")
            await settle(pilot)
        await pilot.press("s", "s", "s")  # user column, say: the filter keeps the order
        await pilot.press("slash")
        for typed in ("1", "12", "123", "12", "1", "", "py", "pyt", "root", "x9x", ""):
            box = app.query_one("#filter")
            box.value = typed  # the list follows in the same handler
            assert tl.filter == typed
            await settle(pilot)
            assert list(tl.shown) == plain_order(tl), typed


@pytest.mark.parametrize("threads", [False, True])
async def test_refresh_patches_the_subtree_list_and_counts(pilot_app, mid, tmp_path, threads):
    async with pilot_app(mid, hierarchy="freezer") as (app, pilot):
        if threads:
            await pilot.press("t")
        await pilot.press("d")
        await settle(pilot)
        for n, path in enumerate(("/", "/group-003")):
            app.go_to(path)
            await settle(pilot)
            for seed in range(3):
                mid.churn(0.02, seed=100 * n + seed + (10 if threads else 0), hierarchy="freezer")
                pid = mid.spawn("new", cgroups={"freezer": path})
                await pilot.press("r")
                await settle(pilot)
                hs = app.hs
                assert list(app.tasks.base) == list(hs.members(path, threads, True))
                assert pid in app.tasks.base
                assert app.tree._own == {p: len(c.members(threads)) for p, c in hs.containers.items()}
                assert app.tree._rec == hs.recursive_counts(threads)


async def test_refresh_takes_only_the_shown_hierarchy(pilot_app, tmp_path):
    world = demo_world()
    taken = []
    real = world.snapshot

    def spy(names=None, subtree=None):
        taken.append(None if names is None else list(names))
        return real(names, subtree)

    world.snapshot = spy
    async with pilot_app(world, hierarchy="freezer") as (app, pilot):
        assert taken == [None]  # the first one: every hierarchy (picking, risk checks)
        old_unified = app.snapshot.get("unified")
        await pilot.press("r")
        await settle(pilot)
        assert taken[-1] == ["freezer"]
        assert app.snapshot.get("unified") is old_unified  # kept, not taken again
        assert app.snapshot.names() == [h.name for h in world.hierarchies()]
        app.switch_hierarchy("unified")  # shows the kept one at once, then a fresh one
        assert app.tree.hs is old_unified
        await settle(pilot)
        assert taken[-1] == ["unified"] and app.tree.hs is not old_unified


async def test_detail_line_follows_the_cursor_in_the_same_handler(pilot_app, tmp_path):
    world = demo_world()
    async with pilot_app(world) as (app, pilot):
        app.go_to("/user.slice/user-1001.slice/session-7.scope")
        await settle(pilot)
        tl = app.tasks
        tl.focus()
        await settle(pilot)
        detail = app.query_one("#detail")
        for _ in range(3):
            tl.action_cursor(1)  # no pause: what a key does, before any message is handled
            assert f"PID {tl.cursor_pid}" in str(detail.content)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["1", "2", "s", "h", "ro", "x", "-"]), min_size=1, max_size=8))
def test_filter_narrowing_equals_a_fresh_filter(steps):
    """Typing and deleting in any order gives what filtering the whole list gives."""
    from array import array

    from ctrtui.ui.widgets.tasklist import TaskList

    k = demo_world()
    hs = k.snapshot().get("unified")
    tl = TaskList(k)
    tl.base = gather(hs, "/", False, True)
    tl.details = k.task_details(tl.base)
    query = ""
    for step in steps:
        query = query[:-1] if step == "-" else query + step
        tl.filter = query
        got = tl._view(tl.rows_source()) if query else tl.rows_source()
        tl.sort = "pid"
        assert list(got) == [p for p in plain_order(tl)], query
        assert isinstance(got, array)


def test_diff_of_unchanged_sim_snapshot_is_empty():
    k = demo_world()
    a = k.snapshot()
    assert not diff(a, k.snapshot())


def test_diff_of_shared_containers_equals_diff_of_fresh_copies():
    """The model's diff skips containers shared by both snapshots; the result must be what
    a diff of freshly built snapshots (nothing shared) gives."""
    from ctrtui.model import diff_hierarchy

    k = generate_world(300, 3000, seed=7)
    old = k.snapshot()
    for seed in range(4):
        k.churn(0.03, seed=seed, hierarchy="freezer")
        k.spawn("x", cgroups={"freezer": "/group-001"})
        if seed == 2:
            k.mkdir("freezer", "/group-001/fresh")
        new = k.snapshot()
        k.forget_snapshots()
        fresh = k.snapshot()
        for name in ("freezer", "unified"):
            a, b, c = old.get(name), new.get(name), fresh.get(name)
            assert any(x is y for x, y in zip(a.containers.values(), b.containers.values(), strict=False))
            assert not any(x is y for x, y in zip(a.containers.values(), c.containers.values(), strict=False))
            assert diff_hierarchy(a, b) == diff_hierarchy(a, c)
        old = fresh


def test_detail_line_groups_hierarchies_that_share_a_path():
    from ctrtui.ui.widgets.detail import cgroup_groups

    k = demo_world()
    pid = next(t.pid for t in k.tasks.values() if t.comm == "make")
    line = cgroup_groups(k.task_cgroups(pid))
    session = k.task_cgroups(pid)["unified"]
    assert line.count(session) == 1 and line.count(" · ") == len(set(k.task_cgroups(pid).values())) - 1
    for hier, path in k.task_cgroups(pid).items():
        group = next(g for g in line.split(" · ") if g.endswith(": " + path))
        assert hier in group.split(": ")[0].split(",")
    assert cgroup_groups({"a": "/x", "b": "/", "c": "/x"}) == "a,c: /x · b: /"
