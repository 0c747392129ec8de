"""What a line of the cgroup tree says, without Textual: a cgroup's short name (long hex ids
cut), the container runtime it belongs to (`runtime_of`), the notes after its counts (the
runtime or systemd unit kind, and the `Markers` read from its state: cgroup type, frozen,
controllers of its children), the figure columns that fit a width (`fit_columns`), and the
task counts of every cgroup, own and recursive (`count_tasks`, patched by `patch_counts`).
`ctrtui/ui/widgets/tree.py` draws them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ctrtui.model import CgroupState, HierarchySnapshot, parent_path
from ctrtui.model.cgstats import COLUMNS, HEADINGS
from ctrtui.model.systemd import unit_kind

_HEX_ID = re.compile(r"^[0-9a-f]{12,}$")
_RUNTIME_SCOPE = re.compile(
    r"^(docker|cri-containerd|crio|libpod|libpod-conmon|containerd|cri-o)-([0-9a-f]{12,})\.scope$"
)
_RUNTIME_PARENTS = {"docker": "docker", "containerd": "containerd", "libpod_parent": "libpod",
                    "machine.slice": "libpod", "lxc": "lxc", "lxc.payload": "lxc"}
_POD = re.compile(r"^(?:kubepods(?:-[a-z]+)*-)?pod([0-9a-f_-]{8,})(?:\.slice)?$")


def runtime_of(path: str) -> tuple[str, str] | None:
    """The container runtime and a short (12-character) id when `path` looks like a container
    runtime's cgroup: `docker-<id>.scope`, `cri-containerd-<id>.scope`, `libpod-<id>.scope`,
    `/docker/<id>`, `kubepods…` slices and their pods. None for anything else."""
    name = path.rsplit("/", 1)[-1]
    m = _RUNTIME_SCOPE.match(name)
    if m:
        kind = m.group(1)
        kind = {"cri-containerd": "containerd", "libpod-conmon": "libpod", "cri-o": "crio"}.get(kind, kind)
        return kind, m.group(2)[:12]
    parts = [p for p in path.split("/") if p]
    if _HEX_ID.match(name) and len(parts) >= 2:
        parent = parts[-2]
        if parent in _RUNTIME_PARENTS:
            return _RUNTIME_PARENTS[parent], name[:12]
        if any(p.startswith("kubepods") for p in parts[:-1]):
            return "kubepods", name[:12]
    m = _POD.match(name)
    if m and any(p.startswith("kubepods") for p in parts):
        return "kubepods", "pod " + m.group(1).replace("_", "-")[:12]
    if name.startswith("kubepods"):
        return "kubepods", ""
    return None


_LONG_ID = re.compile(r"(?:(?<=pod)|(?<![0-9a-z]))[0-9a-f][0-9a-f_-]{15,}")


def short_name(name: str) -> str:
    """A cgroup name with long hex ids cut to 12 characters and an ellipsis
    (`docker-0123…64 hex….scope` -> `docker-0123456789ab….scope`)."""
    return _LONG_ID.sub(lambda m: m.group(0)[:12] + "…", name)


@dataclass(frozen=True, slots=True)
class Markers:
    """What a node shows besides its name and counts, from a fresh `CgroupState`."""

    cgroup_type: str | None = None
    """v2 `cgroup.type` when it is not plain `domain`."""
    frozen: bool = False
    children_controllers: tuple[str, ...] = ()
    """v2 controllers enabled for the children (`cgroup.subtree_control`)."""

    @classmethod
    def from_state(cls, state: CgroupState | None) -> Markers:
        if state is None:
            return cls()
        ctype = state.cgroup_type if state.cgroup_type not in (None, "domain") else None
        fs = (state.freezer_state or "").upper()
        return cls(ctype, fs in ("FROZEN", "FREEZING", "1"), tuple(state.subtree_control))


COLUMN_WIDTHS = {"tasks": 7, "cpu": 6, "memory": 8, "read": 9, "write": 10, "pids": 9, "frozen": 8,
                 "swap": 8, "cpu_some": 8, "memory_some": 8, "memory_full": 8, "io_some": 7, "io_full": 7}
"""Cells of each figure column in the tree, its leading space included."""

NAME_MIN = 20
"""Cells the tree keeps for names before it shows a column."""


def fit_columns(width: int, present: Iterable[str]) -> tuple[str, ...]:
    """The columns shown in a tree `width` cells wide: of those `present` (with a value
    somewhere), in `COLUMNS` order, as many as leave `NAME_MIN` cells for the names."""
    shown: list[str] = []
    room = width - NAME_MIN
    wanted = set(present)
    for c in COLUMNS:
        if c in wanted and COLUMN_WIDTHS[c] <= room:
            shown.append(c)
            room -= COLUMN_WIDTHS[c]
    return tuple(shown)


def needs_state(version: int, controllers: tuple[str, ...]) -> bool:
    """Whether markers of this hierarchy need a per-cgroup state read at all: v2 (types,
    subtree_control, freeze) and the v1 freezer; other v1 hierarchies show none."""
    return version == 2 or "freezer" in controllers


def label_notes(path: str, name: str, root: bool, markers: Markers | None) -> list[tuple[str, str]]:
    """What the line of `path` (its `name` as shown; `root`: the hierarchy's root) says after
    its counts, as (text, component class) pairs: the container runtime and its short id
    (the id only when the name does not show it), else the systemd unit kind; then the
    markers: a cgroup type other than domain (a warning when invalid), frozen, the
    controllers enabled for its children."""
    out: list[tuple[str, str]] = []
    rt = runtime_of(path)
    unit = unit_kind(path)
    if rt is not None:
        kind, short = rt
        shown = short.split(" ")[-1]
        out.append((f" {kind}" if not short or shown in name.replace("_", "-") else f" {kind} {short}",
                    "cgroup-tree--runtime"))
    elif unit is not None and not root:
        out.append((f" {unit}", "cgroup-tree--unit"))
    if markers is not None:
        if markers.cgroup_type:
            warn = markers.cgroup_type == "domain invalid"
            out.append((f" [{markers.cgroup_type}]", "cgroup-tree--warn" if warn else "cgroup-tree--marker"))
        if markers.frozen:
            out.append((" ❄frozen", "cgroup-tree--marker"))
        if markers.children_controllers:
            out.append((" +" + ",".join(markers.children_controllers), "cgroup-tree--marker"))
    return out


def heading_cells(cols: Iterable[str], sort_column: str | None) -> str:
    """The figure columns' headings, each right-aligned in its width, the sort column's
    marked with ▼."""
    return "".join(f"{('▼' if c == sort_column else '') + HEADINGS[c]:>{COLUMN_WIDTHS[c]}}" for c in cols)


def count_tasks(hs: HierarchySnapshot | None, threads: bool) -> tuple[dict[str, int], dict[str, int]]:
    """(own, recursive) task counts of every cgroup of `hs` (TIDs with `threads`)."""
    if hs is None:
        return {}, {}
    return {p: len(c.members(threads)) for p, c in hs.containers.items()}, hs.recursive_counts(threads)


def patch_counts(hs: HierarchySnapshot | None, own: dict[str, int], rec: dict[str, int], changed: Iterable[str],
                 threads: bool) -> set[str] | None:
    """Patch the counts `own` and `rec` in place for the cgroups whose members changed (same
    tree shape): each one's difference is added to it and its ancestors. Returns the paths
    whose counts changed, or None when a cgroup is not counted yet (count again)."""
    touched: set[str] = set()
    for p in changed:
        c = hs.get(p) if hs is not None else None
        if c is None or p not in own:
            return None
        n = len(c.members(threads))
        delta = n - own[p]
        if delta:
            own[p] = n
            q: str | None = p
            while q is not None:
                rec[q] += delta
                touched.add(q)
                q = parent_path(q)
    return touched
