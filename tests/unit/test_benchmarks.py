"""The benchmark suite's helpers: percentiles, ratios, targets and the list of figure keys, and
the start-up cost of the standard pieces (the quick run on the real kernel:
tests/real/test_benchmarks_real.py).

Timing never fails a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from benchmarks import KEYS, TARGETS, met, target_text
from benchmarks.timing import Pair, percentile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_percentile_and_targets():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert Pair([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]).ratio == 2.0
    assert met("refresh_ms", 100.0) and not met("refresh_ms", 100.5)
    assert target_text("refresh_ms") == "<= 100 ms" and target_text("ls_vs_lscgroup") == "<= 1.0"
    assert len(KEYS) == 24 and set(KEYS) == set(TARGETS)


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
