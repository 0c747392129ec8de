"""`ctrtui replay` (ctrtui/ui/replay.py): the terminal UI on a recording made on the simulated
kernel (tasks moved by ctrtui's engine and by someone else, a task that exits), read-only,
with the time bar's keys: step back and forward, jump to a time and to a batch, play; the
live diff highlight after a step; moves, cgroup ops and undo refused with one sentence; an
SVG snapshot of the replay screen at both sizes."""

from __future__ import annotations

import time

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.history import Recorder, Recording
from ctrtui.history.replay import RecordedBackend
from ctrtui.history.run import JournalFeed
from ctrtui.model import CgroupRef
from ctrtui.ui.replay import RECORDING, ReplayApp
from ctrtui.ui.screens.jumptime import JumpTime
from ctrtui.ui.widgets.timebar import TimeBar
from devtools.pilot import goto, screen_text, settle
from devtools.waiting import wait_for
from tests.ui.test_snapshots import SIZES, compare, pinned  # noqa: F401 - `pinned` is a fixture
from tests.unit.test_history import T0, small_world, take

pytestmark = pytest.mark.ui

SAMPLES = 10
"""Samples at T0, T0 + 5, ... (a full snapshot every 4)."""
BATCH_SAMPLE = 3
"""ctrtui's engine moves `mover` from /a to /b between samples 2 and 3 (at T0 + 13)."""
OTHER_SAMPLE = 6
"""Someone else moves `other` from /a to /c between samples 5 and 6."""
EXIT_SAMPLE = 8
"""`leaver` exits between samples 7 and 8."""


def _record(tmp_path) -> tuple[str, dict[str, int], str]:
    """The recording's directory, the PIDs by name, and the id of ctrtui's batch."""
    k = small_world()
    pids = {name: k.spawn(name, cgroups={"freezer": "/a", "unified": "/a"})
            for name in ("mover", "other", "leaver", "stays")}
    journal = Journal(str(tmp_path / "journal.jsonl"))
    engine = AttachEngine(k, policy=Policy(), journal=journal, load_entry_points=False)
    feed = JournalFeed(journal.path)
    d = str(tmp_path / "history")
    batch = ""
    with Recorder(d, full_every=4, fsync=False) as rec:
        for n in range(SAMPLES):
            found = []
            if n == BATCH_SAMPLE:
                batch = engine.apply(engine.plan([pids["mover"]], CgroupRef("unified", "/b"))).batch_id
                found = feed.batches()
                for row in found:
                    row["time"] = T0 + 5 * n - 2
            if n == OTHER_SAMPLE:
                k.place(pids["other"], "unified", "/c")
            if n == EXIT_SAMPLE:
                k.exit(pids["leaver"], reap=True)
            take(rec, k, T0 + 5 * n, found)
    return d, pids, batch


def _app(tmp_path, at: float | None = None) -> tuple[ReplayApp, dict[str, int], str]:
    d, pids, batch = _record(tmp_path)
    app = ReplayApp(RecordedBackend(Recording(d), at), hierarchy="unified")
    app.animation_level = "none"
    return app, pids, batch


def _members(app: ReplayApp) -> set[int]:
    return set(app.tasks.base)


def _at(app: ReplayApp, n: int):
    """The app shows sample `n`: its time on the time bar, the panes read from it."""
    return lambda: (app.replay.index == n and app.query_one(TimeBar).state is not None
                    and app.query_one(TimeBar).state.index == n and not app.live.refreshing
                    and app.hs is not None and app.snapshot.taken_at == T0 + 5 * n)


async def test_stepping_back_and_forward_changes_the_task_list_with_the_diff_highlight(pilot_app, tmp_path):
    app, pids, _ = _app(tmp_path, at=T0 + 5 * BATCH_SAMPLE)
    async with pilot_app(app=app) as (app, pilot):
        await goto(pilot, "/b")
        assert pids["mover"] in _members(app)
        app.tree.focus()
        await pilot.press("comma")  # back to the sample before ctrtui's batch
        await wait_for(pilot, _at(app, BATCH_SAMPLE - 1), "the sample before the batch")
        await wait_for(pilot, lambda: pids["mover"] not in _members(app), "mover gone from /b")
        assert pids["mover"] in app.tasks.gone  # the live view's highlight of a task that left
        assert "ctrtui's batch" in app.notices[-1]
        await pilot.press("full_stop")
        await wait_for(pilot, _at(app, BATCH_SAMPLE), "the sample of the batch again")
        await wait_for(pilot, lambda: pids["mover"] in _members(app), "mover back in /b")
        assert pids["mover"] in app.tasks.new  # highlighted as come
        for _ in range(SAMPLES):  # past the last sample: it stays there and says so
            await pilot.press("full_stop")
        await wait_for(pilot, _at(app, SAMPLES - 1), "the last sample")
        await goto(pilot, "/a")
        assert pids["leaver"] not in _members(app) and pids["stays"] in _members(app)


async def test_jump_to_a_time_and_a_refused_one(pilot_app, tmp_path):
    app, pids, _ = _app(tmp_path)
    async with pilot_app(app=app) as (app, pilot):
        await wait_for(pilot, _at(app, SAMPLES - 1), "the last sample (the default)")
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpTime), "the jump dialog")
        await pilot.press(*"someday", "enter")
        await wait_for(pilot, lambda: "give an ISO 8601 time" in app.screen.message, "the dialog's sentence")
        app.screen.query_one("#jumptime-input").value = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(T0 + 12))
        await pilot.press("enter")
        await wait_for(pilot, _at(app, 2), "the last sample at or before T0 + 12")
        await goto(pilot, "/c")
        assert pids["other"] not in _members(app)
        await pilot.press("T")  # a time relative to the sample shown, not to the wall clock
        await wait_for(pilot, lambda: isinstance(app.screen, JumpTime), "the jump dialog again")
        await pilot.press(*"-5s", "enter")
        await wait_for(pilot, _at(app, 1), "the sample 5 s before the one shown")
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpTime), "the jump dialog a third time")
        await pilot.press(*time.strftime("%H:%M:%S", time.localtime(T0 + 5 * OTHER_SAMPLE)), "enter")
        await wait_for(pilot, _at(app, OTHER_SAMPLE), "the sample at HH:MM:SS of the shown sample's day")
        assert pids["other"] in _members(app)
        app.replay.jump(T0 - 60)  # before the recording: said, nothing moves
        await settle(pilot)
        assert app.replay.index == OTHER_SAMPLE and "recording starts at" in app.notices[-1]


async def test_jump_to_the_next_and_previous_batch(pilot_app, tmp_path):
    app, pids, batch = _app(tmp_path, at=T0)
    async with pilot_app(app=app) as (app, pilot):
        assert app.query_one(TimeBar).state.batches == (T0 + 5 * BATCH_SAMPLE - 2,)
        await pilot.press("greater_than_sign")
        await wait_for(pilot, _at(app, BATCH_SAMPLE), "the sample after the batch")
        assert batch in app.notices[-1]
        await pilot.press("greater_than_sign")  # no batch after it: said, nothing moves
        await settle(pilot)
        assert app.replay.index == BATCH_SAMPLE and "No batch" in app.notices[-1]
        app.replay.jump(T0 + 5 * (SAMPLES - 1))
        await wait_for(pilot, _at(app, SAMPLES - 1), "the last sample")
        await pilot.press("less_than_sign")
        await wait_for(pilot, _at(app, BATCH_SAMPLE), "the sample after the batch, going back")


async def test_play_advances_and_pauses(pilot_app, tmp_path):
    app, _, _ = _app(tmp_path, at=T0)
    async with pilot_app(app=app) as (app, pilot):
        for _ in range(5):
            await pilot.press("plus")  # 32x: a sample every 5/32 s
        assert app.replay.speed == 32
        await pilot.press("p")
        assert app.replay.playing and "playing 32×" in str(app.query_one(TimeBar).render())
        await wait_for(pilot, lambda: app.replay.index >= 2, "two samples played")
        await pilot.press("p")
        assert not app.replay.playing
        stopped = app.replay.index
        await settle(pilot)
        assert app.replay.index == stopped and app.query_one(TimeBar).state.speed is None


async def test_moves_cgroup_ops_and_undo_are_refused_with_one_sentence(pilot_app, tmp_path):
    app, pids, _ = _app(tmp_path)
    async with pilot_app(app=app) as (app, pilot):
        await goto(pilot, "/a")
        app.tasks.focus()
        assert app.tasks.select_pid(pids["stays"])
        for key in ("m", "u", "n", "z"):
            before = len(app.notices)
            await pilot.press(key)
            await wait_for(pilot, lambda n=before: len(app.notices) > n, f"the refusal of {key}")
            # the notification's title, then its one sentence
            assert app.notices[-1].startswith(f"Read-only: {RECORDING}, so "), app.notices[-1]
        assert not isinstance(app.screen, JumpTime) and app.screen is app.main
        status = screen_text(app).splitlines()[1]  # under the time bar
        assert f"READ-ONLY ({RECORDING})" in status
        assert "ago" not in status and "live" not in status and "paused" not in status  # the time bar's to say
        assert pids["stays"] in _members(app)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_replay_snapshot(pilot_app, size, pinned, tmp_path, monkeypatch):  # noqa: F811 - the fixture
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        app, pids, _ = _app(tmp_path, at=T0 + 5 * OTHER_SAMPLE)
        async with pilot_app(app=app, size=size) as (app, pilot):
            await goto(pilot, "/c")
            app.tasks.focus()
            await settle(pilot)
            app.clear_notifications()
            await settle(pilot)
            svg = app.export_screenshot()
    finally:
        monkeypatch.undo()
        time.tzset()
    compare(f"replay-{size[0]}x{size[1]}", svg)


async def test_the_keys_screen_lists_the_replay_keys(pilot_app, tmp_path):
    from ctrtui.ui.screens.keys import KeysHelp

    app, _, _ = _app(tmp_path)
    async with pilot_app(app=app) as (app, pilot):
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, KeysHelp), "the keys screen")
        text = "\n".join(str(line) for line in app.screen.lines)
        for words in ("Replay (time bar)", "Show the sample before", "Play or pause the replay",
                      "Show the sample at a time"):
            assert words in text, words
        assert "Move the cut tasks" not in text  # `p` plays here: put is not listed


async def test_the_command_palette_steps_the_replay(pilot_app, tmp_path):
    from devtools.waiting import palette_listed

    app, _, _ = _app(tmp_path, at=T0)
    async with pilot_app(app=app) as (app, pilot):
        await pilot.press("ctrl+p")
        await pilot.press(*"Replay: next sample")
        await wait_for(pilot, lambda: palette_listed(app), "the palette's hits")
        await pilot.press("enter")
        await wait_for(pilot, _at(app, 1), "the next sample, from the palette")


def test_the_time_bar_fits_its_width_and_marks_the_batches():
    from ctrtui.ui.widgets.timebar import TimeBarState, timebar_text

    state = TimeBarState(at=T0 + 50, start=T0, end=T0 + 100, index=5, count=11, batches=(T0, T0 + 100), speed=4)
    for width, marks in ((140, True), (80, False), (70, False)):
        text = timebar_text(state, width)
        assert text.cell_len <= width, (width, text.plain)
        bar = next(word for word in text.plain.split() if "━" in word)  # ▶ DAY TIME  n/N  START BAR END ...
        assert len(bar) >= 8 and bar[0] == "┃" and bar[-1] == "┃", bar  # a batch at each end
        assert bar.count("●") == 1 and abs(bar.index("●") - (len(bar) - 1) / 2) <= 0.5, bar  # halfway
        assert text.plain.endswith("  playing 4×") and ("2 batches" in text.plain) == marks, text.plain
    narrow = timebar_text(state, 60).plain
    assert "━" not in narrow and narrow.startswith("▶ ") and "6/11" in narrow  # no room for a bar: the time stays
    still = timebar_text(TimeBarState(at=T0, start=T0, end=T0, index=0, count=1), 80).plain
    assert still.startswith("■ ") and "playing" not in still and "●" in still  # one sample: the bar's first cell


async def test_the_filter_the_threads_view_and_another_hierarchy_work_on_a_sample(pilot_app, tmp_path):
    app, pids, _ = _app(tmp_path, at=T0 + 5 * (BATCH_SAMPLE - 1))
    async with pilot_app(app=app) as (app, pilot):
        await goto(pilot, "/a")
        app.tasks.focus()
        await pilot.press("slash", *"mover", "enter")
        await wait_for(pilot, lambda: list(app.tasks.shown) == [pids["mover"]], "the filter keeping mover alone")
        await pilot.press("t")  # threads view: one thread each
        await wait_for(pilot, lambda: app.threads and list(app.tasks.shown) == [pids["mover"]], "the threads view")
        app.switch_hierarchy("freezer")
        await wait_for(pilot, lambda: app.hier == "freezer" and app.hs is not None and not app.live.refreshing,
                       "the freezer hierarchy")
        assert app.snapshot.taken_at == T0 + 5 * (BATCH_SAMPLE - 1)
        await goto(pilot, "/a")
        assert set(pids.values()) <= _members(app)  # nobody left /a in freezer


async def test_the_tree_columns_show_the_recorded_figures_at_the_sample_shown(pilot_app, tmp_path):
    """With the columns on (`c`), the tree shows the figures the recorder kept (`S` records)
    at the sample shown, and they change with a step (not rates of the UI's own reads)."""
    from tests.unit.test_history_stats import record

    d = str(tmp_path / "h")
    record(d, 5, stats_every=2)  # S at samples 0, 2, 4; /a's memory 4 KiB more at each sample
    app = ReplayApp(RecordedBackend(Recording(d), T0 + 5), hierarchy="unified")
    app.animation_level = "none"
    async with pilot_app(app=app) as (app, pilot):
        await recorded_columns_follow_a_step(app, pilot)


async def recorded_columns_follow_a_step(app: ReplayApp, pilot) -> None:
    """At sample 1 of `tests.unit.test_history_stats.record(d, 5, stats_every=2)`: the columns
    turned on (`c`) show /a's recorded figures (none of /c), and two steps on, sample 3's."""
    await pilot.press("c")
    tree = app.tree
    await wait_for(pilot, lambda: "/a" in tree.figures, "the recorded figures of /a")
    assert tree.figures["/a"].memory == 4096 and tree.figures["/a"].cpu == pytest.approx(40.0)  # S 0..2
    assert "/c" not in tree.figures  # nothing recorded of /c: "-"
    await wait_for(pilot, lambda: "4.0K" in screen_text(app), "4.0K drawn on /a's line")
    app.tree.focus()
    await pilot.press("full_stop", "full_stop")  # sample 3: the S record of sample 2
    await wait_for(pilot, _at(app, 3), "sample 3")
    await wait_for(pilot, lambda: tree.figures["/a"].memory == 4096 * 3, "the figures of sample 3")
    assert tree.figures["/a"].cpu == pytest.approx(120.0)  # S 2..4: (16 - 4) s of CPU in 10 s
    await wait_for(pilot, lambda: "12.0K" in screen_text(app), "12.0K drawn on /a's line")
