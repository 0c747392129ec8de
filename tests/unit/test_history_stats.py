"""The cgroups' figures in a recording (the `S` record, ctrtui/history/stats.py, format
version 2): recorded on the simulated kernel and read back, rates from two `S` records, a
torn tail inside one, hostile and oversized payloads refused with one sentence, a version-1
file read by this reader, `--stats-every 0`, and `ls --at --stats` on the command line."""

from __future__ import annotations

import json
import os
import time
import zlib

import pytest

from ctrtui.history import HistoryError, Recorder, Recording
from ctrtui.history.records import FILE_HEADER, MAGIC, RECORD, U32, dump_json
from ctrtui.history.replay import RecordedBackend
from ctrtui.history.stats import DEFAULT_STATS_EVERY, MAX_STATS, decode_stats, encode_stats, read_stats
from ctrtui.model.cgstats import Reading, figures, parse_reading
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse
from tests.unit.test_history import T0, files, small_world, take

NO_PRESSURE = (None,) * 5


def reading(cpu: int, memory: int | None = None, frozen: bool | None = None) -> Reading:
    return Reading(0.0, cpu, memory, cpu * 3, cpu, 7, 100, frozen, None, (1.25, None, None, 0.5, 0.0))


class Counters:
    """A stats reader for `Recorder.sample`: /a's CPU counter is n² s at sample n (faster and
    faster: the rate says which interval it is over), /b's grows by 0.5 s of CPU per 5 s
    sample (10 %); memory is a gauge that changes each sample."""

    def __init__(self) -> None:
        self.n = 0
        self.calls = 0

    def __call__(self, snap):
        self.calls += 1
        n = self.n
        return {"unified": {"/a": reading(1_000_000 * n * n, memory=4096 * (n + 1), frozen=False),
                            "/b": reading(500_000 * n, memory=None, frozen=True)},
                "freezer": {"/a": Reading(0.0, frozen=True)}}


def record(d: str, samples: int, stats_every: int = 2, counters: Counters | None = None) -> Counters:
    k = small_world()
    k.spawn("x", cgroups={"freezer": "/a", "unified": "/a"})
    counters = counters or Counters()
    with Recorder(d, fsync=False, stats_every=stats_every, full_every=4) as rec:
        for n in range(samples):
            counters.n = n
            snap = k.snapshot()
            rec.sample(snap, {}, t=T0 + 5 * n, stats=counters)
    return counters


def kinds(d) -> list[bytes]:
    return [kind for _, _, kind, _ in Recording(str(d)).index]


def test_figures_are_recorded_at_their_own_cadence_and_read_back_with_rates(tmp_path):
    d = str(tmp_path / "h")
    counters = record(d, 7, stats_every=3)
    assert counters.calls == 3  # samples 0, 3 and 6 only: the reader is not called between
    assert kinds(d).count(b"S") == 3
    rec = Recording(d)
    # Sample 4 (T0+20): gauges of the S at sample 3, rates over the S records around it, 3..6 (15 s)
    b = RecordedBackend(rec, T0 + 20)
    got = b.recorded_figures("unified", ["/", "/a", "/b", "/c"])
    assert set(got) == {"/a", "/b"}  # no reading of / and /c: shown "-"
    a = got["/a"]
    assert a.cpu == pytest.approx((36 - 9) / 15 * 100)  # 180 % of a CPU (over 0..3 it was 60 %)
    assert a.read == pytest.approx(3 * 27e6 / 15) and a.write == pytest.approx(27e6 / 15)
    assert (a.memory, a.pids, a.pids_max, a.frozen, a.swap) == (4096 * 4, 7, 100, False, None)
    assert a.pressure == (1.25, None, None, 0.5, 0.0)
    assert got["/b"].cpu == pytest.approx(10.0) and got["/b"].memory is None and got["/b"].frozen is True
    assert b.recorded_figures("freezer", ["/a"])["/a"].frozen is True
    # the first sample: rates over the first two S records
    b.jump(T0)
    first = b.recorded_figures("unified", ["/a"])["/a"]
    assert first.cpu == pytest.approx(9 / 15 * 100) and first.memory == 4096
    # stepping moves the figures with the sample; after the last S, rates over the interval ending there
    assert b.step(6)
    last = b.recorded_figures("unified", ["/a"])["/a"]
    assert last.memory == 4096 * 7 and last.cpu == pytest.approx(180.0)


def test_recorded_figures_equal_what_ls_stats_reads_on_the_simulated_kernel(tmp_path):
    k = small_world()
    k.spawn("x", cgroups={"freezer": "/a", "unified": "/a"})
    k.mkdir("unified", "/a/deep")
    d = str(tmp_path / "h")
    with Recorder(d, fsync=False) as rec:
        snap = k.snapshot()
        want = read_stats(k, snap)
        rec.sample(snap, {}, t=T0, stats=lambda s: want)
    b = RecordedBackend(Recording(d))
    for hs in snap.hierarchies:
        paths = list(hs.containers)
        got = b.recorded_figures(hs.name, paths)
        assert set(got) == set(want[hs.name]) and got
        for p in got:  # one S record: its gauges, no rates
            r = want[hs.name][p]
            exp = figures(None, r)
            assert got[p].memory == exp.memory and got[p].pids == exp.pids and got[p].frozen == exp.frozen
            assert got[p].pressure == tuple(None if v is None else round(v * 100) / 100 for v in exp.pressure)
            assert got[p].cpu is None


def test_stats_every_0_records_no_figures(tmp_path):
    d = str(tmp_path / "h")
    counters = record(d, 4, stats_every=0)
    assert counters.calls == 0 and b"S" not in kinds(d)
    assert RecordedBackend(Recording(d)).recorded_figures("unified", ["/a"]) == {}


def test_every_file_starts_with_its_own_figures(tmp_path):
    """Cgroup ids are a file's own: a new file (here: each start of the recorder) records
    figures at its first sample, and rates never pair S records of two files."""
    d = str(tmp_path / "h")
    record(d, 2, stats_every=10)
    record(d, 1, stats_every=10, counters=Counters())
    rec = Recording(d)
    assert len(rec.files) == 2 and [kinds(f.path).count(b"S") for f in rec.files] == [1, 1]
    got = RecordedBackend(rec).recorded_figures("unified", ["/a"])["/a"]
    assert got.cpu is None and got.memory == 4096  # the second file's only S: no rate


def test_a_torn_tail_inside_an_s_record_is_ignored_and_cut(tmp_path):
    d = str(tmp_path / "h")
    record(d, 5, stats_every=2)  # S at samples 0, 2, 4: the file ends with the last one
    path = os.path.join(d, files(d)[0])
    size = os.path.getsize(path)
    rec = Recording(d)
    (start, kind, _, n), last = rec.files[0].records[-2:]
    assert kind == b"S" and last[1] == b"I" and start + n == last[0] - RECORD.size  # then the task index
    assert last[0] + last[3] == size
    os.truncate(path, start + n // 2)
    rec = Recording(d)
    assert rec.warnings and "torn tail" in rec.warnings[0]
    got = RecordedBackend(rec).recorded_figures("unified", ["/a"])["/a"]
    assert got.memory == 4096 * 3  # the S of sample 2 (that of sample 4 is gone)
    with Recorder(d, fsync=False) as r2:
        assert r2.warnings and "cut off a torn tail" in r2.warnings[0]
    assert os.path.getsize(path) == start - RECORD.size
    assert not Recording(d).warnings


def _with_s(tmp_path, payload: bytes) -> str:
    """A recording of one sample and an S record with `payload` (its checksum right)."""
    d = str(tmp_path / "h")
    k = small_world()
    with Recorder(d, fsync=False, stats_every=0) as rec:
        take(rec, k, T0)
        rec._record(b"S", T0, payload)
    return d


def _payload(head: object, body: bytes, raw: bool = False) -> bytes:
    js = dump_json(head)
    return U32.pack(len(js)) + js + (body if raw else zlib.compress(body))


HOSTILE = [
    (b"\0\0", "figures without their header length"),
    (U32.pack(1 << 30) + b"{}", "a figures header longer than its record"),
    (_payload([], b""), "not an object with at most 256 hierarchies"),
    (_payload({"h": [{"name": "unified", "n": 1 << 23, "cols": []}]}, b""), "at most 2^22 cgroups"),
    (_payload({"h": [{"name": "unified", "n": 1, "cols": ["rm -rf"]}]}, b"\0" * 4), "unknown or repeated column"),
    (_payload({"h": [{"name": "unified", "n": 1, "cols": ["memory", "memory"]}]}, b"\0" * 20),
     "unknown or repeated column"),
    (_payload({"h": [{"name": f"h{i}", "n": 4_000_000, "cols": ["memory"]} for i in range(3)]}, b""),
     f"more than {MAX_STATS} bytes"),
    (_payload({"h": [{"name": "unified", "n": 2, "cols": []}]}, b"\0" * 8 + b"\0" * (1 << 20)),
     "other than the 8 bytes"),  # a bomb: unpacked no further than the header says (+1)
    (_payload({"h": [{"name": "unified", "n": 2, "cols": []}]}, b"\0" * 4), "other than the 8 bytes"),
    (_payload({"h": [{"name": "unified", "n": 1, "cols": []}]}, b"not zlib", raw=True), "do not unpack"),
    (_payload({"h": [{"name": "unified", "n": 1, "cols": []}]}, zlib.compress(b"\0" * 4) + b"junk", raw=True),
     "4 bytes left over after its figures"),
    (_payload({"h": [{"name": "unified", "n": 2, "cols": []}]}, b"\1\0\0\0\0\0\0\0"), "ascending cgroup ids"),
    (_payload({"h": [{"name": "unified", "n": 1, "cols": ["cpu_some"]}]}, b"\0" * 4 + b"\x11\x27"),
     "a cpu_some out of range"),
    (_payload({"h": [{"name": "unified", "n": 1, "cols": ["frozen"]}]}, b"\0" * 4 + b"\7"), "a frozen out of range"),
]


@pytest.mark.parametrize(("payload", "why"), HOSTILE)
def test_hostile_and_oversized_s_payloads_are_refused_in_one_sentence(tmp_path, capsys, payload, why):
    d = _with_s(tmp_path, payload)
    b = RecordedBackend(Recording(d))  # the members read as ever: only the figures are damaged
    assert b.snapshot()["unified"]
    with pytest.raises(HistoryError) as e:
        b.recorded_figures("unified", ["/a"])
    msg = str(e.value)
    assert msg.startswith(f"recording {os.path.join(d, files(d)[0])} is damaged at record 2: ") and why in msg
    assert "\n" not in msg and msg.endswith("move the file away to read the rest")
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(T0 + 1))
    rc, out, err = run(capsys, "ls", "--at", at, "--from", d, "--stats")
    assert rc != 0 and out == "" and why in err and "Traceback" not in err


def test_decode_is_the_inverse_of_encode_and_leaves_absent_columns_out():
    readings = {"unified": {"/": parse_reading({"memory.current": "12", "cpu.stat": "usage_usec 5"}, 0.0),
                            "/x": Reading(0.0, pids=3, pressure=(100.0, 0.0, None, None, 99.99))},
                "freezer": {"/": Reading(0.0, frozen=False)}, "gone": {"/": Reading(0.0)}}
    ids = {"unified": {"/": 0, "/x": 7}, "freezer": {"/": 3}}
    tables = decode_stats(encode_stats(readings, ids))
    assert set(tables) == {"unified", "freezer"}  # a hierarchy without ids is left out
    assert set(tables["freezer"].cols) == {"frozen"}
    assert tables["unified"].reading(7, 2.0) == Reading(2.0, pids=3, pressure=(100.0, 0.0, None, None, 99.99))
    assert tables["unified"].reading(0, 1.0) == Reading(1.0, cpu_usec=5, memory=12, pressure=NO_PRESSURE)
    assert tables["unified"].reading(1, 1.0) is None and tables["unified"].reading(None, 1.0) is None


def test_a_version_1_file_is_read_by_this_reader(tmp_path, capsys):
    """A version-1 file is a version-2 file without S records: its members read as ever and
    its figures are `-`."""
    d = str(tmp_path / "h")
    record(d, 3, stats_every=0)
    path = os.path.join(d, files(d)[0])
    data = open(path, "rb").read()
    assert data[:8] == FILE_HEADER == MAGIC + b"\0\2\0\0"
    with open(path, "wb") as f:
        f.write(MAGIC + (1).to_bytes(2, "big") + data[6:])
    rec = Recording(d)
    assert not rec.warnings and rec.snapshot_at(T0 + 10)[0]["unified"]["/a"].threads
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(T0 + 11))
    rc, out, _ = run(capsys, "ls", "--at", at, "--from", d, "--stats", "--json")
    rows = json.loads(out)
    assert rc == 0 and {r["path"] for r in rows} >= {"/", "/a"}
    assert all(r["memory_bytes"] is None and r["cpu_percent"] is None for r in rows)
    assert [r["tasks"] for r in rows if (r["hierarchy"], r["path"]) == ("unified", "/a")] == [1]


def test_ls_at_stats_shows_the_recorded_figures_in_the_live_columns(tmp_path, capsys):
    d = str(tmp_path / "h")
    record(d, 5, stats_every=2)
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(T0 + 16))  # sample 3: S of 2, rates 2..4
    rc, out, _ = run(capsys, "ls", "--at", at, "--from", d, "--stats", "--json")
    assert rc == 0
    row = next(r for r in json.loads(out) if (r["hierarchy"], r["path"]) == ("unified", "/a"))
    assert row["cpu_percent"] == 120.0 and row["memory_bytes"] == 4096 * 3 and row["pids_current"] == 7
    assert row["io_read_bytes_per_s"] == 3600000.0 and row["frozen"] is False
    rc, text, _ = run(capsys, "ls", "unified:/", "--at", at, "--from", d, "--stats")
    rc2, live, _ = run(capsys, "--demo", "ls", "--stats", "--sample", "0")
    assert rc == rc2 == 0 and text.splitlines()[0].split() == live.splitlines()[0].split()  # the live columns
    line = next(x for x in text.splitlines() if x.startswith("unified:/a "))
    assert line.split()[1:5] == ["1", "120.0", "12.0K", "3.4M"]
    line_c = next(x for x in text.splitlines() if x.startswith("unified:/c "))
    assert set(line_c.split()[2:]) == {"-"}  # no reading of /c: "-"


def test_record_stats_every_on_the_command_line(tmp_path, capsys):
    d = str(tmp_path / "h")
    rc, _, _ = run(capsys, "--demo", "record", "--to", d, "--interval", "0.05", "--samples", "3",
                   "--stats-every", "2")
    assert rc == 0 and kinds(d).count(b"S") == 2
    d0 = str(tmp_path / "h0")
    rc, _, _ = run(capsys, "--demo", "record", "--to", d0, "--interval", "0.05", "--samples", "2",
                   "--stats-every", "0")
    assert rc == 0 and b"S" not in kinds(d0)
    rc, out, err = run(capsys, "--demo", "ls", "--at", "now", "--from", d, "--stats", "--json")
    assert rc == 0 and any(r["memory_bytes"] for r in json.loads(out))
    rc, _, err = run(capsys, "--demo", "record", "--to", d, "--stats-every", "-1")
    assert rc == 2 and "--stats-every -1" in err
    from ctrtui.cli.parser import build_parser  # the default is the recorder's, written out (start-up)

    assert build_parser().parse_args(["record"]).stats_every == DEFAULT_STATS_EVERY


def test_the_sampler_answers_from_a_recording_without_a_clock(tmp_path):
    """The UI's `StatsSampler` on a recording gives the recorded figures (rates of the
    recording's readings), not rates of its own two reads."""
    from ctrtui.sources.stats import StatsSampler

    d = str(tmp_path / "h")
    record(d, 3, stats_every=2)
    clock = iter([0.0, 1000.0]).__next__
    sampler = StatsSampler(RecordedBackend(Recording(d)), clock=clock)
    assert sampler.sample("unified", ["/a"])["/a"].cpu == pytest.approx(40.0)  # S 0..2 (4 s in 10 s)
    assert sampler.sample("unified", ["/a"])["/a"].cpu == pytest.approx(40.0)


def test_read_stats_skips_cgroups_without_files():
    k = small_world()
    snap = k.snapshot()
    got = read_stats(k, snap)
    assert set(got) == {"freezer", "unified"} and "/a" in got["unified"]
