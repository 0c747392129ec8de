"""`ctrtui ls --stats`: cgroup figures as systemd-cgtop's columns, on the demo world (the real
kernel: tests/real/test_cli_stats_real.py)."""

from __future__ import annotations

import json

from ctrtui.sources.demo import demo_world
from ctrtui.sources.simulated import SimKernel
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse


def test_ls_stats_json_on_the_demo(capsys):
    rc, out, _ = run(capsys, "--demo", "ls", "cpuacct:/", "--stats", "--json", "--sample", "0.2")
    assert rc == 0
    rows = {r["path"]: r for r in json.loads(out)}
    root = rows["/"]
    assert root["hierarchy"] == "cpuacct" and root["tasks"] > 50
    assert root["cpu_percent"] > 50                       # the demo trainer alone uses 85 %
    assert root["frozen"] is None
    # the root row as systemd-cgtop's: the machine's memory and every task (/proc/meminfo, loadavg)
    k = demo_world()
    assert 0 < root["memory_bytes"] < k.mem_total and root["swap_bytes"] is not None
    assert root["pids_current"] == sum(1 for t in k.tasks.values() if not t.dead)
    assert root["pids_current"] > root["tasks"]               # threads and kernel threads too
    assert rows["/system.slice"]["cpu_percent"] >= rows["/system.slice/kubelet.service"]["cpu_percent"] > 0
    rc, out, _ = run(capsys, "--demo", "ls", "memory:/", "--stats", "--json", "--sample", "0")
    mem = {r["path"]: r for r in json.loads(out)}
    assert mem["/"]["memory_bytes"] >= mem["/system.slice"]["memory_bytes"] > 0
    assert mem["/system.slice"]["cpu_percent"] is None    # no CPU accounting in memory (v1)


def test_ls_stats_text_has_cgtop_columns(capsys):
    rc, out, _ = run(capsys, "--demo", "ls", "--stats", "freezer:/", "--sample", "0")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].split() == ["Path", "Tasks", "%CPU", "Memory", "Input/s", "Output/s", "Pids", "Frozen",
                                "Swap", "CPUsome", "MEMsome", "MEMfull", "IOsome", "IOfull"]
    assert lines[1].startswith("freezer:/ ")
    assert any(line.split()[7] == "yes" for line in lines[2:])    # the demo has a frozen cgroup
    assert all(len(line) == len(lines[0]) for line in lines)
    assert lines[0].index("Tasks") - 2 == 60                      # long paths are cut to 60, in the middle
    # the root: memory, pids, swap and pressure of the machine (v1 freezer: /proc/pressure)
    root = lines[1].split()
    assert "-" not in (root[3], root[6], *root[8:]) and root[7] == "-"
    assert set(line.split()[9] for line in lines[2:]) == {"-"}    # no pressure files in v1 cgroups


def test_ls_stats_pressure_and_swap_in_json_on_the_demo(capsys):
    rc, out, _ = run(capsys, "--demo", "ls", "unified:/", "--stats", "--json", "--sample", "0")
    assert rc == 0
    rows = {r["path"]: r for r in json.loads(out)}
    keys = ("cpu_some_avg10", "memory_some_avg10", "memory_full_avg10", "io_some_avg10", "io_full_avg10")
    assert all(isinstance(r[k], float) and 0 <= r[k] <= 100 for r in rows.values() for k in keys)
    assert rows["/"]["cpu_some_avg10"] >= rows["/user.slice"]["cpu_some_avg10"] > 0   # the busiest slice
    assert rows["/"]["swap_bytes"] > 0
    assert rows["/user.slice"]["swap_bytes"] is None         # no memory controller in the demo's v2
    rc, out, _ = run(capsys, "--demo", "ls", "freezer:/", "--stats", "--json", "--sample", "0")
    fz = json.loads(out)
    assert fz[0]["cpu_some_avg10"] is not None and all(r["cpu_some_avg10"] is None for r in fz[1:])


def test_ls_stats_sample_0_reads_once_and_leaves_rates_unknown(capsys, monkeypatch):
    reads: list[tuple[str, str]] = []
    real = SimKernel.cgroup_stats

    def counted(self, hierarchy, path, names=None):
        reads.append((hierarchy, path))
        return real(self, hierarchy, path, names)

    monkeypatch.setattr(SimKernel, "cgroup_stats", counted)
    rc, out, _ = run(capsys, "--demo", "ls", "cpuacct:/", "--stats", "--json", "--sample", "0")
    assert rc == 0
    rows = json.loads(out)
    assert sorted(reads) == sorted(("cpuacct", r["path"]) for r in rows)        # each cgroup once
    rates = ("cpu_percent", "io_read_bytes_per_s", "io_write_bytes_per_s")
    assert all(r[k] is None for r in rows for k in rates)
    assert rows[0]["memory_bytes"] is not None and rows[0]["cpu_some_avg10"] is not None
    rc, out, _ = run(capsys, "--demo", "ls", "cpuacct:/", "--stats", "--sample", "0")
    assert out.splitlines()[1].split()[2] == "-"                  # %CPU of /: not ctrtui's own


def test_ls_stats_sort_by_a_column(capsys):
    rc, out, _ = run(capsys, "--demo", "ls", "unified:/", "--stats", "--json", "--sample", "0",
                     "--sort", "memory_some")
    assert rc == 0
    got = [r["memory_some_avg10"] for r in json.loads(out)]
    assert got == sorted(got, reverse=True) and len(set(got)) > 2
    rc, out, _ = run(capsys, "--demo", "ls", "--stats", "--sample", "0", "--sort", "cpu")   # rates unknown
    assert rc == 0
    rc, out, _ = run(capsys, "--demo", "ls", "--stats", "--sample", "0.1", "--sort", "tasks")
    per_hier: dict[str, list[int]] = {}
    for line in out.splitlines()[1:]:
        per_hier.setdefault(line.split(":", 1)[0], []).append(int(line.split()[1]))
    assert len(per_hier) > 3 and all(v == sorted(v, reverse=True) for v in per_hier.values())


def test_ls_stats_bad_sort_is_one_line_exit_2(capsys):
    rc, out, err = run(capsys, "--demo", "ls", "--stats", "--sort", "nope[red]")
    assert rc == 2 and out == "" and err.count("\n") == 1 and "--sort" in err and "memory_some" in err


def test_ls_stats_pids_are_current_over_max_and_no_limit_is_null_in_json(capsys):
    rc, out, _ = run(capsys, "--demo", "ls", "pids:/init.scope", "--stats", "--sample", "0")
    assert rc == 0
    assert out.splitlines()[1].split() == ["pids:/init.scope", "1", "-", "-", "-", "-", "1/max", "-", *"-" * 6]
    rc, out, _ = run(capsys, "--demo", "ls", "pids:/init.scope", "--stats", "--json", "--sample", "0")
    row = json.loads(out)[0]
    assert (row["pids_current"], row["pids_max"]) == (1, None)   # pids.max `max`: null, never the string


def test_ls_stats_bad_sample_is_one_line_exit_2(capsys):
    rc, out, err = run(capsys, "--demo", "ls", "--stats", "--sample", "-1")
    assert rc == 2 and out == "" and err.count("\n") == 1 and "--sample" in err

