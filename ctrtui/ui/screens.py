"""The modal screens the main app pushes: target picker, confirm, move log, go-to, find.

`TargetPicker` fuzzy-searches every cgroup path of one hierarchy and shows, for the
highlighted path, the engine's plan (per PID: would move / already there / refused with the
errno, the reason and what to do). Planning runs in an exclusive thread worker, debounced,
so typing stays smooth. The matcher (`FuzzyMatcher`) is plain Python and fast on 10,000
paths: each keystroke filters with compiled regular expressions (C loops, no Python per
path) and ranks in tiers instead of scoring every path.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from itertools import compress
from typing import Any, Callable, Iterable, Iterator, Sequence

from rich.segment import Segment
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Horizontal, Vertical
from textual.content import Content, Span
from textual.geometry import Size
from textual.message import Message
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Button, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ctrtui.model import CgroupRef, HierarchySnapshot, Snapshot
from ctrtui.text import display, scrub
from ctrtui.ui.safe import LiteralInput, content, message

__all__ = [
    "ConfirmMove", "FindPid", "FuzzyMatcher", "GoToCgroup", "LineList", "MoveLog",
    "SwitchHierarchy", "TargetPicker", "plan_lines", "report_lines",
]

# ------------------------------------------------------------------------------ matcher

_WORD = re.compile(r"[^/\-_.@: ]+")
_SEP_CLASS = r"[/\-_.@:]"


def _subsequence(q: str, stop: str = "") -> str:
    """A regex for `q` as a subsequence without backtracking: `a[^b]*b[^c]*c`
    (`stop` adds characters a gap may not cross, e.g. `/` to stay in one segment)."""
    parts = []
    for i, c in enumerate(q):
        parts.append(re.escape(c))
        if i + 1 < len(q):
            parts.append(f"[^{re.escape(q[i + 1])}{re.escape(stop)}]*")
    return "".join(parts)


class FuzzyMatcher:
    """Subsequence search over many strings (cgroup paths), best matches first.

    A query matches a path when its characters appear in order (case-insensitive, spaces
    ignored). Matches are ranked in tiers, shorter paths first within a tier:
    the last segment equals the query; the last segment starts with it; it starts a word of
    the last segment; it is inside the last segment; it starts a segment or word anywhere;
    it is a substring anywhere; it spells the initials of the words (`ssc` ->
    `system.slice/cron`); it is a subsequence of the last segment; any subsequence.
    Consecutive characters and segment starts therefore rank higher.

    Narrowing a query reuses the previous query's matches, so typing gets cheaper per key.

    The search runs over the shown form of each item (`ctrtui.text.display`: `\\x1b` for an
    ESC, `\\xff` for a byte that is not UTF-8), so what is typed is matched against what is
    seen; results are the items themselves (the exact names). `shown(item)` gives the form.
    """

    def __init__(self, items: Iterable[str]) -> None:
        shown = {s: display(s) for s in set(items)}
        uniq = sorted(shown, key=lambda s: (len(shown[s]), shown[s]))
        self._orig: dict[str, list[str]] = {}
        for s in uniq:
            self._orig.setdefault(shown[s].lower(), []).append(s)
        self._lower: list[str] = list(self._orig)
        self._base = {s: s.rsplit("/", 1)[-1] for s in self._lower}
        self._initials = {s: "".join(w[0] for w in _WORD.findall(s)) for s in self._lower}
        self._by_base: dict[str, list[str]] = {}
        for s in self._lower:
            self._by_base.setdefault(self._base[s], []).append(s)
        self._cache: dict[str, list[str]] = {}
        self.size = len(uniq)
        """How many distinct strings are searched."""

    @staticmethod
    def _normal(query: str) -> str:
        return query.lower().replace(" ", "")

    def _matched(self, q: str) -> list[str]:
        hit = self._cache.get(q)
        if hit is not None:
            return hit
        pool = self._lower
        for k in range(len(q) - 1, 0, -1):
            prev = self._cache.get(q[:k])
            if prev is not None:
                pool = prev
                break
        matched = list(filter(re.compile(_subsequence(q)).search, pool))
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[q] = matched
        return matched

    def search(self, query: str, limit: int = 100) -> tuple[list[str], int]:
        """The best `limit` matches of `query`, and how many match in all."""
        q = self._normal(query)
        if not q:
            return self._expand(self._lower[:limit], limit), self.size
        matched = self._matched(q)
        e = re.escape(q)
        # the substring tiers only look at paths holding the query as a substring: one pass
        sub = matched if len(q) == 1 else list(filter(re.compile(e).search, matched))
        base = self._base.__getitem__

        def bases() -> Iterator[str]:
            return map(base, sub)

        tiers: list[Callable[[], Iterable[str]]] = [
            lambda: self._by_base.get(q, ()),
            lambda: compress(sub, map(re.compile(e).match, bases())),
            lambda: compress(sub, map(re.compile(f"[-_.@:]{e}").search, bases())),
            lambda: compress(sub, map(re.compile(e).search, bases())),
            lambda: filter(re.compile(f"{_SEP_CLASS}{e}").search, sub),
            lambda: sub,
            lambda: compress(matched, map(re.compile(_subsequence(q)).search,
                                          map(self._initials.__getitem__, matched))),
            lambda: compress(matched, map(re.compile(_subsequence(q, "/") + "[^/]*$").search, matched)),
            lambda: matched,
        ]
        out: list[str] = []
        seen: set[str] = set()
        for tier in tiers:
            for s in tier():
                if s not in seen:
                    seen.add(s)
                    out.append(s)
                    if len(out) >= limit:
                        break
            if len(out) >= limit:
                break
        return self._expand(out, limit), sum(len(self._orig[s]) for s in matched)

    def _expand(self, lowered: list[str], limit: int) -> list[str]:
        return [o for s in lowered for o in self._orig[s]][:limit]

    @staticmethod
    def positions(query: str, text: str) -> list[int]:
        """Indexes in `text` to highlight for `query` (the characters the match used)."""
        q = FuzzyMatcher._normal(query)
        if not q:
            return []
        t = text.lower()
        start = t.rfind("/") + 1
        e = re.escape(q)
        for pattern, offset in (
            (re.compile(f"(?:^|{_SEP_CLASS}){e}"), start),
            (re.compile(e), start),
            (re.compile(f"{_SEP_CLASS}{e}"), 0),
            (re.compile(e), 0),
        ):
            m = pattern.search(t, offset)
            if m:
                first = m.end() - len(q)
                return list(range(first, m.end()))
        out, i = [], 0
        for c in q:
            i = t.find(c, i)
            if i < 0:
                return []
            out.append(i)
            i += 1
        return out

    @staticmethod
    def shown(item: str) -> str:
        """The form of `item` that is searched and drawn."""
        return display(item)

    def highlight(self, query: str, text: str, style: str = "bold underline $accent") -> Content:
        """`text` (a shown form: plain text, never markup) as Content with the matched
        characters styled (one span per run)."""
        spans: list[Span] = []
        for i in self.positions(query, text):
            if spans and spans[-1].end == i:
                spans[-1] = Span(spans[-1].start, i + 1, style)
            else:
                spans.append(Span(i, i + 1, style))
        return Content(text, spans)


_MATCHERS: list[tuple[object, FuzzyMatcher]] = []


def matcher_for(hierarchy: HierarchySnapshot) -> FuzzyMatcher:
    """A matcher over the paths of `hierarchy`, reused while the same snapshot is shown."""
    for owner, m in _MATCHERS:
        if owner is hierarchy:
            return m
    m = FuzzyMatcher(hierarchy.containers.keys())
    _MATCHERS[:] = [(hierarchy, m)]
    return m


# ---------------------------------------------------------------------------- line list


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


# ------------------------------------------------------------------------ plan + report

_KIND_STYLE = {"move": "$success", "already-there": "$text-muted", "refused": "bold $error"}
_OUTCOME_STYLE = {
    "moved": "$success", "already-there": "$text-muted", "refused": "bold $error",
    "vanished": "$warning", "not-moved": "bold $warning", "rolled-back": "$warning",
}
_KIND_WORDS = {"move": "would move", "already-there": "already there", "refused": "refused"}


def _who(pid: Any, task: Any, text: str | None = None) -> str:
    """`1234 (cron)`; an item that is not a PID shows as typed (`'abc'`)."""
    if pid is None:
        return f"'{display(text)}'" if text is not None else "?"
    comm = getattr(task, "comm", None)
    return f"{pid} ({display(comm)})" if comm else f"{pid}"


def _indented(text: str, indent: int, style: str = "$foreground") -> Content:
    """`text` (a reason, advice or warning: a message, scrubbed) after `indent` spaces."""
    return Content.assemble(" " * indent, Content.styled(scrub(text), style))


def _source_text(source: Any) -> str:
    if source is None:
        return ""
    return display(source.path if isinstance(source, CgroupRef) else str(source))


def counts_content(counts: dict[str, int], words: dict[str, str], styles: dict[str, str]) -> Content:
    """`3 would move · 1 refused`, each part in its colour; zero counts are left out."""
    parts = [
        Content.styled(f"{counts[k]} {words.get(k, k)}", styles.get(k, ""))
        for k in words if counts.get(k)
    ]
    parts += [Content(f"{n} {k}") for k, n in counts.items() if k not in words and n]
    return Content(", ").join(parts) if parts else Content.styled("nothing to do", "$text-muted")


def plan_lines(plan: Any) -> list[Content]:
    """The preview of a plan, one verdict per row: refused first (with errno, reason and
    advice), then would-move, then already-there. Nothing is left out."""
    order = {"refused": 0, "move": 1, "already-there": 2}
    lines: list[Content] = []
    for v in sorted(plan.verdicts, key=lambda v: order.get(v.kind, 3)):
        style = _KIND_STYLE.get(v.kind, "")
        head = Content.styled(f"{_KIND_WORDS.get(v.kind, v.kind):<14}", style)
        who = _who(v.pid, v.task, getattr(v, "text", None))
        if v.kind == "refused":
            errno = display(v.errno or "refused by ctrtui")
            lines.append(Content.assemble(head, Content.styled(who, "bold"), ": ", Content.styled(errno, style)))
            if v.reason:
                lines.append(_indented(v.reason, 4))
            if v.advice:
                lines.append(_indented("-> " + v.advice, 4, "$text-muted"))
        else:
            src = _source_text(v.source)
            tail = f"  from {src}" if src and v.kind == "move" else ""
            hook = getattr(v, "hook", None)
            hook = f"  (said by {display(hook)})" if v.kind == "already-there" and hook not in (None, "already-there") else ""
            lines.append(Content.assemble(head, who, Content.styled(tail + hook, "$text-muted")))
        for w in getattr(v, "warnings", ()) or ():
            lines.append(_indented(f"! {getattr(w, 'message', w)}", 4, "$warning"))
    return lines


_BATCH_TIME = re.compile(r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)")


def _report_time(report: Any) -> str:
    """When the batch ran, from its id (`20250101T120304-ab12cd` -> `2025-01-01 12:03:04`)."""
    m = _BATCH_TIME.match(str(getattr(report, "batch_id", "")))
    if not m:
        return ""
    y, mo, d, h, mi, sec = m.groups()
    return f"{y}-{mo}-{d} {h}:{mi}:{sec}"


def report_lines(reports: Sequence[Any]) -> list[Content]:
    """Every outcome of `reports`, newest batch first, with batch id, time, target, counts,
    and for each PID that did not move its reason and advice."""
    lines: list[Content] = []
    words = {k: k.replace("-", " ") for k in _OUTCOME_STYLE}
    for report in reversed(list(reports)):
        counts = report.counts()
        when = _report_time(report)
        head = display(f"Batch {report.batch_id}" + (f"  {when}" if when else "") + f"  -> {report.target}  ")
        lines.append(Content.assemble(Content.styled(head, "bold $accent"), counts_content(counts, words, _OUTCOME_STYLE)))
        for o in report.outcomes:
            style = _OUTCOME_STYLE.get(o.outcome, "")
            src = _source_text(getattr(o, "source", None))
            tail = f"  from {src}" if src else ""
            errno = f": {display(o.errno)}" if getattr(o, "errno", None) else ""
            lines.append(Content.assemble(
                "  ", Content.styled(f"{o.outcome.replace('-', ' '):<14}", style), _who(o.pid, None, getattr(o, "text", None)),
                Content.styled(errno, style), Content.styled(tail, "$text-muted"),
            ))
            if o.outcome not in ("moved", "already-there"):
                if getattr(o, "reason", None):
                    lines.append(_indented(o.reason, 6))
                if getattr(o, "advice", None):
                    lines.append(_indented("-> " + o.advice, 6, "$text-muted"))
            for w in getattr(o, "warnings", ()) or ():
                lines.append(_indented(f"! {getattr(w, 'message', w)}", 6, "$warning"))
        lines.append(Content(""))
    return lines


# ---------------------------------------------------------------------- fuzzy path list


class _FuzzyPaths(Vertical):
    """An Input over an OptionList of the best matching paths (shared by TargetPicker
    and GoToCgroup). `up`/`down`/`pageup`/`pagedown` in the Input move the highlight."""

    DEFAULT_CSS = """
    _FuzzyPaths { height: 1fr; }
    _FuzzyPaths > Input { margin: 0 0 0 0; }
    _FuzzyPaths > .fuzzy-count { color: $text-muted; padding: 0 1; height: 1; width: 1fr; }
    _FuzzyPaths > OptionList { height: 1fr; border: none; padding: 0; }
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
            prompt = self.matcher.highlight(query, p)
            if len(p) > room > 10:  # keep the end of a long path, it says the most
                start = p.rfind("/") + 1  # ...but the start of its last part too, when that is long:
                if len(p) - start + 4 > room:  # libpod-<id>.scope vs libpod-conmon-<id>.scope
                    head = (room - 5) // 2
                    prompt = Content.assemble(".../", prompt[start:start + head], "…",
                                              prompt[len(p) - (room - 5 - head):])
                else:
                    prompt = Content.assemble("...", prompt[len(p) - room + 3:])
            n = self.counts.get(path)
            gutter = Content.styled(f"{n:>5} " if n else "      ", "$text-muted")
            options.append(Option(Content.assemble(gutter, prompt)))
        ol.set_options(options)
        ol.highlighted = 0 if options else None
        shown = f"{len(paths)} of {total} matches" if total > len(paths) else f"{total} matches"
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


_LIST_BINDINGS = [
    Binding("up", "list('cursor_up')", "Up", show=False, priority=True),
    Binding("down", "list('cursor_down')", "Down", show=False, priority=True),
    Binding("pageup", "list('page_up')", "Page up", show=False, priority=True),
    Binding("pagedown", "list('page_down')", "Page down", show=False, priority=True),
]


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"1 {word}"
    return f"{n} {word}es" if word.endswith(("s", "ch", "sh", "x")) else f"{n} {word}s"


# ------------------------------------------------------------------------ target picker


class TargetPicker(ModalScreen):
    """Pick the cgroup to move tasks into, seeing what would happen first.

    Dismisses with the previewed engine `Plan` on `enter` (only when at least one PID would
    move), or None on `escape`. Refused PIDs are always listed with errno, reason, advice.
    """

    DEFAULT_CSS = """
    TargetPicker { align: center middle; }
    TargetPicker > #picker {
        width: 94%; height: 90%;
        border: round $primary; background: $panel; padding: 0 1;
    }
    TargetPicker #picker-title { text-style: bold; width: 1fr; height: 1; }
    TargetPicker #picker-body { height: 1fr; }
    TargetPicker #picker-left { width: 45%; height: 1fr; padding-right: 1; }
    TargetPicker #picker-right { width: 1fr; height: 1fr; border-left: solid $primary-muted; padding-left: 1; }
    TargetPicker #picker-target { height: auto; text-style: bold; }
    TargetPicker #picker-counts { height: 1; }
    TargetPicker #picker-preview { height: 1fr; background: $panel; }
    TargetPicker #picker-message { height: auto; color: $warning; }
    TargetPicker #picker-message.error { color: $error; text-style: bold; }
    TargetPicker #picker-help { height: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without moving anything"),
        Binding("enter", "apply", "Move", tooltip="Move the tasks into the highlighted cgroup"),
        *_LIST_BINDINGS,
    ]

    class Planned(Message):
        """A preview plan (or the error planning raised) for `path`, from the worker."""

        def __init__(self, path: str, plan: Any = None, error: str | None = None) -> None:
            super().__init__()
            self.path = path
            self.plan = plan
            self.error = error

    def __init__(self, engine: Any, snapshot: Snapshot, hierarchy: str, pids: Sequence[int],
                 threads: bool = False, expected_start: dict[int, int] | None = None,
                 *, debounce: float = 0.12, name: str | None = None) -> None:
        super().__init__(name=name)
        self.engine = engine
        self.snapshot = snapshot
        hs = snapshot.get(hierarchy)
        if hs is None:
            raise KeyError(f"no hierarchy {hierarchy!r} in the snapshot")
        self.hier = hs
        self.hierarchy = hs.name
        self.pids = list(pids)
        self.threads = threads
        self.expected_start = expected_start
        self.debounce = debounce
        self.plan: Any = None
        """The plan previewed for `plan_path` (None until the first preview arrives)."""
        self.plan_path: str | None = None
        self._timer: Timer | None = None
        self._apply_when_ready = False

    def compose(self) -> ComposeResult:
        n = len(self.pids)
        kind = "thread" if self.threads else "process"
        with Vertical(id="picker"):
            yield Label(message(f"Move {_plural(n, kind)} in {display(self.hierarchy)} to..."), id="picker-title")
            with Horizontal(id="picker-body"):
                yield _FuzzyPaths(matcher_for(self.hier), self.hier.recursive_counts(self.threads),
                                  id="picker-left")
                with Vertical(id="picker-right"):
                    yield Static("", id="picker-target")
                    yield Static("", id="picker-counts")
                    yield LineList(hang=14, id="picker-preview")
                    yield Static("", id="picker-message")
            yield Label("type to search  up/down choose  enter move  esc cancel", id="picker-help")

    def on_mount(self) -> None:
        self.query_one("#fuzzy-input", Input).focus()
        self.query_one("#picker-preview", LineList).can_focus = False
        self._schedule()

    @property
    def fuzzy(self) -> _FuzzyPaths:
        return self.query_one(_FuzzyPaths)

    @property
    def target_path(self) -> str | None:
        """The highlighted cgroup path."""
        return self.fuzzy.highlighted

    def action_list(self, action: str) -> None:
        self.fuzzy.move(action)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    @on(OptionList.OptionHighlighted)
    @on(OptionList.OptionSelected)
    @on(Input.Changed)
    def _schedule(self) -> None:
        """Plan the highlighted target after a short pause in typing (also on a new
        highlight or choice in the list)."""
        path = self.target_path
        self._apply_when_ready = False
        self._set_message("")
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if path is None:
            self.plan, self.plan_path = None, None
            self.query_one("#picker-target", Static).update(Content("No cgroup matches."))
            self.query_one("#picker-counts", Static).update(Content(""))
            self.query_one("#picker-preview", LineList).set_lines([])
            return
        if path == self.plan_path:
            return
        self._set_static("#picker-target", Content.assemble("-> ", content(f"{self.hierarchy}:{path}", "bold")))
        self._set_static("#picker-counts", Content.styled("planning...", "$text-muted"))
        self._timer = self.set_timer(self.debounce, lambda: self._timer_fired(path))

    def _timer_fired(self, path: str) -> None:
        self._timer = None
        self._plan(path)

    @work(thread=True, exclusive=True, group="target-preview", exit_on_error=False)
    def _plan(self, path: str) -> None:
        worker = get_current_worker()
        try:
            plan = self.engine.plan(self.pids, CgroupRef(self.hierarchy, path), threads=self.threads,
                                    expected_start=self.expected_start)
        except Exception as exc:  # shown in the preview, never a crash
            if not worker.is_cancelled:
                self.post_message(self.Planned(path, error=f"{type(exc).__name__}: {exc}"))
            return
        if not worker.is_cancelled:
            self.post_message(self.Planned(path, plan))

    @on(Planned)
    def _show_plan(self, event: Planned) -> None:
        if event.path != self.target_path:
            return  # the highlight moved on meanwhile
        preview = self.query_one("#picker-preview", LineList)
        if event.error:
            self.plan, self.plan_path = None, None
            self.query_one("#picker-counts", Static).update(Content.styled("could not plan", "bold $error"))
            preview.set_lines([message(event.error, "$error")])
            self._apply_when_ready = False
            return
        self.plan, self.plan_path = event.plan, event.path
        counts = event.plan.summary()
        self.query_one("#picker-counts", Static).update(counts_content(counts, _KIND_WORDS, _KIND_STYLE))
        preview.set_lines(plan_lines(event.plan))
        if self._apply_when_ready:
            self._apply_when_ready = False
            self.action_apply()

    def _set_static(self, selector: str, shown: Content) -> None:
        """Update a Static only when its content changes (each update costs a layout)."""
        widget = self.query_one(selector, Static)
        if str(widget.content) != str(shown):
            widget.update(shown)

    def _set_message(self, text: str, error: bool = False) -> None:
        """Show `text` (a message: names in it put with `display()`) under the preview."""
        self._set_static("#picker-message", message(text))
        self.query_one("#picker-message", Static).set_class(error, "error")

    def action_apply(self) -> None:
        """Dismiss with the plan of the highlighted target, if anything would move."""
        path = self.target_path
        if path is None:
            self._set_message("No cgroup matches; change the search.", error=True)
            return
        if self.plan is None or self.plan_path != path:
            self._apply_when_ready = True
            self._set_message("Planning... the move starts when the preview is ready.")
            if self._timer is not None:  # skip the rest of the debounce
                self._timer.stop()
                self._timer = None
                self._plan(path)
            return
        counts = self.plan.summary()
        if not counts.get("move"):
            why = []
            if counts.get("already-there"):
                why.append(f"{counts['already-there']} already there")
            if counts.get("refused"):
                errnos = Counter(v.errno or "policy" for v in self.plan.verdicts if v.kind == "refused")
                why.append(f"{counts['refused']} refused (" + ", ".join(f"{e} x{n}" if n > 1 else e for e, n in errnos.items()) + ")")
            self._set_message(f"Nothing would move to {display(self.hierarchy)}:{display(path)}: " + ("; ".join(why) or "no tasks") +
                              ". Pick another cgroup or press escape.", error=True)
            return
        self.dismiss(self.plan)

    def action_cancel(self) -> None:
        self.dismiss(None)


# ----------------------------------------------------------------------------- confirm


class ConfirmMove(ModalScreen[bool]):
    """Ask before a risky move: the risks, one sentence each, and the plan's counts.
    `y`/`enter` confirm, `n`/`escape` cancel."""

    DEFAULT_CSS = """
    ConfirmMove { align: center middle; }
    ConfirmMove > #confirm {
        width: 80%; max-width: 110; height: auto; max-height: 85%;
        border: heavy $warning; background: $panel; padding: 1 2;
    }
    ConfirmMove #confirm-title { text-style: bold; height: auto; }
    ConfirmMove #confirm-counts { height: auto; margin-bottom: 1; }
    ConfirmMove #confirm-risks { height: auto; max-height: 20; background: $panel; }
    ConfirmMove #confirm-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmMove Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("y", "confirm", "Move", tooltip="Go ahead with the move"),
        Binding("n", "cancel", "Cancel", tooltip="Do not move anything"),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, plan: Any, risks: Sequence[str], *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.plan = plan
        self.risks = list(risks)

    def compose(self) -> ComposeResult:
        counts = self.plan.summary()
        with Vertical(id="confirm"):
            yield Static(Content.assemble(
                f"Move {_plural(counts.get('move', 0), 'task')} to ",
                content(str(self.plan.target), "bold $accent"), "?"), id="confirm-title")
            yield Static(counts_content(counts, _KIND_WORDS, _KIND_STYLE), id="confirm-counts")
            risks = self.risks or ["Nothing risky was found."]
            yield LineList([Content.assemble(Content.styled("! ", "bold $warning"), message(r)) for r in risks],
                           hang=2, id="confirm-risks")
            with Horizontal(id="confirm-buttons"):
                yield Button("Move (y)", variant="warning", id="confirm-yes")
                yield Button("Cancel (n)", id="confirm-no")

    def on_mount(self) -> None:
        risks = self.query_one(LineList)
        risks.styles.height = min(20, max(1, sum(1 + len(r) // 90 for r in self.risks)))
        self.query_one("#confirm-yes", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        self.dismiss(False)


# ---------------------------------------------------------------------------- move log


class MoveLog(ModalScreen):
    """Every outcome of this run, newest batch first, coloured by outcome, with the reason
    and advice for each PID that did not move. `escape`/`q` close it. It fills the terminal;
    being modal, the main screen's keys (m, x, p, u...) do not act behind it."""

    DEFAULT_CSS = """
    MoveLog { background: $background; align: left top; }
    MoveLog #movelog-title { height: 1; text-style: bold; background: $primary; color: $text; padding: 0 1; width: 1fr; }
    MoveLog #movelog-lines { height: 1fr; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", tooltip="Back to the main screen"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, reports: Sequence[Any], *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.reports = list(reports)

    def compose(self) -> ComposeResult:
        n = sum(len(r.outcomes) for r in self.reports)
        title = (f"Move log: {_plural(len(self.reports), 'batch')}, {_plural(n, 'outcome')}, newest first"
                 if self.reports else "Move log: nothing moved yet in this run")
        yield Label(Content(title), id="movelog-title")
        yield LineList(report_lines(self.reports), hang=16, id="movelog-lines")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(LineList).focus()

    def action_close(self) -> None:
        self.dismiss()


# ------------------------------------------------------------------------ go to / find


class GoToCgroup(ModalScreen[str | None]):
    """Fuzzy search over cgroup paths; `enter` returns the highlighted path, `escape` None."""

    DEFAULT_CSS = """
    GoToCgroup { align: center middle; }
    GoToCgroup > #goto {
        width: 80%; height: 80%; border: round $primary; background: $panel; padding: 0 1;
    }
    GoToCgroup #goto-title { text-style: bold; height: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "choose", "Go", show=False),
        *_LIST_BINDINGS,
    ]

    def __init__(self, paths: Iterable[str] | FuzzyMatcher, title: str = "Go to cgroup",
                 *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.matcher = paths if isinstance(paths, FuzzyMatcher) else FuzzyMatcher(paths)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="goto"):
            yield Label(content(self.title_text), id="goto-title")
            yield _FuzzyPaths(self.matcher)

    def on_mount(self) -> None:
        self.query_one("#fuzzy-input", Input).focus()

    def action_list(self, action: str) -> None:
        self.query_one(_FuzzyPaths).move(action)

    @on(Input.Submitted)
    @on(OptionList.OptionSelected)
    def action_choose(self) -> None:
        path = self.query_one(_FuzzyPaths).highlighted
        if path is not None:
            self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)


class FindPid(ModalScreen[int | None]):
    """Ask for a PID. Input that is not a PID (or, with `exists`, not a known task) is
    answered with a sentence under the field; `enter` returns the PID, `escape` None."""

    DEFAULT_CSS = """
    FindPid { align: center middle; }
    FindPid > #findpid {
        width: 70; height: auto; border: round $primary; background: $panel; padding: 0 1;
    }
    FindPid #findpid-title { text-style: bold; height: 1; }
    FindPid #findpid-message { height: auto; color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, exists: Callable[[int], bool] | None = None, pid_max: int | None = None,
                 *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.exists = exists
        self.pid_max = pid_max

    def compose(self) -> ComposeResult:
        with Vertical(id="findpid"):
            yield Label("Find PID", id="findpid-title")
            yield LiteralInput(placeholder="PID, e.g. 1234", id="findpid-input")
            yield Static("", id="findpid-message")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def message(self) -> str:
        """The sentence shown under the field (empty when none)."""
        return str(self.query_one("#findpid-message", Static).content)

    @on(Input.Changed)
    def _clear(self) -> None:
        self.query_one("#findpid-message", Static).update(Content(""))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        from ctrtui.engine.parse import PidParseError, parse_pid

        try:
            pid = parse_pid(event.value, self.pid_max)
        except PidParseError as exc:
            self.query_one("#findpid-message", Static).update(message(f"{exc.reason} {exc.advice}"))
            return
        if self.exists is not None and not self.exists(pid):
            self.query_one("#findpid-message", Static).update(Content(
                f"PID {pid} is not in the current snapshot: it may have exited. Refresh (r) or check the number."))
            return
        self.dismiss(pid)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SwitchHierarchy(ModalScreen[str | None]):
    """Choose a hierarchy by name (for the command palette); `escape` returns None."""

    DEFAULT_CSS = """
    SwitchHierarchy { align: center middle; }
    SwitchHierarchy > #switch {
        width: 60; height: auto; max-height: 80%; border: round $primary; background: $panel; padding: 0 1;
    }
    SwitchHierarchy #switch-title { text-style: bold; height: 1; }
    SwitchHierarchy OptionList { height: auto; max-height: 20; border: none; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, names: Sequence[str], current: str | None = None,
                 labels: dict[str, str] | None = None, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.names = list(names)
        self.current = current
        self.labels = labels or {}

    def compose(self) -> ComposeResult:
        with Vertical(id="switch"):
            yield Label("Switch hierarchy", id="switch-title")
            yield OptionList(*[Option(Content(self.labels[n]) if n in self.labels else content(n), id=f"h{i}")
                               for i, n in enumerate(self.names)])

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.focus()
        if self.current in self.names:
            ol.highlighted = self.names.index(self.current)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.names[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
