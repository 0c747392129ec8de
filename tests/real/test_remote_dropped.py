"""A batch on a remote host whose connection or agent goes away mid-batch (issue 11, faults):
the host's write-ahead journal keeps the record, the next contact says what was left open,
and `undo --host` moves back exactly what moved. Through real sshd on 127.0.0.x (tests/sshd.py)
with a host of the test's own (its journal is the test's alone), on the real kernel, with the
test's own threads in its own `ctrtui-test-*` freezer cgroups (tests/realcg.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

N = 1500


def ctrtui(lab, *argv: str, state, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(lab.env(), XDG_STATE_HOME=str(state))
    return subprocess.run([sys.executable, "-m", "ctrtui", *argv], capture_output=True, text=True, env=env,
                          timeout=timeout)


def start_move(lab, host: str, tids, target: str, state) -> subprocess.Popen:
    env = dict(lab.env(), XDG_STATE_HOME=str(state))
    return subprocess.Popen([sys.executable, "-m", "ctrtui", "move", "--threads", *map(str, tids), "--to", target,
                             "--host", host], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def count_in(w, path: str) -> int:
    with open(os.path.join(w.fs("freezer", path), "tasks"), "rb") as f:
        return f.read().count(b"\n")


def wait_until_some_moved(w, path: str, p: subprocess.Popen) -> int:
    """Wait until the batch has moved some of the tasks (not all): the moment to cut it."""
    deadline = time.monotonic() + 60
    while p.poll() is None and time.monotonic() < deadline:
        n = count_in(w, path)
        if n >= 20:
            return n
        time.sleep(0.002)
    pytest.fail(f"the batch never started moving (exit {p.poll()}): {p.stderr.read() if p.stderr else ''}")


def agent_pid(host) -> int:
    """The agent's python on the host: the session process that runs the stub."""
    for pid in host.session_pids():
        try:
            cmd = psutil.Process(pid).cmdline()
        except psutil.Error:
            continue
        if cmd and "python" in os.path.basename(cmd[0]) and "-c" in cmd:
            return pid
    pytest.fail(f"no agent among the host's sessions {host.session_pids()}")


@pytest.fixture
def own_host(sshlab):
    host = sshlab.start_host()
    try:
        yield host
    finally:
        sshlab.stop_host(host)


@pytest.mark.parametrize("cut", ["agent killed", "ssh killed"])
def test_a_batch_cut_mid_way_is_kept_by_the_hosts_journal_reported_and_undone(sshlab, own_host, realworld,
                                                                              tmp_path, cut):
    w = realworld
    a, b = w.mkdir("freezer", "a"), w.mkdir("freezer", "b")
    _, tids = w.spawn_threads(N)
    for t in tids:
        w.put(t, "freezer", a, "tasks")
    state = tmp_path / "state"
    host = own_host.name

    p = start_move(sshlab, host, tids, f"freezer:{b}", state)
    try:
        wait_until_some_moved(w, b, p)
        if cut == "agent killed":
            os.kill(agent_pid(own_host), signal.SIGKILL)
        else:  # the connection: this side's ssh client dies
            ssh = [c for c in psutil.Process(p.pid).children() if c.name() == "ssh"]
            assert ssh, "the command has no ssh child"
            ssh[0].kill()
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 3, (p.returncode, err)  # a host that could not be used
    assert "Traceback" not in err and host in err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err  # one sentence for the host

    # the agent on the host goes with its connection (ssh killed: once its batch is written)
    deadline = time.monotonic() + 30
    while any("python" in (psutil.Process(q).name() if psutil.pid_exists(q) else "")
              for q in own_host.session_pids()) and time.monotonic() < deadline:
        time.sleep(0.05)

    r = ctrtui(sshlab, "log", "--json", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    batches = json.loads(r.stdout)
    assert batches and batches[0]["target"] == b, batches  # the host's journal has the batch
    moved_now = sum(1 for t in tids if w.cgroup_of(t, "freezer") == b)
    if batches[0]["state"] == "open":
        # the next contact says so, with what to do
        assert "was left open on this host" in r.stderr and f"ctrtui undo --host {host}" in r.stderr, r.stderr
        assert batches[0]["batch"] in r.stderr
    else:  # the agent outlived its connection long enough to finish and close the batch
        assert cut == "ssh killed" and batches[0]["state"] == "done", batches[0]
        assert "left open" not in r.stderr
        assert batches[0]["counts"].get("moved", 0) == moved_now
    assert moved_now > 0

    r = ctrtui(sshlab, "undo", "--json", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    wrong = [t for t in tids if w.cgroup_of(t, "freezer") != a]
    assert wrong == [], f"{len(wrong)} tasks not back in {a}"
    r = ctrtui(sshlab, "log", "--host", host, state=state)
    assert "left open" not in r.stderr  # recovered and undone: nothing open any more
