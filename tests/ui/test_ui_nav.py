"""Pilot tests of issue 10's navigation: where the UI opens (`--hierarchy`, `--cgroup`, the
fixed rule and the remembered hierarchy), targets in any hierarchy, dialogs only when they
matter, read-only that says why, help and cursor, at every terminal size."""

from __future__ import annotations

import pytest

from ctrtui.model import Hierarchy
from ctrtui.sources.demo import demo_world
from ctrtui.ui import start
from devtools.pilot import make_app, make_service, settle

pytestmark = pytest.mark.ui

SIZES = [(140, 40), (100, 30), (80, 24), (60, 20)]
NGINX = "/system.slice/nginx.service"


@pytest.fixture
def world():
    return demo_world()


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    """The remembered hierarchy lives in the test's own XDG state dir."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def _h(name: str, version: int, controllers: tuple[str, ...]) -> Hierarchy:
    return Hierarchy(name, version, controllers, f"/sys/fs/cgroup/{name}")


def test_start_rule_is_fixed_v2_then_last_then_systemd():
    hybrid = [_h("cpu", 1, ("cpu",)), _h("freezer", 1, ("freezer",)), _h("name=systemd", 1, ("name=systemd",)),
              _h("unified", 2, ("hugetlb",))]
    assert start.start_hierarchy(hybrid) == "name=systemd"  # unified carries no real controller
    assert start.start_hierarchy(hybrid, last="freezer") == "freezer"
    assert start.start_hierarchy(hybrid, last="gone") == "name=systemd"
    assert start.start_hierarchy(hybrid, asked="cpu", last="freezer") == "cpu"
    full = [*hybrid[:3], _h("unified", 2, ("cpu", "memory"))]
    assert start.start_hierarchy(full, last="freezer") == "unified"
    assert start.start_hierarchy([_h("cpu", 1, ("cpu",))]) == "cpu"


def test_remembered_in_the_xdg_state_dir(state_home):
    assert start.remembered() is None
    start.remember("freezer")
    assert (state_home / "ctrtui" / "last-hierarchy").read_text() == "freezer\n"
    assert start.remembered() == "freezer"


def test_one_remembered_hierarchy_per_backend(state_home):
    assert start.last_file("local") == state_home / "ctrtui" / "last-hierarchy"
    assert start.last_file("demo") == state_home / "ctrtui" / "last-hierarchy-demo"
    assert start.last_file("demo:hostile") == state_home / "ctrtui" / "last-hierarchy-demo-hostile"
    assert start.last_file("../x/y").parent == state_home / "ctrtui"
    start.remember("freezer", "local")
    start.remember("pids", "demo")
    assert start.remembered("local") == "freezer" and start.remembered("demo") == "pids"


async def test_a_demo_session_does_not_decide_where_the_real_machine_opens(pilot_app, world, tmp_path, state_home):
    from ctrtui.ui.app import CtrtuiApp

    start.remember("cpu")  # left there by the last session on this machine
    app = CtrtuiApp(make_service(world, tmp_path), interval=3600, remember_start=True)
    async with pilot_app(app=app, size=(100, 30)) as (app, pilot):
        assert app.hier == "name=systemd"  # the demo's own: nothing remembered for it yet
        app.switch_hierarchy("freezer")
        await settle(pilot)
    assert (state_home / "ctrtui" / "last-hierarchy").read_text() == "cpu\n"
    assert (state_home / "ctrtui" / "last-hierarchy-demo").read_text() == "freezer\n"


async def test_opens_on_the_same_hierarchy_every_run_and_remembers(pilot_app, world, tmp_path):
    from ctrtui.ui.app import CtrtuiApp

    app = CtrtuiApp(make_service(world, tmp_path), interval=3600, remember_start=True)
    async with pilot_app(app=app, size=(100, 30)) as (app, pilot):
        assert app.hier == "name=systemd"  # the demo is hybrid: v2 has no real controller
        app.switch_hierarchy("freezer")
        await settle(pilot)
        assert start.remembered("demo") == "freezer"  # at once, not only on a clean quit
    assert start.remembered("demo") == "freezer"
    again = CtrtuiApp(make_service(world, tmp_path), interval=3600, remember_start=True)
    async with pilot_app(app=again, size=(100, 30)) as (again, pilot):
        assert again.hier == "freezer"


@pytest.mark.parametrize("size", SIZES)
async def test_cgroup_option_opens_on_that_cgroup(pilot_app, world, tmp_path, size):
    from ctrtui.ui.app import CtrtuiApp

    app = CtrtuiApp(make_service(world, tmp_path), interval=3600, hierarchy="pids", cgroup=NGINX)
    async with pilot_app(app=app, size=size) as (app, pilot):
        assert app.hier == "pids"
        assert app.tree.cursor_path == NGINX
        assert app.tasks.path == NGINX


def test_cli_start_options_are_checked(capsys):
    from ctrtui.main import main

    assert main(["--demo", "--hierarchy", "nope"]) == 2
    assert "unknown hierarchy 'nope'" in capsys.readouterr().err
    assert main(["--demo", "--cgroup", "freezer:/nope"]) == 2
    # the simulated world's own terms, not a path of the real machine
    assert capsys.readouterr().err == "ctrtui: no cgroup freezer:/nope in the demo world\n"
    assert main(["--demo", "--hierarchy", "cpu", "--cgroup", "freezer:/"]) == 2
    assert "different hierarchies" in capsys.readouterr().err


async def _open(world, tmp_path, size, hierarchy="name=systemd", read_only=False):
    app = make_app(world, tmp_path, hierarchy=hierarchy, read_only=read_only)
    return app


@pytest.mark.parametrize("size", SIZES)
async def test_move_into_another_hierarchy_in_seven_keys(pilot_app, world, tmp_path, size):
    """From name=systemd, one task into a freezer cgroup: m, four letters, enter, and y to the
    question every v1 move asks (the task's other hierarchies stay as they are)."""
    from ctrtui.ui.screens import ConfirmMove, TargetPicker
    from devtools.pilot import goto

    world.mkdir("freezer", "/jail")
    async with pilot_app(world, hierarchy="name=systemd", size=size) as (app, pilot):
        await goto(pilot, NGINX)
        app.tasks.focus()
        pid = app.tasks.cursor_pid
        assert pid is not None and world.task_cgroups(pid)["freezer"] == "/"
        keys = ["m", "j", "a", "i", "l", "enter"]
        await pilot.press(*keys)
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMove)
        assert [r[:36] for r in app.screen.risks] == ["Only the freezer hierarchy changes: "]
        assert world.task_cgroups(pid)["freezer"] == "/"   # nothing moved before the answer
        keys.append("y")
        await pilot.press("y")
        await settle(pilot)
        assert len(keys) <= 7
        assert not isinstance(app.screen, ConfirmMove | TargetPicker)
        assert world.task_cgroups(pid)["freezer"] == "/jail"
        assert world.task_cgroups(pid)["name=systemd"] == NGINX  # only freezer changed
        assert app.hier == "name=systemd"


@pytest.mark.parametrize("size", SIZES)
async def test_picker_lists_every_hierarchy_shown_one_first_and_says_which_changes(pilot_app, world, tmp_path, size):
    from ctrtui.ui.screens import TargetPicker
    from devtools.pilot import goto, screen_text

    async with pilot_app(world, hierarchy="cpu", size=size) as (app, pilot):
        await goto(pilot, NGINX)
        app.tasks.focus()
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, TargetPicker)
        await pilot.press(*"nginx")
        await settle(pilot)
        items = picker.fuzzy.paths
        hiers = [picker.matcher.ref(i)[0] for i in items]
        assert hiers[0] == "cpu" and {"pids", "unified", "freezer"} <= set(hiers) or "unified" in hiers
        first_other = next(i for i, h in enumerate(hiers) if h != "cpu")
        assert all(h == "cpu" for h in hiers[:first_other])  # the shown hierarchy's matches first
        assert picker.target == picker.target.__class__("cpu", NGINX)
        text = screen_text(app)
        assert "Only the cpu hierarchy changes" in " ".join(text.split())  # in the preview, wrapped
        await pilot.press(*["down"] * first_other)
        await settle(pilot)
        assert picker.target.hierarchy != "cpu"
        note = str(app.screen.query_one("#picker-note").content)
        assert f"Moves in {picker.target.hierarchy}, not in cpu" in note


@pytest.mark.parametrize("size", SIZES)
async def test_go_to_and_find_pid_reach_every_hierarchy(pilot_app, world, tmp_path, size):
    from ctrtui.ui.screens import GoToCgroup

    world.mkdir("freezer", "/jail")
    async with pilot_app(world, hierarchy="name=systemd", size=size) as (app, pilot):
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, GoToCgroup)
        await pilot.press(*"jail", "enter")
        await settle(pilot)
        assert app.hier == "freezer" and app.tree.cursor_path == "/jail"
        pid = app.tasks.shown[0] if len(app.tasks.shown) else None
        assert pid is None  # /jail is empty
        # f PID: the current hierarchy first, any PID of the snapshot found
        app.switch_hierarchy("cpu")
        await settle(pilot)
        nginx = world.snapshot().get("name=systemd").get(NGINX).procs[0]
        await pilot.press("f", *str(nginx), "enter")
        await settle(pilot)
        assert app.hier == "cpu" and app.tasks.cursor_pid == nginx


def _footer_keys(app) -> dict[str, bool]:
    """Footer key -> enabled, as drawn."""
    from textual.widgets._footer import FooterKey

    return {k.key: not k.has_class("-disabled") for k in app.screen.query(FooterKey)}


@pytest.mark.parametrize("size", SIZES)
async def test_read_only_shows_move_keys_disabled_and_refuses_x_with_the_reason(pilot_app, world, tmp_path, size):
    from devtools.pilot import goto, notifications

    async with pilot_app(world, hierarchy="unified", read_only=True, size=size) as (app, pilot):
        await goto(pilot, NGINX)
        app.tasks.focus()
        await settle(pilot)
        keys = _footer_keys(app)
        for k in ("m", "x", "p", "u"):
            assert keys.get(k, False) is False, keys  # hidden (no room) or shown disabled
        assert any(keys.get(k) is False for k in ("m", "x")) or size[0] < 100
        await pilot.press("x")
        await settle(pilot)
        assert app.cut is None
        said = notifications(app)[-1]
        assert said.startswith("Read-only: ctrtui was started with --read-only, so nothing is moved.")
        assert "root" not in said
        await pilot.press("m")
        await settle(pilot)
        assert notifications(app)[-1] == said and len(app.screen_stack) == 1


async def test_read_only_reason_is_the_real_one(pilot_app, world, tmp_path):
    """Not root, the backend's own reason, a journal that cannot be written: each as it is."""
    from ctrtui.engine import AttachEngine, Journal, Policy
    from ctrtui.ui.app import CtrtuiApp
    from ctrtui.ui.moves import read_only_words

    assert read_only_words("not root") == ("Read-only: ctrtui is not running as root, so nothing is moved. "
                                           "Restart it as root (e.g. sudo ctrtui) to move tasks.")
    assert "--read-only" not in read_only_words("not root")
    (tmp_path / "file").write_text("")
    engine = AttachEngine(world, policy=Policy(), journal=Journal(tmp_path / "file" / "journal.jsonl"),
                          load_entry_points=False)
    app = CtrtuiApp(make_service(world, tmp_path, engine), interval=3600, hierarchy="unified")
    assert app.read_only_reason is not None and app.read_only_reason.startswith("the journal ")
    assert "ENOTDIR" in app.read_only_reason
    async with pilot_app(app=app, size=(100, 30)) as (app, pilot):
        await pilot.press("u")
        await settle(pilot)
        from devtools.pilot import notifications

        said = notifications(app)[-1]
        assert said.startswith("Read-only: the journal ") and "--journal FILE" in said


@pytest.mark.parametrize("size", SIZES)
async def test_panes_share_the_width_and_the_footer_keeps_help_and_quit(pilot_app, world, tmp_path, size):
    from textual.widgets._footer import FooterKey

    from ctrtui.ui.layout import COMMAND_MIN, TREE_MIN
    from devtools.pilot import goto, screen_text

    async with pilot_app(world, hierarchy="unified", size=size) as (app, pilot):
        await goto(pilot, NGINX)
        stacked = app.query_one("#main").has_class("stacked")
        assert stacked == (size[0] < 87)
        left = app.query_one("#left").size.width
        header = app.tasks.header_text(app.tasks.size.width)
        command = len(header) - header.index("COMMAND")
        if stacked:
            assert left == size[0] and app.tasks.size.width == size[0]
        else:
            assert TREE_MIN <= left <= 80 and command >= COMMAND_MIN, (left, command)
        footer = [k.key for k in app.screen.query(FooterKey)]
        assert footer[:2] == ["question_mark", "q"], footer
        text = screen_text(app).splitlines()[-1]
        assert "? Keys" in text and "q Quit" in text


@pytest.mark.parametrize("size", SIZES)
async def test_cursor_goes_to_the_next_task_after_a_move_and_follows_an_undo(pilot_app, world, tmp_path, size):
    from ctrtui.ui.screens import ConfirmMove
    from devtools.pilot import cgroup_of, goto

    world.mkdir("freezer", "/jail")
    async with pilot_app(world, hierarchy="freezer", size=size) as (app, pilot):
        await goto(pilot, "/")
        app.tasks.focus()
        nginx = world.snapshot().get("name=systemd").get(NGINX).procs
        assert app.tasks.select_pid(nginx[1])
        await settle(pilot)
        pid = app.tasks.cursor_pid
        after = int(app.tasks.shown[app.tasks.cursor + 1])
        await pilot.press("m", *"jail", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMove)  # a v1 move asks first
        await pilot.press("y")
        await settle(pilot)
        assert cgroup_of(world, pid, "freezer") == "/jail"
        assert app.tasks.cursor_pid == after  # the next task, not the departed one
        assert app.tasks.selection() == [after]
        await pilot.press("u")
        await settle(pilot)
        assert cgroup_of(world, pid, "freezer") == "/"
        assert app.tasks.cursor_pid == pid  # the task that came back
        assert app.tasks.selection() == [pid]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("focus", ["tree", "tasks"])
async def test_help_lists_every_key_grouped_by_pane_whatever_has_focus(pilot_app, world, tmp_path, size, focus):
    from ctrtui.ui.screens.keys import KeysHelp
    from devtools.pilot import screen_text

    async with pilot_app(world, hierarchy="unified", read_only=True, size=size) as (app, pilot):
        getattr(app, focus).focus()
        await pilot.press("question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, KeysHelp)
        text = help_screen.plain
        for title in ("Everywhere", "Cgroup tree (left pane)", "Task list (right pane)"):
            assert title in text
        tree_part = text.split("Cgroup tree (left pane)")[1].split("Task list (right pane)")[0]
        list_part = text.split("Task list (right pane)")[1].split("Target picker (m)")[0]
        picker_part = text.split("Target picker (m)")[1]
        assert "new scope systemd starts" in picker_part and "Write the kernel file anyway" in picker_part
        for needle in ("Mark or unmark", "Mark every task", "Unmark every task", "Sort by the next column",
                       "Reverse the sort order"):
            assert needle in list_part
        assert "enter" in tree_part or "space" in tree_part
        for needle in ("Move the selection", "Take a new snapshot", "Go to a cgroup", "Jump to a PID's cgroup",
                       "Leave ctrtui", "Threads view"):
            assert needle in text
        assert "(off: --read-only)" in text
        assert "(off" not in text.split("Move the selection")[0].splitlines()[-1]  # the line itself is after
        shown = screen_text(app)
        assert "Keys (esc, ? or q closes)" in shown
        await pilot.press("question_mark")
        await settle(pilot)
        assert not isinstance(app.screen, KeysHelp)


async def test_dialogs_open_at_once_the_first_time_too(pilot_app, world, tmp_path, capsys):
    """A risky move asks (a v1 one says its other hierarchies stay as they are), at once.
    Time from the key to each dialog's first paint is printed (never asserted: timing fails
    no test; the figures are in benchmarks/RESULTS.md)."""
    import time

    from ctrtui.ui.screens import ConfirmMove, TargetPicker
    from ctrtui.ui.screens.keys import KeysHelp
    from devtools.pilot import cgroup_of, goto

    painted: dict[str, float] = {}

    def watch(cls):
        orig = cls._compositor_refresh

        def first_paint(self):  # the screen's first update written to the terminal
            painted.setdefault(cls.__name__, time.perf_counter())
            return orig(self)
        return orig, first_paint

    patched = {cls: watch(cls) for cls in (TargetPicker, ConfirmMove, KeysHelp)}
    for cls, (_, new) in patched.items():
        cls._compositor_refresh = new
    try:
        async with pilot_app(world, hierarchy="cpu", size=(140, 40)) as (app, pilot):
            await goto(pilot, NGINX)
            app.tasks.focus()
            figures = {}
            for key, cls in (("m", TargetPicker), ("question_mark", KeysHelp)):
                t0 = time.perf_counter()
                await pilot.press(key)
                await settle(pilot)
                assert isinstance(app.screen, cls)
                figures[cls.__name__] = (painted[cls.__name__] - t0) * 1000
                await pilot.press("escape")
                await settle(pilot)
            pid = app.tasks.cursor_pid
            await pilot.press("m", *"ssh", "enter")  # v1 (cpu), a systemd unit on both sides: asks
            await settle(pilot)
            assert isinstance(app.screen, ConfirmMove)
            assert any("Only the cpu hierarchy changes" in r for r in app.screen.risks)
            assert any("belongs to the systemd unit ssh.service" in r for r in app.screen.risks)
            await pilot.press("n")
            await settle(pilot)
            assert cgroup_of(world, pid, "cpu") == NGINX
            world.mkdir("freezer", "/batch")
            app.switch_hierarchy("freezer")
            await settle(pilot)
            await goto(pilot, "/")
            app.tasks.select_pid(pid)
            await pilot.press("m", *"batch", "enter")  # v1 from freezer:/ (no unit): that risk alone
            await settle(pilot)
            assert isinstance(app.screen, ConfirmMove)
            assert [r[:35] for r in app.screen.risks] == ["Only the freezer hierarchy changes:"]
            await pilot.press("y")
            await settle(pilot)
            assert cgroup_of(world, pid, "freezer") == "/batch"
    finally:
        for cls in patched:
            del cls._compositor_refresh
    with capsys.disabled():
        print("\nfirst open, key to first paint: " + ", ".join(f"{k} {v:.0f} ms" for k, v in figures.items()))


@pytest.mark.parametrize("size", SIZES)
async def test_picker_refusal_wraps_instead_of_being_cut(pilot_app, world, tmp_path, size):
    from devtools.pilot import goto, screen_text

    async with pilot_app(world, hierarchy="unified", size=size) as (app, pilot):
        await goto(pilot, "/")
        app.tasks.focus()
        assert app.tasks.select_pid(2)  # kthreadd: the kernel refuses every move of it
        await settle(pilot)
        await pilot.press("m", *"ssh")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        lines = [ln.strip(" │") for ln in screen_text(app).splitlines()]
        text = " ".join(" ".join(lines).split())
        assert ("Nothing would move to unified:/system.slice/ssh.service: 1 refused (EINVAL). "
                "Pick another cgroup or press escape.") in text


def test_a_long_path_keeps_its_hierarchy_and_one_ellipsis():
    from textual.content import Content

    from ctrtui.ui.widgets.fuzzypaths import shorten

    p = "/system.slice/system-getty.slice/ssh.service"
    cut = shorten(Content(p), 20).plain
    assert cut == "…/ssh.service" and "...." not in cut and len(cut) <= 20
    long_last = "/a/libpod-conmon-0123456789abcdef0123456789abcdef.scope"
    cut = shorten(Content(long_last), 30).plain
    assert cut.startswith("…/libpod-co") and cut.endswith(".scope") and len(cut) <= 30


@pytest.mark.parametrize("size", SIZES)
async def test_picker_rows_keep_the_hierarchy_of_long_paths(pilot_app, world, tmp_path, size):
    from devtools.pilot import goto

    async with pilot_app(world, hierarchy="freezer", size=size) as (app, pilot):
        await goto(pilot, "/")
        app.tasks.focus()
        await pilot.press("m", *"kube")
        await settle(pilot)
        from textual.widgets import OptionList

        ol = app.screen.query_one("#fuzzy-options", OptionList)
        prompts = [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]
        assert prompts
        for item, prompt in zip(app.screen.fuzzy.paths, prompts, strict=True):
            hier = app.screen.matcher.ref(item)[0]
            assert prompt.split()[-1].startswith(hier + ":"), (item, prompt)
            assert "...." not in prompt


@pytest.mark.parametrize("size", SIZES)
async def test_process_tree_toggles_with_threads_under_their_process(pilot_app, world, tmp_path, size):
    from devtools.pilot import goto, screen_text

    async with pilot_app(world, hierarchy="name=systemd", size=size) as (app, pilot):
        await goto(pilot, NGINX)
        app.tasks.focus()
        master, w1, w2 = app.tasks.shown
        app.tasks.set_sort("pid", reverse=True)
        await settle(pilot)
        assert list(app.tasks.shown) == [w2, w1, master]
        await pilot.press("v")
        await settle(pilot)
        assert app.tasks.tree_view
        assert list(app.tasks.shown) == [master, w2, w1]  # the parent first, its children in sort order
        assert app.tasks._tree_prefix == {master: "", w2: "├─ ", w1: "└─ "}
        text = screen_text(app)
        assert "└─ nginx: worker" in text or size[0] < 87  # narrow: COMMAND may be cut
        pg = "/system.slice/postgresql@15-main.service"
        await goto(pilot, pg)
        app.tasks.focus()
        await pilot.press("t")  # threads: each under its process
        await settle(pilot)
        procs = world.snapshot().get("name=systemd").get(pg).procs
        world_tids = sorted(t for p in procs for t in world.thread_ids(p))
        assert len(world_tids) > len(procs)
        assert sorted(app.tasks.shown) == world_tids
        shown = list(app.tasks.shown)
        for tid in world_tids:
            leader = world.task_state(tid).tgid
            if tid != leader:  # a thread right under its process (after its leader), drawn as a child
                assert shown.index(tid) > shown.index(leader) and app.tasks._tree_prefix[tid].endswith("─ ")
        await pilot.press("v")
        await settle(pilot)
        assert not app.tasks.tree_view and list(app.tasks.shown) == sorted(world_tids, reverse=True)


def test_process_tree_order_and_drawing():
    from ctrtui.model import TaskInfo
    from ctrtui.ui.rows import process_tree

    def t(pid, tgid, ppid):
        return TaskInfo(pid, tgid, "x", "S", 0, 0, 0, 0, ppid=ppid)

    d = {1: t(1, 1, 0), 10: t(10, 10, 1), 11: t(11, 11, 10), 12: t(12, 10, 1), 20: t(20, 20, 1),
         30: t(30, 30, 99), 40: t(40, 40, 41), 41: t(41, 41, 40)}
    order, prefix = process_tree([1, 10, 11, 12, 20, 30, 40, 41], d)
    assert list(order) == [1, 10, 11, 12, 20, 30, 40, 41]
    assert [prefix.get(p) for p in order] == ["", "├─ ", "│  ├─ ", "│  └─ ", "└─ ", "", None, None]
    assert set(order) == set(d)  # a parent loop (40 <-> 41) is kept, flat


def test_simulated_and_real_tasks_have_a_parent():
    import os

    from ctrtui.sources.procfs import read_task

    got = read_task(os.getpid())
    assert got is not None and got[0].ppid == os.getppid()
    w = demo_world()
    master, worker, _ = w.snapshot().get("name=systemd").get(NGINX).procs
    assert w.task_state(worker).ppid == master and w.task_state(1).ppid == 0


async def test_the_panes_follow_every_resize_of_a_running_app(pilot_app, world, tmp_path):
    """Each resize lays out for the new size at once, not for the one before it: stacked below
    87 columns, side by side with COMMAND shown above (issue 17)."""
    from ctrtui.ui.layout import COMMAND_MIN, TREE_MIN
    from devtools.pilot import goto

    async with pilot_app(world, hierarchy="unified", size=(80, 24)) as (app, pilot):
        await goto(pilot, NGINX)
        for width, height in [(80, 24), (140, 40), (80, 24), (60, 20)]:
            if app.size != (width, height):
                await pilot.resize_terminal(width, height)
                await settle(pilot)
            assert app.size == (width, height)
            stacked = app.query_one("#main").has_class("stacked")
            assert stacked == (width < 87), (width, stacked)
            left = app.query_one("#left").size.width
            header = app.tasks.header_text(app.tasks.size.width)
            assert "COMMAND" in header, (width, header)
            command = len(header) - header.index("COMMAND")
            if stacked:
                assert left == width and app.tasks.size.width == width, (width, left)
            else:
                assert TREE_MIN <= left <= 80 and command >= COMMAND_MIN, (width, left, command)


async def test_a_pane_key_pressed_where_it_cannot_act_says_where_it_works(pilot_app, world, tmp_path):
    """Focus on the hierarchy switcher: `c` (the tree's) and `a` (the task list's) say which
    pane they work in instead of doing nothing silently; where they work, they act."""
    from textual.widgets import Select

    from devtools.pilot import goto, notifications

    async with pilot_app(world, hierarchy="unified", size=(80, 24)) as (app, pilot):
        await goto(pilot, NGINX)
        app.query_one("#hierarchy", Select).focus()
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        said = notifications(app)[-1]
        assert said.startswith("c (Columns) works in the cgroup tree"), said
        assert "tab" in said
        await pilot.press("a")
        await settle(pilot)
        said = notifications(app)[-1]
        assert said.startswith("a (Mark all) works in the task list"), said
        assert not app.tasks.marks and app.hier == "unified" and not app.tree.columns
        # counted in the app's log of what it said (a notification on screen times out,
        # which a loaded machine reaches between two counts)
        n = len(app.notices)
        app.tasks.focus()
        await pilot.press("a")  # where it works: it acts, and says nothing
        await settle(pilot)
        assert app.tasks.marks and len(app.notices) == n
        app.tree.focus()
        await pilot.press("s")  # the task list's sort, pressed in the tree
        await settle(pilot)
        assert notifications(app)[-1].startswith("s (Sort) works in the task list")
        n = len(app.notices)
        await pilot.press("j", "k", "end")  # moving keys of the other pane are not worth a word
        await settle(pilot)
        assert len(app.notices) == n
