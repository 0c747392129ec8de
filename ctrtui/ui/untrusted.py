"""Untrusted text for Textual and Rich: always built from plain text (never parsed as
markup), escaped by `ctrtui.text.display` (no control character reaches the terminal)."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.widgets import Input

from ctrtui.text import display, scrub, tail

__all__ = ["LiteralInput", "content", "display", "lines", "message", "rich", "scrub", "tail"]


def content(text: object, style: str = "") -> Content:
    """`text` (a name, a reason, a message) shown escaped, as Content that is never markup."""
    shown = display(text if isinstance(text, (str, bytes)) or text is None else str(text))
    return Content.styled(shown, style) if style else Content(shown)


def message(text: object, style: str = "") -> Content:
    """A message (a sentence whose names were put in with `display()`, or a reason worded
    below the UI) as plain Content, scrubbed of control characters (`ctrtui.text.scrub`)."""
    shown = scrub(text if isinstance(text, str) or text is None else str(text))
    return Content.styled(shown, style) if style else Content(shown)


def rich(text: object, style: str = "") -> Text:
    """`text` shown escaped, as a Rich Text (plain, never markup)."""
    return Text(display(text if isinstance(text, (str, bytes)) or text is None else str(text)), style)


def lines(text: str) -> str:
    """A message of several lines scrubbed line by line (its own line breaks kept)."""
    return "\n".join(scrub(line) for line in text.split("\n"))


class LiteralInput(Input):
    """An Input whose value never holds a control character: a pasted (or programmatically
    set) ESC, BEL, C1 or bidi control becomes its shown form (`\\x1b`), which is also what
    names are matched by. Typed `[`, `]`, `@` and `\\` stay plain characters (an Input's
    value is never markup)."""

    def validate_value(self, value: str) -> str:
        return scrub(value)
