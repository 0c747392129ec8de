"""The benchmark suite's helpers: percentiles, ratios, targets and the list of figure keys (the
quick run on the real kernel, and the start-up cost of the standard pieces, which runs
`ctrtui hierarchies` on this machine: tests/real/test_benchmarks_real.py).

Timing never fails a test.
"""

from __future__ import annotations

import pytest

from benchmarks import KEYS, TARGETS, met, target_text
from benchmarks.timing import Pair, percentile


def test_percentile_and_targets():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert Pair([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]).ratio == 2.0
    assert met("refresh_ms", 100.0) and not met("refresh_ms", 100.5)
    assert target_text("refresh_ms") == "<= 100 ms" and target_text("ls_vs_lscgroup") == "<= 1.0"
    assert len(KEYS) == 61 and set(KEYS) == set(TARGETS)

