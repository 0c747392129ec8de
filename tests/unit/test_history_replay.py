"""A recording as a read-only backend (ctrtui/history/replay.py), on a recording made with
the simulated kernel and a churn script: at every sample it answers the Reader protocol as
the kernel did then, whether reached by stepping forward, stepping back or jumping; it
keeps the backend contract, declares no writing, and lists the journal's batches by time."""

from __future__ import annotations

import random

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.history import HistoryError, Recorder, Recording
from ctrtui.history.replay import READ_ONLY, RecordedBackend
from ctrtui.history.run import JournalFeed
from ctrtui.model import CgroupRef
from ctrtui.sources import read_only_reason
from ctrtui.sources.base import contract_problems, writer_of
from tests.unit.test_history import T0, small_world, take

HIERS = ("freezer", "unified")


def _record_churn(d: str) -> tuple[list[float], list[dict[str, object]]]:
    """15 samples, 5 s apart, a full snapshot every 4: moves, new tasks (some with
    threads), exits, a cgroup made and removed. What the kernel answered at each sample."""
    k = small_world()
    rng = random.Random(7)
    pids = [k.spawn(f"t{i}", threads=1 + i % 3, cgroups={"freezer": "/a", "unified": "/a"}) for i in range(20)]
    times, seen = [], []
    with Recorder(d, full_every=4, fsync=False) as rec:
        for n in range(15):
            for _ in range(4):
                pid = rng.choice(pids)
                if pid in k.tasks:
                    k.place(pid, rng.choice(HIERS), rng.choice(("/a", "/b", "/c")))
            if n % 3 == 1:
                pids.append(k.spawn(f"new{n}", threads=2, cgroups={"unified": "/b"}))
            if n % 4 == 2:
                k.exit(pids.pop(0), reap=True)
            if n == 5:
                k.mkdir("unified", "/d")
                k.place(pids[-1], "unified", "/d")
            if n == 9:
                for tid in k.snapshot()["unified"]["/d"].threads:
                    k.place(tid, "unified", "/")
                k.rmdir("unified", "/d")
            t = T0 + 5 * n
            take(rec, k, t)
            snap = k.snapshot()
            tids = sorted({tid for hs in snap.hierarchies for c in hs.containers.values() for tid in c.threads})
            details = k.task_details(tids)
            times.append(t)
            seen.append({
                "snap": snap,
                "cgroups": {tid: k.task_cgroups(tid) for tid in tids},
                "threads": {pid: k.thread_ids(pid) for pid in pids if pid in k.tasks},
                "facts": {tid: (i.tgid, i.comm, i.start_time) for tid, i in details.items()},
            })
    return times, seen


def _assert_shows(b: RecordedBackend, want: dict[str, object], t: float) -> None:
    assert b.taken_at == t
    snap = want["snap"]
    got = b.snapshot()
    assert [hs.name for hs in got.hierarchies] == [hs.name for hs in snap.hierarchies]
    for hs in snap.hierarchies:
        assert list(got[hs.name].containers) == list(hs.containers), (t, hs.name)
        for p, c in hs.containers.items():
            g = got[hs.name][p]
            assert (list(g.threads), list(g.procs), g.children) == (list(c.threads), list(c.procs), c.children)
        assert b.read_cgroups(hs.name, ["/a", "/nope"]) == {"/a": got[hs.name]["/a"], "/nope": None}
    for tid, cgroups in want["cgroups"].items():
        assert b.task_cgroups(tid) == {h: p for h, p in cgroups.items() if h in HIERS}, (t, tid)
        assert b.task_cgroup(tid, "unified") == cgroups.get("unified")
    for pid, tids in want["threads"].items():
        assert b.thread_ids(pid) == tids, (t, pid)
    infos = b.task_details(want["facts"])
    assert {tid: (i.tgid, i.comm, i.start_time) for tid, i in infos.items()} == want["facts"]


def test_every_sample_answers_as_the_kernel_did_forward_back_and_by_jumps(tmp_path):
    d = str(tmp_path / "h")
    times, seen = _record_churn(d)
    b = RecordedBackend(Recording(d), times[0])
    assert b.sample_times() == times
    for i, t in enumerate(times):  # forward, one sample at a time (across 3 full snapshots)
        if i:
            assert b.next()
        _assert_shows(b, seen[i], t)
    assert not b.next() and b.taken_at == times[-1]
    for i in range(len(times) - 2, -1, -1):  # back
        assert b.previous()
        _assert_shows(b, seen[i], times[i])
    assert not b.previous() and b.taken_at == times[0]
    for i in (9, 3, 14, 6, 6, 0, 11):  # jumps, between samples too
        assert b.jump(times[i] + 2.5) == times[i]
        _assert_shows(b, seen[i], times[i])
    b.jump(times[11])
    assert b.step(3) and b.taken_at == times[14]
    _assert_shows(b, seen[14], times[14])
    assert not b.step(1) and not b.step(-15) and b.taken_at == times[14]
    assert b.step(-14)
    _assert_shows(b, seen[0], times[0])


def test_a_new_backend_starts_at_the_last_sample_and_refuses_times_before_the_first(tmp_path):
    d = str(tmp_path / "h")
    times, seen = _record_churn(d)
    rec = Recording(d)
    b = RecordedBackend(rec)
    _assert_shows(b, seen[-1], times[-1])
    with pytest.raises(HistoryError, match="the recording starts at .*: nothing is recorded at"):
        b.jump(times[0] - 60)
    assert b.taken_at == times[-1]  # a refused jump leaves it where it was
    with pytest.raises(HistoryError, match="starts at"):
        RecordedBackend(rec, times[0] - 1)


def test_it_keeps_the_backend_contract_and_cannot_write(tmp_path):
    d = str(tmp_path / "h")
    times, _ = _record_churn(d)
    b = RecordedBackend(Recording(d), times[4])
    assert contract_problems(b) == []
    assert writer_of(b) is None and read_only_reason(b) is not None
    assert b.capabilities == frozenset()
    err = b.refuse_write("move PID 42 to unified:/b\x1b[2J")
    assert str(err) == f"cannot move PID 42 to unified:/b\\x1b[2J: {READ_ONLY}"
    assert b.cgroup_stats("unified", "/a") == {}  # no figures are recorded
    state = b.cgroup_state("unified", "/a")
    assert state is not None and (state.version, state.writable) == (2, frozenset())
    assert b.cgroup_state("unified", "/d") is None  # made at the sample after this one
    assert b.jump(times[6]) and b.cgroup_state("unified", "/d") is not None
    assert b.hierarchies() == tuple(hs.hierarchy for hs in b.snapshot().hierarchies)
    assert [hs.name for hs in b.snapshot(["unified"]).hierarchies] == ["unified"]
    assert list(b.snapshot(subtree="/d")["unified"].containers) == ["/d"]


def test_a_task_that_exited_is_not_answered_at_later_samples(tmp_path):
    """A task recorded in a full snapshot that exits before a later sample is gone there:
    task_state and task_details say nothing of it (the recorded task table still holds it,
    for the samples where it was alive)."""
    k = small_world()
    pid = k.spawn("short", cgroups={"unified": "/a"})
    d = str(tmp_path / "h")
    with Recorder(d, fsync=False) as rec:
        take(rec, k, T0)
        k.exit(pid, reap=True)
        take(rec, k, T0 + 5)
    b = RecordedBackend(Recording(d), T0)
    assert b.task_state(pid) is not None and b.task_state(pid).comm == "short"
    b.next()
    assert b.task_state(pid) is None and b.task_details([pid]) == {} and b.task_cgroups(pid) is None


def test_batches_in_a_time_range(tmp_path):
    k = small_world()
    pid = k.spawn("worker", cgroups={"unified": "/a"})
    journal = Journal(str(tmp_path / "journal.jsonl"))
    engine = AttachEngine(k, policy=Policy(), journal=journal)
    feed = JournalFeed(journal.path)
    d = str(tmp_path / "h")
    ids = []
    with Recorder(d, fsync=False) as rec:
        take(rec, k, T0)
        for n, target in enumerate(("/b", "/c", "/a")):
            ids.append(engine.apply(engine.plan([pid], CgroupRef("unified", target))).batch_id)
            found = feed.batches()
            for row in found:
                row["time"] = T0 + 5 * n + 2  # between the samples
            take(rec, k, T0 + 5 * (n + 1), found)
    b = RecordedBackend(Recording(d))
    assert [x["batch"] for x in b.batches()] == ids
    assert [x["batch"] for x in b.batches(T0 + 5, T0 + 12)] == ids[1:]
    assert [x["batch"] for x in b.batches(until=T0 + 2)] == ids[:1]
    assert b.batches(T0 + 13) == []


def test_the_replay_command_opens_the_recording_at_its_time_and_refuses_what_is_not_there(tmp_path, capsys):
    """`ctrtui replay [FILE|DIR] [--at TIME] [--hierarchy H]`: the recording and hierarchy
    the UI opens on (ctrtui/cli/history.py's `open_replay`), each mistake one sentence, exit
    2, before any UI starts; `--host` takes one host (a host's recording: tests/unit/test_history_remote.py)."""
    import argparse

    from ctrtui.cli.history import open_replay
    from tests.clihelpers import run

    d = str(tmp_path / "h")
    times, _ = _record_churn(d)
    args = argparse.Namespace(replay_place=d, history_from=None, at="@" + str(int(times[3])), hierarchy="freezer")
    with pytest.raises(HistoryError, match="give an ISO 8601 time"):
        open_replay(args)
    args.at = None
    recorded, hierarchy = open_replay(args)
    assert (recorded.taken_at, hierarchy) == (times[-1], "freezer")
    rc, _, err = run(capsys, "replay", d, "--hierarchy", "nope")
    assert rc == 2 and "holds no hierarchy 'nope'" in err and "freezer" in err and "Traceback" not in err
    rc, _, err = run(capsys, "replay", str(tmp_path / "none"))
    assert rc == 2 and "no recording at" in err
    rc, _, err = run(capsys, "replay", d, "--at", "1999-01-01T00:00")
    assert rc == 2 and "nothing is recorded at" in err
    rc, _, err = run(capsys, "replay", d, "--host", "somewhere", "--host", "elsewhere")
    assert rc == 2 and "replay takes one host" in err
