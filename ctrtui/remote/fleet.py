"""Many hosts at once: contact each, in parallel, with a bound and a timeout per host.

`each_host(specs, work, options)` connects to every host (`ctrtui.remote.connect.connect`,
or `connect_local` for the word `local`: the agent run as a subprocess of this machine, no
ssh), runs `work(channel)` there and closes the channel. It returns one outcome per host,
in the order the hosts were given: what `work` returned, or the `HostError` saying why that
host could not be used. It never raises for a host.

- **Bounded:** at most `jobs` hosts are being contacted at once (the others wait their turn),
  so fifty hosts do not start fifty ssh processes at the same moment.
- **Per-host timeout:** a host gets `options.timeout` seconds to connect, then `timeout +
  extra` seconds for `work` (`extra`: what the work itself takes, e.g. the sample interval of
  `ls --stats`). The transport keeps those times itself; the fleet is the backstop: a host
  still busy `GRACE` seconds after its time is reported as `timeout`, its channel is closed
  (which kills its ssh) and the others go on. A slow or dead host therefore never holds the
  others up past its own timeout.
- **Threads of our own, not a ThreadPoolExecutor:** an executor's workers are joined when the
  interpreter exits, so one host stuck in a call that ignores its timeout would hang the
  command at its very end. Here each host runs in a daemon thread and the calling thread is
  the scheduler (it starts the next host when one finishes or is given up): a given-up host
  frees its place in the bound at once, and nothing waits for it at exit.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ctrtui.remote.errors import HostError

if TYPE_CHECKING:
    from ctrtui.remote.channel import AgentChannel
    from ctrtui.remote.connect import ConnectOptions
    from ctrtui.remote.ssh import HostSpec

    Connect = Callable[[HostSpec, ConnectOptions], AgentChannel]

T = TypeVar("T")

DEFAULT_JOBS = 8
"""How many hosts are contacted at once unless told (`--jobs`)."""

GRACE = 1.0
"""Seconds the fleet waits past a host's own timeout before giving it up: the transport's
own timeout (with ssh's wording) should fire first; the fleet only catches what ignores it."""

LOCAL = "local"
"""The host word that names this machine: the agent runs here as a subprocess, no ssh."""

_HINTS = {
    "read-only": "the remote user is not root: give --sudo (it runs the agent with `sudo -n`)",
    "timeout": "the host may be down or overloaded; raise --timeout to wait longer",
}


def connect_local(spec: HostSpec, options: ConnectOptions) -> AgentChannel:
    """This machine as a host: the agent run by this interpreter as a local subprocess (the
    same code, journal and permissions as `ctrtui` run here; `--sudo` does not apply)."""
    from ctrtui.remote.channel import AgentChannel, remote_command

    argv = remote_command(python=sys.executable or "python3", sudo=False)
    return AgentChannel.open(argv, name=spec.name, timeout=options.timeout)


def default_connect(spec: HostSpec, options: ConnectOptions) -> AgentChannel:
    """The channel to one host: ssh (`ctrtui.remote.connect.connect`), or this machine's
    agent as a subprocess for the word `local`."""
    if spec.name == LOCAL:
        return connect_local(spec, options)
    from ctrtui.remote.connect import connect

    return connect(spec, options)


def as_host_error(host: str, exc: BaseException) -> HostError:
    """Any failure while using a host as the HostError to report: a HostError as it is; an
    error the agent answered (`RemoteOpError`: kind, message) with its kind; anything else
    as a `protocol` error naming it (never a traceback)."""
    if isinstance(exc, HostError):
        return exc
    kind = getattr(exc, "kind", None)
    message = getattr(exc, "message", None)
    if isinstance(kind, str) and isinstance(message, str):
        return HostError(host, kind, message, _HINTS.get(kind, ""))
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return HostError(host, "protocol", f"talking to the host failed unexpectedly ({what})",
                     "this is a bug in ctrtui; please report it with the command line")


class _Host:
    """One host's progress, shared by its thread and the scheduler."""

    __slots__ = ("spec", "deadline", "channel", "outcome", "abandoned", "lock")

    def __init__(self, spec: HostSpec, deadline: float) -> None:
        self.spec = spec
        self.deadline = deadline  # monotonic; moved on by the host's thread when its work starts
        self.channel: AgentChannel | None = None
        self.outcome: Any = None
        self.abandoned = False
        self.lock = threading.Lock()  # channel / abandoned: who closes the channel


def _close(channel: AgentChannel | None) -> None:
    if channel is not None:
        try:
            channel.close()
        except Exception:  # noqa: BLE001 - closing is best effort: the host is done with either way
            pass


def each_host(specs: Sequence[HostSpec], work: Callable[[AgentChannel], T], options: ConnectOptions, *,
              jobs: int = DEFAULT_JOBS, extra: float = 0.0, connect: Connect | None = None,
              ) -> list[T | HostError]:
    """`work(channel)` on every host of `specs`, at most `jobs` at once: its result or the
    HostError of each host, in the order of `specs` (see the module's docstring)."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    open_channel = connect or default_connect
    timeout = float(options.timeout)
    hosts: list[_Host] = []
    finished: queue.SimpleQueue[int] = queue.SimpleQueue()

    def run(i: int) -> None:
        host = hosts[i]
        name = host.spec.name
        channel: AgentChannel | None = None
        try:
            channel = open_channel(host.spec, options)
            with host.lock:
                host.channel = channel
                late = host.abandoned
            if late:
                return
            host.deadline = time.monotonic() + timeout + extra + GRACE
            host.outcome = work(channel)
        except BaseException as e:  # noqa: BLE001 - every failure is this host's outcome
            host.outcome = as_host_error(name, e)
        finally:
            _close(channel)
            finished.put(i)

    results: list[Any] = [None] * len(specs)
    running: set[int] = set()
    started = 0
    try:
        while started < len(specs) or running:
            while started < len(specs) and len(running) < jobs:
                hosts.append(_Host(specs[started], time.monotonic() + timeout + GRACE))
                running.add(started)
                threading.Thread(target=run, args=(started,), daemon=True,
                                 name=f"ctrtui-host-{started}").start()
                started += 1
            now = time.monotonic()
            for i in sorted(running):
                if hosts[i].deadline <= now:
                    running.discard(i)
                    results[i] = _give_up(hosts[i], timeout)
            if not running:
                continue
            wait = min(hosts[i].deadline for i in running) - now
            try:
                i = finished.get(timeout=max(wait, 0.0))
            except queue.Empty:
                continue
            if i in running:
                running.discard(i)
                results[i] = hosts[i].outcome
    finally:
        for i in running:  # interrupted (Ctrl-C): let no host's ssh outlive us
            _give_up(hosts[i], timeout)
    return results


def _give_up(host: _Host, timeout: float) -> HostError:
    """The host did not finish in time: close its channel (in the background: closing may
    wait a little for the agent) and say so."""
    with host.lock:
        host.abandoned = True
        channel = host.channel
    if channel is not None:
        threading.Thread(target=_close, args=(channel,), daemon=True, name="ctrtui-host-close").start()
    return HostError(host.spec.name, "timeout", f"the host did not answer within {timeout:g} seconds",
                     _HINTS["timeout"])
