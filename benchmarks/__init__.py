"""ctrtui's benchmark suite (issue 4): `python -m benchmarks [--quick] [--json FILE]`.

Figures, their targets and how each is measured: benchmarks/RESULTS.md. The real-kernel
figures build their own `ctrtui-test-bench-*` world (benchmarks/world.py); the UI figures use
the simulated generator.
"""

from __future__ import annotations

#: key -> (comparison, bound, text shown as the target). Keys are exactly the issue's table.
TARGETS: dict[str, tuple[str, float, str]] = {
    "snapshot_vs_floor": ("<=", 1.2, "<= 1.2"),
    "ls_vs_systemd_cgls": ("<=", 1.0, "<= 1.0"),
    "ls_vs_lscgroup": ("<=", 1.0, "<= 1.0"),
    "cli_start_vs_python": ("<=", 2.0, "<= 2.0"),
    "move_1000_vs_raw": ("<=", 2.0, "<= 2.0"),
    "move_1000_vs_cgclassify": ("<=", 1.5, "<= 1.5"),
    "first_paint_s": ("<=", 0.5, "<= 0.5 s"),
    "first_paint_vs_textual": ("<=", 2.0, "<= 2.0"),
    "key_latency_ms_p50": ("<=", 16.0, "<= 16 ms"),
    "key_latency_ms_p95": ("<=", 50.0, "<= 50 ms"),
    "refresh_ms": ("<=", 100.0, "<= 100 ms"),
    "snapshot_bytes_per_task": ("<=", 100.0, "<= 100 B"),
}
KEYS: tuple[str, ...] = tuple(TARGETS)


def met(key: str, value: float) -> bool:
    """True when `value` meets the target of `key`."""
    op, bound, _ = TARGETS[key]
    return value <= bound if op == "<=" else value >= bound
