"""In-process stand-ins for remote hosts (for the unit and Pilot tests of ctrtui/ui/hosts.py):
a read-only view of a simulated world (what a `RemoteReader` is: a Reader without WRITE) and
a `cli` that runs the real command line in-process on that world, as the agent's `cli` op
runs it on the host (same argv, same JSON, same journal rules, output captured).

    host = FakeHost("beta", world, tmp_path)     # world: a SimKernel (demo_world())
    view = host.view()                            # a HostView that connects in a worker
"""

from __future__ import annotations

import contextlib
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctrtui.ui.hosts import HostView, Link, RemoteMover

_CLI_LOCK = threading.Lock()
"""The CLI in-process swaps sys.stdout and ctrtui.cli.common.backend_of: one call at a time."""


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

    def cgroup_stats(self, hierarchy, path):
        return self._call("cgroup_stats", hierarchy, path)

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


@dataclass
class CliResult:
    exit: int
    stdout: str
    stderr: str


def cli_argv(command: str, options: dict[str, Any], journal: Path) -> list[str]:
    """The argv `ctrtui COMMAND ...` the agent would run for `options` (argparse dest names)."""
    argv = [command, "--journal", str(journal)]
    if command == "move":
        argv += [*options["pids"], "--to", options["target"]]
        for flag in ("threads", "dry_run", "all_or_nothing", "no_journal"):
            if options.get(flag):
                argv.append("--" + flag.replace("_", "-"))
    elif command == "undo":
        if options.get("batch"):
            argv.append(options["batch"])
    elif command in ("mkdir", "rmdir", "freeze", "thaw"):
        argv.append(options["cgroup"])
    if options.get("json"):
        argv.append("--json")
    return argv


class FakeHost:
    """A simulated world reached as a remote host would be: `ReaderOnly` + `RemoteMover`
    whose `cli` runs `ctrtui.main.main` in-process on the world (journal in `state`)."""

    def __init__(self, name: str, world: Any, state: Path, read_only: str | None = None) -> None:
        self.name = name
        self.world = world
        self.journal = state / f"{name}-journal.jsonl"
        self.reader = ReaderOnly(world, name)
        self.read_only = read_only
        self.commands: list[tuple[str, dict[str, Any]]] = []

    def cli(self, command: str, options: dict[str, Any]) -> CliResult:
        from ctrtui.cli import common
        from ctrtui.main import main

        self.commands.append((command, dict(options)))
        out, err = io.StringIO(), io.StringIO()
        with _CLI_LOCK:
            saved = common.backend_of
            common.backend_of = lambda args: self.world  # type: ignore[assignment]
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    rc = main(cli_argv(command, options, self.journal))
            finally:
                common.backend_of = saved  # type: ignore[assignment]
        return CliResult(rc, out.getvalue(), err.getvalue())

    def link(self) -> Link:
        return Link(self.reader, RemoteMover(self.name, self.cli, self.reader), read_only=self.read_only,
                    pid_max=self.reader.pid_max)

    def view(self, timeout: float = 5.0) -> HostView:
        return HostView(self.name, connect=self.link, timeout=timeout)
