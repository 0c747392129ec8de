"""What one host is to the terminal UI (`HostView`: its name, state, last snapshot) and how
it was reached (`Link`: its reader, mover and cgroup ops), the states the host switcher shows,
the per-host timeout every call to a host is bounded by (`call_with_timeout`), this machine as
a host (`local_host`), the reader shown before any host answers (`NoHost`), the switcher's
line of a host (`host_line`) and a task found on a host (`Hit`). How a remote host is reached
and moved on is `ctrtui.ui.hosts`. No Textual here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ctrtui.errors import CtrtuiError
from ctrtui.model import Hierarchy, Snapshot
from ctrtui.service.local import LocalService
from ctrtui.sources.base import Reader
from ctrtui.text import display, scrub
from ctrtui.ui.hostmovers import CgroupOpsLike, LocalMover, Mover, ServiceOps

__all__ = [
    "CONNECTING", "DEAD", "Hit", "HostTimeout", "HostView", "Link", "NoHost", "OK", "OPS_OF_MOVER", "PROBE_TIMEOUT",
    "SLOW", "SLOW_MS", "STATES", "TEXT_LIMIT", "call_with_timeout", "host_line", "local_host", "reason_of",
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


OPS_OF_MOVER: dict[type, Callable[[Any], CgroupOpsLike]] = {}
"""For a kind of mover whose host changes cgroups through the mover itself (a remote host's):
how to make its cgroup ops from it. A `Link` made without `ops` takes them from here. The
module that defines such a mover fills it in (`ctrtui.ui.hosts`)."""


@dataclass(frozen=True)
class Hit:
    """One task found on one host (`HostFeed.find`): where it is (the hierarchy shown there,
    or the first one the task is in) and what it runs (scrubbed when shown)."""

    host: str
    pid: int
    comm: str
    hierarchy: str
    path: str


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
    service: LocalService | None = None
    """This machine's service (a local host: its policy and journal are checked through it
    here); None on a remote host, whose own engine checks them."""
    ops: CgroupOpsLike | None = None
    """The host's cgroup ops (None: a remote host's, `RemoteOps` through its mover)."""

    def __post_init__(self) -> None:
        make = OPS_OF_MOVER.get(type(self.mover)) if self.ops is None else None
        if make is not None:
            self.ops = make(self.mover)


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


def local_host(name: str, service: LocalService, read_only: str | None = None,
               policy_error: str | None = None) -> HostView:
    """A host already there (this machine, or an in-process world, served by `service`):
    connected, state ok."""
    view = HostView(name, local=True)
    view.connected(Link(service.backend, LocalMover(service), read_only, policy_error, service=service,
                        ops=ServiceOps(service)), None)
    return view


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

    def cgroup_stats(self, hierarchy: str, path: str, names: Collection[str] | None = None) -> dict[str, str]:
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

