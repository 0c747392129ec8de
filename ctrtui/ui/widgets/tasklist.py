"""The task list: the members of one cgroup as a Line-API `ScrollView`.

Rows are drawn from a sorted `array('i')` of PIDs with `render_line`, so 100k rows cost what
the ~30 visible rows cost; drawn rows are kept as Strips in an LRU cache. Details (user,
state, cpu, rss, cmdline) are fetched in a thread worker for the rows on screen and one
screen above and below (so the next page is ready), and cached. Sorting by anything but PID
and filtering need the details of every row: the missing ones are fetched in a worker
("sorting…"), then the order is computed on the UI thread from caches that make repeated
work cheap: each column's order is kept until the members change, each row's filter text
is kept, and a query that grows narrows the previous result instead of the whole list.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget

from ctrtui.model import EMPTY, HierarchyDiff, HierarchySnapshot, TaskInfo, contains
from ctrtui.sources.base import Reader
from ctrtui.text import display, tail
from ctrtui.ui import heap
from ctrtui.ui.rows import (
    COLUMN_VALUE,
    Column,
    RowOrder,
    canonical_order,
    column_at,
    columns_for,
    fit_line,
    gather,
    haystack,
    header_line,
    patch_members,
    process_tree,
    row_cells,
)
from ctrtui.ui.styles import CachedStyles
from ctrtui.ui.widgets.rowdrag import RowDrag

HIGHLIGHT_SECONDS = 3.0
"""How long tasks that appeared or left stay highlighted after a refresh."""
DETAIL_CHUNK = 5000
"""PIDs per `task_details` call when a sort or filter needs every row's details."""
PREFETCH_PAGES = 1
"""Screens of rows above and below the visible ones whose details are fetched too."""


class TaskList(CachedStyles, ScrollView, RowDrag, can_focus=True):
    """The sorted member list of one cgroup (or its subtree), with cursor and marks.

    Data comes down through `show()`; what the user does goes up as messages
    (`CursorMoved`, `DragMoved`, `DragDropped`).
    """

    BINDINGS = [
        Binding("space", "toggle_mark", "Mark", tooltip="Mark or unmark the task under the cursor", id="mark"),
        Binding("a", "mark_all", "Mark all", show=False, tooltip="Mark every task shown", id="mark-all"),
        Binding("A", "clear_marks", "Clear marks", show=False, tooltip="Unmark every task", id="clear-marks"),
        Binding("s", "cycle_sort", "Sort", tooltip="Sort by the next column", id="sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, tooltip="Reverse the sort order", id="reverse-sort"),
        Binding("v", "toggle_tree", "Tree", show=False,
                tooltip="Sorted list or process tree (parent/child, threads under their process)", id="task-tree"),
        Binding("up,k", "cursor(-1)", "Up", show=False, tooltip="Cursor to the previous task", id="task-up"),
        Binding("down,j", "cursor(1)", "Down", show=False, tooltip="Cursor to the next task", id="task-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, tooltip="One screen up", id="task-page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, tooltip="One screen down", id="task-page-down"),
        Binding("home", "edge(0)", "First", show=False, tooltip="First task", id="task-first"),
        Binding("end", "edge(1)", "Last", show=False, tooltip="Last task", id="task-last"),
    ]

    COMPONENT_CLASSES = {
        "task-list--header", "task-list--cursor", "task-list--marked", "task-list--new",
        "task-list--gone", "task-list--dim", "task-list--busy",
    }

    DEFAULT_CSS = """
    TaskList { overflow-x: hidden; border-top: hkey $panel-lighten-2; border-title-align: left; }
    TaskList:focus { border-top: hkey $accent; }
    TaskList > .task-list--header { background: $panel; text-style: bold; }
    TaskList > .task-list--cursor { background: $block-cursor-blurred-background; }
    TaskList:focus > .task-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    TaskList > .task-list--marked { color: $warning; text-style: bold; }
    TaskList > .task-list--new { background: $success 30%; }
    TaskList > .task-list--gone { color: $error; text-style: strike; }
    TaskList > .task-list--dim { color: $text-muted; }
    TaskList > .task-list--busy { color: $warning; text-style: bold italic; }
    """

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
        self.details: dict[int, TaskInfo] = {}
        """PID -> details (possibly from an earlier refresh)."""
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
        self._fresh: set[int] = set()
        self._inflight: set[int] = set()
        self._want: set[int] = set()
        self._fetch_scheduled = False
        self._generation = 0
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

    # ------------------------------------------------------------------ data in

    @property
    def columns(self) -> tuple[Column, ...]:
        return columns_for(self.threads)

    def show(self, hs: HierarchySnapshot, path: str | None, threads: bool | None = None,
             recursive: bool | None = None, diff: HierarchyDiff | None = None,
             infos: dict[int, TaskInfo] | None = None) -> None:
        """Show the members of `path` in `hs`. The same cgroup again (a refresh) keeps the
        cursor on its PID, keeps marks of tasks still there and highlights the changes; with
        the refresh's `diff`, a subtree view is patched rather than gathered again, and an
        unchanged list keeps its order. `infos`: details fetched with the snapshot (fresh)."""
        if threads is not None and threads != self.threads:
            self.threads = threads
            self.marks.clear()
            if self.sort in ("tgid", "thr"):
                self.sort = self.columns[1].key
        if recursive is not None:
            self.recursive = recursive
        same = path == self.path and self.hs is not None and hs.name == self.hs.name
        purged = same and self._purge_highlights()  # drawn with this refresh, not on their own
        old, old_hs = self.base, self.hs
        self.hs, self.path = hs, path
        patch = self._patch(old_hs, hs, diff) if same and diff is not None else None
        if patch is None:
            self._listings = None
        came_went: tuple[set[int], set[int]] | None = None
        if patch is not None:
            base = patch[0]
            came_went = (patch[1], patch[2])
        else:
            base = gather(hs, path, self.threads, self.recursive) if path is not None else EMPTY
            if same and base is not old and base == old:
                base = old  # the same members: keep the list (and its sort caches) as it is
        now = time.monotonic()
        if same and old is not base and (came_went is not None or old != base):
            if came_went is None:
                before, after = set(old), set(base)
                came_went = after - before, before - after
            came, went = came_went
            for pid in came:
                self.new[pid] = now + HIGHLIGHT_SECONDS
            for pid in went:
                self.gone[pid] = now + HIGHLIGHT_SECONDS
                self.marks.discard(pid)
            if came or went:
                self.set_timer(HIGHLIGHT_SECONDS + self.highlight_grace + 0.05, self._expire_late)
        elif not same:
            self.new.clear()
            self.gone.clear()
            if old_hs is None or old_hs.name != hs.name:
                self.marks.clear()
            self.cursor = 0
            self._last_cursor_pid = None
            self.awaited = None
        unchanged = same and base is old
        self.base = base
        if self.marks:
            self._prune_marks()
        self._generation += 1
        self._fresh.clear()
        self._order.absent.clear()
        if infos:  # a tick's fresh details: only the rows whose details changed are drawn again
            self._absorb({p: i for p, i in infos.items() if self.details.get(p) != i})
            self._fresh.update(infos)
        if unchanged and not purged and self.shown is not EMPTY and not self.busy:
            self._update_title()
            self._repaint()
            return
        self.recompute()

    def _patch(self, old_hs: HierarchySnapshot | None, hs: HierarchySnapshot,
               diff: HierarchyDiff) -> tuple[array[int], set[int], set[int]] | None:
        """(members, came, went) of the shown subtree in `hs`, from the old members and the
        diff; None when it has to be gathered again (own members only: that is cheap)."""
        path = self.path
        if old_hs is None or path is None or not self.recursive:
            return None
        patched = patch_members(self.base, old_hs, hs, diff, path, self.threads, self._listings)
        if patched is not None and not self.threads:
            self._listings = patched[3]
        return patched[:3] if patched is not None else None

    def set_view(self, threads: bool | None = None, recursive: bool | None = None) -> None:
        """Switch threads/processes or subtree view for the same cgroup."""
        if self.hs is not None:
            path = self.path
            self.path = None  # not "the same list": no highlights
            self.show(self.hs, path, threads, recursive)

    def _purge_highlights(self) -> bool:
        """Forget highlights whose time is up (nothing is drawn here); True when a
        departed task stopped fading out (the rows change)."""
        now = time.monotonic()
        had_gone = any(t <= now for t in self.gone.values())
        if had_gone:
            self.gone = {p: t for p, t in self.gone.items() if t > now}
        if any(t <= now for t in self.new.values()):
            self.new = {p: t for p, t in self.new.items() if t > now}
        return had_gone

    def _expire(self, overdue: float = 0.0) -> None:
        """End the highlights whose time is up, if a refresh has not done it already (then
        nothing is drawn). `overdue`: only if one has been due for that long."""
        now = time.monotonic() - overdue
        if not any(t <= now for t in self.new.values()) and not any(t <= now for t in self.gone.values()):
            return
        if self._purge_highlights():
            self.recompute()
        else:
            self._repaint()

    def _expire_late(self) -> None:
        """A highlight's own timer: ends the highlights the refresh ticks did not end in
        time (paused, or a slow tick). Those that came with a later tick and are just due
        are left to the next tick: this timer fires between two ticks, and ending them
        here would draw the list a second time in that interval."""
        self._expire(self.highlight_grace)

    def expire_highlights(self) -> None:
        """A refresh tick found nothing new: end the highlights that are due in this frame."""
        self._expire()

    def rows_source(self) -> array[int]:
        """`base` plus the departed tasks still fading out, sorted by PID."""
        if not self.gone:
            return self.base
        return array("i", sorted(set(self.base).union(self.gone)))

    # ------------------------------------------------------------------ sort and filter

    def recompute(self) -> None:
        """Rebuild `shown` from the rows, the sort and the filter. When every row's details
        are known this runs here and now; else the missing details are fetched in a worker
        first (the list shows "sorting…"/"filtering…" meanwhile)."""
        source = self.rows_source()
        self._order.use(source)
        if self.sort == "pid" and not self.filter and not self.tree_view:
            order = source if not self.reverse else array("i", reversed(source))
            self.busy = None
            self._set_shown(order)
            return
        token = (self._generation, self.sort, self.reverse, self.filter, len(source))
        self._view_token = token
        missing = self._order.missing(source, self.details)
        if self.tree_view and not missing:  # the tree needs every row's parent
            absent = self._order.absent  # gone before their details were read: not asked again
            missing = [p for p in source if p not in self.details and p not in absent]
        if not missing:
            self.busy = None
            self._set_shown(self._view(source))
            return
        self.busy = "filtering…" if self.filter and self.sort == "pid" else "sorting…"
        if not self.shown or self.shown is EMPTY:
            self._set_shown(source)
        else:
            self._update_title()
            self._repaint()
        self._compute_view(source, missing, token)

    def _column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def _view(self, source: array[int]) -> array[int]:
        """The rows in display order (every row's details known)."""
        order = self._order.view(source, self.columns, self.sort, self.reverse, self.filter, self.details)
        if not self.tree_view:
            return order
        tree, self._tree_prefix = process_tree(order, self.details)
        self._strips.clear()
        return tree

    @work(thread=True, exclusive=True, group="task-view", exit_on_error=False)
    def _compute_view(self, source: array[int], missing: list[int], token: tuple[object, ...]) -> None:
        """Fetch the details a sort or filter needs (thread worker). With them, work out
        every column's order and every row's filter text while at it: the next `s` or
        filter keystroke then finds them ready instead of doing ~30 ms of work."""
        got: dict[int, TaskInfo] = {}
        for i in range(0, len(missing), DETAIL_CHUNK):
            got.update(self.backend.task_details(missing[i:i + DETAIL_CHUNK]))
        known = self.details

        def get(pid: int) -> TaskInfo | None:
            return got.get(pid) or known.get(pid)

        orders = {c.key: canonical_order(source, c.key, get, c.descending)
                  for c in self.columns if c.key in COLUMN_VALUE}
        hay = {p: haystack(p, get(p)) for p in source}
        self.post_message(self.ViewReady(missing, got, token, source, orders, hay))

    @on(ViewReady)
    def _view_ready(self, event: ViewReady) -> None:
        event.stop()
        self._absorb(event.infos)
        self._fresh.update(event.infos)
        self._order.take(event.pids, event.infos, event.source, event.orders, event.hay)
        if event.token == self._view_token:
            self.recompute()
        heap.settle(len(event.infos))

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

    def _set_shown(self, order: array[int]) -> None:
        pid = self._last_cursor_pid
        if self.awaited is not None and self.is_live(self.awaited):  # it came (back): the cursor follows it
            pid, self.awaited = self.awaited, None
            self._last_cursor_pid = pid
        self.shown = order
        if pid is not None:
            idx = self.index_of(pid)
            if idx is not None:
                self.cursor = idx
        self.cursor = max(0, min(self.cursor, len(order) - 1))
        if self.cursor_pid is not None:
            self._last_cursor_pid = self.cursor_pid
        self._set_rows(len(order))
        self._scroll_cursor_into_view()
        self._update_title()
        self._repaint()
        self._announce_cursor()

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

    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        """Sort by column `key` (default direction: numbers biggest first)."""
        col = self._column(key)
        if col is None:
            return
        self.sort = key
        self.reverse = col.descending if reverse is None else reverse
        self.recompute()

    def set_filter(self, text: str) -> None:
        """Show only rows whose PID, command line or user contains `text`."""
        if text != self.filter:
            self.filter = text
            self.recompute()

    # ------------------------------------------------------------------ selection

    @property
    def cursor_pid(self) -> int | None:
        if 0 <= self.cursor < len(self.shown):
            return int(self.shown[self.cursor])
        return None

    def is_live(self, pid: int) -> bool:
        """A current member (not a departed one still fading out)."""
        return contains(self.base, pid)

    def _prune_marks(self) -> None:
        """Forget marks of tasks no longer in the hierarchy shown (those of the list shown
        are looked up in it; any others in one pass over the snapshot)."""
        away = {p for p in self.marks if not self.is_live(p)}
        if not away or self.hs is None:
            return
        found: set[int] = set()
        for c in self.hs.containers.values():
            found |= away.intersection(c.members(self.threads))
            if len(found) == len(away):
                return
        self.marks -= away - found

    def marked_here(self) -> int:
        """How many marked tasks the list shown holds."""
        return sum(1 for p in self.marks if self.is_live(p))

    def selection(self) -> list[int]:
        """The marked tasks (sorted; those of other cgroups of the hierarchy too), else the
        task under the cursor; never departed ones."""
        if self.marks:
            self._prune_marks()
            return sorted(self.marks)
        pid = self.cursor_pid
        return [pid] if pid is not None and self.is_live(pid) else []

    def select_pid(self, pid: int) -> bool:
        """Put the cursor on `pid` (clearing a filter that hides it). False if not a member."""
        if not self.is_live(pid):
            return False
        idx = self.index_of(pid)
        if idx is None and self.filter:
            self.filter = ""
            self._last_cursor_pid = pid
            self.recompute()
            idx = self.index_of(pid)
        if idx is None:
            self._last_cursor_pid = pid
            return True
        self.move_cursor(idx)
        return True

    def follow(self, pid: int) -> None:
        """Put the cursor on `pid` now when it is listed, else as soon as it arrives in this
        cgroup (an undo brings it back with the next refresh), unless another cgroup is
        shown first."""
        if self.is_live(pid) and self.select_pid(pid):
            self.awaited = None
        else:
            self.awaited = pid

    def next_live(self, leaving: Iterable[int]) -> int | None:
        """The task the cursor should go to when the tasks `leaving` go: the next one below
        the cursor that stays, else the nearest above (None: none stays)."""
        gone = set(leaving)
        shown = self.shown
        for i in [*range(self.cursor + 1, len(shown)), *range(self.cursor - 1, -1, -1)]:
            pid = int(shown[i])
            if pid not in gone and self.is_live(pid):
                return pid
        return None

    def move_cursor(self, index: int) -> None:
        if not self.shown:
            return
        index = max(0, min(index, len(self.shown) - 1))
        self.cursor = index
        self._last_cursor_pid = self.shown[index]
        self._scroll_cursor_into_view()
        self.refresh()
        self._announce_cursor()

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

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        rows = max(1, self.scrollable_content_region.height - 2)
        self.move_cursor(self.cursor + direction * rows)

    def action_edge(self, end: int) -> None:
        self.move_cursor(len(self.shown) - 1 if end else 0)

    def action_toggle_mark(self) -> None:
        """Mark or unmark the cursor row, then step down."""
        pid = self.cursor_pid
        if pid is None or not self.is_live(pid):
            return
        if pid in self.marks:
            self.marks.discard(pid)
        else:
            self.marks.add(pid)
        self.move_cursor(self.cursor + 1)
        self._marks_changed()

    def action_mark_all(self) -> None:
        self.marks.update(p for p in self.shown if self.is_live(p))
        self._marks_changed()

    def action_clear_marks(self) -> None:
        self.marks.clear()
        self._marks_changed()

    def _marks_changed(self) -> None:
        self._update_title()
        self.refresh()
        self.post_message(self.MarksChanged())

    def action_cycle_sort(self) -> None:
        keys = [c.key for c in self.columns]
        self.set_sort(keys[(keys.index(self.sort) + 1) % len(keys)] if self.sort in keys else "pid")

    def action_reverse_sort(self) -> None:
        self.set_sort(self.sort, not self.reverse)

    def action_toggle_tree(self) -> None:
        """Sorted list <-> process tree (siblings keep the sort)."""
        self.tree_view = not self.tree_view
        self._tree_prefix = {}
        self._strips.clear()
        self.recompute()
        self.notify("Process tree: each task under its parent" if self.tree_view else "Sorted list", timeout=2)

    # ------------------------------------------------------------------ details

    def _need(self, pid: int) -> None:
        if pid in self._fresh or pid in self._inflight:
            return
        self._want.add(pid)
        if not self._fetch_scheduled:
            self._fetch_scheduled = True
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
        self._fetch_scheduled = False
        if self.shown:
            absent, details = self._order.absent, self.details
            self._want.update(p for p in self.visible_pids(PREFETCH_PAGES) if p not in absent and p not in details)
        pids = tuple(sorted(self._want - self._inflight - self._fresh))
        self._want.clear()
        if pids:
            self._inflight.update(pids)
            self._fetch_details(pids, self._generation)

    @work(thread=True, group="task-details", exit_on_error=False)
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
        self._inflight.difference_update(event.pids)
        self._take_details(event.pids, event.infos, event.generation)

    def take_details(self, infos: dict[int, TaskInfo]) -> None:
        """Fresh details of rows on screen read with a refresh tick: what changed is
        redrawn, nothing else: only the lines of the rows whose details changed (an idle
        list draws nothing)."""
        changed = {p: i for p, i in infos.items() if self.details.get(p) != i}
        self._fresh.update(infos)
        if not changed:
            return
        self._absorb(changed)
        self._repaint()
        if self.cursor_pid in changed:
            self._announced = object()
            self._announce_cursor()

    def _take_details(self, pids: tuple[int, ...], infos: dict[int, TaskInfo], generation: int) -> None:
        changed = {p: i for p, i in infos.items() if self.details.get(p) != i}
        self._absorb(changed)
        if generation == self._generation:
            self._fresh.update(pids)
        dropped = set()
        for pid in pids:
            if pid not in infos and pid not in self.gone:
                if self.details.pop(pid, None) is not None:
                    dropped.add(pid)
                if generation == self._generation:
                    self._order.absent.add(pid)
        if dropped:
            self._forget_strips(dropped)
        if dropped or changed:
            self._repaint()  # the lines of those rows on screen, if any
        if self.cursor_pid in changed:
            self._announced = object()
            self._announce_cursor()

    def forget_details(self, keep: Iterable[int] | None = None) -> None:
        """Drop cached details (all, or all but `keep`), e.g. after a move."""
        if keep is None:
            self.details.clear()
        else:
            k = set(keep)
            self.details = {p: i for p, i in self.details.items() if p in k}
        self._fresh.clear()
        self._order.clear()
        self._strips.clear()
        self.refresh()

    # ------------------------------------------------------------------ drawing

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
            if not self._fetch_scheduled:  # once per paint: keep the rows around fetched
                self._fetch_scheduled = True
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

    # ------------------------------------------------------------------ mouse: click, sort, drag

    def on_mouse_down(self, event: events.MouseDown) -> None:
        offset = event.get_content_offset(self)
        if offset is None or event.button not in (0, 1):
            return
        if offset.y == 0:
            key = self.column_at(offset.x)
            if key is not None:
                if key == self.sort:
                    self.set_sort(key, not self.reverse)
                else:
                    self.set_sort(key)
            return
        row = int(self.scroll_y) + offset.y - 1
        if not 0 <= row < len(self.shown):
            return
        self.focus()
        self.move_cursor(row)
        pid = self.shown[row]
        if self.is_live(pid):
            self.press(event.screen_x, event.screen_y, pid)

    def drag_pids(self, pid: int) -> tuple[int, ...]:
        """A drag from a marked row carries every marked task (`selection`); from another
        row, that task alone."""
        return tuple(self.selection()) if pid in self.marks else (pid,)
