"""History figures (issue 21): what `ctrtui record` costs, and how fast a recording answers.

- `record_cpu_pct_machine`, `record_mb_per_h_machine`: the recorder on this machine's whole
  tree (CgroupFS, every hierarchy), samples 5 s apart: its CPU time per sample (snapshot,
  start times of new tasks, the record written) divided by the 5 s interval, and the bytes an
  hour holds (720 samples: 12 full snapshots, the rest deltas of the size measured). The
  meta's `read_us_per_cgroup`: CgroupFS's read per cgroup read (on a tree of a few dozen
  cgroups, mostly its fixed cost).
- `record_cpu_pct_10k`, `record_mb_per_h_10k`: the same on the generated 10,000-cgroup,
  100,000-task world (two hierarchies) with 1 % of the tasks (1,000 threads) moved between
  samples; the churn script's own cost is not counted. The full snapshot's share is that of
  a full snapshot while recording (every 60 samples), not of the first sample, which also
  reads the start time of every task once per start of the recorder.
- `record_stats_cpu_ms_10k`, `record_stats_mb_per_h_10k`: the cgroups' figures (the `S`
  record, ctrtui/history/stats.py) on the same world: the CPU time of one `S` record (every
  cgroup's stats files read through the backend and parsed, the record packed and written;
  the meta splits the read from the recorder's own work and gives the share of a core at the
  default cadence, every 60 samples of 5 s), and the bytes an hour holds at that cadence (12
  `S` records). The simulated kernel makes up its files' text, as reading them costs on a
  machine.
- `where_24h_10k_s`: `ctrtui where PID --json` (a whole process: start-up, reading, the JSON
  printed) over 24 hours of that world at 5 s (17,280 samples, a full snapshot every 60),
  for a PID moved at every sample (the worst case). The recording is written synthetically:
  two real deltas of the recorder (1,000 tasks there, then back) alternate, with their times
  shifted, and the real full snapshot; in files of an eighth of the default `--max-size`
  each (~8 files, each starting with a full snapshot), as the recorder splits them. The
  meta's `absent_pid_s`: the same for a PID in no file.
- `ls_at_24h_10k_s`: `ctrtui ls --at T` (a whole process, its 20,000 lines printed) in the
  same file, the slowest of several times, among them the sample just before a full
  snapshot (59 deltas to apply).

Figures only; nothing here passes or fails.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time

from benchmarks.timing import Skip

KEYS = ("record_cpu_pct_machine", "record_mb_per_h_machine", "record_cpu_pct_10k", "record_mb_per_h_10k",
        "where_24h_10k_s", "ls_at_24h_10k_s", "record_stats_cpu_ms_10k", "record_stats_mb_per_h_10k")
INTERVAL = 5.0
PER_HOUR = int(3600 / INTERVAL)
FULL_EVERY = 60
STATS_EVERY = 60
"""ctrtui.history.stats.DEFAULT_STATS_EVERY (an `S` record every 5 minutes at 5 s)."""


def _per_hour(full_bytes: float, delta_bytes: float) -> float:
    fulls = PER_HOUR / FULL_EVERY
    return (fulls * full_bytes + (PER_HOUR - fulls) * delta_bytes) / 1e6


def _sizes(directory: str) -> tuple[list[int], list[int]]:
    """Bytes of the full snapshots and of the deltas (with their 17-byte headers) recorded."""
    from ctrtui.history import Recording

    fulls, deltas = [], []
    for f in Recording(directory).files:
        for _, kind, _, n in f.records:
            (fulls if kind == b"F" else deltas if kind == b"D" else []).append(n + 17)
    return fulls, deltas


def _sample(rec, backend, parts: list[tuple[float, float]] | None = None, sizes: list[int] | None = None) -> float:
    """CPU seconds of one sample: the backend's read (snapshot, new tasks' facts) and the
    recorder's own work (the changes, the record written), each added to `parts`; the
    number of cgroups read added to `sizes`."""
    t0 = time.process_time()
    snap = backend.snapshot()
    t1 = time.process_time()
    new = rec.new_tasks(snap)
    t2 = time.process_time()
    details = backend.task_details(new) if new else {}
    t3 = time.process_time()
    rec.sample(snap, {t: (i.start_time, i.tgid, i.comm[:64]) for t, i in details.items()})
    t4 = time.process_time()
    if parts is not None:
        parts.append(((t1 - t0) + (t3 - t2), (t2 - t1) + (t4 - t3)))
    if sizes is not None:
        sizes.append(sum(len(hs.containers) for hs in snap.hierarchies))
    return t4 - t0


def machine(ctx) -> dict[str, float]:
    from ctrtui.history import Recorder
    from ctrtui.sources.cgroupfs import CgroupFS

    fs = CgroupFS()
    if not fs.hierarchies():
        raise Skip("no cgroup hierarchy is mounted")
    n = 2 if ctx.quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        cpu = []
        parts: list[tuple[float, float]] = []
        sizes: list[int] = []
        with Recorder(os.path.join(tmp, "h"), full_every=FULL_EVERY) as rec:
            for i in range(n):
                if i:
                    time.sleep(INTERVAL)
                cpu.append(_sample(rec, fs, parts, sizes))
        fulls, deltas = _sizes(os.path.join(tmp, "h"))
    per = sorted(cpu[1:])[len(cpu[1:]) // 2]  # deltas only: the full snapshot is once per 10 minutes
    per_cgroup = sorted(b / k for (b, _), k in zip(parts[1:], sizes[1:], strict=True))[len(parts[1:]) // 2]
    ctx.meta_for("record_cpu_pct_machine", samples=n, cpu_ms_per_delta_sample=round(per * 1000, 2),
                 cpu_ms_full_sample=round(cpu[0] * 1000, 2), interval_s=INTERVAL,
                 cgroups=sorted(sizes), read_us_per_cgroup=round(per_cgroup * 1e6, 1),
                 note="read_us_per_cgroup: CgroupFS's read (snapshot, new tasks' facts) of a sample over the "
                      "cgroups it read, median; on a small tree it is mostly the read's fixed cost")
    ctx.meta_for("record_mb_per_h_machine", full_bytes=fulls[0], delta_bytes_mean=sum(deltas) / len(deltas))
    full_share = cpu[0] / FULL_EVERY
    return {"record_cpu_pct_machine": (per + full_share) / INTERVAL * 100,
            "record_mb_per_h_machine": _per_hour(fulls[0], sum(deltas) / len(deltas))}


def _world(ctx):
    """The generated world: 10,000 cgroups and 100,000 tasks in freezer and unified (with
    --quick, a smoke test: 1,000 and 10,000)."""
    from ctrtui.sources.demo import generate_world

    return generate_world(1_000, 10_000) if ctx.quick else generate_world()


def _churn(k, rng: random.Random, tids: list[int], homes: list[str], n: int) -> None:
    for tid in rng.sample(tids, n):
        path = homes[rng.randrange(len(homes))]
        for h in ("freezer", "unified"):
            k.place(tid, h, path)


def _index_first_full(snap) -> float:
    """CPU seconds of what a file's first full snapshot keeps for its task index."""
    from ctrtui.history.taskindex import IndexBuilder

    order = sorted({t for hs in snap.hierarchies for c in hs.containers.values() for t in c.threads})
    t0 = time.process_time()
    IndexBuilder().first_full(0, snap, order, [0] * len(order))
    return time.process_time() - t0


def _churnable(ctx):
    """The generated world, the cgroups the churn moves tasks into (depth 2) and its tasks."""
    k = _world(ctx)
    snap = k.snapshot()
    homes = [p for p in snap["unified"].containers if p.count("/") == 2]
    tids = sorted(t for c in snap["unified"].containers.values() for t in c.threads if t != 1)
    return k, homes, tids


def world_10k(ctx) -> dict[str, float]:
    from ctrtui.history import Recorder, Recording

    k, homes, tids = _churnable(ctx)
    rng = random.Random(21)
    n = 4 if ctx.quick else 12
    churn = len(tids) // 100
    with tempfile.TemporaryDirectory() as tmp:
        cpu: list[float] = []
        parts: list[tuple[float, float]] = []
        with Recorder(os.path.join(tmp, "h"), full_every=FULL_EVERY) as rec:
            for i in range(n):
                if i:
                    _churn(k, rng, tids, homes, churn)
                cpu.append(_sample(rec, k, parts))
            c0 = time.process_time()
            rec._end_file()  # what closing the file adds: its task index (the I record), written and synced
            close_cpu = time.process_time() - c0
        fulls, deltas = _sizes(os.path.join(tmp, "h"))
        index_bytes = [nb + 17 for f in Recording(os.path.join(tmp, "h")).files
                       for _, kind, _, nb in f.records if kind == b"I"]
        first_cpu = _index_first_full(k.snapshot())
        full_cpu = _steady_full(os.path.join(tmp, "f"), k, rng, tids, homes, churn)
    per = sorted(cpu[1:])[len(cpu[1:]) // 2]
    ctx.meta_for("record_cpu_pct_10k", samples=n, moved_per_sample=churn, cpu_ms_per_delta_sample=round(per * 1000, 1),
                 cpu_ms_full_sample=round(full_cpu * 1000, 1), cpu_ms_first_sample=round(cpu[0] * 1000, 1),
                 interval_s=INTERVAL,
                 backend_read_ms=round(sorted(b for b, _ in parts[1:])[len(parts[1:]) // 2] * 1000, 1),
                 recorder_own_ms=round(sorted(r for _, r in parts[1:])[len(parts[1:]) // 2] * 1000, 1),
                 close_file_cpu_ms=round(close_cpu * 1000, 1), index_bytes=index_bytes,
                 index_first_full_cpu_ms=round(first_cpu * 1000, 1),
                 note="the figure includes the simulated kernel's own snapshot (the backend's read); "
                      "close_file_cpu_ms: the task index (I record) built, written and synced when a file is "
                      "closed; index_first_full_cpu_ms: what the file's first full snapshot adds for it "
                      "(once per file)")
    ctx.meta_for("record_mb_per_h_10k", full_bytes=fulls[0], delta_bytes_mean=round(sum(deltas) / len(deltas)))
    return {"record_cpu_pct_10k": (per + max(0.0, full_cpu - per) / FULL_EVERY) / INTERVAL * 100,
            "record_mb_per_h_10k": _per_hour(fulls[0], sum(deltas) / len(deltas))}


def stats_10k(ctx) -> dict[str, float]:
    """What the `S` records cost on the 10k world (see the module's doc)."""
    from ctrtui.history import Recorder, Recording
    from ctrtui.history.stats import read_stats

    k, homes, tids = _churnable(ctx)
    rng = random.Random(12)
    n = 3 if ctx.quick else 7
    reads: list[float] = []

    def reader(s):
        r0 = time.process_time()
        try:
            return read_stats(k, s)
        finally:
            reads.append(time.process_time() - r0)

    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "h")
        cpu = []
        with Recorder(d, full_every=FULL_EVERY, stats_every=1) as rec:
            for i in range(n):
                if i:
                    _churn(k, rng, tids, homes, len(tids) // 100)
                snap = k.snapshot()
                rec.sample(snap)  # the members (not counted), then the S record of this sample alone
                t0 = time.process_time()
                rec._stats(snap, snap.taken_at, reader)
                cpu.append(time.process_time() - t0)
        sizes = [nb + 17 for f in Recording(d).files for _, kind, _, nb in f.records if kind == b"S"]
    per = sorted(cpu)[len(cpu) // 2]
    read = sorted(reads)[n // 2]
    own = sorted(c - r for c, r in zip(cpu, reads, strict=True))[n // 2]
    cgroups = sum(len(hs.containers) for hs in snap.hierarchies)
    ctx.meta_for("record_stats_cpu_ms_10k", samples=n, cgroups=cgroups, backend_read_ms=round(read * 1000, 1),
                 recorder_own_ms=round(own * 1000, 1), stats_every=STATS_EVERY, interval_s=INTERVAL,
                 pct_of_a_core_at_default=round(per / (STATS_EVERY * INTERVAL) * 100, 3),
                 machine=_machine_stats(),
                 note="backend_read_ms: the simulated kernel making up its files' text, and their parsing")
    ctx.meta_for("record_stats_mb_per_h_10k", s_bytes_mean=round(sum(sizes) / len(sizes)),
                 s_records_per_h=PER_HOUR // STATS_EVERY, bytes_per_cgroup=round(sum(sizes) / len(sizes) / cgroups, 2))
    return {"record_stats_cpu_ms_10k": per * 1000,
            "record_stats_mb_per_h_10k": sum(sizes) / len(sizes) * (PER_HOUR // STATS_EVERY) / 1e6}


def _machine_stats() -> dict[str, float] | None:
    """The same read on this machine's whole tree (CgroupFS): CPU ms of `read_stats`, median
    of 3, and the cgroups read (None: no hierarchy mounted)."""
    from ctrtui.history.stats import read_stats
    from ctrtui.sources.cgroupfs import CgroupFS

    fs = CgroupFS()
    if not fs.hierarchies():
        return None
    snap = fs.snapshot()
    times = []
    for _ in range(3):
        t0 = time.process_time()
        read_stats(fs, snap)
        times.append(time.process_time() - t0)
    return {"read_ms": round(sorted(times)[1] * 1000, 1), "cgroups": sum(len(hs.containers) for hs in snap.hierarchies)}


def _steady_full(directory: str, k, rng: random.Random, tids: list[int], homes: list[str], churn: int) -> float:
    """CPU seconds of a sample that writes a full snapshot once the recorder runs (every
    FULL_EVERY samples: the delta and the full snapshot after it), not of the first sample,
    which also reads every task's start time (once per start of the recorder)."""
    from ctrtui.history import Recorder

    with Recorder(directory, full_every=1) as rec:
        _sample(rec, k)  # the first sample: every task is new
        _churn(k, rng, tids, homes, churn)
        return _sample(rec, k)


def day_10k(ctx) -> dict[str, float]:
    """24 hours of the 10k world at 5 s, written synthetically (see the module's doc)."""
    from ctrtui.history import DEFAULT_MAX_SIZE, Recorder, Recording
    from ctrtui.history.records import PID_LIMIT

    k = _world(ctx)
    s0 = k.snapshot()
    homes = [p for p in s0["unified"].containers if p.count("/") == 2]
    tids = sorted(t for c in s0["unified"].containers.values() for t in c.threads if t != 1)
    rng = random.Random(24)
    moved = rng.sample(tids, len(tids) // 100)
    back = {t: s0["unified"].find(t, threads=True)[0] for t in moved}
    for t in moved:
        p = homes[rng.randrange(len(homes))]
        for h in ("freezer", "unified"):
            k.place(t, h, p)
    s1 = k.snapshot()
    samples = 1440 if ctx.quick else 17280  # --quick: 2 hours, not 24
    t0 = 1_765_000_000.0
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "h")
        built = time.perf_counter()
        with Recorder(d, full_every=FULL_EVERY, fsync=False, max_size=DEFAULT_MAX_SIZE) as rec:
            details = k.task_details(rec.new_tasks(s0))
            rec.sample(s0, {t: (i.start_time, i.tgid, i.comm) for t, i in details.items()}, t=t0)
            rec.sample(s1, t=t0 + INTERVAL)
            rec.sample(s0, t=t0 + 2 * INTERVAL)
            r = Recording(d)
            f = r.files[0]
            full = bytes(f.payload(0))
            there, home = bytes(f.payload(1)), bytes(f.payload(2))
            first = rec._index
            for j in range(3, samples):
                t = t0 + j * INTERVAL
                payload = there if j % 2 else home
                rec._record(b"D", t, payload)
                # j even: the state just reached is s0's, whose full snapshot this is. A new
                # file when this one holds an eighth of the default --max-size, as sample() does
                # (the old file closed with its task index, the new one's fed as _full and _delta feed it)
                if j % 2 == 0 and rec._size >= DEFAULT_MAX_SIZE // 8:
                    rec._new_file(t)
                    rec._record(b"F", t, full)
                    rec._index.first_full(rec._index.records - 1, s0, first.tids, first.starts)
                    rec._index.mention(moved)
                elif j % FULL_EVERY == 0:
                    rec._record(b"F", t, full)
        built = time.perf_counter() - built
        size = sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))
        nfiles = len(os.listdir(d))
        pid = moved[0]
        answer = back[pid]
        del k, s0, s1, r, f, full, there, home, back, moved, tids, first  # the commands run in processes of their own
        runs = 3 if ctx.quick else 5
        env = {**os.environ, "XDG_STATE_HOME": os.path.join(tmp, "state")}
        where_times, where_cpu = [], []
        for _ in range(runs):
            w0 = time.perf_counter()
            c0 = _children_cpu()
            out = subprocess.run([sys.executable, "-m", "ctrtui", "where", str(pid), "--from", d, "--json"],
                                 capture_output=True, text=True, env=env, check=True).stdout
            where_times.append(time.perf_counter() - w0)
            where_cpu.append(_children_cpu() - c0)
        in_process = _where_in_process(d, pid)
        rows = json.loads(out)
        absent_times = []  # a PID in no file: each file's full snapshot read through its task table alone
        for _ in range(runs):
            w0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ctrtui", "where", str(PID_LIMIT), "--from", d, "--json"],
                           capture_output=True, env=env, check=True)
            absent_times.append(time.perf_counter() - w0)
        end = t0 + samples * INTERVAL
        ats = [t0 + (samples // FULL_EVERY // 2 * FULL_EVERY - 1) * INTERVAL, (t0 + end) / 2 + 17, end - 60, t0 + 3]
        at_times = []
        for at in ats:
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(at)) + f".{int(at * 1e6) % 1_000_000:06d}"
            a0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ctrtui", "ls", "--at", iso, "--from", d], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            at_times.append(time.perf_counter() - a0)
        assert len(rows) >= samples - 2, len(rows)
        assert answer in {r["cgroup"] for r in rows}
    ctx.meta_for("where_24h_10k_s", samples=samples, hours=samples * INTERVAL / 3600, file_bytes=size,
                 files=nfiles, rows=len(rows), built_s=round(built, 1),
                 runs=[round(x, 3) for x in where_times],
                 cpu_s=sorted(where_cpu)[len(where_cpu) // 2], cpu_runs=[round(x, 3) for x in where_cpu],
                 absent_pid_s=sorted(absent_times)[len(absent_times) // 2], in_process_cpu_s=in_process,
                 note="the PID is in every file (moved at every sample): each file's task index (its I record) "
                      "gives where it was at the file's first full snapshot, which is not read; cpu_s: the "
                      "whole process's CPU time (rusage of the child); in_process_cpu_s: Recording.where "
                      "with and without the files' task indexes (best of 3)")
    ctx.meta_for("ls_at_24h_10k_s", times=[round(x, 3) for x in at_times], file_bytes=size)
    return {"where_24h_10k_s": sorted(where_times)[len(where_times) // 2], "ls_at_24h_10k_s": max(at_times)}


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _where_in_process(d: str, pid: int) -> dict[str, float]:
    """CPU seconds of `Recording.where` (the recording opened and the rows made), best of 3,
    reading the files' task indexes and not."""
    from ctrtui.history import Recording

    out = {}
    for name, use in (("index", True), ("no_index", False)):
        best = float("inf")
        for _ in range(3):
            t0 = time.process_time()
            Recording(d, use_index=use).where(pid)
            best = min(best, time.process_time() - t0)
        out[name] = round(best, 3)
    return out


def run(ctx) -> None:
    ctx.measure(KEYS[:2], machine)
    ctx.measure(KEYS[2:4], world_10k)
    ctx.measure(KEYS[4:6], day_10k)
    ctx.measure(KEYS[6:], stats_10k)

