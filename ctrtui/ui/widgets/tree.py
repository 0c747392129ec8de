"""The container tree: one hierarchy's cgroups as a Textual `Tree`.

Labels are drawn from the current snapshot on every paint (name, own and recursive task
counts, markers), so a refresh only swaps the data and repaints; nodes are added and removed
from the snapshot diff. Past `LAZY_LIMIT` cgroups a node's children are built only when it
is first expanded (a 10k-node Tree costs ~0.3 s to build; a lazy one costs what is open).
What a line says (short names, runtimes, markers, counts, which columns fit) is worked out
in `ctrtui/ui/treelabels.py`, without Textual.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import on
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ctrtui.model import HierarchySnapshot, parent_path
from ctrtui.text import display
from ctrtui.ui.treelabels import (
    Markers,
    count_tasks,
    label_notes,
    patch_counts,
    short_name,
)
from ctrtui.ui.widgets.treefigures import FiguresTree

LAZY_LIMIT = 2000
"""Above this many cgroups, children are built when their parent expands."""

class CgroupTree(FiguresTree):
    """The cgroup tree of one hierarchy. Node data is the cgroup path.

    Attributes down: `load(hs)` shows a new hierarchy, `update(hs, diff)` patches in a newer
    snapshot of the same hierarchy, `set_markers()` adds state read in a worker.

    With columns on (`c`), each line ends with the cgroup's figures as systemd-cgtop shows
    them: see `FiguresTree` (ctrtui/ui/widgets/treefigures.py).
    """

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
        super().__init__(**kw)
        self.guide_depth = 2
        self.auto_expand = True
        self.threads = False
        """Count threads (TIDs) instead of processes."""
        self.lazy = False
        """Children are built on expand (set by `load` from the size)."""
        self.markers: dict[str, Markers] = {}
        """Path -> markers read from cgroup state (missing: not read yet)."""
        self.drop_line = -1
        """Line highlighted as a drag-and-drop target (-1: none)."""
        self.drop_ok = False
        """Whether a drop on `drop_line` would move anything."""
        self._own: dict[str, int] = {}

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

    # ------------------------------------------------------------------ data

    def _count(self) -> None:
        self._own, self._rec = count_tasks(self.hs, self.threads)

    def _recount(self, changed: Iterable[str]) -> set[str] | None:
        """Patch the counts for cgroups whose members changed (same tree shape): each
        one's difference is added to it and its ancestors. Returns the paths whose counts
        changed, or None when everything was counted again."""
        touched = patch_counts(self.hs, self._own, self._rec, changed, self.threads)
        if touched is None:
            self._count()
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
        for note, component in label_notes(path, name, node is self.root, self.markers.get(path)):
            text.append(note, self._style(component))
        if node._line == self.drop_line and self.drop_line >= 0:
            text.stylize(self._style("cgroup-tree--drop-ok" if self.drop_ok else "cgroup-tree--drop-bad"))
        return text
