"""The modal screens of ctrtui.ui.screens, each pushed on a minimal host app with the demo world,
and the fuzzy matcher they share."""

from __future__ import annotations

import random
import re
import time
from contextlib import asynccontextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App
from textual.content import Content
from textual.widgets import Input

from ctrtui.engine import AttachEngine, Plan
from ctrtui.model import CgroupRef
from ctrtui.sources.demo import demo_world
from ctrtui.ui.fuzzy import FuzzyMatcher
from ctrtui.ui.screens import (
    ConfirmMove,
    FindPid,
    GoToCgroup,
    MoveLog,
    SwitchHierarchy,
    TargetPicker,
)
from ctrtui.ui.widgets.linelist import LineList
from devtools.waiting import picker_planned, wait_for

pytestmark = pytest.mark.ui

SIZE = (140, 40)


class _Host(App):
    """An empty app to push one screen on."""


@asynccontextmanager
async def _pushed(screen):
    """Run the host, push `screen`; yields (app, pilot, results) where results collects what
    the screen dismissed with."""
    app = _Host()
    results: list = []
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(screen, results.append)
        await pilot.pause()
        yield app, pilot, results


async def _settle(app, pilot, rounds: int = 3) -> None:
    """Let debounce timers fire, workers finish and their messages arrive."""
    for _ in range(rounds):
        await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


@pytest.fixture
def world():
    k = demo_world()
    engine = AttachEngine(k, load_entry_points=False)
    engine.front = "ui"  # as the app sets it: the reports shown here advise in the UI's words
    return k, engine, k.snapshot()


def _pid(k, comm: str) -> int:
    return next(t.pid for t in k.tasks.values() if t.comm == comm and t.pid == t.tgid)


# ------------------------------------------------------------------------------ matcher


PATHS = [
    "/", "/system.slice", "/system.slice/cron.service", "/system.slice/ssh.service",
    "/system.slice/system-getty.slice/getty@tty1.service", "/user.slice/session-3.scope",
    "/isolated", "/services/crontab", "/acron", "/x/c/r/o/n",
]


def test_matcher_subsequence_and_case():
    m = FuzzyMatcher(PATHS)
    paths, total = m.search("CRON")
    assert set(paths) == {"/system.slice/cron.service", "/services/crontab", "/acron", "/x/c/r/o/n"}
    assert total == 4
    assert m.search("zzz") == ([], 0)
    assert m.search("ssh svc")[0][0] == "/system.slice/ssh.service"  # spaces are ignored


def test_matcher_finds_systemd_escapes_typed_as_systemd_shows_them():
    """Go-to and the picker search the shown form: a templated unit is typed with one
    backslash, as systemd-cgls shows it, and drawn that way."""
    unit = "/system.slice/system-serial\\x2dgetty.slice"
    m = FuzzyMatcher([*PATHS, unit])
    paths, _ = m.search("serial\\x2dgetty")
    assert paths == [unit] and FuzzyMatcher.shown(unit) == unit


def test_matcher_ranks_segment_starts_and_consecutive_first():
    m = FuzzyMatcher(PATHS)
    paths, _ = m.search("cron")
    # word start in the last segment, then starts-with, then inside a segment, then scattered
    assert paths.index("/services/crontab") < paths.index("/acron") < paths.index("/x/c/r/o/n")
    assert paths.index("/system.slice/cron.service") < paths.index("/acron")
    assert paths[-1] == "/x/c/r/o/n"
    assert m.search("isolated")[0][0] == "/isolated"
    # initials: s(ystem) s(lice) c(ron)
    assert m.search("sscs")[0][0] == "/system.slice/cron.service"


def test_matcher_empty_query_lists_shortest_first_and_limits():
    m = FuzzyMatcher(PATHS)
    paths, total = m.search("", limit=3)
    assert paths == ["/", "/acron", "/isolated"] and total == len(PATHS)
    assert len(m.search("s", limit=2)[0]) == 2


def test_matcher_keeps_paths_that_differ_only_in_case():
    m = FuzzyMatcher(["/A", "/a", "/b"])
    assert sorted(m.search("a")[0]) == ["/A", "/a"]
    assert m.search("a")[1] == 2


def test_the_matcher_imports_no_textual():
    """The matcher is pure logic: importing it loads no Textual (so it can move below ui)."""
    import subprocess
    import sys

    code = "import sys, ctrtui.ui.fuzzy; sys.exit('textual' in sys.modules or 'rich' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_matcher_positions_highlight_what_matched():
    assert FuzzyMatcher.positions("cron", "/system.slice/cron.service") == [14, 15, 16, 17]
    assert FuzzyMatcher.positions("crn", "/acron") == [2, 3, 5]
    assert FuzzyMatcher.positions("", "/a") == []
    from ctrtui.ui.widgets.fuzzypaths import highlight

    content = highlight("cron", "/acron")
    assert isinstance(content, Content) and content.plain == "/acron"
    assert [(s.start, s.end) for s in content.spans] == [(2, 6)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab/.-c", min_size=1, max_size=12), min_size=1, max_size=30),
       st.text(alphabet="abc/.", max_size=4))
def test_matcher_finds_exactly_the_subsequence_matches(items, query):
    m = FuzzyMatcher(items)
    m.search(query[:-1])  # warm the incremental cache with the shorter query first
    paths, total = m.search(query, limit=1000)
    q = query.lower()

    def is_subseq(s: str) -> bool:
        it = iter(s.lower())
        return all(c in it for c in q)

    expected = {s for s in set(items) if is_subseq(s)}
    assert set(paths) == expected and total == len(expected)
    assert len(paths) == len(set(paths))


def _many_paths(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    words = "system user init kube pods docker cron ssh nginx postgres redis worker batch app web api db".split()
    out = {"/"}
    while len(out) < n:
        r = rng.random()
        if r < 0.3:
            out.add(f"/system.slice/{rng.choice(words)}-{rng.randint(0, 9999)}.service")
        elif r < 0.5:
            out.add(f"/kubepods/burstable/pod{rng.getrandbits(64):016x}/{rng.getrandbits(128):032x}")
        elif r < 0.7:
            out.add(f"/user.slice/user-{rng.randint(1000, 1100)}.slice/session-{rng.randint(1, 999)}.scope")
        else:
            out.add("/" + "/".join(rng.choice(words) + str(rng.randint(0, 99)) for _ in range(rng.randint(1, 5))))
    return sorted(out)


def test_matcher_perf_sanity_on_10k_paths(capsys):
    """Not a timed assertion: checks 10k paths give right answers and prints the figures."""
    paths = _many_paths(10_000)
    t0 = time.perf_counter()
    m = FuzzyMatcher(paths)
    build = (time.perf_counter() - t0) * 1000
    figures = []
    for word in ("systemslice", "kubepods", "ssc", "e", "worker9"):
        m = FuzzyMatcher(paths)
        for i in range(1, len(word) + 1):
            t0 = time.perf_counter()
            found, total = m.search(word[:i])
            figures.append((word[:i], (time.perf_counter() - t0) * 1000, total))
        rx = re.compile(".*".join(map(re.escape, word)))
        assert total == sum(1 for p in paths if rx.search(p.lower()))
        assert all(rx.search(p.lower()) for p in found)
    worst = max(figures, key=lambda f: f[1])
    with capsys.disabled():
        print(f"\nmatcher on 10k paths: build {build:.1f} ms; per keystroke max {worst[1]:.2f} ms "
              f"({worst[0]!r}), mean {sum(f[1] for f in figures) / len(figures):.2f} ms")


# -------------------------------------------------------------------------- target picker


async def test_picker_narrows_and_previews_move_and_refusal(world):
    k, engine, snap = world
    cron = _pid(k, "cron")
    picker = TargetPicker(engine, snap, "cpu", [cron, 2], debounce=0.01)
    async with _pushed(picker) as (app, pilot, results):
        everything = picker.fuzzy.total
        await _type(pilot, "ssh.serv")
        await wait_for(pilot, lambda: picker_planned(picker), "the picker's plan of its highlight")
        assert picker.fuzzy.total < everything
        assert picker.target_path == "/system.slice/ssh.service"
        assert picker.plan_path == "/system.slice/ssh.service"
        preview = picker.query_one("#picker-preview", LineList).plain
        assert f"would move    {cron} (cron)  from /system.slice/cron.service" in preview
        assert "refused       2 (kthreadd): EINVAL" in preview
        assert "kthreadd, the kernel thread that starts all others" in preview  # the reason
        assert "Leave kernel threads where they are" in preview                 # the advice
        counts = str(picker.query_one("#picker-counts").content)
        assert counts == "1 would move, 1 refused"
        await pilot.press("enter")
        await pilot.pause()
    assert len(results) == 1
    plan = results[0]
    assert isinstance(plan, Plan) and plan.target == CgroupRef("cpu", "/system.slice/ssh.service")
    assert [v.kind for v in plan.verdicts] == ["move", "refused"]


async def test_picker_refused_only_says_why_and_stays(world):
    k, engine, snap = world
    cron = _pid(k, "cron")
    picker = TargetPicker(engine, snap, "cpuset", [cron, 2], debounce=0.01)
    async with _pushed(picker) as (app, pilot, results):
        await _type(pilot, "isolated")
        await wait_for(pilot, lambda: picker_planned(picker), "the picker's plan of its highlight")
        assert picker.target_path == "/isolated"
        preview = picker.query_one("#picker-preview", LineList).plain
        assert f"refused       {cron} (cron): ENOSPC" in preview
        assert "empty cpuset.cpus and cpuset.mems" in preview
        assert "refused       2 (kthreadd): EINVAL" in preview
        await pilot.press("enter")
        await pilot.pause()
        message = str(picker.query_one("#picker-message").content)
        assert message.startswith("Nothing would move to cpuset:/isolated: 2 refused (")
        assert "ENOSPC" in message and "EINVAL" in message
        assert app.screen is picker and results == []
        await pilot.press("escape")
        await pilot.pause()
    assert results == [None]


async def test_picker_arrow_keys_change_target_and_preview(world):
    k, engine, snap = world
    cron = _pid(k, "cron")
    picker = TargetPicker(engine, snap, "cpu", [cron], debounce=0.01)
    async with _pushed(picker) as (app, pilot, results):
        await _type(pilot, "service")
        await wait_for(pilot, lambda: picker_planned(picker), "the picker's plan of its highlight")
        first = picker.target_path
        await pilot.press("down")
        await wait_for(pilot, lambda: picker_planned(picker), "the picker's plan of its highlight")
        second = picker.target_path
        assert second != first and picker.plan_path == second
        assert second in picker.query_one("#picker-target").content.plain


async def test_picker_enter_before_preview_waits_for_it(world):
    k, engine, snap = world
    cron = _pid(k, "cron")
    picker = TargetPicker(engine, snap, "cpu", [cron], debounce=30)  # the timer would never fire
    async with _pushed(picker) as (app, pilot, results):
        await _type(pilot, "ssh.serv")
        await pilot.press("enter")
        await wait_for(pilot, lambda: results, "the picker's answer")
    assert len(results) == 1 and results[0].target.path == "/system.slice/ssh.service"


async def test_picker_escape_returns_none(world):
    k, engine, snap = world
    async with _pushed(TargetPicker(engine, snap, "cpu", [2])) as (app, pilot, results):
        await pilot.press("escape")
        await pilot.pause()
    assert results == [None]


async def test_picker_shows_planning_errors_instead_of_crashing(world):
    k, _, snap = world

    class Broken:
        def plan(self, *a, **kw):
            raise RuntimeError("backend went away")

    picker = TargetPicker(Broken(), snap, "cpu", [1], debounce=0.01)
    async with _pushed(picker) as (app, pilot, results):
        await _settle(app, pilot)
        assert "RuntimeError: backend went away" in picker.query_one("#picker-preview", LineList).plain
        await pilot.press("enter")
        await _settle(app, pilot)
        assert results == [] and app.screen is picker


async def test_picker_lists_every_refused_pid(world):
    k, engine, snap = world
    kthreads = sorted(t.pid for t in k.tasks.values() if t.kthread)
    picker = TargetPicker(engine, snap, "unified", kthreads + ["abc"], debounce=0.01)
    async with _pushed(picker) as (app, pilot, results):
        await _type(pilot, "cron.service")
        await wait_for(pilot, lambda: picker_planned(picker), "the picker's plan of its highlight")
        preview = picker.query_one("#picker-preview", LineList).plain
        for pid in kthreads:
            assert re.search(rf"^\S.* {pid} \(", preview, re.M), pid
        assert "'abc'" in preview and "only decimal digits" in preview


# ------------------------------------------------------------------------------ confirm


def _plan(world, pids, target):
    k, engine, snap = world
    return engine.plan(pids, CgroupRef.parse(target))


@pytest.mark.parametrize("key,answer", [("y", True), ("enter", True), ("n", False), ("escape", False)])
async def test_confirm_keys(world, key, answer):
    plan = _plan(world, [1], "cpu:/system.slice")
    screen = ConfirmMove(plan, ["PID 1 (systemd) would move.", "Only the cpu hierarchy changes."])
    async with _pushed(screen) as (app, pilot, results):
        text = screen.query_one(LineList).plain
        assert "PID 1 (systemd) would move." in text and "Only the cpu hierarchy changes." in text
        assert "1 would move" in str(screen.query_one("#confirm-counts").content)
        await pilot.press(key)
        await pilot.pause()
    assert results == [answer]


async def test_confirm_buttons(world):
    plan = _plan(world, [1], "cpu:/system.slice")
    for button, answer in (("#confirm-no", False), ("#confirm-yes", True)):
        screen = ConfirmMove(plan, ["risky"])
        async with _pushed(screen) as (app, pilot, results):
            await pilot.click(button)
            await pilot.pause()
        assert results == [answer]


# ------------------------------------------------------------------------------ move log


async def test_move_log_newest_first_with_reasons(world):
    k, engine, snap = world
    cron, ssh = _pid(k, "cron"), _pid(k, "sshd")
    first = engine.apply(engine.plan([cron], CgroupRef("cpu", "/system.slice/ssh.service")))
    second = engine.apply(engine.plan([ssh, 2, 31999], CgroupRef("cpu", "/init.scope")))
    assert first.batch_id != second.batch_id
    screen = MoveLog([first, second])
    async with _pushed(screen) as (app, pilot, results):
        text = screen.query_one(LineList).plain
        assert text.index(f"Batch {second.batch_id}") < text.index(f"Batch {first.batch_id}")
        assert "-> cpu:/init.scope  1 moved, 1 refused, 1 vanished" in text
        assert f"moved         {cron}" in text and f"moved         {ssh}" in text
        assert "refused       2: EINVAL" in text and "vanished      31999: ESRCH" in text
        assert "PID 31999 does not exist" in text                              # reason
        assert "Refresh the task list and pick a running task." in text        # advice
        title = str(screen.query_one("#movelog-title").content)
        assert title == "Move log: 2 batches, 4 outcomes, newest first"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen
    assert results == [None]


async def test_move_log_scrolls_thousands_of_rows(world):
    k, engine, snap = world
    sleepers = [k.spawn("sleep", "sleep 1000") for _ in range(1500)]
    report = engine.apply(engine.plan(sleepers, CgroupRef("freezer", "/")))  # all already there
    screen = MoveLog([report])
    async with _pushed(screen) as (app, pilot, results):
        lines = screen.query_one(LineList)
        assert len(lines.lines) > 1500
        await pilot.press("end")
        await pilot.pause()
        assert lines.scroll_offset.y > 1000
        await pilot.press("q")
        await pilot.pause()
    assert results == [None]


async def test_move_log_empty():
    async with _pushed(MoveLog([])) as (app, pilot, results):
        assert "nothing moved yet" in str(app.screen.query_one("#movelog-title").content)


# ------------------------------------------------------------------------ go to / find


async def test_goto_returns_path_or_none(world):
    k, engine, snap = world
    paths = list(snap["cpu"].containers)
    async with _pushed(GoToCgroup(paths)) as (app, pilot, results):
        await _type(pilot, "ssh serv")
        await pilot.press("enter")
        await pilot.pause()
    assert results == ["/system.slice/ssh.service"]
    async with _pushed(GoToCgroup(paths)) as (app, pilot, results):
        await _type(pilot, "zzzz")
        await pilot.press("enter")  # nothing matches: stays open
        await pilot.pause()
        assert results == []
        await pilot.press("escape")
        await pilot.pause()
    assert results == [None]


@pytest.mark.parametrize("typed,words", [
    ("abc", "only decimal digits"),
    ("015", "leading zero"),
    ("-5", "never negative"),
    ("", "blank"),
    ("99999999", "pid_max"),
])
async def test_find_pid_rejects_bad_input_with_a_sentence(typed, words):
    screen = FindPid(pid_max=32768)
    async with _pushed(screen) as (app, pilot, results):
        await _type(pilot, typed)
        await pilot.press("enter")
        await pilot.pause()
        assert words in screen.message
        assert app.screen is screen and results == []
        await pilot.press("backspace")  # editing clears the message
        await pilot.pause()
        assert screen.message == "" or typed == ""


async def test_find_pid_returns_pid_and_checks_existence(world):
    k, engine, snap = world
    known = set(snap["cpu"].members("/", threads=True, recursive=True))
    screen = FindPid(exists=known.__contains__, pid_max=32768)
    async with _pushed(screen) as (app, pilot, results):
        await _type(pilot, "31999")
        await pilot.press("enter")
        await pilot.pause()
        assert "PID 31999 is not in the current snapshot" in screen.message
        screen.query_one(Input).value = ""
        await _type(pilot, " 490 ")
        await pilot.press("enter")
        await pilot.pause()
    assert results == [490]
    async with _pushed(FindPid()) as (app, pilot, results):
        await pilot.press("escape")
        await pilot.pause()
    assert results == [None]


async def test_switch_hierarchy(world):
    k, engine, snap = world
    names = snap.names()
    async with _pushed(SwitchHierarchy(names, current="cpu")) as (app, pilot, results):
        await pilot.press("down", "enter")
        await pilot.pause()
    assert results == [names[names.index("cpu") + 1]]


async def test_long_paths_that_differ_early_in_their_last_part_stay_distinct(world):
    """libpod-<id>.scope and libpod-conmon-<id>.scope share a 70-character tail: a picker that
    kept only the end of each path would show the same text twice."""
    from textual.widgets import OptionList

    from ctrtui.ui.widgets.fuzzypaths import FuzzyPaths

    k, engine, snap = world
    paths = list(snap["unified"].containers)
    app = _Host()
    async with app.run_test(size=(70, 30)) as pilot:  # as narrow as the target picker's list
        app.push_screen(GoToCgroup(paths))
        await pilot.pause()
        await _type(pilot, "libpod")
        await _settle(app, pilot)
        ol = app.screen.query_one(OptionList)
        prompts = [ol.get_option_at_index(i).prompt.plain.strip() for i in range(ol.option_count)]
        shown = [s for s, p in zip(prompts, app.screen.query_one(FuzzyPaths).paths, strict=False) if "/libpod" in p]
        assert len(shown) == 2 and shown[0] != shown[1], shown
        assert any("conmon" in s for s in shown) and all(s.endswith(".scope") for s in shown)
        width = ol.scrollable_content_region.width
        assert all(len(s) <= width for s in shown)


async def test_line_list_rows_follow_a_focus_change():
    """The rows' background follows the focus tint when focus leaves the list (the row cache
    used to keep the focused background: the confirm dialog's risks list, drawn while it
    had focus for a moment, stayed tinted after the Move button took it)."""
    from textual.widgets import Button

    class Two(App):
        def compose(self):
            yield LineList([Content("a risk, one sentence")], id="lines")
            yield Button("Move", id="move")

    app = Two()
    async with app.run_test(size=(40, 6)) as pilot:
        lines = app.query_one(LineList)
        lines.focus()
        await pilot.pause()
        focused_bg = next(iter(lines.render_line(0))).style.bgcolor
        app.query_one(Button).focus()
        await pilot.pause()
        blurred_bg = next(iter(lines.render_line(0))).style.bgcolor
        assert blurred_bg != focused_bg
        assert blurred_bg == lines.get_visual_style().rich_style.bgcolor
