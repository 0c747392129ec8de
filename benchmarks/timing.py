"""Timing helpers: alternate two measurements, take medians, time whole processes."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


class Skip(Exception):
    """A figure cannot be measured here; the message is the reason recorded in the JSON."""


@dataclass
class Pair:
    """Timings (seconds) of two commands measured alternately in one run."""

    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Median of a ÷ median of b."""
        return statistics.median(self.a) / statistics.median(self.b)

    def meta(self, a_name: str, b_name: str) -> dict:
        return {
            a_name + "_s": [round(x, 6) for x in self.a],
            b_name + "_s": [round(x, 6) for x in self.b],
            a_name + "_median_s": round(statistics.median(self.a), 6),
            b_name + "_median_s": round(statistics.median(self.b), 6),
        }


def alternate(a: Callable[[], float], b: Callable[[], float], runs: int,
              warmup: int = 1) -> Pair:
    """Run `a` and `b` in turn `runs` times (after `warmup` untimed rounds); each returns
    its own elapsed seconds, so set-up inside it (moving tasks back) is not counted."""
    for _ in range(warmup):
        a()
        b()
    pair = Pair()
    for i in range(runs):
        # alternate which goes first, so neither always runs on a warmer cache
        if i % 2 == 0:
            pair.a.append(a())
            pair.b.append(b())
        else:
            pair.b.append(b())
            pair.a.append(a())
    return pair


def run_process(cmd: Sequence[str], what: str, env: dict | None = None) -> float:
    """Run `cmd` with stdout to /dev/null; return its wall time. A failure raises Skip
    with the command's own error text (so the JSON says what went wrong)."""
    t0 = time.perf_counter()
    p = subprocess.run(list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip().splitlines()
        raise Skip(f"{what} failed (exit {p.returncode}): {err[-1] if err else 'no message'}")
    return dt


def process_timer(cmd: Sequence[str], what: str, env: dict | None = None) -> Callable[[], float]:
    return lambda: run_process(cmd, what, env)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation."""
    xs = sorted(values)
    if not xs:
        raise ValueError("no values")
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)
