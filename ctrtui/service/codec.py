"""The agent protocol's codec: every value that crosses between the local side and a host's
agent (docs/remote.md, "typed operations"), as plain JSON-able dicts and back.

Both ends use it: the agent encodes what its `LocalService` returns and decodes the plan the
local side hands back to `apply`; the local side (`ctrtui.remote.service.RemoteService`)
encodes its requests and decodes the answers. `encode_*` take model and engine values and give
dicts, lists, strings, numbers, booleans and None; `decode_*` take what JSON gave and check
every field's type and range (the other side is hostile: a host answering may be anything),
giving the value again, or `CodecError` with one sentence naming the side it came from. A
decoded value equals the encoded one, field for field (the round trip of tests/unit/test_codec.py).

Values: `Plan` (its `Verdict`s, `Hierarchy`, the tasks' facts, its `route` and the new scope
it starts: `ScopeRequest`), `Report` (its `Outcome`s),
`OpResult` (its `OpRefusal`), `Undone`, `BatchLog` (as `ctrtui log --json`'s rows), the
stats (hierarchy -> path -> `Figures`), risks (sentences) and errors (`{kind, message, errno}`).

This module travels to hosts (ctrtui/remote/bundle.py): standard library only, Python 3.9.
"""

from __future__ import annotations

import math
import re

from ctrtui.engine.opvalues import ALREADY, OPS, OpRefusal, OpResult
from ctrtui.engine.values import OUTCOMES, ROUTES, VERDICT_KINDS, Outcome, Plan, Report, ScopeRequest, Verdict
from ctrtui.model import CgroupRef, Hierarchy, TaskInfo
from ctrtui.model.cgstats import PRESSURE, Figures
from ctrtui.service.values import BatchLog, Undone

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

__all__ = [
    "CodecError", "ERROR_KINDS", "MAX_INT", "MAX_ITEMS", "MAX_TEXT",
    "MAX_PROPERTIES", "MAX_UNIT_NAME",
    "decode_error", "decode_log", "decode_op_result", "decode_plan", "decode_report", "decode_risks",
    "decode_scope", "decode_stats", "decode_undone", "encode_error", "encode_log", "encode_op_result",
    "encode_plan", "encode_report", "encode_risks", "encode_scope", "encode_stats", "encode_undone",
]

MAX_INT = 2 ** 63
"""Integers lie in 0 <= x < MAX_INT (times, sizes, counters), floats are finite and below it:
the same bound as ctrtui/remote/hostjson.py's (tests/unit/test_codec.py holds them equal)."""
MAX_TEXT = 65536
"""The longest text of one field (characters): a cgroup path, a reason, a command line."""
MAX_ITEMS = 1_000_000
"""The longest list (verdicts, outcomes, batches, cgroups of a stats answer)."""
MAX_WARNINGS = 10_000
"""The most warnings (or risks) one value carries."""
MAX_UNIT_NAME = 256
"""The longest unit name (characters): systemd's UNIT_NAME_MAX is 255 bytes."""
MAX_PROPERTIES = 256
"""The most `-p PROPERTY=VALUE` of one new scope (each a text of at most MAX_TEXT characters)."""
PID_LIMIT = 2 ** 22
"""PIDs lie in 1..PID_LIMIT (the largest pid_max of any Linux)."""
ERROR_KINDS = ("bad-request", "read-only", "not-found", "os-error", "refused", "internal", "protocol")
"""What an error answer's `kind` may be: `refused` is a `CtrtuiError` of the host's service
(a policy that cannot be read, a journal that cannot be opened: its sentence)."""
OP_OUTCOMES = ("done", "refused", *ALREADY.values())
_ERRNO = re.compile(r"(E[A-Z0-9]{1,30}|errno [0-9]{1,10})\Z")
"""An errno name, or what ctrtui.errors.errno_name says of a number it has no name for."""


class CodecError(ValueError):
    """A value that is not what the protocol carries: one sentence naming where it came from."""


# ----------------------------------------------------------------------------- checks


class _Fields:
    """The fields of one object being decoded: each read once, checked, named in the error."""

    def __init__(self, obj: object, what: str, side: str) -> None:
        self.what, self.side = what, side
        if not isinstance(obj, dict):
            raise self.bad(f"is {_kind(obj)}, not an object")
        self.obj: dict[str, Any] = obj

    def bad(self, why: str) -> CodecError:
        return CodecError(f"{self.side} answered {self.what} that cannot be read: it {why}")

    def get(self, name: str, types: tuple[type, ...]) -> Any:
        if name not in self.obj:
            raise self.bad(f"has no field '{name}'")
        v = self.obj[name]
        if type(v) not in types:
            raise self.bad(f"has '{name}' {_kind(v)}")
        return v

    def text(self, name: str, optional: bool = False, limit: int = MAX_TEXT) -> Any:
        v = self.get(name, (str, type(None)) if optional else (str,))
        if v is not None and (len(v) > limit or "\0" in v):
            raise self.bad(f"has '{name}' longer than {limit} characters or holding a NUL")
        return v

    def integer(self, name: str, lo: int = 0, hi: int = MAX_INT - 1, optional: bool = False) -> Any:
        v = self.get(name, (int, type(None)) if optional else (int,))
        if v is not None and not lo <= v <= hi:
            shown = v if v.bit_length() <= 64 else f"an integer of {v.bit_length()} bits"
            raise self.bad(f"has '{name}' {shown}, outside {lo}..{hi}")
        return v

    def number(self, name: str, optional: bool = False) -> Any:
        v = self.get(name, (int, float, type(None)) if optional else (int, float))
        if v is None:
            return None
        if not (math.isfinite(v) and -MAX_INT < v < MAX_INT):
            raise self.bad(f"has '{name}' beyond 64 bits")
        return float(v)

    def flag(self, name: str) -> bool:
        return bool(self.get(name, (bool,)))

    def choice(self, name: str, allowed: Sequence[str], optional: bool = False) -> Any:
        v = self.text(name, optional, 64)
        if v is not None and v not in allowed:
            raise self.bad(f"has '{name}' {v[:64]!r}, not one of {', '.join(allowed)}")
        return v

    def errno(self, name: str = "errno") -> Any:
        v = self.text(name, optional=True, limit=32)
        if v is not None and not _ERRNO.match(v):
            raise self.bad(f"has '{name}' that is not an errno name")
        return v

    def pid(self, name: str = "pid") -> Any:
        return self.integer(name, 1, PID_LIMIT, optional=True)

    def texts(self, name: str, limit: int = MAX_WARNINGS) -> tuple[str, ...]:
        return tuple(self.items(name, limit, lambda i, v: _text_item(self, f"{name}[{i}]", v)))

    def items(self, name: str, limit: int, each: Callable[[int, Any], Any]) -> list[Any]:
        v = self.get(name, (list,))
        if len(v) > limit:
            raise self.bad(f"has more than {limit} items in '{name}'")
        return [each(i, x) for i, x in enumerate(v)]

    def sub(self, name: str, what: str, optional: bool = False) -> _Fields | None:
        v = self.get(name, (dict, type(None)) if optional else (dict,))
        return None if v is None else _Fields(v, what, self.side)


def _text_item(f: _Fields, name: str, v: object) -> str:
    if type(v) is not str or len(v) > MAX_TEXT or "\0" in v:
        raise f.bad(f"has '{name}' that is not a text of at most {MAX_TEXT} characters")
    return v


def _kind(v: object) -> str:
    return {type(None): "null", bool: "true/false", int: "an integer", float: "a number", str: "a text",
            list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def _path(f: _Fields, name: str, optional: bool = False) -> Any:
    v = f.text(name, optional)
    if v is not None and not v.startswith("/"):
        raise f.bad(f"has '{name}' that is not an absolute cgroup path")
    return v


def _ref(f: _Fields, name: str) -> CgroupRef:
    g = f.sub(name, f"the cgroup of {f.what}")
    assert g is not None
    return CgroupRef(g.text("hierarchy", limit=255), _path(g, "path"))


def _encode_ref(ref: CgroupRef) -> dict[str, object]:
    return {"hierarchy": ref.hierarchy, "path": ref.path}


# ----------------------------------------------------------------------------- plans


def _encode_hierarchy(h: Hierarchy) -> dict[str, object]:
    return {"name": h.name, "version": h.version, "controllers": list(h.controllers), "mount": h.mount,
            "root": h.root, "hierarchy_id": h.hierarchy_id}


def _hierarchy(f: _Fields) -> Hierarchy:
    return Hierarchy(f.text("name", limit=255), f.integer("version", 1, 2), f.texts("controllers", 64),
                     f.text("mount", limit=4096), _path(f, "root"), f.integer("hierarchy_id", 0, 2 ** 31 - 1))


_TASK_INTS = {"pid": (1, PID_LIMIT), "tgid": (1, PID_LIMIT), "uid": (0, 2 ** 32 - 1), "euid": (0, 2 ** 32 - 1),
              "suid": (0, 2 ** 32 - 1), "start_time": (0, MAX_INT - 1), "flags": (0, MAX_INT - 1),
              "threads": (0, 2 ** 31 - 1), "ppid": (0, PID_LIMIT)}
"""A task's integers and their ranges (those of ctrtui/remote/reader.py's task answers)."""


def _encode_task(t: TaskInfo) -> dict[str, object]:
    cpu = t.cpu_percent
    return {"pid": t.pid, "tgid": t.tgid, "comm": t.comm, "state": t.state, "uid": t.uid, "euid": t.euid,
            "suid": t.suid, "start_time": t.start_time, "flags": t.flags, "threads": t.threads,
            "cmdline": t.cmdline, "user": t.user, "rss": t.rss, "ppid": t.ppid,
            "cpu_percent": cpu if cpu is None or math.isfinite(cpu) else None}


def _task(f: _Fields) -> TaskInfo:
    ints = {name: f.integer(name, lo, hi) for name, (lo, hi) in _TASK_INTS.items()}
    return TaskInfo(comm=f.text("comm", limit=64), state=f.text("state", limit=16),
                    cmdline=f.text("cmdline", optional=True), user=f.text("user", optional=True, limit=256),
                    cpu_percent=f.number("cpu_percent", optional=True),
                    rss=f.integer("rss", optional=True), **ints)


def _encode_verdict(v: Verdict) -> dict[str, object]:
    identity = v.identity
    if identity is not None and not all(type(x) is int and 0 <= x < 2 ** 64 for x in identity):
        identity = None  # only a kernel's numbers travel (a simulated world's are its own)
    return {"text": v.text, "pid": v.pid, "kind": v.kind, "errno": v.errno, "hook": v.hook, "reason": v.reason,
            "advice": v.advice, "warnings": list(v.warnings), "start_time": v.start_time, "source": v.source,
            "task": None if v.task is None else _encode_task(v.task),
            "identity": None if identity is None else list(identity)}


def _verdict(f: _Fields) -> Verdict:
    task = f.sub("task", "a task of a plan", optional=True)
    identity = f.get("identity", (list, type(None)))
    if identity is not None:
        if len(identity) > 8 or not all(type(x) is int and 0 <= x < 2 ** 64 for x in identity):
            raise f.bad("has an 'identity' that is not a task's numbers")
        identity = tuple(identity)
    return Verdict(f.text("text", limit=4096), f.pid(), f.choice("kind", VERDICT_KINDS), errno=f.errno(),
                   hook=f.text("hook", optional=True, limit=256), reason=f.text("reason"), advice=f.text("advice"),
                   warnings=f.texts("warnings"), start_time=f.integer("start_time", optional=True),
                   source=_path(f, "source", optional=True), task=None if task is None else _task(task),
                   identity=identity)


def encode_scope(scope: ScopeRequest) -> dict[str, object]:
    """A new transient scope asked for (`move --scope NAME [--slice SLICE] [-p P=V]...`)."""
    return {"name": scope.name, "slice": scope.slice, "properties": list(scope.properties)}


def _scope(f: _Fields) -> ScopeRequest:
    """Bounded and typed only: what systemd accepts (a scope's name, a slice's, a property) is
    judged by the engine of the host that plans it (ctrtui.engine.scopecheck)."""
    return ScopeRequest(f.text("name", limit=MAX_UNIT_NAME), f.text("slice", optional=True, limit=MAX_UNIT_NAME),
                        f.texts("properties", MAX_PROPERTIES))


def decode_scope(obj: object, side: str) -> ScopeRequest:
    return _scope(_Fields(obj, "a new scope", side))


def encode_plan(plan: Plan) -> dict[str, object]:
    return {"target": _encode_ref(plan.target), "threads": plan.threads, "hierarchy": _encode_hierarchy(plan.hierarchy),
            "created": plan.created, "route": plan.route,
            "scope": None if plan.scope is None else encode_scope(plan.scope),
            "verdicts": [_encode_verdict(v) for v in plan.verdicts]}


def decode_plan(obj: object, side: str) -> Plan:
    f = _Fields(obj, "a plan", side)
    h = f.sub("hierarchy", "the hierarchy of a plan")
    assert h is not None
    verdicts = f.items("verdicts", MAX_ITEMS, lambda i, v: _verdict(_Fields(v, "a verdict of a plan", side)))
    route = f.choice("route", ROUTES)
    scope = f.get("scope", (dict, type(None)))
    if (route == "scope") != (scope is not None):
        raise f.bad(f"has route '{route}' and {'a' if scope is not None else 'no'} new scope")
    return Plan(_ref(f, "target"), f.flag("threads"), tuple(verdicts), _hierarchy(h), f.number("created"),
                route=route, scope=None if scope is None else decode_scope(scope, side))


# ----------------------------------------------------------------------------- reports


def _encode_outcome(o: Outcome) -> dict[str, object]:
    return {"text": o.text, "pid": o.pid, "outcome": o.outcome, "errno": o.errno, "hook": o.hook,
            "reason": o.reason, "advice": o.advice, "warnings": list(o.warnings), "source": o.source,
            "target": o.target, "start_time": o.start_time}


def _outcome(f: _Fields) -> Outcome:
    return Outcome(f.text("text", limit=4096), f.pid(), f.choice("outcome", OUTCOMES), errno=f.errno(),
                   hook=f.text("hook", optional=True, limit=256), reason=f.text("reason"), advice=f.text("advice"),
                   warnings=f.texts("warnings"), source=_path(f, "source", optional=True),
                   target=_path(f, "target", optional=True), start_time=f.integer("start_time", optional=True))


def encode_report(report: Report) -> dict[str, object]:
    return {"batch_id": report.batch_id, "target": _encode_ref(report.target), "threads": report.threads,
            "outcomes": [_encode_outcome(o) for o in report.outcomes], "rolled_back": report.rolled_back,
            "undo_of": report.undo_of, "warnings": list(report.warnings), "journaled": report.journaled,
            "interrupted": report.interrupted}


def decode_report(obj: object, side: str) -> Report:
    f = _Fields(obj, "a report", side)
    outcomes = f.items("outcomes", MAX_ITEMS, lambda i, v: _outcome(_Fields(v, "an outcome of a report", side)))
    return Report(f.text("batch_id", limit=200), _ref(f, "target"), f.flag("threads"), tuple(outcomes),
                  rolled_back=f.flag("rolled_back"), undo_of=f.text("undo_of", optional=True, limit=200),
                  warnings=f.texts("warnings"), journaled=f.flag("journaled"),
                  interrupted=f.text("interrupted", optional=True, limit=64))


# ----------------------------------------------------------------------------- cgroup ops


def encode_op_result(r: OpResult) -> dict[str, object]:
    refusal = r.refusal
    return {"op": r.op, "ref": _encode_ref(r.ref), "outcome": r.outcome,
            "refusal": None if refusal is None else {"errno": refusal.errno, "reason": refusal.reason,
                                                     "advice": refusal.advice},
            "predicted": r.predicted, "batch_id": r.batch_id, "undo_of": r.undo_of, "journaled": r.journaled,
            "warnings": list(r.warnings)}


def decode_op_result(obj: object, side: str) -> OpResult:
    f = _Fields(obj, "a cgroup op's result", side)
    outcome = f.choice("outcome", OP_OUTCOMES)
    g = f.sub("refusal", "the refusal of a cgroup op", optional=True)
    refusal = None if g is None else OpRefusal(g.errno(), g.text("reason"), g.text("advice"))
    if (outcome == "refused") != (refusal is not None):
        raise f.bad("has a refusal that does not match its outcome")
    return OpResult(f.choice("op", OPS), _ref(f, "ref"), outcome, refusal, predicted=f.flag("predicted"),
                    batch_id=f.text("batch_id", optional=True, limit=200),
                    undo_of=f.text("undo_of", optional=True, limit=200), journaled=f.flag("journaled"),
                    warnings=f.texts("warnings"))


# ----------------------------------------------------------------------------- undo and the log


def encode_undone(u: Undone) -> dict[str, object]:
    return {"report": None if u.report is None else encode_report(u.report),
            "op": None if u.op is None else encode_op_result(u.op),
            "nothing_left": u.nothing_left, "warnings": list(u.warnings)}


def decode_undone(obj: object, side: str) -> Undone:
    f = _Fields(obj, "an undo's result", side)
    report, op = f.get("report", (dict, type(None))), f.get("op", (dict, type(None)))
    if report is not None and op is not None:
        raise f.bad("holds both a report and a cgroup op")
    return Undone(report=None if report is None else decode_report(report, side),
                  op=None if op is None else decode_op_result(op, side),
                  nothing_left=f.text("nothing_left"), warnings=f.texts("warnings"))


_ROW_STATES = ("open", "running", "done", "refused", "interrupted", "partly undone", "undone",
               "cannot be undone: origin gone", "cannot be undone: tasks gone", "unknown to this version")
"""A log row's `state` (`Batch.status()`, and `running` for the batch a live writer holds)."""


def _log_row(f: _Fields) -> dict[str, object]:
    counts = f.sub("counts", "the counts of a batch")
    assert counts is not None
    if len(counts.obj) > len(OUTCOMES) or any(k not in OUTCOMES for k in counts.obj):
        raise counts.bad("names something that is not an outcome")
    return {"batch": f.text("batch", limit=200), "backend": f.text("backend", optional=True, limit=4096),
            "time": f.text("time", limit=64), "hierarchy": f.text("hierarchy", limit=255),
            "target": f.text("target", optional=True), "threads": f.flag("threads"),
            "undo_of": f.text("undo_of", optional=True, limit=200), "state": f.choice("state", _ROW_STATES),
            "closed": f.text("closed", optional=True, limit=64), "tasks": f.integer("tasks", 0, MAX_ITEMS * 16),
            "counts": {k: counts.integer(k, 0, MAX_ITEMS * 16) for k in counts.obj},
            "undone": f.integer("undone", 0, MAX_ITEMS * 16), "undoable": f.integer("undoable", 0, MAX_ITEMS * 16),
            "op": f.choice("op", OPS, optional=True), "errno": f.errno(), "version": f.integer("version", 0, 2 ** 31),
            "writer_pid": f.integer("writer_pid", 1, MAX_INT - 1, optional=True)}


def encode_log(log: BatchLog) -> dict[str, object]:
    return {"rows": log.rows(), "path": log.path, "warnings": list(log.warnings)}


def decode_log(obj: object, side: str) -> BatchLog:
    f = _Fields(obj, "the journal's batches", side)
    rows = f.items("rows", MAX_ITEMS, lambda i, v: _log_row(_Fields(v, "a batch of the journal", side)))
    return BatchLog.of_rows(rows, f.text("path", optional=True, limit=4096), f.texts("warnings"))


# ----------------------------------------------------------------------------- stats, risks, errors


def _encode_figures(x: Figures) -> dict[str, object]:
    def finite(v: float | None) -> float | None:
        return v if v is None or math.isfinite(v) else None

    return {"cpu": finite(x.cpu), "memory": x.memory, "read": finite(x.read), "write": finite(x.write),
            "pids": x.pids, "pids_max": x.pids_max, "frozen": x.frozen, "swap": x.swap,
            "pressure": [finite(p) for p in x.pressure]}


def _figures(f: _Fields) -> Figures:
    pressure = f.items("pressure", len(PRESSURE), lambda i, v: _Fields({"p": v}, f.what, f.side).number(
        "p", optional=True))
    if len(pressure) != len(PRESSURE):
        raise f.bad(f"has {len(pressure)} pressure figures, not {len(PRESSURE)}")
    return Figures(cpu=f.number("cpu", optional=True), memory=f.integer("memory", optional=True),
                   read=f.number("read", optional=True), write=f.number("write", optional=True),
                   pids=f.integer("pids", optional=True), pids_max=f.integer("pids_max", optional=True),
                   frozen=f.get("frozen", (bool, type(None))), swap=f.integer("swap", optional=True),
                   pressure=tuple(pressure))


def encode_stats(stats: Mapping[str, Mapping[str, Figures]]) -> dict[str, object]:
    return {name: {path: _encode_figures(x) for path, x in by_path.items()} for name, by_path in stats.items()}


def decode_stats(obj: object, side: str) -> dict[str, dict[str, Figures]]:
    f = _Fields(obj, "cgroup figures", side)
    if len(f.obj) > 64:
        raise f.bad("names more than 64 hierarchies")
    out: dict[str, dict[str, Figures]] = {}
    total = 0
    for name in f.obj:
        g = f.sub(name, "the figures of a hierarchy")
        assert g is not None
        total += len(g.obj)
        if len(name) > 255 or total > MAX_ITEMS:
            raise f.bad(f"names more than {MAX_ITEMS} cgroups, or a hierarchy name too long")
        out[name] = {}
        for path in g.obj:
            if not path.startswith("/") or len(path) > MAX_TEXT:
                raise g.bad("names something that is not a cgroup path")
            h = g.sub(path, "the figures of a cgroup")
            assert h is not None
            out[name][path] = _figures(h)
    return out


def encode_risks(risks: Sequence[str]) -> list[str]:
    return list(risks)


def decode_risks(obj: object, side: str) -> list[str]:
    return list(_Fields({"risks": obj}, "the risks of a move", side).texts("risks"))


def encode_error(kind: str, message: str, errno: str | None = None) -> dict[str, object]:
    return {"kind": kind, "message": message, "errno": errno}


def decode_error(obj: object, side: str) -> tuple[str, str, str | None]:
    """(kind, message, errno name or None) of an error answer."""
    f = _Fields(obj, "an error", side)
    return f.choice("kind", ERROR_KINDS), f.text("message"), f.errno()
