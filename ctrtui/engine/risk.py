"""Which planned moves must ask first, in sentences a person reads before pressing `y`.

Pure logic on an engine `Plan`, a `Snapshot` and a `Reader` (read-only calls only: task
state and thread IDs); no Textual here, so the command line can ask the same questions. The
terminal UI asks before applying a plan for which `assess` returns sentences; `ctrtui move`
prints them (`ctrtui: risk: ...`) and `--json` lists them in each row's `risks`.

`RISKS` names every kind of risk in the words of the README's list ("Risky means: ..."), which
tests/unit/test_risk.py reads and checks against `assess_kinds`, so the two cannot drift.
Only PIDs the plan would really move count: a refused or already-there PID carries no risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ctrtui.engine.hooks import MAKES_THREAD_ROOT
from ctrtui.engine.unitrisk import PERPETUAL, source_unit_risk, target_unit_risk
from ctrtui.engine.values import Plan, Verdict
from ctrtui.model import CgroupRef, Snapshot, TaskInfo
from ctrtui.model.systemd import systemd_unit
from ctrtui.sources.base import systemd_units
from ctrtui.sources.systemd_risks import risk_for, risk_kind
from ctrtui.text import display

if TYPE_CHECKING:
    from ctrtui.sources.base import Reader

#: More than this many tasks in one batch asks first.
MANY_TASKS = 20

#: How many PIDs a sentence names before it says "and N more".
_NAMED = 5

#: Every kind of risk `assess` says, in the README's words (its list after "Risky means:").
RISKS: dict[str, str] = {
    "pid-1": "PID 1",
    "kernel-threads": "kernel threads",
    "many": f"more than {MANY_TASKS} tasks at once",
    "systemd-unit": "a systemd unit as source or target (a task written into a unit dies with `systemctl stop` of it)",
    "name=systemd": "the `name=systemd` hierarchy",
    "v1": "a v1 hierarchy (the tasks' other hierarchies stay as they are)",
    "thread-split": "a process split across cgroups by `--threads`",
    "thread-root": "a v2 target the move turns into a thread root (its domain children become `domain invalid`)",
}


def _path_of(source: object) -> str | None:
    """A verdict's source cgroup as a path (it may be a CgroupRef, `hier:/path` or `/path`)."""
    if source is None:
        return None
    if isinstance(source, CgroupRef):
        return source.path
    text = str(source)
    if text.startswith("/"):
        return text
    _, sep, path = text.partition(":")
    return path if sep and path.startswith("/") else None


def _name_pids(items: list[tuple[int, str]]) -> str:
    """`1234 (cron), 99 (sshd) and 3 more`."""
    named = [f"{pid} ({display(comm)})" if comm else str(pid) for pid, comm in items[:_NAMED]]
    text = ", ".join(named)
    if len(items) > _NAMED:
        text += f" and {len(items) - _NAMED} more"
    return text


def _join(words: Iterable[str]) -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _tasks(n: int) -> str:
    return f"{n} task" if n == 1 else f"{n} tasks"


def assess(plan: Plan, snapshot: Snapshot, backend: Reader) -> list[str]:
    """Sentences for every risky part of `plan`; empty when it may go ahead without asking
    (the kinds: `RISKS`, `assess_kinds`)."""
    return [sentence for _, sentence in assess_kinds(plan, snapshot, backend)]


def assess_kinds(plan: Plan, snapshot: Snapshot, backend: Reader) -> list[tuple[str, str]]:
    """`(kind, sentence)` for every risky part of `plan` (a kind of `RISKS`).

    Risky: PID 1; kernel threads; more than MANY_TASKS tasks at once; a systemd unit as a
    source or the target (what systemd then does to the task, as the lab measured it:
    ctrtui.engine.unitrisk); the name=systemd hierarchy (systemd's
    own record); a v1 hierarchy, where only that hierarchy's membership changes and the
    tasks stay in their cgroups of every other one (`hierarchy_note`: a person who thinks of
    "the task's cgroup" expects it to move everywhere); thread mode splitting a process
    across cgroups; a v2 target the move turns into a thread root (its domain children
    become `domain invalid`).
    """
    moves: list[tuple[int, Verdict]] = [(v.pid, v) for v in plan.verdicts if v.kind == "move" and v.pid is not None]
    if not moves:
        return []
    tasks: dict[int, TaskInfo | None] = {}
    for pid, v in moves:
        tasks[pid] = v.task if v.task is not None else backend.task_state(pid)
    risks = (_task_risks(plan.target, moves, tasks) + _systemd_risks(plan, moves, tasks, snapshot, backend)
             + _thread_risks(plan, moves, tasks, backend))
    for kind, _ in risks:
        assert kind in RISKS, kind  # a new kind goes in RISKS and in the README's list
    return risks


def _comm(tasks: Mapping[int, TaskInfo | None], pid: int) -> str:
    t = tasks.get(pid)
    return t.comm if t is not None else ""


def _task_risks(target: CgroupRef, moves: list[tuple[int, Verdict]],
                tasks: Mapping[int, TaskInfo | None]) -> list[tuple[str, str]]:
    """PID 1 (or one of its threads), kernel threads, many tasks at once."""
    risks = []
    init = [pid for pid, _ in moves if pid == 1 or ((t := tasks[pid]) is not None and t.tgid == 1)]
    if init:
        who = "PID 1" if init == [1] else f"PID 1's thread(s) {_join(str(p) for p in init)}"
        risks.append(("pid-1",
            f"{who} ({display(_comm(tasks, init[0])) or 'init'}) would move to {display(str(target))}: it is the init "
            f"process every other process depends on, and its cgroup limits apply to it."
        ))
    kthreads = [(pid, _comm(tasks, pid)) for pid, _ in moves if (t := tasks[pid]) is not None and t.kthread]
    if kthreads:
        risks.append(("kernel-threads",
            f"{_tasks(len(kthreads)).replace('task', 'kernel thread')} would move: "
            f"{_name_pids(kthreads)}. Kernel threads do kernel work; moving them changes which "
            f"limits that work runs under, and most tools do not expect it."
        ))
    if len(moves) > MANY_TASKS:
        risks.append(("many",
            f"{len(moves)} tasks would move at once to {display(str(target))} (more than {MANY_TASKS}); "
            f"check the list before going on."
        ))
    return risks


def _systemd_risks(plan: Plan, moves: list[tuple[int, Verdict]], tasks: Mapping[int, TaskInfo | None],
                   snapshot: Snapshot, backend: Reader) -> list[tuple[str, str]]:
    """The name=systemd hierarchy, a v1 hierarchy, a systemd unit as the target or a source.
    A move systemd makes itself (route `systemd`) is no hand placement: systemd knows the
    task is in the unit, and the risk says what that means."""
    risks = []
    target = plan.target
    hier = snapshot.get(target.hierarchy)
    hier_name = hier.name if hier is not None else target.hierarchy
    if hier_name == "name=systemd" or "name=systemd" in target.hierarchy:
        risks.append(("name=systemd",
            "The name=systemd hierarchy is systemd's own record of which unit owns which "
            "process; moving tasks in it confuses systemd about the units they belong to."
        ))
    note = hierarchy_note(target, snapshot)
    if note is not None:
        risks.append(("v1", note))
    unit = systemd_unit(target.path)
    into = _into_unit(plan, backend)
    if unit and into:
        risks.append(("systemd-unit", f"The target {display(str(target))} belongs to the systemd unit "
                      f"{display(unit)}: {into}"))
    by_unit: dict[str, list[tuple[int, str]]] = {}
    for pid, v in moves:
        src = _path_of(v.source)
        src_unit = systemd_unit(src) if src else None
        if src and src_unit and source_unit_risk(src, target.path):
            by_unit.setdefault(src_unit, []).append((pid, _comm(tasks, pid)))
    for src_unit, items in by_unit.items():
        if len(items) == 1:
            who, them = f"PID {_name_pids(items)}", "it"
        else:
            who, them = f"{len(items)} tasks ({_name_pids(items)})", "them"
        stop = (", the service manager's own scope" if src_unit in PERPETUAL else
                f", and systemctl stop of it no longer reaches {them}")
        risks.append(("systemd-unit",
            f"{who} would leave the systemd unit {display(src_unit)}: systemd stops accounting {them} to that "
            f"unit{stop}."
        ))
    return risks


def _into_unit(plan: Plan, backend: Reader) -> str | None:
    """What systemd does to a task in the plan's target unit: placed by hand (a kernel
    write), or by systemd itself (route `systemd`: a delegated unit)."""
    units = systemd_units(backend)
    h = plan.hierarchy
    if plan.route == "scope" and plan.scope is not None:
        return risk_for("new-scope", "systemd", plan.scope.name)
    if plan.route == "systemd" and units is not None:
        place = units.unit_placement(h.name, plan.target.path)
        if place is not None:
            return risk_for(risk_kind(place.kind, place.delegated), "systemd", place.unit)
    return target_unit_risk(h.name, h.version, plan.target.path, units)


def _thread_risks(plan: Plan, moves: list[tuple[int, Verdict]], tasks: Mapping[int, TaskInfo | None],
                  backend: Reader) -> list[tuple[str, str]]:
    """A v2 target the move turns into a thread root (its domain children turn 'domain
    invalid'); thread mode splitting a process across cgroups."""
    risks = []
    retyped = next((w for _, v in moves for w in v.warnings if MAKES_THREAD_ROOT in w), None)
    if retyped is not None:
        risks.append(("thread-root", retyped))
    if not plan.threads:
        return risks
    staying_put = {v.pid for v in plan.verdicts if v.kind == "already-there" and v.pid is not None}
    moving = {pid for pid, _ in moves}
    groups: dict[int, list[int]] = {}
    for pid, _ in moves:
        t = tasks[pid]
        groups.setdefault(t.tgid if t is not None else pid, []).append(pid)
    for tgid, tids in sorted(groups.items()):
        all_tids = set(backend.thread_ids(tgid))
        left = all_tids - moving - staying_put
        if left:
            name = display(_comm(tasks, tgid) or _comm(tasks, tids[0]))
            risks.append(("thread-split",
                f"Thread mode splits process {tgid}{f' ({name})' if name else ''}: "
                f"{len(tids)} of its {len(all_tids)} threads move to {display(str(plan.target))}, "
                f"{len(left)} stay where they are, so one process ends up in several cgroups."
            ))
    return risks


def hierarchy_note(target: CgroupRef, snapshot: Snapshot) -> str | None:
    """What a move into a v1 hierarchy leaves as it is, as a sentence (None for v2, or when
    no other hierarchy is mounted): only that hierarchy's membership changes; the tasks stay
    in their cgroups of every other hierarchy, and another hierarchy holding the same path
    is named (the user may have meant that one too). Shown in the target picker's preview,
    and a risk of the move (`assess`: the UI asks, `move` says it)."""
    hier = snapshot.get(target.hierarchy)
    if hier is None or hier.hierarchy.version != 1:
        return None
    others = [h for h in snapshot.hierarchies if h.name != hier.name]
    if not others:
        return None
    sentence = (
        f"Only the {display(hier.name)} hierarchy changes: in {_join(display(h.name) for h in others)} "
        f"these tasks stay in the cgroups they are in now (cgroup v1 hierarchies are "
        f"independent)."
    )
    same = [display(h.name) for h in others if target.path != "/" and target.path in h]
    if same:
        sentence += (
            f" {_join(same)} {'has' if len(same) == 1 else 'have'} a {display(target.path)} too; "
            f"move there separately if that is what you meant."
        )
    return sentence
