"""How plans and reports look on screen: the words come from `ctrtui.report` (shared with
the command line); here they only become styled Textual `Content` (each `Part`'s role picks
its style). Names are put in with `display()`, reasons and advice scrubbed, by `ctrtui.report`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from textual.content import Content
from textual.notifications import SeverityLevel

from ctrtui.engine.values import OutcomeKind, Plan, Report, VerdictKind
from ctrtui.report import VERDICT_WORDS, Line, count_parts, notice, plan_parts, report_parts

__all__ = ["KIND_STYLE", "KIND_WORDS", "content_of", "counts_content", "plan_lines", "report_lines", "report_text"]

K = TypeVar("K", bound=str)
"""A kind of verdict or of outcome."""

KIND_STYLE: dict[VerdictKind, str] = {
    "move": "$success", "already-there": "$text-muted", "refused": "bold $error", "vanished": "$warning",
}
_OUTCOME_STYLE: dict[OutcomeKind, str] = {
    "moved": "$success", "already-there": "$text-muted", "refused": "bold $error",
    "vanished": "$warning", "not-moved": "bold $warning", "rolled-back": "$warning",
}
KIND_WORDS = VERDICT_WORDS

#: The style of each role of a `ctrtui.report.Part` (a kind's role is its kind's colour).
_ROLE_STYLE: dict[str, str] = {
    **{kind: style for kinds in (KIND_STYLE, _OUTCOME_STYLE) for kind, style in kinds.items()},
    "bold": "bold", "text": "$foreground", "muted": "$text-muted", "warning": "$warning", "heading": "bold $accent",
}


def content_of(line: Line, styles: Mapping[str, str] = _ROLE_STYLE) -> Content:
    """A line of `ctrtui.report` as Content: each part in the style of its role (its text
    is display text already: never read as markup)."""
    return Content.assemble(*(Content.styled(text, styles[role]) if role in styles else text
                              for text, role in line))


def counts_content(counts: Mapping[K, int], words: Mapping[K, str], styles: Mapping[K, str]) -> Content:
    """`3 would move, 1 refused`, each part in its colour; zero counts are left out."""
    return content_of(count_parts(counts, words), {**_ROLE_STYLE, **{k: v for k, v in styles.items()}})


def plan_lines(plan: Plan) -> list[Content]:
    """The preview of a plan, one verdict per row (see `ctrtui.report.plan_parts`)."""
    return [content_of(line) for line in plan_parts(plan)]


def report_lines(reports: Sequence[Report]) -> list[Content]:
    """The move log: every outcome of `reports`, newest batch first (see
    `ctrtui.report.report_parts`)."""
    return [content_of(line) for line in report_parts(reports)]


def report_text(report: Report, what: str = "Move") -> tuple[str, SeverityLevel]:
    """(message, severity) for a finished batch: counts, then the first reasons. The message
    is display text already (names escaped): notify it with `escaped=True`."""
    return notice(report, what), ("information" if report.ok else "warning")
