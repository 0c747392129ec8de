"""Figures measured on the real kernel: snapshot, `ctrtui ls`, start-up, moves.

Each function takes the run context (`benchmarks.run.Context`) and returns the figure, or
raises `Skip(reason)`. Ratios alternate the two commands in one run and divide medians.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable

from benchmarks.timing import Skip, alternate, process_timer
from benchmarks.world import BenchWorld

#: Environment for the whole-process runs: without PYTHONDONTWRITEBYTECODE (set in some
#: sandboxes), so ctrtui's modules are byte-compiled once (in the warm-up run) as on any
#: installed system, instead of being compiled from source on every start; and without
#: PYTHONUNBUFFERED (set in the same sandboxes), which makes every `print` two write(2)s
#: (the line, then its newline): 2,000 system calls for the 1,000 lines of a move's report
#: where an installed system makes a few (measurement fix, 2026-12-07).
SANDBOX_ONLY = ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")
ENV = {k: v for k, v in os.environ.items() if k not in SANDBOX_ONLY}


def ctrtui_command() -> list[str]:
    """The venv's `ctrtui` script (next to the running python), else `python -m ctrtui`."""
    script = os.path.join(os.path.dirname(sys.executable), "ctrtui")
    if os.access(script, os.X_OK):
        return [script]
    return [sys.executable, "-m", "ctrtui"]


def _tool(name: str, package: str = "cgroup-tools") -> str:
    path = shutil.which(name)
    if path is None:
        raise Skip(f"{name} is not installed (Debian: apt-get install {package})")
    return path


# ------------------------------------------------------------------ start-up


def cli_start_vs_python(ctx) -> float:
    """`ctrtui hierarchies` ÷ `python -c pass`, both whole processes, the venv's python."""
    pair = alternate(process_timer(ctrtui_command() + ["hierarchies"], "ctrtui hierarchies", ENV),
                     process_timer([sys.executable, "-c", "pass"], "python -c pass", ENV), ctx.runs)
    ctx.meta_for("cli_start_vs_python", pair.meta("ctrtui_hierarchies", "python_pass"),
                 note="measured before the bench world exists, on the machine's own hierarchies; "
                      "PYTHONDONTWRITEBYTECODE and PYTHONUNBUFFERED removed from the environment (benchmarks.real.ENV)")
    return pair.ratio


# ------------------------------------------------------------------ stats


def stats_root_ms(ctx) -> float:
    """One `cgroup_stats` of the freezer root (v1: its figures are all the machine's /proc
    files: meminfo, loadavg, stat, pressure/*), median of many, in ms. Read only, no world."""
    from ctrtui.sources.cgroupfs import CgroupFS

    fs = CgroupFS()
    names = [h.name for h in fs.hierarchies()]
    if "freezer" not in names:
        raise Skip("no v1 freezer hierarchy on this machine")
    n = 200 if ctx.quick else 1000

    def timed(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return sorted(times)[n // 2] * 1000

    root = timed(lambda: fs.cgroup_stats("freezer", "/"))
    proc = timed(lambda: fs._machine_stats({}))
    ctx.meta_for("stats_root_ms", reads=n, machine_files_ms=round(proc, 4),
                 files=sorted(fs.cgroup_stats("freezer", "/")),
                 note="the /proc part is what the root row's machine figures cost per refresh")
    return root


# ------------------------------------------------------------------ snapshot


def floor_walk(top_dir: str) -> int:
    """The floor: `os.scandir` of every directory plus one open/read/close of each of the
    two membership files a v1 snapshot reads (`tasks` and `cgroup.procs`); no parsing.
    Returns the number of cgroups visited."""
    n = 0
    stack = [top_dir]
    read, open_, close, O_RDONLY = os.read, os.open, os.close, os.O_RDONLY
    while stack:
        d = stack.pop()
        n += 1
        for name in ("/tasks", "/cgroup.procs"):
            fd = open_(d + name, O_RDONLY)
            read(fd, 65536)
            close(fd)
        with os.scandir(d) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
    return n


def snapshot_vs_floor(ctx, world: BenchWorld) -> float:
    from ctrtui.sources.cgroupfs import CgroupFS

    top_dir = world.fs("freezer", world.top)
    seen: dict[str, int] = {}

    def ours() -> float:
        t0 = time.perf_counter()
        snap = CgroupFS().snapshot(["freezer"], subtree=world.top)
        dt = time.perf_counter() - t0
        hs = snap["freezer"]
        seen["cgroups"], seen["threads"] = len(hs.containers), hs.total(threads=True)
        return dt

    def floor() -> float:
        t0 = time.perf_counter()
        seen["floor_cgroups"] = floor_walk(top_dir)
        return time.perf_counter() - t0

    pair = alternate(ours, floor, ctx.runs)
    expect_threads = len(world.tids) + len(world.sleeps)
    if seen["cgroups"] != world.cgroup_count() or seen["threads"] != expect_threads:
        raise RuntimeError(f"the snapshot saw {seen['cgroups']} cgroups and {seen['threads']} threads; "
                           f"the world has {world.cgroup_count()} and {expect_threads}")
    ctx.meta_for("snapshot_vs_floor", pair.meta("snapshot", "floor"), cgroups=seen["cgroups"],
                 threads=seen["threads"],
                 note="in-process CgroupFS().snapshot(['freezer'], subtree=TOP) (a new CgroupFS each "
                      "run) vs the floor: os.scandir walk + one os.open/os.read/os.close of both "
                      "tasks and cgroup.procs per cgroup (the snapshot reads both), no parsing")
    return pair.ratio


# ------------------------------------------------------------------ ls


def _ls_pair(ctx, world: BenchWorld, key: str, other: list[str], other_name: str) -> float:
    target = f"freezer:{world.top}"
    pair = alternate(process_timer(ctrtui_command() + ["ls", target], "ctrtui ls", ENV),
                     process_timer(other + [target], other_name), ctx.runs)
    ctx.meta_for(key, pair.meta("ctrtui_ls", other_name.replace("-", "_")),
                 command=" ".join(other + [target]), note="whole processes, stdout to /dev/null")
    return pair.ratio


def ls_vs_systemd_cgls(ctx, world: BenchWorld) -> float:
    tool = _tool("systemd-cgls", "systemd")
    return _ls_pair(ctx, world, "ls_vs_systemd_cgls", [tool, "-a", "--no-pager"], "systemd-cgls")


def ls_vs_lscgroup(ctx, world: BenchWorld) -> float:
    return _ls_pair(ctx, world, "ls_vs_lscgroup", [_tool("lscgroup")], "lscgroup")


# ------------------------------------------------------------------ moves

#: Pause after the untimed set-up that moves the sleeps back, before a timed move. The
#: set-up's writes leave the kernel's cgroup write lock (`cgroup_threadgroup_rwsem`, a percpu
#: rwsem behind an rcu_sync) ready for writers for ~20-50 ms; a write in that window skips the
#: RCU grace period (~13 ms on this machine) that the first write of a batch otherwise waits
#: for. The raw loop and cgclassify write within the window, ctrtui (which checks every PID
#: first) after it, so without the pause only ctrtui paid the grace period (measurement fix,
#: 2026-11-29: the raw loop was 9 ms right after the set-up and 24 ms after any idle gap).
SETTLE_S = 0.1


def _reset(world: BenchWorld) -> None:
    """Every sleep back in move-a, then the kernel left idle like before any batch."""
    world.move_sleeps(world.move_a)
    time.sleep(SETTLE_S)


def _check_all_in(world: BenchWorld, path: str, who: str) -> None:
    wrong = [p for p in world.sleep_pids if world.where(p) != path]
    if wrong:
        raise RuntimeError(f"{who}: {len(wrong)} of {len(world.sleeps)} PIDs are not in "
                           f"freezer:{path} (e.g. PID {wrong[0]} is in {world.where(wrong[0])})")


def _move_run(world: BenchWorld, timed: Callable[[], float], who: str) -> Callable[[], float]:
    """One run for `alternate`: the untimed `_reset`, then `timed()` (its own seconds), then
    a check that every sleep is in move-b."""
    def run() -> float:
        _reset(world)
        dt = timed()
        _check_all_in(world, world.move_b, who)
        return dt
    return run


def move_1000_vs_raw(ctx, world: BenchWorld) -> float:
    from ctrtui.engine import AttachEngine, Journal
    from ctrtui.model import CgroupRef
    from ctrtui.sources.cgroupfs import CgroupFS

    pids = world.sleep_pids
    target_file = world.procs_file("freezer", world.move_b)
    with tempfile.TemporaryDirectory(prefix="ctrtui-bench-") as tmp:
        journal_path = os.path.join(tmp, "journal.jsonl")

        def engine() -> float:
            eng = AttachEngine(CgroupFS(), journal=Journal(journal_path))
            if not eng.hooks:  # the entry-point hooks are discovered on first use: outside the clock, as before
                raise RuntimeError("the engine has no hooks")
            t0 = time.perf_counter()
            plan = eng.plan(pids, CgroupRef("freezer", world.move_b), threads=False)
            report = eng.apply(plan)
            dt = time.perf_counter() - t0
            if not report.ok:
                raise RuntimeError(f"engine batch did not move every PID: {report.counts()}")
            return dt

        def raw() -> float:
            t0 = time.perf_counter()
            for pid in pids:
                fd = os.open(target_file, os.O_WRONLY)
                os.write(fd, str(pid).encode())
                os.close(fd)
            return time.perf_counter() - t0

        pair = alternate(_move_run(world, engine, "engine"), _move_run(world, raw, "raw loop"),
                         ctx.runs)
    ctx.meta_for("move_1000_vs_raw", pair.meta("engine", "raw"), pids=len(pids),
                 note="AttachEngine(CgroupFS(), journal=Journal(tmp)).plan(pids, freezer:move-b, "
                      "threads=False) + .apply(plan) (the engine is built, and its hooks discovered, before the "
                      "clock starts: hook discovery is a once-per-process cost, counted in "
                      "move_1000_vs_cgclassify), vs a Python loop of os.open/os.write/os.close on "
                      "cgroup.procs; all PIDs moved back to move-a (untimed) before every run, then "
                      "0.1 s idle so neither side inherits the set-up's warm cgroup write lock (see SETTLE_S)")
    return pair.ratio


def move_1000_vs_cgclassify(ctx, world: BenchWorld) -> float:
    tool = _tool("cgclassify")
    pids = [str(p) for p in world.sleep_pids]
    target = f"freezer:{world.move_b}"
    with tempfile.TemporaryDirectory(prefix="ctrtui-bench-") as tmp:
        ours_cmd = ctrtui_command() + ["move", *pids, "--to", target,
                                       "--journal", os.path.join(tmp, "journal.jsonl")]
        pair = alternate(
            _move_run(world, process_timer(ours_cmd, "ctrtui move", ENV), "ctrtui move"),
            _move_run(world, process_timer([tool, "-g", target, *pids], "cgclassify"), "cgclassify"),
            ctx.runs)
    ctx.meta_for("move_1000_vs_cgclassify", pair.meta("ctrtui_move", "cgclassify"), pids=len(pids),
                 note="whole processes on the same single-threaded sleep PIDs. cgclassify writes "
                      "every TID of each process to v1 `tasks` (one open per TID, seen with strace); "
                      "ctrtui move (process mode) writes each PID to cgroup.procs: for "
                      "single-threaded processes both move exactly the same tasks; 0.1 s idle "
                      "after the untimed set-up before each run (see SETTLE_S); ctrtui runs with "
                      "benchmarks.real.ENV (no PYTHONUNBUFFERED, no PYTHONDONTWRITEBYTECODE)")
    return pair.ratio
