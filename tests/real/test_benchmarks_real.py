"""The benchmark suite on the real kernel: `python -m benchmarks --quick --json FILE` runs,
writes every figure key (a value or a skip reason), and leaves no cgroup behind;
`python -m benchmarks.stdlib` (which times `ctrtui hierarchies` on this machine) runs (the
helpers alone: tests/unit/test_benchmarks.py).

Timing never fails a test: only the shape of the output and the clean-up are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from benchmarks import KEYS
from benchmarks.world import WorldUnavailable, check_real, find_mounts

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.real
def test_quick_run_writes_every_key(tmp_path):
    try:
        check_real()  # the benchmark's own test: root, freezer and unified mounted, writable
    except WorldUnavailable as e:
        pytest.skip(f"the quick run makes real ctrtui-test-bench-* cgroups: {e}")
    out = tmp_path / "bench.json"
    p = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert set(doc) == set(KEYS) | {"skipped", "meta"}
    assert set(doc["skipped"]) <= set(KEYS)
    for key in KEYS:
        value = doc[key]
        if value is None:
            reason = doc["skipped"].get(key)
            assert reason, f"{key} is null without a skip reason"
            # a figure may be skipped (tool missing, UI not built), never crash
            assert not reason.startswith("error:"), f"{key}: {reason}"
        else:
            assert isinstance(value, (int, float)) and value >= 0, (key, value)
            assert key not in doc["skipped"]
    for key, line in zip(KEYS, p.stdout.splitlines()[2:], strict=False):
        assert line.startswith(key), line  # the printed table lists every key in order
    meta = doc["meta"]
    assert meta["quick"] is True and meta["runs"] >= 3
    world = meta["world"]
    assert world, f"the real world was not built: {doc['skipped']}"
    for mount in find_mounts().values():
        assert not os.path.exists(os.path.join(mount, world["name"])), f"{world['name']} left in {mount}"
    assert world["freezer_cgroups"] == 1 + 20 + 400 + 2


def test_stdlib_costs_runs_and_reports_each_piece(tmp_path):
    """`python -m benchmarks.stdlib` (what argparse, dataclasses and importlib.metadata would
    cost the start-up) runs every process it compares and writes each difference."""
    out = tmp_path / "stdlib.json"
    p = subprocess.run([sys.executable, "-m", "benchmarks.stdlib", "--runs", "1", "--json", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    doc = json.loads(out.read_text())
    from benchmarks.stdlib import PAIRS, commands

    assert set(doc["median_ms"]) == set(commands()) and all(v > 0 for v in doc["median_ms"].values())
    assert set(doc["extra_ms"]) == {what for what, _, _ in PAIRS}
    assert all(len(s) == 1 for s in doc["samples_ms"].values())
