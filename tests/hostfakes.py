"""In-process stand-ins for remote hosts (for the unit and Pilot tests of ctrtui/ui/hosts.py):
a read-only view of a simulated world (what a `RemoteReader` is: a Reader without WRITE) and
a channel answered by the real agent in-process on that world (its service calls: the host's
engine, journal and rules, through the protocol's JSON).

    host = FakeHost("beta", world, tmp_path)     # world: a SimKernel (demo_world())
    view = host.view()                            # a HostView that connects in a worker
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctrtui.agent.lines import encode
from ctrtui.agent.ops import Agent
from ctrtui.remote.errors import RemoteOpError
from ctrtui.ui.hosts import RemoteMover
from ctrtui.ui.hostviews import HostView, Link


class ReaderOnly:
    """`backend` seen through the Reader part of the contract only (no WRITE, no probes):
    what the UI has of a remote host."""

    kind = "remote"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, backend: Any, name: str) -> None:
        self._b = backend
        self.identity = f"ssh://{name}"
        self.calls = 0

    @property
    def pid_max(self) -> int:
        return int(self._b.pid_max)

    def _call(self, name: str, *args: Any, **kw: Any) -> Any:
        self.calls += 1
        return getattr(self._b, name)(*args, **kw)

    def hierarchies(self):
        return self._call("hierarchies")

    def snapshot(self, names=None, subtree=None):
        return self._call("snapshot", names, subtree)

    def read_cgroups(self, hierarchy, paths):
        return self._call("read_cgroups", hierarchy, paths)

    def cgroup_state(self, hierarchy, path):
        return self._call("cgroup_state", hierarchy, path)

    def cgroup_stats(self, hierarchy, path, names=None):
        return self._call("cgroup_stats", hierarchy, path, names)

    def task_state(self, pid):
        return self._call("task_state", pid)

    def task_details(self, pids):
        return self._call("task_details", pids)

    def task_cgroups(self, pid):
        return self._call("task_cgroups", pid)

    def task_cgroup(self, pid, hierarchy):
        return self._call("task_cgroup", pid, hierarchy)

    def thread_ids(self, tgid):
        return self._call("thread_ids", tgid)


class AgentChannel:
    """What the local side uses of an `AgentChannel` (`name`, `timeout`, `call`, `close`,
    `left_open`), answered in-process by `agent` (or the one `make` makes on first use)
    through the protocol's JSON. `calls`: the requests sent, (op, args as given); `ops`:
    their op names; `override`: op -> the result to answer instead (hostile or malformed),
    a callable making it from the request's arguments, or an exception to raise."""

    def __init__(self, agent: Agent | None = None, name: str = "beta", *,
                 make: Callable[[], Agent] | None = None) -> None:
        self.name, self.timeout, self.closed = name, 10.0, False
        self._agent, self._make = agent, make
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.override: dict[str, Any] = {}

    @property
    def agent(self) -> Agent:
        if self._agent is None:  # made on first use: connecting stays as quick as a call
            assert self._make is not None, "AgentChannel needs an agent or a way to make one"
            self._agent = self._make()
        return self._agent

    @agent.setter
    def agent(self, agent: Agent) -> None:  # a host that restarted: another agent answers
        self._agent = agent

    @property
    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]

    def call(self, op: str, args: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        self.calls.append((op, dict(args or {})))
        if op in self.override:
            got = self.override[op]
            if isinstance(got, BaseException):
                raise got
            return got(args or {}) if callable(got) else got
        answer = json.loads(encode(self.agent.handle(len(self.calls), op, json.loads(json.dumps(args or {})))))
        if answer["ok"]:
            return answer["result"]
        err = answer["error"]
        raise RemoteOpError(self.name, op, err["kind"], err["message"], err["errno"])

    def close(self) -> None:
        self.closed = True

    def left_open(self, how: Any = None) -> list[Any]:
        return []  # the host's journal holds no open batch


class FakeHost:
    """A simulated world reached as a remote host would be: `ReaderOnly` for reading, and a
    `RemoteService` whose channel is this object: each request goes to an `Agent` on the
    world through the protocol's JSON (the host's journal in `state`). `commands`: the
    service calls made, (op, args)."""

    def __init__(self, name: str, world: Any, state: Path, read_only: str | None = None) -> None:
        self.name = name
        self.world = world
        self.journal = state / f"{name}-journal.jsonl"
        self.reader = ReaderOnly(world, name)
        self.read_only = read_only
        self.timeout = 10.0
        self.agent = Agent(world, journal_path=str(self.journal))
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()  # one request at a time, as over a real channel

    def call(self, op: str, args: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        with self._lock:
            self.commands.append((op, json.loads(json.dumps(args or {}))))
            answer = json.loads(encode(self.agent.handle(len(self.commands), op, self.commands[-1][1])))
        if answer["ok"]:
            return answer["result"]
        err = answer["error"]
        raise RemoteOpError(self.name, op, err["kind"], err["message"], err["errno"])

    def link(self) -> Link:
        from ctrtui.remote.service import RemoteService
        from ctrtui.sources.base import systemd_units

        mover = RemoteMover(self.name, RemoteService(self, self.reader),  # type: ignore[arg-type]
                            systemd_host=systemd_units(self.agent.backend) is not None)
        return Link(self.reader, mover, read_only=self.read_only, pid_max=self.reader.pid_max)

    def view(self, timeout: float = 5.0) -> HostView:
        return HostView(self.name, connect=self.link, timeout=timeout)


def systemd_world() -> tuple[Any, int]:
    """A host whose unified hierarchy a simulated systemd (PID 1) manages: cron.service not
    delegated, box.scope delegated (with /sub below it); one task `job` in /a. Returns (the
    SystemdSimKernel, the task's PID)."""
    from ctrtui.sources.simkernel.systemd import SystemdSimKernel

    k = SystemdSimKernel()
    k.add_hierarchy("unified", 2, [])
    for path in ("/a", "/system.slice/cron.service", "/system.slice/box.scope/sub"):
        k.makedirs("unified", path)
    k.play_systemd(("unified",), delegated=("box.scope",))
    return k, k.spawn("job", cgroups={"unified": "/a"})
