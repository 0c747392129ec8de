"""The immutable snapshot of every cgroup hierarchy, and the diff between two snapshots.

No I/O here. A `Snapshot` is built once by a backend (`ctrtui.sources`) and then only read:
both UI panes and the command line render from one snapshot, so they always agree, the way
the kernel's v1 `tasks` file builds its sorted list once per open.

Member lists are `array('i')` (4 bytes a PID) sorted ascending; treat them as read-only.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from types import MappingProxyType

from ctrtui.model.value import Value, set_field

TYPE_CHECKING = False  # typing is not imported at run time: it costs every start ~3 ms
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from typing import Any, TypeVar

    T = TypeVar("T")

EMPTY: array[int] = array("i")


def sorted_pids(values: Iterable[int]) -> array[int]:
    """A sorted, deduplicated `array('i')` of PIDs."""
    return array("i", sorted(set(values)))


def contains(pids: array[int], pid: int) -> bool:
    """True when `pid` is in the sorted array `pids` (binary search)."""
    i = bisect_left(pids, pid)
    return i < len(pids) and pids[i] == pid


def parent_path(path: str) -> str | None:
    """The parent of a cgroup path (`/a/b` -> `/a`, `/a` -> `/`, `/` -> None)."""
    if path == "/":
        return None
    head = path.rsplit("/", 1)[0]
    return head or "/"


def join_path(parent: str, name: str) -> str:
    """`/a` + `b` -> `/a/b`; `/` + `b` -> `/b`."""
    return ("" if parent == "/" else parent) + "/" + name


def is_ancestor(ancestor: str, path: str) -> bool:
    """True when `path` is `ancestor` or lies below it."""
    if ancestor == "/" or ancestor == path:
        return True
    return path.startswith(ancestor + "/")


def common_ancestor(a: str, b: str) -> str:
    """The deepest cgroup path that contains both `a` and `b`."""
    pa = [p for p in a.split("/") if p]
    pb = [p for p in b.split("/") if p]
    common: list[str] = []
    for x, y in zip(pa, pb):
        if x != y:
            break
        common.append(x)
    return "/" + "/".join(common)


class Hierarchy(Value):
    """One mounted cgroup hierarchy.

    `name` is how the user and `/proc/PID/cgroup` name it: a v1 hierarchy's comma-joined
    controller list (`cpu`, `cpu,cpuacct`, `name=systemd`), or `unified` for v2.
    `version` is 1 or 2. `controllers` -- v1: the controllers bound to it (`("cpu",
    "cpuacct")`, `("name=systemd",)`); v2: the controllers available at its root
    (`cgroup.controllers`). `mount`: where it is mounted, e.g. `/sys/fs/cgroup/freezer`.
    `root`: the mount's root inside the hierarchy (field 4 of mountinfo), usually `/`.
    `hierarchy_id`: the ID in `/proc/PID/cgroup` (0 for v2).
    """

    __slots__ = ("name", "version", "controllers", "mount", "root", "hierarchy_id")
    name: str
    version: int
    controllers: tuple[str, ...]
    mount: str
    root: str
    hierarchy_id: int

    def __init__(self, name: str, version: int, controllers: tuple[str, ...], mount: str,
                 root: str = "/", hierarchy_id: int = 0) -> None:
        set_field(self, "name", name)
        set_field(self, "version", version)
        set_field(self, "controllers", controllers)
        set_field(self, "mount", mount)
        set_field(self, "root", root)
        set_field(self, "hierarchy_id", hierarchy_id)

    def matches(self, word: str) -> bool:
        """True when `word` names this hierarchy: its name, or any one of its controllers."""
        if word == self.name:
            return True
        if self.version == 2:
            return word in ("unified", "cgroup2", "v2")
        return word in self.controllers

    def fs_path(self, path: str) -> str:
        """Directory on disk of the cgroup `path` (a path inside the hierarchy)."""
        rel = path
        if self.root != "/" and is_ancestor(self.root, path):
            rel = path[len(self.root):] or "/"
        return self.mount if rel == "/" else self.mount + rel


def find_hierarchy(items: Iterable[T], word: str, key: Callable[[T], Hierarchy] | None = None) -> T | None:
    """The item naming the hierarchy `word`: the one whose name is `word`, else the first
    with `word` as one of its controllers (`cpuacct` selects `cpu,cpuacct`). `key` maps an
    item to its `Hierarchy` (default: the item is one). None when nothing matches."""
    items = tuple(items)
    hier = key or _itself
    for it in items:
        if hier(it).name == word:
            return it
    for it in items:
        if hier(it).matches(word):
            return it
    return None


def _itself(item: object) -> Hierarchy:
    if not isinstance(item, Hierarchy):
        raise TypeError(f"find_hierarchy: {item!r} is not a Hierarchy (pass key= to say where its Hierarchy is)")
    return item


class Container(Value):
    """One cgroup in a snapshot, with its members sorted ascending.

    `path`: inside the hierarchy (`/`, `/system.slice/cron.service`); `children`: paths of
    the child cgroups, sorted by name; `threads`: TIDs, as v1 `tasks` / v2 `cgroup.threads`
    list them; `procs`: TGIDs, as `cgroup.procs` lists them. Equality and hash look at the
    path and children only.
    """

    __slots__ = ("path", "children", "threads", "procs")
    _compare = ("path", "children")
    path: str
    children: tuple[str, ...]
    threads: array[int]
    procs: array[int]

    def __init__(self, path: str, children: tuple[str, ...], threads: array[int] = EMPTY,
                 procs: array[int] = EMPTY) -> None:
        set_field(self, "path", path)
        set_field(self, "children", children)
        set_field(self, "threads", threads)
        set_field(self, "procs", procs)

    @property
    def name(self) -> str:
        return "/" if self.path == "/" else self.path.rsplit("/", 1)[1]

    @property
    def parent(self) -> str | None:
        return parent_path(self.path)

    @property
    def depth(self) -> int:
        return 0 if self.path == "/" else self.path.count("/")

    def members(self, threads: bool = False) -> array[int]:
        return self.threads if threads else self.procs


class HierarchySnapshot(Value):
    """The cgroup tree of one hierarchy at one moment. `containers`: path -> Container, in
    depth-first pre-order (parents before children)."""

    __slots__ = ("hierarchy", "containers")
    hierarchy: Hierarchy
    containers: Mapping[str, Container]

    def __init__(self, hierarchy: Hierarchy, containers: Mapping[str, Container]) -> None:
        set_field(self, "hierarchy", hierarchy)
        set_field(self, "containers", containers)

    @classmethod
    def build(cls, hierarchy: Hierarchy, containers: Iterable[Container]) -> HierarchySnapshot:
        """Build from containers in any order; they are put in depth-first pre-order."""
        by_path = {c.path: c for c in containers}
        ordered: dict[str, Container] = {}
        roots = [p for p in by_path if parent_path(p) not in by_path]
        stack = sorted(roots, reverse=True)
        while stack:
            p = stack.pop()
            c = by_path[p]
            ordered[p] = c
            stack.extend(reversed([ch for ch in c.children if ch in by_path]))
        return cls(hierarchy, MappingProxyType(ordered))

    def __reduce__(self) -> tuple[Any, ...]:
        # A mappingproxy does not pickle: send a plain dict and wrap it again on arrival.
        return (_hierarchy_snapshot, (self.hierarchy, dict(self.containers)))

    @property
    def name(self) -> str:
        return self.hierarchy.name

    @property
    def root_path(self) -> str:
        return next(iter(self.containers), "/")

    def __contains__(self, path: object) -> bool:
        return path in self.containers

    def __getitem__(self, path: str) -> Container:
        return self.containers[path]

    def get(self, path: str) -> Container | None:
        return self.containers.get(path)

    def walk(self, path: str | None = None) -> Iterator[Container]:
        """The container at `path` (default: the root) and all below it, pre-order."""
        start = self.containers.get(path if path is not None else self.root_path)
        if start is None:
            return
        stack = [start]
        while stack:
            c = stack.pop()
            yield c
            stack.extend(self.containers[ch] for ch in reversed(c.children) if ch in self.containers)

    def members(self, path: str, threads: bool = False, recursive: bool = False) -> array[int]:
        """Sorted members of `path`; with `recursive`, of its whole subtree."""
        c = self.containers.get(path)
        if c is None:
            return EMPTY
        if not recursive or not c.children:
            return c.members(threads)
        pids: set[int] = set()
        for sub in self.walk(path):
            pids.update(sub.members(threads))
        return array("i", sorted(pids))

    def count(self, path: str, threads: bool = False, recursive: bool = False) -> int:
        """How many members `path` has (recursive counts may include a v1 TGID twice when
        its threads sit in several cgroups; use `members(..., recursive=True)` for exact)."""
        if not recursive:
            c = self.containers.get(path)
            return len(c.members(threads)) if c else 0
        return sum(len(c.members(threads)) for c in self.walk(path))

    def recursive_counts(self, threads: bool = False) -> dict[str, int]:
        """Own + descendants' member counts for every path, in one pass."""
        totals = {p: len(c.members(threads)) for p, c in self.containers.items()}
        for p in reversed(list(self.containers)):
            parent = parent_path(p)
            if parent is not None and parent in totals:
                totals[parent] += totals[p]
        return totals

    def find(self, pid: int, threads: bool = False) -> list[str]:
        """Every cgroup path whose member list holds `pid` (normally one; a v1 TGID whose
        threads are spread shows in several `cgroup.procs`)."""
        return [p for p, c in self.containers.items() if contains(c.members(threads), pid)]

    def total(self, threads: bool = True) -> int:
        return sum(len(c.members(threads)) for c in self.containers.values())


class Snapshot(Value):
    """Every hierarchy's tree at one moment: the single source both panes draw from.
    `taken_at`: `time.time()` when it was taken; `backend`: `real` or `demo`."""

    __slots__ = ("hierarchies", "taken_at", "backend")
    hierarchies: tuple[HierarchySnapshot, ...]
    taken_at: float
    backend: str

    def __init__(self, hierarchies: tuple[HierarchySnapshot, ...], taken_at: float,
                 backend: str = "real") -> None:
        set_field(self, "hierarchies", hierarchies)
        set_field(self, "taken_at", taken_at)
        set_field(self, "backend", backend)

    def names(self) -> list[str]:
        return [h.name for h in self.hierarchies]

    def get(self, word: str) -> HierarchySnapshot | None:
        """The hierarchy named `word` (its name, or any one of its controllers)."""
        return find_hierarchy(self.hierarchies, word, key=lambda h: h.hierarchy)

    def __getitem__(self, word: str) -> HierarchySnapshot:
        h = self.get(word)
        if h is None:
            raise KeyError(word)
        return h


def _hierarchy_snapshot(hierarchy: Hierarchy, containers: dict[str, Container]) -> HierarchySnapshot:
    """Unpickles a HierarchySnapshot (its containers arrive as a plain dict)."""
    return HierarchySnapshot(hierarchy, MappingProxyType(containers))


# ---------------------------------------------------------------------------- diff


class HierarchyDiff(Value):
    """What changed in one hierarchy between two snapshots (tasks are TIDs).

    `added_tasks`: (tid, cgroup) of tasks not in the old snapshot's hierarchy at all;
    `removed_tasks`: (tid, cgroup) of tasks gone from the hierarchy; `moved_tasks`: (tid,
    old cgroup, new cgroup); `changed_cgroups`: cgroups whose thread or process list
    changed, plus added ones.
    """

    __slots__ = ("name", "added_cgroups", "removed_cgroups", "added_tasks", "removed_tasks",
                 "moved_tasks", "changed_cgroups")
    name: str
    added_cgroups: tuple[str, ...]
    removed_cgroups: tuple[str, ...]
    added_tasks: tuple[tuple[int, str], ...]
    removed_tasks: tuple[tuple[int, str], ...]
    moved_tasks: tuple[tuple[int, str, str], ...]
    changed_cgroups: frozenset[str]

    def __init__(self, name: str, added_cgroups: tuple[str, ...] = (), removed_cgroups: tuple[str, ...] = (),
                 added_tasks: tuple[tuple[int, str], ...] = (), removed_tasks: tuple[tuple[int, str], ...] = (),
                 moved_tasks: tuple[tuple[int, str, str], ...] = (),
                 changed_cgroups: frozenset[str] = frozenset()) -> None:
        set_field(self, "name", name)
        set_field(self, "added_cgroups", added_cgroups)
        set_field(self, "removed_cgroups", removed_cgroups)
        set_field(self, "added_tasks", added_tasks)
        set_field(self, "removed_tasks", removed_tasks)
        set_field(self, "moved_tasks", moved_tasks)
        set_field(self, "changed_cgroups", changed_cgroups)

    def __bool__(self) -> bool:
        return bool(self.added_cgroups or self.removed_cgroups or self.changed_cgroups)


class SnapshotDiff(Value):
    """What changed between two snapshots: a HierarchyDiff per hierarchy in both, and the
    names of hierarchies added and removed."""

    __slots__ = ("hierarchies", "added_hierarchies", "removed_hierarchies")
    hierarchies: Mapping[str, HierarchyDiff]
    added_hierarchies: tuple[str, ...]
    removed_hierarchies: tuple[str, ...]

    def __init__(self, hierarchies: Mapping[str, HierarchyDiff], added_hierarchies: tuple[str, ...] = (),
                 removed_hierarchies: tuple[str, ...] = ()) -> None:
        set_field(self, "hierarchies", hierarchies)
        set_field(self, "added_hierarchies", added_hierarchies)
        set_field(self, "removed_hierarchies", removed_hierarchies)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_snapshot_diff, (dict(self.hierarchies), self.added_hierarchies, self.removed_hierarchies))

    def __bool__(self) -> bool:
        return bool(self.added_hierarchies or self.removed_hierarchies
                    or any(self.hierarchies.values()))

    def get(self, name: str) -> HierarchyDiff:
        return self.hierarchies.get(name) or HierarchyDiff(name)


def diff_hierarchy(old: HierarchySnapshot, new: HierarchySnapshot) -> HierarchyDiff:
    """Compare two snapshots of one hierarchy.

    Cost is proportional to the cgroups plus the members of the cgroups that changed: a
    container that is the very same object in both (a backend that keeps unchanged
    containers between snapshots, as SimKernel does) is skipped outright, and an unchanged
    member list is recognised by one C-level array comparison.
    """
    oc, nc = old.containers, new.containers
    if oc is nc:
        return HierarchyDiff(new.name)
    added_cg = tuple(p for p in nc if p not in oc)
    removed_cg = tuple(p for p in oc if p not in nc)
    changed: set[str] = set(added_cg)
    gone: dict[int, str] = {}
    came: dict[int, str] = {}
    for p, c in nc.items():
        o = oc.get(p)
        if o is None:
            came.update((t, p) for t in c.threads)
            continue
        if o is c:
            continue
        if o.threads != c.threads:
            changed.add(p)
            a, b = set(o.threads), set(c.threads)
            gone.update((t, p) for t in a - b)
            came.update((t, p) for t in b - a)
        elif o.procs != c.procs:
            changed.add(p)
    for p in removed_cg:
        gone.update((t, p) for t in oc[p].threads)
    moved = tuple(sorted((t, gone[t], came[t]) for t in came.keys() & gone.keys()))
    added = tuple(sorted((t, p) for t, p in came.items() if t not in gone))
    removed = tuple(sorted((t, p) for t, p in gone.items() if t not in came))
    return HierarchyDiff(new.name, added_cg, removed_cg, added, removed, moved, frozenset(changed))


def diff(old: Snapshot, new: Snapshot) -> SnapshotDiff:
    """What changed from `old` to `new`, hierarchy by hierarchy."""
    old_by = {h.name: h for h in old.hierarchies}
    new_by = {h.name: h for h in new.hierarchies}
    per = {n: diff_hierarchy(old_by[n], h) for n, h in new_by.items() if n in old_by}
    return SnapshotDiff(
        MappingProxyType(per),
        tuple(n for n in new_by if n not in old_by),
        tuple(n for n in old_by if n not in new_by),
    )


def _snapshot_diff(hierarchies: dict[str, HierarchyDiff], added: tuple[str, ...],
                   removed: tuple[str, ...]) -> SnapshotDiff:
    """Unpickles a SnapshotDiff (its per-hierarchy diffs arrive as a plain dict)."""
    return SnapshotDiff(MappingProxyType(hierarchies), added, removed)
