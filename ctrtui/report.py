"""How plans and reports are worded, for the command line and the terminal UI alike.

Everything here is plain text: no Textual, no Rich. Names (paths, comms, what was typed) are
put in with `ctrtui.text.display()`, messages (reasons, advice, warnings, risks) go through
`scrub()`; what this module returns may be printed to a terminal as it is.

- The command line (`ctrtui move`, `undo`, `log`) prints `plan_rows`/`report_rows` (its JSON
  rows) as `row_line`s, `batch_line` and `log_lines`; a move's risks (`ctrtui.engine.risk`)
  as `risk_line`s.
- The terminal UI turns the `Line`s of `plan_parts`, `report_parts` and `count_parts` into
  styled text (`ctrtui.ui.reportstyle`): each `Part` carries a role that the UI maps to a style
  and the command line ignores. `notice`, `plan_line` and `nothing_would_move` are its
  one-sentence messages.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from ctrtui.engine.values import OutcomeKind, Plan, Report, VerdictKind
from ctrtui.model import CgroupRef, TaskInfo
from ctrtui.text import display, scrub

__all__ = [
    "OUTCOME_WORDS", "VERDICT_WORDS", "Line", "Part", "batch_line", "count_parts", "describe_error",
    "log_lines", "nothing_would_move", "notice", "plan_line", "plan_parts", "plan_rows", "plural",
    "report_parts", "report_rows", "risk_line", "row_line",
]

K = TypeVar("K", bound=str)
"""A kind of verdict or of outcome."""


class Part(NamedTuple):
    """A piece of a line: its text (display text already) and its role, which the UI maps
    to a style. Roles: "" (plain); a `VerdictKind` or `OutcomeKind` (coloured as that kind);
    "bold" (who a refusal is about); "text" (a reason); "muted" (advice, where from);
    "warning"; "heading" (a batch's head line)."""

    text: str
    role: str = ""


Line = tuple[Part, ...]
"""One line of a preview or of the move log; `()` is an empty line."""

VERDICT_WORDS: dict[VerdictKind, str] = {
    "move": "would move", "already-there": "already there", "refused": "refused", "vanished": "vanished",
}
OUTCOME_WORDS: dict[OutcomeKind, str] = {
    "moved": "moved", "already-there": "already there", "refused": "refused",
    "vanished": "vanished", "not-moved": "not moved", "rolled-back": "rolled back",
}


def plural(n: int, word: str) -> str:
    """`1 task`, `3 tasks`, `2 batches`."""
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


# ----------------------------------------------------------------------------- shared pieces


def _who(pid: int | None, task: TaskInfo | None, text: str | None = None) -> str:
    """`1234 (cron)`; an item that is not a PID shows as typed (`'abc'`)."""
    if pid is None:
        return f"'{display(text)}'" if text is not None else "?"
    comm = getattr(task, "comm", None)
    return f"{pid} ({display(comm)})" if comm else f"{pid}"


def _source_text(source: object) -> str:
    if source is None:
        return ""
    return display(source.path if isinstance(source, CgroupRef) else str(source))


def _indented(text: str, indent: int, role: str) -> Line:
    """`text` (a reason, advice or warning: a message, scrubbed) after `indent` spaces."""
    return (Part(" " * indent), Part(scrub(text), role))


def _warning_text(w: object) -> str:
    return f"! {getattr(w, 'message', w)}"


def count_parts(counts: Mapping[K, int], words: Mapping[K, str]) -> Line:
    """`3 would move, 1 refused`: each count in its kind's role, zero counts left out
    (`nothing to do` when all are zero)."""
    parts = [Part(f"{counts[k]} {words.get(k, k)}", k) for k in words if counts.get(k)]
    parts += [Part(f"{n} {k}") for k, n in counts.items() if k not in words and n]
    if not parts:
        return (Part("nothing to do", "muted"),)
    out: list[Part] = []
    for i, part in enumerate(parts):
        if i:
            out.append(Part(", "))
        out.append(part)
    return tuple(out)


# ----------------------------------------------------------------------------- the UI's lines


def plan_parts(plan: Plan) -> list[Line]:
    """The preview of a plan, one verdict per row: refused first (with errno, reason and
    advice), then would-move, then already-there. Nothing is left out."""
    order = {"refused": 0, "vanished": 0, "move": 1, "already-there": 2}
    lines: list[Line] = []
    for v in sorted(plan.verdicts, key=lambda v: order.get(v.kind, 3)):
        head = Part(f"{VERDICT_WORDS.get(v.kind, v.kind):<14}", v.kind)
        who = _who(v.pid, v.task, getattr(v, "text", None))
        if v.kind == "refused" or v.kind == "vanished":
            errno = display(v.errno or "refused by ctrtui")
            lines.append((head, Part(who, "bold"), Part(": "), Part(errno, v.kind)))
            if v.reason:
                lines.append(_indented(v.reason, 4, "text"))
            if v.advice:
                lines.append(_indented("-> " + v.advice, 4, "muted"))
        else:
            src = _source_text(v.source)
            tail = f"  from {src}" if src and v.kind == "move" else ""
            hook = getattr(v, "hook", None)
            said = v.kind == "already-there" and hook not in (None, "already-there")
            hook = f"  (said by {display(hook)})" if said else ""
            lines.append((head, Part(who), Part(tail + hook, "muted")))
        for w in getattr(v, "warnings", ()) or ():
            lines.append(_indented(_warning_text(w), 4, "warning"))
    return lines


_BATCH_TIME = re.compile(r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)")


def _report_time(report: Report) -> str:
    """When the batch ran, from its id (`20250101T120304-ab12cd` -> `2025-01-01 12:03:04`)."""
    m = _BATCH_TIME.match(str(getattr(report, "batch_id", "")))
    if not m:
        return ""
    y, mo, d, h, mi, sec = m.groups()
    return f"{y}-{mo}-{d} {h}:{mi}:{sec}"


def report_parts(reports: Sequence[Report]) -> list[Line]:
    """Every outcome of `reports`, newest batch first, with batch id, time, target, counts,
    and for each PID that did not move its reason and advice; an empty line after each batch."""
    lines: list[Line] = []
    for report in reversed(list(reports)):
        when = _report_time(report)
        head = display(f"Batch {report.batch_id}" + (f"  {when}" if when else "") + f"  -> {report.target}  ")
        lines.append((Part(head, "heading"), *count_parts(report.counts(), OUTCOME_WORDS)))
        for o in report.outcomes:
            src = _source_text(getattr(o, "source", None))
            errno = f": {display(o.errno)}" if getattr(o, "errno", None) else ""
            lines.append((Part("  "), Part(f"{o.outcome.replace('-', ' '):<14}", o.outcome),
                          Part(_who(o.pid, None, getattr(o, "text", None))),
                          Part(errno, o.outcome), Part(f"  from {src}" if src else "", "muted")))
            if o.outcome not in ("moved", "already-there"):
                if getattr(o, "reason", None):
                    lines.append(_indented(o.reason, 6, "text"))
                if getattr(o, "advice", None):
                    lines.append(_indented("-> " + o.advice, 6, "muted"))
            for w in getattr(o, "warnings", ()) or ():
                lines.append(_indented(_warning_text(w), 6, "warning"))
        lines.append(())
    return lines


# ----------------------------------------------------------------------------- the UI's sentences


def notice(report: Report, what: str = "Move") -> str:
    """A finished batch in a few lines: counts, then the first reasons (display text)."""
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
    return "\n".join(lines)


def plan_line(plan: Plan, target: str) -> str:
    """`freezer:/a: 3 would move, 1 already there, 1 refused (reason)`, as display text."""
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


def nothing_would_move(plan: Plan) -> str:
    """Why a plan moves nothing: `Nothing would move to freezer:/a: 1 already there; 2
    refused (EPERM x2)` (a message: names put with `display()`)."""
    counts = plan.summary()
    why = []
    if counts.get("already-there"):
        why.append(f"{counts['already-there']} already there")
    if counts.get("refused"):
        errnos = Counter(v.errno or "policy" for v in plan.verdicts if v.kind == "refused")
        why.append(f"{counts['refused']} refused ("
                   + ", ".join(f"{e} x{n}" if n > 1 else e for e, n in errnos.items()) + ")")
    if counts.get("vanished"):
        why.append(f"{counts['vanished']} vanished (the task is gone)")
    target = plan.target
    return (f"Nothing would move to {display(target.hierarchy)}:{display(target.path)}: "
            + ("; ".join(why) or "no tasks"))


# ----------------------------------------------------------------------------- the command line


def plan_rows(plan: Plan, risks: Sequence[str] = ()) -> list[dict[str, Any]]:
    """`ctrtui move --dry-run --json`: one row per verdict (`would-move` for a move)."""
    target = str(plan.target)
    return [{"pid": v.pid, "input": v.text, "outcome": "would-move" if v.kind == "move" else v.kind,
             "errno": v.errno, "hook": v.hook, "reason": v.reason, "advice": v.advice,
             "warnings": list(v.warnings), "from": v.source, "to": target, "risks": list(risks)}
            for v in plan.verdicts]


def report_rows(report: Report, risks: Sequence[str] = ()) -> list[dict[str, Any]]:
    """`ctrtui move --json` / `undo --json`: one row per outcome, each with its own
    destination (an undo sends PIDs back to several cgroups) and the batch's facts."""
    hier = report.target.hierarchy
    return [{
        "pid": o.pid, "input": o.text, "outcome": o.outcome, "errno": o.errno, "hook": o.hook,
        "reason": o.reason, "advice": o.advice, "warnings": list(o.warnings),
        "from": o.source, "to": f"{hier}:{o.target}" if o.target else str(report.target),
        "batch": report.batch_id, "undo_of": report.undo_of, "journaled": report.journaled,
        "interrupted": report.interrupted, "risks": list(risks),
    } for o in report.outcomes]


def _detail(row: Mapping[str, Any]) -> str:
    """What the text line says of a row: where from and to, or why not, then its warnings."""
    outcome = row["outcome"]
    to = str(row["to"])
    if outcome in ("moved", "would-move"):
        text = f"{display(row['from']) or '?'} -> {display(to.partition(':')[2])}"
    elif outcome == "already-there":
        text = f"already in {display(to)}"
    else:
        text = row["reason"] or ""
        if row.get("advice"):
            text += f" -- {row['advice']}"
    for w in row.get("warnings") or ():
        text += f"  [warning: {w}]"
    return text


def row_line(row: Mapping[str, Any]) -> str:
    """One row of `plan_rows`/`report_rows` as text: `   1234  moved   /a -> /b`."""
    pid = row["pid"] if row["pid"] is not None else row["input"]
    tag = row["outcome"] + (f" {row['errno']}" if row["errno"] else "")
    return scrub(f"{str(pid):>7}  {tag:<22} {_detail(row)}")


def batch_line(report: Report) -> str:
    """The summary of a batch: `batch ID: 3 moved, 1 refused (undo of ID); ...`."""
    summary = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n)
    return (f"batch {report.batch_id}: {summary or 'nothing to do'}"
            + (f" (undo of {report.undo_of})" if report.undo_of else "")
            + ("; rolled back (all-or-nothing)" if report.rolled_back else "")
            + (f"; interrupted by {report.interrupted}" if report.interrupted else "")
            + ("" if report.journaled else "; not journaled (cannot be undone)"))


def risk_line(risk: str) -> str:
    """A risk of a move (a sentence of `ctrtui.engine.risk.assess`) as one line of stderr."""
    return "ctrtui: risk: " + scrub(risk)


def log_lines(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """`ctrtui log`: a header, then one line per batch (rows of `Batch.as_dict()`)."""
    def running(r: Mapping[str, Any]) -> Mapping[str, Any]:
        """A batch whose writer holds the journal's lock: `running (pid N)`, the process at work."""
        pid = r.get("writer_pid")
        return {**r, "state": f"running (pid {pid if type(pid) is int else 'unknown'})"}

    rows = [running(r) if r["state"] == "running" else r for r in rows]
    w = max([13, *(len(r["state"]) for r in rows if not r["state"].startswith("cannot be undone: "))])
    lines = [f"{'BATCH':<22}  {'TIME (UTC)':<19}  {'STATE':<{w}}  {'MOVED':>5}  {'UNDONE':>6}  TARGET"]
    for r in rows:
        what = f"{display(r['hierarchy'])}:{display(r['target'])}" if r["target"] else "?"
        when = r["time"][:19].replace("T", " ")
        if r.get("op"):  # a cgroup op (engine/ops.py: mkdir, rmdir, freeze, thaw)
            what = f"{r['op']} {what}" + (f" (undo of {r['undo_of']})" if r["undo_of"] else "")
            state = r["state"] + (f" ({r['errno']})" if r.get("errno") else "")
            lines.append(f"{r['batch']:<22}  {when:<19}  {state:<{w}}  {'-':>5}  {r['undone']:>6}  {what}")
            continue
        if r["undo_of"]:
            what = f"undo of {r['undo_of']}"
        if r.get("version", 1) > 1 and not r["target"]:  # a newer ctrtui's batch (Batch.unknown)
            what = f"? (written by a newer ctrtui: record version {r['version']})"
        state = r["state"] + (" (interrupted)" if r["closed"] == "interrupted" else "")
        if state.startswith("cannot be undone: "):  # the why after the target, to keep the columns
            what, state = f"{what} ({state})", "not undoable"
        lines.append(f"{r['batch']:<22}  {when:<19}  {state:<{w}}  {r['counts'].get('moved', 0):>5}  "
                     f"{r['undone']:>6}  {what}")
    return lines
