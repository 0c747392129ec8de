"""Cgroup figures (model/cgstats.py), the sampler (sources/stats.py) and the simulated
kernel's stats files: rates from two readings, deterministic on a clock the test moves."""

from __future__ import annotations

import pytest

from ctrtui.model.cgstats import (
    FIGURE_FILES,
    STATS_FILES,
    Figures,
    Reading,
    as_json,
    cell,
    figures,
    fmt_bytes,
    from_json,
    parse_meminfo,
    parse_pressure,
    parse_reading,
    sort_value,
)
from ctrtui.sources.demo import demo_world
from ctrtui.sources.simulated import SimKernel
from ctrtui.sources.stats import StatsSampler, sample_twice


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_v2_reading_and_rates_from_two_readings():
    a = parse_reading({"cpu.stat": "usage_usec 1000000\nuser_usec 1", "memory.current": "4096",
                       "io.stat": "8:0 rbytes=100 wbytes=50 rios=1\n8:16 rbytes=900 wbytes=50",
                       "pids.current": "3", "pids.max": "max", "cgroup.events": "populated 1\nfrozen 0"}, 10.0)
    assert a == Reading(10.0, 1_000_000, 4096, 1000, 100, 3, None, False)   # pids.max `max`: no limit
    b = parse_reading({"cpu.stat": "usage_usec 1500000", "memory.current": "8192",
                       "io.stat": "8:0 rbytes=3100 wbytes=1100", "pids.current": "4", "pids.max": "10",
                       "cgroup.events": "populated 1\nfrozen 1"}, 12.0)
    f = figures(a, b)
    assert f.cpu == pytest.approx(25.0)          # 0.5 s of CPU in 2 s
    assert f.read == pytest.approx(1050.0) and f.write == pytest.approx(500.0)
    assert (f.memory, f.pids, f.pids_max, f.frozen) == (8192, 4, 10, True)
    assert (as_json(1, f)["pids_current"], as_json(1, f)["pids_max"]) == (4, 10)     # numbers, as README says
    assert (as_json(1, figures(None, a))["pids_current"], as_json(1, figures(None, a))["pids_max"]) == (3, None)
    assert figures(None, b).cpu is None and figures(None, b).memory == 8192
    assert figures(b, a).cpu is None            # time went backwards: no rate
    assert figures(parse_reading({"cpu.stat": "usage_usec 9"}, 1.0),
                   parse_reading({"cpu.stat": "usage_usec 5"}, 2.0)).cpu is None  # counter reset


def test_v1_reading():
    r = parse_reading({"cpuacct.usage": "2500000000", "memory.usage_in_bytes": "1048576",
                       "blkio.throttle.io_service_bytes": "8:0 Read 10\n8:0 Write 20\n8:0 Total 30\n"
                                                          "8:16 Read 1\n8:16 Write 2\nTotal 33",
                       "freezer.state": "FROZEN", "cpu.stat": "nr_periods 0\nnr_throttled 0"}, 0.0)
    assert (r.cpu_usec, r.memory, r.io_read, r.io_write, r.frozen) == (2_500_000, 1048576, 11, 22, True)
    assert parse_reading({"freezer.state": "THAWED"}, 0).frozen is False
    assert parse_reading({"cpu.stat": "garbage", "memory.current": "x"}, 0) == Reading(0)


def test_cells_and_sort_values():
    f = Figures(cpu=12.345, memory=3 << 20, read=1536.0, write=None, pids=5, pids_max=None, frozen=False)
    assert [cell(c, 7, f) for c in ("tasks", "cpu", "memory", "read", "write", "pids", "frozen")] == \
        ["7", "12.3", "3.0M", "1.5K", "-", "5/max", "no"]       # current/max, as README shows it
    assert cell("pids", 1, Figures(pids=5, pids_max=64)) == "5/64"
    assert cell("pids", 1, Figures(pids=None, pids_max=64)) == "-"
    assert cell("cpu", None, None) == "-" and cell("tasks", None, None) == "-"
    assert fmt_bytes(512) == "512B" and fmt_bytes(5 << 30) == "5.0G"
    assert sort_value("cpu", 1, f) > sort_value("cpu", 1, Figures(cpu=1.0)) > sort_value("cpu", 1, None)
    with pytest.raises(ValueError):
        cell("nope", 1, f)


def test_sampler_rates_on_the_simulated_kernel_are_the_tasks_shares():
    k = SimKernel()
    clock = Clock()
    k.set_clock(clock)
    for h, ctrls in (("cpuacct", ["cpuacct"]), ("blkio", ["blkio"]), ("memory", ["memory"])):
        k.add_hierarchy(h, 1, ctrls)
    k.add_hierarchy("unified", 2, ["cpu", "memory", "io", "pids"])
    for h in ("cpuacct", "blkio", "memory", "unified"):
        k.makedirs(h, "/a")
    k.set_subtree_control("unified", "/", "+memory +io +pids")
    where = {h: "/a" for h in ("cpuacct", "blkio", "memory", "unified")}
    k.spawn("busy", cgroups=where, cpu=40.0, rss=10 << 20)
    k.spawn("idle", cgroups=where, cpu=0.0, rss=2 << 20)
    s = StatsSampler(k, clock)
    assert s.sample("cpuacct", ["/a"])["/a"].cpu is None      # one reading: no rate yet
    clock.now += 2.0
    assert s.sample("cpuacct", ["/a"])["/a"].cpu == pytest.approx(40.0)
    f = sample_twice(s, "blkio", ["/a"], 1.0, sleep=lambda dt: setattr(clock, "now", clock.now + dt))["/a"]
    assert f.read == pytest.approx(0.4 * k.IO_READ_PER_CPU_SECOND, rel=1e-6)
    assert f.write == pytest.approx(f.read / 3, rel=1e-3)
    assert s.sample("memory", ["/a"])["/a"].memory == 12 << 20
    assert s.sample("cpuacct", ["/nope"]) == {}
    s.sample("unified", ["/a"])
    clock.now += 0.5
    u = s.sample("unified", ["/a"])["/a"]
    assert (u.cpu, u.memory, u.pids, u.frozen) == (pytest.approx(40.0), 12 << 20, 2, False)
    assert u.read == pytest.approx(0.4 * k.IO_READ_PER_CPU_SECOND, rel=1e-6)


def test_demo_world_figures_are_deterministic():
    """Two runs of the demo world give the same CPU % for every cgroup shown."""
    def run() -> dict[str, float | None]:
        k = demo_world()
        clock = Clock()
        k.set_clock(clock)
        s = StatsSampler(k, clock)
        paths = list(k.snapshot(["cpuacct"]).get("cpuacct").containers)
        s.sample("cpuacct", paths)
        clock.now += 1.0
        return {p: f.cpu for p, f in s.sample("cpuacct", paths).items()}
    a, b = run(), run()
    assert a == b
    assert a["/"] is not None and a["/"] > 50          # the demo's trainer alone uses 85 %
    assert a["/system.slice"] == pytest.approx(sum(v for p, v in a.items()
                                                   if p.count("/") == 2 and p.startswith("/system.slice/")))


def test_simulated_sums_follow_moves_new_cgroups_and_exits():
    """The simulated kernel keeps subtree sums between readings: each must still be right
    after a move, a mkdir, an exit and a tick."""
    k = SimKernel()
    k.add_hierarchy("pids", 1, ["pids"])
    k.add_hierarchy("memory", 1, ["memory"])
    for h in ("pids", "memory"):
        k.makedirs(h, "/a/b")
    p = k.spawn("x", cgroups={"pids": "/a/b", "memory": "/a/b"}, rss=1 << 20)
    q = k.spawn("y", cgroups={"pids": "/a", "memory": "/a"}, rss=2 << 20)

    def mem(path: str) -> int:
        return int(k.cgroup_stats("memory", path)["memory.usage_in_bytes"])

    assert (mem("/"), mem("/a"), mem("/a/b")) == (3 << 20, 3 << 20, 1 << 20)
    k.write_pid("memory", "/", "cgroup.procs", str(p).encode())
    assert k.task_cgroups(p)["memory"] == "/"
    assert (mem("/"), mem("/a"), mem("/a/b")) == (3 << 20, 2 << 20, 0)
    k.makedirs("memory", "/a/c")
    assert mem("/a/c") == 0 and mem("/a") == 2 << 20
    k.exit(q, reap=True)
    assert mem("/a") == 0 and mem("/") == 1 << 20
    assert k.cgroup_stats("pids", "/a")["pids.current"] == "1"     # p is still in pids:/a/b


# ---------------------------------------------------------------- pressure, swap, the root's /proc figures

PSI = "some avg10=1.25 avg60=0.50 avg300=0.10 total=123\nfull avg10=0.75 avg60=0.00 avg300=0.00 total=9"
MEMINFO = "MemTotal:       1000 kB\nMemFree: 10 kB\nMemAvailable:    600 kB\nSwapTotal: 300 kB\nSwapFree: 100 kB"


def test_pressure_lines_are_parsed_and_range_checked():
    assert parse_pressure(PSI) == {"some": 1.25, "full": 0.75}
    assert parse_pressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0") == {"some": 0.0}
    for bad in ("some avg10=100.01 avg60=0", "some avg10=-1.00", "some avg10=nan", "some avg10=1e3",
                "some avg10=1.2.3", "some avg60=1.00 avg10=2.00", "other avg10=1.00", "some",
                "some avg10=" + "9" * 40, "some avg10=１.00", ""):
        assert parse_pressure(bad) == {}, bad
    r = parse_reading({"cpu.pressure": PSI, "memory.pressure": PSI.replace("1.25", "3.50"),
                       "io.pressure": "some avg10=2.00 avg60=0 avg300=0 total=1"}, 0.0)
    assert r.pressure == (1.25, 3.5, 0.75, 2.0, None)      # io has no full line: unknown, not 0
    f = figures(None, r)
    assert [cell(c, 1, f) for c in ("cpu_some", "memory_some", "memory_full", "io_some", "io_full")] == \
        ["1.25", "3.50", "0.75", "2.00", "-"]
    assert sort_value("memory_some", 1, f) > sort_value("cpu_some", 1, f) > sort_value("io_full", 1, f)


def test_swap_of_a_cgroup_and_of_the_machine():
    assert parse_reading({"memory.swap.current": "8192"}, 0).swap == 8192
    assert parse_reading({"memory.swap.current": "-1"}, 0).swap is None
    assert parse_reading({"memory.swap.current": str(1 << 64)}, 0).swap is None   # not a 64-bit counter
    assert parse_meminfo(MEMINFO) == {"MemTotal": 1000 << 10, "MemFree": 10 << 10, "MemAvailable": 600 << 10,
                                      "SwapTotal": 300 << 10, "SwapFree": 100 << 10}
    root = parse_reading({"/proc/meminfo": MEMINFO}, 0)
    assert (root.memory, root.swap) == (400 << 10, 200 << 10)        # MemTotal - MemAvailable, as cgtop
    assert fmt_bytes(root.swap) == "200.0K" and cell("swap", 1, figures(None, root)) == "200.0K"
    # available above total, a line without kB, a missing field: not a figure
    assert parse_reading({"/proc/meminfo": "MemTotal: 1 kB\nMemAvailable: 2 kB"}, 0).memory is None
    assert parse_reading({"/proc/meminfo": "MemTotal: 1000 MB\nMemAvailable: 2 kB"}, 0).memory is None
    assert parse_reading({"/proc/meminfo": "MemTotal: 1000 kB"}, 0).memory is None


def test_the_root_row_takes_the_machine_figures_where_it_has_none_of_its_own():
    proc = {"/proc/meminfo": MEMINFO, "/proc/loadavg": "0.10 0.20 0.30 3/250 4242",
            "/proc/stat": "cpu  100 20 30 5000 7 1 2 0 3 4", "/proc/pressure/cpu": PSI}
    a = parse_reading(proc, 10.0)
    assert (a.pids, a.cpu_usec) == (250, (100 + 20 + 30 + 1 + 2 + 3 + 4) * 10_000)  # idle, iowait, steal left out
    assert a.pressure[0] == 1.25
    b = parse_reading({**proc, "/proc/stat": "cpu  150 20 30 5000 7 1 2 0 3 4"}, 11.0)
    assert figures(a, b).cpu == pytest.approx(50.0)        # 50 ticks of 10 ms in one second
    # its own counters first: a v1 cpuacct root, a v2 root's cpu.stat and pressure files
    own = parse_reading({**proc, "cpuacct.usage": "7000", "cpu.pressure": "some avg10=9.00 avg60=0"}, 0)
    assert (own.cpu_usec, own.pressure[0]) == (7, 9.0)
    for bad in ("0.1 0.2 0.3 3-250 1", "0.1 0.2", "0.1 0.2 0.3 3/x 1", "0.1 0.2 0.3 3/250/7 1"):
        assert parse_reading({"/proc/loadavg": bad}, 0).pids is None, bad
    for bad in ("intr 1 2 3 4 5 6 7", "cpu 1 2 x 4 5 6 7", "cpu 1 2 3", "cpu0 1 2 3 4 5 6 7"):
        assert parse_reading({"/proc/stat": bad}, 0).cpu_usec is None, bad
    assert parse_reading({"/proc/stat": "cpu 1 2 3 4 5 6 7"}, 0).cpu_usec == (1 + 2 + 3 + 6 + 7) * 10_000


def test_json_carries_the_new_figures_and_back():
    f = Figures(cpu=1.5, memory=10, read=None, write=2.0, pids=3, pids_max=9, frozen=True, swap=4096,
                pressure=(1.0, None, 0.5, 2.25, 0.0))
    row = as_json(7, f)
    assert {k: row[k] for k in ("swap_bytes", "cpu_some_avg10", "memory_some_avg10", "memory_full_avg10",
                                "io_some_avg10", "io_full_avg10")} == \
        {"swap_bytes": 4096, "cpu_some_avg10": 1.0, "memory_some_avg10": None, "memory_full_avg10": 0.5,
         "io_some_avg10": 2.25, "io_full_avg10": 0.0}
    assert from_json(row) == f
    assert as_json(None, None)["swap_bytes"] is None and from_json({}) == Figures()


def test_simulated_kernel_models_pressure_swap_and_the_machine():
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.add_hierarchy("unified", 2, ["cpu", "memory", "io", "pids"])
    k.set_subtree_control("unified", "/", "+memory +io")
    for h in ("freezer", "unified"):
        k.makedirs(h, "/busy")
        k.makedirs(h, "/idle")
    k.spawn("busy", cgroups={"freezer": "/busy", "unified": "/busy"}, cpu=80.0, rss=2 << 30)
    k.spawn("idle", cgroups={"freezer": "/idle", "unified": "/idle"}, cpu=0.0, rss=200 << 20)
    s = StatsSampler(k)
    u = s.sample("unified", ["/", "/busy", "/idle"])
    assert u["/busy"].pressure[0] > u["/idle"].pressure[0] == 0.0       # CPU pressure follows the share
    assert u["/busy"].pressure[1] > u["/idle"].pressure[1] > 0.0        # memory pressure the resident bytes
    assert u["/busy"].swap == 128 << 20 and u["/idle"].swap == 200 << 16   # a sixteenth of what is resident
    assert all(v is not None for v in u["/"].pressure)
    assert u["/"].memory == (2 << 30) + (200 << 20) and u["/"].swap == u["/busy"].swap + u["/idle"].swap
    assert u["/"].pids == 2
    stats = k.cgroup_stats("unified", "/")
    assert "/proc/pressure/cpu" not in stats and "cpu.pressure" in stats  # the v2 root has its own
    fz = s.sample("freezer", ["/", "/busy"])
    assert fz["/"].pressure == u["/"].pressure and fz["/busy"].pressure == (None,) * 5   # /proc/pressure, v1
    k.psi = False
    assert not any(name.endswith("pressure") or "/pressure/" in name
                   for h in ("freezer", "unified") for p in ("/", "/busy") for name in k.cgroup_stats(h, p))


def _v2_world() -> SimKernel:
    """A pure v2 world with cpu, io, memory and pids enabled below the root and a busy task."""
    k = SimKernel()
    k.add_hierarchy("unified", 2, ["cpu", "io", "memory", "pids"])
    k.mkdir("unified", "/a")
    k.mkdir("unified", "/a/b")
    k.set_subtree_control("unified", "/", "+cpu +io +memory +pids")
    k.spawn("busy", cgroups={"unified": "/a/b"}, cpu=40.0, rss=1 << 20)
    k.tick(5)
    return k


@pytest.mark.parametrize(("world", "files"), [
    (demo_world, {"freezer.state", "cpuacct.usage", "memory.usage_in_bytes", "blkio.throttle.io_service_bytes",
                  "pids.max", "/proc/pressure/cpu", "cgroup.events", "cpu.stat", "cpu.pressure"}),
    (_v2_world, {"cgroup.events", "cpu.stat", "memory.current", "memory.swap.current", "io.stat", "pids.current",
                 "pids.max", "io.pressure"})], ids=["hybrid", "v2"])
def test_the_figures_only_read_gives_the_figures_of_the_full_read(world, files):
    """`cgroup_stats(h, p, FIGURE_FILES)` (what `ls --stats`, the UI's columns and the `S`
    record read) holds exactly the full read's figure files, and so the same `Reading`, for
    every cgroup of every hierarchy (the roots with the machine's /proc files too)."""
    k = world()
    k.clock = lambda: 1000.0  # no CPU time accrues between the two reads
    snap = k.snapshot()
    seen: set[str] = set()
    for hs in snap.hierarchies:
        for path in hs.containers:
            full = k.cgroup_stats(hs.name, path)
            only = k.cgroup_stats(hs.name, path, FIGURE_FILES)
            assert only == {n: t for n, t in full.items() if n in FIGURE_FILES}, (hs.name, path)
            assert parse_reading(only, 0.0) == parse_reading(full, 0.0)
            seen |= set(only)
            assert k.cgroup_stats(hs.name, path, ()) == {}
    assert FIGURE_FILES <= STATS_FILES
    assert files | {"/proc/meminfo", "/proc/loadavg", "/proc/stat"} <= seen  # the roots' too
    assert not seen & {"cgroup.type", "cgroup.subtree_control", "cpuset.cpus", "cgroup.freeze"}
