"""The UI on the hostile world: every screen draws names as their escaped literal text, no
control character reaches a segment or the driver's output, markup planted in a name does
nothing when clicked, typed input is literal, long and deep paths keep their end."""

from __future__ import annotations

import re

import pytest
from rich.segment import Segment
from textual.drivers.headless_driver import HeadlessDriver
from textual.widgets import Input

from ctrtui.sources.hostile import DEEP_LEAF, NAMES, PROCS, USERS, hostile_path, hostile_world
from ctrtui.text import BIDI, display
from ctrtui.ui.screens import ConfirmMove, FindPid, GoToCgroup, MoveLog, TargetPicker
from ctrtui.ui.widgets.linelist import LineList
from devtools.pilot import goto, make_app, screen_text, settle
from devtools.waiting import picker_planned, wait_for

pytestmark = pytest.mark.ui


class RecordingDriver(HeadlessDriver):
    """A headless driver that says it is not headless, so the app renders its frames into
    terminal sequences as it would for a terminal, and keeps every byte it is given."""

    output: list[str] = []

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        RecordingDriver.output.append(data)

    def flush(self) -> None:
        pass


def _bad_char(c: str) -> bool:
    n = ord(c)
    return n < 0x20 or 0x7F <= n <= 0x9F or 0xD800 <= n <= 0xDFFF or n in BIDI or n in (0x2028, 0x2029)


def clean_segments(app) -> list[Segment]:
    """Every segment of the screen drawn now; asserts none carries a control character, a
    bidi control or a click action planted in a name."""
    segments = [seg for strip in app.screen._compositor.render_strips() for seg in strip]
    for seg in segments:
        assert not any(_bad_char(c) for c in seg.text), repr(seg.text)
        meta = seg.style.meta if seg.style is not None else {}
        assert "@click" not in meta or "quit" not in str(meta.get("@click")), (seg.text, meta)
    return segments


#: What Textual itself writes: CSI sequences (SGR, cursor, modes, synchronized output) and
#: OSC 22 (the mouse pointer's shape, e.g. `ESC]22;default BEL`).
_TERMINAL_OWN = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\]22;[a-z-]+\x07")


def assert_driver_output_clean(output: str) -> None:
    """Nothing but Textual's own CSI sequences: no OSC (a window title), no screen clear,
    no BEL, no C1 control, no stray ESC from a name."""
    assert "PWNED\x07" not in output and "\x1b]0;" not in output
    assert "\x1b[2J" not in output
    rest = _TERMINAL_OWN.sub("", output)
    bad = sorted({c for c in rest if _bad_char(c) and c != "\n" and c != "\r"})
    assert not bad, [hex(ord(c)) for c in bad]


def assert_shows(app, *texts: str) -> None:
    shown = screen_text(app)
    for t in texts:
        assert t in shown, (t, shown)


async def _tour(pilot) -> None:
    """Visit every screen with hostile text on it (used by the driver-output test)."""
    app = pilot.app
    for key in NAMES:
        await goto(pilot, hostile_path(key))
        clean_segments(app)
    await goto(pilot, DEEP_LEAF)
    app.tasks.focus()
    for _ in range(len(PROCS)):
        await pilot.press("down")
        await settle(pilot)
    await pilot.press("slash")
    for ch in "[/":
        await pilot.press(ch)
    await settle(pilot)
    await pilot.press("escape")
    await goto(pilot, hostile_path("click"))
    app.tasks.focus()
    await pilot.press("m")
    await settle(pilot)
    for ch in "wipe":
        await pilot.press(ch)
    await wait_for(pilot, lambda: picker_planned(app.screen), "the picker's plan for 'wipe'")
    await pilot.press("enter")
    await settle(pilot)
    if isinstance(app.screen, ConfirmMove):
        await pilot.press("y")
    await settle(pilot)
    await pilot.press("L")
    await settle(pilot)
    await pilot.press("escape")
    await pilot.press("question_mark")
    await settle(pilot)
    await pilot.press("question_mark")
    await pilot.press("g")
    await settle(pilot)
    await pilot.press("escape")
    await pilot.press("f")
    await settle(pilot)
    for ch in "[/]x":
        await pilot.press(ch)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("escape")
    app.go_to("/hostile/gone-\x1b[2J")  # a notification quoting a name
    await settle(pilot)


@pytest.mark.parametrize("size", [(140, 40), (80, 24)])
async def test_no_control_byte_reaches_the_driver_output(pilot_app, tmp_path, size):
    RecordingDriver.output = []
    app = make_app(hostile_world(), tmp_path)
    app.driver_class = RecordingDriver
    async with pilot_app(app=app, size=size, headless=False) as (app, pilot):
        await _tour(pilot)
        assert app.is_running
        assert app.reports and app.reports[-1].outcomes[0].outcome == "moved"
    output = "".join(RecordingDriver.output)
    assert len(output) > 10_000  # frames were really rendered
    assert_driver_output_clean(output)


async def test_tree_labels_and_title_are_the_escaped_names(pilot_app, tmp_path):
    async with pilot_app(hostile_world(), size=(140, 40)) as (app, pilot):
        for key, name in NAMES.items():
            await goto(pilot, hostile_path(key))
            clean_segments(app)
            shown = display(name)
            title = app.tasks._border_title
            assert title is not None and not title.spans  # plain text, not markup
            assert title.plain.startswith(("unified:/hostile/" + shown)[:40]) or title.plain.startswith("…")
            line = app.tree._tree_lines[app.tree.cursor_line]
            label = app.tree.render_label(line.node, app.tree.rich_style, app.tree.rich_style)
            assert label.plain.split(" ")[2].startswith(shown[:20]) or label.plain[2:].startswith(shown[:20])
        await goto(pilot, hostile_path("clear"))
        assert_shows(app, "wipe-\\x1b[2J", "x-[@click=app.quit]q", "bad-\\xff\\xfe-utf8", "back\\\\x1b-slash",
                     "bidi-\\u202etxt.exe", "c1-\\u009b31m-\\u0085-end", "x-[red]y")
        assert_shows(app, "unified:/hostile/wipe-\\x1b[2J · 5 processes")


async def test_task_rows_and_detail_line_show_escaped_text(pilot_app, tmp_path):
    async with pilot_app(hostile_world(), size=(160, 40)) as (app, pilot):
        await goto(pilot, hostile_path("osc"))
        app.tasks.focus()
        await settle(pilot)
        assert_shows(app, "[/] [@click=app.quit]quit \\x1b]0;PWNED\\x07", "[b]eve[/b]",
                     "/bin/by\\xfftes \\\\x1b literal", "/usr/bin/\\u202egnp.exe --flag \\u009b2J")
        for i, (_comm, cmd, uid) in enumerate(PROCS):
            app.tasks.move_cursor(i)
            await settle(pilot)
            detail = app.query_one("#detail").content
            plain = str(detail)
            assert display(cmd)[:30] in plain and display(USERS[uid]) in plain, plain
            assert plain.endswith("unified,name=[@click=app.quit]h: " + display(hostile_path("osc")))
            clean_segments(app)


async def test_clicking_on_planted_markup_runs_nothing(pilot_app, tmp_path):
    app = make_app(hostile_world(), tmp_path)
    ran: list[str] = []
    async with pilot_app(app=app, size=(140, 40)) as (app, pilot):
        original = app.run_action

        async def spy(action, *args, **kw):
            ran.append(str(action))
            return await original(action, *args, **kw)

        app.run_action = spy
        await goto(pilot, hostile_path("click"))
        # every cell of the task pane's title line and of the tree line of the name
        tasks_region = app.tasks.region
        for x in range(tasks_region.x, tasks_region.right):
            await pilot.click(offset=(x, tasks_region.y))
        tree = app.tree
        line = tree.cursor_line - int(tree.scroll_y)
        for x in range(tree.region.x, tree.region.right):
            await pilot.click(offset=(x, tree.region.y + line))
        await settle(pilot)
        assert app.is_running
        assert not [a for a in ran if "quit" in a], ran
        clean_segments(app)


async def test_typed_text_is_literal_filter_goto_find_picker(pilot_app, tmp_path):
    world = hostile_world()
    async with pilot_app(world, size=(140, 40)) as (app, pilot):
        await goto(pilot, hostile_path("osc"))
        await pilot.press("slash")
        for ch in "[/":
            await pilot.press(ch)
        await settle(pilot)
        assert app.is_running and app.tasks.filter == "[/"
        assert "2 match '[/'" in app.tasks._border_title.plain
        box = app.query_one("#filter", Input)
        box.value = "[b]"
        await settle(pilot)
        assert app.tasks._border_title.plain.endswith("1 match '[b]'")  # eve's user name, literally
        box.value = "\\x1b]0;"  # the shown form finds the ESC in the command line
        await settle(pilot)
        assert len(app.tasks.shown) == 1
        box.value = "@click"
        await settle(pilot)
        assert len(app.tasks.shown) == 2
        clean_segments(app)
        await pilot.press("escape")

        # picker: the shown form of a name is what is searched and highlighted
        app.tasks.focus()
        await pilot.press("m")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, TargetPicker)
        picker.query_one("#fuzzy-input", Input).value = "wipe-\\x1b[2J"
        await wait_for(pilot, lambda: picker_planned(picker), "the picker's plan for what was typed")
        assert picker.target_path == hostile_path("clear")
        assert_shows(app, "-> unified:/hostile/wipe-\\x1b[2J", "/hostile/wipe-\\x1b[2J")
        picker.query_one("#fuzzy-input", Input).value = "bad-\\xff"
        await wait_for(pilot, lambda: picker_planned(picker), "the picker's plan for what was typed")
        assert picker.target_path == hostile_path("bytes")
        clean_segments(app)
        await pilot.press("escape")
        await settle(pilot)

        # go to: typed literally, including brackets and a backslash escape
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, GoToCgroup)
        app.screen.query_one("#fuzzy-input", Input).value = "x-[@click=app.quit]q"
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.tree.cursor_path == hostile_path("click") and app.is_running

        # find PID: markup typed is shown back literally in the message
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FindPid)
        field = app.screen.query_one(Input)
        field.value = "[/]\x1b[2J"  # as a paste would bring it: the ESC becomes its shown form
        assert field.value == "[/]\\x1b[2J"
        await pilot.press("enter")
        await settle(pilot)
        assert "'[/]\\\\x1b[2J' is not a PID" in app.screen.message  # the typed backslash, doubled
        clean_segments(app)
        await pilot.press("escape")


async def test_move_confirm_log_and_notification_show_escaped_names(pilot_app, tmp_path):
    world = hostile_world()
    async with pilot_app(world, size=(100, 30)) as (app, pilot):
        await goto(pilot, hostile_path("click"))
        app.tasks.focus()
        pid = app.tasks.cursor_pid
        await pilot.press("m")
        await settle(pilot)
        app.screen.query_one("#fuzzy-input", Input).value = "d59"
        await wait_for(pilot, lambda: picker_planned(app.screen), "the picker's plan for 'd59'")
        preview = app.screen.query_one("#picker-preview", LineList)
        assert display(hostile_path("click")) in preview.plain
        clean_segments(app)
        await pilot.press("enter")
        await settle(pilot)
        if isinstance(app.screen, ConfirmMove):
            assert_shows(app, "unified:" + DEEP_LEAF[:30])
            clean_segments(app)
            await pilot.press("y")
            await settle(pilot)
        assert world.task_cgroups(pid)["unified"] == DEEP_LEAF
        assert any("Move: 1 moved" in n for n in app.notices)
        await pilot.press("L")
        await settle(pilot)
        log = app.screen
        assert isinstance(log, MoveLog)
        lines = log.query_one(LineList)
        text = lines.plain
        assert display(hostile_path("click")) in text and "-> unified:" + DEEP_LEAF in text
        # wrapped rows lose nothing: every row fits the width it is drawn at, and the rows
        # put together hold every character of the lines
        width = lines.scrollable_content_region.width
        assert all(r.cell_length <= width for r in lines._rows)
        joined = "".join(r.plain.strip(" ") for r in lines._rows).replace(" ", "")
        assert joined == "".join(c.plain.strip(" ") for c in lines.lines).replace(" ", "")
        for y in range(lines.size.height):
            strip = lines.render_line(y)
            assert strip.cell_length == width
        clean_segments(app)
        await pilot.press("escape")
        app.go_to("/hostile/gone-\x1b]0;PWNED\x07")
        await settle(pilot)
        assert app.notices[-1] == ("unified:/hostile/gone-\\x1b]0;PWNED\\x07 is not in the snapshot "
                                   "(removed, or a typo?).")
        clean_segments(app)


@pytest.mark.parametrize("size", [(140, 40), (80, 24)])
async def test_deep_chain_title_detail_and_tree_keep_the_end(pilot_app, tmp_path, size):
    async with pilot_app(hostile_world(), size=size) as (app, pilot):
        await goto(pilot, DEEP_LEAF)
        await settle(pilot)
        title = app.tasks._border_title.plain
        assert title.startswith("…") and "/d58/d59 · 5 processes" in title
        first = str(app.query_one("#detail").content).split("\n")[0]
        assert first.endswith("/d58/d59") or "/d58/d59  5 procs" in first
        tree = app.tree
        assert tree.scroll_x > 0
        assert_shows(app, "d59 5")
        await goto(pilot, "/")
        assert tree.scroll_x == 0
        clean_segments(app)


async def test_a_hierarchy_named_with_markup_in_select_switcher_status_and_tree(pilot_app, tmp_path):
    from ctrtui.sources.hostile import HIERARCHIES
    from ctrtui.ui.screens import SwitchHierarchy

    name = HIERARCHIES[3]
    async with pilot_app(hostile_world(), size=(140, 40)) as (app, pilot):
        app.switch_hierarchy(name)
        await settle(pilot)
        assert app.hier == name
        shown = screen_text(app)
        assert shown.count(name) >= 3, shown[:400]  # status bar, select, tree root
        clean_segments(app)
        select = app.query_one("#hierarchy")
        await pilot.click(offset=(select.region.x + 2, select.region.y))
        await settle(pilot)
        clean_segments(app)
        assert name in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        app.action_switch_hierarchy()
        await settle(pilot)
        assert isinstance(app.screen, SwitchHierarchy)
        assert name in screen_text(app)
        clean_segments(app)
        await pilot.press("escape")
        await settle(pilot)
        status = app.query_one("#status")
        for x in range(status.region.x, status.region.right):
            await pilot.click(offset=(x, status.region.y))
        await settle(pilot)
        assert app.is_running and app.hier == name
