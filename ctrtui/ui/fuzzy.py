"""Fuzzy search over cgroup paths: the matcher behind the target picker and go-to.

Plain Python, no Textual (tested without a terminal): each keystroke filters with compiled
regular expressions (C loops, no Python per path) and ranks in tiers instead of scoring every
path, so it stays fast on 10,000 paths. The widget that draws matches is
`ctrtui.ui.widgets.fuzzypaths.FuzzyPaths`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from itertools import compress

from ctrtui.model import HierarchySnapshot
from ctrtui.text import display

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


_MATCHERS: list[tuple[object, FuzzyMatcher]] = []


def matcher_for(hierarchy: HierarchySnapshot) -> FuzzyMatcher:
    """A matcher over the paths of `hierarchy`, reused while the same snapshot is shown."""
    for owner, m in _MATCHERS:
        if owner is hierarchy:
            return m
    m = FuzzyMatcher(hierarchy.containers.keys())
    _MATCHERS[:] = [(hierarchy, m)]
    return m
