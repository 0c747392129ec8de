"""The task list: the members of one cgroup (or its subtree), keyed to the user: `show`
(a refresh patched in, with highlights of the tasks that came and went), sort, filter, the
process tree, the cursor, marks and the selection a move takes. The rows, their details and
their drawing are `TaskLines`' (ctrtui/ui/widgets/tasklines.py).

Sorting by anything but PID and filtering need the details of every row: the missing ones
are fetched in a worker ("sorting…"), then the order is computed on the UI thread from caches
that make repeated work cheap: each column's order is kept until the members change, each
row's filter text is kept, and a query that grows narrows the previous result instead of the
whole list.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Iterable

from textual import events, on, work
from textual.binding import Binding

from ctrtui.model import EMPTY, HierarchyDiff, HierarchySnapshot, TaskInfo
from ctrtui.ui import gcfreeze
from ctrtui.ui.rows import (
    COLUMN_VALUE,
    Column,
    canonical_order,
    gather,
    haystack,
    patch_members,
    process_tree,
)
from ctrtui.ui.taskdetails import TaskDetails
from ctrtui.ui.widgets.tasklines import TaskLines

HIGHLIGHT_SECONDS = 3.0
"""How long tasks that appeared or left stay highlighted after a refresh."""


class TaskList(TaskLines, can_focus=True):
    """The sorted member list of one cgroup (or its subtree), with cursor and marks.

    Data comes down through `show()`; what the user does goes up as messages
    (`CursorMoved`, `MarksChanged`, `DragMoved`, `DragDropped`). The rows, their details and
    their drawing are `TaskLines`' (ctrtui/ui/widgets/tasklines.py).
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
        self.fetch.new_list()
        self._order.absent.clear()
        if infos:  # a tick's fresh details: only the rows whose details changed are drawn again
            self._absorb(self.fetch.changed(infos))
            self.fetch.fresh.update(infos)
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
        token = (self.fetch.generation, self.sort, self.reverse, self.filter, len(source))
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

    @work(thread=True, exclusive=True, group="task-view", name="task view", exit_on_error=False)
    def _compute_view(self, source: array[int], missing: list[int], token: tuple[object, ...]) -> None:
        """Fetch the details a sort or filter needs (thread worker). With them, work out
        every column's order and every row's filter text while at it: the next `s` or
        filter keystroke then finds them ready instead of doing ~30 ms of work."""
        got = TaskDetails.read(self.backend, missing)
        known = self.details

        def get(pid: int) -> TaskInfo | None:
            return got.get(pid) or known.get(pid)

        orders = {c.key: canonical_order(source, c.key, get, c.descending)
                  for c in self.columns if c.key in COLUMN_VALUE}
        hay = {p: haystack(p, get(p)) for p in source}
        self.post_message(self.ViewReady(missing, got, token, source, orders, hay))

    @on(TaskLines.ViewReady)
    def _view_ready(self, event: TaskLines.ViewReady) -> None:
        event.stop()
        self._absorb(event.infos)
        self.fetch.fresh.update(event.infos)
        self._order.take(event.pids, event.infos, event.source, event.orders, event.hay)
        if event.token == self._view_token:
            self.recompute()
        gcfreeze.settle(len(event.infos))

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
