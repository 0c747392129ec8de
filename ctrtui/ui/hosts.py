"""Remote hosts in the terminal UI: how a host whose engine runs there is reached
(`remote_host`, `channel_link`) and how tasks are moved (`RemoteMover`) and cgroups changed
(`RemoteOps`) on it, through the host's own `Service` (`ctrtui.remote.service.RemoteService`:
the agent's typed service calls; pidfds and the journal cannot cross machines). What a host is
to the UI (`HostView`, `Link`, its states, the per-host timeout) is `ctrtui.ui.hostviews`; the
movers' interface and this machine's mover are `ctrtui.ui.hostmovers`. See
docs/architecture.md, "Hosts in the terminal UI".

What a remote host answers is hostile: every value is checked for its type and range by the
codec (ctrtui/service/codec.py) before it becomes a `Plan`, `Report` or `OpResult`, and every
text is escaped where it is shown (`ctrtui.ui.untrusted`).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ctrtui.engine.opvalues import OPS, OpRefusal, OpResult
from ctrtui.engine.values import Plan, Report, ScopeRequest, Via
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef, CgroupState, TaskInfo
from ctrtui.text import scrub
from ctrtui.ui.hostviews import OPS_OF_MOVER, HostView, Link, NoHost

if TYPE_CHECKING:
    from ctrtui.remote.connect import ConnectOptions
    from ctrtui.remote.ssh import HostSpec
    from ctrtui.service.values import Undone

__all__ = ["HostService", "NoService", "RemoteMover", "RemoteOps", "channel_link", "placeholder", "remote_host"]


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

    mover = RemoteMover(name, RemoteService(channel, reader), systemd_host=hello.get("systemd") is True)
    return Link(reader, mover, read_only=read_only,
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


class HostService(Protocol):
    """What `RemoteMover` and `RemoteOps` ask of a host's service (`RemoteService` is one)."""

    @property
    def pid_max(self) -> int: ...

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None: ...

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]: ...

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan: ...

    def plan_scope(self, pids: Sequence[int | str], scope: ScopeRequest) -> Plan: ...

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

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan:
        raise CtrtuiError("no host is connected yet")

    def plan_scope(self, pids: Sequence[int | str], scope: ScopeRequest) -> Plan:
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
    return Link(reader, mover,
                read_only=f"connecting to {hosts} host{'s' if hosts != 1 else ''}")


# ---------------------------------------------------------------------------- remote cgroup ops


class RemoteOps:
    """Create, remove, freeze and thaw cgroups of a remote host, through its `Service`
    (`RemoteService.cgroup_op`): the host checks, journals (its own journal: `u` undoes
    there) and asks its kernel. The same interface (`CgroupOpsLike`) as this machine's
    `ServiceOps`, for `ctrtui.ui.cgroupactions.CgroupActions`."""

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

    def __init__(self, host: str, service: HostService, systemd_host: bool = False) -> None:
        self.host = host
        self.service = service
        self.systemd_host = systemd_host
        """systemd is PID 1 on the host and manages its hierarchy (its agent's hello says so):
        the picker offers a new scope and the kernel write past systemd there."""
        self.nothing_left = ""
        """Why the last `undo` found nothing to undo (the host's words)."""

    @property
    def pid_max(self) -> int:
        return self.service.pid_max

    def plan(self, pids: Iterable[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan:
        """The host's plan (nothing is written), its PIDs whose task is not the one shown
        turned vanished; `via`: as the host's `Service.plan` takes it."""
        plan = self.service.plan([str(p) for p in pids], target, threads=bool(threads), via=via)
        verdicts = []
        for v in plan.verdicts:
            expected = (expected_start or {}).get(v.pid) if v.pid is not None else None
            if v.kind == "move" and expected is not None and v.start_time != expected:
                v = v.replace(kind="vanished", errno="ESRCH", hook="ui", reason=f"PID {v.pid} now names "
                              "another task (or it exited) since it was shown", advice="Refresh (r) and pick again.")
            verdicts.append(v)
        return plan.replace(verdicts=tuple(verdicts))

    def plan_scope(self, pids: Iterable[int | str], scope: ScopeRequest) -> Plan:
        """The host's plan of a new transient scope for `pids` (its engine judges the name,
        slice and properties, as `ctrtui move --scope` there would)."""
        return self.service.plan_scope([str(p) for p in pids], scope)

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


OPS_OF_MOVER[RemoteMover] = RemoteOps  # a Link to a remote host changes its cgroups through its mover
