"""Every key of the main screen, grouped by pane, whatever has focus (`?`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.dom import DOMNode
from textual.widgets import Label

from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.widgets.linelist import LineList

Group = tuple[str, Sequence[Binding]]


def bindings_of(cls: type[DOMNode]) -> list[Binding]:
    """Every binding of a widget class, its own and inherited (a subclass's last)."""
    merged = cls._merge_bindings()
    return [b for bindings in merged.key_to_bindings.values() for b in bindings]


def key_lines(groups: Iterable[Group], shown: Callable[[Binding], str], off: frozenset[str] = frozenset(),
              off_reason: str = "") -> list[Content]:
    """One title line per group, then one line per action: its keys as `shown` draws them
    and what it does (`off`: actions shown as off, with `off_reason`)."""
    out: list[Content] = []
    for title, bindings in groups:
        if out:
            out.append(Content(""))
        out.append(Content.styled(title, "bold $accent"))
        by_action: dict[str, list[Binding]] = {}
        for b in bindings:
            if b.tooltip or b.description:  # an action without words is Textual's plumbing
                by_action.setdefault(b.action, []).append(b)
        for action, bs in by_action.items():
            keys = " ".join(dict.fromkeys(shown(b) for b in bs))
            what = bs[-1].tooltip or bs[-1].description  # ours, over an inherited one
            line = Content.assemble(Content.styled(f"  {keys:<12}", "bold"), " ", Content(what))
            if action.split("(")[0] in off:
                line = Content.assemble(line, Content.styled(f"  (off: {off_reason})", "$text-muted"))
            out.append(line)
    return out


class KeysHelp(Dialog[None]):
    """Every key, grouped by pane; `escape`, `?` or `q` close it."""

    DEFAULT_CSS = """
    KeysHelp > #keys { width: 90; max-width: 100%; height: 90%; }
    KeysHelp LineList { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Close"),
        Binding("question_mark", "cancel", "Close", show=False),
        Binding("q", "cancel", "Close", show=False),
    ]

    def __init__(self, lines: Sequence[Content], *, name: str | None = None) -> None:
        super().__init__(name=name)
        self.lines = list(lines)

    def compose(self) -> ComposeResult:
        with Vertical(id="keys", classes="dialog"):
            yield Label(Content("Keys (esc, ? or q closes)"), id="keys-title", classes="dialog-title")
            yield LineList(self.lines, hang=15)

    def on_mount(self) -> None:
        self.query_one(LineList).focus()

    @property
    def plain(self) -> str:
        return "\n".join(c.plain for c in self.lines)
