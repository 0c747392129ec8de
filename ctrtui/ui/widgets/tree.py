"""The container tree: one hierarchy's cgroups as a Textual `Tree`.

Labels are drawn from the current snapshot on every paint (name, own and recursive task
counts, markers), so a refresh only swaps the data and repaints; nodes are added and removed
from the snapshot diff. Past `LAZY_LIMIT` cgroups a node's children are built only when it
is first expanded (a 10k-node Tree costs ~0.3 s to build; a lazy one costs what is open).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.strip import Strip
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ctrtui.model import CgroupState, HierarchySnapshot, parent_path
from ctrtui.model.cgstats import COLUMNS, HEADINGS, Figures, cell, sort_value, value
from ctrtui.model.systemd import unit_kind
from ctrtui.text import display
from ctrtui.ui.styles import CachedStyles

LAZY_LIMIT = 2000
"""Above this many cgroups, children are built when their parent expands."""

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


class CgroupTree(CachedStyles, Tree[str]):
    """The cgroup tree of one hierarchy. Node data is the cgroup path.

    Attributes down: `load(hs)` shows a new hierarchy, `update(hs, diff)` patches in a newer
    snapshot of the same hierarchy, `set_markers()` adds state read in a worker.

    With columns on (`c`), each line ends with the cgroup's figures as systemd-cgtop shows
    them (`set_figures()`, read in a worker by `ui/stats.py`); `o` sorts every expanded
    node's children by the next column (largest first), then back to name order.
    """

    BINDINGS = [
        Binding("c", "toggle_columns", "Columns", tooltip="Show or hide the cgroup figures (tasks, CPU, "
                "memory, IO, pids, frozen, swap, pressure)", id="columns"),
        Binding("o", "cycle_column_sort", "Order", show=False,
                tooltip="Sort sibling cgroups by the next column (largest first), then by name",
                id="column-sort"),
    ]

    class ColumnsChanged(Message):
        """Columns were turned on or off, or the sort column changed: figures are wanted."""

    COMPONENT_CLASSES = Tree.COMPONENT_CLASSES | {
        "cgroup-tree--count", "cgroup-tree--marker", "cgroup-tree--runtime", "cgroup-tree--unit",
        "cgroup-tree--warn", "cgroup-tree--drop-ok", "cgroup-tree--drop-bad", "cgroup-tree--cut",
        "cgroup-tree--columns",
    }

    DEFAULT_CSS = """
    CgroupTree > .cgroup-tree--count { color: $text-muted; }
    CgroupTree > .cgroup-tree--marker { color: $warning; }
    CgroupTree > .cgroup-tree--runtime { color: $success; }
    CgroupTree > .cgroup-tree--unit { color: $accent; }
    CgroupTree > .cgroup-tree--warn { color: $error; }
    CgroupTree > .cgroup-tree--drop-ok { background: $success 50%; }
    CgroupTree > .cgroup-tree--drop-bad { background: $error 50%; }
    CgroupTree > .cgroup-tree--cut { text-style: italic; }
    CgroupTree > .cgroup-tree--columns { color: $text-muted; }
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """As `Widget.virtual_size`, but a new line count (a node expanded) repaints the tree
    and its scrollbar instead of laying out the whole screen (~40 ms); showing or hiding
    the scrollbar still lays out."""

    def __init__(self, **kw: Any) -> None:
        super().__init__("/", data="/", **kw)
        self.guide_depth = 2
        self.auto_expand = True
        self.hs: HierarchySnapshot | None = None
        """The hierarchy snapshot drawn."""
        self.threads = False
        """Count threads (TIDs) instead of processes."""
        self.lazy = False
        """Children are built on expand (set by `load` from the size)."""
        self.nodes: dict[str, TreeNode[str]] = {}
        """Path -> node, for the nodes built so far."""
        self.markers: dict[str, Markers] = {}
        """Path -> markers read from cgroup state (missing: not read yet)."""
        self.drop_line = -1
        """Line highlighted as a drag-and-drop target (-1: none)."""
        self.drop_ok = False
        """Whether a drop on `drop_line` would move anything."""
        self._own: dict[str, int] = {}
        self._rec: dict[str, int] = {}
        self.columns = False
        """The figure columns are shown (`c`)."""
        self.figures: dict[str, Figures] = {}
        """Path -> figures last read (missing: not read yet)."""
        self.sort_column: str | None = None
        """Siblings are sorted by this column, largest first (None: by name)."""
        self.present: frozenset[str] = frozenset({"tasks"})
        """Columns with a value for some cgroup of this hierarchy."""
        self.on_layout: Callable[[], None] | None = None
        """Called when the shown columns change (the heading above the tree redraws)."""
        self._layout: tuple[int, frozenset[str], tuple[str, ...]] = (-1, frozenset(), ())

    def process_label(self, label: str | Text) -> Text:
        """A node's label is a cgroup name: plain text shown escaped, never markup (Tree
        would parse a str label as markup)."""
        if isinstance(label, str):
            return Text(display(label), no_wrap=True)
        return super().process_label(label)

    def scroll_to_line(self, line: int, animate: bool = True) -> None:
        """As Tree's, and sideways too: a node deep in the tree has its name beyond the
        pane's right edge, so the view follows the cursor's label (Tree keeps x as it is)."""
        super().scroll_to_line(line, animate=animate)
        region = self._get_label_region(line)
        if region is None:
            return
        width = self.scrollable_content_region.width - self.columns_width()
        x = self.scroll_x
        if width <= 0:
            return
        if region.x < x + 2 or region.x + min(region.width, width // 2) > x + width:
            # the label's start, with two levels of guides before it for context
            self.scroll_to(x=max(0, region.x - 4), animate=False, immediate=True)

    def watch_virtual_size(self, size: Size) -> None:
        if self.is_mounted and self.container_size:
            self._scroll_update(size)
            self.refresh()

    def _style(self, name: str) -> Style:
        """A component's partial rich style (cached by Textual)."""
        return self.get_component_rich_style(name, partial=True)

    # ------------------------------------------------------------------ data

    def _count(self) -> None:
        hs = self.hs
        if hs is None:
            self._own, self._rec = {}, {}
            return
        self._own = {p: len(c.members(self.threads)) for p, c in hs.containers.items()}
        self._rec = hs.recursive_counts(self.threads)

    def _recount(self, changed: Iterable[str]) -> set[str] | None:
        """Patch the counts for cgroups whose members changed (same tree shape): each
        one's difference is added to it and its ancestors. Returns the paths whose counts
        changed, or None when everything was counted again."""
        hs = self.hs
        own, rec = self._own, self._rec
        touched: set[str] = set()
        for p in changed:
            c = hs.get(p) if hs is not None else None
            if c is None or p not in own:
                self._count()
                return None
            n = len(c.members(self.threads))
            delta = n - own[p]
            if delta:
                own[p] = n
                q: str | None = p
                while q is not None:
                    rec[q] += delta
                    touched.add(q)
                    q = parent_path(q)
        return touched

    def recursive_count(self, path: str) -> int:
        """Tasks of `path` and every cgroup below it (as the tree counts them)."""
        return self._rec.get(path, 0)

    def load(self, hs: HierarchySnapshot, threads: bool = False) -> None:
        """Show the hierarchy `hs` from scratch: root expanded, its children visible."""
        if self.hs is None or self.hs.name != hs.name:
            self.figures = {}
            self.present = frozenset({"tasks"})
        self.hs = hs
        self.threads = threads
        self.markers = {}
        self.lazy = len(hs.containers) > LAZY_LIMIT
        self._count()
        self.clear()
        root_path = hs.root_path
        self.root.data = root_path
        self.root.set_label(hs.name)
        self.nodes = {root_path: self.root}
        self.root.allow_expand = bool(hs[root_path].children) if root_path in hs else False
        if self.lazy:
            self._build_children(self.root)
        else:
            self._build_all()
        self.root.expand()
        if self.sort_column is not None:
            self.sort_siblings()
        self.move_cursor(self.root)

    def _expandable(self, path: str | None) -> bool:
        c = self.hs.get(path) if self.hs and path else None
        return bool(c and c.children)

    def _new_node(self, parent: TreeNode[str], path: str, before: TreeNode[str] | None = None) -> TreeNode[str]:
        name = path.rsplit("/", 1)[-1] or "/"
        node = parent.add(name, data=path, before=before, allow_expand=self._expandable(path))
        self.nodes[path] = node
        return node

    def _build_all(self) -> None:
        hs = self.hs
        assert hs is not None
        for c in hs.containers.values():
            node = self.nodes.get(c.path)
            if node is None:
                continue
            for ch in c.children:
                if ch in hs.containers and ch not in self.nodes:
                    self._new_node(node, ch)

    def _build_children(self, node: TreeNode[str]) -> None:
        """Add the TreeNodes of `node`'s children when they are not there yet (lazy mode)."""
        hs = self.hs
        c = hs.get(node.data) if hs and node.data else None
        if hs is None or c is None or node.children:
            return
        for ch in c.children:
            if ch in hs.containers and ch not in self.nodes:
                self._new_node(node, ch)

    @on(Tree.NodeExpanded)
    def _lazy_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        """A lazy node's children are built when it is first expanded."""
        if self.lazy:
            self._build_children(event.node)
        if self.sort_column is not None:
            self._sort_children(event.node)

    def _toggle_node(self, node: TreeNode[str]) -> None:
        """Expand or collapse; a lazy node's children are built first, so the expanded
        node is drawn with them in one frame (not empty, then filled by the message)."""
        if self.lazy and node.allow_expand and not node.is_expanded:
            self._build_children(node)
        super()._toggle_node(node)
        self._tree_lines  # noqa: B018 - lines and scrollbar now, in this frame

    def _invalidate(self) -> None:
        """As `Tree._invalidate`, without laying out the whole screen (~40 ms): the tree's
        height is fixed, and a new line count changes only its scrollbar (`virtual_size`)."""
        self._clear_line_cache()
        self._updates += 1
        self.root._reset()
        self.refresh()

    def update(self, hs: HierarchySnapshot, added: tuple[str, ...] = (), removed: tuple[str, ...] = (),
               threads: bool | None = None, changed: Iterable[str] | None = None) -> str | None:
        """Patch in a newer snapshot of the same hierarchy. `changed`: the cgroups whose
        members changed (from the diff): counts are then patched, not recounted.

        Returns the path the cursor had when that cgroup was removed (the cursor then moved to
        the nearest ancestor still there), else None."""
        old_cursor = self.cursor_path
        self.hs = hs
        if threads is not None:
            self.threads = threads
        lost = None
        for path in removed:
            self.markers.pop(path, None)
            node = self.nodes.pop(path, None)
            if node is not None and node is not self.root and node.id in self._tree_nodes:
                node.remove()
        for path in [p for p in self.nodes if p not in hs.containers]:
            node = self.nodes.pop(path)
            if node is not self.root and node.id in self._tree_nodes:
                node.remove()
        for path in added:
            parent = parent_path(path)
            pnode = self.nodes.get(parent) if parent else None
            if pnode is None or path in self.nodes:
                continue
            if self.lazy and not pnode.children and pnode is not self.root and not pnode.is_expanded:
                pnode.allow_expand = True
                continue
            siblings = hs[parent].children if parent is not None and parent in hs else ()
            before = None
            for later in siblings[siblings.index(path) + 1:] if path in siblings else ():
                if later in self.nodes:
                    before = self.nodes[later]
                    break
            self._new_node(pnode, path, before=before)
        if added or removed:
            for path, node in self.nodes.items():
                expandable = self._expandable(path)
                if node.allow_expand != expandable and node is not self.root:
                    node.allow_expand = expandable
        relabel = None
        if changed is not None and not added and not removed and (threads is None or threads == self.threads):
            relabel = self._recount(changed)
        else:
            self._count()
        if self.sort_column is not None and (added or self.sort_column == "tasks"):
            if self.sort_siblings(invalidate=False):
                relabel = None  # lines moved: draw them all again
        if old_cursor is not None and old_cursor not in hs:
            lost = old_cursor
            target: str | None = old_cursor
            while target is not None and target not in self.nodes:
                target = parent_path(target)
            self.move_cursor(self.nodes.get(target or "", self.root))
        if relabel is None or lost is not None:
            self._invalidate()
            self._tree_lines  # noqa: B018 - lines and scrollbar now, in this frame
        elif relabel:  # same shape: only the lines whose counts changed are drawn again
            nodes, top, height = self.nodes, self.scroll_offset.y, self.size.height
            for p in relabel:
                node = nodes.get(p)
                if node is not None:
                    node._updates += 1  # what Tree's line cache keys on (TreeNode.refresh does it too)
                    if 0 <= node.line - top < height:  # on screen (-1: inside a collapsed node)
                        self._refresh_line(node.line)  # that line's region alone
        return lost

    def set_threads(self, threads: bool) -> None:
        """Count threads or processes."""
        if threads != self.threads:
            self.threads = threads
            self._count()
            self._invalidate()

    def set_markers(self, markers: dict[str, Markers]) -> None:
        """Merge markers read in a worker; redraw only the built nodes that look different."""
        none = Markers()
        seen = [p for p, m in markers.items() if p in self.nodes and self.markers.get(p, none) != m]
        self.markers.update(markers)
        for p in seen:
            self.nodes[p].refresh()

    @property
    def cursor_path(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def built_paths(self) -> list[str]:
        """Paths of the nodes built so far (what state reads should cover)."""
        return list(self.nodes)

    def reveal(self, path: str) -> TreeNode[str] | None:
        """Build and expand the ancestors of `path`, move the cursor there; None if unknown."""
        hs = self.hs
        if hs is None or path not in hs:
            return None
        chain = []
        p: str | None = path
        while p is not None and p not in self.nodes:
            chain.append(p)
            p = parent_path(p)
        if p is None:
            return None
        node = self.nodes[p]
        for q in reversed(chain):
            self._build_children(node)
            if not node.is_expanded:
                node.expand()
            child = self.nodes.get(q)
            if child is None:
                return None
            node = child
        parent = node.parent
        while parent is not None:
            if not parent.is_expanded:
                parent.expand()
            parent = parent.parent
        self._tree_lines  # noqa: B018 - rebuild lines so node._line is current
        self.move_cursor(node)
        return node

    # ------------------------------------------------------------------ figure columns

    def action_toggle_columns(self) -> None:
        self.columns = not self.columns
        self._invalidate()
        self._layout_changed()
        self.post_message(self.ColumnsChanged())

    def action_cycle_column_sort(self) -> None:
        """Sort siblings by the next column with values here (after the last: by name)."""
        order: list[str | None] = [None, *(c for c in COLUMNS if c in self.present)]
        at = order.index(self.sort_column) if self.sort_column in order else 0
        self.sort_column = order[(at + 1) % len(order)]
        self.sort_siblings()
        self._layout_changed()
        self.post_message(self.ColumnsChanged())
        heading = HEADINGS[self.sort_column] if self.sort_column else "name"
        self.notify(f"Sibling cgroups sorted by {heading}" + (", largest first" if self.sort_column else ""),
                    timeout=2)

    def set_figures(self, figures: dict[str, Figures]) -> None:
        """Figures read in a worker: redraw (only when one changed), and sort again when
        sorted by one of them."""
        old = self.figures
        changed = [p for p, f in figures.items() if old.get(p) != f]
        if not changed:
            return
        old.update(figures)
        present = set(self.present)
        for p, f in figures.items():
            if p == "/":
                continue  # the machine's figures (cgtop's root row) bring no column of their own
            for c in COLUMNS[1:]:
                if value(c, f) is not None:
                    present.add(c)
        if present != self.present:
            self.present = frozenset(present)
            self._layout_changed()
        if self.sort_column not in (None, "tasks"):
            self.sort_siblings()
        elif self.columns and any(p in self.nodes for p in changed):  # not for lines not built yet
            self.refresh()

    def _sort_key(self, column: str) -> Callable[[TreeNode[str]], tuple[float, str]]:
        rec, figs = self._rec, self.figures

        def key(node: TreeNode[str]) -> tuple[float, str]:
            p = node.data or ""
            return -sort_value(column, rec.get(p), figs.get(p)), p
        return key

    def _sort_children(self, node: TreeNode[str]) -> bool:
        """Order `node`'s children by the sort column (or the snapshot's order); True when
        the order changed."""
        kids = node._children
        if len(kids) < 2:
            return False
        if self.sort_column is None:
            c = self.hs.get(node.data) if self.hs is not None and node.data else None
            where = {p: i for i, p in enumerate(c.children)} if c is not None else {}
            new = sorted(kids, key=lambda n: where.get(n.data or "", len(where)))
        else:
            new = sorted(kids, key=self._sort_key(self.sort_column))
        if new == kids:
            return False
        kids[:] = new
        return True

    def sort_siblings(self, invalidate: bool = True) -> bool:
        """Sort the children of every expanded node (what is on screen) by the sort column;
        True when an order changed."""
        changed = False
        for node in list(self.nodes.values()):
            if node.is_expanded and node._children:
                changed = self._sort_children(node) or changed
        if (changed or self.columns) and invalidate:
            self._invalidate()
            self._tree_lines  # noqa: B018 - the cursor line follows its node now
        return changed

    def _layout_changed(self) -> None:
        if self.on_layout is not None:
            self.on_layout()

    def shown_columns(self) -> tuple[str, ...]:
        """The columns drawn at the current width (none when columns are off)."""
        if not self.columns:
            return ()
        width = self.scrollable_content_region.width
        if self._layout[:2] != (width, self.present):
            before = self._layout[2]
            self._layout = (width, self.present, fit_columns(width, self.present))
            if self._layout[2] != before:
                self.call_after_refresh(self._layout_changed)
        return self._layout[2]

    def columns_width(self) -> int:
        return sum(COLUMN_WIDTHS[c] for c in self.shown_columns())

    def heading(self) -> Text:
        """The line above the tree: `cgroup`, then the shown columns' headings aligned with
        their figures (the sort column marked)."""
        cols = self.shown_columns()
        width = self.scrollable_content_region.width
        text = Text("cgroup" + (" (by name)" if self.sort_column is None else ""), no_wrap=True)
        right = "".join(f"{('▼' if c == self.sort_column else '') + HEADINGS[c]:>{COLUMN_WIDTHS[c]}}"
                        for c in cols)
        text.pad_right(max(0, width - len(text) - len(right)))
        text.append(right)
        text.truncate(width)
        return text

    def shown_paths(self, limit: int = 1000) -> list[str]:
        """Paths of the lines on screen first, then of every other line (up to `limit`):
        what a figure read should cover (every line, when siblings are sorted by figures)."""
        lines = self._tree_lines
        top = int(self.scroll_y)
        height = max(1, self.size.height)
        on_screen = [ln.node.data for ln in lines[top:top + height] if ln.node.data is not None]
        if self.sort_column in (None, "tasks"):
            return on_screen
        rest = [ln.node.data for ln in lines if ln.node.data is not None]
        seen = set(on_screen)
        return (on_screen + [p for p in rest if p not in seen])[:limit]

    def render_line(self, y: int) -> Strip:
        """As Tree's; with columns on, the figures are drawn at the right edge and the tree
        (scrolled sideways as it is) in the cells left of them."""
        cols = self.shown_columns()
        if not cols:
            return super().render_line(y)
        width = self.size.width
        cw = min(width, sum(COLUMN_WIDTHS[c] for c in cols))
        scroll_x, scroll_y = self.scroll_offset
        style = self.rich_style
        left = self._render_line(y + scroll_y, scroll_x, scroll_x + width - cw, style)
        line = y + scroll_y
        lines = self._tree_lines
        if line >= len(lines):
            return Strip.join([left, Strip.blank(cw, style)])
        path = lines[line].node.data or ""
        tasks = self._rec.get(path)
        f = self.figures.get(path)
        text = "".join(f"{cell(c, tasks, f)[:COLUMN_WIDTHS[c] - 1]:>{COLUMN_WIDTHS[c]}}" for c in cols)
        cstyle = style + self._style("cgroup-tree--columns")
        if line == self.cursor_line:
            cstyle += self.get_component_rich_style("tree--cursor", partial=False)
        cstyle += Style(meta={"line": line})
        return Strip.join([left, Strip([Segment(text[:cw], cstyle)], cw)])

    # ------------------------------------------------------------------ drag target

    def show_drop(self, line: int, ok: bool) -> None:
        """Highlight `line` as the drop target (green: accepted, red: refused); -1 clears."""
        if (line, ok) != (self.drop_line, self.drop_ok):
            self.drop_line, self.drop_ok = line, ok
            self._invalidate()

    # ------------------------------------------------------------------ drawing

    def render_label(self, node: TreeNode[str], base_style: Style, style: Style) -> Text:
        path = node.data or "/"
        hs = self.hs
        if node.allow_expand:
            prefix = ("▼ " if node.is_expanded else "▶ ", base_style + Style(meta={"toggle": True}))
        else:
            prefix = ("  ", base_style)
        name = display(hs.name) if (hs is not None and node is self.root) else short_name(
            display(path.rsplit("/", 1)[-1] or "/"))
        text = Text.assemble(prefix, (name, style))
        own, rec = self._own.get(path, 0), self._rec.get(path, 0)
        count = self._style("cgroup-tree--count")
        text.append(f" {own}" if own == rec else f" {own}/{rec}", count)
        unit = unit_kind(path)
        rt = runtime_of(path)
        if rt is not None:
            kind, short = rt
            shown = short.split(" ")[-1]
            text.append(f" {kind}" if not short or shown in name.replace("_", "-") else f" {kind} {short}",
                        self._style("cgroup-tree--runtime"))
        elif unit is not None and node is not self.root:
            text.append(f" {unit}", self._style("cgroup-tree--unit"))
        m = self.markers.get(path)
        if m is not None:
            mark = self._style("cgroup-tree--marker")
            if m.cgroup_type:
                warn = m.cgroup_type == "domain invalid"
                text.append(f" [{m.cgroup_type}]",
                            self._style("cgroup-tree--warn") if warn else mark)
            if m.frozen:
                text.append(" ❄frozen", mark)
            if m.children_controllers:
                text.append(" +" + ",".join(m.children_controllers), mark)
        if node._line == self.drop_line and self.drop_line >= 0:
            text.stylize(self._style("cgroup-tree--drop-ok" if self.drop_ok else "cgroup-tree--drop-bad"))
        return text
