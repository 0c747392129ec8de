"""The terminal UI on remote hosts (issue 11): time to first paint with 1 and with 10 hosts,
each an sshd on its own loopback address started here (devtools/sshd.py) and always stopped.

- `tui_first_paint_1_host_s`: from creating the app (`ctrtui --host H --hierarchy freezer`,
  headless, 160x50) to the first screen update drawn with both panes filled from the host's
  snapshot (the freezer tree, the root's tasks): ssh, the
  agent bootstrapped over the channel (the host's `python3` has no ctrtui: the bundle is
  sent), its hello, the first whole snapshot of every hierarchy through the channel, the
  panes drawn. The median of the runs.
- `tui_first_paint_10_hosts_s`: the same with ten hosts given: the first host to answer is
  shown, the others are reached in the background (at most `--jobs` 8 at once); the meta has
  the ratio to one host and when the last of the ten was reached (the switcher then lists
  all ten as ok).

Nothing but 127.0.0.0/8 is contacted; nothing under `~/.ssh` is read or written (the lab's
own client config). The figures are the headless app's, as `first_paint_s` (benchmarks/sim.py).
"""

from __future__ import annotations

import asyncio
import statistics
import time

from benchmarks.remote import _lab
from benchmarks.timing import Skip

KEYS = ("tui_first_paint_1_host_s", "tui_first_paint_10_hosts_s")


def _ready(app) -> bool:
    """A host's tree and task list are drawn from its first snapshot."""
    try:
        tree, tasks = app.tree, app.tasks
    except Exception:  # noqa: BLE001 - not composed yet
        return False
    return (app.hs is not None and tree.hs is app.hs and app.query_one("#main").display
            and tree.size.height > 0 and tasks.size.height > 0 and len(tasks.shown) > 0 and not tasks.busy)


async def _paint(specs, options) -> tuple[float, float | None]:
    """(seconds to the first paint with panes ready, seconds until every host was reached
    or None when one was not within 60 s)."""
    from benchmarks.sim import SIZE, Screen
    from ctrtui.ui.app import CtrtuiApp
    from ctrtui.ui.hosts import remote_host
    from ctrtui.ui.hostviews import OK

    t0 = time.perf_counter()
    views = [remote_host(s, options) for s in specs]
    app = CtrtuiApp(None, interval=3600.0, hierarchy="freezer", hosts=views)
    rec = Screen(app, _ready)
    async with app.run_test(size=SIZE):
        deadline = time.perf_counter() + 60
        while rec.first_ready is None and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)
        if rec.first_ready is None:
            raise RuntimeError("the UI did not paint a host within 60 s")
        painted = rec.first_ready - t0
        while not all(v.state == OK for v in views) and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
        everyone = time.perf_counter() - t0 if all(v.state == OK for v in views) else None
        await app.workers.wait_for_complete()
    return painted, everyone


def tui_first_paint(ctx) -> dict[str, float]:
    from ctrtui.remote.connect import ConnectOptions

    runs = 1 if ctx.quick else ctx.runs
    with _lab() as lab:
        hosts = [lab.start_host() for _ in range(10)]
        options = ConnectOptions(timeout=20, ssh_config=lab.config)
        specs = [h.spec for h in hosts]
        asyncio.run(_paint(specs[:1], options))  # warm-up: this side's imports and bytecode
        one: list[float] = []
        ten: list[float] = []
        all_ten: list[float] = []
        for _ in range(runs):  # alternated, so a noisy moment hits both
            one.append(asyncio.run(_paint(specs[:1], options))[0])
            painted, everyone = asyncio.run(_paint(specs, options))
            ten.append(painted)
            if everyone is not None:
                all_ten.append(everyone)
        running = sum(1 for h in hosts if h.running)
    if running != len(hosts):
        raise Skip(f"only {running} of {len(hosts)} test sshd were still running at the end")
    m1, m10 = statistics.median(one), statistics.median(ten)
    ctx.meta_for("tui_first_paint_1_host_s", runs_s=[round(x, 4) for x in one], median_s=round(m1, 4),
                 note="headless app 160x50, one sshd on 127.0.0.x; the host's python3 has no ctrtui, so "
                      "the agent is sent (the bundle); the first snapshot of every hierarchy of this machine")
    ctx.meta_for("tui_first_paint_10_hosts_s", runs_s=[round(x, 4) for x in ten], median_s=round(m10, 4),
                 ratio_to_1_host=round(m10 / m1, 3) if m1 else None,
                 all_ten_reached_s=[round(x, 4) for x in all_ten],
                 note="ten sshd on ten 127.0.0.x; the first to answer is painted, the others are reached in "
                      "the background (8 at once); all_ten_reached_s: until the tenth was ok")
    return {"tui_first_paint_1_host_s": m1, "tui_first_paint_10_hosts_s": m10}
