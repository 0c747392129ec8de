"""History on a host through real sshd on 127.0.0.x (devtools/sshd.py), the agent bootstrapped
by `ssh` (the bundle travels, ctrtui.history with it), on the real kernel: `record --host
--samples N` writes into the host user's own state dir (the host's `$HOME`), then `where`, `ls
--at`, `tasks --at` and `diff --host` read it there; `record --host --stats-every 1` records
the cgroups' figures there, which `ls --at --stats --host` shows; a `record --host` stopped with SIGTERM, or
whose connection goes (this side killed with -9), leaves the file whole and the lock let go.
Only the test's own processes and `ctrtui-test-*` cgroups (tests/realcg.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ctrtui.history import Recorder, Recording
from tests.real.test_cli_hosts_real import ctrtui


@pytest.fixture
def state(tmp_path):
    return tmp_path / "state"


def _recording_dir(host) -> str:
    return os.path.join(host.home, ".local", "state", "ctrtui", "history")


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) + f".{int(t * 1e6) % 1_000_000:06d}"


def _wait(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_record_on_a_host_then_where_ls_tasks_and_diff_read_it_there(sshlab, sshhost, realworld, state):
    host = sshhost.name
    top = realworld.top("freezer")
    a = realworld.mkdir("freezer", "a")
    p = realworld.spawn_sleep()
    realworld.put(p.pid, "freezer", top)
    d = _recording_dir(sshhost)

    r = ctrtui(sshlab, "record", "--host", host, "--cgroup", f"freezer:{top}", "--samples", "2", "--interval",
               "0.1", state=state)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("recorded 2 samples (") and f"into {d} on {host}" in r.stdout
    between = time.time()
    assert len(Recording(d).times) == 2  # the file is the host's (here: its sessions' $HOME)
    assert not (state / "ctrtui" / "history").exists()  # nothing on this side
    realworld.put(p.pid, "freezer", a)
    r = ctrtui(sshlab, "record", "--host", host, "--cgroup", f"freezer:{top}", "--samples", "1", state=state)
    assert r.returncode == 0, r.stderr

    r = ctrtui(sshlab, "where", str(p.pid), "--json", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [x["cgroup"] for x in rows] == [top, a] and rows[0]["start_time"] == rows[1]["start_time"] > 0

    r = ctrtui(sshlab, "ls", f"freezer:{top}", "--at", _iso(between), "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1:] == [f"freezer:{top}  1 (1)", "  a  0 (0)"]
    r = ctrtui(sshlab, "tasks", f"freezer:{a}", "--at", "now", "--json", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    assert [(t["pid"], t["comm"]) for t in json.loads(r.stdout)] == [(p.pid, "sleep")]

    r = ctrtui(sshlab, "diff", _iso(between), "now", "--json", "--host", host, state=state)
    assert r.returncode == 0, r.stderr
    assert [x for x in json.loads(r.stdout) if x.get("pid") == p.pid] == [
        {"hierarchy": rows[0]["hierarchy"], "change": "task-moved", "pid": p.pid, "from": top, "to": a}]

    r = ctrtui(sshlab, "where", "1", "--from", "/ctrtui-test-no-such-dir", "--host", host, state=state)
    assert r.returncode == 2 and "no recording at /ctrtui-test-no-such-dir" in r.stderr  # the host's words


def test_record_on_a_host_with_its_figures_then_ls_at_stats_reads_them_there(sshlab, sshhost, realworld, state):
    """`record --host --samples 2 --stats-every 1` reads the test's own pids cgroup's figures
    on the host at each sample; `ls --at now --stats --host` shows them (the task's pids.current),
    as `ls --at now --stats` of the same file read here does."""
    host = sshhost.name
    top = realworld.top("pids")
    p = realworld.spawn_sleep()
    realworld.put(p.pid, "pids", top)
    d = os.path.join(str(state.parent), "figures")
    r = ctrtui(sshlab, "record", "--host", host, "--cgroup", f"pids:{top}", "--samples", "2", "--interval", "0.1",
               "--stats-every", "1", "--to", d, state=state)
    assert r.returncode == 0, r.stderr
    assert [kind for _, _, kind, _ in Recording(d).index].count(b"S") == 2
    r = ctrtui(sshlab, "ls", f"pids:{top}", "--at", "now", "--stats", "--json", "--from", d, "--host", host,
               state=state)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    row = next(x for x in rows if x["path"] == top)
    assert row["pids_current"] == 1 and row["tasks"] == 1
    here = ctrtui(sshlab, "ls", f"pids:{top}", "--at", "now", "--stats", "--json", "--from", d, state=state)
    assert here.returncode == 0, here.stderr
    assert rows == json.loads(here.stdout)
    r = ctrtui(sshlab, "ls", f"pids:{top}", "--at", "now", "--stats", "--from", d, "--host", host, state=state)
    assert r.returncode == 0 and any(line.split()[:2] == [f"pids:{top}", "1"] for line in r.stdout.splitlines())


def _record_in_background(lab, host, top, state) -> subprocess.Popen:
    env = dict(lab.env(), XDG_STATE_HOME=str(state), XDG_CONFIG_HOME=str(state.parent / "config"))
    return subprocess.Popen([sys.executable, "-m", "ctrtui", "record", "--host", host, "--cgroup",
                             f"freezer:{top}", "--interval", "0.1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _samples(d: str) -> int:
    try:
        return len(Recording(d).times)
    except Exception:  # noqa: BLE001 - not there yet
        return 0


def _lock_free(d: str) -> bool:
    try:
        with Recorder(d, fsync=False):
            return True
    except Exception:  # noqa: BLE001 - still held by the agent
        return False


def test_record_on_a_host_stops_on_sigterm_and_when_its_connection_goes(sshlab, realworld, state):
    host = sshlab.start_host()  # its own: its recording directory is this test's alone
    try:
        top = realworld.top("freezer")
        p = realworld.spawn_sleep()
        realworld.put(p.pid, "freezer", top)
        d = _recording_dir(host)

        rec = _record_in_background(sshlab, host.name, top, state)
        try:
            _wait(lambda: _samples(d) >= 2, "two samples on the host")
        finally:
            rec.send_signal(signal.SIGTERM)
            out, err = rec.communicate(timeout=60)
        assert rec.returncode == 0, err
        assert out.startswith("recorded ") and out.rstrip().endswith(f"on {host.name}") and "Traceback" not in err
        assert Recording(d).warnings == [] and _lock_free(d)

        rec = _record_in_background(sshlab, host.name, top, state)
        before = _samples(d)
        try:
            _wait(lambda: _samples(d) >= before + 2, "two more samples on the host")
        finally:
            rec.kill()  # -9: no close asked; its ssh sees its stdin end, the agent its EOF
            rec.communicate(timeout=60)
        _wait(lambda: _lock_free(d), "the agent closed the recorder when the connection went")
        again = Recording(d)
        assert again.warnings == [] and len(again.times) >= before + 2
    finally:
        sshlab.stop_host(host)


def test_the_history_calls_run_on_python39_from_the_bundle(realworld, tmp_path):
    """ctrtui.history travels: on Python 3.9 without site-packages (the bundle imported from
    memory) the agent records the test's own cgroup and answers where, diff, a sample and the
    time line of what it wrote."""
    from ctrtui.remote.channel import AgentChannel
    from ctrtui.remote.service import RemoteService
    from ctrtui.remote.stub import STUB
    from tests.real.test_agent_real import PY39, _need

    py = _need(PY39)
    top = realworld.top("freezer")
    a = realworld.mkdir("freezer", "a")
    p = realworld.spawn_sleep()
    realworld.put(p.pid, "freezer", top)
    d = str(tmp_path / "h")
    ch = AgentChannel.open([py, "-I", "-S", "-c", STUB], name="py39", timeout=60)
    try:
        assert ch.mode == "bundle" and ch.hello["python"] == "3.9.18"
        service = RemoteService(ch)
        name = next(h.name for h in service.hierarchies() if "freezer" in h.controllers)
        assert service.recorder_open(d, 1 << 20, 2, [name], top).samples == 0
        service.recorder_sample()
        realworld.put(p.pid, "freezer", a)
        service.recorder_sample()
        assert service.recorder_sample().samples == 3 and service.recorder_close().samples == 3
        rows = service.history_where(p.pid, source=d)
        assert [r["cgroup"] for r in rows] == [top, a]
        timeline = service.history_timeline(d)
        assert len(timeline.times) == 3
        first = service.history_sample(d, index=0)
        assert list(first.snapshot[name][top].procs) == [p.pid] and first.tasks[p.pid][2] == "sleep"
        assert {"hierarchy": name, "change": "task-moved", "pid": p.pid, "from": top, "to": a} in \
            service.history_diff(_iso((timeline.times[0] + timeline.times[1]) / 2), "now", d)
        figures = str(tmp_path / "f")  # the figures (`S` records) read and answered there too
        service.recorder_open(figures, 1 << 20, 2, [name], top, stats_every=1)
        service.recorder_sample()
        service.recorder_close()
        service.history_timeline(figures)
        got = service.history_figures(name, [top, a], 0, figures)
        assert got.index == 0 and set(got.figures) == {top, a} and got.figures[a].frozen is False
    finally:
        ch.close()
