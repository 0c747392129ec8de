"""Cgroup figures as systemd-cgtop shows them, from two readings of a cgroup's stats files.

Pure: no I/O. A backend's `cgroup_stats(hier, path)` gives the files' text; `parse_reading`
turns it (with the moment it was read) into a `Reading` of cumulative counters, and
`figures(before, after)` turns two readings into what is shown: CPU % (of one CPU, as cgtop:
it can pass 100 on a machine with several), memory, IO bytes per second, pids and the
frozen state. A rate needs two readings; with one (or a counter that went backwards: the
cgroup was removed and made again) it is None, shown `-`.

Files read, where they exist: v2 `cpu.stat` (usage_usec), `memory.current`, `io.stat`
(rbytes, wbytes summed over devices), `pids.current`/`pids.max`, `cgroup.events` (frozen);
v1 `cpuacct.usage` (ns), `memory.usage_in_bytes`, `blkio.throttle.io_service_bytes` (Read,
Write summed over devices), `pids.current`/`pids.max`, `freezer.state`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

# `slots=` is Python 3.10+; this module travels to 3.9 hosts (docs/remote.md), where the
# dataclasses go without __slots__ (same behaviour, a little more memory).
_SLOTS: dict[str, bool] = {"slots": True} if sys.version_info >= (3, 10) else {}

COLUMNS = ("tasks", "cpu", "memory", "read", "write", "pids", "frozen")
"""The figure columns, in the order shown (cgtop's, plus pids and frozen)."""

HEADINGS = {"tasks": "Tasks", "cpu": "%CPU", "memory": "Memory", "read": "Input/s",
            "write": "Output/s", "pids": "Pids", "frozen": "Frozen"}


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


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _keyed(text: str, key: str) -> int | None:
    """The value of `key value` lines (cpu.stat, cgroup.events)."""
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
    cpu = _keyed(files["cpu.stat"], "usage_usec") if "cpu.stat" in files else None
    if cpu is None and "cpuacct.usage" in files:
        ns = _int(files["cpuacct.usage"])
        cpu = None if ns is None else ns // 1000
    memory = _int(files.get("memory.current", files.get("memory.usage_in_bytes")))
    io_read = io_write = None
    if "io.stat" in files:
        io_read, io_write = _io_v2(files["io.stat"])
    elif "blkio.throttle.io_service_bytes" in files:
        io_read, io_write = _io_v1(files["blkio.throttle.io_service_bytes"])
    frozen = None
    if "cgroup.events" in files:
        f = _keyed(files["cgroup.events"], "frozen")
        frozen = None if f is None else bool(f)
    elif "freezer.state" in files:
        frozen = files["freezer.state"].strip() in ("FROZEN", "FREEZING")
    return Reading(at, cpu, memory, io_read, io_write, _int(files.get("pids.current")),
                   _int(files.get("pids.max")), frozen)  # `max` (no limit) is None


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
    return Figures(cpu, after.memory, rd, wr, after.pids, after.pids_max, after.frozen)


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
    raise ValueError(f"unknown column {column!r}")


def sort_value(column: str, tasks: int | None, f: Figures | None) -> float:
    """A number to sort siblings by `column`, largest first; unknown values sort last."""
    if column == "tasks":
        return -1.0 if tasks is None else float(tasks)
    if f is None:
        return -1.0
    v = {"cpu": f.cpu, "memory": f.memory, "read": f.read, "write": f.write, "pids": f.pids,
         "frozen": None if f.frozen is None else float(f.frozen)}.get(column)
    return -1.0 if v is None else float(v)


def as_json(tasks: int | None, f: Figures | None) -> dict[str, object]:
    """The figures as plain JSON values (None where not available; `pids_max` None also when
    there is no limit, `max`)."""
    f = f or Figures()
    return {"tasks": tasks, "cpu_percent": None if f.cpu is None else round(f.cpu, 2),
            "memory_bytes": f.memory,
            "io_read_bytes_per_s": None if f.read is None else round(f.read, 1),
            "io_write_bytes_per_s": None if f.write is None else round(f.write, 1),
            "pids_current": f.pids, "pids_max": f.pids_max, "frozen": f.frozen}
