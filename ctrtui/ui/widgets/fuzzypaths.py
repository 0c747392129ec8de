"""The search field over the list of best matching cgroup paths (target picker, go-to)."""

from __future__ import annotations

import time
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content, Span
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ctrtui.ui.fuzzy import FuzzyMatcher
from ctrtui.ui.untrusted import LiteralInput


def highlight(query: str, text: str, style: str = "bold underline $accent") -> Content:
    """`text` (a shown form: plain text, never markup) as Content with the characters
    `FuzzyMatcher.positions` matched for `query` styled (one span per run)."""
    spans: list[Span] = []
    for i in FuzzyMatcher.positions(query, text):
        if spans and spans[-1].end == i:
            spans[-1] = Span(spans[-1].start, i + 1, style)
        else:
            spans.append(Span(i, i + 1, style))
    return Content(text, spans)


def shorten(prompt: Content, room: int) -> Content:
    """A long path drawn in `room` cells: its end kept (it says the most), cut at a `/` where
    one is near, with one `…` for what is left out (never `...` next to a dot of the name);
    the start of a long last part is kept too (libpod-<id>.scope vs libpod-conmon-<id>.scope)."""
    p = prompt.plain
    start = p.rfind("/") + 1
    if len(p) - start + 2 > room:  # the last part alone does not fit: its head and its tail
        head = (room - 3) // 2
        return Content.assemble("…/", prompt[start:start + head], "…", prompt[len(p) - (room - 3 - head):])
    cut = len(p) - room + 1  # keep p[cut:] after "…"
    slash = p.find("/", cut)
    if slash != -1:
        cut = slash  # "…/ssh.service", not "….slice/ssh.service"
    return Content.assemble("…", prompt[cut:])


class FuzzyPaths(Vertical):
    """An Input over an OptionList of the best matching paths (shared by TargetPicker
    and GoToCgroup). `up`/`down`/`pageup`/`pagedown` in the Input move the highlight."""

    DEFAULT_CSS = """
    FuzzyPaths { height: 1fr; }
    FuzzyPaths > Input { margin: 0 0 0 0; }
    FuzzyPaths > .fuzzy-count { color: $text-muted; padding: 0 1; height: 1; width: 1fr; }
    FuzzyPaths > OptionList { height: 1fr; border: none; padding: 0; }
    """
    LIMIT = 60
    """How many matches the list shows at most."""

    def __init__(self, matcher: FuzzyMatcher, counts: dict[str, int] | None = None,
                 placeholder: str = "type to search cgroup paths", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.matcher = matcher
        self.counts = counts or {}
        self.placeholder = placeholder
        self.paths: list[str] = []
        """The paths listed now, best first."""
        self.total = 0
        self.last_search_ms = 0.0
        """How long the last keystroke's search + list update took (milliseconds)."""

    def compose(self) -> ComposeResult:
        yield LiteralInput(placeholder=self.placeholder, id="fuzzy-input")
        yield Label("", classes="fuzzy-count")
        yield OptionList(id="fuzzy-options")

    def on_mount(self) -> None:
        self.query_one(OptionList).can_focus = False
        self.refilter("")

    def refilter(self, query: str) -> None:
        t0 = time.perf_counter()
        paths, total = self.matcher.search(query, self.LIMIT)
        self.paths, self.total = paths, total
        ol = self.query_one(OptionList)
        room = (ol.scrollable_content_region.width or 60) - 7
        options = []
        for path in paths:
            p = self.matcher.shown(path)
            prompt = highlight(query, p)
            if len(p) > room > 10:
                # `HIER:` of a `HIER:/path` stays whole: which hierarchy is the first thing to see
                ref = getattr(self.matcher, "ref", None)
                keep = len(self.matcher.shown(ref(path)[0])) + 1 if ref is not None else 0
                if room - keep > 10:
                    prompt = Content.assemble(prompt[:keep], shorten(prompt[keep:], room - keep))
                else:
                    prompt = shorten(prompt, room)
            n = self.counts.get(path)
            gutter = Content.styled(f"{n:>5} " if n else "      ", "$text-muted")
            options.append(Option(Content.assemble(gutter, prompt)))
        ol.set_options(options)
        ol.highlighted = 0 if options else None
        word = "match" if total == 1 else "matches"
        shown = f"{len(paths)} of {total} {word}" if total > len(paths) else f"{total} {word}"
        tasks = "  (left: tasks inside)" if self.counts else ""
        self.query_one(".fuzzy-count", Label).update(Content(f"{shown} in {self.matcher.size} cgroups{tasks}"),
                                                     layout=False)
        self.last_search_ms = (time.perf_counter() - t0) * 1000

    def on_resize(self) -> None:
        self.refilter(self.query_one(Input).value)

    @property
    def highlighted(self) -> str | None:
        i = self.query_one(OptionList).highlighted
        return self.paths[i] if i is not None and 0 <= i < len(self.paths) else None

    @on(Input.Changed, "#fuzzy-input")
    def _changed(self, event: Input.Changed) -> None:
        self.refilter(event.value)

    def move(self, action: str) -> None:
        ol = self.query_one(OptionList)
        getattr(ol, f"action_{action}")()


LIST_BINDINGS = [
    Binding("up", "list('cursor_up')", "Up", show=False, priority=True),
    Binding("down", "list('cursor_down')", "Down", show=False, priority=True),
    Binding("pageup", "list('page_up')", "Page up", show=False, priority=True),
    Binding("pagedown", "list('page_down')", "Page down", show=False, priority=True),
]
