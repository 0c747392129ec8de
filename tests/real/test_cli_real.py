"""The command line end to end on the real kernel: moves, undo, threads, ls, a cgroup removed
under it, a protected long command name (the demo world: tests/unit/test_cli.py).

Real tests use the `realworld` fixture (tests/realcg.py): throwaway `ctrtui-test-*` cgroups
and only processes they start themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse


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
    assert rows[gone]["outcome"] == "vanished" and rows[gone]["errno"] == "ESRCH"
    assert rows[zombie]["outcome"] == "vanished" and rows[zombie]["errno"] == "ESRCH"
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


@pytest.mark.parametrize("command", ["tasks", "ls"])
def test_a_cgroup_removed_between_lookup_and_read_is_exit_2_naming_it(realworld, capsys, monkeypatch, command):
    from ctrtui.cli import listing

    cg = realworld.mkdir("pids", "gone")
    resolve = listing.resolve

    def resolve_then_rmdir(*a, **kw):
        found = resolve(*a, **kw)
        os.rmdir(realworld.fs("pids", cg))  # removed by someone else after the lookup
        return found

    monkeypatch.setattr(listing, "resolve", resolve_then_rmdir)
    rc, out, err = run(capsys, command, f"pids:{cg}")
    assert rc == 2 and out == ""
    assert f"pids:{cg}" in err and "removed" in err and "Traceback" not in err


def test_real_a_long_command_name_is_protected_by_its_program_name(realworld, tmp_path):
    """On the real kernel: comm keeps 15 bytes of `ctrtui-test-long-sleeper`; the policy names it
    whole and the move is refused (the same program under a short name moves)."""
    import shutil

    prog = tmp_path / "ctrtui-test-long-sleeper"
    shutil.copy(shutil.which("sleep"), prog)
    long = realworld._popen([str(prog), "300"])
    short = realworld.spawn_sleep()
    policy = tmp_path / "policy.toml"
    policy.write_text('[protect]\ncommands = ["ctrtui-test-long-sleeper"]\n')
    cg = realworld.mkdir("freezer", "policy")
    j = tmp_path / "journal.jsonl"
    r = ctrtui("move", str(long.pid), str(short.pid), "--to", f"freezer:{cg}", "--policy", str(policy),
               "--json", journal=j)
    assert r.returncode == 1, r.stderr
    rows = {row["pid"]: row for row in json.loads(r.stdout)}
    assert open(f"/proc/{long.pid}/comm").read().strip() == "ctrtui-test-lon"
    row = rows[long.pid]
    assert (row["outcome"], row["errno"], row["hook"]) == ("refused", "EPERM", "policy")
    assert "program name 'ctrtui-test-long-sleeper'" in rows[long.pid]["reason"]
    assert rows[short.pid]["outcome"] == "moved"
    assert realworld.cgroup_of(long.pid, "freezer") == "/"
