"""Hosts in the terminal UI: what one host is to the UI (`HostView`), how it is reached
(`Link`), and how tasks are moved on a host whose engine runs there (`RemoteMover`).

A host is a name, a `Reader` (where its snapshots come from: the local backend, or a
`RemoteReader` over SSH) and a mover (what plans, applies and undoes moves on it: the local
`AttachEngine`, or the host's own engine through its `RemoteService` (the agent's service
calls), since pidfds and the journal cannot cross machines; cgroup ops likewise: `RemoteOps`). The UI shows one
host at a time (its hierarchies, tree and task list, exactly as with one machine); the host
switcher (`ctrtui.ui.screens.hosts`) lists them all with their state and switches between
them; the "find across hosts" screen asks every connected host at once. See docs/architecture.md,
"Hosts in the terminal UI", for why a switcher and not a tree level.

Everything that contacts a host runs in a thread and is bounded by a per-host timeout
(`call_with_timeout`): a dead or slow host is shown as such and never blocks the UI or the
other hosts.

What a remote host answers is hostile: every value is checked for its type and range by the
codec (ctrtui/service/codec.py) before it becomes a `Plan`, `Report` or `OpResult`, and every
text is escaped where it is shown (`ctrtui.ui.safe`).
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ctrtui.engine import AttachEngine, Plan, Report
from ctrtui.engine.ops import OPS, OpRefusal, OpResult
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef, CgroupState, Hierarchy, Snapshot, TaskInfo
from ctrtui.sources.base import Reader
from ctrtui.text import display, scrub

if TYPE_CHECKING:
    from ctrtui.remote.connect import ConnectOptions
    from ctrtui.remote.ssh import HostSpec
    from ctrtui.service.values import Undone

__all__ = [
    "CONNECTING", "DEAD", "HostView", "Link", "NoHost", "OK", "PROBE_TIMEOUT", "RemoteMover", "SLOW", "SLOW_MS",
    "call_with_timeout", "channel_link", "host_line", "local_host", "placeholder", "remote_host",
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
    journaled where the tasks live). The local `AttachEngine` is one; `RemoteMover` is one."""

    @property
    def pid_max(self) -> int: ...

    def plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None) -> Plan: ...

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report: ...


@dataclass
class Link:
    """A host once reached: its reader, its mover, why moves are off there (None: they work),
    why its policy cannot be used (local hosts; None: fine), how to measure a round trip, and
    how to let go of it."""

    backend: Reader
    mover: AttachEngine | RemoteMover
    read_only: str | None = None
    policy_error: str | None = None
    probe: Callable[[], object] | None = None
    close: Callable[[], None] | None = None
    pid_max: int | None = None
    """The host's pid_max, read when it was reached (None: ask the mover)."""
    notes: tuple[str, ...] = ()
    """What the host said when it was reached that a person must hear (batches its journal
    holds open), one sentence each, already scrubbed."""
    undo: Callable[[], Report | OpResult | None] = lambda: None
    """`u`: move back the host's newest undoable batch, a move or a cgroup op: its report,
    the op's result, or None when nothing is left (its mover's `nothing_left` says why). The
    same for every host: this machine's engine (`local_host`), a remote host's service
    (`RemoteMover.undo`)."""


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
    from ctrtui.engine.ops import undo_any

    view = HostView(name, local=True)
    view.connected(Link(backend, engine, read_only, policy_error, undo=lambda: undo_any(engine)), None)
    return view


def channel_link(channel: Any, name: str) -> Link:
    """The `Link` of a host reached through its agent's `channel` (`ctrtui.remote.channel`):
    a `RemoteReader`, moves through the host's `RemoteService`, read-only when the agent says so
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
    from ctrtui.remote.service import RemoteService

    mover = RemoteMover(name, RemoteService(channel, reader))
    return Link(reader, mover, undo=mover.undo, read_only=read_only,
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


class HostService(Protocol):
    """What `RemoteMover` and `RemoteOps` ask of a host's service (`RemoteService` is one)."""

    @property
    def pid_max(self) -> int: ...

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None: ...

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]: ...

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False) -> Plan: ...

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report: ...

    def undo(self, batch: str | None = None) -> Undone: ...

    def cgroup_op(self, op: str, ref: CgroupRef) -> OpResult: ...


class NoService:
    """The service behind `NoHost`: nothing to read, every change refused (no host yet)."""

    pid_max = NoHost.pid_max

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        return None

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        return {}

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False) -> Plan:
        raise CtrtuiError("no host is connected yet")

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        raise CtrtuiError("no host is connected yet")

    def undo(self, batch: str | None = None) -> Undone:
        raise CtrtuiError("no host is connected yet")

    def cgroup_op(self, op: str, ref: CgroupRef) -> OpResult:
        raise CtrtuiError("no host is connected yet")


def placeholder(hosts: int) -> Link:
    """What the app shows until one of its `hosts` is reached: nothing, read-only."""
    reader = NoHost()
    mover = RemoteMover("", NoService())
    return Link(reader, mover, undo=mover.undo,
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


class RemoteOps:
    """Create, remove, freeze and thaw cgroups of a remote host, through its `Service`
    (`RemoteService.cgroup_op`): the host checks, journals (its own journal: `u` undoes
    there) and asks its kernel. The same interface as `ctrtui.engine.ops.CgroupOps` for
    `ctrtui.ui.cgroupops.CgroupActions`."""

    def __init__(self, mover: RemoteMover) -> None:
        self.mover = mover

    def check(self, op: str, ref: CgroupRef) -> OpRefusal | None:
        """Nothing is predicted here: the host checks, and a refusal comes back with the result."""
        if op not in OPS:
            raise ValueError(f"unknown cgroup op {op!r}")
        return None

    def frozen(self, ref: CgroupRef) -> bool | None:
        """As `CgroupOps.frozen`, read from the host (one request)."""
        state = self.mover.service.cgroup_state(ref.hierarchy, ref.path)
        if state is None or state.freezer_state is None:
            return None
        return state.freezer_state in ("FROZEN", "FREEZING", "1")

    def run(self, op: str, ref: CgroupRef, undo_of: str | None = None) -> OpResult:
        if op not in OPS:
            raise ValueError(f"unknown cgroup op {op!r}")
        return self.mover.service.cgroup_op(op, ref)


# ---------------------------------------------------------------------------- remote moves


class RemoteMover:
    """Moves on a remote host, through its `Service` (`ctrtui.remote.service.RemoteService`):
    the host's engine plans (holding the pidfds), writes, verifies and journals; `Plan`,
    `Report` and `OpResult` come back as the local engine gives them, so the picker, the
    confirm screen, the notifications and the move log draw them alike.

    What the UI adds: the start times it saw are compared with the plan's (a PID that now
    names another task is shown vanished), and again with the host's own `task_state` just
    before a batch is applied (such a PID is left out of the batch, reported vanished); the
    host's engine guards the rest with its pidfds."""

    policy, hooks = None, ()

    class _NoJournal:
        path = None
        """The journal is the host's (`$XDG_STATE_HOME/ctrtui/journal.jsonl` there)."""

    journal = _NoJournal()

    def __init__(self, host: str, service: HostService) -> None:
        self.host = host
        self.service = service
        self.nothing_left = ""
        """Why the last `undo` found nothing to undo (the host's words)."""

    @property
    def pid_max(self) -> int:
        return self.service.pid_max

    def plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None) -> Plan:
        """The host's plan (nothing is written), its PIDs whose task is not the one shown
        turned vanished."""
        plan = self.service.plan([str(p) for p in pids], target, threads=bool(threads))
        verdicts = []
        for v in plan.verdicts:
            expected = (expected_start or {}).get(v.pid) if v.pid is not None else None
            if v.kind == "move" and expected is not None and v.start_time != expected:
                v = v.replace(kind="vanished", errno="ESRCH", hook="ui", reason=f"PID {v.pid} now names "
                              "another task (or it exited) since it was shown", advice="Refresh (r) and pick again.")
            verdicts.append(v)
        return plan.replace(verdicts=tuple(verdicts))

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        """The host applies `plan`, less its PIDs whose task has changed since it was planned."""
        checked = [v.pid for v in plan.verdicts if v.kind == "move" and v.pid is not None and v.start_time is not None]
        now = self.service.task_details(checked) if checked else {}  # one request for the whole batch
        verdicts = []
        for v in plan.verdicts:
            if v.kind == "move" and v.pid is not None and v.start_time is not None:
                info = now.get(v.pid)
                if info is None or info.start_time != v.start_time:
                    v = v.replace(kind="vanished", errno="ESRCH", hook="ui",
                                  reason=f"PID {v.pid} exited (or names another task) since it was planned")
            verdicts.append(v)
        return self.service.apply(plan.replace(verdicts=tuple(verdicts)), all_or_nothing=all_or_nothing)

    def undo(self) -> Report | OpResult | None:
        """The host undoes its newest undoable batch: the report of an undone move, the
        `OpResult` of an undone cgroup op, or None when nothing is left to undo (then
        `nothing_left` says why)."""
        undone = self.service.undo()
        self.nothing_left = undone.nothing_left
        return undone.report if undone.report is not None else undone.op
