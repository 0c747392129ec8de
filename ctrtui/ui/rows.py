"""The task list's rows as plain data: its columns, how a row's values are worded, fitted to
a width and sorted, what the filter searches, the sort and filter caches (`RowOrder`), and
the members of a cgroup or subtree gathered from a snapshot. No Textual here (the widget is
`ctrtui.ui.widgets.tasklist.TaskList`)."""

from __future__ import annotations

from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size

from ctrtui.model import EMPTY, Container, HierarchyDiff, HierarchySnapshot, TaskInfo, is_ancestor
from ctrtui.text import display


@dataclass(frozen=True)
class Column:
    """One column of the list."""

    key: str
    title: str
    width: int
    right: bool = False
    descending: bool = False
    """Sorting by it starts with the biggest value (cpu, rss, threads)."""


def columns_for(threads: bool) -> tuple[Column, ...]:
    """The columns of the threads view (TGID) or the processes view (thread count)."""
    second = Column("tgid", "TGID", 7, True) if threads else Column("thr", "THR", 5, True, True)
    return (
        Column("pid", "PID", 7, True),
        second,
        Column("user", "USER", 10),
        Column("state", "S", 2),
        Column("cpu", "CPU%", 6, True, True),
        Column("rss", "RSS", 7, True, True),
        Column("cmd", "COMMAND", 0),
    )


def human_bytes(n: int | None) -> str:
    """`12345678` -> `11.8M`; `?` for what no kernel gives (negative, 2^64 or more: a
    remote host's number, which float() could not even hold)."""
    if n is None:
        return ""
    if n == 0:
        return "0"
    if not 0 < n < 2 ** 64:
        return "?"
    value = float(n)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" or value >= 100 else f"{value:.1f}{unit}"
        value /= 1024
    return str(n)


def command_of(info: TaskInfo | None) -> str:
    """The cmdline, or `[comm]` for a task without one (kernel threads, zombies)."""
    if info is None:
        return ""
    return info.cmdline if info.cmdline else f"[{info.comm}]"


def _num(v: float | int | None) -> float:
    if v is None:
        return float("-inf")
    try:
        return float(v)
    except OverflowError:  # an int beyond a float: only a hostile host sends one
        return float("inf") if v > 0 else float("-inf")


COLUMN_VALUE: dict[str, Callable[[int, TaskInfo | None], object]] = {
    "tgid": lambda pid, i: i.tgid if i else pid,
    "thr": lambda pid, i: i.threads if i else 0,
    "user": lambda pid, i: (i.user or str(i.uid)) if i else "",
    "state": lambda pid, i: i.state if i else "",
    "cpu": lambda pid, i: _num(i.cpu_percent if i else None),
    "rss": lambda pid, i: _num(i.rss if i else None),
    "cmd": lambda pid, i: command_of(i).lower(),
}
"""The value a column sorts by, for (pid, details). Ties keep PID order: a column's rows in
its default direction (numbers biggest first) are a stable sort of the PID-sorted members,
and the other direction is exactly that list reversed."""


def canonical_order(source: array[int], key: str, get: Callable[[int], TaskInfo | None],
                    descending: bool) -> array[int]:
    """`source` (sorted by PID) sorted by column `key` in its default direction."""
    if key not in COLUMN_VALUE:
        return source
    value = COLUMN_VALUE[key]
    values = [value(p, get(p)) for p in source]
    at: Callable[[int], Any] = values.__getitem__
    idx = sorted(range(len(values)), key=at, reverse=descending)
    return array("i", [source[i] for i in idx])


def haystack(pid: int, info: TaskInfo | None) -> str:
    """What the filter searches, lower case: PID, command line, comm and user, one per line
    (a query never spans two fields: it holds no newline)."""
    if info is None:
        return str(pid)
    fields = (command_of(info).lower(), (info.comm or "").lower(), (info.user or str(info.uid)).lower())
    hay = "\n".join((str(pid), *fields))
    shown = "\n".join(display(f) for f in fields)
    # what is typed is literal: it finds the exact text, or the text as it is shown
    # (`\x1b` for an ESC, `\\` for a backslash), whichever the person copied
    return hay if shown == hay[hay.index("\n") + 1:] else hay + "\n" + shown


def subtree(hs: HierarchySnapshot, path: str) -> Iterable[Container]:
    """The container `path` and all below it: a contiguous run of the pre-ordered mapping."""
    containers = hs.containers
    if path == hs.root_path:
        yield from containers.values()
        return
    keys = list(containers)
    prefix = path + "/"
    for key in keys[keys.index(path):]:
        if key != path and not key.startswith(prefix):
            break
        yield containers[key]


def gather(hs: HierarchySnapshot, path: str, threads: bool, recursive: bool) -> array[int]:
    """Sorted members of `path` (with `recursive`, of its subtree) in `hs`: the same as
    `hs.members()`, gathered with C-level array copies and one sort: ~6-12 ms instead of
    ~30 ms for 100k tasks."""
    c = hs.get(path)
    if c is None:
        return EMPTY
    if not recursive or not c.children:
        return c.members(threads)
    buf = array("i")
    for sub in subtree(hs, path):
        buf.extend(sub.members(threads))
    # a TID is in one cgroup of a hierarchy; a TGID may be listed by several
    return array("i", sorted(buf if threads else set(buf)))


def matches(text: str, pid: int, info: TaskInfo | None) -> bool:
    """Filter: `text` (lower case) in the PID, the command line, comm or the user name."""
    return text in haystack(pid, info)


FILTER_CACHE = 16
"""Filter results kept per list (for backspace, and to narrow a growing query)."""


class RowOrder:
    """The sort and filter caches of one task list, which make repeated work cheap: each
    column's order is kept until the rows change, each row's filter text is kept, and a
    query that grows narrows the previous result instead of the whole list."""

    def __init__(self) -> None:
        self.src: array[int] = EMPTY
        """The rows (sorted by PID) the caches were made for."""
        self.canon: dict[str, array[int]] = {}
        """Sort column -> `src` in that column's default direction."""
        self.complete = False
        """Every row of `src` has details (or is known to have none)."""
        self.filtered: OrderedDict[tuple[str, str], array[int]] = OrderedDict()
        """(sort, query) -> the matching rows of `canon[sort]`, most recent last."""
        self.hay: dict[int, str] = {}
        """PID -> its filter text (dropped when its details change)."""
        self.absent: set[int] = set()
        """PIDs asked for whose details did not come (exited): known to have none."""

    def use(self, source: array[int]) -> None:
        """The rows are `source` now (the caches of other rows are dropped)."""
        if source is not self.src:
            self.src = source
            self.canon = {}
            self.filtered.clear()
            self.complete = False

    def clear(self) -> None:
        """Forget everything (details were dropped)."""
        self.absent.clear()
        self.hay.clear()
        self.canon = {}
        self.filtered.clear()
        self.complete = False

    def changed(self, pids: Iterable[int]) -> None:
        """The details of `pids` changed: their filter text is made again."""
        hay = self.hay
        for pid in pids:
            hay.pop(pid, None)

    def take(self, asked: Sequence[int], infos: dict[int, TaskInfo], source: array[int],
             orders: dict[str, array[int]], hay: dict[int, str]) -> None:
        """What a worker computed for `source`: details of `asked` (those not in `infos` have
        none), every column's order and every row's filter text."""
        self.absent.update(p for p in asked if p not in infos)
        self.hay.update(hay)
        if source is self.src:
            for key, order in orders.items():
                self.canon.setdefault(key, order)

    def missing(self, source: array[int], details: dict[int, TaskInfo]) -> list[int]:
        """Rows of `source` whose details are not known yet."""
        if self.complete:
            return []
        absent = self.absent
        missing = [p for p in source if p not in details and p not in absent]
        self.complete = not missing
        return missing

    def canonical(self, source: array[int], col: Column | None, key: str,
                  details: dict[int, TaskInfo]) -> array[int]:
        """`source` sorted by column `key` in its default direction (kept per column)."""
        order = self.canon.get(key)
        if order is None:
            order = canonical_order(source, key, details.get, bool(col and col.descending))
            self.canon[key] = order
        return order

    def matching(self, canon: array[int], sort: str, query: str, details: dict[int, TaskInfo]) -> array[int]:
        """The rows of `canon` the filter `query` matches, narrowing the result of the
        longest cached query it contains (a query that grew by a keystroke scans only the
        last result; a backspace finds the earlier result in the cache)."""
        text = query.lower()
        cache = self.filtered
        hit = cache.get((sort, text))
        if hit is not None:
            cache.move_to_end((sort, text))
            return hit
        rows, best = canon, -1
        for (s, q), found in cache.items():
            if s == sort and q in text and len(q) > best:
                rows, best = found, len(q)
        hay = self.hay
        out: list[int] = []
        append = out.append
        for pid in rows:
            h = hay.get(pid)
            if h is None:
                h = hay[pid] = haystack(pid, details.get(pid))
            if text in h:
                append(pid)
        result = array("i", out)
        cache[(sort, text)] = result
        while len(cache) > FILTER_CACHE:
            cache.popitem(last=False)
        return result

    def view(self, source: array[int], columns: Sequence[Column], sort: str, reverse: bool, query: str,
             details: dict[int, TaskInfo]) -> array[int]:
        """The rows in display order (every row's details known)."""
        col = next((c for c in columns if c.key == sort), None)
        canon = self.canonical(source, col, sort, details)
        if query:
            canon = self.matching(canon, sort, query, details)
        default_reverse = bool(col and col.descending) and sort != "pid"
        return array("i", reversed(canon)) if reverse != default_reverse else canon


def row_cells(columns: Sequence[Column], pid: int, info: TaskInfo | None) -> list[tuple[str, Column]]:
    """The shown text of each column for `pid` (names escaped with `display()`)."""
    values = {
        "pid": str(pid),
        "tgid": str(info.tgid) if info else "",
        "thr": str(info.threads) if info else "",
        "user": display(info.user or str(info.uid)) if info else "",
        "state": display(info.state) if info else "",
        "cpu": f"{info.cpu_percent:.1f}" if info and info.cpu_percent is not None else "",
        "rss": human_bytes(info.rss) if info else "",
        "cmd": display(command_of(info)) if info else "…",
    }
    return [(values[c.key], c) for c in columns]


def fit_line(cells: list[tuple[str, Column]], width: int, prefix: str) -> str:
    """The row as exactly `width` cells (wide characters count two, combining ones none)."""
    out = prefix
    used = len(prefix)
    for text, col in cells:
        if col.width == 0:
            room = max(0, width - used)
            if text.isascii():
                out += text[:room]
                used += min(len(text), room)
            else:
                t = set_cell_size(text, min(room, cell_len(text)))
                out += t
                used += cell_len(t)
        elif text.isascii():
            t = text[: col.width]
            out += (t.rjust(col.width) if col.right else t.ljust(col.width)) + " "
            used += col.width + 1
        else:
            t = set_cell_size(text, col.width)  # cut or padded to the column's cells
            if col.right:
                t = set_cell_size(text, min(col.width, cell_len(text))).rjust(col.width)
            out += t + " "
            used += col.width + 1
    if out.isascii():
        return out[:width].ljust(width)
    return set_cell_size(out, width)


def header_line(columns: Sequence[Column], sort: str, reverse: bool, busy: str | None, width: int) -> str:
    """The header row: column titles, an arrow on the sort column, `busy` at the end."""
    cells = []
    for col in columns:
        title = col.title
        if col.key == sort:
            title += "▼" if reverse else "▲"
        cells.append((title, col))
    line = fit_line(cells, width, "  ")
    if busy:
        tag = f" {busy} "
        line = line[: max(0, width - len(tag))] + tag
    return line[:width]


def column_at(columns: Sequence[Column], x: int) -> str | None:
    """The column key under x (counted from the row's first cell, after the mark)."""
    pos = 2
    for col in columns:
        if col.width == 0:
            return col.key if x >= pos else None
        if pos <= x < pos + col.width + 1:
            return col.key
        pos += col.width + 1
    return None


def patch_members(base: array[int], old_hs: HierarchySnapshot, hs: HierarchySnapshot, diff: HierarchyDiff,
                  path: str, threads: bool, listings: Counter[int] | None,
                  ) -> tuple[array[int], set[int], set[int], Counter[int] | None] | None:
    """(members, came, went, listings) of the subtree `path` in `hs`, patched from its
    members `base` in `old_hs` and the refresh's `diff`; None when the subtree's root is new
    (gather it again). Processes view: `listings` counts for each TGID how many cgroups of
    the subtree list it (a v1 TGID whose threads are spread is listed by several); it is
    made once and kept up to date here (returned), so patches stay exact."""
    if diff.added_cgroups and path in diff.added_cgroups:
        return None
    came: set[int] = set()
    went: set[int] = set()
    if threads:
        for tid, cg in diff.added_tasks:
            if is_ancestor(path, cg):
                came.add(tid)
        for tid, cg in diff.removed_tasks:
            if is_ancestor(path, cg):
                went.add(tid)
        for tid, a, b in diff.moved_tasks:
            ia, ib = is_ancestor(path, a), is_ancestor(path, b)
            if ia != ib:
                (came if ib else went).add(tid)
    else:
        # a TGID may be listed by several cgroups (v1 threads spread, v2 thread
        # domains): it joins the list when its listings go from 0 to some, leaves
        # when they drop to 0
        counts = listings
        if counts is None:
            counts = Counter[int]()
            for c in subtree(old_hs, path):
                counts.update(c.procs)
        changed = [p for p in diff.changed_cgroups if is_ancestor(path, p)]
        changed += [p for p in diff.removed_cgroups if is_ancestor(path, p)]
        for p in changed:
            o, n = old_hs.get(p), hs.get(p)
            op = set(o.procs) if o is not None else set()
            np_ = set(n.procs) if n is not None else set()
            for pid in np_ - op:
                counts[pid] += 1
                if counts[pid] == 1:
                    came.add(pid)
            for pid in op - np_:
                counts[pid] -= 1
                if counts[pid] <= 0:
                    del counts[pid]
                    went.add(pid)
        both = came & went  # left one cgroup of the subtree, joined another
        came -= both
        went -= both
        listings = counts
    if not came and not went:
        return base, came, went, listings
    kept = [p for p in base if p not in went] if went else list(base)
    kept.extend(came)
    kept.sort()
    return array("i", kept), came, went, listings


def process_tree(order: Sequence[int], details: dict[int, TaskInfo]) -> tuple[array[int], dict[int, str]]:
    """`order` (the sorted rows) as a parent/child tree, as systemd-cgls draws a cgroup's
    processes: each task under its parent when the parent is listed too (else at the top
    level), siblings in `order`'s order, a thread under its process. Returns the rows in
    tree order and, per row, the drawing that goes before its command (`├─ `, `└─ `, `│  `)."""
    listed = set(order)

    def parent(pid: int) -> int | None:
        info = details.get(pid)
        if info is None:
            return None
        up = info.tgid if info.tgid != pid else info.ppid  # a thread hangs under its process
        return up if up in listed and up != pid else None

    children: dict[int | None, list[int]] = {}
    for pid in order:
        children.setdefault(parent(pid), []).append(pid)
    out: list[int] = []
    prefix: dict[int, str] = {}
    seen: set[int] = set()
    stack: list[tuple[int, str, bool, bool]] = [(p, "", i == len(children.get(None, [])) - 1, True)
                                                for i, p in enumerate(children.get(None, []))][::-1]
    while stack:
        pid, indent, last, top = stack.pop()
        if pid in seen:  # a parent loop (PID reuse between two reads): drawn once
            continue
        seen.add(pid)
        out.append(pid)
        prefix[pid] = "" if top else indent + ("└─ " if last else "├─ ")
        below = indent if top else indent + ("   " if last else "│  ")
        kids = children.get(pid, [])
        stack.extend((k, below, i == len(kids) - 1, False) for i, k in reversed(list(enumerate(kids))))
    out.extend(p for p in order if p not in seen)  # only in a loop with no root: kept, flat
    return array("i", out), prefix
