"""`ctrtui ls --stats`: cgroup figures as systemd-cgtop's columns, on the demo world (the real
kernel: tests/real/test_cli_stats_real.py)."""

from __future__ import annotations

import json

from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse


def test_ls_stats_json_on_the_demo(capsys):
    rc, out, _ = run(capsys, "--demo", "ls", "cpuacct:/", "--stats", "--json", "--sample", "0.2")
    assert rc == 0
    rows = {r["path"]: r for r in json.loads(out)}
    root = rows["/"]
    assert root["hierarchy"] == "cpuacct" and root["tasks"] > 50
    assert root["cpu_percent"] > 50                       # the demo trainer alone uses 85 %
    assert root["memory_bytes"] is None and root["frozen"] is None
    assert rows["/system.slice"]["cpu_percent"] >= rows["/system.slice/kubelet.service"]["cpu_percent"] > 0
    rc, out, _ = run(capsys, "--demo", "ls", "memory:/", "--stats", "--json", "--sample", "0")
    mem = {r["path"]: r for r in json.loads(out)}
    assert mem["/"]["memory_bytes"] >= mem["/system.slice"]["memory_bytes"] > 0
    assert mem["/"]["cpu_percent"] is None                # no CPU accounting in memory (v1)


def test_ls_stats_text_has_cgtop_columns(capsys):
    rc, out, _ = run(capsys, "--demo", "ls", "--stats", "freezer:/", "--sample", "0")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].split() == ["Path", "Tasks", "%CPU", "Memory", "Input/s", "Output/s", "Pids", "Frozen"]
    assert lines[1].startswith("freezer:/ ")
    assert any(line.split()[-1] == "yes" for line in lines[2:])   # the demo has a frozen cgroup
    assert all(len(line) < 140 for line in lines)                 # long paths are cut in the middle


def test_ls_stats_pids_are_current_over_max_and_no_limit_is_null_in_json(capsys):
    rc, out, _ = run(capsys, "--demo", "ls", "pids:/init.scope", "--stats", "--sample", "0")
    assert rc == 0
    assert out.splitlines()[1].split() == ["pids:/init.scope", "1", "-", "-", "-", "-", "1/max", "-"]
    rc, out, _ = run(capsys, "--demo", "ls", "pids:/init.scope", "--stats", "--json", "--sample", "0")
    row = json.loads(out)[0]
    assert (row["pids_current"], row["pids_max"]) == (1, None)   # pids.max `max`: null, never the string


def test_ls_stats_bad_sample_is_one_line_exit_2(capsys):
    rc, out, err = run(capsys, "--demo", "ls", "--stats", "--sample", "-1")
    assert rc == 2 and out == "" and err.count("\n") == 1 and "--sample" in err

