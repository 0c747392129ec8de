"""Pilot tests of the main screen on the simulated demo world: every binding, keypress moves
(success, refusal, undo), cut/put, refresh keeping cursor and marks, vanished cgroups,
read-only mode, and worker errors turned into notifications."""

from __future__ import annotations

import asyncio
import errno
import time

import pytest
from textual.widgets import Input, Select

from ctrtui.sources.demo import demo_world
from ctrtui.ui.screens import ConfirmMove, FindPid, GoToCgroup, MoveLog, SwitchHierarchy, TargetPicker
from ctrtui.ui.widgets.tasklist import TaskList
from devtools.pilot import cgroup_of, cut_put, goto, make_service, screen_text, settle
from devtools.waiting import palette_listed, picker_planned, wait_for

pytestmark = pytest.mark.ui

SESSION = "/user.slice/user-1000.slice/session-3.scope"
NGINX = "/system.slice/nginx.service"


@pytest.fixture
def world():
    return demo_world()


def label(app, path: str) -> str:
    """The tree label of `path` as plain text."""
    from rich.style import Style

    node = app.tree.nodes.get(path) or app.tree.reveal(path)
    return app.tree.render_label(node, Style(), Style()).plain


async def select_last_nginx_task(pilot, app) -> int:
    """Once the app has its first snapshot: the nginx cgroup shown, the task list focused and
    its last task selected; that task's PID."""
    await settle(pilot)
    await goto(pilot, NGINX)
    app.tasks.focus()
    pid = app.tasks.shown[-1]
    app.tasks.select_pid(pid)
    return pid

async def test_opens_with_tree_list_status_and_footer(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        assert app.snapshot is not None
        assert app.tree.hs.name == "unified"
        root = app.tree.hs.root_path
        assert app.tasks.path == root
        assert list(app.tasks.shown) == sorted(app.tasks.shown)
        text = screen_text(app)
        assert "demo" in text and "moves enabled" in text and "● live" in text
        assert "PID▲" in text and "COMMAND" in text
        assert "system.slice" in text and "user.slice" in text
        assert "Move" in text and "Undo" in text  # footer


async def test_tree_counts_and_markers(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/system.slice/mediaserver.service/sidecar")
        await goto(pilot, "/system.slice/mediaserver.service/workers")
        await settle(pilot)
        text = screen_text(app)
        assert "[domain threaded]" in label(app, "/system.slice/mediaserver.service")
        assert "workers 1 [threaded]" in text
        assert "sidecar 0 [domain invalid]" in text
        await goto(pilot, "/kubepods.slice")
        assert "kubepods.slice 0/10 kubepods +hugetlb" in screen_text(app)
        # own/recursive counts: nginx has 3 processes
        assert "nginx.service 3 service" in screen_text(app)
        await goto(pilot,
                   "/machine.slice/libpod-18549bc493f719529ca9d33ffaa3f3fd19a45c222671c03c9ef6d2b785d6b320.scope")
        assert "libpod-18549bc493f7….scope 1 libpod" in screen_text(app)
        pod = [p for p in app.hs.containers if p.endswith("-podb2460630_9b07_45e3_fb84_06baf99a5239.slice")][0]
        assert label(app, pod).endswith("kubepods")


async def test_frozen_marker_in_freezer(pilot_app, world, tmp_path):
    async with pilot_app(world, hierarchy="freezer") as (app, pilot):
        await goto(pilot, "/system.slice")
        app.tree.nodes["/system.slice"].expand()
        await settle(pilot)
        assert "❄frozen" in screen_text(app)
        assert "docker" in screen_text(app)


async def test_hierarchy_switch_keys_and_select(pilot_app, world, tmp_path):
    async with pilot_app(world, hierarchy="freezer") as (app, pilot):
        names = app.hierarchy_names
        i = names.index("freezer")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.hier == names[i + 1]
        assert app.tree.hs.name == names[i + 1]
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert app.hier == names[i - 1]
        app.query_one("#hierarchy", Select).value = "unified"
        await settle(pilot)
        assert app.hier == "unified" and app.tasks.hs.name == "unified"


async def test_palette_switch_hierarchy(pilot_app, world, tmp_path):
    async with pilot_app(world, hierarchy="freezer") as (app, pilot):
        app.action_switch_hierarchy()
        await settle(pilot)
        assert isinstance(app.screen, SwitchHierarchy)
        await pilot.press("down", "enter")
        await settle(pilot)
        names = app.hierarchy_names
        assert app.hier == names[names.index("freezer") + 1]


async def test_command_palette_has_the_commands(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"find pid")
        await wait_for(pilot, lambda: palette_listed(app), "the palette's hits for 'find pid'")
        assert "Find PID" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FindPid)


async def test_sort_cycle_reverse_and_header_click(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/system.slice/postgresql@15-main.service")
        app.tasks.focus()
        pids = list(app.tasks.shown)
        assert pids == sorted(pids)
        await pilot.press("S")
        await settle(pilot)
        assert list(app.tasks.shown) == sorted(pids, reverse=True)
        assert "PID▼" in screen_text(app)
        await pilot.press("s")  # -> THR (processes view), biggest first
        await settle(pilot)
        assert app.tasks.sort == "thr"
        thr = [app.tasks.details[p].threads for p in app.tasks.shown]
        assert thr == sorted(thr, reverse=True)
        # click the RSS header
        x = 2 + sum(c.width + 1 for c in app.tasks.columns[:5]) + 2
        await pilot.click(TaskList, offset=(x, app.tasks.gutter.top))
        await settle(pilot)
        assert app.tasks.sort == "rss"
        rss = [app.tasks.details[p].rss for p in app.tasks.shown]
        assert rss == sorted(rss, reverse=True)
        await pilot.click(TaskList, offset=(x, app.tasks.gutter.top))  # again: reversed
        await settle(pilot)
        rss = [app.tasks.details[p].rss for p in app.tasks.shown]
        assert rss == sorted(rss) and app.tasks.reverse is False
        for _ in range(len(app.tasks.columns)):
            await pilot.press("s")
            await settle(pilot)
            shown = list(app.tasks.shown)
            assert sorted(shown) == sorted(pids)


async def test_filter_by_command_user_and_pid(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/system.slice")
        await pilot.press("d")  # whole subtree
        await settle(pilot)
        everything = list(app.tasks.shown)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"postgres")
        await settle(pilot)
        shown = list(app.tasks.shown)
        assert shown and len(shown) < len(everything)
        for pid in shown:
            info = app.tasks.details[pid]
            assert "postgres" in (info.cmdline + info.comm + (info.user or "")).lower()
        await pilot.press("enter")
        assert app.focused is app.tasks
        await pilot.press("slash", *["backspace"] * 8, *str(shown[0]))
        await settle(pilot)
        assert shown[0] in app.tasks.shown
        await pilot.press("escape")
        await settle(pilot)
        assert app.tasks.filter == "" and list(app.tasks.shown) == everything
        assert not app.query_one("#filter").display


async def test_threads_and_descendants_views(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/system.slice/containerd.service")
        procs = list(app.tasks.shown)
        await pilot.press("t")
        await settle(pilot)
        assert app.threads and app.tasks.threads
        threads = list(app.tasks.shown)
        assert len(threads) > len(procs) and set(procs) <= set(threads)
        assert "TGID" in screen_text(app)
        await pilot.press("t")
        await settle(pilot)
        assert "THR" in screen_text(app)
        await goto(pilot, "/system.slice")
        assert list(app.tasks.shown) == []
        await pilot.press("d")
        await settle(pilot)
        assert set(procs) <= set(app.tasks.shown)
        await pilot.press("d")
        await settle(pilot)
        assert list(app.tasks.shown) == []


async def test_marks_space_all_clear(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, SESSION)
        app.tasks.focus()
        first, second = app.tasks.shown[0], app.tasks.shown[1]
        await pilot.press("space")
        assert app.tasks.marks == {first} and app.tasks.cursor_pid == second
        await pilot.press("space")
        assert app.tasks.marks == {first, second}
        assert app.tasks.selection() == [first, second]
        assert "● " in screen_text(app)
        await pilot.press("a")
        assert app.tasks.marks == set(app.tasks.shown)
        await pilot.press("A")
        assert app.tasks.marks == set()
        assert app.tasks.selection() == [app.tasks.cursor_pid]


async def test_cursor_keys_and_detail_line(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX)
        assert "unified:" + NGINX in screen_text(app)
        app.tasks.focus()
        await pilot.press("down", "end")
        await settle(pilot)
        last = app.tasks.shown[-1]
        assert app.tasks.cursor_pid == last
        text = screen_text(app)
        assert f"PID {last}" in text
        # its cgroup in every hierarchy, hierarchies sharing a path named together
        from ctrtui.ui.widgets.detail import cgroup_groups

        detail = str(app.query_one("#detail").content)
        assert cgroup_groups(world.task_cgroups(last)) in detail and "freezer" in detail
        await pilot.press("home")
        assert app.tasks.cursor == 0


async def test_keypress_move_through_picker_and_undo(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        pid = await select_last_nginx_task(pilot, app)
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, TargetPicker) and picker.pids == [pid]
        await pilot.press(*"session-3")
        await wait_for(pilot, lambda: picker_planned(picker), "the picker's plan for what was typed")
        assert picker.target_path == SESSION
        assert picker.plan is not None and picker.plan.accepted
        await pilot.press("enter")
        await settle(pilot)
        # systemd-managed source and target: the app asks first
        assert isinstance(app.screen, ConfirmMove)
        await pilot.press("y")
        await settle(pilot)
        assert cgroup_of(world, pid) == SESSION
        assert any("1 moved" in n for n in app.notices)
        assert len(app.reports) == 1
        assert not app.tasks.is_live(pid) and pid in app.tasks.gone  # refreshed: fading out of nginx
        await pilot.press("u")
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX
        assert any(n.startswith("Undo") and "1 moved" in n for n in app.notices)
        assert pid in app.tasks.shown


async def test_picker_shows_refusal_and_put_refusal_notifies(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX)
        app.tasks.focus()
        pid = app.tasks.cursor_pid
        await pilot.press("m")
        await settle(pilot)
        await pilot.press(*"kubepods.slice")
        await wait_for(pilot, lambda: picker_planned(app.screen), "the picker's plan for what was typed")
        picker = app.screen
        assert picker.target_path == "/kubepods.slice"
        assert [v.kind for v in picker.plan.verdicts] == ["refused"]
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is picker  # nothing would move: it stays, and says why
        assert "EBUSY" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX
        # the same through cut/put
        await pilot.press("x")
        await goto(pilot, "/kubepods.slice")
        app.tree.focus()
        await pilot.press("p")
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX
        assert any("Nothing to move" in n and "refused" in n and f"PID {pid}" in n for n in app.notices)


async def test_cut_and_put_moves_marked_tasks(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX)
        app.tasks.focus()
        await pilot.press("a")
        pids = list(app.tasks.shown)
        await pilot.press("x")
        assert app.cut is not None and app.cut.pids == pids
        assert f"{len(pids)} cut" in screen_text(app)
        target = "/system.slice/ssh.service"
        await goto(pilot, target)
        app.tree.focus()
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMove)
        await pilot.press("y")
        await settle(pilot)
        assert all(cgroup_of(world, p) == target for p in pids)
        assert app.cut is None
        assert set(pids) <= set(app.tasks.shown)


async def test_put_without_cut_says_so(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await pilot.press("p")
        await settle(pilot)
        assert any("Nothing is cut" in n for n in app.notices)
        await goto(pilot, "/system.slice")
        app.tasks.focus()
        await pilot.press("m")  # empty list: nothing selected
        assert any("No task selected" in n for n in app.notices)


async def test_a_put_answered_no_keeps_the_cut_for_the_next_put(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        pid = await cut_put(pilot, NGINX, SESSION)
        assert isinstance(app.screen, ConfirmMove)
        await pilot.press("n")
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX  # a cancelled move moves nothing
        assert any("cancelled" in n for n in app.notices)
        assert app.cut is not None and app.cut.pids == [pid]
        assert "1 cut" in screen_text(app)
        assert "The cut is kept" in app.notices[-1]
        await pilot.press("p")
        await settle(pilot)
        assert not any("Nothing is cut" in n for n in app.notices)
        assert isinstance(app.screen, ConfirmMove)
        await pilot.press("y")
        await settle(pilot)
        assert cgroup_of(world, pid) == SESSION
        assert app.cut is None and "1 cut" not in screen_text(app)


async def test_undo_with_nothing_to_undo(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await pilot.press("u")
        await settle(pilot)
        assert any("Nothing to undo" in n for n in app.notices)


async def test_undo_says_a_batch_whose_origin_is_gone_cannot_be_undone(pilot_app, world, tmp_path):
    """logind removed the scope a task was moved out of: `u` says that batch cannot be
    undone and why, instead of a bare "nothing to undo"."""
    from ctrtui.model import CgroupRef

    world.makedirs("unified", "/user.slice/session-9.scope")
    p = world.spawn("sleep", cgroups={"unified": "/user.slice/session-9.scope"})
    async with pilot_app(world) as (app, pilot):
        e = app.engine
        batch = e.apply(e.plan([p], CgroupRef("unified", "/system.slice"))).batch_id
        world.rmdir("unified", "/user.slice/session-9.scope")
        await pilot.press("u")
        await settle(pilot)
        note = next(n for n in app.notices if "Nothing to undo" in n)
        assert f"batch {batch} was skipped: it cannot be undone" in note and "session-9.scope" in note, note
        assert f"ctrtui move {p} --to" in note


async def test_move_log_screen(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        pid = await cut_put(pilot, NGINX, "/system.slice/ssh.service")
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("L")
        await settle(pilot)
        assert isinstance(app.screen, MoveLog)
        text = screen_text(app)
        assert str(pid) in text and "moved" in text
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, MoveLog)


async def test_read_only_refuses_moves_and_says_why(pilot_app, world, tmp_path):
    async with pilot_app(world, read_only=True) as (app, pilot):
        assert "READ-ONLY (--read-only)" in screen_text(app)
        await goto(pilot, NGINX)
        app.tasks.focus()
        pid = app.tasks.cursor_pid
        for key in ("m", "u"):
            await pilot.press(key)
            await settle(pilot)
            assert not isinstance(app.screen, TargetPicker)
        await pilot.press("x")
        await goto(pilot, SESSION)
        await pilot.press("p")
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX
        assert app.cut is None  # x refuses like p (issue 10)
        assert sum("Read-only" in n and "--read-only" in n for n in app.notices) == 4


async def test_read_only_when_writer_is_not_root(pilot_app, world, tmp_path):
    world.set_writer(uid=1000, euid=1000)
    async with pilot_app(world) as (app, pilot):
        assert app.read_only_reason == "not root"
        await pilot.press("u")
        assert any("not running as root" in n for n in app.notices)


async def test_go_to_and_find_pid(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, GoToCgroup)
        await pilot.press(*"postgresql")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.tree.cursor_path == "/system.slice/postgresql@15-main.service"
        target = world.snapshot()["unified"][SESSION].procs[2]
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FindPid)
        await pilot.press(*str(target), "enter")
        await settle(pilot)
        assert app.tree.cursor_path == SESSION
        assert app.tasks.cursor_pid == target and app.focused is app.tasks


async def test_find_pid_of_a_thread_switches_to_threads_view(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        tgid = world.snapshot()["unified"]["/system.slice/containerd.service"].procs[0]
        tid = [t for t in world.thread_ids(tgid) if t != tgid][0]
        app.find_pid(tid)
        await settle(pilot)
        assert app.threads and app.tasks.cursor_pid == tid
        app.find_pid(31999)
        await settle(pilot)
        assert any("PID 31999 is in no cgroup" in n for n in app.notices)


async def test_refresh_keeps_cursor_and_marks_and_highlights_changes(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, SESSION)
        app.tasks.focus()
        shown = list(app.tasks.shown)
        await pilot.press("space", "space")
        marks = set(app.tasks.marks)
        app.tasks.select_pid(shown[4])
        # the world changes: a task is born low, one leaves
        newpid = world.spawn("vim", "vim notes.txt", uid=1000, parent=shown[0], pid=2100)
        world.exit(shown[-1], reap=True)
        await pilot.press("r")
        await settle(pilot)
        assert app.tree.cursor_path == SESSION
        assert app.tasks.cursor_pid == shown[4]
        assert app.tasks.marks == marks
        assert newpid in app.tasks.shown and newpid in app.tasks.new
        assert shown[-1] in app.tasks.gone and shown[-1] in app.tasks.shown  # fading out
        assert shown[-1] not in app.tasks.selection()
        app.tasks._expire()
        app.tasks.gone.clear()
        app.tasks.recompute()
        assert shown[-1] not in app.tasks.shown


async def test_removed_cgroup_moves_cursor_to_parent(pilot_app, world, tmp_path):
    world.mkdir("unified", "/system.slice/tmp-job")
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/system.slice/tmp-job")
        world.rmdir("unified", "/system.slice/tmp-job")
        world.mkdir("unified", "/system.slice/new-job")
        await pilot.press("r")
        await settle(pilot)
        assert app.tree.cursor_path == "/system.slice"
        assert app.tasks.path == "/system.slice"
        assert "/system.slice/tmp-job" not in app.tree.nodes
        assert "/system.slice/new-job" in app.tree.nodes
        assert any("tmp-job was removed" in n for n in app.notices)


async def test_auto_refresh_and_pause(pilot_app, world, tmp_path):
    async with pilot_app(world, interval=0.1) as (app, pilot):
        await goto(pilot, SESSION)
        first, read = app.snapshot, app.live.read_at
        born = world.spawn("born", cgroups={"unified": SESSION})
        spawned = time.time()
        await wait_for(pilot, lambda: app.live.read_at > spawned, "a timer's read begun after the spawn")
        assert app.snapshot is not first and born in app.tasks.shown  # refreshed by itself
        assert app.live.read_at > read
        await pilot.press("P")
        await settle(pilot)
        assert app.paused and "paused" in screen_text(app)
        paused_at, read = app.snapshot, app.live.read_at
        late = world.spawn("late", cgroups={"unified": SESSION})
        # a timer of twice the refresh pace, started now, fires after any tick the app could
        # still have armed: once it has, that tick's read would have arrived
        would_have_ticked = asyncio.Event()
        app.set_timer(2 * app.live.paced(), would_have_ticked.set)
        await wait_for(pilot, would_have_ticked.is_set, "two refresh intervals to pass while paused")
        assert app.snapshot is paused_at and app.live.read_at == read and late not in app.tasks.shown
        resumed = time.time()
        await pilot.press("P")
        await wait_for(pilot, lambda: app.live.read_at > resumed, "the first timer's read after resuming")
        assert not app.paused and app.snapshot is not paused_at and late in app.tasks.shown


async def test_help_toggles(pilot_app, world, tmp_path):
    from ctrtui.ui.screens.keys import KeysHelp

    async with pilot_app(world) as (app, pilot):
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, KeysHelp)
        await pilot.press("question_mark")
        await settle(pilot)
        assert not isinstance(app.screen, KeysHelp)


class FailingWorld:
    """A demo world whose snapshots and stats start failing on demand."""

    def __init__(self, inner):
        self.inner = inner
        self.fail = False

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def snapshot(self, *a, **kw):
        if self.fail:
            raise PermissionError(errno.EACCES, "Permission denied", "/sys/fs/cgroup/unified/cgroup.procs")
        return self.inner.snapshot(*a, **kw)

    def cgroup_stats(self, *a, **kw):
        if self.fail:
            raise OSError(errno.ENODEV, "No such device", "/sys/fs/cgroup/unified/x/pids.current")
        return self.inner.cgroup_stats(*a, **kw)


async def test_worker_errors_become_notifications(pilot_app, world, tmp_path):
    backend = FailingWorld(world)
    async with pilot_app(backend) as (app, pilot):
        before = app.snapshot
        backend.fail = True
        newcomer = world.spawn("newcomer", cgroups={"unified": NGINX})
        await pilot.press("r")
        await settle(pilot)
        assert any("EACCES" in n and "cgroup.procs" in n for n in app.notices)
        assert app.snapshot is before  # a failed refresh keeps the last good snapshot on screen
        await goto(pilot, NGINX)
        assert any("ENODEV" in n for n in app.notices)
        assert app.is_running and newcomer not in app.tasks.shown
        backend.fail = False
        await pilot.press("r")
        await settle(pilot)
        # the refresh works again: a new snapshot, with the task that came meanwhile
        assert app.snapshot is not before and app.snapshot.taken_at >= before.taken_at
        assert newcomer in app.tasks.shown


async def test_vanished_pid_move_reports_it(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        pid = await select_last_nginx_task(pilot, app)
        await pilot.press("x")
        world.exit(pid, reap=True)  # gone before the put
        await goto(pilot, "/system.slice/ssh.service")
        await pilot.press("p")
        await settle(pilot)
        assert any("Nothing to move" in n and f"PID {pid}" in n for n in app.notices)
        # the app's engine advises in the UI's words (the command line's are its own)
        from ctrtui.model import CgroupRef

        plan = app.engine.plan([pid], CgroupRef("unified", "/system.slice/ssh.service"))
        assert [v.advice for v in plan.verdicts] == ["Refresh the task list and pick a running task."]
        assert app.is_running


async def test_palette_says_go_to_searches_every_hierarchy(pilot_app, world, tmp_path):
    """`g` searches the cgroups of every hierarchy (the shown one's first): the palette
    says so, not "of the current hierarchy"."""
    async with pilot_app(world) as (app, pilot):
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"go to cgroup")
        await wait_for(pilot, lambda: palette_listed(app), "the palette's hits for 'go to cgroup'")
        text = screen_text(app)
        assert "Jump to a cgroup of any hierarchy by path, the shown one's first" in text, text
        assert "current hierarchy" not in text


async def test_palette_entries_name_real_actions_and_run(pilot_app, world, tmp_path):
    from ctrtui.ui.app import CtrtuiCommands

    async with pilot_app(world) as (app, pilot):
        for title, action, _help in CtrtuiCommands.ENTRIES:  # the main screen's, or the app's (`app.`)
            owner, _, name = action.rpartition(".")
            assert callable(getattr(app if owner == "app" else app.main, f"action_{name}", None)), title
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"undo last")
        await wait_for(pilot, lambda: palette_listed(app), "the palette's hits for 'undo last'")
        await pilot.press("enter")
        await settle(pilot)
        assert any("Nothing to undo" in n for n in app.notices)


async def test_vim_keys_tab_and_quit(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, NGINX)
        assert app.focused is app.tree
        await pilot.press("tab")
        assert app.focused is app.tasks
        await pilot.press("j", "j")
        assert app.tasks.cursor == 2
        await pilot.press("k")
        assert app.tasks.cursor == 1
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_late_messages_while_closing_are_ignored(pilot_app, world, tmp_path):
    """A cursor, focus or detail message that arrives while the app is closing (its screen
    stack already empty, as seen in the benchmarks) is ignored instead of raising
    ScreenStackError."""
    async with pilot_app(world) as (app, pilot):
        app.tasks.focus()
        await settle(pilot)
    assert not app._screen_stack  # closed: no screen left
    app.main._task_cursor_moved(TaskList.CursorMoved(app.tasks.cursor_pid))
    app.on_descendant_focus()
    app.main.action_help()
    assert app.moves.node_at(10, 10) is None


async def test_task_list_title_counts_in_singular_and_plural(pilot_app, world, tmp_path):
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/system.slice/ssh.service")  # one process
        assert "· 1 process" in app.tasks.border_title and "1 processes" not in app.tasks.border_title
        await goto(pilot, NGINX)  # three processes
        assert "· 3 processes" in app.tasks.border_title


async def test_a_journal_that_cannot_be_written_refuses_the_move_with_its_sentence(pilot_app, world, tmp_path):
    from ctrtui.engine import AttachEngine, Journal, Policy
    from ctrtui.model import CgroupRef
    from ctrtui.ui.app import CtrtuiApp

    blocker = tmp_path / "file"
    blocker.write_text("x")
    engine = AttachEngine(world, policy=Policy(), journal=Journal(blocker / "sub" / "journal.jsonl"),
                          load_entry_points=False)
    app = CtrtuiApp(make_service(world, tmp_path, engine), interval=3600.0, hierarchy="unified")
    async with pilot_app(app=app) as (app, pilot):
        await goto(pilot, NGINX)
        pid = app.tasks.shown[-1]
        app.moves.apply(engine.plan([pid], CgroupRef("unified", SESSION)))
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX
        refusal = [n for n in app.notices if n.startswith("Not moved:")]
        assert len(refusal) == 1 and str(blocker / "sub") in refusal[0] and "nothing was moved" in refusal[0]
        assert not app.reports and app.is_running
        # found at start (issue 10): moves are off with the journal's reason, u says so at once
        assert app.read_only_reason is not None and app.read_only_reason.startswith("the journal ")
        await pilot.press("u")
        await settle(pilot)
        assert any("Read-only: the journal " in n and "ENOTDIR" in n for n in app.notices), app.notices


@pytest.mark.parametrize("how", ["cli", "engine"])
async def test_an_unusable_policy_starts_the_app_but_refuses_every_move_until_fixed(pilot_app, world, tmp_path, how):
    """A policy rule naming no hierarchy: the tree is read, the status says moves are off,
    m / x-p / drag / u are each refused with the policy's sentence; once the file is fixed the
    next move goes ahead. `cli`: the engine ctrtui builds (a policy that refuses everything);
    `engine`: an engine given the policy unchecked (the app checks it against the hierarchies)."""
    from types import SimpleNamespace

    from ctrtui.cli.common import service_of
    from ctrtui.engine import AttachEngine, Journal, Policy
    from ctrtui.model import CgroupRef
    from ctrtui.ui.app import CtrtuiApp
    from ctrtui.ui.widgets.tree import CgroupTree
    from devtools.pilot import start_drag, tree_offset

    f = tmp_path / "policy.toml"
    f.write_text('[protect]\ncgroups = ["freezr:/system.slice/*"]\n')
    if how == "cli":
        args = SimpleNamespace(policy=str(f), journal=str(tmp_path / "journal.jsonl"))
        service = service_of(args, world, broken_ok=True, front="ui")
    else:
        service = make_service(world, tmp_path, AttachEngine(world, policy=Policy.load(str(f)),
                                                             journal=Journal(tmp_path / "journal.jsonl"),
                                                             load_entry_points=False))
    engine = service.engine
    app = CtrtuiApp(service, interval=3600.0, hierarchy="unified")
    sentence = "No task is moved while the policy cannot be used"
    async with pilot_app(app=app) as (app, pilot):
        assert app.snapshot is not None  # the tree was read
        assert "moves off: the policy file cannot be used" in screen_text(app)
        # in the app's log of what it said: the notification itself may have timed out already
        assert sum(sentence in n and "'freezr'" in n and str(f) in n for n in app.notices) == 1
        await goto(pilot, NGINX, reveal=SESSION)
        app.tasks.focus()
        pid = app.tasks.cursor_pid
        await pilot.press("m")
        await settle(pilot)
        assert not isinstance(app.screen, TargetPicker)
        await pilot.press("x")
        app.tree.move_cursor(app.tree.nodes[SESSION])
        await pilot.press("p")
        await settle(pilot)
        app.tree.move_cursor(app.tree.nodes[NGINX])
        await settle(pilot)
        await start_drag(pilot, pid)
        off = tree_offset(app, SESSION)
        await pilot.hover(CgroupTree, offset=off)
        await pilot.mouse_up(CgroupTree, offset=off)
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert cgroup_of(world, pid) == NGINX
        refusals = [n for n in app.notices if sentence in n and "'freezr'" in n]
        assert len(refusals) == 1 + 5, app.notices  # at start, then m, x (issue 10), p, the drop, u
        # The engine itself refuses too: nothing goes through unprotected.
        v = engine.plan([pid], CgroupRef("unified", SESSION)).verdicts[0]
        assert (v.kind, v.errno, v.hook) == ("refused", "EPERM", "policy") and sentence in v.reason
        # Fixed: the next move reads the file again and goes ahead.
        f.write_text('[protect]\ncgroups = ["unified:/init.scope"]\n')
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, TargetPicker)
        assert app.policy_error is None and any("can be used again" in n for n in app.notices)
        await pilot.press("escape")
        await settle(pilot)
        assert "moves enabled" in screen_text(app) and "moves off" not in screen_text(app)
        assert engine.plan([pid], CgroupRef("unified", SESSION)).verdicts[0].kind == "move"
        assert engine.plan([pid], CgroupRef("unified", "/init.scope")).verdicts[0].hook == "policy"


async def _put_and_confirm(pilot, target: str) -> None:
    """`p` into `target` (the cursor moves there first), confirming if asked."""
    app = pilot.app
    await goto(pilot, target)
    app.tree.focus()
    await pilot.press("p")
    await settle(pilot)
    if isinstance(app.screen, ConfirmMove):
        await pilot.press("y")
        await settle(pilot)


async def test_a_v1_move_asks_first_saying_the_other_hierarchies_stay(pilot_app, world, tmp_path):
    """The README's risk list: a move in a v1 hierarchy leaves the task's other hierarchies as
    they are, so the UI asks (with the sentence `move` prints) before it moves anything."""
    from ctrtui.engine.risk import hierarchy_note
    from ctrtui.model import CgroupRef

    for p in ("/v1-src", "/v1-dst"):
        world.mkdir("freezer", p)
    pid = world.spawn("plain", cgroups={"freezer": "/v1-src"})
    async with pilot_app(world, hierarchy="freezer") as (app, pilot):
        await goto(pilot, "/v1-src")
        app.tasks.focus()
        assert list(app.tasks.shown) == [pid]
        await pilot.press("x")
        await goto(pilot, "/v1-dst")
        app.tree.focus()
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMove)
        assert app.screen.risks == [hierarchy_note(CgroupRef("freezer", "/v1-dst"), world.snapshot())]
        assert app.screen.risks[0].startswith("Only the freezer hierarchy changes: in cpu, cpuacct")
        assert cgroup_of(world, pid, "freezer") == "/v1-src"       # nothing moved before the answer
        await pilot.press("y")
        await settle(pilot)
        assert cgroup_of(world, pid, "freezer") == "/v1-dst"


async def test_put_moves_in_the_view_of_the_cut_not_the_current_view(pilot_app, world, tmp_path):
    """Cut in the processes view, put from the threads view: the whole thread group moves
    (and the other way round: one cut thread moves alone)."""
    for p in ("/cut-src", "/cut-dst", "/cut-dst2"):
        world.mkdir("freezer", p)
    pid = world.spawn("multi", threads=4, cgroups={"freezer": "/cut-src"})
    tids = list(world.tasks[pid].group)
    assert len(tids) == 4
    async with pilot_app(world, hierarchy="freezer") as (app, pilot):
        await goto(pilot, "/cut-src")
        app.tasks.focus()
        assert not app.threads and list(app.tasks.shown) == [pid]
        await pilot.press("x")
        assert app.cut is not None and app.cut.threads is False
        await pilot.press("t")  # now the threads view
        assert app.threads
        await _put_and_confirm(pilot, "/cut-dst")
        assert [cgroup_of(world, t, "freezer") for t in tids] == ["/cut-dst"] * 4

        # a thread cut in the threads view, put from the processes view: that thread alone
        await goto(pilot, "/cut-dst")
        app.tasks.focus()
        app.tasks.select_pid(tids[2])
        await pilot.press("x")
        assert app.cut.threads is True and app.cut.pids == [tids[2]]
        await pilot.press("t")
        assert not app.threads
        await _put_and_confirm(pilot, "/cut-dst2")
        assert [cgroup_of(world, t, "freezer") for t in tids] == ["/cut-dst", "/cut-dst", "/cut-dst2", "/cut-dst"]


async def test_put_refuses_a_pid_recycled_since_the_cut(pilot_app, world, tmp_path):
    """The start times seen at the cut go with the put: a PID that exited and was reused by
    another process meanwhile is refused, and the newcomer stays where it is."""
    async with pilot_app(world) as (app, pilot):
        pid = await select_last_nginx_task(pilot, app)
        await settle(pilot)
        await pilot.press("x")
        assert app.cut is not None and app.cut.starts.get(pid) == world.task_state(pid).start_time
        world.recycle(pid, comm="newcomer", cgroups={"unified": "/system.slice/cron.service"})
        assert world.task_state(pid).comm == "newcomer"
        await goto(pilot, "/system.slice/ssh.service")
        await pilot.press("p")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmMove)
        assert any("Nothing to move" in n and f"PID {pid} was recycled" in n for n in app.notices), list(app.notices)
        assert cgroup_of(world, pid) == "/system.slice/cron.service"


async def test_selecting_a_pid_far_down_scrolls_the_task_list_to_it(pilot_app, world, tmp_path):
    """The task list keeps ScrollView's styles (its scrolling) whatever else it is built
    from: putting the cursor on a PID far below the visible rows scrolls them to it."""
    async with pilot_app(world) as (app, pilot):
        await goto(pilot, "/")
        app.tasks.focus()
        await pilot.press("d")  # the whole subtree: more rows than fit
        await settle(pilot)
        tl = app.tasks
        rows = tl.scrollable_content_region.height - 1
        assert len(tl.shown) > 2 * rows
        assert tl.select_pid(tl.shown[-1])
        await settle(pilot)
        top = int(tl.scroll_y)
        assert top > 0 and top <= tl.cursor < top + rows, (top, tl.cursor, rows)
        assert f"{tl.shown[-1]} " in screen_text(app)


async def test_a_reading_that_lands_after_its_widget_is_gone_is_dropped(pilot_app, world, tmp_path):
    """A worker's meters reading can arrive while the app closes, after the meters bar was
    removed (seen as a NoMatches crash when a test exited as a host's first snapshot landed):
    it is dropped, the app stays up."""
    from ctrtui.ui.machinemeters import read_meters
    from ctrtui.ui.messages import MetersRead
    from ctrtui.ui.widgets.meters import MetersBar

    async with pilot_app(world) as (app, pilot):
        await app.query_one(MetersBar).remove()
        app.post_message(MetersRead(read_meters()))
        await settle(pilot)
        assert app.is_running and app.return_code is None
