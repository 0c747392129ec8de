"""How plans and reports are worded on screen: counts, one row per verdict or outcome,
the move log's lines. Names are put in with `display()`, reasons and advice scrubbed."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

from textual.content import Content
from textual.notifications import SeverityLevel

from ctrtui.engine import Plan, Report
from ctrtui.engine.engine import OutcomeKind, VerdictKind
from ctrtui.model import CgroupRef, TaskInfo
from ctrtui.text import display, scrub

K = TypeVar("K", bound=str)
"""A kind of verdict or of outcome."""

KIND_STYLE: dict[VerdictKind, str] = {
    "move": "$success", "already-there": "$text-muted", "refused": "bold $error", "vanished": "$warning",
}
_OUTCOME_STYLE: dict[OutcomeKind, str] = {
    "moved": "$success", "already-there": "$text-muted", "refused": "bold $error",
    "vanished": "$warning", "not-moved": "bold $warning", "rolled-back": "$warning",
}
KIND_WORDS: dict[VerdictKind, str] = {
    "move": "would move", "already-there": "already there", "refused": "refused", "vanished": "vanished",
}


def _who(pid: int | None, task: TaskInfo | None, text: str | None = None) -> str:
    """`1234 (cron)`; an item that is not a PID shows as typed (`'abc'`)."""
    if pid is None:
        return f"'{display(text)}'" if text is not None else "?"
    comm = getattr(task, "comm", None)
    return f"{pid} ({display(comm)})" if comm else f"{pid}"


def _indented(text: str, indent: int, style: str = "$foreground") -> Content:
    """`text` (a reason, advice or warning: a message, scrubbed) after `indent` spaces."""
    return Content.assemble(" " * indent, Content.styled(scrub(text), style))


def _source_text(source: object) -> str:
    if source is None:
        return ""
    return display(source.path if isinstance(source, CgroupRef) else str(source))


def counts_content(counts: Mapping[K, int], words: Mapping[K, str], styles: Mapping[K, str]) -> Content:
    """`3 would move · 1 refused`, each part in its colour; zero counts are left out."""
    parts = [
        Content.styled(f"{counts[k]} {words.get(k, k)}", styles.get(k, ""))
        for k in words if counts.get(k)
    ]
    parts += [Content(f"{n} {k}") for k, n in counts.items() if k not in words and n]
    return Content(", ").join(parts) if parts else Content.styled("nothing to do", "$text-muted")


def plan_lines(plan: Plan) -> list[Content]:
    """The preview of a plan, one verdict per row: refused first (with errno, reason and
    advice), then would-move, then already-there. Nothing is left out."""
    order = {"refused": 0, "vanished": 0, "move": 1, "already-there": 2}
    lines: list[Content] = []
    for v in sorted(plan.verdicts, key=lambda v: order.get(v.kind, 3)):
        style = KIND_STYLE.get(v.kind, "")
        head = Content.styled(f"{KIND_WORDS.get(v.kind, v.kind):<14}", style)
        who = _who(v.pid, v.task, getattr(v, "text", None))
        if v.kind == "refused" or v.kind == "vanished":
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
            said = v.kind == "already-there" and hook not in (None, "already-there")
            hook = f"  (said by {display(hook)})" if said else ""
            lines.append(Content.assemble(head, who, Content.styled(tail + hook, "$text-muted")))
        for w in getattr(v, "warnings", ()) or ():
            lines.append(_indented(f"! {getattr(w, 'message', w)}", 4, "$warning"))
    return lines


_BATCH_TIME = re.compile(r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)")


def _report_time(report: Report) -> str:
    """When the batch ran, from its id (`20250101T120304-ab12cd` -> `2025-01-01 12:03:04`)."""
    m = _BATCH_TIME.match(str(getattr(report, "batch_id", "")))
    if not m:
        return ""
    y, mo, d, h, mi, sec = m.groups()
    return f"{y}-{mo}-{d} {h}:{mi}:{sec}"


def report_lines(reports: Sequence[Report]) -> list[Content]:
    """Every outcome of `reports`, newest batch first, with batch id, time, target, counts,
    and for each PID that did not move its reason and advice."""
    lines: list[Content] = []
    words = {k: k.replace("-", " ") for k in _OUTCOME_STYLE}
    for report in reversed(list(reports)):
        counts = report.counts()
        when = _report_time(report)
        head = display(f"Batch {report.batch_id}" + (f"  {when}" if when else "") + f"  -> {report.target}  ")
        lines.append(Content.assemble(Content.styled(head, "bold $accent"),
                                      counts_content(counts, words, _OUTCOME_STYLE)))
        for o in report.outcomes:
            style = _OUTCOME_STYLE.get(o.outcome, "")
            src = _source_text(getattr(o, "source", None))
            tail = f"  from {src}" if src else ""
            errno = f": {display(o.errno)}" if getattr(o, "errno", None) else ""
            lines.append(Content.assemble(
                "  ", Content.styled(f"{o.outcome.replace('-', ' '):<14}", style),
                _who(o.pid, None, getattr(o, "text", None)),
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


def plural(n: int, word: str) -> str:
    if n == 1:
        return f"1 {word}"
    return f"{n} {word}es" if word.endswith(("s", "ch", "sh", "x")) else f"{n} {word}s"


def describe_error(exc: BaseException) -> str:
    """An exception as one sentence for a person."""
    if isinstance(exc, OSError) and exc.errno is not None:
        from ctrtui.errors import errno_name

        where = f" ({display(str(exc.filename))})" if exc.filename else ""
        return f"{errno_name(exc.errno)}: {exc.strerror or os.strerror(exc.errno)}{where}"
    return str(exc) or type(exc).__name__


def report_text(report: Report, what: str = "Move") -> tuple[str, SeverityLevel]:
    """(message, severity) for a finished batch: counts, then the first reasons. The message
    is display text already (names escaped): notify it with `escaped=True`."""
    counts = report.counts()
    labels: tuple[tuple[OutcomeKind, str], ...] = (
        ("moved", "moved"), ("already-there", "already there"), ("refused", "refused"),
        ("not-moved", "not moved"), ("vanished", "vanished"), ("rolled-back", "rolled back"))
    parts = [f"{counts.get(k, 0)} {label}" for k, label in labels
             if counts.get(k, 0) or k in ("moved", "already-there", "refused", "not-moved")]
    lines = [f"{what}: " + ", ".join(parts)]
    bad = [o for o in report.outcomes if o.outcome not in ("moved", "already-there")]
    for o in bad[:3]:
        lines.append(scrub(f"PID {o.pid}: {o.reason}" + (f" {o.advice}" if o.advice else "")))
    if len(bad) > 3:
        lines.append(f"… and {len(bad) - 3} more (L shows the move log)")
    return "\n".join(lines), ("information" if report.ok else "warning")


def plan_line(plan: Plan, target: str) -> str:
    """`drop on freezer:/a: 3 would move, 1 already there, 1 refused (reason)`, as display
    text (names escaped)."""
    c = plan.summary()
    words = [f"{c.get('move', 0)} would move"]
    if c.get("already-there"):
        words.append(f"{c['already-there']} already there")
    if c.get("refused"):
        words.append(f"{c['refused']} refused")
    if c.get("vanished"):
        words.append(f"{c['vanished']} vanished")
    text = f"{display(target)}: " + ", ".join(words)
    refused = [v for v in plan.verdicts if v.kind == "refused" or v.kind == "vanished"]
    if refused:
        text += f" (PID {refused[0].pid}: {refused[0].reason})"
    return scrub(text)
