"""Profile one benchmark scenario: `python -m benchmarks.profile SCENARIO [--quick] [--out FILE]`.

Scenarios (each the in-process part of a figure; the real ones build the same
`ctrtui-test-bench-*` world as the suite and clean it up):

    move      AttachEngine plan + apply of the world's sleeps   (move_1000_vs_*)
    ls        ctrtui.main.main(["ls", "freezer:/<bench>"])      (ls_vs_*)
    snapshot  CgroupFS().snapshot(["freezer"], subtree)        (snapshot_vs_floor)
    refresh   SimKernel churn 1% + the app's refresh path       (refresh_ms)
    keys      the key-latency session on the 10k/100k world     (key_latency_ms_*)
    paint     CtrtuiApp start to first paint                    (first_paint_s)

Prints the top functions by cumulative and by own time (cProfile, main thread only:
thread workers are not in it; use py-spy for those: `py-spy record -o out.svg --
python -m benchmarks.profile keys`). `--out FILE` also saves the raw pstats.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time


def _real(size_quick: bool):
    from benchmarks.world import FULL, QUICK, BenchWorld

    return BenchWorld(QUICK if size_quick else FULL)


def scenario_move(quick: bool, prof: cProfile.Profile) -> None:
    from ctrtui.engine import AttachEngine, Journal
    from ctrtui.model import CgroupRef
    from ctrtui.sources.cgroupfs import CgroupFS

    with _real(quick) as w, tempfile.TemporaryDirectory() as tmp:
        w.build()
        for i in range(2):
            w.move_sleeps(w.move_a)
            eng = AttachEngine(CgroupFS(), journal=Journal(os.path.join(tmp, "j.jsonl")))
            if i:
                prof.enable()
            t0 = time.perf_counter()
            report = eng.apply(eng.plan(w.sleep_pids, CgroupRef("freezer", w.move_b), threads=False))
            dt = time.perf_counter() - t0
            prof.disable()
        print(f"move of {len(w.sleeps)} PIDs: {dt * 1000:.1f} ms, {report.counts()}", file=sys.stderr)


def scenario_ls(quick: bool, prof: cProfile.Profile) -> None:
    from ctrtui.main import main

    with _real(quick) as w:
        w.build()
        for i in range(2):
            with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
                if i:
                    prof.enable()
                main(["ls", f"freezer:{w.top}"])
                prof.disable()


def scenario_snapshot(quick: bool, prof: cProfile.Profile) -> None:
    from ctrtui.sources.cgroupfs import CgroupFS

    with _real(quick) as w:
        w.build()
        for i in range(3):
            if i:
                prof.enable()
            CgroupFS().snapshot(["freezer"], subtree=w.top)
            prof.disable()


def scenario_refresh(quick: bool, prof: cProfile.Profile) -> None:
    from benchmarks import sim

    async def go() -> None:
        kernel = sim.world()
        app = sim._ctrtui_app(kernel, os.path.join(tempfile.mkdtemp(), "j.jsonl"))
        rec, seen = sim.Screen(app), sim.KeysSeen(app)
        async with app.run_test(size=sim.SIZE):
            await sim.settle(app, rec, time.perf_counter(), timeout=60)
            for i in range(6):
                kernel.churn(0.01, seed=i)
                if i:
                    prof.enable()
                ms, _ = await sim._press(app, rec, seen, "r")
                prof.disable()
                print(f"refresh {ms:.0f} ms", file=sys.stderr)

    asyncio.run(go())


def scenario_keys(quick: bool, prof: cProfile.Profile) -> None:
    from benchmarks import sim

    async def go() -> None:
        kernel = sim.world()
        prof.enable()
        out = await sim._interact(kernel, os.path.join(tempfile.mkdtemp(), "j.jsonl"),
                                  5 if quick else 20)
        prof.disable()
        for kind, v in out["samples"].items():
            print(kind, [round(s) for s, _ in v], file=sys.stderr)

    asyncio.run(go())


def scenario_paint(quick: bool, prof: cProfile.Profile) -> None:
    from benchmarks import sim

    async def go() -> None:
        kernel = sim.world()
        journal = os.path.join(tempfile.mkdtemp(), "j.jsonl")
        await sim._first_paint(lambda: sim._ctrtui_app(kernel, journal), sim._panes_ready)
        prof.enable()
        s = await sim._first_paint(lambda: sim._ctrtui_app(kernel, journal), sim._panes_ready)
        prof.disable()
        print(f"first paint {s:.3f} s", file=sys.stderr)

    asyncio.run(go())


def _read_each(pids: list[int], name: str) -> float:
    """Seconds for one bare open/read/close of /proc/PID/`name` of each PID."""
    t0 = time.perf_counter()
    for p in pids:
        fd = os.open(f"/proc/{p}/{name}", os.O_RDONLY)
        os.read(fd, 4096)
        os.close(fd)
    return time.perf_counter() - t0


def guarded_floor(pids: list[int], target_file: str) -> dict[str, float]:
    """Seconds for the bare minimum the engine's contract needs per PID, step by step
    (pidfd_open; start time from /proc/PID/stat; the write; the pidfd still alive;
    /proc/PID/cgroup re-read to verify), each step as a bare loop over all PIDs."""
    import signal

    out: dict[str, float] = {}
    t0 = time.perf_counter()
    fds = [os.pidfd_open(p) for p in pids]
    out["pidfd_open"] = time.perf_counter() - t0
    out["read_stat"] = _read_each(pids, "stat")
    t0 = time.perf_counter()
    for p in pids:
        fd = os.open(target_file, os.O_WRONLY)
        os.write(fd, str(p).encode())
        os.close(fd)
    out["write"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for fd in fds:
        signal.pidfd_send_signal(fd, 0)
    out["pidfd_alive"] = time.perf_counter() - t0
    out["read_proc_cgroup"] = _read_each(pids, "cgroup")
    for fd in fds:
        os.close(fd)
    return out


def scenario_movefloor(quick: bool, prof: cProfile.Profile) -> None:
    """Not a profile: the per-step floor of a guarded, verified move (see guarded_floor)."""
    with _real(quick) as w:
        w.build()
        target = w.procs_file("freezer", w.move_b)
        rows = []
        for _ in range(5):
            w.move_sleeps(w.move_a)
            rows.append(guarded_floor(w.sleep_pids, target))
        median = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        for k, v in median.items():
            print(f"{k:18s} {v * 1000:7.2f} ms for {len(w.sleeps)} PIDs", file=sys.stderr)
        total = sum(median.values())
        print(f"{'total':18s} {total * 1000:7.2f} ms  = {total / median['write']:.1f}x the bare write "
              "loop", file=sys.stderr)


SCENARIOS = {name[len("scenario_"):]: fn for name, fn in globals().items() if name.startswith("scenario_")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--quick", action="store_true", help="the smaller real world")
    p.add_argument("--out", help="save the pstats here")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    prof = cProfile.Profile()
    SCENARIOS[args.scenario](args.quick, prof)
    prof.create_stats()
    if not prof.stats:  # a scenario that measures rather than profiles
        return 0
    if args.out:
        prof.dump_stats(args.out)
    for order in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(order).print_stats(args.top)
        print(buf.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
