"""History on the real kernel (the simulated kernel, churn, torn tails, rotation and PID
reuse: tests/unit/test_history.py): a recorder on this test's own `ctrtui-test-*` subtree
sees its own processes start, move (by hand and by `ctrtui move`, whose batch it names) and
exit; `ctrtui record --cgroup` runs as a process and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from ctrtui.history import Recorder, Recording
from ctrtui.history.run import JournalFeed
from ctrtui.sources.cgroupfs import CgroupFS
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse


def _start_time(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def test_where_follows_own_processes_through_real_cgroups(realworld, tmp_path, capsys):
    top = realworld.top("freezer")
    a = realworld.mkdir("freezer", "a")
    b = realworld.mkdir("freezer", "b")
    c = realworld.mkdir("freezer", "c")
    p = realworld.spawn_sleep()
    realworld.put(p.pid, "freezer", a)
    fs = CgroupFS()
    name = next(h.name for h in fs.hierarchies() if "freezer" in h.controllers)
    journal = tmp_path / "journal.jsonl"
    feed = JournalFeed(str(journal))
    d = tmp_path / "h"
    times = []

    def sample(rec: Recorder) -> None:
        snap = fs.snapshot([name], subtree=top)
        details = fs.task_details(rec.new_tasks(snap))
        rec.sample(snap, {t: (i.start_time, i.tgid, i.comm) for t, i in details.items()}, feed.batches())
        times.append(snap.taken_at)
        time.sleep(0.05)

    with Recorder(str(d)) as rec:
        sample(rec)
        realworld.put(p.pid, "freezer", b)  # by hand: no batch
        sample(rec)
        env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
        r = subprocess.run([sys.executable, "-m", "ctrtui", "move", str(p.pid), "--to", f"freezer:{c}", "--json",
                            "--journal", str(journal)], capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        batch = json.loads(r.stdout)[0]["batch"]
        sample(rec)
        p.kill()
        p.wait()
        sample(rec)
    rows = Recording(str(d)).where(p.pid)
    assert [(x["cgroup"], x["batch"]) for x in rows] == [(a, None), (b, None), (c, batch)]
    assert [x["left"] for x in rows] == times[1:]
    assert rows[0]["start_time"] == rows[2]["start_time"] > 0
    rc, out, _ = run(capsys, "where", str(p.pid), "--from", str(d), "--json")
    assert rc == 0 and json.loads(out) == rows
    t = times[1] + 0.02  # between the second sample and the third (0.05 s later at least)
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) + f".{int(t * 1e6) % 1_000_000:06d}"
    rc, out, _ = run(capsys, "tasks", f"{name}:{b}", "--at", at, "--from", str(d), "--json")
    assert rc == 0 and [(t["pid"], t["comm"]) for t in json.loads(out)] == [(p.pid, "sleep")]


def test_record_command_on_own_subtree_stops_on_sigterm(realworld, tmp_path):
    top = realworld.top("freezer")
    a = realworld.mkdir("freezer", "a")
    p = realworld.spawn_sleep()
    outside = realworld.spawn_sleep()  # stays where it started, outside the recorded subtree
    realworld.put(p.pid, "freezer", top)
    d = tmp_path / "h"
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    rec = subprocess.Popen([sys.executable, "-m", "ctrtui", "record", "--cgroup", f"freezer:{top}", "--to", str(d),
                            "--interval", "0.1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    def recorded() -> list[str]:
        """The cgroups the recording (as written so far) holds for `p`."""
        if not (d.exists() and any(d.glob("*.ctrh"))):
            return []
        return [x["cgroup"] for x in Recording(str(d)).where(p.pid)]

    try:
        deadline = time.monotonic() + 30
        while recorded() != [top]:  # a sample of the top cgroup with p in it is on disk
            assert time.monotonic() < deadline and rec.poll() is None, recorded()
            time.sleep(0.05)
        realworld.put(p.pid, "freezer", a)
        while recorded() != [top, a]:  # and one since the move
            assert time.monotonic() < deadline and rec.poll() is None, recorded()
            time.sleep(0.05)
    finally:
        rec.send_signal(signal.SIGTERM)
        out, err = rec.communicate(timeout=30)
    assert rec.returncode == 0, err
    assert out.startswith("recorded ") and "Traceback" not in err
    r = Recording(str(d))
    assert not r.warnings
    rows = r.where(p.pid)
    assert [x["cgroup"] for x in rows] == [top, a] and rows[1]["entered"] is not None
    assert r.where(outside.pid) == []
