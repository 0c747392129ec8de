"""Figures measured on the simulated world: snapshot memory, and the terminal UI.

The UI world is `generate_world(10_000, 100_000)` (two hierarchies, freezer and unified,
every task in both). The app runs headless (`App.run_test`); a wrapper around
`App._display` turns every screen update into terminal text, as a real terminal driver
would, and records when it happened: "the screen was updated" means that moment.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import tempfile
import time
import tracemalloc

from benchmarks.timing import percentile

UI_KEYS = ("first_paint_s", "first_paint_vs_textual", "key_latency_ms_p50",
           "key_latency_ms_p95", "refresh_ms", "textual_key_ms_p50", "textual_key_ms_p95",
           "textual_refresh_ms")
CGROUPS, TASKS, SEED = 10_000, 100_000, 1
SIZE = (160, 50)
QUIET = 0.05
"""Seconds without a screen update (and no worker running) after which the screen counts
as settled."""


def world(cgroups: int = CGROUPS, tasks: int = TASKS):
    from ctrtui.sources.demo import generate_world

    return generate_world(cgroups=cgroups, tasks=tasks, seed=SEED)


# ------------------------------------------------------------------ memory


def snapshot_bytes_per_task(ctx) -> float:
    """tracemalloc: memory still held by a new snapshot of the 100k-task world (all its
    hierarchies), ÷ the tasks; the peak while building it goes to meta."""
    kernel = world()
    kernel.snapshot()  # warm any lazy state of the simulator itself
    # SimKernel keeps each cgroup's Container between snapshots: drop them, so what is
    # measured is a snapshot built from nothing (else it would share every array)
    kernel.forget_snapshots()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        snap = kernel.snapshot()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    tasks = len({t for hs in snap.hierarchies for c in hs.containers.values() for t in c.threads})
    per_hier = {hs.name: {"cgroups": len(hs.containers), "threads": hs.total(True),
                          "procs": hs.total(False)} for hs in snap.hierarchies}
    ctx.meta_for("snapshot_bytes_per_task", net_bytes=after - before, peak_bytes=peak - before,
                 peak_per_task=round((peak - before) / tasks, 1), tasks=tasks, hierarchies=per_hier,
                 note="net = traced memory held by the Snapshot after building it (every hierarchy "
                      "of generate_world(10000, 100000): each task is listed in each), ÷ distinct tasks")
    return (after - before) / tasks


# ------------------------------------------------------------------ screen updates


class Screen:
    """Records when the app's screen was updated (and renders it to terminal text); with
    `ready`, also the first update drawn while `ready(app)` held."""

    def __init__(self, app, ready=None) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.times: list[float] = []
        self.first_ready: float | None = None
        original = app._display

        def display(screen, renderable) -> None:
            if renderable is not None and isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)  # what a terminal driver would write
                now = time.perf_counter()
                self.times.append(now)
                # the update was drawn from the app's state as it is now (nothing runs between)
                if self.first_ready is None and ready is not None and ready(app):
                    self.first_ready = now
            original(screen, renderable)

        app._display = display  # instance attribute shadows the method

    def last_after(self, t: float) -> float | None:
        after = [x for x in self.times if x >= t]
        return after[-1] if after else None

    def first_after(self, t: float) -> float | None:
        return next((x for x in self.times if x >= t), None)


def busy(app) -> bool:
    """True while a worker runs or the screen has repaint work pending."""
    from textual.worker import WorkerState

    if any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
        return True
    s = app.screen
    return bool(s._layout_required or s._repaint_required or s._dirty_widgets)


async def settle(app, rec: Screen, t0: float, timeout: float = 10.0) -> tuple[float | None, float | None]:
    """Wait until nothing has been drawn for QUIET seconds and nothing is pending; return
    (first, last) screen-update times since t0 (None when the screen did not change)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.002)
        now = time.perf_counter()
        last = rec.last_after(t0)
        quiet_since = last if last is not None else t0
        if now - quiet_since >= QUIET and not busy(app):
            break
    return rec.first_after(t0), rec.last_after(t0)


# ------------------------------------------------------------------ apps


def _trivial_app():
    from textual.app import App
    from textual.widgets import Static

    class Trivial(App):
        """The reference: a Textual app with one line of text."""

        def compose(self):
            yield Static("hello", id="hello")

    return Trivial()


def _trivial_keys_app():
    """The reference for key latency and refresh: a Textual app whose keys change one line
    (`down`) and redraw a screenful of text (`r`, its "refresh")."""
    from textual.app import App
    from textual.binding import Binding
    from textual.widgets import Static

    class TrivialKeys(App):
        BINDINGS = [Binding("down", "step", "Step"), Binding("r", "redraw", "Redraw")]

        def __init__(self) -> None:
            super().__init__()
            self.n = 0

        def compose(self):
            yield Static("0", id="hello")
            yield Static("", id="page")

        def action_step(self) -> None:
            self.n += 1
            self.query_one("#hello", Static).update(str(self.n))

        def action_redraw(self) -> None:
            self.n += 1
            self.query_one("#page", Static).update(
                "\n".join(f"{self.n:>8} {i:>6} " + "x" * (SIZE[0] - 20) for i in range(SIZE[1] - 2)))

    return TrivialKeys()


async def _interact_trivial(reps: int) -> dict:
    """The trivial app's key latency (`down`) and refresh (`r`), measured as ctrtui's are."""
    app = _trivial_keys_app()
    rec = Screen(app)
    seen = KeysSeen(app)
    out: dict = {"noop": [], "key": [], "refresh": []}
    async with app.run_test(size=SIZE):
        await settle(app, rec, time.perf_counter(), timeout=60)
        for _ in range(reps):
            out["noop"].append(await _press(app, rec, seen, "f19"))
        for _ in range(reps):
            out["key"].append(await _press(app, rec, seen, "down"))
        for _ in range(reps):
            out["refresh"].append(await _press(app, rec, seen, "r"))
    return out


def _trivial_ready(app) -> bool:
    try:
        return app.query_one("#hello").size.height > 0
    except Exception:  # noqa: BLE001 - not mounted yet
        return False


def _ctrtui_app(kernel, journal: str):
    from ctrtui.engine import AttachEngine, Journal
    from ctrtui.service.local import LocalService
    from ctrtui.ui.app import CtrtuiApp

    service = LocalService(kernel, engine=AttachEngine(kernel, journal=Journal(journal)), front="ui")
    return CtrtuiApp(service, interval=3600.0, read_only=False)


def _panes_ready(app) -> bool:
    """Both panes have their content: the tree its nodes, the task list its rows."""
    try:
        tree, tasks = app.tree, app.tasks
    except Exception:  # noqa: BLE001 - not composed yet
        return False
    return (app.snapshot is not None and len(tree.root.children) > 0 and tasks.size.height > 0
            and tree.size.height > 0 and len(tasks.shown) > 0 and not tasks.busy)


def _painted_text(app) -> tuple[str, str]:
    """The first lines the tree and task list draw (a check after timing, not timed)."""
    tree, tasks = app.tree, app.tasks
    return tree.render_line(0).text.strip(), tasks.render_line(1).text.strip()


async def _first_paint(make, ready, check=None) -> float:
    """Seconds from creating the app to the first screen update drawn with `ready(app)`
    true (checked as each update is written: polling `ready` between updates missed an
    update that itself made the app ready, e.g. the first layout giving the panes a size,
    and counted the next one instead)."""
    t0 = time.perf_counter()
    app = make()
    rec = Screen(app, ready)
    async with app.run_test(size=SIZE):
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            painted = rec.first_ready
            if painted is not None:
                if check:
                    check(app)
                # let the start-up work finish before the app is torn down
                await settle(app, rec, time.perf_counter(), timeout=30)
                return painted - t0
            await asyncio.sleep(0.001)
    raise RuntimeError("the app did not paint within 60 s")


def _check_ctrtui(app) -> None:
    tree_line, task_line = _painted_text(app)
    if not tree_line or not any(ch.isdigit() for ch in task_line):
        raise RuntimeError(f"panes look empty after first paint: tree {tree_line!r}, tasks {task_line!r}")


# ------------------------------------------------------------------ key latency and refresh


def _send_key(app, key: str) -> None:
    """Hand a key to the app the way a terminal driver does (no pilot waits)."""
    from textual import events

    char = key if len(key) == 1 else {"space": " "}.get(key)
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


class KeysSeen:
    """Records when the app has dispatched each key event (for the no-op key's cost)."""

    def __init__(self, app) -> None:
        from textual import events

        self.times: list[float] = []
        original = app.on_event

        async def on_event(event) -> None:
            await original(event)
            if isinstance(event, events.Key):
                self.times.append(time.perf_counter())

        app.on_event = on_event

    def first_after(self, t: float) -> float | None:
        return next((x for x in self.times if x >= t), None)


async def _press(app, rec: Screen, keys: KeysSeen, key: str) -> tuple[float, float]:
    """(settled, first) milliseconds from the key to the screen being updated; when the
    screen did not change, to the key having been dispatched."""
    t0 = time.perf_counter()
    _send_key(app, key)
    first, last = await settle(app, rec, t0)
    if last is None:
        while keys.first_after(t0) is None and time.perf_counter() - t0 < 5:
            await asyncio.sleep(0.001)
        first = last = keys.first_after(t0) or time.perf_counter()
    return (last - t0) * 1000, (first - t0) * 1000


def _pause_status_clock(app) -> list:
    """Pause the app's 1-second status refresh (the snapshot-age clock) so its ticks are
    not taken for a key's screen update. Returns the paused timers (resume them after)."""
    paused = [t for t in list(app._timers) if getattr(t, "_callback", None) == app.update_status]
    for t in paused:
        t.pause()
    return paused


async def _interact(kernel, journal: str, reps: int) -> dict:
    app = _ctrtui_app(kernel, journal)
    rec = Screen(app)
    seen = KeysSeen(app)
    out: dict = {}
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, rec, time.perf_counter(), timeout=60)
        if not _panes_ready(app):
            raise RuntimeError("the app did not show its panes")
        tasks, tree = app.tasks, app.tree
        # the cgroup columns on (issue 10): every refresh and expand also reads their figures
        tree.focus()
        await pilot.press("c")
        await settle(app, rec, time.perf_counter(), timeout=60)
        if not tree.columns:
            raise RuntimeError("c did not turn the tree's columns on")
        out["columns"] = list(tree.shown_columns())
        clock = _pause_status_clock(app)
        out["status_clock_paused"] = len(clock)
        # the whole world in the task list: root + include-descendants view
        tasks.focus()
        await pilot.press("d")
        await settle(app, rec, time.perf_counter(), timeout=60)
        rows = len(tasks.shown)
        samples: dict[str, list[tuple[float, float]]] = {}

        async def timed(kind: str, key: str) -> None:
            samples.setdefault(kind, []).append(await _press(app, rec, seen, key))

        for _ in range(reps):
            await timed("noop", "f19")
        for _ in range(reps):
            await timed("cursor_down", "down")
        for _ in range(reps):
            await timed("page_down", "pagedown")
        for _ in range(reps):
            await timed("sort_change", "s")
        await pilot.press("home")
        # filter: open the box (untimed), type, one keystroke at a time, then clear it
        await pilot.press("slash")
        await settle(app, rec, time.perf_counter())
        for i in range(reps):
            await timed("filter_key", "1" if i % 2 == 0 else "backspace")
        await pilot.press("escape")
        await settle(app, rec, time.perf_counter(), timeout=60)
        # tree: expand a collapsed group node (collapse again untimed), next node
        tree.focus()
        tree.move_cursor(tree.root)
        await settle(app, rec, time.perf_counter(), timeout=60)
        for _ in range(reps):
            await pilot.press("down")
            await settle(app, rec, time.perf_counter(), timeout=60)
            node = tree.cursor_node
            if node is None or node.is_expanded or not node.allow_expand:
                raise RuntimeError(f"tree cursor is not on a collapsed group (on {node!r})")
            await timed("tree_expand", "space")
            if not node.is_expanded:
                raise RuntimeError("space did not expand the tree node")
            await pilot.press("space")
            await settle(app, rec, time.perf_counter())
        for _ in range(reps):
            await timed("noop", "f19")
        # refresh: 1% of the tasks moved in the simulated kernel, then `r`
        refresh: list[float] = []
        tree.move_cursor(tree.root)
        await settle(app, rec, time.perf_counter(), timeout=60)
        for i in range(reps):
            moved = kernel.churn(0.01, seed=100 + i)
            before = app.snapshot
            ms, _ = await _press(app, rec, seen, "r")
            if app.snapshot is before:
                raise RuntimeError("r did not bring a new snapshot")
            refresh.append(ms)
        for t in clock:
            t.resume()
        out.update(rows=rows, samples=samples, refresh=refresh, moved_per_refresh=moved)
    return out


def _refresh_parts(kernel, runs: int) -> dict[str, float]:
    """Outside the app, for the record: how long the simulated kernel's snapshot (all
    hierarchies, as the app takes it) and the diff of the shown hierarchy take."""
    from ctrtui.model.snapshot import diff

    snap_ms, diff_ms = [], []
    old = kernel.snapshot()
    for i in range(runs):
        kernel.churn(0.01, seed=1000 + i)
        t0 = time.perf_counter()
        new = kernel.snapshot()
        t1 = time.perf_counter()
        diff(old, new)
        t2 = time.perf_counter()
        snap_ms.append((t1 - t0) * 1000)
        diff_ms.append((t2 - t1) * 1000)
        old = new
    return {"sim_snapshot_all_hierarchies": round(statistics.median(snap_ms), 1),
            "diff_all_hierarchies": round(statistics.median(diff_ms), 1)}


async def _ui(ctx) -> dict:
    runs = ctx.runs
    reps = 5 if ctx.quick else 20
    kernel = world()
    with tempfile.TemporaryDirectory(prefix="ctrtui-bench-") as tmp:
        journal = os.path.join(tmp, "journal.jsonl")
        paint: list[float] = []
        trivial: list[float] = []
        # warm-up (imports, CSS parse), untimed
        await _first_paint(_trivial_app, _trivial_ready)
        await _first_paint(lambda: _ctrtui_app(kernel, journal), _panes_ready, _check_ctrtui)
        for i in range(runs):
            order = [("c", paint), ("t", trivial)] if i % 2 == 0 else [("t", trivial), ("c", paint)]
            for which, into in order:
                if which == "c":
                    into.append(await _first_paint(lambda: _ctrtui_app(kernel, journal),
                                                   _panes_ready, _check_ctrtui))
                else:
                    into.append(await _first_paint(_trivial_app, _trivial_ready))
        inter = await _interact(kernel, journal, reps)
        trivial_inter = await _interact_trivial(reps)
    parts = _refresh_parts(kernel, runs)
    noop = statistics.median(s for s, _ in inter["samples"].pop("noop"))
    lat = {k: [max(0.0, s - noop) for s, _ in v] for k, v in inter["samples"].items()}
    first = {k: [max(0.0, f - noop) for _, f in v] for k, v in inter["samples"].items()}
    everything = [x for v in lat.values() for x in v]
    fp, tv = statistics.median(paint), statistics.median(trivial)
    ctx.meta_for("first_paint_s", ctrtui_s=[round(x, 4) for x in paint],
                 trivial_textual_s=[round(x, 4) for x in trivial], world=f"{CGROUPS} cgroups, {TASKS} tasks",
                 size=list(SIZE),
                 note="from creating CtrtuiApp to the first screen update after both panes have "
                      "content (tree nodes, task rows, no worker pending), headless run_test with every "
                      "CompositorUpdate rendered to terminal text; the trivial app: one Static")
    ctx.meta_for("key_latency_ms_p50", noop_ms=round(noop, 2), rows_in_task_list=inter["rows"],
                 per_key_median_ms={k: round(statistics.median(v), 2) for k, v in lat.items()},
                 per_key_max_ms={k: round(max(v), 2) for k, v in lat.items()},
                 per_key_first_update_median_ms={k: round(statistics.median(v), 2) for k, v in first.items()},
                 reps_per_key=reps,
                 status_clock_timers_paused=inter["status_clock_paused"],
                 note="the key handed to the app as a terminal driver does (driver.send_message, no "
                      "pilot sleeps), until the screen settled (no update for "
                      f"{QUIET * 1000:.0f} ms, no worker running): time of the last update; minus "
                      "the median cost of a no-op key (f19: time until the app dispatched it). "
                      "Task-list keys on root with descendants (every task); tree: expanding a "
                      "collapsed group. The 1 s status clock is paused meanwhile.")
    ctx.meta_for("refresh_ms", samples_ms=[round(x, 2) for x in inter["refresh"]],
                 tasks_moved=inter["moved_per_refresh"], parts_median_ms=parts,
                 note="SimKernel.churn(0.01) then `r`: snapshot in the worker, diff, panes patched, "
                      "until the screen settled")
    t_noop = statistics.median(s for s, _ in trivial_inter["noop"])
    t_key = [max(0.0, s - t_noop) for s, _ in trivial_inter["key"]]
    t_refresh = [max(0.0, s - t_noop) for s, _ in trivial_inter["refresh"]]
    ctx.meta_for("textual_key_ms_p50", noop_ms=round(t_noop, 2), samples_ms=[round(x, 2) for x in t_key],
                 note="a trivial Textual app (two Statics) in the same run and the same way: `down` "
                      "changes one line; minus its own no-op key")
    ctx.meta_for("textual_refresh_ms", samples_ms=[round(x, 2) for x in t_refresh],
                 note="the trivial app's `r` redraws a screenful of text: the floor of a refresh here")
    ctx.meta_for("refresh_ms", columns=inter["columns"])
    return {
        "textual_key_ms_p50": percentile(t_key, 50),
        "textual_key_ms_p95": percentile(t_key, 95),
        "textual_refresh_ms": statistics.median(t_refresh),
        "first_paint_s": fp,
        "first_paint_vs_textual": fp / tv,
        "key_latency_ms_p50": percentile(everything, 50),
        "key_latency_ms_p95": percentile(everything, 95),
        "refresh_ms": statistics.median(inter["refresh"]),
    }


def run_ui(ctx) -> None:
    ctx.measure(UI_KEYS, lambda c: asyncio.run(_ui(c)))
