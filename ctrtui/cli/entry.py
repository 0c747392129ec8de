"""The command line's dispatch: `run` parses a command line and runs its subcommand
(ctrtui/cli/commands.py), on this machine or on the hosts of `--host` (ctrtui/cli/hosts.py),
guarded (ctrtui/cli/guard.py); with `_ARGCOMPLETE` set it answers the shell's completion.

The terminal UI is not started from here (the command line sits below the UI): `run` takes
it as `tui` from its caller, ctrtui/main.py.
"""

from __future__ import annotations

import os
import sys

from ctrtui.cli.commands import COMMANDS
from ctrtui.cli.common import EXIT_USAGE
from ctrtui.cli.guard import hold_interrupt, release_interrupt, restore_interrupt, run_command, run_guarded
from ctrtui.cli.parser import build_parser

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from ctrtui.cli.commands import Command

__all__ = ["run"]


def run(argv: Sequence[str] | None, tui: Command) -> int:
    """Parse `argv` (None: sys.argv) and run it; `tui` starts the terminal UI when no
    subcommand is given, and for `replay`. The exit status."""
    hold_interrupt()  # first of all: a Ctrl-C while the imports below run must not print a traceback
    try:
        return _run(argv, tui)
    finally:
        restore_interrupt()


def _run(argv: Sequence[str] | None, tui: Command) -> int:
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (ctrtui/cli/completion.py)
        from ctrtui.cli.completion import complete

        complete(build_parser())
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(words)
    if not args.interval > 0:  # also NaN
        print("ctrtui: --interval must be a positive number of seconds", file=sys.stderr)
        return EXIT_USAGE
    args.host = [*(args.host or ()), *(getattr(args, "host_after", None) or ())]
    if args.sudo and not (args.host or args.hosts):
        print("ctrtui: --sudo applies to remote hosts (--host); to act as root on this machine, run ctrtui "
              "itself with sudo", file=sys.stderr)
        return EXIT_USAGE
    if args.command in (None, "replay"):  # the terminal UI owns the terminal: no guard
        release_interrupt()
        return run_command(tui, args)
    if args.host or args.hosts:  # the hosts decide (ctrtui/cli/hosts.py), `local` alone included
        release_interrupt()
        return run_guarded(_cmd_hosts, args)
    return run_guarded(COMMANDS[args.command], args)


def _cmd_hosts(args: argparse.Namespace) -> int:
    from ctrtui.cli.hosts import cmd_hosts

    return cmd_hosts(args, COMMANDS[args.command])
