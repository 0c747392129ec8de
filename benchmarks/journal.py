"""Journal figures: `ctrtui undo` on a 1 MB and a 200 MB journal, side by side.

Both journals end with the same undoable batch (a demo-world PID, so nothing real moves);
before it, pairs of batches and their undos fill the file to its size. Each run is a whole
`ctrtui --demo undo --journal FILE` process: wall time and peak RSS (from wait4). After each
run the file is cut back to its size before the run, so every run undoes the same batch.
The rotation threshold is raised (CTRTUI_JOURNAL_MAX) for these runs, so they measure the
read path; the one-time rotation of the 200 MB file at the default threshold is measured
last, on its own (`rotate_200mb_s`, `rotate_200mb_rss_mb`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time

from benchmarks.real import ctrtui_command

UNDO_KEYS = ("undo_1mb_s", "undo_200mb_s", "undo_200mb_vs_1mb", "undo_1mb_rss_mb", "undo_200mb_rss_mb",
             "rotate_200mb_s", "rotate_200mb_rss_mb")
MB = 1024 * 1024


def _batch(batch: str, pids: range, undo_of: str | None = None) -> bytes:
    src, dst = ("/a", "/") if undo_of else ("/", "/a")
    tasks = [{"pid": p, "start_time": 1000 + p, "pidfs": None, "from": src, "to": dst} for p in pids]
    lines = [{"kind": "intent", "batch": batch, "time": "2026-11-30T00:00:00.000+00:00", "hierarchy": "pids",
              "threads": False, "undo_of": undo_of, "target": dst, "tasks": tasks}]
    lines += [{"kind": "outcome", "batch": batch, "pid": p, "start_time": 1000 + p, "from": src, "to": dst,
               "outcome": "moved", "errno": None} for p in pids]
    lines.append({"kind": "close", "batch": batch, "time": "2026-11-30T00:00:00.000+00:00", "state": "done"})
    return b"".join(json.dumps(x).encode() + b"\n" for x in lines)


def build(path: str, size: int) -> None:
    """Filler up to `size` bytes, then the undoable batch (demo PID 492, pids hierarchy)."""
    from ctrtui.sources.demo import demo_world

    world = demo_world()
    start = world.task_state(492).start_time
    source = world.task_cgroups(492)["pids"]
    with open(path, "wb") as f:
        n = 0
        while f.tell() < size:
            chunk = []
            for _ in range(50):
                b = f"20261130T000000-{n:06x}"
                chunk.append(_batch(b, range(2000, 2020)) + _batch(f"{b}u", range(2000, 2020), undo_of=b))
                n += 1
            f.write(b"".join(chunk))
        last = "20261130T235959-ffffff"
        rows = [
            {"kind": "intent", "batch": last, "time": "2026-11-30T23:59:59.000+00:00", "hierarchy": "pids",
             "threads": False, "undo_of": None, "target": "/",
             "tasks": [{"pid": 492, "start_time": start, "pidfs": None, "from": source, "to": "/"}]},
            {"kind": "outcome", "batch": last, "pid": 492, "start_time": start, "from": source, "to": "/",
             "outcome": "moved", "errno": None},
            {"kind": "close", "batch": last, "time": "2026-11-30T23:59:59.000+00:00", "state": "done"},
        ]
        f.write(b"".join(json.dumps(x).encode() + b"\n" for x in rows))


def undo_once(path: str, env: dict) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one `ctrtui --demo undo`; the file is cut back after."""
    size = os.path.getsize(path)
    t0 = time.perf_counter()
    p = subprocess.Popen(ctrtui_command() + ["--demo", "undo", "--journal", path], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"ctrtui undo failed (exit {p.returncode}): {err.strip()[-300:]}")
    if os.path.getsize(path) >= size:
        os.truncate(path, size)
    return dt, usage.ru_maxrss / 1024


def undo_figures(ctx) -> dict:
    runs = ctx.runs
    if ctx.quick:
        return _quick(ctx)
    with tempfile.TemporaryDirectory(prefix="ctrtui-bench-journal-") as d:
        small, big = os.path.join(d, "1mb.jsonl"), os.path.join(d, "200mb.jsonl")
        build(small, 1 * MB)
        build(big, 200 * MB)
        env = dict(os.environ, CTRTUI_JOURNAL_MAX=str(1 << 40))
        times: dict[str, list[float]] = {"1mb": [], "200mb": []}
        rss: dict[str, list[float]] = {"1mb": [], "200mb": []}
        undo_once(small, env)  # warm-up
        undo_once(big, env)
        for i in range(runs):
            order = (("1mb", small), ("200mb", big)) if i % 2 == 0 else (("200mb", big), ("1mb", small))
            for name, path in order:
                dt, mb = undo_once(path, env)
                times[name].append(dt)
                rss[name].append(mb)
        size_before = os.path.getsize(big)
        rot_s, rot_mb = undo_once(big, dict(os.environ, CTRTUI_JOURNAL_MAX=""))  # default 8 MiB: rotates
        rotated = os.path.getsize(big)
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {
        "undo_1mb_s": med["1mb"], "undo_200mb_s": med["200mb"], "undo_200mb_vs_1mb": med["200mb"] / med["1mb"],
        "undo_1mb_rss_mb": max(rss["1mb"]), "undo_200mb_rss_mb": max(rss["200mb"]),
        "rotate_200mb_s": rot_s, "rotate_200mb_rss_mb": rot_mb,
    }
    ctx.meta_for("undo_200mb_vs_1mb", {"1mb_s": [round(x, 4) for x in times["1mb"]],
                                       "200mb_s": [round(x, 4) for x in times["200mb"]],
                                       "1mb_rss_mb": rss["1mb"], "200mb_rss_mb": rss["200mb"]},
                 note="whole `ctrtui --demo undo --journal FILE` processes, alternated; the newest batch is "
                      "undoable, the rest pairs of batches and their undos; rotation off for these runs")
    ctx.meta_for("rotate_200mb_s", bytes_before=size_before, bytes_after=rotated,
                 note="one `ctrtui --demo undo` at the default rotation size (8 MiB): undo, then rotation of "
                      "the 200 MB file down to what is still undoable plus the newest 2 MiB")
    return out


def _quick(ctx) -> dict:
    """A smoke test: the 1 MB journal only (building and rotating 200 MB takes ~30 s)."""
    with tempfile.TemporaryDirectory(prefix="ctrtui-bench-journal-") as d:
        small = os.path.join(d, "1mb.jsonl")
        build(small, 1 * MB)
        env = dict(os.environ, CTRTUI_JOURNAL_MAX=str(1 << 40))
        got = [undo_once(small, env) for _ in range(ctx.runs)]
    ctx.skip([k for k in UNDO_KEYS if "200mb" in k], "quick run: the 200 MB journal is measured in full runs only")
    return {"undo_1mb_s": statistics.median(t for t, _ in got), "undo_1mb_rss_mb": max(m for _, m in got)}
