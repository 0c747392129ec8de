"""Run the benchmark suite: `python -m benchmarks [--quick] [--json FILE]`.

Measures the figures of issue 4 (see benchmarks/RESULTS.md), prints a table of
key / value / target / met, and with `--json FILE` writes:

    {"snapshot_vs_floor": 1.1, ..., "refresh_ms": 42.0,     # every key; null when skipped
     "skipped": {"ls_vs_lscgroup": "lscgroup is not installed ..."},
     "meta": {"date": ..., "machine": ..., "command": ..., "figures": {key: details}}}

Real-kernel figures build their own world under `ctrtui-test-bench-<hex>` cgroups (freezer
and unified, own processes only, always cleaned up: see benchmarks/world.py); without root
they are skipped with the reason. UI figures use a simulated world.
"""

from __future__ import annotations

if __package__ in (None, ""):  # `python benchmarks/run.py`
    import os as _os
    import sys as _sys

    _sys.path.insert(0, _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))
    __package__ = "benchmarks"

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
import traceback
from collections.abc import Callable

from benchmarks import KEYS, met, target_text
from benchmarks.timing import Skip


class Context:
    """One run: its settings, the figures so far, skip reasons, per-figure details and the
    real world's description."""

    def __init__(self, quick: bool, runs: int | None, only: set[str] | None) -> None:
        self.quick = quick
        self.runs = runs or (3 if quick else 5)
        self.only = only
        self.results: dict[str, float | None] = {k: None for k in KEYS}
        self.skipped: dict[str, str] = {}
        self.figures: dict[str, dict] = {}
        self.world: dict = {}  # what run_real built (empty when it did not)

    def wanted(self, *keys: str) -> bool:
        return self.only is None or bool(self.only & set(keys))

    def meta_for(self, key: str, data: dict | None = None, **more) -> None:
        d = self.figures.setdefault(key, {})
        d.update(data or {})
        d.update(more)

    def skip(self, keys, reason: str) -> None:
        for k in keys:
            if self.results.get(k) is None:
                self.skipped[k] = reason

    def measure(self, keys: tuple[str, ...], fn: Callable[..., object], *args) -> None:
        """Run `fn(ctx, *args)`: it returns the figure (one key) or a {key: value} dict.
        Skip and any error become skip reasons of its keys; Ctrl-C propagates."""
        if not self.wanted(*keys):
            return
        t0 = time.perf_counter()
        try:
            value = fn(self, *args)
        except Skip as e:
            self.skip(keys, str(e))
        except ModuleNotFoundError as e:
            self.skip(keys, f"not built yet: {e}")
        except Exception as e:  # noqa: BLE001 - one figure's failure must not lose the others
            traceback.print_exc()
            self.skip(keys, f"error: {type(e).__name__}: {e}")
        else:
            values = value if isinstance(value, dict) else {keys[0]: value}
            for k, v in values.items():
                self.results[k] = None if v is None else round(float(v), 4)
                self.skipped.pop(k, None)
        finally:
            took = time.perf_counter() - t0
            for k in keys:
                v = self.results.get(k)
                shown = self.skipped.get(k, "?") if v is None else v
                print(f"  {k}: {shown}  ({took:.1f}s)", file=sys.stderr, flush=True)


def machine() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import textual

        info["textual"] = textual.__version__
    except (ImportError, AttributeError):
        pass
    return info


def table(ctx: Context) -> str:
    rows = [("key", "value", "target", "met?")]
    for k in KEYS:
        v = ctx.results[k]
        if v is None:
            rows.append((k, "skipped", target_text(k), "-"))
        else:
            rows.append((k, f"{v:g}", target_text(k), "yes" if met(k, v) else "NO"))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * x for x in w))
    for k, why in ctx.skipped.items():
        lines.append(f"skipped {k}: {why}")
    return "\n".join(lines)


def run_real(ctx: Context) -> None:
    from benchmarks import real, remote
    from benchmarks.world import FULL, QUICK, BenchWorld, WorldUnavailable

    real_keys = ("snapshot_vs_floor", "ls_vs_systemd_cgls", "ls_vs_lscgroup",
                 "move_1000_vs_raw", "move_1000_vs_cgclassify", *remote.LS_KEYS)
    if not ctx.wanted(*real_keys):
        return
    size = QUICK if ctx.quick else FULL
    try:
        world = BenchWorld(size)
    except WorldUnavailable as e:
        ctx.skip(real_keys, str(e))
        return
    with world:
        t0 = time.perf_counter()
        world.build()
        print(f"  built {world.name}: {world.cgroup_count()} freezer cgroups, {len(world.tids)} "
              f"threads, {len(world.sleeps)} processes ({time.perf_counter() - t0:.1f}s)",
              file=sys.stderr, flush=True)
        ctx.world = {"name": world.name, "freezer_cgroups": world.cgroup_count(),
                     "unified_cgroups": 1 + size.v2_groups * (1 + size.v2_per_group),
                     "helper_threads": len(world.tids), "sleep_processes": len(world.sleeps),
                     "move_pids": len(world.sleeps)}
        ctx.measure(("snapshot_vs_floor",), real.snapshot_vs_floor, world)
        ctx.measure(("ls_vs_systemd_cgls",), real.ls_vs_systemd_cgls, world)
        ctx.measure(("ls_vs_lscgroup",), real.ls_vs_lscgroup, world)
        ctx.measure(("move_1000_vs_raw",), real.move_1000_vs_raw, world)
        ctx.measure(("move_1000_vs_cgclassify",), real.move_1000_vs_cgclassify, world)
        ctx.measure(remote.LS_KEYS, remote.remote_ls_10k_ratio, world)
    left = [d for d in (world.fs(w, world.top) for w in ("freezer", "unified")) if os.path.exists(d)]
    if left:
        print(f"bench: WARNING: left behind {left}", file=sys.stderr)


def _in_own_world(ctx: Context, keys: tuple[str, ...], fn: Callable[..., object], **size: int) -> None:
    """Measure `keys` with `fn(ctx, world)` in a bench world of the full (or --quick) shape
    changed by `size`, built for it and always removed."""
    from dataclasses import replace

    from benchmarks.world import FULL, QUICK, BenchWorld, WorldUnavailable

    if not ctx.wanted(*keys):
        return
    try:
        world = BenchWorld(replace(QUICK if ctx.quick else FULL, **size))
    except WorldUnavailable as e:
        ctx.skip(keys, str(e))
        return
    with world:
        world.build()
        ctx.measure(keys, fn, world)
    left = [d for d in (world.fs(w, world.top) for w in ("freezer", "unified")) if os.path.exists(d)]
    if left:
        print(f"bench: WARNING: left behind {left}", file=sys.stderr)


def run_idle_big(ctx: Context) -> None:
    """The idle TUI on a tree of empty cgroups (the bench world's shape without its tasks:
    10,000 freezer leaves, 441 with --quick)."""
    from benchmarks import idle

    _in_own_world(ctx, idle.BIG_KEYS, idle.idle_big, threads=0, procs=0, v2_groups=0, v2_per_group=0)


def run_remote_refresh(ctx: Context) -> None:
    """Bytes per refresh of a remote host's tree (issue 11): the bench world's 10,000 freezer
    leaves (441 with --quick) and 100 of its own sleeps to churn."""
    from benchmarks import remote

    _in_own_world(ctx, remote.REFRESH_KEYS, remote.refresh_bytes, threads=0, procs=100, v2_groups=1,
                  v2_per_group=1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a smaller world and 3 repetitions (a smoke test, under 60 s)")
    p.add_argument("--json", metavar="FILE", help="write the figures as JSON to FILE")
    p.add_argument("--runs", type=int, help="repetitions per figure (default 5, quick 3)")
    p.add_argument("--only", metavar="KEY,KEY", help="measure only these keys (the rest are skipped)")
    args = p.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    if only and only - set(KEYS):
        p.error(f"unknown keys: {', '.join(sorted(only - set(KEYS)))}")
    ctx = Context(args.quick, args.runs, only)
    started = time.time()
    t0 = time.perf_counter()
    from benchmarks import model, real, sim

    print("start-up", file=sys.stderr)
    ctx.measure(("cli_start_vs_python",), real.cli_start_vs_python)
    ctx.measure(("stats_root_ms",), real.stats_root_ms)
    print("idle TUI, the machine's own tree", file=sys.stderr)
    from benchmarks import idle

    ctx.measure(idle.SMALL_KEYS, idle.idle_small)
    print("real kernel", file=sys.stderr)
    run_real(ctx)
    print("remote hosts (sshd on loopback)", file=sys.stderr)
    from benchmarks import remote

    ctx.measure(remote.FLEET_KEYS, remote.fleet_50_hosts_s)
    print("hostile hosts (a fake ssh)", file=sys.stderr)
    ctx.measure(remote.HOSTILE_KEYS, remote.hostile_rss)
    from benchmarks import tuihosts

    ctx.measure(tuihosts.KEYS, tuihosts.tui_first_paint)
    print("idle TUI, a tree of empty cgroups", file=sys.stderr)
    run_idle_big(ctx)
    print("remote host: bytes per refresh", file=sys.stderr)
    run_remote_refresh(ctx)
    print("the lab: a qemu guest, systemd and pure cgroup v2", file=sys.stderr)
    from benchmarks import lab

    if ctx.quick and not (only and only & set(lab.KEYS)):
        ctx.skip(lab.KEYS, "not in --quick (the guest boots and installs for minutes under TCG): "
                           "run without --quick, or --only " + ",".join(lab.KEYS))
    else:
        ctx.measure(lab.KEYS, lab.lab_figures)
    for key in lab.ASKED_KEYS:
        if only and key in only:
            ctx.measure((key,), getattr(lab, key))
        else:
            ctx.skip((key,), f"not measured unless asked for (it takes minutes): --only {key}")
    print("journal", file=sys.stderr)
    from benchmarks import journal

    ctx.measure(journal.UNDO_KEYS, journal.undo_figures)
    print("history (ctrtui record)", file=sys.stderr)
    from benchmarks import history

    history.run(ctx)
    print("simulated world", file=sys.stderr)
    ctx.measure(("snapshot_bytes_per_task",), sim.snapshot_bytes_per_task)
    sim.run_ui(ctx)
    print("model", file=sys.stderr)
    model.run_model(ctx)
    if only:
        ctx.skip([k for k in KEYS if k not in only], "not asked for (--only)")

    print(table(ctx))
    doc: dict = dict(ctx.results)
    doc["skipped"] = ctx.skipped
    doc["meta"] = {
        "date": datetime.datetime.fromtimestamp(started).astimezone().isoformat(timespec="seconds"),
        "command": shlex.join([os.path.relpath(sys.executable), "-m", "benchmarks"]
                              + list(argv if argv is not None else sys.argv[1:])),
        "quick": ctx.quick, "runs": ctx.runs, "seconds": round(time.perf_counter() - t0, 1),
        "machine": machine(), "world": ctx.world,
        "targets": {k: target_text(k) for k in KEYS},
        "met": {k: met(k, v) for k, v in ctx.results.items() if v is not None},
        "figures": ctx.figures,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
