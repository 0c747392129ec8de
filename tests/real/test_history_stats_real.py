"""The cgroups' figures in a recording on the real kernel (the `S` record; the simulated
kernel, rates, torn tails and hostile payloads: tests/unit/test_history_stats.py): two
samples of this test's own `ctrtui-test-*` cgroups in pids, freezer and unified, with its own
sleep processes in them, recorded with their figures and read back."""

from __future__ import annotations

import json
import time
from functools import partial

import pytest

from ctrtui.history import Recorder, Recording
from ctrtui.history.replay import RecordedBackend
from ctrtui.history.stats import read_stats
from ctrtui.model.cgstats import FIGURE_FILES, parse_reading
from ctrtui.model.snapshot import Snapshot
from ctrtui.sources.cgroupfs import CgroupFS
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse
from tests.realcg import REAL_OK, REAL_WHY, RealWorld


def _name(fs: CgroupFS, w: RealWorld, word: str) -> str:
    """The CgroupFS name of the hierarchy RealWorld calls `word`."""
    mount = w.mount(word)
    return next(h.name for h in fs.hierarchies() if h.mount == mount)


@pytest.mark.real
@pytest.mark.skipif(not REAL_OK, reason=REAL_WHY)
def test_figures_of_own_cgroups_are_recorded_and_read_back(tmp_path, capsys):
    with RealWorld() as w:
        words = ("pids", "freezer", "unified")
        cgs = {h: w.mkdir(h, "a") for h in words}
        procs = [w.spawn_sleep(), w.spawn_sleep()]
        for h, cg in cgs.items():
            for p in procs:
                w.put(p.pid, h, cg)
        fs = CgroupFS()
        names = {h: _name(fs, w, h) for h in words}
        d = tmp_path / "h"
        times = []
        with Recorder(str(d), stats_every=1) as rec:
            for _ in range(2):
                hss = tuple(fs.snapshot([names[h]], subtree=w.top(h)).hierarchies[0] for h in words)
                snap = Snapshot(hss, time.time(), "real")
                rec.sample(snap, {}, stats=partial(read_stats, fs))
                times.append(snap.taken_at)
                time.sleep(0.05)
        rec_ = Recording(str(d))
        assert [kind for _, _, kind, _ in rec_.index] == [b"F", b"S", b"D", b"S", b"I"]  # I: the task index, at close
        b = RecordedBackend(rec_)
        got = {h: b.recorded_figures(names[h], [cgs[h], w.top(h)]) for h in words}
        assert got["pids"][cgs["pids"]].pids == 2 and got["pids"][cgs["pids"]].pids_max is None  # no limit
        assert got["freezer"][cgs["freezer"]].frozen is False
        un = got["unified"][cgs["unified"]]
        assert un.frozen is False and un.cpu is not None and 0 <= un.cpu < 50  # two sleeps: idle
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(times[1])) + f".{int(times[1] * 1e6) % 10**6:06d}"
        rc, out, _ = run(capsys, "ls", f"{names['pids']}:{w.top('pids')}", "--at", at, "--from", str(d), "--stats",
                         "--json")
        assert rc == 0
        rows = {r["path"]: r for r in json.loads(out)}
        assert rows[cgs["pids"]]["pids_current"] == 2 and rows[cgs["pids"]]["tasks"] == 2


@pytest.mark.real
@pytest.mark.skipif(not REAL_OK, reason=REAL_WHY)
def test_the_figures_only_read_gives_the_figures_of_the_full_read():
    """On the real kernel, `cgroup_stats(h, p, FIGURE_FILES)` (what the `S` record and `ls
    --stats` read) holds the full read's figure files and the same `Reading`, for this test's
    own cgroups (its sleeps in them: nothing moves between the two reads) and, by name, for
    each hierarchy's root (the machine's /proc figures move on: only the names compared)."""
    with RealWorld() as w:
        words = ("pids", "freezer", "unified")
        cgs = {h: w.mkdir(h, "a") for h in words}
        proc = w.spawn_sleep()
        for h, cg in cgs.items():
            w.put(proc.pid, h, cg)
        fs = CgroupFS()
        for h in words:
            name = _name(fs, w, h)
            full, only = fs.cgroup_stats(name, cgs[h]), fs.cgroup_stats(name, cgs[h], FIGURE_FILES)
            assert only and only == {n: t for n, t in full.items() if n in FIGURE_FILES}, h
            assert parse_reading(only, 0.0) == parse_reading(full, 0.0)
            root = fs.cgroup_stats(name, "/")
            assert set(fs.cgroup_stats(name, "/", FIGURE_FILES)) == set(root) & FIGURE_FILES
        assert fs.cgroup_stats(_name(fs, w, "pids"), cgs["pids"], FIGURE_FILES).keys() == {"pids.current",
                                                                                          "pids.max"}
