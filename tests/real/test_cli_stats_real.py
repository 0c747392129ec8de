"""`ctrtui ls --stats` on the real kernel (own ctrtui-test-* cgroups in freezer, pids, cpu and
unified; own sleep); the demo world: tests/unit/test_cli_stats.py."""

from __future__ import annotations

import json
import os

import pytest

from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse
from tests.realcg import REAL_OK, REAL_WHY, RealWorld


@pytest.mark.real
@pytest.mark.skipif(not REAL_OK, reason=REAL_WHY)
def test_ls_stats_on_the_real_kernel(capsys):
    with RealWorld() as w:
        p = w.spawn_sleep()
        cgs = {h: w.mkdir(h, "a") for h in ("freezer", "pids", "cpu", "unified")}
        for h, cg in cgs.items():
            w.put(p.pid, h, cg)
        fz = w.fs("freezer", cgs["freezer"]) + "/freezer.state"
        before = {h: sorted(os.listdir(w.fs(h, cg))) for h, cg in cgs.items()}
        with open(fz, "w") as f:
            f.write("FROZEN")
        try:
            got = {}
            for h in cgs:
                rc, out, _ = run(capsys, "ls", f"{h}:{w.top(h)}", "--stats", "--json", "--sample", "0.1")
                assert rc == 0
                got[h] = {r["path"]: r for r in json.loads(out)}
        finally:
            with open(fz, "w") as f:
                f.write("THAWED")
        for h, cg in cgs.items():
            assert got[h][cg]["tasks"] == 1 and got[h][w.top(h)]["tasks"] == 1
            assert sorted(os.listdir(w.fs(h, cg))) == before[h]   # reading made nothing
        assert got["freezer"][cgs["freezer"]]["frozen"] is True
        assert (got["pids"][cgs["pids"]]["pids_current"], got["pids"][cgs["pids"]]["pids_max"]) == (1, None)  # no limit
        un = got["unified"][cgs["unified"]]
        assert un["frozen"] is False and un["cpu_percent"] is not None and 0 <= un["cpu_percent"] < 50
        accounted = os.path.exists(w.fs("cpu", cgs["cpu"]) + "/cpuacct.usage")  # cpu,cpuacct co-mounted?
        assert (got["cpu"][cgs["cpu"]]["cpu_percent"] is not None) == accounted


def _meminfo() -> dict[str, int]:
    with open("/proc/meminfo") as f:
        return {line.split(":")[0]: int(line.split()[1]) << 10 for line in f if line.endswith("kB\n")}


@pytest.mark.real
@pytest.mark.skipif(not REAL_OK, reason=REAL_WHY)
def test_ls_stats_root_rows_pressure_and_swap_on_the_real_kernel(capsys):
    """The root rows show the machine's memory, tasks and pressure (/proc), as systemd-cgtop;
    a cgroup of ours shows the pressure and swap files it has (`ls` of its directory decides:
    cgroup v2 has *.pressure in every cgroup when the kernel has PSI, memory.swap.current
    only with the memory controller); --sample 0 reads once and leaves %CPU unknown."""
    with RealWorld() as w:
        p = w.spawn_sleep()
        cg = w.mkdir("unified", "a")
        w.put(p.pid, "unified", cg)
        rc, out, _ = run(capsys, "ls", "--stats", "--json", "--sample", "0")
        assert rc == 0
        rows = {(r["hierarchy"], r["path"]): r for r in json.loads(out)}
        mem = _meminfo()
        with open("/proc/loadavg") as f:
            total = int(f.read().split()[3].split("/")[1])
        psi = os.path.isfile("/proc/pressure/cpu")
        roots = [r for (h, path), r in rows.items() if path == "/"]
        assert len(roots) >= 5                       # freezer, pids, cpu, cpuset, unified at least
        for r in roots:
            used = mem["MemTotal"] - mem["MemAvailable"]
            assert abs(r["memory_bytes"] - used) < max(used // 4, 64 << 20), r
            swapped = mem["SwapTotal"] - mem["SwapFree"]
            assert abs(r["swap_bytes"] - swapped) <= max(swapped // 4, 64 << 20), r
            assert abs(r["pids_current"] - total) < total // 2 + 50, r     # every task, threads too
            assert r["pids_current"] >= r["tasks"]
            assert r["cpu_percent"] is None and r["io_read_bytes_per_s"] is None   # one reading
            assert (r["cpu_some_avg10"] is not None) == psi and (r["io_full_avg10"] is not None) == psi
            assert r["cpu_some_avg10"] is None or 0 <= r["cpu_some_avg10"] <= 100
        ours = rows[("unified", cg)]
        files = set(os.listdir(w.fs("unified", cg)))
        assert (ours["cpu_some_avg10"] is not None) == ("cpu.pressure" in files)
        assert (ours["memory_full_avg10"] is not None) == ("memory.pressure" in files)
        assert (ours["swap_bytes"] is not None) == ("memory.swap.current" in files)
        assert ours["tasks"] == 1 and (ours["memory_bytes"] is None) == ("memory.current" not in files)
        # with a second reading the root has a %CPU: its own counter (cpu.stat, cpuacct) or /proc/stat
        rc, out, _ = run(capsys, "ls", "freezer:/", "--stats", "--json", "--sample", "0.2")
        root = json.loads(out)[0]
        assert root["path"] == "/" and root["cpu_percent"] is not None
        assert 0 <= root["cpu_percent"] <= 100 * (os.cpu_count() or 1) + 5
