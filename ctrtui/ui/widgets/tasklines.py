"""The task list's rows as a Line-API `ScrollView` (`TaskLines`, the base of `TaskList`):
what the list holds (the rows, the cursor, the marks, the highlights), the details of the
rows on screen (fetched in a thread worker through `ctrtui.ui.taskdetails.TaskDetails`), and
how each line is drawn.

Rows are drawn from a sorted `array('i')` of PIDs with `render_line`, so 100k rows cost what
the ~30 visible rows cost; drawn rows are kept as Strips in an LRU cache, and a line is drawn
again only when what it shows changed (`_repaint`). Details (user, state, cpu, rss, cmdline)
are fetched for the rows on screen and one screen above and below (so the next page is
ready), and cached. What the list does with the user's keys (show, sort, filter, select,
mark) is `TaskList`'s (ctrtui/ui/widgets/tasklist.py).
"""


from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget

from ctrtui.model import EMPTY, HierarchySnapshot, TaskInfo, contains
from ctrtui.sources.base import Reader
from ctrtui.text import display, tail
from ctrtui.ui.rows import (
    Column,
    RowOrder,
    column_at,
    columns_for,
    fit_line,
    header_line,
    row_cells,
)
from ctrtui.ui.styles import CachedStyles
from ctrtui.ui.taskdetails import TaskDetails
from ctrtui.ui.widgets.rowdrag import RowDrag

PREFETCH_PAGES = 1
"""Screens of rows above and below the visible ones whose details are fetched too."""


class TaskLines(CachedStyles, ScrollView, RowDrag):
    """The rows of the task list, their details and their drawing (the base of `TaskList`,
    which keys them to the user). Its messages are known as `TaskList`'s (`TaskList.CursorMoved`)."""

    class CursorMoved(Message):
        """The task under the cursor changed (None: the list is empty)."""

        def __init__(self, pid: int | None) -> None:
            self.pid = pid
            super().__init__()

    class MarksChanged(Message):
        """Tasks were marked or unmarked by a key (the status bar counts them)."""

    class DetailsLoaded(Message):
        """A details worker finished (internal)."""

        def __init__(self, pids: tuple[int, ...], infos: dict[int, TaskInfo], generation: int) -> None:
            self.pids = pids
            self.infos = infos
            self.generation = generation
            super().__init__()

    class ViewReady(Message):
        """The details a sort/filter needed were fetched (internal)."""

        def __init__(self, pids: list[int], infos: dict[int, TaskInfo], token: tuple[object, ...], source: array[int],
                     orders: dict[str, array[int]], hay: dict[int, str]) -> None:
            self.pids = pids
            self.infos = infos
            self.token = token
            self.source = source
            self.orders = orders
            self.hay = hay
            super().__init__()

    def __init__(self, backend: Reader, on_cursor: Callable[[int | None], None] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.backend = backend
        """Where details come from (`task_details`)."""
        self.on_cursor = on_cursor
        """Called at once when the task under the cursor changes, before `CursorMoved` is
        posted: what it draws lands in the same frame as the cursor (a message is handled
        after the screen may already have been updated: one frame, ~17-30 ms, later)."""
        self.hs: HierarchySnapshot | None = None
        self.path: str | None = None
        self.threads = False
        """Threads view (TIDs, TGID column) instead of processes (TGIDs, THR column)."""
        self.recursive = False
        """Show the tasks of the whole subtree."""
        self.base: array[int] = EMPTY
        """Members (sorted by PID) of the cgroup shown."""
        self.shown: array[int] = EMPTY
        """Rows in display order (filtered, sorted, with departed tasks still fading out)."""
        self.cursor = 0
        """Index of the cursor row in `shown`."""
        self.marks: set[int] = set()
        """Marked PIDs of the hierarchy shown: kept while the tree cursor moves (as a cut
        is), so tasks marked in one cgroup can be moved from another (`N` on their parent);
        dropped with a switch of hierarchy, of threads/processes, or when they are gone."""
        self.fetch = TaskDetails()
        """The rows' details: cached, which rows want fresh ones (`ctrtui.ui.taskdetails`)."""
        self.sort = "pid"
        self.reverse = False
        self.filter = ""
        self.busy: str | None = None
        """"sorting…" / "filtering…" while a view worker runs."""
        self.new: dict[int, float] = {}
        """PID -> time until which it shows as new."""
        self.gone: dict[int, float] = {}
        """PID -> time until which a departed task still shows (struck out)."""
        self.highlight_grace = 0.0
        """Extra seconds a highlight's own expiry waits: the auto-refresh interval while it
        runs, so the tick due meanwhile ends it in its own repaint (one repaint, not two)."""
        self._view_token: tuple[object, ...] = ()
        self.tree_view = False
        """Rows as a parent/child tree (`rows.process_tree`) instead of a sorted list."""
        self._tree_prefix: dict[int, str] = {}
        """Per row in tree view: the drawing before its command."""
        self.awaited: int | None = None
        """A PID the cursor goes to when it arrives in the shown cgroup (`follow`)."""
        self._last_cursor_pid: int | None = None
        self._announced: object = object()
        """The PID the cursor was last announced on (a fresh object: none yet)."""
        self._order = RowOrder()
        """Sort and filter caches of the rows (and the PIDs known to have no details)."""
        self._listings: Counter[int] | None = None
        """Processes view of a subtree: TGID -> how many of its cgroups list it (a v1 TGID
        whose threads are spread is listed by several), kept to patch refreshes exactly."""
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        """Drawn rows: (pid, look, width, view, focus) -> Strip (a row's are dropped when its
        details change; all are when what every row looks like changes)."""
        self._painted: dict[int, tuple[object, ...]] = {}
        """Line on screen -> the key (`_line_key`) it was last drawn with (see `_repaint`)."""
        self._title: object = None
        """The border title last set (`_update_title` sets it again only when it changed)."""

    @property
    def details(self) -> dict[int, TaskInfo]:
        """PID -> details (possibly from an earlier refresh): `fetch.known`."""
        return self.fetch.known

    @details.setter
    def details(self, known: dict[int, TaskInfo]) -> None:
        self.fetch.known = known

    @property
    def columns(self) -> tuple[Column, ...]:
        return columns_for(self.threads)

    def rows_source(self) -> array[int]:
        """`base` plus the departed tasks still fading out, sorted by PID."""
        if not self.gone:
            return self.base
        return array("i", sorted(set(self.base).union(self.gone)))

    def _absorb(self, infos: dict[int, TaskInfo]) -> None:
        """Take in details: cached, the filter text of those rows made again, their drawn
        rows dropped (only theirs: `_repaint` then draws those lines and no other)."""
        if not infos:
            return
        self.details.update(infos)
        self._order.changed(infos)
        self._forget_strips(infos)

    def _forget_strips(self, pids: dict[int, Any] | set[int]) -> None:
        """Drop the drawn rows of `pids`."""
        for key in [k for k in self._strips.keys() if k[0] in pids]:
            self._strips.discard(key)

    def _update_title(self) -> None:
        """The line above the header: which cgroup, how many rows, marks, filter."""
        if self.hs is None or self.path is None:
            self.border_title = ""
            return
        n = len(self.base)
        what = ("thread" if self.threads else "process") + ("" if n == 1 else ("s" if self.threads else "es"))
        where = display(self.hs.name) + ":" + display(self.path)
        below = " and below" if self.recursive else ""
        parts = [f"{n} {what}"]
        if self.filter:
            fading = sum(1 for p in self.gone if self.index_of(p) is not None)
            parts.append(f"{len(self.shown) - fading} match '{display(self.filter)}'")
        if self.marks:
            here = self.marked_here()
            parts.append(f"{len(self.marks)} marked" + (f" ({here} here)" if here != len(self.marks) else ""))
        if self.busy:
            parts.append(self.busy)
        rest = below + " · " + " · ".join(parts)
        # the title is plain text (names are never markup); a long path keeps its end
        room = max(12, (self.size.width or 80) - 4 - len(rest))
        self._set_title(tail(where, room) + rest)

    def _set_title(self, title: str) -> None:
        """Set the border title when it changed, drawing the border line alone: setting
        `border_title` repaints the whole widget (every row), which a count going from 97
        to 98 on each refresh tick does not need."""
        if title == self._title:
            return
        self._title = title
        full = not self.is_mounted or not self._painted
        self.refresh = lambda *a, **k: self  # type: ignore[method-assign]  # the setter's repaint of it all
        try:
            self.border_title = Content(title)
        finally:
            del self.refresh  # the class's own again
        if full:
            self.refresh()
        else:
            x, y = self.content_offset
            self.refresh(Region(-x, -y, self.outer_size.width, 1))  # the top border line

    def _set_rows(self, rows: int) -> None:
        """Make the scrollable height `rows` + the header. Unlike setting `virtual_size`,
        this does not lay out the whole screen when only the scrollbar's length changes
        (a layout costs ~40 ms); showing or hiding the scrollbar still does."""
        size = Size(self.size.width, rows + 1)
        if size == self.virtual_size:
            return
        if not self.is_mounted or not self.container_size:
            self.virtual_size = size
            return
        old = self.virtual_size
        self.set_reactive(Widget.virtual_size, size)
        if self._same_scrollbar(old.height, size.height):
            self.vertical_scrollbar.set_reactive(ScrollBar.window_virtual_size, size.height)
        else:
            self._scroll_update(size)  # shows, hides or draws the scrollbar
        if self.scroll_y > self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        self._repaint()

    def _same_scrollbar(self, old: int, new: int) -> bool:
        """The vertical scrollbar looks the same for `new` lines as for `old` (both too few
        to show it, or both drawn alike: the thumb moves in eighths of a cell, so 1,000 or
        1,001 rows draw the same bar). Then it is not drawn again: a bar drawn anew costs
        a frame of its own (~2 ms here) at each refresh tick where a task came or went."""
        height = self.container_size.height
        shown = self.show_vertical_scrollbar
        if (old > height) != shown or (new > height) != shown:
            return False  # it shows or hides: that is `_scroll_update`'s
        if not shown:
            return True
        bar = self.vertical_scrollbar
        window = bar.window_size if bar.window_size < old else 0

        def drawn(lines: int) -> list[Segment]:
            return list(bar.renderer.render_bar(size=bar.size.height, virtual_size=lines, window_size=window,
                                                position=bar.position, thickness=bar.thickness,
                                                vertical=True).segments)

        return window > 0 and drawn(old) == drawn(new)

    def index_of(self, pid: int) -> int | None:
        """Row index of `pid` in `shown`, or None."""
        shown = self.shown
        if self.sort == "pid" and not self.reverse:
            i = bisect_left(shown, pid)
            return i if i < len(shown) and shown[i] == pid else None
        try:
            return shown.index(pid)
        except ValueError:
            return None

    @property
    def cursor_pid(self) -> int | None:
        if 0 <= self.cursor < len(self.shown):
            return int(self.shown[self.cursor])
        return None

    def is_live(self, pid: int) -> bool:
        """A current member (not a departed one still fading out)."""
        return contains(self.base, pid)

    def marked_here(self) -> int:
        """How many marked tasks the list shown holds."""
        return sum(1 for p in self.marks if self.is_live(p))

    def _announce_cursor(self) -> None:
        pid = self.cursor_pid
        if pid != self._announced:
            self._announced = pid
            if self.on_cursor is not None:
                self.on_cursor(pid)
            self.post_message(self.CursorMoved(pid))

    def _scroll_cursor_into_view(self) -> None:
        rows = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False, immediate=True)

    def _need(self, pid: int) -> None:
        if self.fetch.need(pid):
            self.call_later(self._fetch_wanted)

    def visible_pids(self, pages: int = 0) -> list[int]:
        """PIDs of the rows on screen, and of `pages` screens above and below."""
        rows = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        lo, hi = max(0, top - pages * rows), min(len(self.shown), top + rows * (pages + 1))
        return list(self.shown[lo:hi])

    def _fetch_wanted(self) -> None:
        """Fetch details of the rows painted without fresh ones, and of the screens above
        and below that have none (so the next page or cursor step finds them cached; a row
        scrolled into view with older details gets fresh ones as it is drawn: re-reading
        two screens of rows off screen at every refresh tick would double what a tick reads)."""
        around = self.visible_pids(PREFETCH_PAGES) if self.shown else ()
        pids = self.fetch.to_fetch(around, self._order.absent)
        if pids:
            self._fetch_details(pids, self.fetch.generation)

    @work(thread=True, group="task-details", name="task details", exit_on_error=False)
    def _fetch_details(self, pids: tuple[int, ...], generation: int) -> None:
        """Details of the rows on screen and around (thread worker)."""
        try:
            infos = self.backend.task_details(pids)
        except Exception:
            self.post_message(self.DetailsLoaded(pids, {}, generation))
            raise
        self.post_message(self.DetailsLoaded(pids, infos, generation))

    @on(DetailsLoaded)
    def _details_loaded(self, event: DetailsLoaded) -> None:
        event.stop()
        changed = self.fetch.changed(event.infos)
        self._absorb(changed)
        dropped = self.fetch.loaded(event.pids, event.infos, event.generation, self.gone, self._order.absent)
        if dropped:
            self._forget_strips(dropped)
        if dropped or changed:
            self._repaint()  # the lines of those rows on screen, if any
        if self.cursor_pid in changed:
            self._announced = object()
            self._announce_cursor()

    def take_details(self, infos: dict[int, TaskInfo]) -> None:
        """Fresh details of rows on screen read with a refresh tick: what changed is
        redrawn, nothing else: only the lines of the rows whose details changed (an idle
        list draws nothing)."""
        changed = self.fetch.changed(infos)
        self.fetch.fresh.update(infos)
        if not changed:
            return
        self._absorb(changed)
        self._repaint()
        if self.cursor_pid in changed:
            self._announced = object()
            self._announce_cursor()

    def forget_details(self, keep: Iterable[int] | None = None) -> None:
        """Drop cached details (all, or all but `keep`), e.g. after a move."""
        self.fetch.forget(keep)
        self._order.clear()
        self._strips.clear()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._set_rows(len(self.shown))
        self._update_title()  # how much of a long path fits

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def _style(self, name: str) -> Style:
        """A component's rich style, or the widget's own for "" (both cached)."""
        return self.get_component_rich_style(name) if name else self.rich_style

    def header_text(self, width: int) -> str:
        """The header row as `width` cells: titles, the sort arrow, "sorting…" at the end."""
        return header_line(self.columns, self.sort, self.reverse, self.busy, width)

    def column_at(self, x: int) -> str | None:
        """The column key under content x (header clicks)."""
        return column_at(self.columns, x)

    def _line_key(self, y: int, width: int) -> tuple[object, ...]:
        """What line `y` shows: the header's text, a blank line, or a row's key in `_strips`
        ((pid, look, width, view, focus)); a line is drawn again only when it changed."""
        if y == 0:
            return ("header", self.header_text(width), self.busy)
        row = int(self.scroll_y) + y - 1
        if row >= len(self.shown):
            return ("blank", width)
        pid = self.shown[row]
        look = ("gone" if pid in self.gone else "new" if pid in self.new else "",
                pid in self.marks, bool(self._dragging and pid in self._dragging), row == self.cursor)
        return (pid, look, width, self.threads, self.has_focus)

    def _repaint(self) -> None:
        """Draw again the lines whose key changed since they were drawn, or whose row's
        drawing was dropped (its details changed), and no other: a refresh tick that adds a
        task below the screen draws the title and the scrollbar, not 38 unchanged rows.
        Anything that changes every row's look (style, width, view) drops `_strips`, and
        Textual's own repaints (scrolling, resizing) draw every line."""
        if not self.is_mounted or not self._painted:
            self.refresh()
            return
        width = self.size.width
        painted, strips = self._painted, self._strips
        for y in range(self.size.height):
            key = self._line_key(y, width)
            if key != painted.get(y) or (isinstance(key[0], int) and key not in strips):
                self.refresh(Region(0, y, width, 1))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        key = self._line_key(y, width)
        self._painted[y] = key
        if y == 0:
            if self.fetch.schedule():  # once per paint: keep the rows around fetched
                self.call_later(self._fetch_wanted)
            style = self._style("task-list--header")
            text = str(key[1])
            strip = Strip([Segment(text, style)], width)
            if self.busy:
                busy = self._style("task-list--busy")
                cut = len(text) - len(self.busy) - 2
                strip = Strip([Segment(text[:cut], style), Segment(text[cut:], style + busy)], width)
            return strip
        if key[0] == "blank":
            return Strip.blank(width, self._style(""))
        pid = key[0]
        assert isinstance(pid, int)
        self._need(pid)
        look = key[1]
        assert isinstance(look, tuple)
        marked = look[1]
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        cells = row_cells(self.columns, pid, self.details.get(pid))
        if self.tree_view and self._tree_prefix.get(pid):
            cells = [(self._tree_prefix[pid] + t if c.key == "cmd" else t, c) for t, c in cells]
        text = fit_line(cells, width, "● " if marked else "  ")
        style = self._style("")
        if look[0]:
            style += self._style(f"task-list--{look[0]}")
        if marked:
            style += self._style("task-list--marked")
        if look[2]:
            style += Style(italic=True)
        if look[3]:
            style += self._style("task-list--cursor")
        strip = Strip([Segment(text, style)], width)
        self._strips[key] = strip
        return strip
