"""System meters of the machine ctrtui runs on (htop's header), read with psutil.

Cheap enough to read at every refresh: `psutil.cpu_percent(percpu=True, interval=None)`
compares with the previous call (the first call has nothing to compare with and says 0),
memory and swap come from /proc/meminfo, load from /proc/loadavg.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psutil


@dataclass(frozen=True, slots=True)
class Meters:
    """One reading of the machine's meters."""

    cpus: tuple[float, ...]
    """Per-CPU usage in percent since the previous reading."""
    mem_used: int
    mem_total: int
    swap_used: int
    swap_total: int
    load: tuple[float, float, float]
    uptime: float
    """Seconds since boot."""

    @property
    def cpu(self) -> float:
        """All CPUs together, in percent of the whole machine."""
        return sum(self.cpus) / len(self.cpus) if self.cpus else 0.0


def read_meters() -> Meters:
    """The meters now (psutil; the CPU figures are since the previous call)."""
    cpus = tuple(psutil.cpu_percent(percpu=True, interval=None))
    vm = psutil.virtual_memory()
    sw = psutil.swap_memory()
    load = os.getloadavg()
    return Meters(cpus, int(vm.total - vm.available), int(vm.total), int(sw.used), int(sw.total),
                  (load[0], load[1], load[2]), max(0.0, time.time() - psutil.boot_time()))


def fmt_uptime(seconds: float) -> str:
    """`3d 04:12`, `04:12:07` as htop's uptime meter (days only when there are some)."""
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{d}d {h:02}:{m:02}" if d else f"{h:02}:{m:02}:{s:02}"
