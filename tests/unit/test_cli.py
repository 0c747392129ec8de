"""The command line end to end on the demo world: output, JSON shapes, exit codes, bad input
(the real kernel: tests/real/test_cli_real.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ctrtui.main import main
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse


def run_json(capsys, *argv: str):
    rc, out, err = run(capsys, *argv, "--json")
    return rc, json.loads(out), err


# ------------------------------------------------------------------- demo: reading


def test_hierarchies_json_lists_every_hierarchy(capsys):
    rc, rows, _ = run_json(capsys, "--demo", "hierarchies")
    assert rc == 0
    names = [r["name"] for r in rows]
    assert "unified" in names and "freezer" in names and "name=systemd" in names
    for r in rows:
        assert {"name", "version", "controllers", "mount", "cgroups", "tasks"} <= r.keys()
        assert r["cgroups"] >= 1 and r["tasks"] > 0
    assert {r["version"] for r in rows} == {1, 2}


def test_hierarchies_text_has_a_row_per_hierarchy(capsys):
    rc, out, _ = run(capsys, "hierarchies", "--demo")
    assert rc == 0
    lines = out.strip().splitlines()
    assert lines[0].split()[:2] == ["NAME", "V"]
    assert any(line.startswith("unified") for line in lines)


def test_ls_counts_own_and_recursive(capsys):
    rc, rows, _ = run_json(capsys, "--demo", "ls", "freezer:/")
    assert rc == 0
    by_path = {r["path"]: r for r in rows}
    root = by_path["/"]
    assert {"hierarchy", "path", "tasks", "procs"} <= root.keys()
    assert root["tasks_recursive"] == sum(r["tasks"] for r in rows)
    assert all(r["hierarchy"] == "freezer" for r in rows)


def test_ls_subtree_and_any_controller_of_a_comounted_hierarchy(capsys):
    rc, rows, _ = run_json(capsys, "--demo", "ls")
    assert rc == 0
    some = next(r for r in rows if r["hierarchy"] == "name=systemd" and r["path"].endswith(".slice"))
    rc, sub, _ = run_json(capsys, "--demo", "ls", f"name=systemd:{some['path']}")
    assert rc == 0
    assert sub[0]["path"] == some["path"]
    assert all(r["path"].startswith(some["path"]) for r in sub)


def test_tasks_sorted_with_keys(capsys):
    rc, rows, _ = run_json(capsys, "--demo", "tasks", "freezer:/")
    assert rc == 0 and rows
    pids = [r["pid"] for r in rows]
    assert pids == sorted(pids)
    assert {"pid", "tgid", "user", "state", "comm"} <= rows[0].keys()
    rc, threads, _ = run_json(capsys, "--demo", "tasks", "freezer:/", "--threads")
    assert len(threads) >= len(rows)


# ------------------------------------------------------------------- demo: moving


def _demo_pid(capsys, comm: str) -> int:
    rc, rows, _ = run_json(capsys, "--demo", "tasks", "name=systemd:/", "--threads")
    rc, allrows, _ = run_json(capsys, "--demo", "ls", "name=systemd:/")
    for r in allrows:
        rc, members, _ = run_json(capsys, "--demo", "tasks", f"name=systemd:{r['path']}")
        for m in members:
            if m["comm"] == comm:
                return m["pid"]
    raise AssertionError(f"no {comm} in the demo world")


def test_move_demo_success_exit_0(capsys):
    pid = _demo_pid(capsys, "nginx")
    rc, rows, _ = run_json(capsys, "--demo", "move", str(pid), "--to", "freezer:/")
    # already there or moved: both end in the target
    assert rc == 0
    assert rows[0]["pid"] == pid and rows[0]["outcome"] in ("moved", "already-there")


def test_move_demo_refusal_exit_1_with_errno_and_reason(capsys):
    pid = _demo_pid(capsys, "nginx")
    rc, rows, _ = run_json(capsys, "--demo", "move", str(pid), "2", "--to", "unified:/")
    assert rc == 1
    by_pid = {r["pid"]: r for r in rows}
    assert by_pid[2]["outcome"] == "refused"
    assert by_pid[2]["errno"] == "EINVAL"
    assert "2" in by_pid[2]["reason"] and by_pid[2]["reason"]
    assert by_pid[pid]["outcome"] in ("moved", "already-there")
    for r in rows:
        assert {"pid", "outcome", "errno", "reason"} <= r.keys()


def test_move_of_a_vanished_pid_advises_in_the_command_line_words(capsys):
    # the terminal UI's "Refresh the task list" means nothing here: the CLI names ps and `ctrtui tasks`
    for argv in (["move", "31999", "--to", "freezer:/"], ["move", "31999", "--to", "freezer:/", "--dry-run"]):
        rc, rows, _ = run_json(capsys, "--demo", *argv)
        assert rc == 1
        assert (rows[0]["outcome"], rows[0]["errno"]) == ("vanished", "ESRCH")
        assert rows[0]["advice"] == ("Nothing to move; check the PID with `ps -p 31999` or "
                                     "`ctrtui tasks HIER:/path`, and give the PID of a running task.")


@pytest.mark.parametrize("to, said", [
    # the hierarchy left out: the path is looked for in every hierarchy
    ("/isolated", "ctrtui: '/isolated' is not a hierarchy: cgroups are named HIERARCHY:/path; "
                  "did you mean cpuset:/isolated?\n"),
    ("isolated", "ctrtui: 'isolated' is not a hierarchy: cgroups are named HIERARCHY:/path; "
                 "did you mean cpuset:/isolated?\n"),
    ("/init.scope", "ctrtui: '/init.scope' is not a hierarchy: cgroups are named HIERARCHY:/path; "
                    "did you mean unified:/init.scope? (/init.scope is in 8 hierarchies: cpu, cpuacct, memory, "
                    "devices, blkio, pids, name=systemd and unified)\n"),
    ("/nope", "ctrtui: '/nope' is not a hierarchy: cgroups are named HIERARCHY:/path, and no hierarchy has a "
              "cgroup /nope; known hierarchies: cpu, cpuacct, cpuset, memory, devices, freezer, blkio, pids, "
              "name=systemd, unified\n"),
    # a hierarchy misspelt: its path is looked for too
    ("cpusett:/isolated", "ctrtui: unknown hierarchy 'cpusett' in 'cpusett:/isolated': cgroups are named "
                          "HIERARCHY:/path; did you mean cpuset:/isolated?\n"),
    ("nope:/nope", "ctrtui: unknown hierarchy 'nope' in 'nope:/nope': cgroups are named HIERARCHY:/path; "
                   "known hierarchies: cpu, cpuacct, cpuset, memory, devices, freezer, blkio, pids, name=systemd, "
                   "unified\n"),
])
def test_a_target_without_its_hierarchy_says_how_cgroups_are_named_and_what_was_meant(capsys, to, said):
    rc, out, err = run(capsys, "--demo", "move", "1", "--to", to, "--dry-run")
    assert (rc, out, err) == (2, "", said)


def test_a_path_in_two_hierarchies_lists_both():
    from ctrtui.cli.common import UsageError, resolve
    from ctrtui.sources.simulated import SimKernel

    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.add_hierarchy("pids", 1, ["pids"])
    k.add_hierarchy("unified", 2, [])
    k.mkdir("freezer", "/a")
    k.mkdir("unified", "/a")
    with pytest.raises(UsageError) as e:
        resolve(k, "/a")
    assert str(e.value) == ("'/a' is not a hierarchy: cgroups are named HIERARCHY:/path; "
                            "did you mean freezer:/a or unified:/a?")


def test_a_v1_move_says_its_risk_on_stderr_and_in_json_as_the_readme_promises(capsys):
    pid = _demo_pid(capsys, "sshd")   # in pids:/system.slice/ssh.service
    rc, rows, err = run_json(capsys, "--demo", "move", str(pid), "--to", "pids:/", "--dry-run")
    said = ("Only the pids hierarchy changes: in cpu, cpuacct, cpuset, memory, devices, freezer, blkio, "
            "name=systemd and unified these tasks stay in the cgroups they are in now (cgroup v1 hierarchies are "
            "independent).")
    assert rc == 0 and rows[0]["outcome"] == "would-move" and said in rows[0]["risks"]
    assert f"ctrtui: risk: {said}\n" in err
    rc, rows, err = run_json(capsys, "--demo", "move", str(pid), "--to", "unified:/", "--dry-run")
    assert not [r for r in rows[0]["risks"] if "hierarchy changes" in r]   # v2: nothing stays behind


def test_move_text_output_one_line_per_pid(capsys):
    pid = _demo_pid(capsys, "nginx")
    rc, out, err = run(capsys, "--demo", "move", str(pid), "2", "--to", "unified:/")
    assert rc == 1
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert any("refused EINVAL" in line for line in lines)
    assert "batch" in err


def test_move_dry_run_changes_nothing(capsys):
    pid = _demo_pid(capsys, "sshd")
    rc, rows, _ = run_json(capsys, "--demo", "move", str(pid), "--to", "freezer:/", "--dry-run")
    assert rc == 0
    assert rows[0]["outcome"] in ("would-move", "already-there")


def test_move_all_or_nothing_refuses_everything(capsys):
    pid = _demo_pid(capsys, "sshd")
    rc, rows, _ = run_json(capsys, "--demo", "move", str(pid), "2", "--to", "unified:/",
                           "--all-or-nothing")
    assert rc == 1
    assert all(r["outcome"] != "moved" for r in rows)


@pytest.mark.parametrize("argv, culprit", [
    (["move", "abc", "--to", "freezer:/"], "abc"),
    (["move", "-1", "--to", "freezer:/"], "-1"),
    (["move", "015", "--to", "freezer:/"], "015"),
    (["move", "99999999999", "--to", "freezer:/"], "99999999999"),
    (["move", "1", "--to", "nosuch:/"], "nosuch"),
    (["move", "1", "--to", "freezer:/no/such/cgroup"], "/no/such/cgroup"),
    (["move", "1", "--to", "freezer"], None),
    (["tasks", "bogus:/"], "bogus"),
    (["ls", "freezer:/../etc"], ".."),
    (["move", "1", "--to", "freezer:/", "--policy", "/nonexistent/policy.toml"], "policy.toml"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, culprit):
    rc, out, err = run(capsys, "--demo", *argv)
    if culprit is None:  # a bare hierarchy is its root: valid
        assert rc in (0, 1)
        return
    assert rc == 2
    assert err.startswith("ctrtui: ") and len(err.strip().splitlines()) == 1
    assert culprit in err
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["move", "1"])  # no --to
    assert e.value.code == 2


def test_corrupt_journal_is_exit_2_naming_it(capsys, tmp_path):
    j = tmp_path / "j.jsonl"
    j.write_text("this is not json\n{\"also\": \"bad\"}\n")
    rc, out, err = run(capsys, "--demo", "undo", "--journal", str(j))
    assert rc == 2
    assert str(j) in err and "Traceback" not in err


def test_undo_with_empty_journal_says_so(capsys, tmp_path):
    rc, out, err = run(capsys, "--demo", "undo", "--journal", str(tmp_path / "none.jsonl"))
    assert rc == 1
    assert "nothing to undo" in err


def test_cli_import_does_not_import_textual():
    code = "import sys, ctrtui.cli; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "ctrtui", "--demo", "hierarchies", "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)
    code = ("import sys; from ctrtui.main import main; main(['--demo', 'hierarchies']); "
            "print(sorted(m for m in ('textual', 'psutil') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# ------------------------------------------------------------------- parsing the command line


@pytest.mark.parametrize("argv, expected", [
    (["hierarchies"], {"command": "hierarchies", "json": False, "demo": False, "policy": None, "journal": None}),
    (["hierarchies", "--demo", "--json", "--json"], {"command": "hierarchies", "json": True, "demo": True}),
    (["ls", "cpu,cpuacct:/x y", "--demo"], {"command": "ls", "cgroup": "cpu,cpuacct:/x y", "demo": True}),
    (["--demo", "ls"], {"command": "ls", "cgroup": None, "demo": True}),
    (["--policy", "a.toml", "ls", "--policy", "b.toml"], {"policy": "b.toml"}),
    (["--policy", "a.toml", "tasks", "freezer:/"], {"policy": "a.toml", "cgroup": "freezer:/", "threads": False}),
    (["tasks", "--threads", "freezer:/", "--json"], {"threads": True, "json": True}),
    (["ls", "--demo=hostile"], {"demo": "hostile"}),
    (["move", "1", "2", "--to", "pids:/", "--dry-run"],
     {"pids": ["1", "2"], "target": "pids:/", "dry_run": True, "threads": False, "all_or_nothing": False}),
    (["log"], {"limit": 20}),
    ([], {"command": None, "interval": 2.0, "read_only": False, "no_journal": False}),
])
def test_one_parser_for_every_command_line(argv, expected):
    """Global options are taken before and after the subcommand (the later one wins), with
    the same defaults either way."""
    from ctrtui.cli.parser import build_parser

    got = vars(build_parser().parse_args(argv))
    assert {k: got[k] for k in expected} == expected
    assert {"demo", "policy", "journal", "interval", "read_only", "command"} <= got.keys()


@pytest.mark.parametrize("command, own", [
    ("hierarchies", "--json"), ("ls", "HIERARCHY:/path"), ("tasks", "--threads"), ("move", "--all-or-nothing"),
    ("undo", "BATCH"), ("log", "--limit"),
])
def test_each_subcommand_has_its_own_help_and_usage(capsys, command, own):
    """A subcommand's arguments are added when it is used: its help and its usage errors show them."""
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and out.startswith(f"usage: ctrtui {command} ")
    assert own in out and "--policy FILE" in out and "--journal FILE" in out


GLOBAL_USAGE = ("[-h] [--demo] [--policy FILE] [--journal FILE] [--host [USER@]HOST[:PORT]] [--hosts FILE] [--sudo] "
                "[--remote-python PATH] [--ssh-config FILE] [--timeout SECONDS] [--jobs N]")


@pytest.mark.parametrize("argv, usage, own", [
    (["log", "--limit", "x"], f"usage: ctrtui log {GLOBAL_USAGE}", "[--json] [-n N]"),
    (["tasks"], f"usage: ctrtui tasks {GLOBAL_USAGE}", "[--json] [--threads]"),
])
def test_a_subcommand_error_shows_its_own_usage(capsys, monkeypatch, argv, usage, own):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith(usage), err
    assert own in err.split("\n", 2)[1], err


def test_help_is_as_wide_as_columns_says(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    with pytest.raises(SystemExit):
        main(["move", "--help"])
    out = capsys.readouterr().out
    assert "--all-or-nothing" in out and max(map(len, out.splitlines())) <= 60
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main(["move", "--help"])
    assert max(map(len, capsys.readouterr().out.splitlines())) > 60


def test_a_torn_journal_line_is_forgiven_with_a_warning_on_stderr(capsys, tmp_path):
    j = tmp_path / "j.jsonl"
    rc, rows, _ = run_json(capsys, "--demo", "move", "--journal", str(j), "--to", "pids:/", "492")
    assert rc == 0 and rows[0]["outcome"] == "moved"
    with open(j, "a") as f:
        f.write('{"batch": "x", "pi')  # a crash mid-write
    rc, out, err = run(capsys, "--demo", "undo", "--journal", str(j))
    assert "Traceback" not in err
    assert "492" in out
    assert "warning" in err and "torn last line" in err


def test_a_torn_only_journal_warns_even_when_nothing_is_left_to_undo(capsys, tmp_path):
    j = tmp_path / "j.jsonl"
    j.write_text('{"batch": "x", "pi')
    rc, out, err = run(capsys, "--demo", "undo", "--journal", str(j))
    assert rc == 1
    assert "nothing to undo" in err and "torn last line" in err


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_interval_that_is_not_a_positive_number_is_exit_2(capsys, value):
    rc, out, err = run(capsys, "--demo", "--interval", value, "hierarchies")
    assert rc == 2 and "--interval" in err and out == ""


# ------------------------------------------------------------------- the journal (issue 7)


@pytest.mark.parametrize("name", sorted(__import__("tests.unit.test_journal", fromlist=["BAD"]).BAD))
def test_every_malformed_journal_line_is_exit_2_naming_file_and_line(capsys, tmp_path, name):
    from tests.unit.test_journal import BAD, good_batch

    j = tmp_path / "j.jsonl"
    rows = good_batch("b1", 492)
    j.write_text(json.dumps(rows[0]) + "\n" + BAD[name] + "\n" + "".join(json.dumps(r) + "\n" for r in rows[1:]))
    for argv in (["undo"], ["log"]):
        rc, out, err = run(capsys, "--demo", *argv, "--journal", str(j))
        assert rc == 2, (argv, err)
        assert f"{j} is corrupt at line 2" in err and "Traceback" not in err and len(err.splitlines()) == 1
    # a move reads the journal back only to its last close record (for batches left open):
    # a bad line there stops it before anything moves
    j.write_text("".join(json.dumps(r) + "\n" for r in rows) + BAD[name] + "\n")
    rc, out, err = run(capsys, "--demo", "move", "493", "--to", "pids:/", "--journal", str(j))
    assert rc == 2 and f"{j} is corrupt at line 4" in err and len(err.splitlines()) == 1 and not out


def test_log_and_undo_by_batch_and_journaled_in_json(capsys, tmp_path):
    j = str(tmp_path / "j.jsonl")
    rc, first, _ = run_json(capsys, "--demo", "move", "--journal", j, "--to", "pids:/", "492", "493")
    assert rc == 0 and {r["journaled"] for r in first} == {True}
    rc, second, _ = run_json(capsys, "--demo", "move", "--journal", j, "--to", "pids:/", "494")
    rc, log, _ = run_json(capsys, "--demo", "log", "--journal", j)
    assert [(b["batch"], b["state"], b["counts"]) for b in log] == [
        (second[0]["batch"], "done", {"moved": 1}), (first[0]["batch"], "done", {"moved": 2})]
    # the demo world is built afresh by every process: the undo finds 492 and 493 back home
    rc, rows, _ = run_json(capsys, "--demo", "undo", first[0]["batch"], "--journal", j)
    assert rc == 0 and {r["undo_of"] for r in rows} == {first[0]["batch"]}
    assert [r["to"] for r in rows] == ["pids:/system.slice/ssh.service", "pids:/system.slice/nginx.service"]
    rc, out, err = run(capsys, "--demo", "log", "--journal", j)
    assert rc == 0 and "undone" in out and f"undo of {first[0]['batch']}" in out
    rc, out, err = run(capsys, "--demo", "undo", "nope", "--journal", j)
    assert rc == 2 and "no batch 'nope'" in err
    rc, out, err = run(capsys, "--demo", "log", "-n", "-1", "--journal", j)
    assert rc == 2 and "--limit" in err


def test_log_says_running_and_which_process_while_a_writer_holds_the_batch(capsys, tmp_path):
    """An open batch whose writer holds the journal's lock is at work (`running (pid N)`); once
    that process is gone without closing it, it is `open` (cut by a crash)."""
    j = str(tmp_path / "j.jsonl")
    batch = "20261207T000000-abcdef"
    task = {"pid": 492, "start_time": 1, "pidfs": None, "from": "/system.slice/ssh.service", "to": "/"}
    code = (f"import sys\nfrom ctrtui.engine.journal import Journal\nj = Journal({j!r})\nwith j.locked():\n"
            f"    j.write_intent({batch!r}, 'pids', False, None, '/', [{task!r}], backend='demo')\n"
            f"    print('ready', flush=True)\n    sys.stdin.readline()\n")
    writer = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "ready\n"
        rc, rows, _ = run_json(capsys, "--demo", "log", "--journal", j)
        assert rc == 0 and [(r["batch"], r["state"], r["writer_pid"]) for r in rows] == [
            (batch, "running", writer.pid)]
        rc, out, _ = run(capsys, "--demo", "log", "--journal", j)
        assert out.splitlines()[1].split()[:5] == [batch, *rows[0]["time"][:19].split("T"), "running",
                                                   "(pid"] and f"running (pid {writer.pid})  " in out
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
        writer.stdout.close()
    rc, rows, _ = run_json(capsys, "--demo", "log", "--journal", j)
    assert [(r["batch"], r["state"], r["writer_pid"]) for r in rows] == [(batch, "open", None)]
    rc, out, _ = run(capsys, "--demo", "log", "--journal", j)
    assert out.splitlines()[1].split()[3] == "open"


def test_no_journal_moves_without_a_record_and_says_so(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    j = str(blocker / "j.jsonl")
    rc, out, err = run(capsys, "--demo", "move", "--journal", j, "--to", "pids:/", "492")
    assert rc == 2 and j in err and "nothing was moved" in err and len(err.splitlines()) == 1
    rc, rows, err = run_json(capsys, "--demo", "move", "--journal", j, "--no-journal", "--to", "pids:/", "492")
    assert rc == 0 and rows[0]["outcome"] == "moved" and rows[0]["journaled"] is False
    rc, out, err = run(capsys, "--demo", "move", "--journal", j, "--no-journal", "--to", "pids:/", "492")
    assert rc == 0 and "not journaled" in err


def test_journal_max_must_be_a_size(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CTRTUI_JOURNAL_MAX", "lots")
    rc, out, err = run(capsys, "--demo", "move", "--journal", str(tmp_path / "j"), "--to", "pids:/", "492")
    assert rc == 2 and "CTRTUI_JOURNAL_MAX" in err


# ------------------------------------------------------------------- output errors


def _cli(tmp_path, *argv: str, stdout=None, shell: str | None = None) -> subprocess.CompletedProcess:
    """`python -m ctrtui ARGV` in its own process (stdout as given: a file, a pipe's write end)
    or, with `shell`, `sh -c SHELL` where "$@" is that command line."""
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    cmd = [sys.executable, "-m", "ctrtui", *argv]
    if shell is not None:
        cmd = ["bash", "-c", shell, "sh", *cmd]
    return subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, timeout=60)


def _assert_one_line_about_output(err: str, errno: str) -> None:
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = [line for line in err.splitlines() if "could not write the output" in line]
    assert len(lines) == 1 and errno in lines[0] and lines[0].startswith("ctrtui: "), err


@pytest.mark.parametrize("argv", [["ls"], ["ls", "--json"], ["hierarchies", "--json"], ["hierarchies"],
                                  ["tasks", "unified:/"], ["tasks", "freezer:/", "--json"]])
def test_output_to_a_full_device_is_one_line_and_exit_1(tmp_path, argv):
    with open("/dev/full", "w") as full:
        p = _cli(tmp_path, "--demo", *argv, stdout=full)
    assert p.returncode == 1
    _assert_one_line_about_output(p.stderr, "ENOSPC")


@pytest.mark.parametrize("argv", [["ls"], ["hierarchies", "--json"], ["tasks", "unified:/"]])
def test_output_to_a_closed_stdout_is_one_line_and_exit_1(tmp_path, argv):
    p = _cli(tmp_path, "--demo", *argv, shell='"$@" >&-')
    assert p.returncode == 1
    _assert_one_line_about_output(p.stderr, "EBADF")


def test_a_full_stderr_changes_neither_the_output_nor_the_status(tmp_path):
    """The batch summary and warnings go to stderr; when that fails the command still
    finishes: the report on stdout is whole and the status is the outcomes'."""
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    with open("/dev/full", "w") as full:
        p = subprocess.run([sys.executable, "-m", "ctrtui", "--demo", "move", "1", "--to", "freezer:/"],
                           stdout=subprocess.PIPE, stderr=full, text=True, env=env, timeout=60)
    assert p.returncode == 0
    assert p.stdout.split()[:2] == ["1", "already-there"]
    p = _cli(tmp_path, "--demo", "ls", shell='"$@" >&- 2>&-; echo "rc=$?" >&2')  # nowhere to say it
    assert p.stderr.strip() == "rc=1"


def test_a_closed_stdout_is_held_by_dev_null_so_no_file_opened_later_takes_fd_1(tmp_path):
    code = ("import os, sys\nfrom ctrtui.main import main\nrc = main(['--demo', 'move', '1', '--to', 'freezer:/'])\n"
            "print(rc, os.readlink('/proc/self/fd/1'), file=sys.stderr)\n")
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    p = subprocess.run(["bash", "-c", '"$@" >&-', "sh", sys.executable, "-c", code], capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.stderr.splitlines()[-1] == "1 /dev/null", p.stderr
    _assert_one_line_about_output(p.stderr, "EBADF")


def _closed_pipe() -> int:
    """The write end of a pipe whose reader has already gone (every write: EPIPE)."""
    r, w = os.pipe()
    os.close(r)
    return w


def test_move_into_a_closed_pipe_still_exits_1_when_a_pid_was_refused(tmp_path):
    w = _closed_pipe()
    try:
        p = _cli(tmp_path, "--demo", "move", "2", "1", "--to", "freezer:/", stdout=w)  # kthreadd: EINVAL
    finally:
        os.close(w)
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr
    assert "1 refused" in p.stderr  # the batch summary (stderr) is still told
    # a read command whose reader left early: quiet, like other tools on a closed pipe
    w = _closed_pipe()
    try:
        p = _cli(tmp_path, "--demo", "ls", "--json", stdout=w)
    finally:
        os.close(w)
    assert (p.returncode, p.stderr) == (0, "")


def test_move_piped_to_head_reports_the_refusal_in_its_status(tmp_path):
    pids = " ".join(str(p) for p in range(1, 400))  # many rows: head leaves while they are written
    p = _cli(tmp_path, "--demo", "move", *pids.split(), "--to", "freezer:/",
             shell='set -o pipefail; "$@" | head -1 >/dev/null')
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr


def test_move_to_a_full_device_reports_outcomes_and_the_lost_output(tmp_path):
    with open("/dev/full", "w") as full:
        refused = _cli(tmp_path, "--demo", "move", "2", "--to", "freezer:/", stdout=full)
        moved = _cli(tmp_path, "--demo", "move", "1", "--to", "freezer:/", "--json", stdout=full)
    assert refused.returncode == 1
    _assert_one_line_about_output(refused.stderr, "ENOSPC")
    assert moved.returncode == 1  # every PID is in the target, but its report was lost
    _assert_one_line_about_output(moved.stderr, "ENOSPC")


# ------------------------------------------------------------------- a policy that cannot be used


@pytest.mark.parametrize("text, words", [
    ('[protect]\ncgroups = ["freezr:/x"]\n', "protect.cgroups[0] names hierarchy 'freezr'"),
    ('[protect]\ncgroups = [{ pattern = "/x", hierarchy = "freezr" }]\n', "hierarchy 'freezr'"),
    ('[protect]\ncommands = ["/usr/sbin/sshd"]\n', "protect.commands[0]"),
    ("[protect]\npids = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
])
@pytest.mark.parametrize("command", [
    ["move", "1", "--to", "freezer:/"], ["move", "1", "--to", "freezer:/", "--dry-run"], ["undo"],
])
def test_an_unusable_policy_is_one_line_and_exit_2_before_anything_moves(capsys, tmp_path, text, words, command):
    f = tmp_path / "policy.toml"
    f.write_text(text)
    rc, out, err = run(capsys, "--demo", *command, "--policy", str(f))
    assert (rc, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith(f"ctrtui: policy file {f}") and words in err, err
    assert not (tmp_path / "state").exists()  # no journal: nothing was moved


def test_a_dangling_default_policy_is_exit_2(capsys, tmp_path):
    f = tmp_path / "config" / "ctrtui" / "policy.toml"
    f.parent.mkdir(parents=True)
    f.symlink_to("/nonexistent/policy.toml")
    rc, out, err = run(capsys, "--demo", "move", "1", "--to", "freezer:/")
    assert (rc, out) == (2, "") and str(f) in err and "does not exist" in err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a child as uid 65534")
def test_a_default_policy_in_a_directory_the_user_cannot_search_is_exit_2(tmp_path):
    import tempfile

    base = tempfile.mkdtemp(prefix="ctrtui-test-policy-")
    try:
        os.chmod(base, 0o755)
        cfg = os.path.join(base, "cfg")
        os.makedirs(os.path.join(cfg, "ctrtui"))
        os.chmod(os.path.join(cfg, "ctrtui"), 0o700)  # root's: uid 65534 may not search it
        with open(os.path.join(cfg, "ctrtui", "policy.toml"), "w") as f:
            f.write('[protect]\ncommands = ["sshd"]\n')

        # The child drops to uid 65534 itself, after importing what it needs (the interpreter
        # may sit where that user cannot read).
        code = ("import argparse, json, locale, signal, tomllib\n"
                "import ctrtui.main, ctrtui.cli.parser, ctrtui.engine, ctrtui.sources, ctrtui.sources.demo\n"
                "ctrtui.cli.parser.build_parser(); ctrtui.sources.open_backend('demo')\n"
                "import os, sys\n"
                "os.setgroups([]); os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534)\n"
                "sys.exit(ctrtui.main.main(['--demo', 'move', '1', '--to', 'freezer:/']))\n")
        env = dict(os.environ, XDG_CONFIG_HOME=cfg, XDG_STATE_HOME=os.path.join(base, "state"))
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode == 2, p.stderr
        assert "EACCES" in p.stderr and os.path.join(cfg, "ctrtui", "policy.toml") in p.stderr, p.stderr
        assert p.stdout == "" and "Traceback" not in p.stderr
    finally:
        import shutil

        shutil.rmtree(base)


# ------------------------------------------------------------------- risks: what the UI would ask first


def _expected_risks(pids: list[int], target: str) -> list[str]:
    """What the UI's confirm would say of this move on a fresh demo world: assess() on a
    whole snapshot (the command line reads only the target's subtree of each hierarchy)."""
    from ctrtui.engine import AttachEngine
    from ctrtui.engine.risk import assess
    from ctrtui.model import CgroupRef
    from ctrtui.sources.demo import demo_world

    world = demo_world()
    plan = AttachEngine(world, load_entry_points=False).plan(pids, CgroupRef.parse(target))
    return assess(plan, world.snapshot(), world)


def _risk_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("ctrtui: risk: ")]


@pytest.mark.parametrize("dry_run", [True, False])
def test_moving_pid_1_prints_the_risks_the_ui_asks_about(capsys, dry_run):
    expected = _expected_risks([1], "unified:/")
    assert any(r.startswith("PID 1 (systemd) would move to unified:/") for r in expected), expected
    assert any("would leave the systemd unit init.scope" in r for r in expected), expected
    extra = ["--dry-run"] if dry_run else []
    rc, out, err = run(capsys, "--demo", "move", "1", "--to", "unified:/", *extra)
    assert rc == 0
    assert _risk_lines(err) == ["ctrtui: risk: " + r for r in expected], err
    assert len(out.splitlines()) == 1 and out.split()[:2] == ["1", "would-move" if dry_run else "moved"]
    rc, rows, err = run_json(capsys, "--demo", "move", "1", "--to", "unified:/", *extra)
    assert rc == 0 and [r["risks"] for r in rows] == [expected]
    assert _risk_lines(err) == ["ctrtui: risk: " + r for r in expected]  # stderr in JSON mode too


def test_moving_into_a_systemd_unit_says_systemd_may_move_them(capsys):
    cron = _demo_pid(capsys, "cron")
    expected = _expected_risks([cron], "unified:/system.slice/nginx.service")
    rc, rows, err = run_json(capsys, "--demo", "move", str(cron), "--to", "unified:/system.slice/nginx.service")
    assert rc == 0 and rows[0]["outcome"] == "moved"
    risks = rows[0]["risks"]
    assert risks == expected
    assert any("belongs to the systemd unit nginx.service" in r for r in risks), risks
    assert any("would leave the systemd unit cron.service" in r for r in risks), risks
    assert len(_risk_lines(err)) == len(risks)


def test_moving_more_than_20_tasks_at_once_says_so(capsys):
    from ctrtui.engine.risk import MANY_TASKS
    from ctrtui.sources.demo import demo_world

    snap = demo_world().snapshot(["unified"])["unified"]
    pids = sorted(p for path, c in snap.containers.items() if path.startswith("/system.slice/") for p in c.procs)
    assert len(pids) > MANY_TASKS
    rc, rows, err = run_json(capsys, "--demo", "move", *map(str, pids), "--to", "unified:/", "--dry-run")
    moved = sum(r["outcome"] == "would-move" for r in rows)  # the plan's count (a few may exit meanwhile)
    assert moved > MANY_TASKS
    many = [r for r in rows[0]["risks"] if "tasks would move at once" in r]
    assert many == [f"{moved} tasks would move at once to unified:/ (more than {MANY_TASKS}); "
                    "check the list before going on."], rows[0]["risks"]
    assert all(r["risks"] == rows[0]["risks"] for r in rows)
    assert "ctrtui: risk: " + many[0] in err.splitlines()
    rc, out, err = run(capsys, "--demo", "move", *map(str, pids), "--to", "unified:/")
    assert "ctrtui: risk: " + many[0] in err.splitlines()


def test_a_move_that_moves_nothing_and_an_undo_have_no_risks(capsys, tmp_path):
    rc, rows, err = run_json(capsys, "--demo", "move", "1", "--to", "freezer:/")  # already there
    assert rc == 0 and rows[0]["outcome"] == "already-there" and rows[0]["risks"] == []
    assert not _risk_lines(err)
    rc, out, err = run(capsys, "--demo", "move", "1", "--to", "freezer:/")
    assert rc == 0 and "risk" not in err
    # an undo is not assessed (the UI does not ask before one either): its rows say so
    j = str(tmp_path / "j.jsonl")
    rc, rows, err = run_json(capsys, "--demo", "move", "--journal", j, "--to", "pids:/", "492")
    assert rc == 0 and rows[0]["risks"]
    rc, rows, err = run_json(capsys, "--demo", "undo", "--journal", j)
    assert rc == 0 and rows and all(r["risks"] == [] for r in rows) and not _risk_lines(err)


def test_risks_that_cannot_be_checked_are_said_and_the_move_goes_on(capsys, monkeypatch):
    from ctrtui.engine import risk

    def broken(plan, snapshot, backend):
        raise OSError(5, "Input/output error", "/sys/fs/cgroup/unified")

    monkeypatch.setattr(risk, "assess", broken)
    rc, out, err = run(capsys, "--demo", "move", "1", "--to", "unified:/")
    assert rc == 0 and out.split()[:2] == ["1", "moved"]
    assert _risk_lines(err) == ["ctrtui: risk: Could not check this move for risks "
                                "(EIO: Input/output error (/sys/fs/cgroup/unified))."], err


def test_undo_and_log_when_systemd_removed_the_origin(capsys, tmp_path, monkeypatch):
    """logind removed the scope a task was moved out of: a bare undo skips that batch saying
    why, `log` says it cannot be undone (not `undone`), and undoing it by name again neither
    writes a new batch nor advises creating the cgroup."""
    from ctrtui.cli import common as cli_module
    from ctrtui.sources.simulated import SimKernel

    scope = "/user.slice/user-1000.slice/session-3.scope"
    k = SimKernel()
    k.add_hierarchy("unified", 2, ["pids"])
    k.makedirs("unified", scope)
    k.mkdir("unified", "/b")
    p = k.spawn("sleep", cgroups={"unified": scope})
    monkeypatch.setattr(cli_module, "backend_of", lambda args: k)
    j = str(tmp_path / "j.jsonl")
    rc, rows, _ = run_json(capsys, "move", "--journal", j, "--to", "unified:/b", str(p))
    batch = rows[0]["batch"]
    k.rmdir("unified", scope)
    rc, out, err = run(capsys, "undo", "--journal", j)
    assert rc == 1 and f"batch {batch} was skipped: it cannot be undone" in err and scope in err, err
    assert f"ctrtui move {p} --to 'unified:/user.slice/user-1000.slice'" in err and "create" not in err
    rc, log, _ = run_json(capsys, "log", "--journal", j)
    assert [b["state"] for b in log] == ["refused", "cannot be undone: origin gone"]
    rc, out, _ = run(capsys, "log", "--journal", j)
    assert "not undoable" in out and "(cannot be undone: origin gone)" in out and " undone " not in out
    for argv in (("undo", batch), ("undo",)):
        rc, out, err = run(capsys, *argv, "--journal", j)
        assert rc == 1 and "cannot be undone" in err and "ENOENT" not in err, err
    rc, log, _ = run_json(capsys, "log", "--journal", j)
    assert len(log) == 2  # tried again: no new batch


def test_move_warns_before_it_makes_a_thread_root(capsys, tmp_path, monkeypatch):
    """/p enables only threaded controllers and has an empty child: `move --dry-run` (and
    its --json) says, before anything happens, that the move turns /p/c 'domain invalid'."""
    from ctrtui.cli import common as cli_module
    from ctrtui.sources.simulated import SimKernel

    k = SimKernel()
    k.add_hierarchy("unified", 2, ["cpu", "pids"])
    k.set_subtree_control("unified", "/", "+cpu +pids")
    k.makedirs("unified", "/p/c")
    k.set_subtree_control("unified", "/p", "+cpu +pids")
    p = k.spawn("sleep")
    monkeypatch.setattr(cli_module, "backend_of", lambda args: k)
    j = str(tmp_path / "j.jsonl")
    rc, out, err = run(capsys, "move", "--dry-run", "--journal", j, "--to", "unified:/p", str(p))
    assert rc == 0 and "thread root" in out + err and "/p/c becomes 'domain invalid'" in out + err, (out, err)
    rc, rows, _ = run_json(capsys, "move", "--dry-run", "--journal", j, "--to", "unified:/p", str(p))
    assert any("domain invalid" in w for w in rows[0]["warnings"]), rows
    assert k.task_cgroup(p, "unified") == "/"
