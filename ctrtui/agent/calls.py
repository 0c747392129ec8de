"""The agent's service calls: the typed operations of the host's `LocalService`
(ctrtui/service/local.py) answered over the protocol (docs/remote.md, "service calls"):
`prepare_writes`, `plan`, `plan_scope`, `risks`, `apply`, `undo`, `log`, `cgroup_op`, `stats`,
and the history calls (`history_*`, `recorder_*`: ctrtui/agent/historycalls.py).

Arguments are checked as every request's are (ctrtui/agent/checks.py; PIDs against the host's
pid_max, cgroups as a hierarchy mounted here and an absolute path without `.`/`..`); answers
are the values encoded by ctrtui/service/codec.py, which the local side decodes. The host's
engine, pidfds, policy and journal do the work: the real backend, the policy and journal of
the agent's user (its XDG dirs), as `ctrtui move` run there would.

A plan is judged here and applied here: `apply` takes back a plan this agent made (found by its
`created` time), and of the plan the local side hands back takes only what it may decide --
to leave out a PID the plan would move (a task the person no longer means); a verdict the
local side turned into a move is refused (`bad-request`). So what moves is what this host's
hooks and policy accepted, under the pidfds its engine holds.

Calls that change the host (`apply`, `undo`, `cgroup_op`) are refused (`read-only`) unless the
agent runs as root. A `CtrtuiError` of the service (a policy that cannot be read, a journal
that cannot be opened or is another's) is one `refused` error answer with its sentence.
"""

from __future__ import annotations

import os

from ctrtui.agent import checks as ck
from ctrtui.agent.checks import OpError
from ctrtui.agent.historycalls import HistoryCalls

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ctrtui.engine import Plan
    from ctrtui.model import CgroupRef
    from ctrtui.service.local import LocalService
    from ctrtui.sources.base import Reader

__all__ = ["CALLS", "KEPT_PLANS", "MAX_PIDS", "ServiceCalls"]

MAX_PIDS = 50_000
"""The most PID words one plan takes: its answer holds 4 JSON lists and objects a PID (the
verdict, its warnings, the task, its identity), and the local side reads at most
`ctrtui.remote.channel.MAX_CONTAINERS` (262,144) in one answer."""
KEPT_PLANS = 16
"""How many of its latest plans the agent keeps for `apply` (one connection's)."""
SIDE = "the local side"
"""How the codec names where a plan handed back came from."""


class ServiceCalls(HistoryCalls):
    """The service calls of one connection (`ctrtui.agent.ops.Agent` holds one): the host's
    `LocalService` on `backend()` (built on first use; one with the journal, one without for
    `--no-journal`) and the plans it made lately. `hierarchy(name, word)`: the name of the
    hierarchy mounted here that a request's word names (OpError: none)."""

    def __init__(self, backend: Callable[[], Reader], hierarchy: Callable[[str, Any], str],
                 journal_path: str | None = None) -> None:
        self._backend = backend
        self._hierarchy = hierarchy
        self._journal_path = journal_path  # None: the host's default (in-process worlds of tests name theirs)
        self._services: dict[bool, LocalService] = {}
        self._plans: list[tuple[bool, Plan]] = []

    @property
    def backend(self) -> Reader:
        return self._backend()

    def _service(self, journal: bool = True) -> LocalService:
        if journal not in self._services:
            from ctrtui.service.local import LocalService

            self._services[journal] = LocalService(self.backend, journal=journal,  # type: ignore[arg-type]
                                                   journal_path=self._journal_path)
        return self._services[journal]

    def _ref(self, name: str, v: Any) -> CgroupRef:
        """A cgroup as the codec encodes it: {hierarchy, path}, the hierarchy mounted here."""
        from ctrtui.model import CgroupRef

        a = ck.args(name, v, {"hierarchy": ck.word, "path": ck.path}, ("hierarchy", "path"))
        return CgroupRef(self._hierarchy(f"{name}.hierarchy", a["hierarchy"]), a["path"])

    def _writes(self, op: str) -> None:
        if os.geteuid() != 0:
            from ctrtui.agent.lines import hello

            who = hello()["user"] or f"uid {os.geteuid()}"
            raise OpError("read-only", f"'{op}' would change this host, and the agent runs as {who}, not root: "
                          "connect with --sudo to change it")

    def _run(self, fn: Any, *args: Any, **kw: Any) -> Any:
        from ctrtui.errors import CtrtuiError

        try:
            return fn(*args, **kw)
        except CtrtuiError as e:
            raise OpError("refused", str(e)) from None

    def close(self) -> None:
        """The connection went: a running recorder closes its file and lets go of its lock."""
        for service in self._services.values():
            service.recorder_close()

    # ------------------------------------------------------------------ the calls

    def op_prepare_writes(self, args: Any) -> None:
        a = ck.args("prepare_writes", args, {"journal": ck.bool_})
        self._run(self._service(a.get("journal", True)).prepare_writes)

    def _pids(self, words: list[str]) -> None:
        """Each PID word as `ctrtui move` takes it, against this host's pid_max (bad-request)."""
        from ctrtui.engine.parse import PidParseError, parse_pid

        pid_max = self.backend.pid_max
        for w in words:
            try:
                parse_pid(w, pid_max)
            except PidParseError as e:
                raise ck.bad(str(e)) from None

    def _keep(self, journal: bool, plan: Plan) -> dict[str, object]:
        from ctrtui.service.codec import encode_plan

        self._plans.append((journal, plan))
        del self._plans[:-KEPT_PLANS]
        return encode_plan(plan)

    def op_plan(self, args: Any) -> dict[str, object]:
        a = ck.args("plan", args, {"pids": ck.list_(_pid_word, MAX_PIDS), "target": self._ref, "threads": ck.bool_,
                                   "via": _via, "journal": ck.bool_}, ("pids", "target"))
        self._pids(a["pids"])
        journal = a.get("journal", True)
        return self._keep(journal, self._run(self._service(journal).plan, a["pids"], a["target"],
                                             threads=a.get("threads", False), via=a.get("via", "auto")))

    def op_plan_scope(self, args: Any) -> dict[str, object]:
        """A new transient scope for running tasks: what systemd would refuse before it is
        asked (not a systemd host, a bad name, slice or property) is kind `refused` with the
        engine's sentence."""
        from ctrtui.service.codec import CodecError, decode_scope

        a = ck.args("plan_scope", args, {"pids": ck.list_(_pid_word, MAX_PIDS), "scope": _object,
                                         "journal": ck.bool_}, ("pids", "scope"))
        try:
            scope = decode_scope(a["scope"], SIDE)
        except CodecError as e:
            raise ck.bad(f"'plan_scope': {e}") from None
        self._pids(a["pids"])
        journal = a.get("journal", True)
        return self._keep(journal, self._run(self._service(journal).plan_scope, a["pids"], scope))

    def _kept(self, op: str, given: Any) -> tuple[bool, Plan]:
        """The plan this agent made that `given` (an encoded plan) hands back, with the
        local side's choices (moves left out) applied; OpError when it made none such."""
        from ctrtui.service.codec import CodecError, decode_plan

        try:
            theirs = decode_plan(given, SIDE)
        except CodecError as e:
            raise ck.bad(f"'{op}': {e}") from None
        found = next(((j, m) for j, m in reversed(self._plans) if _same(m, theirs)), None)
        if found is None:
            raise OpError("not-found", f"'{op}': this agent made no such plan (or it is older than its last "
                          f"{KEPT_PLANS}): plan again")
        journal, mine = found
        verdicts = []
        for m, t in zip(mine.verdicts, theirs.verdicts):
            if t.kind == "move" and m.kind != "move":
                raise ck.bad(f"'{op}': the plan handed back would move '{t.text}', which this host did not accept")
            verdicts.append(m if t.kind == m.kind else t)  # the local side left this one out
        return journal, mine.replace(verdicts=tuple(verdicts))

    def op_risks(self, args: Any) -> list[str]:
        from ctrtui.service.codec import encode_risks

        a = ck.args("risks", args, {"plan": _object}, ("plan",))
        journal, plan = self._kept("risks", a["plan"])
        return encode_risks(self._service(journal).risks(plan))

    def op_apply(self, args: Any) -> dict[str, object]:
        from ctrtui.service.codec import encode_report

        a = ck.args("apply", args, {"plan": _object, "all_or_nothing": ck.bool_}, ("plan",))
        self._writes("apply")
        journal, plan = self._kept("apply", a["plan"])
        report = self._run(self._service(journal).apply, plan, all_or_nothing=a.get("all_or_nothing", False))
        return encode_report(report)

    def op_undo(self, args: Any) -> dict[str, object]:
        from ctrtui.service.codec import encode_undone

        a = ck.args("undo", args, {"batch": ck.optional(lambda n, v: ck.str_(n, v, 200)), "journal": ck.bool_})
        self._writes("undo")
        return encode_undone(self._run(self._service(a.get("journal", True)).undo, a.get("batch")))

    def op_log(self, args: Any) -> dict[str, object]:
        from ctrtui.service.codec import encode_log

        a = ck.args("log", args, {"limit": ck.optional(ck.int_(1, ck.MAX_ITEMS))})
        return encode_log(self._run(self._service().log, a.get("limit")))

    def op_cgroup_op(self, args: Any) -> dict[str, object]:
        from ctrtui.engine.opvalues import OPS
        from ctrtui.service.codec import encode_op_result

        a = ck.args("cgroup_op", args, {"op": ck.word, "cgroup": self._ref}, ("op", "cgroup"))
        if a["op"] not in OPS:
            raise ck.bad(f"'cgroup_op': 'op' must be one of {', '.join(OPS)}")
        self._writes(a["op"])
        return encode_op_result(self._run(self._service().cgroup_op, a["op"], a["cgroup"]))

    def op_stats(self, args: Any) -> dict[str, object]:
        from ctrtui.service.codec import encode_stats

        a = ck.args("stats", args, {"walks": _object, "interval": _interval}, ("walks", "interval"))
        if len(a["walks"]) > 64:
            raise ck.bad("'walks' names more than 64 hierarchies")
        walks = {self._hierarchy("walks", name): ck.list_(ck.path)(f"walks.{name}", paths)
                 for name, paths in a["walks"].items()}
        return encode_stats(self._run(self._service().stats, walks, a["interval"]))


CALLS = tuple(name[3:] for name in dir(ServiceCalls) if name.startswith("op_"))
"""The names of the service calls."""


def _same(mine: Plan, theirs: Plan) -> bool:
    """`theirs` is `mine` handed back: the same time, target and items."""
    return (mine.created == theirs.created and mine.target == theirs.target and mine.threads == theirs.threads
            and mine.route == theirs.route and mine.scope == theirs.scope
            and [(v.text, v.pid) for v in mine.verdicts] == [(v.text, v.pid) for v in theirs.verdicts])


def _pid_word(name: str, v: Any) -> str:
    """A PID word as `ctrtui move` takes it (an integer is taken as its decimal word)."""
    return str(v) if type(v) is int else ck.str_(name, v, 64)


def _via(name: str, v: Any) -> str:
    """The route asked for a move into a cgroup: `auto` or `kernel` (`scope` is `plan_scope`)."""
    if v not in ("auto", "kernel"):
        from ctrtui.text import display

        raise ck.bad(f"'{name}' must be 'auto' or 'kernel', not '{display(str(v))[:64]}'")
    return str(v)


def _object(name: str, v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ck.bad(f"'{name}' must be an object, not {ck.kind(v)}")
    return v


def _interval(name: str, v: Any) -> float:
    """Seconds between the two readings of `stats`: 0 (one reading) or above 0 up to 60."""
    if type(v) in (int, float) and v == 0:
        return 0.0
    seconds: float = ck.float_(0.0, 60.0)(name, v)
    return seconds
