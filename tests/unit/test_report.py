"""ctrtui.report: the words of plans and reports, shared by the command line and the UI."""

from __future__ import annotations

import subprocess
import sys

from ctrtui.engine import AttachEngine
from ctrtui.model import CgroupRef
from ctrtui.report import (
    OUTCOME_WORDS,
    VERDICT_WORDS,
    Part,
    batch_line,
    count_parts,
    nothing_would_move,
    plan_parts,
    plan_rows,
    report_parts,
    report_rows,
    risk_line,
    row_line,
)
from ctrtui.sources.demo import demo_world
from ctrtui.sources.hostile import NAMES, hostile_path, hostile_world
from ctrtui.text import display


def _clean(text: str) -> bool:
    return not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF or ord(c) == 0x202E
                   for c in text)


def test_report_imports_neither_textual_nor_rich():
    code = "import sys, ctrtui.report; sys.exit('textual' in sys.modules or 'rich' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_counts_leave_zeros_out_in_the_words_order_with_unknown_kinds_plain():
    counts = {"refused": 2, "move": 3, "already-there": 0, "weird": 1}
    assert count_parts(counts, VERDICT_WORDS) == (
        Part("3 would move", "move"), Part(", "), Part("2 refused", "refused"), Part(", "), Part("1 weird"))
    assert count_parts(dict.fromkeys(OUTCOME_WORDS, 0), OUTCOME_WORDS) == (Part("nothing to do", "muted"),)


def test_plan_parts_put_refusals_first_with_errno_reason_and_advice():
    world = demo_world()
    plan = AttachEngine(world, load_entry_points=False).plan([492, 2, "abc"], CgroupRef("unified", "/"))
    lines = plan_parts(plan)
    texts = ["".join(p.text for p in line) for line in lines]
    assert texts[0].startswith("refused       2 (kthreadd): EINVAL")
    assert lines[0][0].role == "refused" and lines[0][1] == Part("2 (kthreadd)", "bold")
    assert texts[1].startswith("    The kernel refuses") and lines[1][1].role == "text"
    assert texts[2].startswith("    -> ") and lines[2][1].role == "muted"
    assert any(t.startswith("refused       'abc': EINVAL") for t in texts)
    moves = [t for t in texts if t.startswith("would move    492 (sshd)")]
    assert moves == ["would move    492 (sshd)  from /system.slice/ssh.service"]


def test_cli_rows_and_lines_of_a_move_and_its_batch():
    world = demo_world()
    engine = AttachEngine(world, load_entry_points=False)
    plan = engine.plan([492, 2], CgroupRef("pids", "/"))
    rows = plan_rows(plan, ["a risk"])
    assert [r["outcome"] for r in rows] == ["would-move", "refused"] and rows[0]["risks"] == ["a risk"]
    assert row_line(rows[0]) == "    492  would-move             /system.slice/ssh.service -> /" + \
        "".join(f"  [warning: {w}]" for w in rows[0]["warnings"])
    assert row_line(rows[1]).startswith("      2  refused EINVAL         The kernel refuses")
    assert " -- Leave kernel threads where they are" in row_line(rows[1])
    report = engine.apply(plan)
    out = report_rows(report)
    assert [r["outcome"] for r in out] == ["moved", "refused"] and out[0]["to"] == "pids:/"
    assert out[0]["risks"] == [] and out[0]["batch"] == report.batch_id
    assert batch_line(report) == f"batch {report.batch_id}: 1 moved, 1 refused; not journaled (cannot be undone)"
    head = "".join(p.text for p in report_parts([report])[0])
    assert head.startswith(f"Batch {report.batch_id}") and head.endswith("-> pids:/  1 moved, 1 refused")
    assert report_parts([report])[-1] == ()


def test_nothing_would_move_says_why():
    world = demo_world()
    plan = AttachEngine(world, load_entry_points=False).plan([1, "abc", "x", 31999], CgroupRef("freezer", "/"))
    assert nothing_would_move(plan) == ("Nothing would move to freezer:/: 1 already there; 2 refused (EINVAL x2); "
                                        "1 vanished (the task is gone)")


def test_hostile_names_come_out_escaped_everywhere():
    world = hostile_world()
    engine = AttachEngine(world, load_entry_points=False)
    snap = world.snapshot(["freezer"])["freezer"]
    pids = list(snap["/hostile"].procs) + list(snap[hostile_path("osc")].procs)
    for key in NAMES:
        plan = engine.plan(pids, CgroupRef("freezer", hostile_path(key)))
        lines = plan_parts(plan)
        texts = [p.text for line in lines for p in line]
        texts += [row_line(r) for r in plan_rows(plan)] + [nothing_would_move(plan)]
        assert all(_clean(t) for t in texts), [t for t in texts if not _clean(t)]
        report = engine.apply(plan)
        texts = [p.text for line in report_parts([report]) for p in line] + [row_line(r) for r in report_rows(report)]
        assert all(_clean(t) for t in texts + [batch_line(report)])
        assert any(display(hostile_path(key)) in t for t in texts), key
        engine.undo()
    assert risk_line("a\x1b[2J risk\nsecond") == "ctrtui: risk: a\\x1b[2J risk\\x0asecond"
