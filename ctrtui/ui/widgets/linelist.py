"""A scrolling list of one-line Content rows (Line API), used by the preview, confirm and move log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.segment import Segment
from textual.binding import Binding
from textual.cache import LRUCache
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LineList(ScrollView, can_focus=True):
    """A scrolling list of one-line Content rows drawn with the Line API: only the rows on
    screen are rendered, so tens of thousands of rows stay instant. Rows longer than the
    width wrap, continuing under their first non-blank character."""

    DEFAULT_CSS = """
    LineList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-gutter: stable;
        background: $surface;
        &:focus { background-tint: $foreground 5%; }
    }
    """
    BINDINGS = [
        Binding("up", "scroll_up", "Up", show=False),
        Binding("down", "scroll_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
    ]

    def __init__(self, lines: Sequence[Content] = (), hang: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hang = hang
        """Indent of the continuation rows of a wrapped row that has no indent of its own
        (an indented row continues under its first character)."""
        self._lines: list[Content] = list(lines)
        self._rows: list[Content] = []
        self._width = 0
        self._strips: LRUCache[tuple[int, int], Strip] = LRUCache(1024)

    @property
    def lines(self) -> list[Content]:
        """The rows as given (before wrapping)."""
        return self._lines

    @property
    def plain(self) -> str:
        """All rows as plain text, one per line (what tests read)."""
        return "\n".join(c.plain for c in self._lines)

    def set_lines(self, lines: Sequence[Content]) -> None:
        """Replace the rows and scroll to the top."""
        self._lines = list(lines)
        self._reflow(force=True)
        self.scroll_to(0, 0, animate=False)

    def _reflow(self, force: bool = False) -> None:
        width = self.scrollable_content_region.width or self.size.width
        if width <= 0:
            width = 80
        if width == self._width and not force:
            return
        self._width = width
        rows: list[Content] = []
        for line in self._lines:
            if line.cell_length <= width:
                rows.append(line)
                continue
            indent = min(len(line.plain) - len(line.plain.lstrip(" ")), width // 2)
            hang = indent or min(self.hang, width // 4)
            first, *rest = line[indent:].wrap(width - indent)
            rows.append(first.pad_left(indent))
            if rest:
                tail = line[indent + len(first.plain):].plain.lstrip(" ")
                tail_content = line[len(line.plain) - len(tail):] if tail else Content("")
                rows.extend(part.pad_left(hang) for part in tail_content.wrap(width - hang))
        self._rows = rows
        self._strips.clear()
        self.virtual_size = Size(width, len(rows))
        self.refresh()

    def on_resize(self) -> None:
        self._reflow()

    def notify_style_update(self) -> None:
        """Styles changed (focus, hover, theme): the cached rows carry the old background."""
        super().notify_style_update()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if width > 0 and width != self._width:
            # wrapped for another width (a scrollbar came or went since): rows cut at the
            # right edge would lose characters, so wrap again for this one
            self.call_later(self._reflow)
        base = self.get_visual_style()
        if index >= len(self._rows):
            return Strip.blank(width, base.rich_style)
        key = (index, width)
        strip = self._strips.get(key)
        if strip is None:
            parse = self.app.stylesheet.parse_style
            segments = [
                Segment(text, (base + style).rich_style)
                for text, style in self._rows[index].render(base, end="", parse_style=parse)
            ]
            strip = Strip(segments).crop_extend(0, width, base.rich_style)
            self._strips[key] = strip
        return strip
