"""Remote hosts in the terminal UI: how a host whose engine runs there is reached
(`remote_host`, `channel_link`) and how tasks are moved (`RemoteMover`) and cgroups changed
(`RemoteOps`) on it, through the host's own ctrtui reached by the agent's `cli` op (pidfds
and the journal cannot cross machines). What a host is to the UI (`HostView`, `Link`, its
states, the per-host timeout) is `ctrtui.ui.hostviews`; the movers' interface and this
machine's mover are `ctrtui.ui.hostmovers`. See docs/architecture.md, "Hosts in the terminal
UI".

What a remote host answers is hostile text: every string taken from its JSON is checked for
its type and scrubbed of control characters here (`_text`), and is escaped again where it is
shown (`ctrtui.ui.untrusted`).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ctrtui.engine import Plan, Report
from ctrtui.engine.engine import OUTCOMES, VERDICT_KINDS, Outcome, Verdict
from ctrtui.engine.ops import OPS, OpRefusal, OpResult
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef, Hierarchy
from ctrtui.sources.base import Reader
from ctrtui.text import display, scrub
from ctrtui.ui.hostmovers import CgroupOpsLike as CgroupOpsLike  # moved: ctrtui.ui.hostmovers
from ctrtui.ui.hostmovers import LocalMover as LocalMover  # moved: ctrtui.ui.hostmovers
from ctrtui.ui.hostmovers import Mover as Mover  # moved: ctrtui.ui.hostmovers
from ctrtui.ui.hostviews import CONNECTING as CONNECTING  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import DEAD as DEAD  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import OK as OK  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import OPS_OF_MOVER, TEXT_LIMIT, Link
from ctrtui.ui.hostviews import PROBE_TIMEOUT as PROBE_TIMEOUT  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import SLOW as SLOW  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import SLOW_MS as SLOW_MS  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import HostTimeout as HostTimeout  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import HostView as HostView  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import NoHost as NoHost  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import call_with_timeout as call_with_timeout  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import host_line as host_line  # moved: ctrtui.ui.hostviews
from ctrtui.ui.hostviews import local_host as local_host  # moved: ctrtui.ui.hostviews

if TYPE_CHECKING:
    from ctrtui.remote.connect import ConnectOptions
    from ctrtui.remote.ssh import HostSpec

__all__ = ["RemoteMover", "RemoteOps", "channel_link", "op_result", "parse_rows", "placeholder", "remote_host"]


def channel_link(channel: Any, name: str) -> Link:
    """The `Link` of a host reached through its agent's `channel` (`ctrtui.remote.channel`):
    a `RemoteReader`, moves through the host's `cli` op, read-only when the agent says so
    (its words, scrubbed), round trips measured with the cheapest request (`pid_max`).
    Blocking (reads pid_max): called in the connecting worker."""
    from ctrtui.remote.reader import RemoteReader

    reader = RemoteReader(channel)
    hello = channel.hello if isinstance(getattr(channel, "hello", None), dict) else {}
    read_only = None
    if hello.get("writable") is not True:
        why = hello.get("why_read_only")
        read_only = scrub(why)[:200] if isinstance(why, str) and why.strip() else "the host's agent may not write"
    notes = tuple(channel.left_open(f"--host {shlex.quote(name)}"))
    return Link(reader, RemoteMover(name, channel.cli, reader), read_only=read_only,
                probe=lambda: channel.call("pid_max"), close=channel.close, pid_max=reader.pid_max,
                notes=notes)


def remote_host(spec: HostSpec, options: ConnectOptions) -> HostView:
    """A host to reach over ssh, with its `ConnectOptions`: not connected yet; `connect` opens
    the channel (the transport keeps `options.timeout`, the view's timeout is the backstop a
    second later)."""
    name = spec.name

    def connect() -> Link:
        from ctrtui.remote.connect import connect as ssh_connect

        channel = ssh_connect(spec, options)
        try:
            return channel_link(channel, name)
        except BaseException:
            channel.close()
            raise

    return HostView(name, connect=connect, timeout=float(options.timeout) + 1.0)




def _no_cli(command: str, options: dict[str, Any]) -> CliAnswer:
    raise CtrtuiError("no host is connected yet")


def placeholder(hosts: int) -> Link:
    """What the app shows until one of its `hosts` is reached: nothing, read-only."""
    reader = NoHost()
    return Link(reader, RemoteMover("", _no_cli, reader),
                read_only=f"connecting to {hosts} host{'s' if hosts != 1 else ''}")


# ---------------------------------------------------------------------------- remote cgroup ops


_OP_OUTCOMES = ("done", "refused", "already-frozen", "already-thawed")


def op_result(obj: Mapping[str, Any], ref: CgroupRef | None, host: str) -> OpResult:
    """The `OpResult` a host's `ctrtui mkdir|rmdir|freeze|thaw --json` (or the undo of one)
    printed: one object, every field checked and scrubbed (CtrtuiError when it lies)."""
    try:
        op = _text(obj.get("op"), "op", optional=False)
        if op not in OPS:
            raise ValueError(f"the op {display(op)} is not one of {', '.join(OPS)}")
        outcome = obj.get("outcome")
        if outcome not in _OP_OUTCOMES:
            raise ValueError("the outcome is none of " + ", ".join(_OP_OUTCOMES))
        if ref is None:
            hier, sep, path = (_text(obj.get("cgroup"), "cgroup", optional=False) or "").partition(":")
            if not sep or not path.startswith("/"):
                raise ValueError("the cgroup is not HIERARCHY:/path")
            ref = CgroupRef(hier, path)
        refusal = None
        if outcome == "refused":
            refusal = OpRefusal(_text(obj.get("errno"), "errno"), _text(obj.get("reason"), "reason") or "refused",
                                _text(obj.get("advice"), "advice") or "")
        return OpResult(op, ref, outcome, refusal, predicted=obj.get("predicted") is True,
                        batch_id=_text(obj.get("batch"), "batch"), undo_of=_text(obj.get("undo_of"), "undo_of"),
                        journaled=obj.get("journaled") is True, warnings=_strings(obj.get("warnings"), "warnings"))
    except ValueError as exc:
        raise CtrtuiError(f"host {display(host)} answered an op that cannot be read ({exc})") from None


class RemoteOps:
    """Create, remove, freeze and thaw cgroups of a remote host, through its own ctrtui
    (`ctrtui mkdir|rmdir|freeze|thaw HIER:/path --json` by the agent's `cli` op): the host
    checks, journals (its own journal: `u` undoes there) and asks its kernel. The same
    interface as `ctrtui.engine.ops.CgroupOps` for `ctrtui.ui.cgroupactions.CgroupActions`."""

    def __init__(self, mover: RemoteMover) -> None:
        self.mover = mover

    def check(self, op: str, ref: CgroupRef) -> OpRefusal | None:
        """Nothing is predicted here: the host checks, and a refusal comes back with the result."""
        if op not in OPS:
            raise ValueError(f"unknown cgroup op {op!r}")
        return None

    def frozen(self, ref: CgroupRef) -> bool | None:
        """As `CgroupOps.frozen`, read from the host (one request)."""
        state = self.mover.reader.cgroup_state(ref.hierarchy, ref.path)
        if state is None or state.freezer_state is None:
            return None
        return state.freezer_state in ("FROZEN", "FREEZING", "1")

    def run(self, op: str, ref: CgroupRef, undo_of: str | None = None) -> OpResult:
        if op not in OPS:
            raise ValueError(f"unknown cgroup op {op!r}")
        _, obj = self.mover._run(op, {"cgroup": f"{ref.hierarchy}:{ref.path}", "json": True}, one_object=True)
        if not isinstance(obj, dict):
            raise CtrtuiError(f"host {display(self.mover.host)} answered `{op}` with no outcome")
        return op_result(obj, ref, self.mover.host)


# ---------------------------------------------------------------------------- remote moves


class CliAnswer(Protocol):
    """What the agent's `cli` op returns (`ctrtui.remote.channel.CliResult`)."""

    exit: int
    stdout: str
    stderr: str


_MOVE_OPTIONS = ("pids", "target", "threads", "dry_run", "all_or_nothing", "no_journal", "json")


def _text(value: object, what: str, optional: bool = True) -> str | None:
    """A string field of a host's answer: None (when allowed), else a str, scrubbed and cut."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a string")
    return scrub(value)[:TEXT_LIMIT]


def _pid(value: object) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not 0 < value < 1 << 31:
        raise ValueError("a pid is not a positive integer")
    return value


def _strings(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{what} is not a list")
    return tuple(_text(v, what, optional=False) or "" for v in value[:100])


def parse_rows(stdout: str, host: str) -> list[dict[str, Any]]:
    """The JSON rows a host's `ctrtui move/undo --json` printed (a list of objects), or
    ValueError saying what is wrong (the host's text is never trusted to be what it claims)."""
    from ctrtui.remote import hostjson

    try:
        rows = hostjson.loads(stdout)
    except ValueError as e:
        raise ValueError(f"host {display(host)} answered text that cannot be read: {e}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"host {display(host)} answered JSON that is not a list of rows")
    return rows


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("ctrtui: risk:") and not line.startswith("ctrtui: warning:"):
            return scrub(line.removeprefix("ctrtui: "))[:TEXT_LIMIT]
    return ""


def _warnings(stderr: str) -> tuple[str, ...]:
    return tuple(scrub(line.strip().removeprefix("ctrtui: warning: "))[:TEXT_LIMIT]
                 for line in stderr.splitlines() if line.strip().startswith("ctrtui: warning: "))[:20]


class RemoteMover:
    """Moves on a remote host, through the host's own ctrtui (the agent's `cli` op): the
    plan is `move --dry-run --json`, the batch `move --json`, the undo `undo --json`; the
    host's engine plans again, holds the pidfds, writes its own journal. The JSON answers
    become the same `Plan` and `Report` the local engine gives, so the picker, the confirm
    screen, the notifications and the move log draw them alike.

    The start times the UI saw are compared with the host's own `task_state` just before a
    batch is sent (a PID that now names another task is reported vanished and not sent);
    the host's engine guards the rest with its pidfds."""

    policy = None
    hooks: tuple[object, ...] = ()

    class _NoJournal:
        path = None
        """The journal is the host's (`$XDG_STATE_HOME/ctrtui/journal.jsonl` there)."""

    journal = _NoJournal()

    def __init__(self, host: str, cli: Callable[[str, dict[str, Any]], CliAnswer], reader: Reader) -> None:
        self.host = host
        self.cli = cli
        self.reader = reader

    @property
    def pid_max(self) -> int:
        return self.reader.pid_max

    def _hierarchy(self, name: str) -> Hierarchy:
        for h in self.reader.hierarchies():
            if h.name == name:
                return h
        raise CtrtuiError(f"host {display(self.host)} has no hierarchy {display(name)}")

    def _run(self, command: str, options: dict[str, Any], one_object: bool = False) -> tuple[CliAnswer, Any]:
        """Run `command` on the host: (its answer, its JSON rows, or with `one_object` also
        one JSON object). A usage error or a host failure is a CtrtuiError with its words."""
        answer = self.cli(command, options)
        exit_code = getattr(answer, "exit", None)
        stdout, stderr = getattr(answer, "stdout", ""), getattr(answer, "stderr", "")
        if not isinstance(stdout, str) or not isinstance(stderr, str) or type(exit_code) is not int:
            raise CtrtuiError(f"host {display(self.host)} answered `{command}` with something that is not a "
                              "command's outcome")
        if exit_code not in (0, 1):
            why = _first_line(stderr) or f"exit status {exit_code}"
            raise CtrtuiError(f"{command} on host {display(self.host)} failed: {why}")
        try:
            if one_object and stdout.strip().startswith("{"):
                from ctrtui.remote import hostjson

                obj = hostjson.loads(stdout)
                if not isinstance(obj, dict):
                    raise ValueError(f"host {display(self.host)} answered JSON that is not an object")
                return answer, obj
            rows = parse_rows(stdout, self.host) if stdout.strip() else []
        except ValueError as exc:
            raise CtrtuiError(f"{exc} to `{command}`; {_first_line(stderr)}".rstrip("; ")) from None
        return answer, rows

    def _starts(self, pids: Iterable[int]) -> dict[int, int | None]:
        out: dict[int, int | None] = {}
        for pid in pids:
            info = self.reader.task_state(pid)
            out[pid] = info.start_time if info is not None else None
        return out

    def _bad(self, exc: ValueError) -> CtrtuiError:
        return CtrtuiError(f"host {display(self.host)} answered a row that cannot be read ({exc})")

    def plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None) -> Plan:
        """`move --dry-run --json` on the host, as a `Plan` (nothing is written)."""
        try:
            return self._plan(pids, target, threads, expected_start)
        except ValueError as exc:
            raise self._bad(exc) from None

    def _plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool,
              expected_start: Mapping[int, int] | None) -> Plan:
        words = [str(p) for p in pids]
        hierarchy = self._hierarchy(target.hierarchy)
        _, rows = self._run("move", {"pids": words, "target": str(target), "threads": bool(threads),
                                     "dry_run": True, "all_or_nothing": False, "no_journal": False, "json": True})
        if len(rows) != len(words):
            raise CtrtuiError(f"host {display(self.host)} answered {len(rows)} rows for {len(words)} PIDs")
        starts = self._starts(p for p in (_pid(r.get("pid")) for r in rows) if p is not None)
        verdicts = []
        for row in rows:
            v = self._verdict(row, starts)
            expected = (expected_start or {}).get(v.pid) if v.pid is not None else None
            if v.kind == "move" and v.pid is not None and expected is not None and starts.get(v.pid) != expected:
                v = v.replace(kind="vanished", errno="ESRCH", hook="ui", reason=f"PID {v.pid} now names "
                              "another task (or it exited) since it was shown", advice="Refresh (r) and pick again.")
            verdicts.append(v)
        return Plan(target, bool(threads), tuple(verdicts), hierarchy)

    def _verdict(self, row: Mapping[str, Any], starts: Mapping[int, int | None]) -> Verdict:
        kind = row.get("outcome")
        kind = "move" if kind == "would-move" else kind
        if kind not in VERDICT_KINDS:
            raise CtrtuiError(f"host {display(self.host)} answered an unknown verdict {display(str(kind))}")
        pid = _pid(row.get("pid"))
        return Verdict(_text(row.get("input"), "input", optional=False) or "", pid, kind,
                       errno=_text(row.get("errno"), "errno"), hook=_text(row.get("hook"), "hook"),
                       reason=_text(row.get("reason"), "reason") or "", advice=_text(row.get("advice"), "advice") or "",
                       warnings=_strings(row.get("warnings"), "warnings"),
                       start_time=starts.get(pid) if pid is not None else None,
                       source=_text(row.get("from"), "from"))

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        """`move --json` of the plan's accepted PIDs on the host, as a `Report`."""
        try:
            return self._apply(plan, all_or_nothing)
        except ValueError as exc:
            raise self._bad(exc) from None

    def _apply(self, plan: Plan, all_or_nothing: bool) -> Report:
        accepted = [v for v in plan.accepted if v.pid is not None]
        starts = self._starts(v.pid for v in accepted if v.pid is not None)
        gone = [v for v in accepted if v.pid is not None and v.start_time is not None
                and starts.get(v.pid) != v.start_time]
        send = [v for v in accepted if v not in gone]
        outcomes: list[Outcome] = [Outcome(v.text, v.pid, "vanished", errno="ESRCH", hook="ui",
                                           reason=f"PID {v.pid} exited (or names another task) since it was planned",
                                           source=v.source, target=plan.target.path) for v in gone]
        batch, undo_of, journaled, interrupted = "", None, False, None
        warnings: tuple[str, ...] = ()
        if send:
            answer, rows = self._run("move", {
                "pids": [str(v.pid) for v in send], "target": str(plan.target), "threads": plan.threads,
                "dry_run": False, "all_or_nothing": bool(all_or_nothing), "no_journal": False, "json": True})
            warnings = _warnings(answer.stderr)
            got, batch, undo_of, journaled, interrupted = self._outcomes(rows, plan.target)
            outcomes = got + outcomes
        return Report(batch or "(none)", plan.target, plan.threads, tuple(outcomes), undo_of=undo_of,
                      warnings=warnings, journaled=journaled, interrupted=interrupted)

    def _outcomes(self, rows: Sequence[Mapping[str, Any]], target: CgroupRef
                  ) -> tuple[list[Outcome], str, str | None, bool, str | None]:
        out = []
        batch, undo_of, journaled, interrupted = "", None, False, None
        for row in rows:
            kind = row.get("outcome")
            if kind not in OUTCOMES:
                raise CtrtuiError(f"host {display(self.host)} answered an unknown outcome {display(str(kind))}")
            to = _text(row.get("to"), "to") or str(target)
            hier, _, path = to.partition(":")
            if hier != target.hierarchy:
                path = target.path
            out.append(Outcome(_text(row.get("input"), "input", optional=False) or "", _pid(row.get("pid")), kind,
                               errno=_text(row.get("errno"), "errno"), hook=_text(row.get("hook"), "hook"),
                               reason=_text(row.get("reason"), "reason") or "",
                               advice=_text(row.get("advice"), "advice") or "",
                               warnings=_strings(row.get("warnings"), "warnings"),
                               source=_text(row.get("from"), "from"), target=path or None))
            batch = _text(row.get("batch"), "batch") or batch
            undo_of = _text(row.get("undo_of"), "undo_of") or undo_of
            journaled = journaled or row.get("journaled") is True
            interrupted = _text(row.get("interrupted"), "interrupted") or interrupted
        return out, batch, undo_of, journaled, interrupted

    def undo(self) -> Report | OpResult | None:
        """`undo --json` on the host: the report of the undone batch, None when nothing is
        left to undo, or the `OpResult` when the host undid a cgroup op (mkdir, rmdir, freeze,
        thaw)."""
        try:
            return self._undo()
        except ValueError as exc:
            raise self._bad(exc) from None

    def _undo(self) -> Report | OpResult | None:
        answer, out = self._run("undo", {"batch": None, "json": True}, one_object=True)
        if isinstance(out, dict):  # a cgroup op was undone: one object, as `ctrtui mkdir --json` prints
            return op_result(out, None, self.host)
        rows = out
        if not rows:
            return None
        first = rows[0]
        to = _text(first.get("to"), "to") or ""
        hier, _, path = to.partition(":")
        target = CgroupRef(hier or "?", path or "/")
        outcomes, batch, undo_of, journaled, interrupted = self._outcomes(rows, target)
        return Report(batch or "(none)", target, False, tuple(outcomes), undo_of=undo_of,
                      warnings=_warnings(answer.stderr), journaled=journaled, interrupted=interrupted)


OPS_OF_MOVER[RemoteMover] = RemoteOps  # a Link to a remote host changes its cgroups through its mover
