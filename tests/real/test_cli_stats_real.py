"""`ctrtui ls --stats` on the real kernel (own ctrtui-test-* cgroups in freezer, pids, cpu and
unified; own sleep); the demo world: tests/unit/test_cli_stats.py."""

from __future__ import annotations

import json
import os

import pytest

from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse
from tests.realcg import REAL_OK, REAL_WHY, RealWorld


@pytest.mark.real
@pytest.mark.skipif(not REAL_OK, reason=REAL_WHY)
def test_ls_stats_on_the_real_kernel(capsys):
    with RealWorld() as w:
        p = w.spawn_sleep()
        cgs = {h: w.mkdir(h, "a") for h in ("freezer", "pids", "cpu", "unified")}
        for h, cg in cgs.items():
            w.put(p.pid, h, cg)
        fz = w.fs("freezer", cgs["freezer"]) + "/freezer.state"
        before = {h: sorted(os.listdir(w.fs(h, cg))) for h, cg in cgs.items()}
        with open(fz, "w") as f:
            f.write("FROZEN")
        try:
            got = {}
            for h in cgs:
                rc, out, _ = run(capsys, "ls", f"{h}:{w.top(h)}", "--stats", "--json", "--sample", "0.1")
                assert rc == 0
                got[h] = {r["path"]: r for r in json.loads(out)}
        finally:
            with open(fz, "w") as f:
                f.write("THAWED")
        for h, cg in cgs.items():
            assert got[h][cg]["tasks"] == 1 and got[h][w.top(h)]["tasks"] == 1
            assert sorted(os.listdir(w.fs(h, cg))) == before[h]   # reading made nothing
        assert got["freezer"][cgs["freezer"]]["frozen"] is True
        assert (got["pids"][cgs["pids"]]["pids_current"], got["pids"][cgs["pids"]]["pids_max"]) == (1, None)  # no limit
        un = got["unified"][cgs["unified"]]
        assert un["frozen"] is False and un["cpu_percent"] is not None and 0 <= un["cpu_percent"] < 50
        accounted = os.path.exists(w.fs("cpu", cgs["cpu"]) + "/cpuacct.usage")  # cpu,cpuacct co-mounted?
        assert (got["cpu"][cgs["cpu"]]["cpu_percent"] is not None) == accounted
