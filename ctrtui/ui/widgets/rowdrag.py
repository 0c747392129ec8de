"""Dragging rows out of a list: the gesture and the two messages it posts.

There is no drag and drop in Textual: a press over a row is remembered; a move past
`DRAG_THRESHOLD` cells with the button down captures the mouse and starts the drag
(`DragMoved` on every move); the release ends it (`DragDropped`). The app finds the drop
target under the pointer. `TaskList` is the only user; it says which PIDs a press drags.
"""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widget import Widget

DRAG_THRESHOLD = 2
"""Cells the pointer must travel with the button down before a press becomes a drag."""


class RowDrag(Widget):
    """The drag gesture of a list of task rows (a base of `TaskList`).

    Put it after the widget's main base (`class TaskList(CachedStyles, ScrollView,
    RowDrag)`): Textual takes a widget's inherited DEFAULT_CSS from its first DOMNode base
    only, so `RowDrag` first would drop ScrollView's styles (its scrolling)."""

    class _Drag(Message):
        """Dragged tasks and where the pointer is (`screen_x`, `screen_y`). Not sent itself:
        an `@on` for it would catch both kinds below."""

        def __init__(self, pids: tuple[int, ...], screen_x: int, screen_y: int) -> None:
            self.pids = pids
            self.screen_x = screen_x
            self.screen_y = screen_y
            super().__init__()

    class DragMoved(_Drag):
        """Tasks are being dragged; the pointer is at (`screen_x`, `screen_y`)."""

    class DragDropped(_Drag):
        """Dragged tasks were released at (`screen_x`, `screen_y`)."""

    _press: tuple[int, int, int] | None = None
    """(screen x, screen y, PID) of a press on a row that may become a drag."""
    _dragging: tuple[int, ...] | None = None
    """The PIDs being dragged (None: no drag)."""

    def drag_pids(self, pid: int) -> tuple[int, ...]:
        """The PIDs a drag that started on `pid`'s row carries (just `pid` here)."""
        return (pid,)

    def press(self, screen_x: int, screen_y: int, pid: int) -> None:
        """The button went down over the row of `pid`: a drag may start from here."""
        self._press = (screen_x, screen_y, pid)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._press is None:
            return
        x0, y0, pid = self._press
        if self._dragging is None:
            if abs(event.screen_x - x0) + abs(event.screen_y - y0) < DRAG_THRESHOLD:
                return
            self._dragging = self.drag_pids(pid)
            self.capture_mouse()
            self.refresh()
        self.post_message(self.DragMoved(self._dragging, event.screen_x, event.screen_y))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        dragging, self._press, self._dragging = self._dragging, None, None
        if dragging is None:
            return
        self.release_mouse()
        self.refresh()
        self.post_message(self.DragDropped(dragging, event.screen_x, event.screen_y))

    @property
    def dragging(self) -> tuple[int, ...] | None:
        """The PIDs being dragged, or None."""
        return self._dragging

    def cancel_drag(self) -> None:
        """End a drag without a drop (escape)."""
        if self._dragging is not None:
            self.release_mouse()
        self._press = self._dragging = None
        self.refresh()
