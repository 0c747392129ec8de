"""Hosts in the terminal UI: what one host is to the UI (`HostView`), how it is reached
(`Link`), and how tasks are moved on a host whose engine runs there (`RemoteMover`).

A host is a name, a `Reader` (where its snapshots come from: the local backend, or a
`RemoteReader` over SSH) and a mover (what plans, applies and undoes moves on it: the local
`AttachEngine`, or the host's own ctrtui reached through the agent's `cli` op, since pidfds
and the journal cannot cross machines; cgroup ops likewise: `RemoteOps`). The UI shows one
host at a time (its hierarchies, tree and task list, exactly as with one machine); the host
switcher (`ctrtui.ui.screens.hosts`) lists them all with their state and switches between
them; the "find across hosts" screen asks every connected host at once. See docs/architecture.md,
"Hosts in the terminal UI", for why a switcher and not a tree level.

Everything that contacts a host runs in a thread and is bounded by a per-host timeout
(`call_with_timeout`): a dead or slow host is shown as such and never blocks the UI or the
other hosts.

What a remote host answers is hostile text: every string taken from its JSON is checked for
its type and scrubbed of control characters here (`_text`), and is escaped again where it is
shown (`ctrtui.ui.untrusted`).
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ctrtui.engine import AttachEngine, Plan, Report
from ctrtui.engine.engine import OUTCOMES, VERDICT_KINDS, Outcome, Verdict
from ctrtui.engine.ops import OPS, CgroupOps, OpRefusal, OpResult
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef, Hierarchy, Snapshot
from ctrtui.sources.base import Reader
from ctrtui.text import display, scrub

if TYPE_CHECKING:
    from ctrtui.remote.connect import ConnectOptions
    from ctrtui.remote.ssh import HostSpec

__all__ = [
    "CONNECTING", "DEAD", "HostView", "Link", "NoHost", "OK", "PROBE_TIMEOUT", "RemoteMover", "SLOW", "SLOW_MS",
    "call_with_timeout", "channel_link", "host_line", "local_host", "parse_rows", "placeholder", "remote_host",
]

CONNECTING = "connecting"
OK = "ok"
SLOW = "slow"
DEAD = "dead"
STATES = (CONNECTING, OK, SLOW, DEAD)
"""What the switcher says of a host: being reached, answering, answering slowly (or not
within the probe's timeout), or not usable (with one sentence saying why)."""

SLOW_MS = 500.0
"""A round trip longer than this (milliseconds) shows the host as slow."""
PROBE_TIMEOUT = 10.0
"""Seconds a probe (or a connection attempt of an in-process host) may take before the host
is shown as not answering."""
TEXT_LIMIT = 2000
"""Characters kept of one string a host answers (a reason, a path): more is cut."""


class HostTimeout(CtrtuiError):
    """A host did not answer within its timeout (the message names the host and the time)."""


def call_with_timeout(fn: Callable[[], Any], timeout: float, what: str,
                      late: Callable[[Any], None] | None = None) -> Any:
    """`fn()` run in a daemon thread, waited for at most `timeout` seconds: its result, or
    its exception re-raised, or `HostTimeout` naming `what` when it did not finish in time
    (the thread is left to finish on its own: a hung call never holds the caller). `late`
    gets a result that comes after the caller gave up (to close a connection nobody holds)."""
    done = threading.Event()
    lock = threading.Lock()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            result = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc
            done.set()
            return
        with lock:
            abandoned = "gave-up" in box
            box["result"] = result
            done.set()
        if abandoned and late is not None:
            late(result)

    threading.Thread(target=run, name=f"ctrtui {what}", daemon=True).start()
    if not done.wait(timeout):
        with lock:
            if not done.is_set():
                box["gave-up"] = True
                raise HostTimeout(f"{what} did not answer within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box.get("result")


def reason_of(exc: BaseException) -> str:
    """One sentence for a person saying why a host could not be used (`HostError`'s own
    sentence, else the error's words), scrubbed."""
    from ctrtui.report import describe_error

    if getattr(exc, "kind", None) and isinstance(getattr(exc, "message", None), str):  # HostError: the name is
        hint = getattr(exc, "hint", "")                                               # shown beside it already
        text = f"{exc.message}; {hint}" if isinstance(hint, str) and hint else exc.message  # type: ignore[attr-defined]
    else:
        text = describe_error(exc)
    return scrub(text.strip().splitlines()[0] if text.strip() else type(exc).__name__)[:TEXT_LIMIT]


class Mover(Protocol):
    """What the UI moves tasks with: `plan` (a preview, nothing written), `apply` (writes,
    journaled where the tasks live), `undo` (the newest batch of the host's journal, a move or
    a cgroup op: its `Report` or `OpResult`, None when nothing is left). This machine's is a
    `LocalMover`; a remote host's a `RemoteMover`. The UI calls these and nothing else."""

    @property
    def pid_max(self) -> int: ...

    def plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None) -> Plan: ...

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report: ...

    def undo(self) -> Report | OpResult | None: ...


class CgroupOpsLike(Protocol):
    """What the UI makes, removes, freezes and thaws cgroups with (`CgroupOps` here,
    `RemoteOps` on a remote host): a predicted refusal, the freezer state, the op itself."""

    def check(self, op: str, ref: CgroupRef) -> OpRefusal | None: ...

    def frozen(self, ref: CgroupRef) -> bool | None: ...

    def run(self, op: str, ref: CgroupRef, undo_of: str | None = None) -> OpResult: ...


class LocalMover:
    """This machine's moves for the UI: its `AttachEngine` behind the methods a remote host's
    mover has (`Mover`), so the UI never asks which kind it holds. `undo` is
    `ctrtui.engine.ops.undo_any`: the newest batch, a move or a cgroup op."""

    def __init__(self, engine: AttachEngine) -> None:
        self.engine = engine

    @property
    def pid_max(self) -> int:
        return self.engine.pid_max

    @property
    def nothing_left(self) -> str:
        """Why the last `undo` found nothing to undo (empty: it did not say)."""
        return self.engine.nothing_left

    def plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None) -> Plan:
        return self.engine.plan(list(pids), target, threads=threads, expected_start=expected_start)

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        return self.engine.apply(plan, all_or_nothing=all_or_nothing)

    def undo(self) -> Report | OpResult | None:
        from ctrtui.engine.ops import undo_any

        result: Report | OpResult | None = undo_any(self.engine)
        return result


@dataclass
class Link:
    """A host once reached: its reader, its mover, why moves are off there (None: they work),
    why its policy cannot be used (local hosts; None: fine), how to measure a round trip, and
    how to let go of it."""

    backend: Reader
    mover: Mover
    read_only: str | None = None
    policy_error: str | None = None
    probe: Callable[[], object] | None = None
    close: Callable[[], None] | None = None
    pid_max: int | None = None
    """The host's pid_max, read when it was reached (None: ask the mover)."""
    notes: tuple[str, ...] = ()
    """What the host said when it was reached that a person must hear (batches its journal
    holds open), one sentence each, already scrubbed."""
    engine: AttachEngine | None = None
    """This machine's engine (a local host: its policy and journal are checked here); None
    on a remote host, whose engine runs there."""
    ops: CgroupOpsLike | None = None
    """The host's cgroup ops (None: a remote host's, `RemoteOps` through its mover)."""

    def __post_init__(self) -> None:
        if self.ops is None and isinstance(self.mover, RemoteMover):
            self.ops = RemoteOps(self.mover)


@dataclass(eq=False)
class HostView:
    """One host as the UI knows it. `connect` reaches it (blocking: the UI calls it in a
    thread worker, bounded by `timeout`); until it has, `link` is None."""

    name: str
    connect: Callable[[], Link] | None = None
    timeout: float = PROBE_TIMEOUT
    state: str = CONNECTING
    """One of `STATES`."""
    reason: str | None = None
    """Dead: why (one sentence); slow: what was slow."""
    rtt_ms: float | None = None
    """The last round trip, in milliseconds."""
    link: Link | None = None
    local: bool = False
    """This machine (or an in-process world): nothing to reach."""
    snapshot: Snapshot | None = None
    """The last snapshot shown of this host (kept while another host is shown)."""
    hier: str | None = None
    """The hierarchy shown when this host was left."""
    attempts: int = 0
    """How many times it was (re)connected."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def backend(self) -> Reader | None:
        return self.link.backend if self.link is not None else None

    @property
    def usable(self) -> bool:
        """Reached and not dead: its reader may be asked."""
        return self.link is not None and self.state != DEAD

    def reach(self) -> Link:
        """Connect (blocking, bounded by `timeout`): the link, or an exception saying why."""
        if self.connect is None:
            if self.link is None:
                raise CtrtuiError(f"host {display(self.name)} cannot be reached again")
            return self.link
        return call_with_timeout(self.connect, self.timeout, f"host {display(self.name)}",  # type: ignore[no-any-return]
                                 late=_close_link)

    def measure(self) -> float:
        """One round trip to the host (blocking, bounded): milliseconds."""
        return self.measure_link(self.link)

    def measure_link(self, link: Link | None) -> float:
        """One round trip over `link` (blocking, bounded): milliseconds."""
        if link is None:
            raise CtrtuiError(f"host {display(self.name)} is not connected")
        probe = link.probe or link.backend.hierarchies
        t0 = time.perf_counter()
        call_with_timeout(probe, self.timeout, f"host {display(self.name)}")
        return (time.perf_counter() - t0) * 1000.0

    def connected(self, link: Link, rtt_ms: float | None = None) -> None:
        self.link, self.reason, self.rtt_ms = link, None, rtt_ms
        self.state = SLOW if rtt_ms is not None and rtt_ms > SLOW_MS else OK

    def failed(self, exc: BaseException) -> None:
        """The host could not be reached or stopped answering: dead, with the reason."""
        self.state, self.reason = DEAD, reason_of(exc)

    def answered(self, rtt_ms: float) -> None:
        self.rtt_ms = rtt_ms
        if self.link is not None:
            self.state, self.reason = (SLOW, f"{rtt_ms:.0f} ms round trip") if rtt_ms > SLOW_MS else (OK, None)

    def close(self) -> None:
        """Let go of the connection (idempotent; errors are ignored: it is going anyway)."""
        link = self.link
        if link is not None and link.close is not None:
            try:
                link.close()
            except Exception:  # noqa: BLE001 - closing a dead channel must not raise
                pass


def _close_link(link: object) -> None:
    """A connection made after its host was given up: nobody holds it, close it."""
    close = getattr(link, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # noqa: BLE001 - it is going anyway
            pass


def local_host(name: str, backend: Reader, engine: AttachEngine, read_only: str | None = None,
               policy_error: str | None = None) -> HostView:
    """A host already there (this machine, or an in-process world): connected, state ok."""
    view = HostView(name, local=True)
    view.connected(Link(backend, LocalMover(engine), read_only, policy_error, engine=engine, ops=CgroupOps(engine)),
                   None)
    return view


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


class NoHost:
    """The reader shown while no host is reached yet: no hierarchy, nothing to read, no
    writes (it keeps the `Reader` contract; every answer is empty)."""

    kind = "none"
    identity = "none"
    capabilities: frozenset[str] = frozenset()
    pid_max = 4194304

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        return ()

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None) -> Snapshot:
        return Snapshot((), time.time(), self.kind)

    def read_cgroups(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Any]:
        return dict.fromkeys(paths)

    def cgroup_state(self, hierarchy: str, path: str) -> None:
        return None

    def cgroup_stats(self, hierarchy: str, path: str) -> dict[str, str]:
        return {}

    def task_state(self, pid: int) -> None:
        return None

    def task_details(self, pids: Iterable[int]) -> dict[int, Any]:
        return {}

    def task_cgroups(self, pid: int) -> None:
        return None

    def task_cgroup(self, pid: int, hierarchy: str) -> None:
        return None

    def thread_ids(self, tgid: int) -> tuple[int, ...]:
        return ()


def _no_cli(command: str, options: dict[str, Any]) -> CliAnswer:
    raise CtrtuiError("no host is connected yet")


def placeholder(hosts: int) -> Link:
    """What the app shows until one of its `hosts` is reached: nothing, read-only."""
    reader = NoHost()
    return Link(reader, RemoteMover("", _no_cli, reader),
                read_only=f"connecting to {hosts} host{'s' if hosts != 1 else ''}")


def host_line(view: HostView) -> str:
    """What the switcher says of a host, in words (the name escaped): `name  ok 3 ms`,
    `name  dead: ssh: connect ... refused`, `name  read-only (not root; use --sudo)`."""
    words = [display(view.name)]
    if view.state == OK:
        words.append("ok" + (f" {view.rtt_ms:.0f} ms" if view.rtt_ms is not None else ""))
    elif view.state == SLOW:
        words.append("slow" + (f" {view.rtt_ms:.0f} ms" if view.rtt_ms is not None else "")
                     + (f": {scrub(view.reason)}" if view.reason and view.rtt_ms is None else ""))
    elif view.state == DEAD:
        words.append(f"dead: {scrub(view.reason or 'no reason given')}")
    else:
        words.append("connecting…")
    if view.link is not None and view.link.read_only and view.state != DEAD:
        words.append(f"read-only ({scrub(view.link.read_only)})")
    return "  ".join(words)


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
