"""The write-ahead journal on the real kernel: `ctrtui move` killed (-9), interrupted (SIGINT,
SIGTERM) at random moments of a 2,000-task batch, then `ctrtui undo`, checked task by task in
/proc; a full tmpfs and a read-only bind mount for the journal; concurrent moves and undos;
a refused undo retried; a FIFO as --journal. Own processes and `ctrtui-test-*` cgroups only."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.realcg import REAL_OK, REAL_WHY, RealWorld

pytestmark = pytest.mark.skipif(not REAL_OK, reason=REAL_WHY)


@pytest.fixture
def realworld():
    with RealWorld() as w:
        yield w


def ctrtui(*argv: str, journal=None, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    extra = ["--journal", str(journal)] if journal is not None else []
    return subprocess.run([sys.executable, "-m", "ctrtui", *argv, *extra], capture_output=True, text=True,
                          timeout=timeout, env=env or dict(os.environ))


def start(*argv: str, journal) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ctrtui", *argv, "--journal", str(journal)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def newest(journal) -> dict | None:
    r = ctrtui("log", "--json", "-n", "1", journal=journal)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    return rows[0] if rows else None


def assert_one_clean_line(err: str) -> None:
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err


def setup_big(w: RealWorld, n: int = 2000):
    """`n` threads of one child python in freezer A, three sleeps moved to X by a first batch
    (which no later undo may touch)."""
    a, b, x = w.mkdir("freezer", "a"), w.mkdir("freezer", "b"), w.mkdir("freezer", "x")
    proc, tids = w.spawn_threads(n - 1)
    sleeps = [w.spawn_sleep() for _ in range(3)]
    return a, b, x, tids, [s.pid for s in sleeps]


def put_all(w: RealWorld, tids, path: str) -> None:
    for t in tids:
        w.put(t, "freezer", path, "tasks")


def wait_for_tasks(w: RealWorld, path: str, count: int, p: subprocess.Popen) -> None:
    tasks = os.path.join(w.fs("freezer", path), "tasks")
    deadline = time.monotonic() + 20
    while p.poll() is None and time.monotonic() < deadline:
        with open(tasks, "rb") as f:
            if f.read().count(b"\n") >= count:
                return


def check_round(w, journal, before: str | None, a: str, x: str, tids, sleeps, how: str) -> str | None:
    """After the move was stopped: undo what the stopped batch moved; every task must end in A,
    the first batch's sleeps stay in X. Returns the newest batch id."""
    top = newest(journal)
    if top is None or top["batch"] == before:
        # stopped before its intent was synced: nothing may have moved
        assert [t for t in tids if w.cgroup_of(t, "freezer") != a] == [], how
        return before
    in_b = [t for t in tids if w.cgroup_of(t, "freezer") not in (a, None)]
    if in_b:  # a plain `ctrtui undo`, as a user would type it, must undo the stopped batch
        r = ctrtui("undo", "--json", journal=journal)
        assert r.returncode == 0, (how, r.stderr)
    else:  # it moved nothing: undoing it by name finds nothing (a plain undo undoes the batch before)
        r = ctrtui("undo", top["batch"], "--json", journal=journal)
        assert r.returncode == 1 and "nothing to undo" in r.stderr, (how, r.stderr)
    if r.stdout.strip() not in ("", "[]"):
        rows = json.loads(r.stdout)
        assert {row["undo_of"] for row in rows} == {top["batch"]}, how
    wrong = [(t, w.cgroup_of(t, "freezer")) for t in tids if w.cgroup_of(t, "freezer") != a]
    assert wrong == [], f"{how}: {len(wrong)} tasks not back in {a}, e.g. {wrong[:5]}"
    assert [w.cgroup_of(s, "freezer") for s in sleeps] == [x] * 3, how
    log = json.loads(ctrtui("log", "--json", "-n", "3", journal=journal).stdout)
    stopped = next((b for b in log if b["batch"] == top["batch"]), None)
    assert stopped is not None, (how, top["batch"], [(b["batch"], b["state"], b["undo_of"]) for b in log])
    assert stopped["state"] in ("undone", "done"), stopped  # done: it had moved nothing
    assert stopped["state"] == "undone" or stopped["counts"].get("moved", 0) == 0
    return newest(journal)["batch"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_a_2000_task_batch_stopped_at_random_moments_is_undone_exactly(realworld, tmp_path, sig):
    journal = tmp_path / "journal.jsonl"
    a, b, x, tids, sleeps = setup_big(realworld)
    put_all(realworld, tids, a)
    r = ctrtui("move", *map(str, sleeps), "--to", f"freezer:{x}", journal=journal)
    assert r.returncode == 0, r.stderr
    before = newest(journal)["batch"]
    rng = random.Random(f"{sig}-{os.getpid()}")
    rounds = 10 if sig == signal.SIGKILL else 5
    deadline = time.monotonic() + 60
    seen_partial = 0
    for i in range(rounds):
        if time.monotonic() > deadline:
            break
        p = start("move", *map(str, tids), "--threads", "--to", f"freezer:{b}", journal=journal)
        if i % 2:  # a random moment of the whole run (start-up, plan, writes, verification, exit)
            time.sleep(rng.uniform(0.0, 0.8))
        else:  # a random moment of the writes: once a random number of tasks sit in B
            wait_for_tasks(realworld, b, rng.randint(1, len(tids) - 1), p)
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
        how = f"round {i}, {signal.Signals(sig).name}, exit {p.returncode}"
        moved = sum(1 for t in tids if realworld.cgroup_of(t, "freezer") == b)
        seen_partial += 0 < moved < len(tids)
        if sig != signal.SIGKILL and p.returncode == 1 and "interrupted by" in err:
            # stopped between two PIDs: a partial report, recorded as interrupted
            assert "Traceback" not in err and f"interrupted by {signal.Signals(sig).name}" in err
            assert len(out.splitlines()) == len(tids)
            top = newest(journal)
            assert top["closed"] == "interrupted" and top["counts"].get("moved", 0) == moved, how
        elif sig != signal.SIGKILL:
            # the signal came before the engine listened (start-up) or after the batch
            assert p.returncode in (0, 1, 130, -sig), how + err[-300:]
        before = check_round(realworld, journal, before, a, x, tids, sleeps, how)
        put_all(realworld, tids, a)  # any task the test itself must reset (none expected)
    assert seen_partial >= 1, "no round stopped the batch mid-way: the test proved nothing"


def test_a_refused_undo_can_be_retried_once_its_cause_is_fixed(realworld, tmp_path):
    journal = tmp_path / "journal.jsonl"
    z, xg = realworld.mkdir("freezer", "z"), realworld.mkdir("freezer", "x")
    p = realworld.spawn_sleep()
    realworld.put(p.pid, "freezer", z)
    assert ctrtui("move", str(p.pid), "--to", f"freezer:{xg}", journal=journal).returncode == 0
    os.rmdir(realworld.fs("freezer", z))
    r = ctrtui("undo", "--json", journal=journal)  # skipped, saying why (recorded once, refused)
    assert r.returncode == 1 and json.loads(r.stdout) == [] and "cannot be undone" in r.stderr
    assert realworld.cgroup_of(p.pid, "freezer") == xg
    realworld.mkdir("freezer", "z")
    r = ctrtui("undo", "--json", journal=journal)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["outcome"] == "moved" and realworld.cgroup_of(p.pid, "freezer") == z
    r = ctrtui("undo", journal=journal)
    assert r.returncode == 1 and "nothing to undo" in r.stderr
    states = [b["state"] for b in json.loads(ctrtui("log", "--json", journal=journal).stdout)]
    assert states == ["done", "refused", "undone"]  # the two undos, then the batch


def test_concurrent_moves_serialize_and_two_undos_undo_two_batches(realworld, tmp_path):
    journal = tmp_path / "journal.jsonl"
    cgs = [realworld.mkdir("freezer", f"c{i}") for i in range(4)]
    groups = [[realworld.spawn_sleep().pid for _ in range(30)] for _ in range(4)]
    procs = [start("move", *map(str, g), "--to", f"freezer:{cg}", "--json", journal=journal)
             for g, cg in zip(groups, cgs, strict=True)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [o[1] for o in outs]
    for g, cg in zip(groups, cgs, strict=True):
        assert all(realworld.cgroup_of(pid, "freezer") == cg for pid in g)
    log = json.loads(ctrtui("log", "--json", journal=journal).stdout)
    assert len(log) == 4 and all(b["state"] == "done" for b in log)
    # every line of the journal is whole: batches did not interleave
    kinds = [json.loads(line)["kind"] for line in open(journal)]
    assert kinds == (["intent"] + ["outcome"] * 30 + ["close"]) * 4
    undos = [start("undo", "--json", journal=journal) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in undos]
    assert [p.returncode for p in undos] == [0, 0], [o[1] for o in outs]
    undone = {json.loads(o[0])[0]["undo_of"] for o in outs}
    assert len(undone) == 2, "two concurrent undos undid the same batch"
    back = [g for g in groups if all(realworld.cgroup_of(pid, "freezer") == "/" for pid in g)]
    assert len(back) == 2
    # the last two batches: one more undo each, then two concurrent undos for one batch left
    assert ctrtui("undo", journal=journal).returncode == 0
    undos = [start("undo", "--json", journal=journal) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in undos]
    assert sorted(p.returncode for p in undos) == [0, 1]
    loser = outs[[p.returncode for p in undos].index(1)]
    assert "nothing to undo" in loser[1]
    assert all(realworld.cgroup_of(pid, "freezer") == "/" for g in groups for pid in g)


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def test_a_full_tmpfs_journal_moves_nothing_and_no_journal_moves_anyway(realworld, tmp_path):
    mnt = tmp_path / "full"
    mnt.mkdir()
    _mount("-t", "tmpfs", "-o", "size=64k", "ctrtui-test-tmpfs", str(mnt))
    try:
        cg = realworld.mkdir("freezer", "full")
        p = realworld.spawn_sleep()
        journal = mnt / "journal.jsonl"
        journal.write_text("")
        fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"x" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        r = ctrtui("move", str(p.pid), "--to", f"freezer:{cg}", journal=journal)
        assert r.returncode == 2, r.stderr
        assert_one_clean_line(r.stderr)
        assert str(journal) in r.stderr and "ENOSPC" in r.stderr and "nothing was moved" in r.stderr
        assert realworld.cgroup_of(p.pid, "freezer") == "/"
        r = ctrtui("move", str(p.pid), "--to", f"freezer:{cg}", "--json", "--no-journal", journal=journal)
        assert r.returncode == 0, r.stderr
        rows = json.loads(r.stdout)
        assert rows[0]["outcome"] == "moved" and rows[0]["journaled"] is False
        assert realworld.cgroup_of(p.pid, "freezer") == cg
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_read_only_journal_refuses_moves_and_undos_but_log_reads_it(realworld, tmp_path):
    src, ro = tmp_path / "rw", tmp_path / "ro"
    src.mkdir()
    ro.mkdir()
    cg = realworld.mkdir("freezer", "ro")
    p, q = realworld.spawn_sleep(), realworld.spawn_sleep()
    r = ctrtui("move", str(p.pid), "--to", f"freezer:{cg}", "--json", journal=src / "journal.jsonl")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["journaled"] is True
    _mount("--bind", str(src), str(ro))
    try:
        _mount("-o", "remount,bind,ro", str(ro))
        journal = ro / "journal.jsonl"
        r = ctrtui("move", str(q.pid), "--to", f"freezer:{cg}", journal=journal)
        assert r.returncode == 2 and "EROFS" in r.stderr and str(journal) in r.stderr
        assert_one_clean_line(r.stderr)
        assert realworld.cgroup_of(q.pid, "freezer") == "/"
        for _ in range(2):  # a read-only journal never runs the same undo twice: it runs none
            r = ctrtui("undo", journal=journal)
            assert r.returncode == 2 and "EROFS" in r.stderr
            assert realworld.cgroup_of(p.pid, "freezer") == cg
        r = ctrtui("log", "--json", journal=journal)
        assert r.returncode == 0 and json.loads(r.stdout)[0]["state"] == "done"
        env = dict(os.environ, XDG_STATE_HOME=str(ro / "state"))
        r = ctrtui("move", str(q.pid), "--to", f"freezer:{cg}", env=env)
        assert r.returncode == 2 and str(ro / "state") in r.stderr and "EROFS" in r.stderr
    finally:
        subprocess.run(["umount", str(ro)], check=False)
    assert ctrtui("undo", journal=src / "journal.jsonl").returncode == 0
    assert realworld.cgroup_of(p.pid, "freezer") == "/"


def test_a_fifo_as_journal_does_not_hang(realworld, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cg = realworld.mkdir("freezer", "fifo")
    p = realworld.spawn_sleep()
    for argv in (["undo"], ["log"], ["move", str(p.pid), "--to", f"freezer:{cg}"]):
        r = ctrtui(*argv, journal=fifo, timeout=20)
        assert r.returncode == 2 and "not a regular file" in r.stderr, (argv, r.stderr)
        assert_one_clean_line(r.stderr)
    assert realworld.cgroup_of(p.pid, "freezer") == "/"
