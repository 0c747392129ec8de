"""What the simulated kernel's stats files say: CPU time, resident memory, IO, pressure (PSI)
and the pids and freezer files of a cgroup, and the machine's /proc figures on the root, as
`CgroupFS.cgroup_stats` returns them (name -> text).

CPU time accrues between ticks too, at each task's share, on the kernel's `clock`: two
readings a second apart show each task's share, as on a machine. The sums of each cgroup (own,
and with its subtree) are kept until its members or its subtree change (or the clock ticks),
so a reading costs what changed since the last.
"""

from __future__ import annotations

from ctrtui.model.cgstats import PROC_FILES, STATS_FILES
from ctrtui.sources.simkernel.objects import HZ, SimCgroup, SimHierarchy, freezer_state
from ctrtui.sources.simkernel.state import SimState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection

Sums = tuple[float, int, float, float, int]
"""(uptime when summed, tasks, CPU seconds, CPU share %, resident bytes)."""


class SimUsage(SimState):
    """`cgroup_stats` of `SimKernel` (see the module docstring)."""

    IO_READ_PER_CPU_SECOND = 3 << 20
    """Simulated IO: bytes a task reads per second of CPU it uses (writes: a third)."""

    def _usage(self, cg: SimCgroup) -> tuple[int, float, int, float]:
        """Tasks, CPU seconds used, resident bytes and CPU share (% of one CPU) of `cg` and
        its descendants, CPU time counted up to now on `clock`."""
        since = max(0.0, self.clock() - self._clock0)
        with self._cache_lock:
            _, n, cpu, share, rss = self._sub(cg, self._uptime)
        return n, cpu + share / 100.0 * since, rss, share

    def _sub(self, top: SimCgroup, up: float) -> Sums:
        """`top`'s subtree sums, summing again (children first, without recursion: a tree
        may be deep) only where they are stale."""
        tasks = self.tasks
        stack: list[tuple[SimCgroup, bool]] = [(top, False)]
        while stack:
            c, children_done = stack.pop()
            sub = c.sub
            if sub is not None and sub[0] == up:
                continue
            if not children_done:
                stack.append((c, True))
                stack.extend((child, False) for child in c.children.values())
                continue
            agg = c.agg
            if agg is None or agg[0] != up:
                an = arss = 0
                acpu = ashare = 0.0
                for t in c.tids:
                    task = tasks[t]
                    an += 1
                    acpu += task.cpu_time
                    if task.cpu and not task.dead:
                        ashare += task.cpu
                    arss += task.rss
                agg = c.agg = (up, an, acpu, ashare, arss)
            _, n, cpu, share, rss = agg
            for child in c.children.values():
                csub = child.sub
                assert csub is not None  # summed just before
                _, cn, ccpu, cshare, crss = csub
                n += cn
                cpu += ccpu
                share += cshare
                rss += crss
            c.sub = (up, n, cpu, share, rss)
        assert top.sub is not None
        return top.sub

    def cgroup_stats(self, hierarchy: str, path: str, names: Collection[str] | None = None) -> dict[str, str]:
        try:
            cg = self._cg(hierarchy, path)
        except (OSError, KeyError):
            return {}
        want = STATS_FILES if names is None else names
        h = cg.hier
        counted = h.v2 or any(h.has(c) for c in ("pids", "cpuacct", "memory", "blkio"))
        root = cg.parent is None
        n_tasks, cpu, rss, share = self._usage(cg) if counted or root or h.v2 else (0, 0.0, 0, 0.0)
        io_r = int(cpu * self.IO_READ_PER_CPU_SECOND)
        io_w = io_r // 3
        out: dict[str, str] = {}
        if root:
            self._machine_stats(out, cpu, rss, share, not h.v2, want)
        if h.v2:
            self._v2_stats(out, cg, (n_tasks, cpu, rss, share, io_r, io_w), want)
            return out
        if h.has("freezer") and cg.parent is not None:
            out["freezer.state"] = freezer_state(cg)
        if h.has("cpuset"):
            out["cpuset.cpus"], out["cpuset.mems"] = cg.cpus, cg.mems
        if h.has("pids") and cg.parent is not None:
            out["pids.current"] = str(n_tasks)
            out["pids.max"] = cg.pids_max
        if h.has("cpuacct"):
            out["cpuacct.usage"] = str(int(cpu * 1e9))
        if h.has("memory"):
            out["memory.usage_in_bytes"] = str(rss)
        if h.has("blkio"):
            out["blkio.throttle.io_service_bytes"] = (
                f"8:0 Read {io_r}\n8:0 Write {io_w}\n8:0 Sync {io_w}\n8:0 Async {io_r}\n"
                f"8:0 Discard 0\n8:0 Total {io_r + io_w}\nTotal {io_r + io_w}")
        return out if names is None else {k: v for k, v in out.items() if k in names}

    def _v2_stats(self, out: dict[str, str], cg: SimCgroup, usage: tuple[int, float, int, float, int, int],
                  want: Collection[str]) -> None:
        """The v2 files of `cg` among `want` into `out`: pressure, type, controllers, events,
        freeze, CPU, and the pids, memory and io files where its parent enables those
        controllers (`usage`: tasks, CPU seconds, resident bytes, CPU share, IO bytes read and
        written)."""
        n_tasks, cpu, rss, share, io_r, io_w = usage
        h: SimHierarchy = cg.hier
        if self.psi:
            for res, (some, full) in self._pressure(rss, share).items():
                if res + ".pressure" in want:
                    out[res + ".pressure"] = self._psi_text(some, full, cpu)
        enabled = set(h.info.controllers) if cg.parent is None else cg.parent.subtree_control
        child = cg.parent is not None
        if child and "cgroup.type" in want:
            out["cgroup.type"] = cg.cgroup_type()
        if "cgroup.subtree_control" in want:
            out["cgroup.subtree_control"] = " ".join(sorted(cg.subtree_control))
        if child and "cgroup.events" in want:
            out["cgroup.events"] = f"populated {int(n_tasks > 0)}\nfrozen {int(cg.frozen())}"
        if child and "cgroup.freeze" in want:
            out["cgroup.freeze"] = str(int(cg.freezer == "FROZEN"))
        if "cpu.stat" in want:
            usage_usec = int(cpu * 1e6)
            half = usage_usec // 2
            out["cpu.stat"] = f"usage_usec {usage_usec}\nuser_usec {half}\nsystem_usec {usage_usec - half}"
        if child and "pids" in enabled:
            if "pids.current" in want:
                out["pids.current"] = str(n_tasks)
            if "pids.max" in want:
                out["pids.max"] = cg.pids_max
        if child and "memory" in enabled:
            if "memory.current" in want:
                out["memory.current"] = str(rss)
            if "memory.swap.current" in want:
                out["memory.swap.current"] = str(self._swapped(rss))
        if child and "io" in enabled and "io.stat" in want:
            out["io.stat"] = f"8:0 rbytes={io_r} wbytes={io_w} rios={io_r >> 12} wios={io_w >> 12} dbytes=0 dios=0"

    @staticmethod
    def _swapped(rss: int) -> int:
        """Simulated swap use: a sixteenth of what is resident, in whole pages."""
        return (rss >> 4) & ~4095

    def _pressure(self, rss: int, share: float) -> dict[str, tuple[float, float]]:
        """Simulated PSI avg10 (some, full) per resource, from the CPU share (% of one CPU)
        and resident bytes of the tasks: more of them, more stalls."""
        cpu = min(99.0, share / 4)
        mem = min(99.0, rss / self.mem_total * 10)
        io = min(99.0, share / 20)
        return {"cpu": (cpu, 0.0 if cpu < 1 else cpu / 5), "memory": (mem, mem / 4), "io": (io, io / 2)}

    @staticmethod
    def _psi_text(some: float, full: float, cpu_seconds: float) -> str:
        s, f = f"{some:.2f}", f"{full:.2f}"  # the same for the three averages
        return (f"some avg10={s} avg60={s} avg300={s} total={int(cpu_seconds * some * 1e4)}\n"
                f"full avg10={f} avg60={f} avg300={f} total={int(cpu_seconds * full * 1e4)}")

    def _machine_stats(self, out: dict[str, str], cpu: float, rss: int, share: float, v1: bool,
                       want: Collection[str]) -> None:
        """The root's /proc figures among `want` (as `CgroupFS.cgroup_stats` adds them; the
        v2 root has pressure files of its own)."""
        if not any(n in want for n in PROC_FILES):
            return
        kb = 1 << 10
        used = min(rss, self.mem_total)
        swapped = min(self._swapped(rss), self.swap_total)
        out["/proc/meminfo"] = (f"MemTotal: {self.mem_total // kb} kB\n"
                                f"MemAvailable: {(self.mem_total - used) // kb} kB\n"
                                f"SwapTotal: {self.swap_total // kb} kB\n"
                                f"SwapFree: {(self.swap_total - swapped) // kb} kB")
        live = [t for t in self.tasks.values() if not t.dead]
        running = sum(1 for t in live if t.state == "R") or 1
        out["/proc/loadavg"] = f"0.52 0.58 0.59 {running}/{len(live)} {self._last_pid}"
        ticks = int(cpu * HZ)
        user, system = ticks * 4 // 5, ticks - ticks * 4 // 5
        out["/proc/stat"] = f"cpu  {user} 0 {system} {int(self._uptime * HZ) * 2} 0 0 0 0 0 0"
        if v1 and self.psi:
            for res, (some, full) in self._pressure(rss, share).items():
                out["/proc/pressure/" + res] = self._psi_text(some, full, cpu)
        for name in [n for n in out if n in PROC_FILES and n not in want]:
            del out[name]
