"""The command line end to end: output, JSON shapes, exit codes, bad input (demo and real)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ctrtui.cli import main


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """Journals and policies of these tests never touch the user's real state dir."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


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
    code = ("import sys; from ctrtui.cli import main; main(['--demo', 'hierarchies']); "
            "print(sorted(m for m in ('textual', 'psutil') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# ------------------------------------------------------------------- the real kernel


def ctrtui(*argv: str, journal) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_STATE_HOME=str(journal.parent / "state"))
    return subprocess.run([sys.executable, "-m", "ctrtui", *argv, "--journal", str(journal)],
                          capture_output=True, text=True, env=env, timeout=60)


def _free_pid() -> int:
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    for pid in range(pid_max - 1, 1000, -1):
        if not os.path.exists(f"/proc/{pid}"):
            return pid
    raise AssertionError("no free PID")


def test_real_move_and_undo_end_to_end(realworld, tmp_path):
    j = tmp_path / "journal.jsonl"
    cg = realworld.mkdir("freezer", "cli")
    p = realworld.spawn_sleep()
    zombie = realworld.spawn_zombie()
    gone = _free_pid()

    r = ctrtui("move", str(p.pid), "--to", f"freezer:{cg}", "--json", journal=j)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows[0]["outcome"] == "moved" and rows[0]["from"] == "/" and rows[0]["errno"] is None
    assert realworld.cgroup_of(p.pid, "freezer") == cg
    assert j.exists() and json.loads(j.read_text().splitlines()[-2])["pid"] == p.pid

    r = ctrtui("tasks", f"freezer:{cg}", "--json", journal=j)
    assert [row["pid"] for row in json.loads(r.stdout)] == [p.pid]
    r = ctrtui("ls", f"freezer:{cg}", "--json", journal=j)
    assert json.loads(r.stdout)[0] == {**json.loads(r.stdout)[0], "path": cg, "procs": 1}

    r = ctrtui("move", str(zombie), str(gone), "--to", f"freezer:{cg}", "--json", journal=j)
    assert r.returncode == 1
    rows = {row["pid"]: row for row in json.loads(r.stdout)}
    assert rows[gone]["outcome"] in ("refused", "vanished") and rows[gone]["errno"] == "ESRCH"
    assert rows[zombie]["outcome"] in ("refused", "not-moved")
    assert realworld.cgroup_of(zombie, "freezer") == "/"

    r = ctrtui("undo", "--json", journal=j)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["outcome"] == "moved"
    assert realworld.cgroup_of(p.pid, "freezer") == "/"

    r = ctrtui("move", str(p.pid), "--to", "unified:" + realworld.mkdir("unified", "cli"), journal=j)
    assert r.returncode == 0, r.stderr
    assert "moved" in r.stdout
    assert realworld.cgroup_of(p.pid, "unified") == realworld.top("unified") + "/cli"


def test_real_threads_mode_moves_one_thread(realworld, tmp_path):
    j = tmp_path / "journal.jsonl"
    cg = realworld.mkdir("pids", "t")
    proc, tids = realworld.spawn_threads(3)
    r = ctrtui("move", str(tids[1]), "--to", f"pids:{cg}", "--threads", "--json", journal=j)
    assert r.returncode == 0, r.stderr
    assert realworld.cgroup_of(tids[1], "pids") == cg
    assert realworld.cgroup_of(tids[0], "pids") == "/"
    r = ctrtui("move", str(tids[2]), "--to", f"pids:{cg}", "--json", journal=j)  # process mode
    assert r.returncode == 0, r.stderr
    assert all(realworld.cgroup_of(t, "pids") == cg for t in tids)


def test_real_ls_text_reads_only_threads_and_says_the_same_as_the_json(realworld, tmp_path):
    j = tmp_path / "journal.jsonl"
    top = realworld.mkdir("freezer", "ls")
    a, b = realworld.mkdir("freezer", "ls/a"), realworld.mkdir("freezer", "ls/a/b")
    proc, tids = realworld.spawn_threads(2)
    realworld.put(proc.pid, "freezer", a)
    realworld.put(tids[2], "freezer", b, file="tasks")
    text = ctrtui("ls", f"freezer:{top}", journal=j)
    rows = json.loads(ctrtui("ls", f"freezer:{top}", "--json", journal=j).stdout)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "cgroup  own tasks (with descendants)", f"freezer:{top}  0 (3)", "  a  2 (3)", "    b  1 (1)"]
    assert [(r["path"], r["tasks"], r["procs"], r["tasks_recursive"], r["procs_recursive"]) for r in rows] == [
        (top, 0, 0, 3, 2), (a, 2, 1, 3, 2), (b, 1, 1, 1, 1)]


@pytest.mark.parametrize("argv", [
    ["hierarchies"], ["hierarchies", "--json"], ["hierarchies", "--demo", "--json", "--json"],
    ["ls"], ["ls", "freezer:/a"], ["ls", "--json", "unified"], ["ls", "cpu,cpuacct:/x y", "--demo"], ["ls", ""],
    ["tasks", "freezer:/"], ["tasks", "--threads", "freezer:/", "--json"], ["tasks", "--demo", "pids:/a"],
])
def test_plain_subcommands_skip_argparse_and_parse_the_same(argv):
    from ctrtui.cli import _plain_args, build_parser

    fast = _plain_args(argv)
    assert fast is not None and vars(fast) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", [
    [], ["--demo", "ls"], ["ls", "--help"], ["ls", "--js"], ["ls", "a", "b"], ["tasks"], ["tasks", "--threads"],
    ["hierarchies", "x"], ["ls", "--policy", "p.toml"], ["ls", "--journal=j"], ["ls", "--", "-x"], ["move", "1"],
    ["ls", "--threads"], ["ls", "-h"], ["undo"],
])
def test_every_other_command_line_goes_to_argparse(argv):
    from ctrtui.cli import _plain_args

    assert _plain_args(argv) is None


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


@pytest.mark.parametrize("command", ["tasks", "ls"])
def test_a_cgroup_removed_between_lookup_and_read_is_exit_2_naming_it(realworld, capsys, monkeypatch, command):
    import ctrtui.cli as cli

    cg = realworld.mkdir("pids", "gone")
    resolve = cli._resolve

    def resolve_then_rmdir(*a, **kw):
        found = resolve(*a, **kw)
        os.rmdir(realworld.fs("pids", cg))  # removed by someone else after the lookup
        return found

    monkeypatch.setattr(cli, "_resolve", resolve_then_rmdir)
    rc, out, err = run(capsys, command, f"pids:{cg}")
    assert rc == 2 and out == ""
    assert f"pids:{cg}" in err and "removed" in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_interval_that_is_not_a_positive_number_is_exit_2(capsys, value):
    rc, out, err = run(capsys, "--demo", "--interval", value, "hierarchies")
    assert rc == 2 and "--interval" in err and out == ""


# ------------------------------------------------------------------- the journal (issue 7)


@pytest.mark.parametrize("name", sorted(__import__("tests.test_journal", fromlist=["BAD"]).BAD))
def test_every_malformed_journal_line_is_exit_2_naming_file_and_line(capsys, tmp_path, name):
    from tests.test_journal import BAD, good_batch

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
