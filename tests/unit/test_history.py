"""History (ctrtui/history, docs/history.md) on the simulated kernel: recording with churn,
reading back at any time, where PID (with the batch that moved it, and PID reuse), diff,
torn tails, --max-size rotation, one recorder per directory, hostile names, a newer
version, and the command line (the real kernel: tests/real/test_history_real.py)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.history import HistoryError, Recorder, Recording
from ctrtui.history.query import diff_rows, parse_time
from ctrtui.history.records import FILE_HEADER, MAGIC
from ctrtui.history.replay import RecordedBackend
from ctrtui.history.run import JournalFeed
from ctrtui.model import CgroupRef
from ctrtui.sources.demo import generate_world
from ctrtui.sources.simulated import SimKernel
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse

T0 = 1_765_000_000.0  # a fixed start (2025-12-06 05:46:40 UTC): samples are T0, T0+5, ...


def small_world() -> SimKernel:
    k = SimKernel()
    for h in ("freezer", "unified"):
        k.add_hierarchy(h, 2 if h == "unified" else 1, [] if h == "unified" else [h])
        for p in ("/a", "/b", "/c"):
            k.mkdir(h, p)
    return k


def take(rec: Recorder, k: SimKernel, t: float, batches=()) -> None:
    snap = k.snapshot()
    details = k.task_details(rec.new_tasks(snap))
    rec.sample(snap, {tid: (i.start_time, i.tgid, i.comm) for tid, i in details.items()}, batches, t=t)


def files(d) -> list[str]:
    return sorted(p for p in os.listdir(d) if p.endswith(".ctrh"))


def cut_index(path) -> int:
    """The file as a recorder killed with -9 leaves it: its closing `I` record (the task
    index) cut off. Returns the new size."""
    f = Recording(str(path)).files[0]
    start, kind, _, _ = f.records[-1]
    assert kind == b"I"
    os.truncate(path, start - 17)
    return start - 17


def test_recorded_snapshots_equal_what_the_kernel_showed_at_every_sample(tmp_path):
    """A churn script (moves, new and exiting tasks, cgroups made and removed) on the
    simulated kernel: the snapshot read back at each sample's time is the one taken then,
    across full snapshots and the deltas between them."""
    k = small_world()
    rng = random.Random(1)
    pids = [k.spawn(f"t{i}", threads=1 + i % 3, cgroups={"freezer": "/a", "unified": "/a"}) for i in range(30)]
    taken = []
    with Recorder(str(tmp_path / "h"), full_every=4, fsync=False) as rec:
        for n in range(15):
            for _ in range(5):
                pid = rng.choice(pids)
                if pid in k.tasks:
                    k.place(pid, rng.choice(("freezer", "unified")), rng.choice(("/a", "/b", "/c")))
            if n % 3 == 1:
                pids.append(k.spawn(f"new{n}", cgroups={"unified": "/b"}))
            if n % 4 == 2:
                k.exit(pids.pop(0), reap=True)
            if n == 6:
                k.mkdir("unified", "/d")
                k.place(pids[-1], "unified", "/d")
            if n == 10:
                for tid in k.snapshot()["unified"]["/d"].threads:
                    k.place(tid, "unified", "/")
                k.rmdir("unified", "/d")
            t = T0 + 5 * n
            take(rec, k, t)
            taken.append((t, k.snapshot()))
    r = Recording(str(tmp_path / "h"))
    assert [kind for _, _, kind, _ in r.index].count(b"F") == 4  # 0, 4, 8, 12
    for t, snap in taken:
        got, _ = r.snapshot_at(t + 1)
        assert got.taken_at == t
        for hs in snap.hierarchies:
            assert list(got[hs.name].containers) == list(hs.containers), (t, hs.name)
            for p, c in hs.containers.items():
                g = got[hs.name][p]
                assert (list(g.threads), list(g.procs), g.children) == (list(c.threads), list(c.procs), c.children)


def test_where_names_every_cgroup_with_times_and_the_batch_that_moved_it(tmp_path):
    k = small_world()
    pid = k.spawn("worker", cgroups={"unified": "/a", "freezer": "/a"})
    other = k.spawn("other", cgroups={"unified": "/a"})
    journal = Journal(str(tmp_path / "journal.jsonl"))
    engine = AttachEngine(k, policy=Policy(), journal=journal)
    feed = JournalFeed(journal.path)
    with Recorder(str(tmp_path / "h"), fsync=False) as rec:
        take(rec, k, T0)
        k.place(pid, "unified", "/b")  # moved by someone else: no batch
        take(rec, k, T0 + 5)
        report = engine.apply(engine.plan([pid], CgroupRef("unified", "/c")))
        batch = report.batch_id
        b = feed.batches()
        for row in b:
            row["time"] = T0 + 9  # the batch ran between the samples at T0+5 and T0+10
        take(rec, k, T0 + 10, b)
        k.exit(other, reap=True)
        k.exit(pid, reap=True)
        take(rec, k, T0 + 15)
    r = Recording(str(tmp_path / "h"))
    rows = [x for x in r.where(pid) if x["hierarchy"] == "unified"]
    assert [(x["cgroup"], x["entered"], x["left"], x["batch"]) for x in rows] == [
        ("/a", None, T0 + 5, None), ("/b", T0 + 5, T0 + 10, None), ("/c", T0 + 10, T0 + 15, batch)]
    assert rows[1]["left_batch"] == batch
    freezer = [x for x in r.where(pid) if x["hierarchy"] == "freezer"]
    assert [(x["cgroup"], x["left"]) for x in freezer] == [("/a", T0 + 15)]
    # a window: only what overlaps it
    assert [x["cgroup"] for x in r.where(pid, since=T0 + 11) if x["hierarchy"] == "unified"] == ["/c"]
    assert parse_time(batch, r) == T0 + 10  # a batch id is a time: the sample after it


def test_a_recycled_pid_is_another_task(tmp_path):
    """PID reuse: the same PID with a later start time is a new task, with rows of its own
    (not a move of the old one)."""
    k = small_world()
    pid = k.spawn("old", cgroups={"unified": "/a"})
    with Recorder(str(tmp_path / "h"), fsync=False) as rec:
        take(rec, k, T0)
        k.tick(1.0)
        k.exit(pid, reap=True)
        take(rec, k, T0 + 5)
        k.tick(1.0)
        assert k.recycle(pid, cgroups={"unified": "/b"}) == pid
        take(rec, k, T0 + 10)
    rows = [x for x in Recording(str(tmp_path / "h")).where(pid) if x["hierarchy"] == "unified"]
    assert [(x["cgroup"], x["left"]) for x in rows] == [("/a", T0 + 5), ("/b", None)]
    assert rows[0]["start_time"] != rows[1]["start_time"]


def test_diff_between_two_times_uses_the_live_diff_words(tmp_path):
    k = small_world()
    pid = k.spawn("w", cgroups={"unified": "/a"})
    with Recorder(str(tmp_path / "h"), fsync=False) as rec:
        take(rec, k, T0)
        k.place(pid, "unified", "/b")
        k.mkdir("unified", "/new")
        take(rec, k, T0 + 5)
    rows = diff_rows(Recording(str(tmp_path / "h")), T0, T0 + 5)
    assert {"hierarchy": "unified", "change": "task-moved", "pid": pid, "from": "/a", "to": "/b"} in rows
    assert {"hierarchy": "unified", "change": "cgroup-added", "cgroup": "/new"} in rows


def test_a_torn_tail_is_ignored_by_readers_and_cut_by_the_next_recorder(tmp_path):
    k = small_world()
    d = tmp_path / "h"
    with Recorder(str(d), fsync=False) as rec:
        take(rec, k, T0)
        take(rec, k, T0 + 5)
    path = d / files(d)[0]
    good = path.stat().st_size
    with open(path, "ab") as f:
        f.write(b"D\x00\x00\x10\x00" + b"\x07" * 30)  # a record cut short
    r = Recording(str(d))
    assert len(r.times) == 2 and "torn tail of 35 bytes" in r.warnings[0]
    with Recorder(str(d), fsync=False) as rec:
        assert "cut off a torn tail (35 bytes)" in rec.warnings[0]
        take(rec, k, T0 + 10)
    assert path.stat().st_size == good
    assert Recording(str(d)).times == [T0, T0 + 5, T0 + 10]


def test_a_damaged_checksum_ends_the_file_there(tmp_path):
    k = small_world()
    d = tmp_path / "h"
    with Recorder(str(d), fsync=False) as rec:
        for n in range(3):
            k.spawn(f"x{n}")
            take(rec, k, T0 + 5 * n)
    path = d / files(d)[0]
    cut_index(path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # inside the last record's payload
    path.write_bytes(bytes(data))
    assert Recording(str(d)).times == [T0, T0 + 5]


def test_max_size_drops_the_oldest_files_first(tmp_path):
    k = generate_world(cgroups=50, tasks=500, seed=2)
    d = tmp_path / "h"
    rng = random.Random(3)
    with Recorder(str(d), max_size=64 * 1024, full_every=3, fsync=False) as rec:
        for n in range(80):
            for pid in rng.sample(sorted(k.tasks), 20):
                k.place(pid, "unified", f"/group-{rng.randrange(7):03d}")
            take(rec, k, T0 + 5 * n)
    names = files(d)
    total = sum((d / n).stat().st_size for n in names)
    assert len(names) > 2 and total <= 64 * 1024 + 8 * 1024  # the bound, plus at most one record over
    r = Recording(str(d))
    first, last = r.span()
    assert first > T0 and last == T0 + 5 * 79  # the oldest samples were dropped, the newest kept
    snap, _ = r.snapshot_at(last)
    assert snap["unified"].total() == k.snapshot()["unified"].total()
    with pytest.raises(HistoryError, match="nothing is recorded at"):
        r.snapshot_at(T0)


def test_a_second_recorder_on_one_directory_is_refused(tmp_path):
    d = str(tmp_path / "h")
    with Recorder(d, fsync=False):
        with pytest.raises(HistoryError, match=r"another `ctrtui record` is writing to .*stop it first"):
            Recorder(d).open()


def test_a_recorder_killed_with_sigkill_leaves_a_tail_the_next_one_cuts(tmp_path):
    """A real recorder process (the demo world, every 0.05 s) killed with -9 mid-run: a
    new recorder starts (the lock died with it), and every file reads back."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    d = str(tmp_path / "h")
    cmd = [sys.executable, "-m", "ctrtui", "record", "--demo", "--to", d, "--interval", "0.05"]
    p = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (os.path.isdir(d) and files(d)
                                                    and os.path.getsize(os.path.join(d, files(d)[0])) > 20_000):
            time.sleep(0.05)
    finally:
        p.kill()
        p.wait()
    killed = files(d)[-1]
    assert b"I" not in [kind for _, _, kind, _ in Recording(os.path.join(d, killed)).index]  # no task index
    with open(os.path.join(d, files(d)[-1]), "ab") as f:
        f.write(b"F\x00\x00\x00")  # what a write cut by the kill leaves
    r = subprocess.run([*cmd[:-2], "--samples", "2"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "cut off a torn tail (4 bytes)" in r.stderr
    rec = Recording(d)
    assert not rec.warnings and len(rec.times) >= 3
    assert rec.task_index(rec.files[-1]) is not None  # the next recorder's file: a clean stop writes it


def test_sigterm_stops_the_recorder_cleanly(tmp_path):
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    d = str(tmp_path / "h")
    p = subprocess.Popen([sys.executable, "-m", "ctrtui", "record", "--demo", "--to", d, "--interval", "0.05"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (os.path.isdir(d) and files(d)):
        time.sleep(0.05)
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert out.startswith("recorded ") and "Traceback" not in err
    rec = Recording(d)
    assert not rec.warnings and rec.files[-1].records[-1][1] == b"I"  # the file closed with its task index


def test_a_recording_of_a_newer_version_is_refused_in_one_sentence(tmp_path):
    d = tmp_path / "h"
    with Recorder(str(d), fsync=False) as rec:
        take(rec, small_world(), T0)
    path = d / files(d)[0]
    data = path.read_bytes()
    assert data[:8] == FILE_HEADER
    path.write_bytes(MAGIC + (3).to_bytes(2, "big") + data[6:])
    with pytest.raises(HistoryError) as e:
        Recording(str(d))
    assert str(e.value) == (f"{path} is a recording of format version 3, and this ctrtui reads versions 1 and 2: "
                            "upgrade ctrtui to read it")
    with pytest.raises(HistoryError, match="format version 3"):
        Recorder(str(d)).open()  # the recorder does not append to it either


def test_hostile_names_are_kept_and_shown_escaped(tmp_path, capsys):
    k = small_world()
    bad = "/evil\x1b[31m\udcff[b]"
    k.mkdir("unified", bad)
    pid = k.spawn("\x1b]0;pwn\x07", cgroups={"unified": bad})
    d = tmp_path / "h"
    with Recorder(str(d), fsync=False) as rec:
        take(rec, k, T0)
        k.mkdir("unified", bad + "/x\n")
        k.place(pid, "unified", bad + "/x\n")
        take(rec, k, T0 + 5)
    r = Recording(str(d))
    snap, _ = r.snapshot_at(T0 + 5)
    assert list(snap["unified"][bad + "/x\n"].threads) == [pid]
    assert RecordedBackend(r, T0).task_state(pid).comm == "\x1b]0;pwn\x07"
    rc, out, _ = run(capsys, "where", str(pid), "--from", str(d))
    assert rc == 0 and "\x1b" not in out and "\n/x" not in out
    assert "unified:/evil\\x1b[31m\\xff[b]/x\\x0a" in out
    rc, out, _ = run(capsys, "tasks", "unified:/evil\\x1b[31m\\xff[b]", "--at", "@0", "--from", str(d))
    assert rc == 2  # not a time
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(T0 + 1))
    rc, out, _ = run(capsys, "tasks", "unified:/evil\\x1b[31m\\xff[b]", "--at", at, "--from", str(d))
    assert rc == 0 and "\\x1b]0;pwn\\x07" in out and "\x1b" not in out


def test_bounded_reading_refuses_lengths_beyond_the_record(tmp_path):
    d = tmp_path / "h"
    k = small_world()
    with Recorder(str(d), fsync=False) as rec:
        take(rec, k, T0)
        k.spawn("x", cgroups={"unified": "/a"})
        take(rec, k, T0 + 5)
    path = d / files(d)[0]
    data = bytearray(path.read_bytes())
    r = Recording(str(d))
    start, kind, _, n = r.files[0].records[1]
    assert kind == b"D"
    import struct
    import zlib
    payload = bytearray(data[start:start + n])
    payload[0:4] = (2 ** 31).to_bytes(4, "big")  # a header length beyond the record
    data[start:start + n] = payload
    data[start - 4:start] = zlib.crc32(bytes(payload)).to_bytes(4, "big")
    path.write_bytes(bytes(data))
    assert struct.unpack(">I", bytes(payload[:4]))[0] == 2 ** 31
    with pytest.raises(HistoryError, match="damaged at record 2: a delta header longer than its record"):
        Recording(str(d)).snapshot_at(T0 + 5)


def test_a_symlinked_recording_is_refused(tmp_path):
    real = tmp_path / "real"
    with Recorder(str(real), fsync=False) as rec:
        take(rec, small_world(), T0)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(HistoryError, match="is a symbolic link"):
        Recording(str(tmp_path / "link"))
    with pytest.raises(HistoryError, match="is a symbolic link"):
        Recorder(str(tmp_path / "link")).open()
    os.symlink(real / files(real)[0], real / "20990101-000000.ctrh")
    with pytest.raises(HistoryError, match="is a symbolic link: refused"):
        Recording(str(real))


def test_a_recording_others_could_change_is_refused(tmp_path):
    """As the journal's: a recording directory below one that others may write (no sticky
    bit), or a file of it that group or others may write, is refused with one sentence."""
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    with pytest.raises(HistoryError, match="someone else could replace it"):
        Recorder(str(loose / "rec")).open()
    real = tmp_path / "real"
    with Recorder(str(real), fsync=False) as rec:
        take(rec, small_world(), T0)
    Recording(str(real))
    (real / files(real)[0]).chmod(0o666)
    with pytest.raises(HistoryError, match="group or others may write it"):
        Recording(str(real))


# ------------------------------------------------------------------- time words


@pytest.mark.parametrize("text, want", [
    ("now", 0), ("-5m", -300), ("3m ago", -180), ("-2h", -7200), ("1d ago", -86400), ("-90s", -90)])
def test_relative_times(text, want):
    assert parse_time(text, now=T0) == T0 + want


def test_clock_and_iso_times():
    day = time.localtime(T0)
    want = time.mktime((day.tm_year, day.tm_mon, day.tm_mday, 3, 12, 0, 0, 0, -1))
    assert parse_time("03:12", now=T0) == want
    assert parse_time("03:12:30", now=T0) == want + 30
    assert parse_time("2025-12-06T05:46:40+00:00") == T0
    for bad in ("25:00", "yesterday", "-5x", "", "\x1b[2J"):
        with pytest.raises(HistoryError, match="give an ISO 8601 time"
                           if bad not in ("25:00",) else "not a time of day"):
            parse_time(bad, now=T0)


# ------------------------------------------------------------------- the command line


def test_record_then_ask_on_the_command_line(tmp_path, capsys):
    d = str(tmp_path / "h")
    rc, out, _ = run(capsys, "--demo", "record", "--to", d, "--interval", "0.05", "--samples", "3", "--json")
    assert rc == 0 and json.loads(out)["samples"] == 3
    rc, out, _ = run(capsys, "--demo", "ls", "--at", "now", "--from", d, "--json")
    rows = json.loads(out)
    rc2, live, _ = run(capsys, "--demo", "ls", "--json")
    assert rc == rc2 == 0 and [r["path"] for r in rows] == [r["path"] for r in json.loads(live)]
    rc, out, _ = run(capsys, "--demo", "where", "1", "--from", d, "--json")
    assert rc == 0 and {r["hierarchy"] for r in json.loads(out)} >= {"unified", "freezer"}
    rc, out, _ = run(capsys, "--demo", "diff", "--from", d, "--", "-1m", "now")
    assert rc == 2 and out == ""  # before the recording started: said on stderr
    first = Recording(d).span()[0]
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(first + 1))
    rc, out, _ = run(capsys, "--demo", "diff", "--from", d, iso, "now")
    assert rc == 0


def test_default_place_is_beside_the_journal(tmp_path, capsys):
    rc, _, _ = run(capsys, "--demo", "record", "--interval", "0.05", "--samples", "1")
    assert rc == 0
    assert files(tmp_path / "state" / "ctrtui" / "demo-history")
    rc, out, err = run(capsys, "ls", "--at", "now")
    assert rc == 2 and "no recording at" in err and "ctrtui record" in err and "Traceback" not in err


def test_bad_record_options_are_usage_errors(capsys, tmp_path):
    for argv, words in ((["--max-size", "12"], "at least 64K"), (["--max-size", "lots"], "give a size"),
                        (["--interval", "0"], "between 0.05"), (["--full-every", "0"], "at least 1")):
        rc, _, err = run(capsys, "--demo", "record", "--to", str(tmp_path / "h"), *argv)
        assert rc == 2 and words in err, (argv, err)


def test_a_changed_record_in_the_middle_is_reported_when_read(tmp_path):
    """Only the last record's checksum is checked on opening (a torn tail); one in the
    middle is checked when it is decoded, and named."""
    k = small_world()
    d = tmp_path / "h"
    with Recorder(str(d), fsync=False) as rec:
        for n in range(3):
            k.spawn(f"x{n}", cgroups={"unified": "/a"})
            take(rec, k, T0 + 5 * n)
    path = d / files(d)[0]
    r = Recording(str(d))
    start, kind, _, n = r.files[0].records[1]
    data = bytearray(path.read_bytes())
    data[start + n - 1] ^= 0x01  # the last byte of the first delta's member data
    path.write_bytes(bytes(data))
    r = Recording(str(d))
    assert r.times == [T0, T0 + 5, T0 + 10]
    r.snapshot_at(T0)  # before it: fine
    with pytest.raises(HistoryError, match=r"damaged at record 2: its checksum is wrong"):
        r.snapshot_at(T0 + 5)


def test_record_only_the_hierarchies_or_the_subtree_asked_for(tmp_path, capsys):
    d = str(tmp_path / "h")
    rc, _, err = run(capsys, "--demo", "record", "--to", d, "--hierarchy", "freezer", "--samples", "1")
    assert rc == 0, err
    snap, _ = Recording(d).snapshot_at(time.time())
    assert [hs.name for hs in snap.hierarchies] == ["freezer"]
    d2 = str(tmp_path / "h2")
    rc, _, err = run(capsys, "--demo", "record", "--to", d2, "--cgroup", "unified:/system.slice", "--samples", "1")
    assert rc == 0, err
    snap, _ = Recording(d2).snapshot_at(time.time())
    assert [hs.name for hs in snap.hierarchies] == ["unified"]
    assert min(snap["unified"].containers) == "/system.slice" and len(snap["unified"].containers) > 1
    rc, _, err = run(capsys, "--demo", "record", "--to", d2, "--hierarchy", "nope", "--samples", "1")
    assert rc == 2 and "'nope' is not a hierarchy" in err


def test_where_reads_a_files_full_snapshot_only_when_the_task_is_in_that_file(tmp_path, monkeypatch):
    """One file per day: a task absent from a file's first full snapshot is looked for in
    its deltas without decoding that snapshot, and a delta that lists it (in a cgroup made
    after the snapshot) still names the right cgroups. A file whose snapshot holds the task
    is read in place (`find_in_wire`): no Snapshot is built."""
    from ctrtui.history import index as index_module
    from ctrtui.history.index import RecordIndex

    day = 86400.0
    k = small_world()
    k.spawn("bystander", cgroups={"unified": "/a", "freezer": "/a"})
    with Recorder(str(tmp_path / "h"), fsync=False) as rec:
        take(rec, k, T0)
        take(rec, k, T0 + 5)
        take(rec, k, T0 + day)  # a new day: a new file, its full snapshot without the task
        k.mkdir("unified", "/e")
        k.rmdir("unified", "/c")
        take(rec, k, T0 + day + 3)  # the cgroups change before the task is seen
        pid = k.spawn("late", cgroups={"unified": "/e", "freezer": "/b"})
        take(rec, k, T0 + day + 5)
        k.place(pid, "unified", "/a")
        take(rec, k, T0 + day + 10)
        take(rec, k, T0 + 2 * day)  # a third file, the task in its full snapshot
        k.exit(pid, reap=True)
        take(rec, k, T0 + 2 * day + 5)
    assert len(files(tmp_path / "h")) == 3
    decoded: list[int] = []
    real = RecordIndex.full_find

    def counted(self, f, i, tid):
        decoded.append(i)
        return real(self, f, i, tid)

    def never(data):
        raise AssertionError("where built a whole snapshot")

    monkeypatch.setattr(RecordIndex, "full_find", counted)
    monkeypatch.setattr(index_module, "from_wire", never)
    expected = [("freezer", "/b", T0 + day + 5, T0 + 2 * day + 5), ("unified", "/a", T0 + day + 10, T0 + 2 * day + 5),
                ("unified", "/e", T0 + day + 5, T0 + day + 10)]
    r = Recording(str(tmp_path / "h"), use_index=False)  # as files without their task index read
    rows = sorted((x["hierarchy"], x["cgroup"], x["entered"], x["left"]) for x in r.where(pid))
    assert rows == expected
    assert len(decoded) == 2  # the second file's (when a delta listed the task) and the third's: read in place
    decoded.clear()
    assert r.where(pid + 1000) == []
    assert decoded == []  # a task in no file: no snapshot decoded
    r = Recording(str(tmp_path / "h"))  # each file's task index instead: no snapshot looked into at all
    assert sorted((x["hierarchy"], x["cgroup"], x["entered"], x["left"]) for x in r.where(pid)) == expected
    assert decoded == []


def test_a_batch_id_of_digits_is_a_batch_not_an_iso_time(tmp_path):
    """`20261207T203514-223090` also reads as an ISO time with the zone -22:30:90: a batch id the
    recording holds is the batch; one it does not hold is refused, never taken for a time."""
    k = small_world()
    with Recorder(str(tmp_path / "h"), fsync=False) as rec:
        take(rec, k, T0)
        take(rec, k, T0 + 10, [{"batch": "20261207T203514-223090", "time": T0 + 4, "hierarchy": "unified",
                               "pids": []}])
    r = Recording(str(tmp_path / "h"))
    assert parse_time("20261207T203514-223090", r) == T0 + 5
    with pytest.raises(HistoryError, match="no batch of that id"):
        parse_time("20261207T203514-123456", r)


def test_record_says_a_warning_met_while_sampling_once(tmp_path):
    """A journal that turns unreadable while recording is said when met (not only what opening
    the file found), and once however many samples meet it again."""
    from ctrtui.history.run import record

    journal = tmp_path / "journal.jsonl"
    journal.mkdir()  # a directory where the journal should be: EISDIR at every sample
    said: list[str] = []
    rec = record(small_world(), str(tmp_path / "h"), 0.0, 1 << 30, 60, journal=str(journal), samples=3,
                 say=said.append)
    assert rec.samples == 3
    assert said == [f"the journal {journal} is a directory (EISDIR); give a regular file with --journal FILE"]
