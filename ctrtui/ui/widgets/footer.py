"""The footer: Textual's, with `?` (every key) and `q` (quit) first, so a narrow terminal
that cuts the footer's end never loses them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

KEPT = ("question_mark", "q")
"""Keys drawn first, whatever the width."""


class KeysFooter(Footer):
    """A Footer whose `?` and `q` come first."""

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        first = [k for name in KEPT for k in keys if getattr(k, "key", None) == name]
        yield from first + [k for k in keys if k not in first]
