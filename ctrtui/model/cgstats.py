"""Cgroup figures as systemd-cgtop shows them, from two readings of a cgroup's stats files.

Pure: no I/O. A backend's `cgroup_stats(hier, path)` gives the files' text (with
`FIGURE_FILES` as its `names`, only those `parse_reading` uses); `parse_reading`
turns it (with the moment it was read) into a `Reading` of cumulative counters, and
`figures(before, after)` turns two readings into what is shown: CPU % (of one CPU, as cgtop:
it can pass 100 on a machine with several), memory, IO bytes per second, pids and the
frozen state. A rate needs two readings; with one (or a counter that went backwards: the
cgroup was removed and made again) it is None, shown `-`.

Files read, where they exist: v2 `cpu.stat` (usage_usec), `memory.current`, `io.stat`
(rbytes, wbytes summed over devices), `pids.current`/`pids.max`, `cgroup.events` (frozen);
v1 `cpuacct.usage` (ns), `memory.usage_in_bytes`, `blkio.throttle.io_service_bytes` (Read,
Write summed over devices), `pids.current`/`pids.max`, `freezer.state`. Pressure (PSI, the
`some`/`full` avg10 percentages) from v2 `cpu.pressure`, `memory.pressure`, `io.pressure`, and
swap from v2 `memory.swap.current`.

The root cgroup has none of the per-cgroup memory and pids files; as systemd-cgtop, its row
shows the machine's figures, from the files a backend adds for "/" under their /proc names:
`/proc/meminfo` (memory: MemTotal - MemAvailable; swap: SwapTotal - SwapFree), `/proc/loadavg`
(pids: every task, its `running/total` field), `/proc/stat` (CPU: its `cpu` line, used only
where the root has no usage counter of its own) and `/proc/pressure/{cpu,memory,io}` (where
the root has no `*.pressure` of its own: v1 hierarchies).

Every number is range-checked: a file from another host (through the agent) or a kernel
that writes something odd gives `-`, never a wrong figure.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

# `slots=` is Python 3.10+; this module travels to 3.9 hosts (docs/remote.md), where the
# dataclasses go without __slots__ (same behaviour, a little more memory).
_SLOTS: dict[str, bool] = {"slots": True} if sys.version_info >= (3, 10) else {}

COLUMNS = ("tasks", "cpu", "memory", "read", "write", "pids", "frozen",
           "swap", "cpu_some", "memory_some", "memory_full", "io_some", "io_full")
"""The figure columns, in the order shown (cgtop's, plus pids and frozen, then swap and the
pressure avg10 percentages): a narrow tree shows the first ones that fit."""

HEADINGS = {"tasks": "Tasks", "cpu": "%CPU", "memory": "Memory", "read": "Input/s",
            "write": "Output/s", "pids": "Pids", "frozen": "Frozen", "swap": "Swap",
            "cpu_some": "CPUsome", "memory_some": "MEMsome", "memory_full": "MEMfull",
            "io_some": "IOsome", "io_full": "IOfull"}

PRESSURE = {"cpu_some": ("cpu", "some"), "memory_some": ("memory", "some"),
            "memory_full": ("memory", "full"), "io_some": ("io", "some"), "io_full": ("io", "full")}
"""Pressure columns: (resource, line) of `<resource>.pressure` whose avg10 they show."""

MAX_COUNTER = 1 << 64
"""Counters the kernel keeps in 64 bits: anything larger is not one (read as absent)."""

USER_HZ = 100
"""Ticks per second of /proc/stat: fixed at 100 in the kernel's ABI for user space."""

PROC_FILES = ("/proc/meminfo", "/proc/loadavg", "/proc/stat",
              "/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io")
"""Names under which a backend adds the machine's figures to the root cgroup's stats."""

STATS_FILES = frozenset({
    "cgroup.type", "cgroup.subtree_control", "cgroup.events", "cgroup.freeze", "pids.current", "pids.max",
    "memory.current", "cpu.stat", "io.stat", "memory.swap.current", "cpu.pressure", "memory.pressure",
    "io.pressure", "freezer.state", "cpuset.cpus", "cpuset.mems", "cpuacct.usage", "memory.usage_in_bytes",
    "blkio.throttle.io_service_bytes", *PROC_FILES})
"""Every name a backend's `cgroup_stats` may give (a host's agent answering others is broken)."""

FIGURE_FILES = frozenset({
    "cgroup.events", "pids.current", "pids.max", "memory.current", "cpu.stat", "io.stat", "memory.swap.current",
    "cpu.pressure", "memory.pressure", "io.pressure", "freezer.state", "cpuacct.usage", "memory.usage_in_bytes",
    "blkio.throttle.io_service_bytes", *PROC_FILES})
"""The names `parse_reading` uses (of `STATS_FILES`): what a figures-only `cgroup_stats(hier,
path, FIGURE_FILES)` reads (no cgroup.type, cgroup.subtree_control, cgroup.freeze, cpuset)."""

MAX_STATS_TEXT = 1 << 16
"""Characters of one stats file that are believed (io.stat of a host with many disks fits)."""


@dataclass(frozen=True, **_SLOTS)
class Reading:
    """One cgroup's counters at one moment (`at`, seconds on a monotonic clock). None: the
    file is not there (controller not enabled, v1 hierarchy without it, the root)."""

    at: float
    cpu_usec: int | None = None
    memory: int | None = None
    io_read: int | None = None
    io_write: int | None = None
    pids: int | None = None
    pids_max: int | None = None
    """`pids.max` as a number; None for `max` (no limit), or when there is no such file."""
    frozen: bool | None = None
    swap: int | None = None
    pressure: tuple[float | None, ...] = (None,) * len(PRESSURE)
    """avg10 of each of `PRESSURE`, in its order."""


@dataclass(frozen=True, **_SLOTS)
class Figures:
    """What a cgroup's columns show. Rates are None until a second reading."""

    cpu: float | None = None
    """Percent of one CPU over the interval between the two readings."""
    memory: int | None = None
    read: float | None = None
    """IO bytes read per second."""
    write: float | None = None
    pids: int | None = None
    pids_max: int | None = None
    """The limit on `pids`; None for no limit (`max`) or no pids.max file."""
    frozen: bool | None = None
    swap: int | None = None
    pressure: tuple[float | None, ...] = (None,) * len(PRESSURE)
    """Percent of the last 10 s some (or all) tasks stalled on CPU, memory, IO: each of
    `PRESSURE`, in its order (not a rate: one reading is enough)."""


def _int(text: str | None) -> int | None:
    """A counter: a decimal integer in 0..2**64-1 (anything else: None)."""
    if text is None:
        return None
    if not (0 < len(text) <= 20 and text.isdigit() and text.isascii()):  # what a kernel writes
        text = text.strip()
        if not (0 < len(text) <= 20 and text.isascii() and text.isdigit()):
            return None
    n = int(text)
    return n if n < MAX_COUNTER else None


def _avg10(v: str) -> float | None:
    """A PSI avg10 value: digits with at most one dot, 0..100 (anything else: None)."""
    if not (0 < len(v) <= 8 and v.replace(".", "", 1).isdigit() and v.isascii()):
        return None
    f = float(v)
    return f if 0.0 <= f <= 100.0 else None


def parse_pressure(text: str) -> dict[str, float]:
    """`some`/`full` -> avg10 of a PSI file (`some avg10=0.28 avg60=... total=...`); a line
    that is malformed, or a percentage outside 0..100, is left out."""
    m = _PSI_TEXT.fullmatch(text)
    if m is not None:  # the kernel's form: one match, no line split
        some, full = float(m[1]), m[2]
        if some <= 100.0:
            if full is None:
                return {"some": some}
            if float(full) <= 100.0:
                return {"some": some, "full": float(full)}
    out: dict[str, float] = {}
    for line in text.splitlines()[:4]:
        kind = line[:4]
        if line[4:11] == " avg10=" and kind in _PSI_KINDS:  # the kernel's form, without split()
            end = line.find(" ", 11)
            f = _avg10(line[11:] if end < 0 else line[11:end])
            if f is not None:
                out[kind] = f
                continue
        parts = line.split()
        if len(parts) < 2 or parts[0] not in _PSI_KINDS or not parts[1].startswith("avg10="):
            continue
        f = _avg10(parts[1][6:])
        if f is not None:
            out[parts[0]] = f
    return out


_PSI_KINDS = ("some", "full")
_PSI_LINE = r"avg10=([0-9]{1,3}\.[0-9]{2}) avg60=[0-9.]{1,8} avg300=[0-9.]{1,8} total=[0-9]{1,20}"
_PSI_TEXT = re.compile(f"some {_PSI_LINE}(?:\nfull {_PSI_LINE})?")
"""A PSI file as the kernel writes it (`some` line, and `full` but for the root's cpu.pressure
before 5.13): read at once; anything else is read line by line."""


def parse_meminfo(text: str) -> dict[str, int]:
    """`Name: N kB` lines of /proc/meminfo -> bytes (malformed lines left out)."""
    out: dict[str, int] = {}
    for line in text.splitlines()[:100]:
        parts = line.split()
        if len(parts) == 3 and parts[0].endswith(":") and parts[2] == "kB":
            n = _int(parts[1])
            if n is not None and n < MAX_COUNTER >> 10:
                out[parts[0][:-1]] = n << 10
    return out


def _used(info: dict[str, int], total: str, free: str) -> int | None:
    """`total - free` of meminfo, None when either is missing or free is the larger."""
    t, f = info.get(total), info.get(free)
    return None if t is None or f is None or f > t else t - f


def _loadavg_tasks(text: str) -> int | None:
    """Every task of the machine: the `total` of /proc/loadavg's `running/total` field."""
    parts = text.split()
    if len(parts) < 4 or parts[3].count("/") != 1:
        return None
    return _int(parts[3].split("/")[1])


def _proc_stat_usec(text: str) -> int | None:
    """CPU time of the whole machine from /proc/stat's `cpu` line, in microseconds, as
    systemd-cgtop sums it for the root: user, nice, system, irq, softirq, guest, guest_nice."""
    parts = text.split("\n", 1)[0].split()
    if len(parts) < 8 or parts[0] != "cpu":
        return None
    ticks = [_int(x) for x in parts[1:11]]
    if any(t is None for t in ticks[:7]):
        return None
    total = sum(t or 0 for i, t in enumerate(ticks) if i in (0, 1, 2, 5, 6, 8, 9))
    return total * (1_000_000 // USER_HZ) if total < MAX_COUNTER // 10**4 else None


def _keyed(text: str, key: str) -> int | None:
    """The value of `key value` lines (cpu.stat, cgroup.events)."""
    k = key + " "
    if text.startswith(k):  # the kernel's form (cpu.stat's first line): found without splitting
        end = text.find("\n")
        v = text[len(k):] if end < 0 else text[len(k):end]
        if 0 < len(v) <= 20 and v.isdigit() and v.isascii():
            n = int(v)
            return n if n < MAX_COUNTER else None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return _int(parts[1])
    return None


def _io_v2(text: str) -> tuple[int, int]:
    """rbytes and wbytes of io.stat, summed over its devices."""
    r = w = 0
    for line in text.splitlines():
        for field in line.split()[1:]:
            k, _, v = field.partition("=")
            if k == "rbytes":
                r += _int(v) or 0
            elif k == "wbytes":
                w += _int(v) or 0
    return r, w


def _io_v1(text: str) -> tuple[int, int]:
    """Read and Write bytes of blkio.throttle.io_service_bytes (`MAJ:MIN Op bytes` lines,
    and a `Total N` line, left out), summed over its devices."""
    r = w = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            if parts[1] == "Read":
                r += _int(parts[2]) or 0
            elif parts[1] == "Write":
                w += _int(parts[2]) or 0
    return r, w


def parse_reading(files: dict[str, str], at: float) -> Reading:
    """A `Reading` from `cgroup_stats` output read at `at`. Malformed text counts as absent."""
    get = files.get
    text = get("cpu.stat")
    cpu = None if text is None else _keyed(text, "usage_usec")
    if cpu is None and "cpuacct.usage" in files:
        ns = _int(files["cpuacct.usage"])
        cpu = None if ns is None else ns // 1000
    text = get("memory.current")
    memory = _int(get("memory.usage_in_bytes") if text is None else text)
    io_read = io_write = None
    if (text := get("io.stat")) is not None:
        io_read, io_write = _io_v2(text)
    elif (text := get("blkio.throttle.io_service_bytes")) is not None:
        io_read, io_write = _io_v1(text)
    frozen = None
    if (text := get("cgroup.events")) is not None:
        if len(text) == 20 and text.startswith("populated ") and text[11:19] == "\nfrozen " and text[19] in "01":
            frozen = text[19] == "1"  # the kernel's form, without splitting
        else:
            f = _keyed(text, "frozen")
            frozen = None if f is None else bool(f)
    elif (text := get("freezer.state")) is not None:
        frozen = text.strip() in ("FROZEN", "FREEZING")
    pmax = _int(get("pids.max"))  # `max` (no limit) is None
    pids = _int(get("pids.current"))
    swap = _int(get("memory.swap.current"))
    if "/proc/meminfo" in files:  # the root: the machine's memory, as cgtop
        info = parse_meminfo(files["/proc/meminfo"])
        memory = _used(info, "MemTotal", "MemAvailable")
        swap = _used(info, "SwapTotal", "SwapFree")
    if pids is None and "/proc/loadavg" in files:
        pids = _loadavg_tasks(files["/proc/loadavg"])
    if cpu is None and "/proc/stat" in files:
        cpu = _proc_stat_usec(files["/proc/stat"])
    pressure = _NO_PRESSURE
    parsed: dict[str, dict[str, float]] = {}
    for res, own, machine in _PRESSURE_FILES:
        text = get(own)
        if text is None:
            text = get(machine)
        if text is not None:
            parsed[res] = parse_pressure(text)
    if parsed:
        pressure = tuple(parsed[res].get(line) if res in parsed else None for res, line in PRESSURE.values())
    return Reading(at, cpu, memory, io_read, io_write, pids, pmax,
                   frozen, swap, pressure)


_PRESSURE_FILES = tuple((res, res + ".pressure", "/proc/pressure/" + res) for res in ("cpu", "memory", "io"))
_NO_PRESSURE: tuple[float | None, ...] = (None,) * len(PRESSURE)


def _rate(a: int | None, b: int | None, dt: float) -> float | None:
    if a is None or b is None or dt <= 0 or b < a:
        return None
    return (b - a) / dt


def figures(before: Reading | None, after: Reading) -> Figures:
    """The figures shown for `after`, with rates over the interval since `before` (None
    when there is no earlier reading, no time passed, or a counter went backwards)."""
    cpu = rd = wr = None
    if before is not None:
        dt = after.at - before.at
        usec = _rate(before.cpu_usec, after.cpu_usec, dt)
        cpu = None if usec is None else usec / 1e6 * 100.0
        rd = _rate(before.io_read, after.io_read, dt)
        wr = _rate(before.io_write, after.io_write, dt)
    return Figures(cpu, after.memory, rd, wr, after.pids, after.pids_max, after.frozen, after.swap,
                   after.pressure)


# ---------------------------------------------------------------------- formatting


def fmt_bytes(n: float | None) -> str:
    """As systemd-cgtop: `512B`, `1.5K`, `12.0M`, `3.2G` (powers of 1024); `-` for None."""
    if n is None:
        return "-"
    for unit in ("B", "K", "M", "G", "T"):
        if abs(n) < 1024 or unit == "T":
            return f"{int(n)}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return "-"  # pragma: no cover - the loop returns


def cell(column: str, tasks: int | None, f: Figures | None) -> str:
    """One column's text for a cgroup (`-`: not available here, or not read yet)."""
    if column == "tasks":
        return "-" if tasks is None else str(tasks)
    if f is None:
        return "-"
    if column == "cpu":
        return "-" if f.cpu is None else f"{f.cpu:.1f}"
    if column == "memory":
        return fmt_bytes(f.memory)
    if column == "read":
        return fmt_bytes(f.read)
    if column == "write":
        return fmt_bytes(f.write)
    if column == "pids":
        if f.pids is None:
            return "-"
        return f"{f.pids}/{'max' if f.pids_max is None else f.pids_max}"  # as pids.max says no limit
    if column == "frozen":
        return "-" if f.frozen is None else ("yes" if f.frozen else "no")
    if column == "swap":
        return fmt_bytes(f.swap)
    if column in PRESSURE:
        v = value(column, f)
        return "-" if v is None else f"{v:.2f}"
    raise ValueError(f"unknown column {column!r}")


def value(column: str, f: Figures) -> float | None:
    """The number behind a figure column (not `tasks`), None when not available."""
    if column in PRESSURE:
        return f.pressure[list(PRESSURE).index(column)]
    v = {"cpu": f.cpu, "memory": f.memory, "read": f.read, "write": f.write, "pids": f.pids,
         "frozen": None if f.frozen is None else float(f.frozen), "swap": f.swap}.get(column)
    return None if v is None else float(v)


def sort_value(column: str, tasks: int | None, f: Figures | None) -> float:
    """A number to sort siblings by `column`, largest first; unknown values sort last."""
    if column == "tasks":
        return -1.0 if tasks is None else float(tasks)
    if f is None:
        return -1.0
    v = value(column, f)
    return -1.0 if v is None else v


def as_json(tasks: int | None, f: Figures | None) -> dict[str, object]:
    """The figures as plain JSON values (None where not available; `pids_max` None also when
    there is no limit, `max`)."""
    f = f or Figures()
    return {"tasks": tasks, "cpu_percent": None if f.cpu is None else round(f.cpu, 2),
            "memory_bytes": f.memory,
            "io_read_bytes_per_s": None if f.read is None else round(f.read, 1),
            "io_write_bytes_per_s": None if f.write is None else round(f.write, 1),
            "pids_current": f.pids, "pids_max": f.pids_max, "frozen": f.frozen,
            "swap_bytes": f.swap,
            **{f"{c}_avg10": v for c, v in zip(PRESSURE, f.pressure)}}


def from_json(row: dict[str, object]) -> Figures:
    """The `Figures` of an `as_json` row (the command line prints its text from these)."""
    def num(key: str) -> float | None:
        v = row.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    def whole(key: str) -> int | None:
        v = row.get(key)
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    frozen = row.get("frozen")
    return Figures(num("cpu_percent"), whole("memory_bytes"), num("io_read_bytes_per_s"),
                   num("io_write_bytes_per_s"), whole("pids_current"),
                   whole("pids_max"), frozen if isinstance(frozen, bool) else None,
                   whole("swap_bytes"), tuple(num(f"{c}_avg10") for c in PRESSURE))
