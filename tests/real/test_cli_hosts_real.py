"""The command line across hosts end to end: `python -m ctrtui ... --host H` through real
sshd on 127.0.0.x (tests/sshd.py), the agent bootstrapped there by the `ssh` client, on the
real kernel: `hierarchies`, `ls`, `tasks`, `move` of the test's own sleep into a
`ctrtui-test-*` freezer cgroup and `undo` from the host's own journal, two hosts with the
HOST column, a dead and a silent host among live ones. Only loopback addresses; only the
test's own processes and cgroups (tests/realcg.py), undone at the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

PY39 = "/root/.pyenv/versions/3.9.18/bin/python3"


def ctrtui(lab, *argv: str, state, timeout: float = 120) -> subprocess.CompletedProcess:
    """`ctrtui ARGV` as a user runs it, with the lab's ssh config; this side's state dir is
    the test's own (the hosts keep theirs in their own home)."""
    env = dict(lab.env(), XDG_STATE_HOME=str(state), XDG_CONFIG_HOME=str(state.parent / "config"))
    return subprocess.run([sys.executable, "-m", "ctrtui", *argv], capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.fixture
def state(tmp_path):
    return tmp_path / "state"


def test_hierarchies_ls_and_tasks_on_one_host(sshlab, sshhost, realworld, state):
    host = sshhost.name
    top = realworld.top("freezer")
    sleep = realworld.spawn_sleep()
    realworld.put(sleep.pid, "freezer", top)

    r = ctrtui(sshlab, "hierarchies", "--json", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    here = ctrtui(sshlab, "hierarchies", "--json", state=state)
    assert [h["name"] for h in json.loads(r.stdout)] == [h["name"] for h in json.loads(here.stdout)]

    r = ctrtui(sshlab, "ls", f"freezer:{top}", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1] == f"freezer:{top}  1 (1)"  # exactly the local text

    r = ctrtui(sshlab, "tasks", f"freezer:{top}", "--json", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    assert [t["pid"] for t in json.loads(r.stdout)] == [sleep.pid]

    r = ctrtui(sshlab, "tasks", "freezer:/ctrtui-test-not-there", "--host", host, state=state)
    assert r.returncode == 2 and "no cgroup freezer:/ctrtui-test-not-there" in r.stderr  # the host's own words


def test_move_and_undo_on_the_host_with_its_own_journal(sshlab, sshhost, realworld, state):
    host = sshhost.name
    top = realworld.top("freezer")
    dst = realworld.mkdir("freezer", "dst")
    sleep = realworld.spawn_sleep()
    realworld.put(sleep.pid, "freezer", top)

    r = ctrtui(sshlab, "move", str(sleep.pid), "--to", f"freezer:{dst}", "--json", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    assert [row["outcome"] for row in json.loads(r.stdout)] == ["moved"]
    assert realworld.cgroup_of(sleep.pid, "freezer") == dst

    # the batch is in the host's journal, not in this side's
    r = ctrtui(sshlab, "log", "--json", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    batch = json.loads(r.stdout)[0]
    assert batch["target"] == dst and batch["counts"] == {"moved": 1}
    assert not (state / "ctrtui").exists() or "journal.jsonl" not in os.listdir(state / "ctrtui")

    r = ctrtui(sshlab, "undo", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    assert realworld.cgroup_of(sleep.pid, "freezer") == top


def test_bad_words_are_refused_here_before_any_host_is_contacted(sshlab, state):
    dead = sshlab.closed_port()  # were it contacted, the exit status would be 3
    r = ctrtui(sshlab, "move", "12abc", "--to", "freezer:/", "--host", dead.name, state=state)
    assert r.returncode == 2 and r.stdout == "" and "12abc" in r.stderr
    r = ctrtui(sshlab, "ls", "--host", "root@127.0.0.1:0", state=state)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1


def test_two_hosts_one_table_with_a_host_column(sshlab, sshhost, realworld, state):
    other = sshlab.start_host()
    try:
        top = realworld.top("freezer")
        sleep = realworld.spawn_sleep()
        realworld.put(sleep.pid, "freezer", top)
        a, b = sshhost.name, other.name
        r = ctrtui(sshlab, "tasks", f"freezer:{top}", "--host", a, "--host", b, state=state)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        w = max(len(a), len(b))
        assert lines[0].split()[:2] == ["HOST", "PID"]
        assert [line[:w].rstrip() for line in lines[1:]] == [a, b]
        assert all(line[w:].split()[0] == str(sleep.pid) for line in lines[1:])

        r = ctrtui(sshlab, "ls", f"freezer:{top}", "--json", "--host", a, "--host", b, state=state)
        assert r.returncode == 0, r.stderr
        assert [(i["host"], i["path"]) for i in json.loads(r.stdout)] == [(a, top), (b, top)]
    finally:
        sshlab.stop_host(other)


def test_local_among_remote_hosts(sshlab, sshhost, realworld, state):
    top = realworld.top("freezer")
    r = ctrtui(sshlab, "ls", f"freezer:{top}", "--json", "--host", "local", "--host", sshhost.name, state=state)
    assert r.returncode == 0, r.stderr
    assert [i["host"] for i in json.loads(r.stdout)] == ["local", sshhost.name]


def test_a_dead_host_among_live_ones_exit_3_the_others_intact(sshlab, sshhost, realworld, state):
    top = realworld.top("freezer")
    dead = sshlab.closed_port()
    r = ctrtui(sshlab, "ls", f"freezer:{top}", "--host", sshhost.name, "--host", dead.name, state=state)
    assert r.returncode == 3
    err = r.stderr.splitlines()
    assert len(err) == 1 and err[0].startswith(f"{dead.name}: ") and "refused" in err[0].lower()
    lines = r.stdout.splitlines()
    assert lines[1].startswith(sshhost.name) and lines[1].endswith(f"freezer:{top}  0 (0)")


def test_a_silent_host_times_out_and_does_not_hold_the_others(sshlab, sshhost, state):
    with sshlab.silent_host() as silent:
        t0 = time.monotonic()
        r = ctrtui(sshlab, "hierarchies", "--json", "--timeout", "2", "--host", silent.name,
                   "--host", sshhost.name, state=state)
        elapsed = time.monotonic() - t0
    assert r.returncode == 3
    items = json.loads(r.stdout)
    assert items[0]["host"] == silent.name and items[0]["error"]["kind"] == "timeout"
    assert {i["host"] for i in items[1:]} == {sshhost.name} and all("name" in i for i in items[1:])
    assert elapsed < 60  # bounded by the timeout, not by the silent host


def test_the_oldest_python_runs_the_agent(sshlab, sshhost, state):
    if not os.access(PY39, os.X_OK):
        pytest.skip(f"{PY39} is not installed")
    r = ctrtui(sshlab, "hierarchies", "--host", sshhost.name, "--remote-python", PY39, state=state)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split()[:2] == ["NAME", "V"]


def test_two_hosts_that_differ_each_show_their_own_rows(sshlab, sshhost, realworld, state):
    # a host in its own cgroup namespace sees its ctrtui-test-* cgroups as the freezer's root
    other = sshlab.start_host(cgroup_namespace=True)
    try:
        top = realworld.top("freezer")
        a, b = sshhost.name, other.name
        r = ctrtui(sshlab, "ls", "freezer:/", "--json", "--host", a, "--host", b, state=state)
        assert r.returncode == 0, r.stderr
        items = json.loads(r.stdout)
        mine = {h: [i["path"] for i in items if i["host"] == h] for h in (a, b)}
        assert top in mine[a] and top not in mine[b]
        assert mine[b] == ["/"]  # nothing below its root: the namespace's cgroups have no children
        r = ctrtui(sshlab, "ls", "freezer:/", "--host", a, "--host", b, state=state)
        assert r.returncode == 0, r.stderr
        rows = r.stdout.splitlines()[1:]  # (other tests may add cgroups to this host's tree meanwhile)
        assert [line.split()[0] for line in rows].count(b) == 1
        assert any(line.split()[0] == a and line.split()[1] == top.rsplit("/", 1)[1] for line in rows)
    finally:
        sshlab.stop_host(other)
