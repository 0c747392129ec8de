"""The listing commands: `ctrtui hierarchies`, `ls` (and `ls --stats`) and `tasks`, and the
text of each drawn from its JSON rows (what ctrtui/cli/hosts.py relies on to add a HOST
column to the rows of several hosts), `where`'s too (ctrtui/cli/history.py runs it).
"""

from __future__ import annotations

import sys

from ctrtui.cli import common
from ctrtui.cli.common import EXIT_OK, UsageError, display, print_json, resolve, still_there

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

    from ctrtui.service.protocol import Service

__all__ = [
    "LS_HEADER", "STATS_SAMPLE", "STATS_SORT", "check_sample", "check_sort", "cmd_hierarchies", "cmd_ls",
    "cmd_tasks", "hierarchies_lines", "ls_lines", "stats_lines", "tasks_lines", "where_lines",
]


def cmd_hierarchies(args: argparse.Namespace) -> int:
    service = common.command_service(args)
    # The text shows thread counts only: the real backend can then leave cgroup.procs unread
    # (as `ls` does; ~1 ms of a start on this machine's ~60 cgroups).
    snap = service.snapshot(procs=args.json)
    rows: list[dict[str, Any]] = []  # JSON objects
    for hs in snap.hierarchies:
        h = hs.hierarchy
        rows.append({
            "name": h.name, "version": h.version, "controllers": list(h.controllers),
            "mount": h.mount, "hierarchy_id": h.hierarchy_id, "cgroups": len(hs.containers),
            "tasks": hs.total(threads=True), "procs": hs.total(threads=False),
        })
    if args.json:
        print_json(rows)
        return EXIT_OK
    print("\n".join(hierarchies_lines(rows)))
    return EXIT_OK


# The text of the listings, from their JSON rows: one header line, then one line per row
# (what `ctrtui.cli.hosts` relies on to add a HOST column to the rows of several hosts).


def hierarchies_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """`ctrtui hierarchies` from its JSON rows."""
    if not rows:
        return ["no cgroup hierarchy is mounted"]
    w = min(max(len(r["name"]) for r in rows), 40)  # a longer name (a host's) widens its own row only
    lines = [f"{'NAME':<{w}}  V  {'CGROUPS':>7}  {'TASKS':>7}  MOUNT"]
    for r in rows:
        lines.append(display(f"{r['name']:<{w}}  {r['version']}  {r['cgroups']:>7}  {r['tasks']:>7}  {r['mount']}"))
    return lines


def tasks_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """`ctrtui tasks` from its JSON rows."""
    from ctrtui.text import fit

    lines = [f"{'PID':>7} {'TGID':>7} {'USER':<10} S  COMM"]
    for r in rows:
        if r["tgid"] is None:
            lines.append(f"{r['pid']:>7} {'-':>7} {'-':<10} -  (exited)")
        else:
            user = fit(display(r["user"]), 10)
            lines.append(f"{r['pid']:>7} {r['tgid']:>7} {user} {display(r['state'])}  {display(r['comm'])}")
    return lines


LS_HEADER = "cgroup  own tasks (with descendants)"


def ls_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """`ctrtui ls` from its JSON rows (`cmd_ls` writes the same text without building them):
    the first row of each hierarchy (of each host, when the rows carry one) is where its
    walk started, shown whole; the rows below it are indented by their depth."""
    lines: list[str] = []
    group: tuple[Any, str] | None = None
    start, base = "/", 0
    for r in rows:
        p = r["path"]
        if (r.get("host"), r["hierarchy"]) != group:
            group = (r.get("host"), r["hierarchy"])
            start = p
            base = 0 if start == "/" else start.count("/")
        if p == start:
            label = f"{r['hierarchy']}:{p}"
        else:
            label = "  " * (p.count("/") - base) + p[p.rfind("/") + 1:]
        lines.append(display(f"{label}  {r['tasks']} ({r['tasks_recursive']})"))
    return [LS_HEADER, *lines] if lines else []


STATS_WIDTHS = {"tasks": 6, "cpu": 6, "memory": 8, "read": 8, "write": 8, "pids": 9, "frozen": 6,
                "swap": 7, "cpu_some": 7, "memory_some": 7, "memory_full": 7, "io_some": 7, "io_full": 7}


def stats_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """`ctrtui ls --stats` from its JSON rows (`as_json` of each cgroup's figures)."""
    from ctrtui.model.cgstats import COLUMNS, HEADINGS, cell, from_json

    labels = [_middle(display(f"{r['hierarchy']}:{r['path']}"), 60) for r in rows]
    w = max([len("Path"), *map(len, labels)])
    widths = STATS_WIDTHS
    out = [f"{'Path':<{w}}" + "".join(f" {HEADINGS[c]:>{widths[c]}}" for c in COLUMNS)]
    for label, r in zip(labels, rows):
        f = from_json(r)
        out.append(f"{label:<{w}}" + "".join(f" {cell(c, r['tasks'], f):>{widths[c]}}" for c in COLUMNS))
    return out


def cmd_ls(args: argparse.Namespace) -> int:
    service = common.command_service(args)
    if args.stats:
        return _ls_stats(service, args)
    # The text shows thread counts only: the real backend can then leave cgroup.procs unread.
    if args.cgroup:
        h, path = resolve(service, args.cgroup)
        snap = service.snapshot([h.name], subtree=path, procs=args.json)
        still_there(snap, h, path)
    else:
        path = None
        snap = service.snapshot(procs=args.json)
    out = sys.stdout
    rows: list[dict[str, Any]] = []  # JSON objects
    lines: list[str] = []
    for hs in snap.hierarchies:
        threads_rec = hs.recursive_counts(threads=True)
        start = path if path is not None else hs.root_path
        if args.json:
            procs_rec = hs.recursive_counts(threads=False)
            for c in hs.walk(start):
                rows.append({
                    "hierarchy": hs.name, "path": c.path, "tasks": len(c.threads), "procs": len(c.procs),
                    "tasks_recursive": threads_rec[c.path], "procs_recursive": procs_rec[c.path],
                })
            continue
        base = 0 if start == "/" else start.count("/")
        for c in hs.walk(start):
            p = c.path
            if p == start:
                label = f"{hs.name}:{p}"
            else:
                label = "  " * (p.count("/") - base) + p[p.rfind("/") + 1:]
            lines.append(display(f"{label}  {len(c.threads)} ({threads_rec[p]})"))
    if args.json:
        print_json(rows)
    else:
        if lines:
            out.write(LS_HEADER + "\n")
        out.write("\n".join(lines) + ("\n" if lines else ""))
    return EXIT_OK


STATS_SAMPLE = 0.5
"""`ls --stats`: seconds between the two readings that rates are computed from."""

STATS_SORT = ("tasks", "cpu", "memory", "read", "write", "pids", "swap",
              "cpu_some", "memory_some", "memory_full", "io_some", "io_full")
"""`ls --stats --sort COLUMN`: the columns (of `model.cgstats.COLUMNS`) it can sort by."""


def _middle(text: str, width: int) -> str:
    """`text` cut to `width` in the middle with an ellipsis, as systemd-cgtop cuts paths."""
    if len(text) <= width:
        return text
    head = (width - 1) // 3
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def check_sample(interval: float) -> float:
    """`ls --sample SECONDS`, or UsageError."""
    if not (interval == interval and 0 <= interval <= 60):  # NaN too
        raise UsageError(f"--sample {interval}: give seconds between 0 and 60")
    return interval


def check_sort(column: str) -> str:
    """`ls --stats --sort COLUMN`, or UsageError."""
    if column not in STATS_SORT:
        raise UsageError(f"--sort {display(column)}: give one of {', '.join(STATS_SORT)}")
    return column


def _ls_stats(service: Service, args: argparse.Namespace) -> int:
    """`ls --stats`: every cgroup (of HIERARCHY:/path and below, or of every hierarchy) with
    its figures, as systemd-cgtop's columns. Tasks are processes, with descendants."""
    from ctrtui.model.cgstats import as_json, sort_value

    interval = check_sample(args.stats_interval)
    order = args.stats_sort
    if order is not None:
        check_sort(order)
    if args.cgroup:
        h, path = resolve(service, args.cgroup)
        snap = service.snapshot([h.name], subtree=path)
        still_there(snap, h, path)
    else:
        path = None
        snap = service.snapshot()
    walks = [(hs, [c.path for c in hs.walk(path if path is not None else hs.root_path)])
             for hs in snap.hierarchies]
    # 0: one reading, the rates stay unknown (`-`, null)
    figs = service.stats({hs.name: paths for hs, paths in walks}, interval)
    rows = []
    for hs, paths in walks:
        rec = hs.recursive_counts(threads=False)
        if order is not None:
            got = figs[hs.name]
            paths = sorted(paths, key=lambda p: (-sort_value(order, rec.get(p), got.get(p)), p))
        for p in paths:
            rows.append({"hierarchy": hs.name, "path": p, **as_json(rec.get(p), figs[hs.name].get(p))})
    if args.json:
        print_json(rows)
        return EXIT_OK
    sys.stdout.write("\n".join(stats_lines(rows)) + "\n")
    return EXIT_OK


def cmd_tasks(args: argparse.Namespace) -> int:
    service = common.command_service(args)
    h, path = resolve(service, args.cgroup)
    snap = service.snapshot([h.name], subtree=path)
    still_there(snap, h, path)
    pids = list(snap[h.name].members(path, threads=args.threads))
    details = service.task_details(pids)
    rows: list[dict[str, Any]] = []  # JSON objects
    for pid in pids:
        t = details.get(pid)
        rows.append({
            "pid": pid,
            "tgid": t.tgid if t else None,
            "user": (t.user if t.user is not None else str(t.uid)) if t else None,
            "state": t.state if t else None,
            "comm": t.comm if t else None,
            "threads": t.threads if t else None,
            "cmdline": t.cmdline if t else None,
        })
    if args.json:
        print_json(rows)
        return EXIT_OK
    print("\n".join(tasks_lines(rows)))
    return EXIT_OK


def where_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """`ctrtui where` from its JSON rows: a header, then one line per row (what
    ctrtui/cli/hosts.py adds a HOST column to)."""
    lines = [f"{'ENTERED':<19}  {'LEFT':<19}  {'START':>10}  {'BY':<24}  CGROUP"]
    for r in rows:
        by = r["batch"] or ("-" if r["entered"] is not None else "(before)")
        start = "-" if r["start_time"] is None else r["start_time"]
        lines.append(display(f"{_when(r['entered']):<19}  {_when(r['left']):<19}  {start:>10}  "
                             f"{by:<24}  {r['hierarchy']}:{r['cgroup']}"))
    return lines


def _when(t: float | None) -> str:
    import time

    if t is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))
