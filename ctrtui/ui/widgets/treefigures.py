"""The cgroup tree's figure columns (`FiguresTree`, the base of `CgroupTree`): with columns
on (`c`), each line ends with the cgroup's figures as systemd-cgtop shows them (`set_figures`,
read in a worker by `ui/statsfeed.py`), as many columns as fit beside the names; `o` sorts every
expanded node's children by the next column (largest first), then back to name order. The
nodes, counts, markers and labels are `CgroupTree`'s (ctrtui/ui/widgets/tree.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ctrtui.model import HierarchySnapshot
from ctrtui.model.cgstats import COLUMNS, HEADINGS, Figures, cell, sort_value, value
from ctrtui.ui.styles import CachedStyles
from ctrtui.ui.treelabels import COLUMN_WIDTHS, fit_columns, heading_cells


class FiguresTree(CachedStyles, Tree[str]):
    """A tree of cgroup paths (node data) whose lines can end with the cgroups' figures."""

    BINDINGS = [
        Binding("c", "toggle_columns", "Columns", tooltip="Show or hide the cgroup figures (tasks, CPU, "
                "memory, IO, pids, frozen, swap, pressure)", id="columns"),
        Binding("o", "cycle_column_sort", "Order", show=False,
                tooltip="Sort sibling cgroups by the next column (largest first), then by name",
                id="column-sort"),
    ]

    class ColumnsChanged(Message):
        """Columns were turned on or off, or the sort column changed: figures are wanted."""

    def __init__(self, **kw: Any) -> None:
        super().__init__("/", data="/", **kw)
        self.hs: HierarchySnapshot | None = None
        """The hierarchy snapshot drawn."""
        self.nodes: dict[str, TreeNode[str]] = {}
        """Path -> node, for the nodes built so far."""
        self._rec: dict[str, int] = {}
        """Path -> tasks of it and every cgroup below (`CgroupTree` counts them)."""
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

    def _style(self, name: str) -> Style:
        """A component's partial rich style (cached by Textual)."""
        return self.get_component_rich_style(name, partial=True)

    def _invalidate(self) -> None:
        """As `Tree._invalidate`, without laying out the whole screen (~40 ms): the tree's
        height is fixed, and a new line count changes only its scrollbar (`virtual_size`)."""
        self._clear_line_cache()
        self._updates += 1
        self.root._reset()
        self.refresh()

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
        right = heading_cells(cols, self.sort_column)
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
