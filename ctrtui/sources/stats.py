"""Cgroup figures over time: reads a backend's stats files for some cgroups and keeps the
last reading of each, so every new reading gives rates (`model/cgstats.py` does the sums).

Reading only: `cgroup_stats` opens files for reading (the figures' own, `FIGURE_FILES`) and
never writes to a cgroup. Only the cgroups asked for are read (the UI asks for the ones
shown), so a refresh costs what is on screen, not what is mounted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ctrtui.model.cgstats import FIGURE_FILES, Figures, Reading, figures, parse_reading
from ctrtui.sources.base import Reader


class StatsSampler:
    """Reads cgroups' stats and turns each reading, with the one before it, into `Figures`.

    One sampler per backend; `sample` is called from one thread at a time (the UI's stats
    worker, or the command line)."""

    def __init__(self, backend: Reader, clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.clock = clock
        self._last: dict[tuple[str, str], Reading] = {}

    def sample(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Figures]:
        """Figures of each of `paths` that exists (missing or unreadable: left out). Rates
        are over the time since that cgroup's previous sample (None the first time). A
        backend that holds figures of its own (a recording's `recorded_figures`, with the
        rates of its readings) answers itself."""
        recorded = getattr(self.backend, "recorded_figures", None)
        if recorded is not None:
            got: dict[str, Figures] = recorded(hierarchy, list(paths))
            return got
        out: dict[str, Figures] = {}
        last = self._last
        for path in paths:
            try:
                files = self.backend.cgroup_stats(hierarchy, path, FIGURE_FILES)
            except OSError:
                files = {}
            key = (hierarchy, path)
            if not files:
                last.pop(key, None)
                continue
            reading = parse_reading(files, self.clock())
            out[path] = figures(last.get(key), reading)
            last[key] = reading
        return out

    def forget(self, hierarchy: str | None = None) -> None:
        """Drop the kept readings (of one hierarchy, or all): the next sample has no rates."""
        if hierarchy is None:
            self._last.clear()
        else:
            for key in [k for k in self._last if k[0] == hierarchy]:
                del self._last[key]


def sample_twice(sampler: StatsSampler, hierarchy: str, paths: list[str], interval: float,
                 sleep: Callable[[float], None] = time.sleep) -> dict[str, Figures]:
    """Two samples `interval` seconds apart, for a one-shot report with rates."""
    sampler.sample(hierarchy, paths)
    sleep(interval)
    return sampler.sample(hierarchy, paths)
