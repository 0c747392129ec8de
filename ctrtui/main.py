"""The program's entry point (`ctrtui`, `python -m ctrtui`): the command line
(ctrtui/cli/entry.py), and the terminal UI when no subcommand is given or for `replay`.

This module sits above both the command line and the UI (docs/architecture.md): the command
line never imports the UI; the UI is imported here, only when it starts.
"""

from __future__ import annotations

from ctrtui.cli import common
from ctrtui.cli.common import EXIT_OK, UsageError, display, resolve

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from ctrtui.remote.connect import ConnectOptions
    from ctrtui.remote.ssh import HostSpec
    from ctrtui.service.protocol import Service

__all__ = ["cmd_tui", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """`ctrtui ARGS...` (None: sys.argv): its exit status."""
    from ctrtui.cli.entry import run

    return run(argv, cmd_tui)


def cmd_tui(args: argparse.Namespace) -> int:
    if args.command == "replay":
        return _replay(args)
    if args.host or args.hosts:
        from ctrtui.cli.hosts import tui_hosts

        hosts = tui_hosts(args)
        if hosts is not None:
            return _tui_hosts(args, *hosts)
    # writes: the policy is read and the journal opened now (broken_ok: a broken policy refuses every
    # move, the UI says why); front: the engine's advice in the UI's words
    service = common.service_of(args, writes=True, broken_ok=True, front="ui")
    from ctrtui.ui.app import run

    # the backend says whether it may write (ui.app asks it: ctrtui.sources.read_only_reason)
    hierarchy, cgroup = _start(args, service)
    run(service, interval=args.interval, read_only=args.read_only, hierarchy=hierarchy, cgroup=cgroup)
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    """`ctrtui replay [FILE|DIR]`: the terminal UI on a recording (ctrtui/ui/replay.py)."""
    from ctrtui.cli.history import open_replay
    from ctrtui.remote.errors import EXIT_HOST, HostError

    try:
        recorded, hierarchy = open_replay(args)
    except HostError as e:
        import sys

        from ctrtui.cli.hosts import host_line

        print(host_line(e), file=sys.stderr)
        return EXIT_HOST
    from ctrtui.ui.replay import run

    try:
        run(recorded, hierarchy)
    finally:
        close = getattr(recorded, "close", None)  # a host's recording: its connection
        if close is not None:
            close()
    return EXIT_OK


def _tui_hosts(args: argparse.Namespace, specs: Sequence[HostSpec], options: ConnectOptions, jobs: int) -> int:
    """The terminal UI on several hosts (ctrtui/ui/hostfeed.py): each is reached in the
    background, the first to answer is shown; `local` among them is this machine, as without
    --host. `--cgroup` names one machine's cgroup: with hosts, `--hierarchy` only."""
    if getattr(args, "start_cgroup", None):
        raise UsageError("--cgroup names a cgroup of one machine; with --host give --hierarchy NAME (each host "
                         "opens on it when it has it)")
    local = None
    if any(s.name == "local" for s in specs):
        local = common.service_of(args, writes=True, broken_ok=True, front="ui")
    from ctrtui.ui.app import run_hosts

    run_hosts(specs, options, jobs=jobs, local=local, interval=args.interval, read_only=args.read_only,
              hierarchy=getattr(args, "hierarchy", None))
    return EXIT_OK


def _start(args: argparse.Namespace, service: Service) -> tuple[str | None, str | None]:
    """(hierarchy, cgroup path) the TUI opens on from `--hierarchy` / `--cgroup`; a
    UsageError (exit 2) names an unknown hierarchy or cgroup."""
    from ctrtui.model import find_hierarchy

    if getattr(args, "start_cgroup", None):
        h, path = resolve(service, args.start_cgroup)
        asked = find_hierarchy(service.hierarchies(), args.hierarchy) if args.hierarchy else None
        if args.hierarchy and (asked is None or asked.name != h.name):
            raise UsageError(f"--hierarchy {display(args.hierarchy)} and --cgroup {display(args.start_cgroup)} "
                             "name different hierarchies; give one of them")
        return h.name, path
    if getattr(args, "hierarchy", None):
        hiers = service.hierarchies()
        found = find_hierarchy(hiers, args.hierarchy)
        if found is None:
            known = ", ".join(display(x.name) for x in hiers) or "none are mounted"
            raise UsageError(f"unknown hierarchy '{display(args.hierarchy)}'; known hierarchies: {known}")
        return found.name, None
    return None, None


